"""NodeResourcesFit: pods' requests against what each node has left, with kube-scheduler's messages.

Each test has its own small cluster (nodes are shared by every namespace, so per-test namespaces would not
keep one test's pods off another's nodes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from ._kubelet_support import (
    is_scheduled,
    own_cluster_core,
    pod,
    unique,
    unschedulable_message,
    wait_pod,
    wait_pod_gone,
)

NODES = [
    {"name": "small-a", "labels": {"pool": "a"}, "capacity": {"cpu": "1", "memory": "1Gi", "pods": "3"}},
    {"name": "small-b", "labels": {"pool": "b"}, "capacity": {"cpu": "1", "memory": "1Gi", "example.com/gpu": "1"}},
]


@pytest.fixture
def core() -> Iterator[client.CoreV1Api]:
    with own_cluster_core(NODES) as api:
        yield api


def _asking(name: str, requests: dict[str, str], **spec: Any) -> dict[str, Any]:
    body = pod(name, **spec)
    body["spec"]["containers"][0]["resources"] = {"requests": requests}
    return body


def _message(core: client.CoreV1Api, name: str) -> str:
    message = unschedulable_message(core, "default", name)
    p = core.read_namespaced_pod(name, "default")
    assert not p.spec.node_name and p.status.phase == "Pending"
    events = core.list_namespaced_event("default", field_selector=f"involvedObject.name={name},reason=FailedScheduling")
    assert [(e.type, e.message) for e in events.items] == [("Warning", message)]
    return message


def test_a_pod_larger_than_every_node_stays_pending(core: client.CoreV1Api) -> None:
    name = unique("big")
    core.create_namespaced_pod("default", _asking(name, {"cpu": "1500m", "memory": "2Gi"}))
    assert _message(core, name) == (
        "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are "
        "available: 2 No preemption victims found for incoming pod.")


def test_room_taken_then_freed(core: client.CoreV1Api) -> None:
    first, second = unique("first"), unique("second")
    core.create_namespaced_pod("default", _asking(first, {"cpu": "800m"}, nodeSelector={"pool": "a"}))
    assert wait_pod(core, "default", first, is_scheduled).spec.node_name == "small-a"
    core.create_namespaced_pod("default", _asking(second, {"cpu": "500m"}, nodeSelector={"pool": "a"}))
    assert _message(core, second) == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is "
        "not helpful for scheduling.")
    core.delete_namespaced_pod(first, "default", grace_period_seconds=0)
    assert wait_pod(core, "default", second, is_scheduled).spec.node_name == "small-a"


def test_extended_resources_and_the_pod_count(core: client.CoreV1Api) -> None:
    gpu, other = unique("gpu"), unique("gpu")
    core.create_namespaced_pod("default", _asking(gpu, {"example.com/gpu": "1"}))
    assert wait_pod(core, "default", gpu, is_scheduled).spec.node_name == "small-b"
    core.create_namespaced_pod("default", _asking(other, {"example.com/gpu": "1"}))
    assert _message(core, other) == (
        "0/2 nodes are available: 2 Insufficient example.com/gpu. preemption: 0/2 nodes are available: "
        "2 No preemption victims found for incoming pod.")

    # small-a takes three pods; the fourth one that must go there finds it full
    names = [unique("tiny") for _ in range(4)]
    for name in names[:3]:
        core.create_namespaced_pod("default", pod(name, nodeSelector={"pool": "a"}))
        assert wait_pod(core, "default", name, is_scheduled).spec.node_name == "small-a"
    core.create_namespaced_pod("default", pod(names[3], nodeSelector={"pool": "a"}))
    assert _message(core, names[3]) == (
        "0/2 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is "
        "not helpful for scheduling.")


def test_sidecars_and_init_containers_count_as_kube_scheduler_counts_them(core: client.CoreV1Api) -> None:
    """Init steps run one after another (the largest counts), sidecars (restartPolicy: Always) run beside
    everything after them: 600m of containers plus a 300m sidecar is 900m, which fits a 1-CPU node; a
    further 200m in the containers does not."""
    def spec(app_cpu: str) -> dict[str, Any]:
        return {"initContainers": [
            {"name": "setup", "image": "busybox", "resources": {"requests": {"cpu": "700m"}}},
            {"name": "proxy", "image": "envoy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "300m"}}},
        ], "containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": app_cpu}}}],
            "nodeSelector": {"pool": "a"}}

    fits, too_big = unique("fits"), unique("big")
    core.create_namespaced_pod("default", {"metadata": {"name": fits}, "spec": spec("600m")})
    assert wait_pod(core, "default", fits, is_scheduled).spec.node_name == "small-a"
    core.delete_namespaced_pod(fits, "default", grace_period_seconds=0)
    wait_pod_gone(core, "default", fits)  # its 900m must not be what keeps the next one out
    core.create_namespaced_pod("default", {"metadata": {"name": too_big}, "spec": spec("800m")})
    assert _message(core, too_big).startswith("0/2 nodes are available: 1 Insufficient cpu, ")


def test_limits_stand_in_for_missing_requests(core: client.CoreV1Api) -> None:
    name = unique("limited")
    body = pod(name)
    body["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "300m", "memory": "64Mi"},
                                                  "requests": {"memory": "32Mi"}}
    created = core.create_namespaced_pod("default", body)
    assert created.spec.containers[0].resources.requests == {"cpu": "300m", "memory": "32Mi"}
    assert created.status.qos_class == "Burstable"
