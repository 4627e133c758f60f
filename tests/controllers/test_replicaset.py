"""The ReplicaSet controller: pods from the template, owned, adopted, released, counted in status.

No kubelet runs here: the test writes pod status as the kubelet would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._workloads import WORKLOAD_CONTROLLERS, mark_all_ready, unique


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(controllers=WORKLOAD_CONTROLLERS) as c:
        yield c


def _rs(name: str, replicas: int, app: str) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": {"app": app}},
                                  "spec": {"containers": [{"name": "c", "image": "example/app:1"}]}}}}


def _pods(core: client.CoreV1Api, namespace: str, app: str) -> list[Any]:
    return [p for p in core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
            if not p.metadata.deletion_timestamp]


def test_creates_owned_pods_and_reports_status(api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    app, name = unique("app"), unique("rs")
    rs = apps.create_namespaced_replica_set(namespace, _rs(name, 3, app))
    pods = eventually(lambda: _pods(core, namespace, app), matcher=lambda p: len(p) == 3)
    for pod in pods:
        assert pod.metadata.generate_name == f"{name}-"
        assert pod.metadata.name.startswith(f"{name}-") and len(pod.metadata.name) == len(name) + 6
        [ref] = pod.metadata.owner_references
        assert (ref.kind, ref.name, ref.uid, ref.controller, ref.block_owner_deletion) == \
            ("ReplicaSet", name, rs.metadata.uid, True, True)
    status = eventually(lambda: apps.read_namespaced_replica_set_status(name, namespace).status,
                        matcher=lambda st: st is not None and st.replicas == 3)
    assert not status.ready_replicas and status.observed_generation == 1
    mark_all_ready(core, namespace)

    def counted() -> None:
        st = apps.read_namespaced_replica_set_status(name, namespace).status
        assert (st.replicas, st.ready_replicas, st.available_replicas, st.fully_labeled_replicas) == (3, 3, 3, 3)

    eventually(counted)
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items
    assert sum(e.reason == "SuccessfulCreate" for e in events) >= 1
    assert any(e.message.startswith("Created pod: ") for e in events)


def test_scale_down_and_replace_deleted_pod(api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    app, name = unique("app"), unique("rs")
    apps.create_namespaced_replica_set(namespace, _rs(name, 3, app))
    pods = eventually(lambda: _pods(core, namespace, app), matcher=lambda p: len(p) == 3)
    core.delete_namespaced_pod(pods[0].metadata.name, namespace, grace_period_seconds=0)
    replaced = eventually(lambda: _pods(core, namespace, app), matcher=lambda p: len(p) == 3)
    assert pods[0].metadata.name not in {p.metadata.name for p in replaced}
    apps.patch_namespaced_replica_set_scale(name, namespace, {"spec": {"replicas": 1}})
    eventually(lambda: _pods(core, namespace, app), matcher=lambda p: len(p) == 1)
    eventually(lambda: apps.read_namespaced_replica_set(name, namespace).status.replicas == 1)


def test_adopts_orphans_and_releases_relabelled_pods(api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    app, name = unique("app"), unique("rs")
    orphan = core.create_namespaced_pod(namespace, {
        "metadata": {"name": unique("orphan"), "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "example/app:1"}]}})
    rs = apps.create_namespaced_replica_set(namespace, _rs(name, 2, app))

    def adopted() -> None:
        pod = core.read_namespaced_pod(orphan.metadata.name, namespace)
        assert [r.uid for r in pod.metadata.owner_references or []] == [rs.metadata.uid]

    eventually(adopted)
    eventually(lambda: _pods(core, namespace, app), matcher=lambda p: len(p) == 2)
    core.patch_namespaced_pod(orphan.metadata.name, namespace, {"metadata": {"labels": {"app": "elsewhere"}}})

    def released() -> None:
        pod = core.read_namespaced_pod(orphan.metadata.name, namespace)
        assert not pod.metadata.owner_references
        assert len(_pods(core, namespace, app)) == 2

    eventually(released)


def test_finished_pods_are_replaced(api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    app, name = unique("app"), unique("rs")
    apps.create_namespaced_replica_set(namespace, _rs(name, 1, app))
    [pod] = eventually(lambda: _pods(core, namespace, app), matcher=lambda p: len(p) == 1)
    core.patch_namespaced_pod_status(pod.metadata.name, namespace, {"status": {"phase": "Failed"}})

    def replaced() -> None:
        running = [p for p in _pods(core, namespace, app) if p.status.phase != "Failed"]
        assert len(running) == 1 and running[0].metadata.name != pod.metadata.name

    eventually(replaced)
