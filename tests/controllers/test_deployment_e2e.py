"""Deployments end to end: every default controller, the scheduler and the simulated kubelet make the
pods Running and Ready; kubectl's rollout commands and cascading deletes behave as on a cluster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._workloads import unique


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster() as c:
        yield c


def _pods(core: client.CoreV1Api, namespace: str, name: str) -> list[Any]:
    return [p for p in core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
            if not p.metadata.deletion_timestamp]


def test_rollout_update_undo(cluster: Cluster, api: Any, namespace: str) -> None:
    core = client.CoreV1Api(api)
    name = unique("web")
    cluster.kubectl("create", "deployment", name, "--image=example/web:1", "--replicas=3", "-n", namespace)
    out = cluster.kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=60s").stdout
    assert f'deployment "{name}" successfully rolled out' in out
    pods = _pods(core, namespace, name)
    assert len(pods) == 3 and all(p.status.phase == "Running" and p.status.pod_ip for p in pods)
    cluster.kubectl("set", "image", f"deployment/{name}", "web=example/web:2", "-n", namespace)
    cluster.kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=60s")
    eventually(lambda: {p.spec.containers[0].image for p in _pods(core, namespace, name)} == {"example/web:2"})
    cluster.kubectl("rollout", "undo", f"deployment/{name}", "-n", namespace)
    cluster.kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=60s")
    eventually(lambda: {p.spec.containers[0].image for p in _pods(core, namespace, name)} == {"example/web:1"})
    history = cluster.kubectl("rollout", "history", f"deployment/{name}", "-n", namespace).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]
    describe = cluster.kubectl("describe", f"deployment/{name}", "-n", namespace).stdout
    assert "ScalingReplicaSet" in describe and "NewReplicaSetAvailable" in describe


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_kubectl_delete_deployment_cascade(cluster: Cluster, api: Any, namespace: str, cascade: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("web")
    cluster.kubectl("create", "deployment", name, "--image=example/web:1", "--replicas=2", "-n", namespace)
    cluster.kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=60s")
    cluster.kubectl("delete", f"deployment/{name}", "-n", namespace, f"--cascade={cascade}", "--timeout=60s")
    rs = apps.list_namespaced_replica_set(namespace, label_selector=f"app={name}").items
    if cascade == "orphan":
        assert len(rs) == 1 and not rs[0].metadata.owner_references
        assert len(_pods(core, namespace, name)) == 2
        return
    if cascade == "foreground":  # kubectl --wait returned once the owner was gone, after its dependents
        assert not rs
    eventually(lambda: not apps.list_namespaced_replica_set(namespace, label_selector=f"app={name}").items)
    eventually(lambda: not core.list_namespaced_pod(namespace, label_selector=f"app={name}").items)


def test_official_client_foreground_delete(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("web")
    cluster.kubectl("create", "deployment", name, "--image=example/web:1", "--replicas=2", "-n", namespace)
    cluster.kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=60s")
    apps.delete_namespaced_deployment(name, namespace, propagation_policy="Foreground")

    def gone() -> None:
        try:
            apps.read_namespaced_deployment(name, namespace)
        except client.ApiException as exc:
            assert exc.status == 404
            return
        raise AssertionError("the Deployment is still there")

    eventually(gone)
    assert not apps.list_namespaced_replica_set(namespace, label_selector=f"app={name}").items
    assert not core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
