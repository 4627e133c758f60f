"""InterPodAffinity (required terms): spreading with anti-affinity, co-locating with affinity, and the
symmetric rule of existing pods' anti-affinity, with kube-scheduler's messages. Each test has its own
cluster: pods on shared nodes would otherwise affect each other's placement."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from ._kubelet_support import is_scheduled, own_cluster_core, pod, unique, unschedulable_message, wait_pod

NODES = [
    {"name": "a-1", "labels": {"zone": "a"}},
    {"name": "a-2", "labels": {"zone": "a"}},
    {"name": "b-1", "labels": {"zone": "b"}},
]
HOSTNAME = "kubernetes.io/hostname"


@pytest.fixture
def core() -> Iterator[client.CoreV1Api]:
    with own_cluster_core(NODES) as api:
        yield api


def _term(labels: dict[str, str], topology: str, **extra: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": labels}, "topologyKey": topology, **extra}


def _with(name: str, labels: dict[str, str], affinity: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    body = pod(name, **({"affinity": affinity} if affinity else {}), **spec)
    body["metadata"]["labels"] = labels
    return body


def _message(core: client.CoreV1Api, name: str) -> str:
    return unschedulable_message(core, "default", name)


def test_anti_affinity_spreads_replicas_one_per_node(core: client.CoreV1Api) -> None:
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term({"app": "web"}, HOSTNAME)]}}
    names = [unique("web") for _ in range(4)]
    for name in names[:3]:
        core.create_namespaced_pod("default", _with(name, {"app": "web"}, anti))
    nodes = sorted(wait_pod(core, "default", name, is_scheduled).spec.node_name for name in names[:3])
    assert nodes == ["a-1", "a-2", "b-1"]
    core.create_namespaced_pod("default", _with(names[3], {"app": "web"}, anti))
    assert _message(core, names[3]) == (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are "
        "available: 3 No preemption victims found for incoming pod.")
    # a replica goes away: the pending one takes its node
    freed = wait_pod(core, "default", names[1], is_scheduled).spec.node_name
    core.delete_namespaced_pod(names[1], "default", grace_period_seconds=0)
    assert wait_pod(core, "default", names[3], is_scheduled).spec.node_name == freed


def test_affinity_follows_a_zone_and_waits_for_it(core: client.CoreV1Api) -> None:
    """A cache pod wants to be in the zone of a db pod: it waits while there is none (a zone term that no
    pod matches, and it does not match itself), then follows it."""
    cache, db = unique("cache"), unique("db")
    affinity = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term({"app": "db"}, "zone")]}}
    core.create_namespaced_pod("default", _with(cache, {"app": "cache"}, affinity))
    assert _message(core, cache) == (
        "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are "
        "available: 3 Preemption is not helpful for scheduling.")
    core.create_namespaced_pod("default", _with(db, {"app": "db"}, nodeSelector={"zone": "b"}))
    assert wait_pod(core, "default", db, is_scheduled).spec.node_name == "b-1"
    assert wait_pod(core, "default", cache, is_scheduled).spec.node_name == "b-1"


def test_the_first_pod_of_a_self_affine_group_is_let_in(core: client.CoreV1Api) -> None:
    affinity = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term({"group": "g"}, "zone")]}}
    first, second = unique("g"), unique("g")
    core.create_namespaced_pod("default", _with(first, {"group": "g"}, affinity))
    zone_of = {"a-1": "a", "a-2": "a", "b-1": "b"}
    zone = zone_of[wait_pod(core, "default", first, is_scheduled).spec.node_name]
    core.create_namespaced_pod("default", _with(second, {"group": "g"}, affinity))
    assert zone_of[wait_pod(core, "default", second, is_scheduled).spec.node_name] == zone


def test_existing_pods_anti_affinity_keeps_others_away(core: client.CoreV1Api) -> None:
    """A pod that wants its zone to itself keeps a later, unconstrained pod it matches out of that zone."""
    loner, other = unique("loner"), unique("other")
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term({"noisy": "yes"}, "zone")]}}
    core.create_namespaced_pod("default", _with(loner, {"app": "loner"}, anti, nodeSelector={"zone": "b"}))
    assert wait_pod(core, "default", loner, is_scheduled).spec.node_name == "b-1"
    core.create_namespaced_pod("default", _with(other, {"noisy": "yes"}, nodeSelector={"zone": "b"}))
    assert _message(core, other) == (
        "0/3 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules, 2 node(s) didn't "
        "match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found "
        "for incoming pod, 2 Preemption is not helpful for scheduling.")


def test_terms_look_in_their_own_namespace_unless_told(core: client.CoreV1Api) -> None:
    """A term without namespaces selects pods of the pod's own namespace; ``namespaceSelector: {}`` all."""
    core.create_namespace({"metadata": {"name": "elsewhere"}})
    anti_here = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        _term({"app": "x"}, HOSTNAME)]}}
    anti_everywhere = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        _term({"app": "x"}, HOSTNAME, namespaceSelector={})]}}
    for node in ("a-1", "a-2", "b-1"):
        body = _with(unique("x"), {"app": "x"}, nodeName=node)
        core.create_namespaced_pod("elsewhere", body)
    here, everywhere = unique("here"), unique("everywhere")
    core.create_namespaced_pod("default", _with(here, {"app": "x"}, anti_here))
    assert wait_pod(core, "default", here, is_scheduled).spec.node_name
    core.create_namespaced_pod("default", _with(everywhere, {"app": "y"}, anti_everywhere))
    assert _message(core, everywhere).startswith("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity")
