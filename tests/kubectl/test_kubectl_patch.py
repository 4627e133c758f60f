"""kubectl's patching commands and the official client's typed ``patch_*`` against an embedded cluster.

``kubectl patch`` defaults to a strategic merge patch for built-in kinds, as do ``set image`` and ``edit``
(they send the two-way patch ``strategicpatch.CreateTwoWayMergePatch`` builds, with ``$setElementOrder``);
``label`` and ``annotate`` send JSON merge patches. The official Python client sends
``application/strategic-merge-patch+json`` for a dict body. Cases follow kubernetes.io "Update API Objects
in Place Using kubectl patch".
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

pytestmark = pytest.mark.timeout(120)

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """The module's cluster, with kubectl from the project's .venv/bin on PATH."""
    if not (VENV_BIN / "kubectl").exists():
        pytest.skip("kubectl is not in the virtualenv; run `bash scripts/setup.sh`")
    with pytest.MonkeyPatch.context() as mp, Cluster() as c:
        mp.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        yield c


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    name = f"ns-{uuid.uuid4().hex[:10]}"
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


def _deployment(name: str, **extra_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
            **extra_spec,
        },
    }


def _create(cluster: Cluster, ns: str, name: str = "d", **extra_spec: Any) -> None:
    cluster.kubectl("create", "-n", ns, "-f", "-", "--validate=false",
                    input=json.dumps(_deployment(name, **extra_spec)))


def _get(cluster: Cluster, ns: str, name: str = "d") -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(cluster.kubectl("get", "deployment", name, "-n", ns, "-o", "json").stdout)
    return obj


def _containers(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["name"], c["image"]) for c in obj["spec"]["template"]["spec"]["containers"]]


def test_patch_default_type_adds_a_container(cluster: Cluster, ns: str) -> None:
    """"Use a strategic merge patch to update a Deployment": the new container is merged in by name, and
    listed first, as on a real cluster."""
    _create(cluster, ns)
    proc = cluster.kubectl("patch", "deployment", "d", "-n", ns, "-p",
                           '{"spec":{"template":{"spec":{"containers":[{"name":"c2","image":"redis"}]}}}}')
    assert proc.stdout.strip() == "deployment.apps/d patched"
    assert _containers(_get(cluster, ns)) == [("c2", "redis"), ("c", "nginx")]
    # The same patch again changes nothing.
    proc = cluster.kubectl("patch", "deployment", "d", "-n", ns, "-p",
                           '{"spec":{"template":{"spec":{"containers":[{"name":"c2","image":"redis"}]}}}}')
    assert proc.stdout.strip() == "deployment.apps/d patched (no change)"


def test_patch_strategic_deletes_a_container_with_the_directive(cluster: Cluster, ns: str) -> None:
    _create(cluster, ns)
    cluster.kubectl("patch", "deployment", "d", "-n", ns, "--type", "strategic", "-p",
                    '{"spec":{"template":{"spec":{"containers":[{"name":"c2","image":"redis"}]}}}}')
    cluster.kubectl("patch", "deployment", "d", "-n", ns, "-p",
                    '{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"c"}]}}}}')
    assert _containers(_get(cluster, ns)) == [("c2", "redis")]


def test_patch_type_merge_replaces_the_list(cluster: Cluster, ns: str) -> None:
    """"Use a JSON merge patch to update a Deployment": the containers list is replaced."""
    _create(cluster, ns)
    cluster.kubectl("patch", "deployment", "d", "-n", ns, "--type", "merge", "-p",
                    '{"spec":{"template":{"spec":{"containers":[{"name":"c3","image":"busybox"}]}}}}')
    assert _containers(_get(cluster, ns)) == [("c3", "busybox")]


def test_patch_type_json(cluster: Cluster, ns: str) -> None:
    _create(cluster, ns)
    cluster.kubectl("patch", "deployment", "d", "-n", ns, "--type", "json", "-p",
                    '[{"op":"replace","path":"/spec/replicas","value":3},'
                    '{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"j","image":"redis"}}]')
    obj = _get(cluster, ns)
    assert obj["spec"]["replicas"] == 3
    assert _containers(obj) == [("c", "nginx"), ("j", "redis")]


def test_patch_retain_keys(cluster: Cluster, ns: str) -> None:
    """"Use strategic merge patch to update a Deployment using the retainKeys strategy"."""
    _create(cluster, ns, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "30%"}})
    cluster.kubectl("patch", "deployment", "d", "-n", ns, "--type", "strategic", "-p",
                    '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}')
    assert _get(cluster, ns)["spec"]["strategy"] == {"type": "Recreate"}


def test_patch_errors_reach_kubectl_as_the_apiserver_words_them(cluster: Cluster, ns: str) -> None:
    _create(cluster, ns)
    proc = cluster.kubectl("patch", "deployment", "d", "-n", ns, "-p",
                           '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":{}}}}',
                           check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "Error from server (BadRequest): invalid patch format of retainKeys"
    proc = cluster.kubectl("patch", "deployment", "d", "-n", ns, "-p",
                           '{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}', check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "Error from server: map: map[image:x] does not contain declared merge key: name"


def test_set_image_keeps_the_other_containers(cluster: Cluster, ns: str) -> None:
    _create(cluster, ns)
    cluster.kubectl("patch", "deployment", "d", "-n", ns, "-p",
                    '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}')
    proc = cluster.kubectl("set", "image", "deployment/d", "c=nginx:2", "-n", ns)
    assert proc.stdout.strip() == "deployment.apps/d image updated"
    assert _containers(_get(cluster, ns)) == [("side", "busybox"), ("c", "nginx:2")]


def test_label_and_annotate(cluster: Cluster, ns: str) -> None:
    _create(cluster, ns)
    proc = cluster.kubectl("label", "deployment", "d", "tier=web", "-n", ns)
    assert proc.stdout.strip() == "deployment.apps/d labeled"
    assert cluster.kubectl("annotate", "deployment", "d", "note=hi", "-n", ns).stdout.strip() == (
        "deployment.apps/d annotated")
    meta = _get(cluster, ns)["metadata"]
    assert meta["labels"] == {"app": "d", "tier": "web"}
    assert meta["annotations"]["note"] == "hi"
    cluster.kubectl("label", "deployment", "d", "tier-", "-n", ns)
    cluster.kubectl("annotate", "deployment", "d", "note-", "-n", ns)
    meta = _get(cluster, ns)["metadata"]
    assert meta["labels"] == {"app": "d"}
    assert "note" not in (meta.get("annotations") or {})


def test_official_client_patch_with_a_dict_is_strategic(cluster: Cluster, ns: str) -> None:
    from kubernetes import client

    _create(cluster, ns)
    with cluster.api_client() as api_client:
        apps = client.AppsV1Api(api_client)
        body = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}},
                "metadata": {"finalizers": ["example.com/keep"]}}
        result = apps.patch_namespaced_deployment("d", ns, body)
        assert [(c.name, c.image) for c in result.spec.template.spec.containers] == [
            ("sidecar", "busybox"), ("c", "nginx")]
        # Finalizers are a set: a second patch adds to it.
        result = apps.patch_namespaced_deployment("d", ns, {"metadata": {"finalizers": ["example.com/other"]}})
        assert result.metadata.finalizers == ["example.com/other", "example.com/keep"]
        result = apps.patch_namespaced_deployment(
            "d", ns, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/keep", "example.com/other"]}})
        assert not result.metadata.finalizers


def test_rollout_restart_patches_the_template_annotation(cluster: Cluster, ns: str) -> None:
    _create(cluster, ns)
    proc = cluster.kubectl("rollout", "restart", "deployment/d", "-n", ns)
    assert proc.stdout.strip() == "deployment.apps/d restarted"
    obj = _get(cluster, ns)
    assert "kubectl.kubernetes.io/restartedAt" in obj["spec"]["template"]["metadata"]["annotations"]
    assert obj["spec"]["template"]["metadata"]["labels"] == {"app": "d"}
    assert _containers(obj) == [("c", "nginx")]


def test_client_side_apply_merges_and_prunes_containers(cluster: Cluster, ns: str) -> None:
    """Client-side ``kubectl apply`` sends the three-way strategic merge patch (``$setElementOrder``, and
    ``$patch: delete`` for a container the previous manifest had)."""
    manifest = _deployment("a")
    manifest["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox"})
    cluster.kubectl("apply", "-n", ns, "-f", "-", "--validate=false", input=json.dumps(manifest))
    # Someone else adds a container; apply must keep it (it is not in last-applied).
    cluster.kubectl("patch", "deployment", "a", "-n", ns, "-p",
                    '{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"redis"}]}}}}')
    manifest["spec"]["template"]["spec"]["containers"] = [{"name": "c", "image": "nginx:2"}]
    proc = cluster.kubectl("apply", "-n", ns, "-f", "-", "--validate=false", input=json.dumps(manifest))
    assert proc.stdout.strip() == "deployment.apps/a configured"
    assert _containers(_get(cluster, ns, "a")) == [("extra", "redis"), ("c", "nginx:2")]
