"""Protobuf request bodies (``application/vnd.kubernetes.protobuf``), as typed client-go clients send them.

The strongest checks drive real kubectl generators (``kubectl create namespace|configmap|secret|deployment|...``,
which send protobuf) and compare what the server decoded with kubectl's own JSON rendering of the same object
(``--dry-run=client -o json``). The unit tests craft bodies with the small test-only encoder below.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kubeproof.server.protobuf as pb
from kubeproof import Cluster
from kubeproof.server.errors import StatusError
from kubeproof.server.protobuf import decode_protobuf_body
from kubeproof.server.protobuf.decoder import go_duration
from kubeproof.server.protobuf.schema import ANY_VERSION_KINDS, KINDS, MESSAGES

# --- a test-only protobuf encoder ----------------------------------------------------------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def i(number: int, value: int) -> bytes:
    """A varint field (int32, int64, bool)."""
    return key(number, 0) + varint(value)


def ld(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field (string, bytes, message)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return key(number, 2) + varint(len(data)) + data


def m(number: int, *fields: bytes) -> bytes:
    return ld(number, b"".join(fields))


def entry(number: int, map_key: str, value: bytes | str) -> bytes:
    """One map entry (a ``{key = 1, value = 2}`` message)."""
    return m(number, ld(1, map_key), ld(2, value))


def envelope(api_version: str, kind: str, *fields: bytes) -> bytes:
    return b"k8s\x00" + m(1, ld(1, api_version), ld(2, kind)) + m(2, *fields)


def meta(name: str, *extra: bytes, namespace: str = "") -> bytes:
    """An ObjectMeta as gogo-protobuf writes it: every value field, zero or not."""
    return m(
        1, ld(1, name), ld(2, ""), ld(3, namespace), ld(4, ""), ld(5, ""), ld(6, ""), i(7, 0), ld(8, b""), *extra
    )


def decode(body: bytes, kind: str | None = None) -> dict[str, Any]:
    return decode_protobuf_body(body, kind)


# --- unit tests ----------------------------------------------------------------------------------------------------


def test_schema_resolves_and_every_kind_is_known() -> None:
    assert MESSAGES["core.PodSpec"][2].type == "core.Container"
    for kinds in KINDS.values():
        for message in kinds.values():
            assert message in MESSAGES
    assert ANY_VERSION_KINDS["DeleteOptions"] in MESSAGES


def test_secret_bytes_are_base64_and_explicit_false_is_kept() -> None:
    body = envelope(
        "v1", "Secret",
        meta("s", namespace="ns"),
        entry(2, "k", b"v"), entry(2, "bin", b"\x00\xff"),
        ld(3, "Opaque"),
        i(5, 0),  # immutable: false, a *bool that is set
    )
    assert decode(body, "Secret") == {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": "s", "namespace": "ns"},
        "immutable": False,
        "data": {"k": "dg==", "bin": "AP8="},
        "type": "Opaque",
    }


def test_object_meta_times_maps_owner_references_and_managed_fields() -> None:
    owner = m(13, ld(1, "ReplicaSet"), ld(3, "rs"), ld(4, "uid-1"), ld(5, "apps/v1"), i(6, 1))
    managed = m(
        17, ld(1, "kubectl"), ld(2, "Update"), ld(3, "v1"), m(4, i(1, 1700000000), i(2, 999)), ld(6, "FieldsV1"),
        m(7, ld(1, b'{"f:data":{".":{},"f:a":{}}}')),
    )
    body = envelope(
        "v1", "ConfigMap",
        meta(
            "c",
            m(9, i(1, 1700000000)),  # deletionTimestamp
            i(10, 0),  # deletionGracePeriodSeconds: 0 (a pointer)
            entry(11, "app", "web"), entry(12, "note", ""),
            owner, ld(14, "example.com/f"), managed,
        ),
        entry(2, "a", "b"),
    )
    assert decode(body)["metadata"] == {
        "name": "c",
        "deletionTimestamp": "2023-11-14T22:13:20Z",
        "deletionGracePeriodSeconds": 0,
        "labels": {"app": "web"},
        "annotations": {"note": ""},
        "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "uid-1", "controller": True}
        ],
        "finalizers": ["example.com/f"],
        "managedFields": [{
            "manager": "kubectl",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2023-11-14T22:13:20Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}, "f:a": {}}},
        }],
    }


def container(*extra: bytes) -> bytes:
    return m(2, ld(1, "app"), ld(2, "nginx:1"), m(8), *extra)


def test_deployment_zero_replicas_int_or_string_and_pod_template() -> None:
    env = m(
        7, ld(1, "FROM_CM"),
        m(3, m(3, m(1, ld(1, "cm")), ld(2, "key"), i(3, 1))),  # valueFrom.configMapKeyRef, inline LocalObjectReference
    )
    probe = m(10, m(1, m(2, ld(1, "/healthz"), m(2, i(1, 1), ld(3, "http")))), i(2, 0), i(3, 5))
    resources = m(8, entry(1, "cpu", ld(1, "500m")), entry(2, "memory", ld(1, "64Mi")))
    spec = m(
        2,
        i(1, 0),  # replicas: 0
        m(2, entry(1, "app", "d")),
        m(3, meta(""), m(2, m(2, ld(1, "app"), ld(2, "nginx:1"), resources, env, probe),
                         m(1, ld(1, "data"), m(2, m(2, ld(1, "Memory")))), i(4, 30))),
        m(4, ld(1, "RollingUpdate"), m(2, m(1, i(1, 0), i(2, 1)), m(2, i(1, 1), ld(3, "25%")))),
        i(5, 0),  # minReadySeconds: a value field, omitted when zero
        i(7, 0),  # paused: likewise
    )
    got = decode(envelope("apps/v1", "Deployment", meta("d"), spec, m(3)), "Deployment")
    assert got["spec"] == {
        "replicas": 0,
        "selector": {"matchLabels": {"app": "d"}},
        "template": {
            "metadata": {},
            "spec": {
                "volumes": [{"name": "data", "emptyDir": {"medium": "Memory"}}],
                "containers": [{
                    "name": "app",
                    "image": "nginx:1",
                    "env": [{"name": "FROM_CM", "valueFrom": {
                        "configMapKeyRef": {"name": "cm", "key": "key", "optional": True}}}],
                    "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "timeoutSeconds": 5},
                }],
                "terminationGracePeriodSeconds": 30,
            },
        },
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
    }
    assert got["status"] == {}
    assert "replicas" not in decode(envelope("apps/v1", "Deployment", meta("d"), m(2)))["spec"]


def test_unknown_fields_are_skipped_and_repeated_messages_merge() -> None:
    unknown = (
        i(99, 7) + ld(98, "x") + key(97, 5) + b"\x01\x02\x03\x04" + key(96, 1) + b"\x00" * 8
        + key(95, 3) + i(1, 1) + key(95, 4)  # a group
    )
    body = envelope("v1", "Namespace", meta("n", unknown), m(2, ld(1, "kubernetes"), unknown), unknown)
    assert decode(body) == {
        "kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "n"}, "spec": {"finalizers": ["kubernetes"]},
    }
    # a non-repeated message field sent twice is merged, as protobuf does
    twice = envelope("v1", "Namespace", m(1, ld(1, "a")), m(1, entry(11, "x", "y")))
    assert decode(twice)["metadata"] == {"name": "a", "labels": {"x": "y"}}


def test_packed_and_unpacked_repeated_integers_and_negative_values() -> None:
    packed = ld(4, varint(1) + varint(2) + varint(300))
    security = m(14, i(2, 0), packed, i(4, 5), i(5, -1))  # runAsUser 0 (pointer), supplementalGroups, fsGroup -1
    body = envelope("v1", "Pod", meta("p"), m(2, security, i(25, -5)))
    spec = decode(body)["spec"]
    assert spec["securityContext"] == {"runAsUser": 0, "supplementalGroups": [1, 2, 300, 5], "fsGroup": -1}
    assert spec["priority"] == -5


def test_service_ports_keep_zero_port_and_named_target() -> None:
    ports = m(1, ld(1, "http"), ld(2, "TCP"), i(3, 80), m(4, i(1, 1), ld(3, "web"))) + m(1, ld(2, "UDP"), m(4))
    body = envelope("v1", "Service", meta("svc"), m(2, ports, entry(2, "app", "x"), i(20, 0)), m(3, m(1)))
    assert decode(body)["spec"] == {
        "ports": [
            {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "web"},
            {"protocol": "UDP", "port": 0, "targetPort": 0},
        ],
        "selector": {"app": "x"},
        "allocateLoadBalancerNodePorts": False,
    }


@pytest.mark.parametrize("api_version", ["v1", "apps/v1", "meta.k8s.io/v1"])
def test_delete_options_decode_in_any_group_version(api_version: str) -> None:
    body = envelope(api_version, "DeleteOptions", i(1, 0), m(2, ld(1, "uid-1")), ld(4, "Foreground"), ld(5, "All"))
    assert decode(body, "DeleteOptions") == {
        "kind": "DeleteOptions",
        "apiVersion": api_version,
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-1"},
        "propagationPolicy": "Foreground",
        "dryRun": ["All"],
    }


def test_review_and_token_kinds() -> None:
    ssar = envelope(
        "authorization.k8s.io/v1", "SelfSubjectAccessReview", meta(""),
        m(2, m(1, ld(1, "ns"), ld(2, "get"), ld(3, ""), ld(4, ""), ld(5, "pods"), ld(6, ""), ld(7, ""))), m(3, i(1, 0)),
    )
    assert decode(ssar) == {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {"resourceAttributes": {"namespace": "ns", "verb": "get", "resource": "pods"}},
        "status": {"allowed": False},
    }
    sar = envelope(
        "authorization.k8s.io/v1", "SubjectAccessReview", meta(""),
        m(2, m(2, ld(1, "/logs"), ld(2, "get")), ld(3, "jane"), ld(4, "devs"),
          entry(5, "scopes", ld(1, "a") + ld(1, "b")), entry(5, "empty", b"")),
    )
    assert decode(sar)["spec"] == {
        "nonResourceAttributes": {"path": "/logs", "verb": "get"},
        "user": "jane",
        "groups": ["devs"],
        "extra": {"scopes": ["a", "b"], "empty": []},
    }
    token = envelope(
        "authentication.k8s.io/v1", "TokenRequest", meta("sa"),
        m(2, ld(1, "api"), i(4, 3600), m(3, ld(1, "Pod"), ld(2, "v1"), ld(3, "p"), ld(4, "uid-2"))), m(3, ld(1, "")),
    )
    assert decode(token) == {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": "sa"},
        "spec": {
            "audiences": ["api"],
            "expirationSeconds": 3600,
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "uid-2"},
        },
        "status": {"token": ""},
    }
    eviction = envelope("policy/v1", "Eviction", meta("p", namespace="ns"), m(2, i(1, 10)))
    assert decode(eviction) == {
        "kind": "Eviction",
        "apiVersion": "policy/v1",
        "metadata": {"name": "p", "namespace": "ns"},
        "deleteOptions": {"gracePeriodSeconds": 10},
    }


def test_micro_time_and_duration() -> None:
    event = envelope("v1", "Event", meta("e"), m(2, ld(1, "Pod")), m(10, i(1, 1700000000), i(2, 123456789)))
    assert decode(event)["eventTime"] == "2023-11-14T22:13:20.123456Z"
    assert decode(event)["involvedObject"] == {"kind": "Pod"}
    cases = {0: "0s", 1: "1ns", 1500: "1.5µs", 150_000_000: "150ms", 1_500_000_000: "1.5s", 60_000_000_000: "1m0s",
             3_723_000_000_000: "1h2m3s", -2_000_000_000: "-2s"}
    for nanoseconds, text in cases.items():
        assert go_duration(nanoseconds) == text


def bad_request(body: bytes, kind: str = "Secret") -> str:
    with pytest.raises(StatusError) as caught:
        decode(body, kind)
    assert caught.value.code == 400
    assert caught.value.reason == "BadRequest"
    return caught.value.message


def test_errors_read_like_the_apiserver() -> None:
    assert bad_request(b'{"kind":"Secret"}') == (
        "the object provided is unrecognized (must be of type Secret): provided data does not appear to be a "
        'protobuf message, expected prefix [107 56 115 0] ({"kind":"Secret"})'
    )
    assert bad_request(b"k8s\x00") == (
        "the object provided is unrecognized (must be of type Secret): empty body (6b387300)"
    )
    assert "unexpected EOF" in bad_request(b"k8s\x00" + b"\x0a\x10abc")
    truncated = envelope("v1", "Secret", meta("s"))[:-3]
    assert bad_request(truncated).startswith("the object provided is unrecognized (must be of type Secret): ")
    inner_truncated = b"k8s\x00" + m(1, ld(1, "v1"), ld(2, "Secret")) + ld(2, b"\x0a\x05ab")
    assert bad_request(inner_truncated) == 'Secret in version "v1" cannot be handled as a Secret: unexpected EOF'
    wrong_wire = envelope("v1", "Secret", i(1, 3))
    assert bad_request(wrong_wire) == (
        'Secret in version "v1" cannot be handled as a Secret: proto: wrong wireType = 0 for field Metadata'
    )
    unknown = bad_request(envelope("example.com/v1", "Widget", meta("w")), "Widget")
    assert unknown.startswith('Widget in version "v1" cannot be handled as a Widget: no kind "Widget" is registered')
    assert "Object 'apiVersion' is missing" in bad_request(envelope("", "Secret"))
    no_kind = b"k8s\x00" + m(1, ld(1, "v1")) + m(2)
    assert "Object 'Kind' is missing" in bad_request(no_kind, kind="")
    assert decode(no_kind, "Secret")["kind"] == "Secret"  # the endpoint's kind stands in, as the apiserver's GVK does


# --- real clients --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """The shared module cluster, with kubectl from the project's .venv/bin on PATH."""
    venv_bin = Path(__file__).resolve().parents[2] / ".venv" / "bin"
    with pytest.MonkeyPatch.context() as patch, Cluster() as c:
        patch.setenv("PATH", f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}")
        yield c


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every protobuf body the server decodes during the test, in order."""
    seen: list[dict[str, Any]] = []
    original = pb.decode_protobuf_body

    def spy(body: bytes, kind: str | None = None) -> dict[str, Any]:
        obj = original(body, kind)
        seen.append(obj)
        return obj

    monkeypatch.setattr(pb, "decode_protobuf_body", spy)
    return seen


GENERATORS = [
    ["create", "namespace", "{ns}"],
    ["create", "configmap", "c", "--from-literal=a=b", "--from-literal=empty=", "-n", "{ns}"],
    ["create", "secret", "generic", "s", "--from-literal=k=v", "-n", "{ns}"],
    ["create", "secret", "docker-registry", "reg", "--docker-server=r.example", "--docker-username=u",
     "--docker-password=p", "-n", "{ns}"],
    ["create", "serviceaccount", "sa", "-n", "{ns}"],
    ["create", "deployment", "d", "--image=nginx", "--replicas=2", "--port=80", "-n", "{ns}"],
    ["create", "deployment", "zero", "--image=nginx", "--replicas=0", "-n", "{ns}"],
    ["create", "role", "r", "--verb=get", "--verb=list", "--resource=pods", "--resource=deployments.apps",
     "-n", "{ns}"],
    ["create", "rolebinding", "rb", "--role=r", "--user=u", "--serviceaccount={ns}:sa", "-n", "{ns}"],
    ["create", "job", "j", "--image=busybox", "-n", "{ns}", "--", "echo", "hi"],
    ["create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *", "-n", "{ns}"],
    ["create", "service", "nodeport", "svc", "--tcp=80:8080", "-n", "{ns}"],
    ["create", "poddisruptionbudget", "pdb", "--selector=app=d", "--max-unavailable=50%", "-n", "{ns}"],
    ["create", "clusterrole", "{ns}-cr", "--verb=get", "--non-resource-url=/logs"],
    ["create", "clusterrolebinding", "{ns}-crb", "--clusterrole={ns}-cr", "--group=g"],
]


def test_kubectl_generators_decode_to_the_json_form(cluster: Cluster, decoded: list[dict[str, Any]]) -> None:
    """Each body decodes to exactly what kubectl renders as JSON for the same object."""
    ns = "pb-generators"
    for template in GENERATORS:
        args = [arg.format(ns=ns) for arg in template]
        expected = json.loads(cluster.kubectl(args[0], "--dry-run=client", "-o", "json", *args[1:]).stdout)
        before = len(decoded)
        cluster.kubectl(*args)
        assert len(decoded) == before + 1, f"kubectl {' '.join(args)} sent no protobuf body"
        assert decoded[before] == expected, f"kubectl {' '.join(args)}"


def get_json(cluster: Cluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def test_objects_created_through_protobuf_read_back_as_json(cluster: Cluster) -> None:
    ns = "pb-readback"
    cluster.kubectl("create", "namespace", ns)
    cluster.kubectl("create", "configmap", "c", "--from-literal=a=b", "-n", ns)
    cluster.kubectl("create", "secret", "generic", "s", "--from-literal=k=v", "-n", ns)
    cluster.kubectl("create", "serviceaccount", "sa", "-n", ns)
    cluster.kubectl("create", "deployment", "d", "--image=nginx", "--replicas=2", "-n", ns)
    cluster.kubectl("create", "role", "r", "--verb=get", "--resource=pods", "-n", ns)
    cluster.kubectl("create", "rolebinding", "rb", "--role=r", "--user=u", "-n", ns)

    assert get_json(cluster, "namespace", ns)["metadata"]["name"] == ns
    assert get_json(cluster, "configmap", "c", "-n", ns)["data"] == {"a": "b"}
    secret = get_json(cluster, "secret", "s", "-n", ns)
    assert secret["data"] == {"k": "dg=="}
    assert secret["type"] == "Opaque"
    assert get_json(cluster, "serviceaccount", "sa", "-n", ns)["metadata"]["namespace"] == ns
    deployment = get_json(cluster, "deploy", "d", "-n", ns)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "d"}}
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert (container["name"], container["image"]) == ("nginx", "nginx")
    assert get_json(cluster, "role", "r", "-n", ns)["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
    ]
    binding = get_json(cluster, "rolebinding", "rb", "-n", ns)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "u"}]

    cluster.kubectl("delete", "configmap", "c", "-n", ns)
    missing = cluster.kubectl("get", "configmap", "c", "-n", ns, check=False)
    assert missing.returncode != 0
    assert "NotFound" in missing.stderr


def request(cluster: Cluster, method: str, path: str, body: bytes) -> tuple[int, Any]:
    context = ssl.create_default_context(cadata=cluster.ca_pem.decode())
    req = urllib.request.Request(
        cluster.url + path, data=body, method=method,
        headers={
            "Authorization": f"Bearer {cluster.token}",
            "Content-Type": "application/vnd.kubernetes.protobuf",
            "Accept": "application/vnd.kubernetes.protobuf, application/json",
        },
    )
    try:
        with urllib.request.urlopen(req, context=context, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_raw_protobuf_create_delete_and_errors_over_http(cluster: Cluster) -> None:
    ns = "pb-http"
    status, _ = request(cluster, "POST", "/api/v1/namespaces", envelope("v1", "Namespace", meta(ns)))
    assert status == 201
    secret = envelope("v1", "Secret", meta("s", namespace=ns), entry(2, "k", b"v"), ld(3, "Opaque"), i(5, 0))
    status, created = request(cluster, "POST", f"/api/v1/namespaces/{ns}/secrets", secret)
    assert status == 201
    assert (created["data"], created["immutable"]) == ({"k": "dg=="}, False)

    options = envelope("v1", "DeleteOptions", i(1, 0), ld(4, "Background"))
    status, _ = request(cluster, "DELETE", f"/api/v1/namespaces/{ns}/secrets/s", options)
    assert status == 200
    status, _ = request(cluster, "DELETE", f"/api/v1/namespaces/{ns}/secrets/s", options)
    assert status == 404

    status, error = request(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", b"k8s\x00\x0a\x10abc")
    assert status == 400
    assert error["kind"] == "Status"
    assert error["reason"] == "BadRequest"
    assert error["message"].startswith("the object provided is unrecognized (must be of type ConfigMap): ")

    mismatch = envelope("v1", "Secret", meta("x", namespace=ns))
    status, error = request(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", mismatch)
    assert status == 400
    assert "cannot be handled as a ConfigMap" in error["message"]
