"""StatefulSets end to end (scheduler and simulated kubelet running): ordinal pods in order, rolling
updates through ControllerRevisions, kubectl's rollout commands."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.testing import consistently, eventually

from ._workloads import unique


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster() as c:
        yield c


def _sts(name: str, replicas: int = 3, image: str = "example/db:1", annotations: dict[str, str] | None = None,
         **spec: Any) -> dict[str, Any]:
    tmeta: dict[str, Any] = {"labels": {"app": name}}
    if annotations:
        tmeta["annotations"] = annotations
    return {"metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": tmeta, "spec": {"containers": [{"name": "db", "image": image}]}},
                     **spec}}


def _pods(core: client.CoreV1Api, namespace: str, name: str) -> dict[str, Any]:
    return {p.metadata.name: p for p in core.list_namespaced_pod(namespace, label_selector=f"app={name}").items}


def test_ordinal_pods_rollout_and_undo(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("db")
    apps.create_namespaced_stateful_set(namespace, _sts(name, volumeClaimTemplates=[
        {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                "resources": {"requests": {"storage": "1Gi"}}}}]))
    cluster.kubectl("rollout", "status", f"statefulset/{name}", "-n", namespace, "--timeout=60s")
    pods = _pods(core, namespace, name)
    assert sorted(pods) == [f"{name}-0", f"{name}-1", f"{name}-2"]
    for ordinal in range(3):
        pod = pods[f"{name}-{ordinal}"]
        assert pod.metadata.labels["apps.kubernetes.io/pod-index"] == str(ordinal)
        assert pod.metadata.labels["statefulset.kubernetes.io/pod-name"] == pod.metadata.name
        assert pod.spec.hostname == pod.metadata.name and pod.spec.subdomain == name
        claim = next(v for v in pod.spec.volumes if v.name == "data")
        assert claim.persistent_volume_claim.claim_name == f"data-{name}-{ordinal}"
        core.read_namespaced_persistent_volume_claim(f"data-{name}-{ordinal}", namespace)
    sts = apps.read_namespaced_stateful_set(name, namespace)
    first_revision = sts.status.update_revision
    assert sts.status.current_revision == first_revision and sts.status.ready_replicas == 3
    assert {p.metadata.labels["controller-revision-hash"] for p in pods.values()} == {first_revision}

    cluster.kubectl("set", "image", f"statefulset/{name}", "db=example/db:2", "-n", namespace)
    cluster.kubectl("rollout", "status", f"statefulset/{name}", "-n", namespace, "--timeout=60s")
    sts = apps.read_namespaced_stateful_set(name, namespace)
    assert sts.status.update_revision != first_revision
    assert sts.status.current_revision == sts.status.update_revision
    eventually(lambda: {p.spec.containers[0].image for p in _pods(core, namespace, name).values()}
               == {"example/db:2"})
    history = cluster.kubectl("rollout", "history", f"statefulset/{name}", "-n", namespace).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    cluster.kubectl("rollout", "undo", f"statefulset/{name}", "-n", namespace)
    cluster.kubectl("rollout", "status", f"statefulset/{name}", "-n", namespace, "--timeout=60s")
    eventually(lambda: {p.spec.containers[0].image for p in _pods(core, namespace, name).values()}
               == {"example/db:1"})
    assert apps.read_namespaced_stateful_set(name, namespace).status.update_revision == first_revision

    apps.patch_namespaced_stateful_set_scale(name, namespace, {"spec": {"replicas": 1}})
    eventually(lambda: sorted(_pods(core, namespace, name)) == [f"{name}-0"])


def test_ordered_ready_waits_for_the_previous_pod(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("db")
    apps.create_namespaced_stateful_set(namespace, _sts(name, annotations={"kubeproof.dev/ready": "false"}))
    eventually(lambda: sorted(_pods(core, namespace, name)) == [f"{name}-0"])
    eventually(lambda: _pods(core, namespace, name)[f"{name}-0"].status.phase == "Running")
    consistently(lambda: sorted(_pods(core, namespace, name)) == [f"{name}-0"], duration=0.5)


def test_parallel_creates_all_at_once(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("db")
    apps.create_namespaced_stateful_set(namespace, _sts(name, annotations={"kubeproof.dev/ready": "false"},
                                                        podManagementPolicy="Parallel"))
    eventually(lambda: sorted(_pods(core, namespace, name)) == [f"{name}-0", f"{name}-1", f"{name}-2"])
