"""The cluster's Nodes: one Ready node by default, more on request, with their Leases."""

from __future__ import annotations

import datetime

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.clock import ManualClock
from kubeproof.testing import eventually

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


def test_a_node_created_through_the_api_registers_and_its_lease_is_renewed() -> None:
    """Every Node is backed by the simulated kubelet: one created with ``kubectl create`` gets a registered
    kubelet's status and a Lease, and every Lease is renewed each 10 s of cluster time."""
    clock = ManualClock()
    with Cluster(clock=clock) as cluster:
        api = cluster.api_client()
        try:
            core, coordination = client.CoreV1Api(api), client.CoordinationV1Api(api)
            core.create_node({"metadata": {"name": "joined", "labels": {"pool": "extra"}}})

            def registered() -> client.V1Node:
                node = core.read_node("joined")
                assert node.status.allocatable and node.status.allocatable["pods"] == "110", node.status
                return node

            node = eventually(registered)
            assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
            assert node.metadata.labels == {"pool": "extra"}  # the user's labels, untouched
            assert kubectl(cluster, "get", "node", "joined").stdout.splitlines()[1].split()[:2] == ["joined", "Ready"]
            lease = eventually(lambda: coordination.read_namespaced_lease("joined", "kube-node-lease"))
            assert lease.spec.holder_identity == "joined" and lease.spec.lease_duration_seconds == 40
            assert lease.metadata.owner_references[0].uid == node.metadata.uid

            def renew_times() -> dict[str, datetime.datetime]:
                leases = coordination.list_namespaced_lease("kube-node-lease").items
                return {item.metadata.name: item.spec.renew_time for item in leases}

            before = eventually(lambda: _both(renew_times()))
            clock.advance(10)

            def renewed() -> None:
                after = renew_times()
                for name in ("kubeproof-node-1", "joined"):
                    assert (after[name] - before[name]).total_seconds() >= 10, (before, after)

            eventually(renewed)
        finally:
            api.close()


def _both(times: dict[str, datetime.datetime]) -> dict[str, datetime.datetime]:
    assert set(times) == {"kubeproof-node-1", "joined"}, times
    return times
