"""Scoring: among the nodes that pass the filters the pod goes to the highest weighted score of the default
profile's score plugins. End-to-end tests (one small cluster each, so no other test's pods weigh in) through
the official client, then the score functions on numbers worked out by hand from kube-scheduler's formulas.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

from kubernetes import client

from kubeproof import Cluster
from kubeproof.controllers.scheduler import (
    InterPodAffinity,
    SpreadScore,
    _go_round,
    balanced_allocation,
    best_node,
    default_normalize,
    default_selector,
    least_allocated,
    node_affinity_scores,
    normalize_min_max,
    normalize_spread,
    resource_scores,
    taint_toleration_scores,
)
from kubeproof.server.selectors import label_selector_from_dict
from kubeproof.testing import eventually

from ._kubelet_support import is_scheduled, own_cluster_core, pod, unique, wait_pod

GI = 1024**3
MI = 1024**2


def _labelled(name: str, labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    body = pod(name, **spec)
    body["metadata"]["labels"] = labels
    return body


def _node_of(core: client.CoreV1Api, name: str) -> str:
    node: str = wait_pod(core, "default", name, is_scheduled).spec.node_name
    return node


def _preload(core: client.CoreV1Api, node: str, count: int) -> None:
    """Pods bound straight to ``node`` (no labels, no requests): they make it look busier to LeastAllocated."""
    for _ in range(count):
        core.create_namespaced_pod("default", pod(unique("busy"), nodeName=node))


# --- end to end -------------------------------------------------------------------------------------


def test_preferred_node_affinity_picks_the_heavier_term() -> None:
    nodes = [{"name": "a", "labels": {"disk": "hdd"}}, {"name": "b", "labels": {"disk": "ssd"}}]
    affinity = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 5, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["hdd"]}]}},
        {"weight": 20, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
    ]}}
    with own_cluster_core(nodes) as core:
        name = unique("pref")
        core.create_namespaced_pod("default", pod(name, affinity=affinity))
        assert _node_of(core, name) == "b"  # without scoring the tie would go to "a"


def test_prefer_no_schedule_taint_is_avoided_unless_tolerated() -> None:
    taint = {"key": "spot", "value": "true", "effect": "PreferNoSchedule"}
    nodes = [{"name": "a", "taints": [taint], "labels": {"pool": "a"}}, {"name": "b"}]
    with own_cluster_core(nodes) as core:
        plain, tolerant, pinned = unique("plain"), unique("tolerant"), unique("pinned")
        core.create_namespaced_pod("default", pod(plain))
        assert _node_of(core, plain) == "b"
        # tolerating the taint makes both nodes equal on it; LeastAllocated then prefers the emptier "a"
        core.create_namespaced_pod("default", pod(tolerant, tolerations=[
            {"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}]))
        assert _node_of(core, tolerant) == "a"
        # a PreferNoSchedule taint never filters: a pod only "a" fits still goes there
        core.create_namespaced_pod("default", pod(pinned, nodeSelector={"pool": "a"}))
        assert _node_of(core, pinned) == "a"


def test_preferred_pod_anti_affinity_spreads_pods() -> None:
    with own_cluster_core([{"name": "a"}, {"name": "b"}]) as core:
        _preload(core, "b", 2)  # LeastAllocated alone would put both web pods on "a"
        term = {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
        anti = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": term}]}}
        first, second = unique("web"), unique("web")
        core.create_namespaced_pod("default", _labelled(first, {"app": "web"}, affinity=anti))
        assert _node_of(core, first) == "a"
        core.create_namespaced_pod("default", _labelled(second, {"app": "web"}, affinity=anti))
        assert _node_of(core, second) == "b"


def test_preferred_pod_affinity_co_locates() -> None:
    with own_cluster_core([{"name": "a"}, {"name": "b"}]) as core:
        cache = unique("cache")
        core.create_namespaced_pod("default", _labelled(cache, {"app": "cache"}, nodeName="b"))
        _preload(core, "b", 2)
        near = {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "podAffinityTerm": {
            "labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}}]}}
        name = unique("app")
        core.create_namespaced_pod("default", pod(name, affinity=near))
        assert _node_of(core, name) == "b"  # the busier node, for its cache


def test_existing_pods_required_affinity_draws_the_pod_it_selects() -> None:
    """hardPodAffinityWeight: a running pod's required affinity term that selects the incoming pod counts
    for the incoming pod too."""
    with own_cluster_core([{"name": "a"}, {"name": "b"}]) as core:
        needs_db = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}]}}
        core.create_namespaced_pod("default", pod(unique("client"), nodeName="b", affinity=needs_db))
        db = unique("db")
        core.create_namespaced_pod("default", _labelled(db, {"app": "db"}))
        assert _node_of(core, db) == "b"


def test_schedule_anyway_spread_balances_zones() -> None:
    nodes = [{"name": "a-nozone"}, {"name": "za-1", "labels": {"zone": "a"}},
             {"name": "za-2", "labels": {"zone": "a"}}, {"name": "zb-1", "labels": {"zone": "b"}}]
    spread = [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
               "labelSelector": {"matchLabels": {"app": "s"}}}]
    with own_cluster_core(nodes) as core:
        names = [unique("s") for _ in range(4)]
        placed = []
        for name in names:
            core.create_namespaced_pod("default", _labelled(name, {"app": "s"}, topologySpreadConstraints=spread))
            placed.append(_node_of(core, name))
        # the node without the key scores 0 for spreading, and zones alternate
        assert placed == ["za-1", "zb-1", "za-2", "zb-1"]


@contextlib.contextmanager
def _cluster_apis(nodes: list[dict[str, Any]]) -> Iterator[tuple[client.CoreV1Api, client.AppsV1Api]]:
    with Cluster(nodes=nodes) as cluster:
        api = cluster.api_client()
        try:
            yield client.CoreV1Api(api), client.AppsV1Api(api)
        finally:
            api.close()


def test_system_default_spreading_spreads_a_deployment() -> None:
    """Pods without constraints of their own are spread by hostname (maxSkew 3) over the nodes, with the
    selector of the ReplicaSet that owns them; LeastAllocated alone would put all four on node "a"."""
    with _cluster_apis([{"name": "a"}, {"name": "b"}]) as (core, apps):
        _preload(core, "b", 3)
        name = unique("web")
        template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        apps.create_namespaced_deployment("default", {"metadata": {"name": name}, "spec": {
            "replicas": 4, "selector": {"matchLabels": {"app": name}}, "template": template}})

        def spread() -> list[str]:
            pods = core.list_namespaced_pod("default", label_selector=f"app={name}").items
            assert len(pods) == 4 and all(p.spec.node_name for p in pods)
            return sorted(p.spec.node_name for p in pods)

        assert eventually(spread, timeout=20) == ["a", "a", "b", "b"]


def test_least_allocated_prefers_the_emptier_node() -> None:
    with own_cluster_core([{"name": "a"}, {"name": "b"}]) as core:
        big = pod(unique("big"), nodeName="a")
        big["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "1"}}
        core.create_namespaced_pod("default", big)
        name = unique("small")
        core.create_namespaced_pod("default", pod(name))
        assert _node_of(core, name) == "b"


# --- the score functions on numbers worked out by hand -----------------------------------------------


def _node(name: str, labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None,
          cpu: str = "2", memory: str = "8Gi") -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or []}, "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"}}}


def _running(name: str, node: str, labels: dict[str, str] | None = None, namespace: str = "default",
             **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "uid": name, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [{"name": "c"}], **spec}}


def test_default_normalize_score() -> None:
    assert default_normalize([0, 1, 3], reverse=True) == [100, 67, 0]  # 100*1/3 = 33, reversed 67
    assert default_normalize([2, 5], reverse=False) == [40, 100]
    assert default_normalize([0, 0], reverse=True) == [100, 100]
    assert default_normalize([0, 0], reverse=False) == [0, 0]


def test_taint_toleration_counts_prefer_no_schedule_taints() -> None:
    prefer = {"effect": "PreferNoSchedule"}
    nodes = [_node("n1"), _node("n2", taints=[{"key": "k", "value": "v", **prefer}]),
             _node("n3", taints=[{"key": "k", "value": "v", **prefer}, {"key": "j", **prefer},
                                 {"key": "hard", "effect": "NoSchedule"}])]
    assert taint_toleration_scores(_running("p", ""), nodes) == [100, 50, 0]  # counts 0, 1, 2
    tolerant = _running("p", "", tolerations=[{"key": "k", "operator": "Exists", "effect": "PreferNoSchedule"}])
    assert taint_toleration_scores(tolerant, nodes) == [100, 100, 0]  # counts 0, 0, 1
    other_effect = _running("p", "", tolerations=[{"key": "k", "operator": "Exists", "effect": "NoSchedule"}])
    assert taint_toleration_scores(other_effect, nodes) == [100, 50, 0]


def test_node_affinity_sums_matching_weights() -> None:
    preferred = [
        {"weight": 20, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
        {"weight": 5, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}},
        {"weight": 0, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}},
        {"weight": 50, "preference": {}},  # an empty term matches nothing
    ]
    p = _running("p", "", affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}})
    nodes = [_node("n1", {"disk": "ssd", "zone": "a"}), _node("n2", {"disk": "ssd"}), _node("n3", {"zone": "a"}),
             _node("n4")]
    assert node_affinity_scores(p, nodes) == [100, 80, 20, 0]  # 25, 20, 5, 0 scaled by 100/25
    assert node_affinity_scores(_running("q", ""), nodes) == [0, 0, 0, 0]


def test_schedule_anyway_spread_score() -> None:
    """Zone constraint, maxSkew 2: zone a holds 3 matching pods, b 1, c 0 (a pod in another namespace, a
    terminating one and one on the node without the key do not count). 3 domains: weight log(5) = 1.609;
    raw a = round(3*1.609 + 1) = 6, b = round(2.609) = 3, c = 1; normalized 100*(6+1-s)/6."""
    constraint = {"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
                  "labelSelector": {"matchLabels": {"app": "s"}}}
    incoming = _running("in", "", {"app": "s"}, topologySpreadConstraints=[constraint])
    nodes = [_node("a1", {"zone": "a"}), _node("a2", {"zone": "a"}), _node("b1", {"zone": "b"}),
             _node("c1", {"zone": "c"}), _node("x")]
    s = {"app": "s"}
    assigned = [_running("p1", "a1", s), _running("p2", "a1", s), _running("p3", "a2", s),
                _running("p4", "a2", {"app": "t"}), _running("p5", "a2", s, namespace="other"),
                _running("p6", "b1", s), _running("p7", "x", s), _running("p8", "x", s)]
    terminating = _running("p9", "b1", s)
    terminating["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    assigned.append(terminating)
    assert SpreadScore(incoming, nodes, nodes, assigned, None).scores() == [16, 16, 66, 100, 0]


def test_system_default_spread_score() -> None:
    """No constraints of its own: hostname maxSkew 3 and zone maxSkew 5 with the default selector. Node n3
    has no zone, so it is not ignored but skips the zone constraint. Hostname: 3 nodes, weight log(5);
    zone: domains "a" and "" (n3's), weight log(4). Matching pods: n1 2, n2 0, n3 1.
    n1 = round(2*log5 + 2 + 2*log4 + 4) = round(11.99) = 12, n2 = round(2 + 6.77) = 9,
    n3 = round(log5 + 2) = 4; normalized 100*(12+4-s)/12 = 33, 58, 100."""
    nodes = [_node("n1", {"topology.kubernetes.io/zone": "a"}), _node("n2", {"topology.kubernetes.io/zone": "a"}),
             _node("n3")]
    d = {"app": "d"}
    assigned = [_running("p1", "n1", d), _running("p2", "n1", d), _running("p3", "n3", d),
                _running("p4", "n2", {"app": "e"})]
    selector = label_selector_from_dict({"matchLabels": d})
    assert SpreadScore(_running("in", "", d), nodes, nodes, assigned, selector).scores() == [33, 58, 100]
    # without Services or controllers that select the pod there is nothing to spread
    assert SpreadScore(_running("in", "", d), nodes, nodes, assigned, label_selector_from_dict({})).scores() == [
        0, 0, 0]


def test_normalize_spread() -> None:
    assert normalize_spread([None, 0, 0]) == [0, 100, 100]  # the highest is 0: every scored node gets 100
    assert normalize_spread([6, 3, None, 1]) == [16, 66, 0, 100]


def test_go_rounding() -> None:
    assert [_go_round(x) for x in (2.5, 3.5, 0.49999999999999994, 4.4)] == [3, 4, 0, 4]
    assert _go_round(2 + math.log(4)) == 3


def test_least_allocated() -> None:
    assert least_allocated((700, GI), (2000, 8 * GI)) == 76  # cpu 1300*100/2000 = 65, memory 87.5 -> 87
    assert least_allocated((2500, 0), (2000, 8 * GI)) == 50  # more than the node has scores 0
    assert least_allocated((100, 4 * GI), (0, 8 * GI)) == 50  # a resource the node lacks is not averaged


def test_balanced_allocation() -> None:
    assert balanced_allocation((1000, 2 * GI), (2000, 8 * GI)) == 87  # fractions 0.5, 0.25: std 0.125
    assert balanced_allocation((3000, 4 * GI), (2000, 8 * GI)) == 75  # cpu capped at 1: std 0.25


def test_resource_scores_use_non_zero_requests() -> None:
    """A running pod without requests counts 100m/200Mi for LeastAllocated and nothing for the balance; the
    incoming pod asks 500m and no memory (200Mi for LeastAllocated). LeastAllocated: cpu 600m -> 70,
    memory 400Mi of 8Gi -> 95, average 82. Balanced: cpu 0.25, memory 0 -> std 0.125 -> 87."""
    incoming = _running("in", "")
    incoming["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "500m"}}
    assert resource_scores(incoming, [_node("n")], [_running("p", "n")]) == ([82], [87])
    # a pod that requests nothing is not scored for the balance (issue 129138): 200m -> 90, 400Mi -> 95
    assert resource_scores(_running("be", ""), [_node("n")], [_running("p", "n")]) == ([92], [0])


def test_inter_pod_affinity_score() -> None:
    """The incoming web pod prefers away from web pods by hostname (50) and towards db pods by zone (10); a
    db pod prefers away from web pods by zone (30); a cache pod requires web pods on its host (weight 1).
    Domains: host n1 -50, zone a +10 - 30, host n3 +1. Raw: n1 -70, n2 -20, n3 1, n4 0; min-max
    normalized over 71: 0, int(100*50/71) = 70, 100, int(100*70/71) = 98."""
    incoming = _running("in", "", {"app": "web"}, affinity={
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "podAffinityTerm": {
            "labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}}]},
        "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "podAffinityTerm": {
            "labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}}]}})
    db = _running("db", "n2", {"app": "db"}, affinity={"podAntiAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 30, "podAffinityTerm": {
            "labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "zone"}}]}})
    cache = _running("cache", "n3", {"app": "cache"}, affinity={"podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}})
    nodes = [_node("n1", {"zone": "a"}), _node("n2", {"zone": "a"}), _node("n3", {"zone": "b"}),
             _node("n4", {"zone": "b"})]
    assigned = [_running("web", "n1", {"app": "web"}), db, cache]
    scorer = InterPodAffinity(None, incoming, nodes, assigned)  # type: ignore[arg-type]  # no namespaces read
    assert scorer.scores(assigned, nodes) == [0, 70, 100, 98]
    assert normalize_min_max([5, 5]) == [0, 0]
    plain = InterPodAffinity(None, _running("x", ""), nodes, [])  # type: ignore[arg-type]
    assert plain.scores([], nodes) == [0, 0, 0, 0]


class _Store:
    def __init__(self, objects: dict[str, list[dict[str, Any]]]) -> None:
        self.objects = objects

    def list(self, resource: str, namespace: str | None = None) -> tuple[list[dict[str, Any]], int]:
        return [o for o in self.objects.get(resource, []) if o["metadata"]["namespace"] == namespace], 1

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return next((o for o in self.objects.get(resource, [])
                     if (o["metadata"]["namespace"], o["metadata"]["name"]) == (namespace, name)), None)


class _Registry:
    def __init__(self, objects: dict[str, list[dict[str, Any]]]) -> None:
        self.store = _Store(objects)


def test_default_selector_merges_services_and_the_owner() -> None:
    def obj(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}

    registry = _Registry({
        "services": [obj("web", {"selector": {"app": "web"}}), obj("other", {"selector": {"app": "x"}}),
                     obj("headless", {})],
        "replicasets.apps": [obj("web-1", {"selector": {"matchLabels": {"pod-template-hash": "1"},
                                                        "matchExpressions": [{"key": "tier", "operator": "Exists"}]}})],
    })
    p = _running("p", "", {"app": "web", "pod-template-hash": "1", "tier": "front"})
    assert str(default_selector(registry, p)) == "app=web"  # type: ignore[arg-type]
    p["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1",
                                         "controller": True, "uid": "u"}]
    assert str(default_selector(registry, p)) == "app=web,pod-template-hash=1,tier"  # type: ignore[arg-type]
    alone = _running("q", "", {"app": "none"})
    assert default_selector(registry, alone).empty  # type: ignore[arg-type]


def test_ties_go_to_the_first_node_by_name() -> None:
    assert best_node({"b": 300, "a": 300, "c": 299}) == "a"
    assert best_node({"b": 301, "a": 300}) == "b"
