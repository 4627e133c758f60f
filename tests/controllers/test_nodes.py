"""The cluster's Nodes: one Ready node by default, more on request, with their Leases."""

from __future__ import annotations

import pytest
from kubernetes import client

from kubeproof import Cluster

from ._kubelet_support import kubectl


def test_default_cluster_has_one_ready_node(cluster: Cluster, k8s_api_client: object) -> None:
    core = client.CoreV1Api(k8s_api_client)
    (node,) = core.list_node().items
    assert node.metadata.name == "kubeproof-node-1"
    conditions = {c.type: c for c in node.status.conditions}
    assert conditions["Ready"].status == "True" and conditions["Ready"].reason == "KubeletReady"
    assert conditions["MemoryPressure"].status == "False"
    assert [(a.type, a.address) for a in node.status.addresses] == [
        ("InternalIP", "127.0.0.1"), ("Hostname", "kubeproof-node-1")]
    assert node.status.node_info.kubelet_version.startswith("v1.37.")
    assert node.status.allocatable["pods"] == "110"
    assert node.metadata.labels["kubernetes.io/hostname"] == "kubeproof-node-1"
    lease = client.CoordinationV1Api(k8s_api_client).read_namespaced_lease("kubeproof-node-1", "kube-node-lease")
    assert lease.spec.holder_identity == "kubeproof-node-1"

    table = kubectl(cluster, "get", "nodes").stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert table[1].split()[:3] == ["kubeproof-node-1", "Ready", "<none>"]
    assert "Ready            True" in kubectl(cluster, "describe", "node", "kubeproof-node-1").stdout


@pytest.mark.parametrize(("nodes", "names"), [
    (3, ["kubeproof-node-1", "kubeproof-node-2", "kubeproof-node-3"]),
    (["a", "b"], ["a", "b"]),
])
def test_node_count_or_names(nodes: int | list[str], names: list[str]) -> None:
    with Cluster(nodes=nodes) as c:
        items, _ = c.store.list("nodes")
        assert sorted(n["metadata"]["name"] for n in items) == names


def test_unschedulable_node_is_cordoned() -> None:
    with Cluster(nodes=[{"name": "cordoned", "unschedulable": True}]) as c:
        node = c.store.get("nodes", "", "cordoned")
        assert node is not None
        assert node["spec"]["unschedulable"] is True
        assert node["spec"]["taints"][0]["key"] == "node.kubernetes.io/unschedulable"
        status = kubectl(c, "get", "node", "cordoned").stdout.splitlines()[1].split()[1]
        assert status == "Ready,SchedulingDisabled"
