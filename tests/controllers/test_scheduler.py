"""The scheduler: node selectors, taints and tolerations, unschedulable pods, spreading, pods/binding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster

from ._kubelet_support import condition, is_scheduled, is_unschedulable, kubectl, pod, unique, wait_pod

NODES = [
    {"name": "worker-a", "labels": {"disk": "ssd", "zone": "a"}},
    {"name": "worker-b", "labels": {"disk": "hdd", "zone": "b"}},
    {"name": "gpu-1", "labels": {"accelerator": "gpu"}, "taints": [{"key": "gpu", "value": "true",
                                                                    "effect": "NoSchedule"}]},
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(nodes=NODES) as c:
        yield c


@pytest.fixture(scope="module")
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


def test_node_selector_picks_the_matching_node(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("ssd")
    core.create_namespaced_pod(namespace, pod(name, nodeSelector={"disk": "ssd"}))
    p = wait_pod(core, namespace, name, is_scheduled)
    assert p.spec.node_name == "worker-a"
    scheduled = condition(p, "PodScheduled")
    assert scheduled is not None and scheduled.status == "True"
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name},reason=Scheduled")
    assert [e.message for e in events.items] == [f"Successfully assigned {namespace}/{name} to worker-a"]
    assert events.items[0].source.component == "default-scheduler"


def test_required_node_affinity(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("affine")
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b", "c"]}]}]}}}
    core.create_namespaced_pod(namespace, pod(name, affinity=affinity))
    assert wait_pod(core, namespace, name, is_scheduled).spec.node_name == "worker-b"


def test_untolerated_taint_makes_the_pod_unschedulable(cluster: Cluster, core: client.CoreV1Api,
                                                       namespace: str) -> None:
    name = unique("gpu")
    core.create_namespaced_pod(namespace, pod(name, nodeSelector={"accelerator": "gpu"}))
    p = wait_pod(core, namespace, name, is_unschedulable)
    assert not p.spec.node_name and p.status.phase == "Pending"
    message = ("0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 node(s) didn't match "
               "Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful "
               "for scheduling.")
    assert condition(p, "PodScheduled").message == message
    failed = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name},reason=FailedScheduling")
    assert [(e.type, e.message) for e in failed.items] == [("Warning", message)]
    assert "FailedScheduling" in kubectl(cluster, "describe", "pod", "-n", namespace, name).stdout


def test_toleration_lets_the_pod_onto_a_tainted_node(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("gpu")
    tolerations = [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    core.create_namespaced_pod(namespace, pod(name, nodeSelector={"accelerator": "gpu"}, tolerations=tolerations))
    assert wait_pod(core, namespace, name, is_scheduled).spec.node_name == "gpu-1"


def test_pending_pod_is_scheduled_once_a_node_fits(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("waiting")
    label = unique("pool")
    core.create_namespaced_pod(namespace, pod(name, nodeSelector={"pool": label}))
    wait_pod(core, namespace, name, is_unschedulable)
    core.patch_node("worker-b", {"metadata": {"labels": {"pool": label}}})
    try:
        assert wait_pod(core, namespace, name, is_scheduled).spec.node_name == "worker-b"
    finally:
        core.patch_node("worker-b", {"metadata": {"labels": {"pool": None}}})


def test_pods_spread_over_fitting_nodes(core: client.CoreV1Api, namespace: str) -> None:
    names = [unique("spread") for _ in range(4)]
    for name in names:
        core.create_namespaced_pod(namespace, pod(name, nodeSelector={"kubernetes.io/os": "linux"}))
    nodes = [wait_pod(core, namespace, n, is_scheduled).spec.node_name for n in names]
    assert set(nodes) == {"worker-a", "worker-b"}


def test_other_scheduler_binds_through_the_binding_subresource(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("custom")
    core.create_namespaced_pod(namespace, pod(name, schedulerName="my-scheduler"))
    assert not core.read_namespaced_pod(name, namespace).spec.node_name
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "worker-b"}}
    resp = core.create_namespaced_pod_binding(name, namespace, binding, _preload_content=False)
    assert resp.status == 201
    assert orjson.loads(resp.data)["status"] == "Success"
    p = wait_pod(core, namespace, name, lambda p: p.status.phase == "Running")
    assert p.spec.node_name == "worker-b"
    with pytest.raises(ApiException) as info:
        core.create_namespaced_pod_binding(name, namespace, binding, _preload_content=False)
    assert info.value.status == 409
    assert orjson.loads(info.value.body)["message"] == (
        f'Operation cannot be fulfilled on pods "{name}": pod {name} is already assigned to node "worker-b"')


def test_binding_validates_the_target(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("custom")
    core.create_namespaced_pod(namespace, pod(name, schedulerName="my-scheduler"))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name}, "target": {"name": ""}}
    with pytest.raises(ApiException) as info:
        core.create_namespaced_pod_binding(name, namespace, binding, _preload_content=False)
    assert info.value.status == 422
    assert orjson.loads(info.value.body)["details"]["causes"][0]["field"] == "target.name"


def test_pod_with_node_name_skips_the_scheduler(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("pinned")
    core.create_namespaced_pod(namespace, pod(name, nodeName="gpu-1"))  # taints do not stop a pinned pod
    p = wait_pod(core, namespace, name, lambda p: p.status.phase == "Running")
    assert p.spec.node_name == "gpu-1"
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name},reason=Scheduled")
    assert events.items == []
