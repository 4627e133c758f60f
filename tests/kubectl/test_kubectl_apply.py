"""``kubectl apply --server-side`` (kubectl 1.37, default flags) against ``kubeproof serve``.

kubectl sends ``PATCH`` with ``application/apply-patch+yaml``, ``fieldManager=kubectl``,
``fieldValidation=Strict`` and ``force=<--force-conflicts>``; conflicts come back as a 409 whose causes
kubectl prints with its own advice. Expected texts: apimachinery ``managedfields/internal/conflict.go``
(an updater is printed with "using <apiVersion>") and kubectl ``pkg/cmd/apply`` (``serverside-applied``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubeproof.testing import eventually

from ._support import Served

pytestmark = pytest.mark.timeout(120)


def deployment(ns: str, replicas: int = 2, image: str = "nginx:1.25", labels: dict[str, str] | None = None,
               sidecar: bool = False) -> str:
    containers: list[dict[str, Any]] = [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}]
    if sidecar:
        containers.append({"name": "sidecar", "image": "busybox:1.36"})
    return json.dumps({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns, "labels": labels if labels is not None else {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}},
        },
    })


def get(served: Served, ns: str, what: str) -> dict[str, Any]:
    proc = served.kubectl("get", what, "-n", ns, "-o", "json", "--show-managed-fields")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def managers(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]]


def test_apply_server_side_creates_then_changes(served: Served, ns: str) -> None:
    proc = served.kubectl("apply", "--server-side", "-f", "-", input=deployment(ns))
    assert proc.stdout.strip() == "deployment.apps/web serverside-applied"
    created = get(served, ns, "deployment/web")
    assert created["spec"]["replicas"] == 2
    assert managers(created) == [("kubectl", "Apply")]
    fields = created["metadata"]["managedFields"][0]["fieldsV1"]
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    assert container == {".": {}, "f:image": {}, "f:name": {},
                         "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}

    proc = served.kubectl("apply", "--server-side", "-f", "-", input=deployment(ns, replicas=3, image="nginx:1.26"))
    assert proc.stdout.strip() == "deployment.apps/web serverside-applied"
    changed = get(served, ns, "deployment/web")
    assert changed["spec"]["replicas"] == 3
    assert changed["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert changed["metadata"]["uid"] == created["metadata"]["uid"]
    assert changed["metadata"]["generation"] == 2

    # Re-applying the same manifest changes nothing: same resourceVersion. The deployment controller writes
    # the status until the rollout is complete, so the comparison starts from the settled object.
    settled = eventually(lambda: _rolled_out(get(served, ns, "deployment/web"), 3), timeout=60)
    served.kubectl("apply", "--server-side", "-f", "-", input=deployment(ns, replicas=3, image="nginx:1.26"))
    assert get(served, ns, "deployment/web")["metadata"]["resourceVersion"] == settled["metadata"]["resourceVersion"]


def _rolled_out(obj: dict[str, Any], replicas: int) -> dict[str, Any]:
    """The Deployment once its controller has nothing left to write, else an AssertionError."""
    status = obj.get("status") or {}
    assert status.get("observedGeneration") == obj["metadata"]["generation"], status
    for key in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
        assert status.get(key) == replicas, status
    reasons = {c["type"]: c.get("reason") for c in status.get("conditions") or []}
    assert reasons.get("Progressing") == "NewReplicaSetAvailable", status
    return obj


def test_conflict_with_another_manager_then_force_conflicts(served: Served, ns: str) -> None:
    served.kubectl("apply", "--server-side", "-f", "-", input=deployment(ns))
    served.kubectl("patch", "deployment/web", "-n", ns, "--type=merge", "--field-manager=ops",
                   "-p", '{"spec":{"replicas":5}}')
    assert managers(get(served, ns, "deployment/web")) == [("kubectl", "Apply"), ("ops", "Update")]

    proc = served.kubectl("apply", "--server-side", "-f", "-", input=deployment(ns, replicas=4), check=False)
    assert proc.returncode == 1
    assert ('error: Apply failed with 1 conflict: conflict with "ops" using apps/v1: .spec.replicas'
            in proc.stderr), proc.stderr
    assert "--force-conflicts" in proc.stderr  # kubectl's advice, printed for a FieldManagerConflict
    assert get(served, ns, "deployment/web")["spec"]["replicas"] == 5

    proc = served.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=deployment(ns, replicas=4))
    assert proc.stdout.strip() == "deployment.apps/web serverside-applied"
    forced = get(served, ns, "deployment/web")
    assert forced["spec"]["replicas"] == 4
    assert managers(forced) == [("kubectl", "Apply")]  # "ops" owned only replicas


def test_fields_left_out_of_the_manifest_are_removed(served: Served, ns: str) -> None:
    served.kubectl("apply", "--server-side", "-f", "-",
                   input=deployment(ns, labels={"app": "web", "tier": "front"}, sidecar=True))
    served.kubectl("label", "deployment/web", "-n", ns, "owner=ops")
    served.kubectl("apply", "--server-side", "-f", "-", input=deployment(ns, labels={"app": "web"}))
    obj = get(served, ns, "deployment/web")
    assert obj["metadata"]["labels"] == {"app": "web", "owner": "ops"}  # "owner" was never kubectl's
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["nginx"]


def test_client_side_apply_then_server_side_apply(served: Served, ns: str) -> None:
    """A client-side ``kubectl apply`` followed by ``--server-side``: no conflict with what the client-side
    apply set (lastappliedmanager.go), and the last-applied annotation follows (lastappliedupdater.go)."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns},
          "data": {"a": "1"}}
    proc = served.kubectl("apply", "-f", "-", input=json.dumps(cm))
    assert proc.stdout.strip() == "configmap/cfg created"
    assert managers(get(served, ns, "configmap/cfg")) == [("kubectl-client-side-apply", "Update")]
    cm["data"] = {"a": "2"}
    proc = served.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(cm))
    assert proc.stdout.strip() == "configmap/cfg serverside-applied"
    obj = get(served, ns, "configmap/cfg")
    assert obj["data"] == {"a": "2"}
    last = json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["data"] == {"a": "2"}
    assert ("kubectl", "Apply") in managers(obj)


def test_server_dry_run_persists_nothing(served: Served, ns: str) -> None:
    proc = served.kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", input=deployment(ns))
    assert proc.stdout.strip() == "deployment.apps/web serverside-applied (server dry run)"
    proc = served.kubectl("get", "deployment/web", "-n", ns, check=False)
    assert proc.returncode == 1 and "NotFound" in proc.stderr
