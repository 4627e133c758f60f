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


def test_match_label_keys_count_only_pods_of_the_same_value(core: client.CoreV1Api) -> None:
    # Two pods of version v2 already run in zone a; a v1 pod spreads only against other v1 pods.
    for _ in range(2):
        old = pod(unique("v2"), nodeName="z-a")
        old["metadata"]["labels"] = {"app": "s", "version": "v2"}
        core.create_namespaced_pod("default", old)
    pinned = {"nodeSelector": {"zone": "a"}, "constraint": {"nodeAffinityPolicy": "Ignore"}}
    plain, keyed = _spread(unique("v1"), **pinned), _spread(unique("v1"), **pinned)
    for body in (plain, keyed):
        body["metadata"]["labels"]["version"] = "v1"
    keyed["spec"]["topologySpreadConstraints"][0]["matchLabelKeys"] = ["version", "absent"]
    core.create_namespaced_pod("default", keyed)
    assert wait_pod(core, "default", keyed["metadata"]["name"], is_scheduled).spec.node_name == "z-a"
    # the API server merged the key into the selector, with the pod's value (a key it lacks adds nothing)
    stored = core.read_namespaced_pod(keyed["metadata"]["name"], "default").spec.topology_spread_constraints[0]
    assert stored.match_label_keys == ["version", "absent"]
    assert [(e.key, e.operator, e.values) for e in stored.label_selector.match_expressions] == [
        ("version", "In", ["v1"])]
    # without matchLabelKeys the v2 pods count too: zone a would be 3 against 0
    core.create_namespaced_pod("default", plain)
    assert "didn't match pod topology spread constraints" in _message(core, plain["metadata"]["name"])


def test_match_and_mismatch_label_keys_narrow_affinity_terms(core: client.CoreV1Api) -> None:
    term = {"labelSelector": {"matchLabels": {"app": "s"}}, "topologyKey": "zone",
            "matchLabelKeys": ["tenant"], "mismatchLabelKeys": ["version"]}
    no_selector = {"topologyKey": "zone", "matchLabelKeys": ["tenant"]}
    affinity = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term, no_selector],
                                    "preferredDuringSchedulingIgnoredDuringExecution": [
                                        {"weight": 10, "podAffinityTerm": dict(term)}]}}
    body = pod(unique("aff"), affinity=affinity)
    body["metadata"]["labels"] = {"app": "s", "tenant": "t1", "version": "v3"}
    created = core.create_namespaced_pod("default", body)
    anti = created.spec.affinity.pod_anti_affinity
    merged = [("tenant", "In", ["t1"]), ("version", "NotIn", ["v3"])]
    required = anti.required_during_scheduling_ignored_during_execution
    assert [(e.key, e.operator, e.values) for e in required[0].label_selector.match_expressions] == merged
    assert required[1].label_selector is None  # a nil selector matches nothing and stays nil
    preferred = anti.preferred_during_scheduling_ignored_during_execution[0].pod_affinity_term
    assert [(e.key, e.operator, e.values) for e in preferred.label_selector.match_expressions] == merged
