"""PodTopologySpread (``whenUnsatisfiable: DoNotSchedule``): maxSkew over topology domains, the node
affinity policy, nodes without the key, and kube-scheduler's messages. One cluster per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from ._kubelet_support import is_scheduled, own_cluster_core, pod, unique, unschedulable_message, wait_pod

NODES = [
    {"name": "z-a", "labels": {"zone": "a"}},
    {"name": "z-b", "labels": {"zone": "b"}},
    {"name": "nolabel"},
]


@pytest.fixture
def core() -> Iterator[client.CoreV1Api]:
    with own_cluster_core(NODES) as api:
        yield api


def _spread(name: str, key: str = "zone", **extra: Any) -> dict[str, Any]:
    constraint = {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule",
                  "labelSelector": {"matchLabels": {"app": "s"}}, **extra.pop("constraint", {})}
    body = pod(name, topologySpreadConstraints=[constraint], **extra)
    body["metadata"]["labels"] = {"app": "s"}
    return body


def _message(core: client.CoreV1Api, name: str) -> str:
    return unschedulable_message(core, "default", name)


def test_max_skew_between_zones(core: client.CoreV1Api) -> None:
    first, second, third, fourth = (unique("s") for _ in range(4))
    core.create_namespaced_pod("default", _spread(first))
    assert wait_pod(core, "default", first, is_scheduled).spec.node_name == "z-a"  # never the node without a zone
    core.create_namespaced_pod("default", _spread(second))
    assert wait_pod(core, "default", second, is_scheduled).spec.node_name == "z-b"  # z-a would make the skew 2
    # nodeAffinityPolicy Ignore: both zones count although the selector allows only zone a
    pinned = {"nodeSelector": {"zone": "a"}, "constraint": {"nodeAffinityPolicy": "Ignore"}}
    core.create_namespaced_pod("default", _spread(third, **pinned))
    assert wait_pod(core, "default", third, is_scheduled).spec.node_name == "z-a"
    core.create_namespaced_pod("default", _spread(fourth, **pinned))
    assert _message(core, fourth) == (
        "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 2 node(s) didn't match "
        "Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for "
        "incoming pod, 2 Preemption is not helpful for scheduling.")
    # one more matching pod in zone b evens the skew out: the waiting pod goes to zone a
    extra = pod(unique("s"), nodeName="z-b")
    extra["metadata"]["labels"] = {"app": "s"}
    core.create_namespaced_pod("default", extra)
    assert wait_pod(core, "default", fourth, is_scheduled).spec.node_name == "z-a"


def test_a_key_no_node_has(core: client.CoreV1Api) -> None:
    name = unique("rack")
    core.create_namespaced_pod("default", _spread(name, key="rack"))
    assert _message(core, name) == (
        "0/3 nodes are available: 3 node(s) didn't match pod topology spread constraints (missing required label). "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")


def test_schedule_anyway_constraints_do_not_filter(core: client.CoreV1Api) -> None:
    names = [unique("s") for _ in range(3)]
    for name in names:
        core.create_namespaced_pod("default", _spread(name, key="rack", constraint={
            "whenUnsatisfiable": "ScheduleAnyway"}))
    assert all(wait_pod(core, "default", name, is_scheduled).spec.node_name for name in names)
