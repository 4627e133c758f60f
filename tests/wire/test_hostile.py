"""Hostile and broken input: each gets kube-apiserver's answer, never a 500, and leaves the store intact.

The autouse ``no_internal_errors`` fixture (conftest) fails any test during which the server answered
500 or logged an internal error; ``store_intact`` below checks after each test that every resource still
lists and that objects can still be written.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._http import API, DEADLINE, parse_raw_response, query, raw_exchange, status_of, unique

pytestmark = pytest.mark.timeout(60)


def wait_until(probe: Any, what: str, timeout: float = DEADLINE) -> Any:
    """Poll ``probe`` until it is truthy: the toolkit's ``eventually``."""
    return eventually(probe, matcher=bool, timeout=timeout, description=what)


@pytest.fixture(autouse=True)
def store_intact(cluster: Cluster, api: API) -> Iterator[None]:
    yield
    # Every listable resource still lists.
    for gv in ["/api/v1"] + [f"/apis/{v['groupVersion']}" for g in api.get("/apis").json()["groups"]
                             for v in g["versions"]]:
        for resource in api.get(gv).json()["resources"]:
            if "/" not in resource["name"] and "list" in resource["verbs"]:
                listed = api.get(f"{gv}/{resource['name']}")
                assert listed.status == 200, (gv, resource["name"], listed)
    # Writes still work, including the ones that read other objects (Service cluster IP allocation).
    ns = unique("intact")
    api.create_namespace(ns)
    api.create_configmap(ns, "probe")
    svc = api.post(f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "probe"},
                                                         "spec": {"ports": [{"port": 80}]}})
    assert svc.status == 201, svc
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps/probe").status == 200
    assert api.delete(f"/api/v1/namespaces/{ns}").status == 200


# -- malformed bodies ----------------------------------------------------------------------------

UNRECOGNIZED = "the object provided is unrecognized (must be of type ConfigMap): "


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"{", b'{"metadata":', b"[1,2]", b"null", b'"text"', b"123", b"\x00\x01\x02", b"",
     b"{}}", b'{"a":1,}', b"\xef\xbb\xbf{}", b"[" * 5000, b'{"metadata":{"name":"x"}} trailing'],
)
def test_malformed_json_is_400(api: API, ns: str, body: bytes) -> None:
    status = status_of(api.post(f"/api/v1/namespaces/{ns}/configmaps", body, content_type="application/json"), 400)
    assert status["reason"] == "BadRequest"
    assert str(status["message"]).startswith(UNRECOGNIZED)


def test_malformed_yaml_is_400(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for body in [b"a: [", b"!!python/object:os.system ls", b"a: &x [*x]", b"- [" * 3000]:
        status = status_of(api.post(path, body, content_type="application/yaml"), 400)
        assert str(status["message"]).startswith(UNRECOGNIZED), (body, status)


def test_yaml_alias_bomb_is_refused(api: API, ns: str) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghi"):
        previous = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    body = ("\n".join(lines) + "\nmetadata: {name: bomb}\n").encode()
    status = status_of(api.post(f"/api/v1/namespaces/{ns}/configmaps", body, content_type="application/yaml"), 400)
    assert "excessive aliasing" in str(status["message"])


def test_yaml_keys_that_are_not_strings_become_strings(api: API, ns: str) -> None:
    body = b"metadata: {name: keys}\ndata: {1: one, 2.5: two, false: three}\n"
    response = api.post(f"/api/v1/namespaces/{ns}/configmaps", body, content_type="application/yaml")
    assert response.status == 201, response
    assert response.json()["data"] == {"1": "one", "2.5": "two", "false": "three"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"metadata": "x"},
         "json: cannot unmarshal string into Go struct field ConfigMap.metadata of type v1.ObjectMeta"),
        ({"metadata": ["x"]},
         "json: cannot unmarshal array into Go struct field ConfigMap.metadata of type v1.ObjectMeta"),
        ({"metadata": {"name": 5}},
         "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string"),
        ({"metadata": {"name": "x", "labels": ["a"]}},
         "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string"),
        ({"metadata": {"name": "x", "labels": {"a": 1}}},
         "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"),
        ({"metadata": {"name": "x", "annotations": "a"}},
         "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.annotations of type "
         "map[string]string"),
        ({"metadata": {"name": "x", "finalizers": "a"}},
         "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.finalizers of type []string"),
        ({"metadata": {"name": "x", "namespace": True}},
         "json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.namespace of type string"),
        ({"metadata": {"name": "x"}, "data": ["a"]},
         "json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string"),
        ({"metadata": {"name": "x"}, "data": {"a": 1}},
         "json: cannot unmarshal number into Go struct field ConfigMap.data of type string"),
        ({"metadata": {"name": "x"}, "binaryData": {"a": "not base64!"}},
         "illegal base64 data at input byte 3"),
    ],
)
def test_wrong_json_types_are_400_with_go_messages(api: API, ns: str, body: dict[str, Any], message: str) -> None:
    status = status_of(api.post(f"/api/v1/namespaces/{ns}/configmaps", body), 400)
    assert status["message"] == f'ConfigMap in version "v1" cannot be handled as a ConfigMap: {message}'
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps").json()["items"] == []


def test_wrong_kind_and_api_version_are_400(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    status = status_of(api.post(path, {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "x"}}), 400)
    assert status["message"] == 'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) ' \
                                "to (ConfigMap): unknown conversion"
    status = status_of(api.post(path, {"kind": "ConfigMap", "apiVersion": "v2", "metadata": {"name": "x"}}), 400)
    assert status["message"] == "the API version in the data (v2) does not match the expected API version (v1)"
    status_of(api.post(path, {"kind": 5, "metadata": {"name": "x"}}), 400)


def test_secret_data_must_be_base64(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/secrets"
    status = status_of(api.post(path, {"metadata": {"name": "s"}, "data": {"password": "hunter2"}}), 400)
    assert status["message"] == 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at ' \
                                "input byte 4"
    created = api.post(path, {"metadata": {"name": "s"}, "data": {"a": "aHVudGVyMg=="},
                              "stringData": {"b": "plain"}})
    assert created.status == 201, created
    assert created.json()["data"] == {"a": "aHVudGVyMg==", "b": "cGxhaW4="}
    assert "stringData" not in created.json()
    patched = api.patch(f"{path}/s", {"data": {"a": "%%%"}})
    assert status_of(patched, 400)["message"].endswith("illegal base64 data at input byte 0")  # type: ignore[union-attr]


def test_wrong_delete_options_are_400(api: API, ns: str) -> None:
    api.create_configmap(ns, "d")
    path = f"/api/v1/namespaces/{ns}/configmaps/d"
    for body, field, go_type in [({"gracePeriodSeconds": "5"}, "gracePeriodSeconds", "int64"),
                                 ({"preconditions": "x"}, "preconditions", "v1.Preconditions"),
                                 ({"dryRun": "All"}, "dryRun", "[]string"),
                                 ({"orphanDependents": "yes"}, "orphanDependents", "bool")]:
        status = status_of(api.delete(path, body), 400)
        assert status["message"] == f"json: cannot unmarshal string into Go struct field DeleteOptions.{field} of " \
                                    f"type {go_type}"
    for body in [[1], "x", 5]:
        status = status_of(api.delete(path, body), 400)
        assert str(status["message"]).startswith("the object provided is unrecognized (must be of type "
                                                 "DeleteOptions)")
    status = status_of(api.delete(path, b"{oops", content_type="application/json"), 400)
    assert api.get(path).status == 200  # none of that deleted anything


def test_non_utf8_inside_json_strings_becomes_replacement_characters(api: API, ns: str) -> None:
    """Go's decoder replaces invalid UTF-8 with U+FFFD rather than failing."""
    path = f"/api/v1/namespaces/{ns}/configmaps"
    response = api.post(path, b'{"metadata":{"name":"bytes"},"data":{"k":"a\xff\xfeb"}}')
    assert response.status == 201, response
    assert response.json()["data"] == {"k": "a\ufffd\ufffdb"}
    status = status_of(api.post(path, b'{"metadata":{"name":"bad\xff"}}'), 422)
    assert status["reason"] == "Invalid"


# -- size limits ---------------------------------------------------------------------------------

TOO_LARGE = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Request entity too large: limit is 3145728",
    "reason": "RequestEntityTooLarge",
    "code": 413,
}


def test_ten_megabyte_body_is_413(api: API, ns: str) -> None:
    body = json.dumps({"metadata": {"name": "big"}, "data": {"k": "x" * (10 * 1024 * 1024)}}).encode()
    response = api.post(f"/api/v1/namespaces/{ns}/configmaps", body, content_type="application/json")
    assert status_of(response, 413) == TOO_LARGE
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps/big").status == 404


def test_ten_megabyte_chunked_body_is_413(api: API, ns: str) -> None:
    conn = api.connect()
    try:
        conn.putrequest("POST", f"/api/v1/namespaces/{ns}/configmaps")
        conn.putheader("Authorization", f"Bearer {api.token}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b"x" * (1024 * 1024)
        try:
            for _ in range(10):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer before it has read everything
        response = conn.getresponse()
        assert response.status == 413
        assert json.loads(response.read()) == TOO_LARGE
    finally:
        conn.close()


def test_a_body_just_under_the_limit_is_read(api: API, ns: str) -> None:
    body = json.dumps({"metadata": {"name": "under"}, "data": {"k": "x" * (3 * 1024 * 1024 - 200)}}).encode()
    assert len(body) < 3 * 1024 * 1024
    response = api.post(f"/api/v1/namespaces/{ns}/configmaps", body, content_type="application/json")
    # Accepted by the body limit; the ConfigMap validation then refuses more than 1 MiB of data.
    status = status_of(response, 422)
    assert str(status["message"]).startswith('ConfigMap "under" is invalid: ')
    assert "1048576 bytes" in str(status["message"])


def test_huge_headers(cluster: Cluster, api: API) -> None:
    def request(header: str) -> tuple[int, dict[str, str], bytes]:
        data = (f"GET /api/v1/namespaces HTTP/1.1\r\nHost: kubeproof\r\nAuthorization: Bearer {cluster.token}\r\n"
                f"{header}\r\nConnection: close\r\n\r\n").encode()
        return parse_raw_response(raw_exchange(cluster.host, cluster.port, data))

    code, _, _ = request("X-Big: " + "a" * 200_000)  # within Go's 1 MiB header limit
    assert code == 200
    code, headers, body = request("X-Big: " + "a" * 2_000_000)
    assert code == 431
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body == b"431 Request Header Fields Too Large"
    code, _, _ = request("".join(f"X-H{i}: v\r\n" for i in range(5000)).rstrip("\r\n"))
    assert code == 200
    assert api.get("/api/v1/namespaces").status == 200


# -- names and query values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Bad_Name", "UPPER", "-leading", "trailing-", "a..b", "with space", "dot.", "ünïcode", "a" * 254,
     "semi;colon", "tab\tname", "new\nline", "."],
)
def test_invalid_names_are_422(api: API, ns: str, name: str) -> None:
    status = status_of(api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}}), 422)
    assert status["reason"] == "Invalid"
    causes: Any = status["details"]["causes"]  # type: ignore[index]
    assert causes[0]["field"] == "metadata.name"


@pytest.mark.parametrize("name", ["..", "a/b", "a%b"])
def test_path_segment_names_are_422(api: API, ns: str, name: str) -> None:
    status = status_of(api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}}), 422)
    causes: Any = status["details"]["causes"]  # type: ignore[index]
    assert causes[0]["field"] == "metadata.name"


def test_invalid_namespace_name_is_422(api: API) -> None:
    status = status_of(api.post("/api/v1/namespaces", {"metadata": {"name": "has.dot"}}), 422)
    assert str(status["message"]).startswith('Namespace "has.dot" is invalid: metadata.name: Invalid value: '
                                             '"has.dot": ')


def test_unknown_query_parameters_are_ignored_everywhere(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    extra = "&".join(["zzz=1", "foo=", "bar", "%ff=%fe", "x=" + "y" * 5000])
    assert api.post(f"{path}?{extra}", {"metadata": {"name": "q"}}).status == 201
    assert api.get(f"{path}/q?{extra}").status == 200
    assert api.get(f"{path}?{extra}").status == 200
    assert api.patch(f"{path}/q?{extra}", {"data": {"a": "b"}}).status == 200
    with api.watch(f"{path}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                   f"&allowWatchBookmarks=true&{extra}") as watch:
        assert watch.next_event()["type"] == "ADDED"
    assert api.delete(f"{path}/q?{extra}").status == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("limit=abc", 'strconv.ParseInt: parsing "abc": invalid syntax'),
        ("limit=1.5", 'strconv.ParseInt: parsing "1.5": invalid syntax'),
        ("limit=1_000", 'strconv.ParseInt: parsing "1_000": invalid syntax'),
        ("limit=%201", 'strconv.ParseInt: parsing " 1": invalid syntax'),
        ("limit=99999999999999999999", 'strconv.ParseInt: parsing "99999999999999999999": value out of range'),
        ("limit=" + "9" * 5000, f'strconv.ParseInt: parsing "{"9" * 5000}": value out of range'),
        ("watch=1&timeoutSeconds=soon", 'strconv.ParseInt: parsing "soon": invalid syntax'),
        ("watch=1&allowWatchBookmarks=maybe", 'strconv.ParseBool: parsing "maybe": invalid syntax'),
    ],
)
def test_invalid_query_values_are_400(api: API, ns: str, params: str, message: str) -> None:
    status = status_of(api.get(f"/api/v1/namespaces/{ns}/configmaps?{params}"), 400)
    assert status["reason"] == "BadRequest"
    assert status["message"] == message


@pytest.mark.parametrize("params", ["resourceVersion=abc", "resourceVersion=-1", "resourceVersion=1e3",
                                    "watch=1&resourceVersion=abc", "labelSelector=%ff", "fieldSelector=%ff",
                                    "labelSelector=" + quote("a in (" + ",".join(["v"] * 10000) + "")])
def test_more_invalid_query_values_are_400(api: API, ns: str, params: str) -> None:
    status = status_of(api.get(f"/api/v1/namespaces/{ns}/configmaps?{params}"), 400)
    assert status["reason"] == "BadRequest"


def test_gigantic_label_selector_is_answered(api: API, ns: str) -> None:
    selector = ",".join(f"k{i}=v" for i in range(2000))
    response = api.get(f"/api/v1/namespaces/{ns}/configmaps" + query(labelSelector=selector))
    assert response.status == 200
    assert response.json()["items"] == []


# -- garbage paths and bytes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/%ff%fe", "/api/v1/namespaces/%00/configmaps", "/api/v1/namespaces/default/configmaps/%2F",
     "/../../etc/passwd", "/api/v1/namespaces/default/configmaps/" + "a" * 10000, "/apis/" + "x" * 5000,
     "/api/v1/namespaces//configmaps", "//", "///api", "/api/v1/namespaces/default/configmaps/%ff",
     "/api/v1/watch", "/api/v1/watch/", "/api/v1/namespaces/default/configmaps/x/y/z/w",
     "/apis/apps/v1/namespaces/default/deployments/x/scale/more", "/api/v1/namespaces/%ff/configmaps",
     "/api/v1/namespaces/default/pods/x/log/../../../", "/api/%2e%2e/v1", "/apis//v1", "/api/v1/.",
     "/api/v1/namespaces/default/configmaps?limit=1&limit=x&watch=0&watch=1"],
)
def test_garbage_paths_are_answered(api: API, path: str) -> None:
    response = api.get(path)
    assert response.status in (200, 400, 404, 405, 422), response
    if response.status == 404 and response.content_type.startswith("text/plain"):
        assert response.body == b"404 page not found\n"
    elif response.status != 200:
        status_of(response, response.status)


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "CONNECT", "PROPFIND"])
def test_odd_methods_are_answered(cluster: Cluster, method: str) -> None:
    data = (f"{method} /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: kubeproof\r\n"
            f"Authorization: Bearer {cluster.token}\r\nConnection: close\r\n\r\n").encode()
    code, _, _ = parse_raw_response(raw_exchange(cluster.host, cluster.port, data))
    assert code in (400, 404, 405)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/v1/namespaces/\xff\xfe/configmaps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        b"Connection: close\r\n\r\n",
        b"GET /api/v1/namespaces?labelSelector=\xff HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        b"Connection: close\r\n\r\n",
        b"GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n",
        b"GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nX-\xff: \xfe\r\nAuthorization: Bearer {token}\r\n"
        b"Connection: close\r\n\r\n",
        b"\xff\xfe\xfd\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n"
        b"Connection: close\r\n\r\n",
        b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
    ],
)
def test_non_utf8_and_broken_http_is_answered(cluster: Cluster, request_bytes: bytes) -> None:
    data = request_bytes.replace(b"{token}", cluster.token.encode())
    raw = raw_exchange(cluster.host, cluster.port, data)
    code, _, body = parse_raw_response(raw)
    assert code in (200, 400, 401, 404), raw[:300]
    if code == 401:
        assert json.loads(body)["reason"] == "Unauthorized"


# -- clients that go away ------------------------------------------------------------------------


def test_client_disconnecting_mid_watch(cluster: Cluster, api: API, ns: str) -> None:
    store = cluster.store
    baseline = store.subscriber_count("configmaps")
    watches = [api.watch(f"/api/v1/namespaces/{ns}/configmaps" + query(watch=1, sendInitialEvents="true",
                                                                         resourceVersionMatch="NotOlderThan",
                                                                         allowWatchBookmarks="true"))
               for _ in range(5)]
    for watch in watches:
        assert watch.next_event()["type"] == "BOOKMARK"  # sent after the server subscribed the watch
    opened = store.subscriber_count("configmaps")
    assert opened >= 5
    api.create_configmap(ns, "mid")
    for watch in watches[:3]:
        sock = watch.conn.sock
        assert sock is not None
        sock.shutdown(socket.SHUT_RDWR)  # gone without a goodbye
        watch.close()
    wait_until(lambda: store.subscriber_count("configmaps") <= opened - 3,
               "the server to drop the subscribers of the closed watches")
    # The server keeps serving, the other watches included.
    later = api.create_configmap(ns, "after")
    for watch in watches[3:]:
        assert watch.next_event()["object"]["metadata"]["name"] == "mid"
        assert watch.next_event() == {"type": "ADDED", "object": later}
        watch.close()
    wait_until(lambda: store.subscriber_count("configmaps") <= baseline, "every subscriber to go")
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps").status == 200


def test_client_disconnecting_mid_body(cluster: Cluster, api: API, ns: str) -> None:
    with socket.create_connection((cluster.host, cluster.port), timeout=DEADLINE) as sock:
        sock.sendall(
            (f"POST /api/v1/namespaces/{ns}/configmaps HTTP/1.1\r\nHost: x\r\n"
             f"Authorization: Bearer {cluster.token}\r\nContent-Type: application/json\r\n"
             "Content-Length: 1000\r\n\r\n").encode() + b'{"metadata":{"name":"half'
        )
    # The half-sent object is not created, and the server still answers.
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps").json()["items"] == []
    assert api.create_configmap(ns, "whole")["metadata"]["name"] == "whole"


def test_many_connections_opened_and_dropped(cluster: Cluster, api: API, ns: str) -> None:
    baseline = cluster.store.subscriber_count()
    for _ in range(30):
        conn = http.client.HTTPConnection(cluster.host, cluster.port, timeout=DEADLINE)
        conn.request("GET", f"/api/v1/namespaces/{ns}/configmaps?watch=1",
                     headers={"Authorization": f"Bearer {cluster.token}"})
        conn.getresponse()
        conn.close()
    wait_until(lambda: cluster.store.subscriber_count() <= baseline, "the dropped watches to be cleaned up")
    assert api.get("/version").status == 200


# -- wrong types deep inside objects -------------------------------------------------------------

_TEMPLATE = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
_CONTAINER = {"name": "c", "image": "i"}

#: (resource, body, the decoder's error after ``<Kind> in version "v1" cannot be handled as a <Kind>: ``)
DEEP_WRONG_TYPES = [
    ("pods", {"spec": {"containers": "x"}},
     "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container"),
    ("pods", {"spec": {"containers": ["x"]}},
     "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container"),
    ("pods", {"spec": {"containers": [{**_CONTAINER, "resources": "x"}]}},
     "json: cannot unmarshal string into Go struct field Container.spec.containers.resources of type "
     "v1.ResourceRequirements"),
    ("pods", {"spec": {"containers": [{**_CONTAINER, "ports": 5}]}},
     "json: cannot unmarshal number into Go struct field Container.spec.containers.ports of type "
     "[]v1.ContainerPort"),
    ("pods", {"spec": {"containers": [{**_CONTAINER, "ports": [{"containerPort": "x"}]}]}},
     "json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of "
     "type int32"),
    ("pods", {"spec": {"containers": [{**_CONTAINER, "ports": [{"containerPort": 1.5}]}]}},
     "json: cannot unmarshal number 1.5 into Go struct field ContainerPort.spec.containers.ports.containerPort "
     "of type int32"),
    ("pods", {"spec": {"containers": [{**_CONTAINER, "ports": [{"containerPort": 80, "protocol": 6}]}]}},
     "json: cannot unmarshal number into Go struct field ContainerPort.spec.containers.ports.protocol of type "
     "v1.Protocol"),
    # Quantity.UnmarshalJSON fails on its own words, without a field.
    ("pods", {"spec": {"containers": [{**_CONTAINER, "resources": {"limits": {"cpu": {"a": 1}}}}]}},
     "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    # The first error in document order wins.
    ("pods", {"spec": {"hostNetwork": "yes", "containers": 5}},
     "json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool"),
    ("services", {"spec": {"ports": 5}},
     "json: cannot unmarshal number into Go struct field ServiceSpec.spec.ports of type []v1.ServicePort"),
    # IntOrString.UnmarshalJSON decodes a non-string as int32 and stops the decoder.
    ("services", {"spec": {"clusterIP": 5, "ports": [{"port": 80, "targetPort": True}]}},
     "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32"),
    ("services", {"spec": {"ports": [{"port": 80}], "clusterIP": {"a": "b"}}},
     "json: cannot unmarshal object into Go struct field ServiceSpec.spec.clusterIP of type string"),
    ("namespaces", {"spec": {"finalizers": 5}},
     "json: cannot unmarshal number into Go struct field NamespaceSpec.spec.finalizers of type "
     "[]v1.FinalizerName"),
    ("deployments", {"spec": {"selector": {"matchLabels": "x"}, "template": _TEMPLATE}},
     "json: cannot unmarshal string into Go struct field LabelSelector.spec.selector.matchLabels of type "
     "map[string]string"),
    ("deployments", {"spec": {"strategy": "x", "selector": {"matchLabels": {"a": "b"}}, "template": _TEMPLATE}},
     "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.strategy of type "
     "v1.DeploymentStrategy"),
    ("deployments", {"spec": {"replicas": 2**31, "selector": {"matchLabels": {"a": "b"}}, "template": _TEMPLATE}},
     "json: cannot unmarshal number 2147483648 into Go struct field DeploymentSpec.spec.replicas of type int32"),
    ("jobs", {"spec": {"template": "x"}},
     "json: cannot unmarshal string into Go struct field JobSpec.spec.template of type v1.PodTemplateSpec"),
]

KINDS = {"pods": "Pod", "services": "Service", "namespaces": "Namespace", "deployments": "Deployment",
         "jobs": "Job"}


@pytest.mark.parametrize(("resource", "body", "why"), DEEP_WRONG_TYPES)
def test_wrong_types_deep_inside_objects(api: API, ns: str, resource: str, body: dict[str, Any], why: str) -> None:
    """Go's decoder refuses these with 400 ``... cannot be handled as a <Kind>: json: cannot unmarshal ...``."""
    prefix = {"deployments": "/apis/apps/v1", "jobs": "/apis/batch/v1"}.get(resource, "/api/v1")
    path = f"{prefix}/{resource}" if resource == "namespaces" else f"{prefix}/namespaces/{ns}/{resource}"
    for method in ("POST", "PUT"):
        target = path if method == "POST" else f"{path}/deep-x"
        name = {"generateName": "deep-"} if method == "POST" else {"name": "deep-x"}
        response = api.request(method, target, {"metadata": name, **body})
        status = status_of(response, 400)
        kind = KINDS[resource]
        assert status["reason"] == "BadRequest"
        assert status["message"] == f'{kind} in version "v1" cannot be handled as a {kind}: {why}'
    if resource != "namespaces":
        assert api.get(path).json()["items"] == []  # nothing was stored
