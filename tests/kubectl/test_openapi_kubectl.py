"""kubectl 1.37 with its default ``--validate=strict`` against the embedded server's OpenAPI v3.

``kubectl create -f`` and ``apply -f`` first ask ``/openapi/v3`` whether the PATCH operation of the kind
documents ``fieldValidation`` (``cli-runtime``'s ``queryParamVerifierV3``) and then send
``fieldValidation=Strict``; client-side ``apply`` builds its strategic merge patch from the v3 schema;
``explain`` renders the v3 schemas. None of these may need ``--validate=false``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeproof import Cluster

pytestmark = pytest.mark.timeout(180)

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """The module's cluster, with kubectl 1.37 from the project's .venv/bin first on PATH."""
    if not (VENV_BIN / "kubectl").exists():
        pytest.skip("kubectl is not in the virtualenv; run `bash scripts/setup.sh`")
    with pytest.MonkeyPatch.context() as mp, Cluster() as c:
        mp.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        yield c


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    name = f"ns-{uuid.uuid4().hex[:10]}"
    cluster.kubectl("create", "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


def manifests(ns: str, replicas: int = 1, value: str = "v1") -> list[dict[str, Any]]:
    labels = {"app": "web"}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config", "namespace": ns},
         "data": {"key": value}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "secret", "namespace": ns},
         "type": "Opaque", "stringData": {"password": value}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": ns},
         "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
         "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"containers": [
                                   {"name": "web", "image": "nginx:1.27",
                                    "ports": [{"name": "http", "containerPort": 8080}],
                                    "env": [{"name": "MODE", "value": value}]},
                               ]}}}},
    ]


def as_list(items: list[dict[str, Any]]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def yaml_stream(items: list[dict[str, Any]]) -> str:
    import yaml

    return "---\n".join(yaml.safe_dump(item) for item in items)


def test_create_with_default_validation(cluster: Cluster, ns: str) -> None:
    proc = cluster.kubectl("create", "-f", "-", "-v=6", input=yaml_stream(manifests(ns)))
    assert proc.stdout.splitlines() == [
        "configmap/config created", "secret/secret created", "service/web created", "deployment.apps/web created",
    ]
    log = proc.stderr
    assert "/openapi/v3?" in log and "/openapi/v3/api/v1?hash=" in log and "/openapi/v3/apis/apps/v1?hash=" in log
    assert "/openapi/v2" not in log
    assert log.count("fieldValidation=Strict") == 4, log
    assert "error validating" not in log


def test_apply_creates_then_patches_with_the_v3_schema(cluster: Cluster, ns: str) -> None:
    first = cluster.kubectl("apply", "-f", "-", input=yaml_stream(manifests(ns)))
    assert first.stdout.splitlines() == [
        "configmap/config created", "secret/secret created", "service/web created", "deployment.apps/web created",
    ]
    second = cluster.kubectl("apply", "-f", "-", "-v=6", input=yaml_stream(manifests(ns, replicas=3, value="v2")))
    assert second.stdout.splitlines() == [
        "configmap/config configured", "secret/secret configured", "service/web unchanged",
        "deployment.apps/web configured",
    ]
    log = second.stderr
    assert "warning: error calculating patch" not in log  # the v3 patch metadata worked
    assert "/openapi/v2" not in log  # so kubectl never fell back to v2
    patches = [line for line in log.splitlines() if 'verb="PATCH"' in line]
    assert len(patches) == 3 and all("fieldValidation=Strict" in line for line in patches), patches
    deployment = json.loads(cluster.kubectl("get", "deployment", "web", "-n", ns, "-o", "json").stdout)
    assert deployment["spec"]["replicas"] == 3
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["env"] == [{"name": "MODE", "value": "v2"}]  # merged by name, not duplicated
    assert container["ports"][0]["containerPort"] == 8080
    config = json.loads(cluster.kubectl("get", "configmap", "config", "-n", ns, "-o", "json").stdout)
    assert config["data"] == {"key": "v2"}


def test_create_with_unknown_field_fails_strictly(cluster: Cluster, ns: str) -> None:
    bad = manifests(ns)[3]
    bad["spec"]["replica"] = 2
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyX"] = "Always"
    proc = cluster.kubectl("create", "-f", "-", input=json.dumps(bad), check=False)
    assert proc.returncode == 1
    assert proc.stderr == (
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be '
        'handled as a Deployment: strict decoding error: unknown field "spec.replica", unknown field '
        '"spec.template.spec.containers[0].imagePullPolicyX"\n'
    )
    missing = cluster.kubectl("get", "deployment", "web", "-n", ns, check=False)
    assert missing.returncode == 1 and "NotFound" in missing.stderr


def test_validate_warn_creates_and_prints_warnings(cluster: Cluster, ns: str) -> None:
    cm = manifests(ns)[0]
    cm["extra"] = {"x": 1}
    cm["metadata"]["nickname"] = "c"
    proc = cluster.kubectl("create", "-f", "-", "--validate=warn", input=json.dumps(cm))
    assert proc.stdout == "configmap/config created\n"
    assert proc.stderr.splitlines() == ['Warning: unknown field "extra"', 'Warning: unknown field "metadata.nickname"']
    stored = json.loads(cluster.kubectl("get", "configmap", "config", "-n", ns, "-o", "json").stdout)
    assert "extra" not in stored and "nickname" not in stored["metadata"]


def test_apply_with_unknown_field_is_rejected_as_invalid_patch(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifests(ns)[0]))
    bad = manifests(ns, value="v3")[0]
    bad["bogus"] = True
    proc = cluster.kubectl("apply", "-f", "-", input=json.dumps(bad), check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith('The request is invalid: patch: Invalid value: "map[')
    assert proc.stderr.endswith('": strict decoding error: unknown field "bogus"\n')


def test_explain_deployment_spec(cluster: Cluster) -> None:
    out = cluster.kubectl("explain", "deployment.spec").stdout
    lines = out.splitlines()
    assert lines[:4] == ["GROUP:      apps", "KIND:       Deployment", "VERSION:    v1", ""]
    assert "FIELD: spec <DeploymentSpec>" in lines
    assert "DESCRIPTION:" in lines and "FIELDS:" in lines
    for field in ("  replicas\t<integer>", "  selector\t<LabelSelector> -required-",
                  "  template\t<PodTemplateSpec> -required-", "  strategy\t<DeploymentStrategy>",
                  "  minReadySeconds\t<integer>", "  paused\t<boolean>"):
        assert field in lines, (field, out)


def test_explain_pod_containers(cluster: Cluster) -> None:
    out = cluster.kubectl("explain", "pods.spec.containers").stdout
    lines = out.splitlines()
    assert lines[:3] == ["KIND:       Pod", "VERSION:    v1", ""]
    assert "FIELD: containers <[]Container>" in lines
    for field in ("  name\t<string> -required-", "  image\t<string>", "  ports\t<[]ContainerPort>",
                  "  env\t<[]EnvVar>", "  resources\t<ResourceRequirements>", "  args\t<[]string>"):
        assert field in lines, (field, out)
    recursive = cluster.kubectl("explain", "pods.spec.containers.ports", "--recursive").stdout
    assert "  containerPort\t<integer> -required-" in recursive.splitlines()


def test_explain_unknown_field_fails_like_kubectl(cluster: Cluster) -> None:
    proc = cluster.kubectl("explain", "deployment.spec.nosuchfield", check=False)
    assert proc.returncode == 1
    assert 'field "nosuchfield" does not exist' in proc.stderr


def test_raw_openapi_v3_lists_every_served_group_version(cluster: Cluster) -> None:
    index = json.loads(cluster.kubectl("get", "--raw", "/openapi/v3").stdout)
    api_versions = cluster.kubectl("api-versions").stdout.split()
    assert api_versions  # e.g. apps/v1, v1
    for group_version in api_versions:
        key = "api/v1" if group_version == "v1" else f"apis/{group_version}"
        assert key in index["paths"], (key, sorted(index["paths"]))
    document = json.loads(cluster.kubectl("get", "--raw", index["paths"]["apis/apps/v1"]["serverRelativeURL"]).stdout)
    assert document["openapi"] == "3.0.0"
    assert "io.k8s.api.apps.v1.Deployment" in document["components"]["schemas"]
