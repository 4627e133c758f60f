"""The Deployment controller with kubectl's rollout commands: status, undo, restart, history.

No kubelet runs here: the test marks pods Running and Ready through the status subresource while
kubectl waits, as a kubelet would.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.cluster import find_tool
from kubeproof.testing import eventually

from ._workloads import WORKLOAD_CONTROLLERS, mark_all_ready, unique

REVISION = "deployment.kubernetes.io/revision"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(controllers=WORKLOAD_CONTROLLERS) as c:
        yield c


def _deployment(name: str, replicas: int = 3, image: str = "example/app:1", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}},
                     **spec}}


def _rollout_status(cluster: Cluster, api: Any, namespace: str, name: str) -> str:
    """``kubectl rollout status`` while the test plays the kubelet; returns kubectl's output."""
    core = client.CoreV1Api(api)
    proc = subprocess.Popen(
        [find_tool("kubectl") or "kubectl", "rollout", "status",
         f"deployment/{name}", "-n", namespace, "--timeout=60s"],
        env=cluster.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def finished() -> int | None:
            mark_all_ready(core, namespace)
            return proc.poll()

        code = eventually(finished, matcher=lambda rc: rc is not None, timeout=60)
        out = proc.stdout.read() if proc.stdout else ""
        assert code == 0, out
        return out
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()


def _owned_rs(apps: client.AppsV1Api, namespace: str, name: str) -> list[Any]:
    return [rs for rs in apps.list_namespaced_replica_set(namespace).items
            if any(r.name == name and r.kind == "Deployment" for r in rs.metadata.owner_references or [])]


def _images(core: client.CoreV1Api, namespace: str, name: str) -> set[str]:
    return {p.spec.containers[0].image for p in core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
            if not p.metadata.deletion_timestamp}


def test_rollout_status_returns_and_status_is_complete(cluster: Cluster, api: Any, namespace: str) -> None:
    apps = client.AppsV1Api(api)
    name = unique("web")
    apps.create_namespaced_deployment(namespace, _deployment(name))
    out = _rollout_status(cluster, api, namespace, name)
    assert f'deployment "{name}" successfully rolled out' in out
    d = apps.read_namespaced_deployment(name, namespace)
    [rs] = _owned_rs(apps, namespace, name)
    pod_hash = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"{name}-{pod_hash}"
    assert rs.spec.selector.match_labels == {"app": name, "pod-template-hash": pod_hash}
    assert rs.metadata.annotations[REVISION] == "1" and d.metadata.annotations[REVISION] == "1"
    assert rs.metadata.annotations["deployment.kubernetes.io/desired-replicas"] == "3"
    assert rs.metadata.annotations["deployment.kubernetes.io/max-replicas"] == "4"
    st = d.status
    assert (st.replicas, st.updated_replicas, st.ready_replicas, st.available_replicas) == (3, 3, 3, 3)
    assert st.observed_generation == d.metadata.generation
    conds = {c.type: c for c in st.conditions}
    assert [c.type for c in st.conditions] == ["Available", "Progressing"]
    assert (conds["Available"].status, conds["Available"].reason, conds["Available"].message) == \
        ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    assert (conds["Progressing"].status, conds["Progressing"].reason, conds["Progressing"].message) == \
        ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs.metadata.name}" has successfully progressed.')
    events = client.CoreV1Api(api).list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={name}").items
    assert any(e.reason == "ScalingReplicaSet" and e.message == f"Scaled up replica set {rs.metadata.name} from 0 to 3"
               for e in events)


def test_image_change_rolls_over_then_undo_and_history(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("web")
    apps.create_namespaced_deployment(namespace, _deployment(name, replicas=4))
    _rollout_status(cluster, api, namespace, name)
    cluster.kubectl("set", "image", f"deployment/{name}", "app=example/app:2", "-n", namespace)
    _rollout_status(cluster, api, namespace, name)
    assert _images(core, namespace, name) == {"example/app:2"}
    rss = _owned_rs(apps, namespace, name)
    assert sorted((rs.metadata.annotations[REVISION], rs.spec.replicas) for rs in rss) == [("1", 0), ("2", 4)]
    history = cluster.kubectl("rollout", "history", f"deployment/{name}", "-n", namespace).stdout
    assert "REVISION" in history and "1 " in history and "2 " in history
    cluster.kubectl("rollout", "undo", f"deployment/{name}", "-n", namespace)
    _rollout_status(cluster, api, namespace, name)
    assert _images(core, namespace, name) == {"example/app:1"}
    rss = _owned_rs(apps, namespace, name)
    by_image = {rs.spec.template.spec.containers[0].image: rs for rs in rss}
    assert len(rss) == 2  # the old ReplicaSet came back, with the next revision
    assert by_image["example/app:1"].metadata.annotations[REVISION] == "3"
    assert by_image["example/app:1"].spec.replicas == 4 and by_image["example/app:2"].spec.replicas == 0
    assert apps.read_namespaced_deployment(name, namespace).metadata.annotations[REVISION] == "3"


def test_rolling_update_respects_max_surge_and_unavailable(cluster: Cluster, api: Any, namespace: str) -> None:
    """With maxSurge 1 / maxUnavailable 0 and no pod ready, only one new pod appears and no old one goes."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("web")
    apps.create_namespaced_deployment(namespace, _deployment(
        name, replicas=3, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}))
    _rollout_status(cluster, api, namespace, name)
    apps.patch_namespaced_deployment(name, namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "example/app:2"}]}}}})

    def surged() -> None:
        rss = {rs.spec.template.spec.containers[0].image: rs for rs in _owned_rs(apps, namespace, name)}
        assert rss["example/app:2"].spec.replicas == 1 and rss["example/app:1"].spec.replicas == 3
        pods = core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
        assert len(pods) == 4

    eventually(surged)
    d = apps.read_namespaced_deployment(name, namespace)
    conds = {c.type: c for c in d.status.conditions}
    assert conds["Progressing"].reason in ("NewReplicaSetCreated", "ReplicaSetUpdated", "FoundNewReplicaSet")
    _rollout_status(cluster, api, namespace, name)
    assert _images(core, namespace, name) == {"example/app:2"}


def test_rollout_restart(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("web")
    apps.create_namespaced_deployment(namespace, _deployment(name, replicas=2))
    _rollout_status(cluster, api, namespace, name)
    before = {p.metadata.name for p in core.list_namespaced_pod(namespace, label_selector=f"app={name}").items}
    cluster.kubectl("rollout", "restart", f"deployment/{name}", "-n", namespace)
    _rollout_status(cluster, api, namespace, name)

    def replaced() -> None:
        after = {p.metadata.name for p in core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
                 if not p.metadata.deletion_timestamp}
        assert len(after) == 2 and not after & before

    eventually(replaced)
    assert len(_owned_rs(apps, namespace, name)) == 2


def test_recreate_strategy(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("web")
    apps.create_namespaced_deployment(namespace, _deployment(name, replicas=2, strategy={"type": "Recreate"}))
    _rollout_status(cluster, api, namespace, name)
    apps.patch_namespaced_deployment(name, namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "example/app:2"}]}}}})
    _rollout_status(cluster, api, namespace, name)
    assert _images(core, namespace, name) == {"example/app:2"}


def test_revision_history_limit(cluster: Cluster, api: Any, namespace: str) -> None:
    apps = client.AppsV1Api(api)
    name = unique("web")
    apps.create_namespaced_deployment(namespace, _deployment(name, replicas=1, revisionHistoryLimit=1))
    _rollout_status(cluster, api, namespace, name)
    for tag in ("2", "3", "4"):
        cluster.kubectl("set", "image", f"deployment/{name}", f"app=example/app:{tag}", "-n", namespace)
        _rollout_status(cluster, api, namespace, name)

    def pruned() -> None:
        revisions = sorted(int(rs.metadata.annotations[REVISION]) for rs in _owned_rs(apps, namespace, name))
        assert revisions == [3, 4]

    eventually(pruned)


def test_scale_and_cascading_delete(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("web")
    apps.create_namespaced_deployment(namespace, _deployment(name, replicas=2))
    _rollout_status(cluster, api, namespace, name)
    cluster.kubectl("scale", f"deployment/{name}", "--replicas=5", "-n", namespace)
    _rollout_status(cluster, api, namespace, name)
    assert len(_images(core, namespace, name) and core.list_namespaced_pod(
        namespace, label_selector=f"app={name}").items) == 5
    cluster.kubectl("delete", f"deployment/{name}", "-n", namespace)

    def all_gone() -> None:
        assert not _owned_rs(apps, namespace, name)
        assert not core.list_namespaced_pod(namespace, label_selector=f"app={name}").items

    eventually(all_gone)


def test_progress_deadline_exceeded(cluster: Cluster, api: Any, namespace: str) -> None:
    """Pods that never become ready: Progressing turns False and ``kubectl rollout status`` fails."""
    apps = client.AppsV1Api(api)
    name = unique("stuck")
    apps.create_namespaced_deployment(namespace, _deployment(name, replicas=1, progressDeadlineSeconds=1))

    def timed_out() -> Any:
        status = apps.read_namespaced_deployment(name, namespace).status
        conds = {c.type: c for c in (status.conditions if status else None) or []}
        assert "Progressing" in conds and conds["Progressing"].reason == "ProgressDeadlineExceeded"
        return conds["Progressing"]

    cond = eventually(timed_out)
    assert cond.status == "False"
    [rs] = _owned_rs(apps, namespace, name)
    assert cond.message == f'ReplicaSet "{rs.metadata.name}" has timed out progressing.'
    result = cluster.kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=30s",
                             check=False)
    assert result.returncode != 0
    assert f'deployment "{name}" exceeded its progress deadline' in result.stderr
