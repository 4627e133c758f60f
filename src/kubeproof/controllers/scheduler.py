"""The scheduler: binds pending pods to a node that fits, as kube-scheduler's default profile does for
the filters a test meets (NodeUnschedulable, TaintToleration for NoSchedule/NoExecute taints,
NodeAffinity: ``nodeSelector`` and required node affinity, NodeResourcesFit: the pod's requests against
the node's allocatable less what its other pods request, and its pod count, PodTopologySpread: the
``DoNotSchedule`` constraints, InterPodAffinity: required pod affinity and anti-affinity terms, both ways).
Among the nodes that fit it binds to the one with the highest weighted score of the default profile's score
plugins (TaintToleration 3, NodeAffinity 2, PodTopologySpread 2 with the system default spreading,
InterPodAffinity 2, NodeResourcesFit's LeastAllocated 1, NodeResourcesBalancedAllocation 1; ImageLocality is
left out, simulated nodes having no images), each computed as ``pkg/scheduler/framework/plugins`` does; equal
best nodes go to the first by name where kube-scheduler draws at random.

A pod that fits nowhere gets ``PodScheduled=False`` (reason ``Unschedulable``) with kube-scheduler's
message and a ``FailedScheduling`` event, and is retried when a node changes or a pod goes. A pod with
``schedulingGates`` waits with reason ``SchedulingGated``. Pods naming another ``schedulerName`` are left
alone (a test's own scheduler can bind them through ``pods/binding``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from decimal import Decimal
from typing import Any, NamedTuple

from kubeproof.controllers.base import Controller
from kubeproof.controllers.events import NORMAL, WARNING, record_event
from kubeproof.server import errors
from kubeproof.server.registry.binding import bind_pod
from kubeproof.server.registry.generic import Registry, deep_copy, now_rfc3339
from kubeproof.server.selectors import EQUALS, LabelRequirement, LabelSelector, label_selector_from_dict
from kubeproof.server.store import Event
from kubeproof.server.validation.kinds import parse_quantity

Obj = dict[str, Any]

DEFAULT_SCHEDULER = "default-scheduler"

UNSCHEDULABLE = "node(s) were unschedulable"
AFFINITY = "node(s) didn't match Pod's node affinity/selector"
NO_NODES = "no nodes available to schedule pods"


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    """``Toleration.ToleratesTaint``."""
    for tol in tolerations:
        effect = tol.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key = tol.get("key") or ""
        operator = tol.get("operator") or "Equal"
        if key and key != taint.get("key"):
            continue
        if operator == "Exists":
            return True
        if operator == "Equal" and key and (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _expression_matches(expr: Obj, labels: dict[str, str]) -> bool:
    key, op = str(expr.get("key") or ""), expr.get("operator")
    values = [str(v) for v in expr.get("values") or []]
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and len(values) == 1:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def matches_affinity(pod: Obj, node: Obj) -> bool:
    """``nodeSelector`` and ``requiredDuringSchedulingIgnoredDuringExecution`` (terms ORed)."""
    spec = pod.get("spec") or {}
    labels = {str(k): str(v) for k, v in ((node.get("metadata") or {}).get("labels") or {}).items()}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms")
    if not terms:
        return True
    return any(_node_term_matches(term, node) for term in terms)


def _node_term_matches(term: Any, node: Obj) -> bool:
    """One ``NodeSelectorTerm``: its ``matchExpressions`` on the labels and ``matchFields`` on
    ``metadata.name``, ANDed; an empty term matches nothing."""
    if not isinstance(term, dict):
        return False
    exprs = term.get("matchExpressions") or []
    field_exprs = term.get("matchFields") or []
    if not exprs and not field_exprs:
        return False
    labels = {str(k): str(v) for k, v in ((node.get("metadata") or {}).get("labels") or {}).items()}
    fields = {"metadata.name": str((node.get("metadata") or {}).get("name") or "")}
    return all(_expression_matches(e, labels) for e in exprs) and all(
        _expression_matches(e, fields) for e in field_exprs)


def filter_node(pod: Obj, node: Obj) -> str | None:
    """Why ``node`` cannot take ``pod`` (kube-scheduler's reason), or None when it fits."""
    spec = pod.get("spec") or {}
    tolerations = list(spec.get("tolerations") or [])
    node_spec = node.get("spec") or {}
    if node_spec.get("unschedulable") and not tolerates(
            tolerations, {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}):
        return UNSCHEDULABLE
    for taint in node_spec.get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not tolerates(tolerations, taint):
            return f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"
    if not matches_affinity(pod, node):
        return AFFINITY
    return None


def fit_error(total: int, reasons: dict[str, int], resolvable: int = 0) -> str:
    """``FitError.Error()``: reasons counted, sorted, then the preemption post-filter's verdict.

    ``resolvable`` nodes failed for a reason preemption could resolve (resources, topology skew,
    anti-affinity): it looks there for victims and finds none (every pod here has the same priority); on
    the others it is not helpful."""
    if total == 0:
        return NO_NODES
    listed = sorted(f"{count} {reason}" for reason, count in reasons.items())
    verdicts = {NO_VICTIMS: resolvable, NOT_HELPFUL: total - resolvable}
    preemption = sorted(f"{count} {verdict}" for verdict, count in verdicts.items() if count)
    return (f"0/{total} nodes are available: {', '.join(listed)}. preemption: 0/{total} nodes are available: "
            f"{', '.join(preemption)}.")


NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
#: The resources NodeResourcesFit names first, in its order; scalar resources (extended, hugepages) follow.
BASIC_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def _requests(resources: Any) -> dict[str, Decimal]:
    requests = resources.get("requests") if isinstance(resources, dict) else None
    out: dict[str, Decimal] = {}
    for name, value in (requests or {}).items():
        quantity = parse_quantity(value)
        if quantity is not None:
            out[str(name)] = quantity
    return out


def _add(into: dict[str, Decimal], more: dict[str, Decimal]) -> None:
    for name, value in more.items():
        into[name] = into.get(name, Decimal(0)) + value


def _container_requests(container: Any, defaults: dict[str, Decimal] | None) -> dict[str, Decimal]:
    """A container's requests; ``defaults`` (``NonMissingContainerRequests``) fill the ones it leaves out."""
    requests = _requests((container or {}).get("resources"))
    for name, value in (defaults or {}).items():
        requests.setdefault(name, value)
    return requests


def pod_requests(pod: Obj, defaults: dict[str, Decimal] | None = None) -> dict[str, Decimal]:
    """``resourcehelper.PodRequests``: the containers' sum, or the largest init step if larger (sidecars,
    init containers with ``restartPolicy: Always``, run beside the later steps and the containers), plus
    the pod's overhead. ``defaults`` stand in for what a container does not request."""
    spec = pod.get("spec") or {}
    total: dict[str, Decimal] = {}
    for container in spec.get("containers") or []:
        _add(total, _container_requests(container, defaults))
    sidecars: dict[str, Decimal] = {}
    init_peak: dict[str, Decimal] = {}
    for container in spec.get("initContainers") or []:
        step = _container_requests(container, defaults)
        if (container or {}).get("restartPolicy") == "Always":
            _add(total, step)
            _add(sidecars, step)
            step = dict(sidecars)
        else:
            _add(step, sidecars)
        for name, value in step.items():
            init_peak[name] = max(init_peak.get(name, Decimal(0)), value)
    for name, value in init_peak.items():
        total[name] = max(total.get(name, Decimal(0)), value)
    overhead = spec.get("overhead")
    if isinstance(overhead, dict):
        _add(total, _requests({"requests": overhead}))
    return total


def insufficient(wanted: dict[str, Decimal], node: Obj, used: dict[str, Decimal], pods: int) -> list[str]:
    """``noderesources.fitsRequest``: the reasons the node cannot take the pod's requests, in its order."""
    allocatable = _requests({"requests": (node.get("status") or {}).get("allocatable") or {}})
    reasons = []
    if pods + 1 > int(allocatable.get("pods", Decimal(0))):
        reasons.append("Too many pods")
    names = [*BASIC_RESOURCES, *sorted(n for n in wanted if n not in BASIC_RESOURCES and n != "pods")]
    for name in names:
        amount = wanted.get(name, Decimal(0))
        if amount > 0 and amount > allocatable.get(name, Decimal(0)) - used.get(name, Decimal(0)):
            reasons.append(f"Insufficient {name}")
    return reasons


AFFINITY_RULES = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_RULES = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"


def _selects(selector: Any, labels: dict[str, str]) -> bool:
    """``LabelSelectorAsSelector`` as affinity terms use it: a missing selector matches nothing, an empty
    one everything, an invalid one nothing."""
    if not isinstance(selector, dict):
        return False
    try:
        return bool(label_selector_from_dict(selector).matches(labels))
    except errors.StatusError:
        return False


def _required_terms(pod: Obj, kind: str) -> list[Obj]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    return [t for t in affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or [] if isinstance(t, dict)]


class InterPodAffinity:
    """The InterPodAffinity filter for one pod (required terms only): the pod's affinity needs, in the
    candidate node's topology domain, existing pods that match all its affinity terms (or, for the first
    of a group, none anywhere and the pod matching its own terms); its anti-affinity forbids domains with
    a matching pod; and an existing pod's anti-affinity that matches this pod forbids that pod's domain."""

    def __init__(self, registry: Registry, pod: Obj, nodes: list[Obj], assigned: list[Obj]) -> None:
        self.pod = pod
        self.affinity = _required_terms(pod, "podAffinity")
        self.anti = _required_terms(pod, "podAntiAffinity")
        self.labels_of = {str(n["metadata"]["name"]): (n["metadata"].get("labels") or {}) for n in nodes}
        self.affinity_counts: dict[tuple[str, str], int] = {}
        self.anti_counts: dict[tuple[str, str], int] = {}
        self.existing_anti_counts: dict[tuple[str, str], int] = {}
        self._namespace_labels: dict[str, dict[str, str]] | None = None
        self.registry = registry
        for other in assigned:
            node = other["spec"]["nodeName"]
            if node not in self.labels_of:
                continue
            node_labels = self.labels_of[node]
            if self.affinity and all(self._matches(t, pod, other) for t in self.affinity):
                for term in self.affinity:
                    self._count(self.affinity_counts, term, node_labels)
            for term in self.anti:
                if self._matches(term, pod, other):
                    self._count(self.anti_counts, term, node_labels)
            for term in _required_terms(other, "podAntiAffinity"):
                if self._matches(term, other, pod):
                    self._count(self.existing_anti_counts, term, node_labels)

    @staticmethod
    def _count(counts: dict[tuple[str, str], int], term: Obj, node_labels: dict[str, str]) -> None:
        key = str(term.get("topologyKey") or "")
        if key in node_labels:
            pair = (key, str(node_labels[key]))
            counts[pair] = counts.get(pair, 0) + 1

    def _matches(self, term: Obj, owner: Obj, target: Obj) -> bool:
        """Whether ``term`` (of ``owner``) selects ``target``: its labels, and its namespace through
        ``namespaces``/``namespaceSelector`` (neither: the owner's namespace)."""
        target_ns = target["metadata"].get("namespace")
        namespaces = term.get("namespaces") or []
        ns_selector = term.get("namespaceSelector")
        if namespaces or ns_selector is not None:
            in_list = target_ns in namespaces
            by_selector = _selects(ns_selector, self._namespaces().get(str(target_ns), {}))
            if not (in_list or by_selector):
                return False
        elif target_ns != owner["metadata"].get("namespace"):
            return False
        return _selects(term.get("labelSelector"), target["metadata"].get("labels") or {})

    def _namespaces(self) -> dict[str, dict[str, str]]:
        if self._namespace_labels is None:
            self._namespace_labels = {str(n["metadata"]["name"]): (n["metadata"].get("labels") or {})
                                      for n in self.registry.store.list("namespaces")[0]}
        return self._namespace_labels

    def filter(self, node: Obj) -> str | None:
        labels = self.labels_of.get(str(node["metadata"]["name"]), {})
        if self.affinity and not self._affinity_ok(labels):
            return AFFINITY_RULES
        for term in self.anti:
            key = str(term.get("topologyKey") or "")
            if key in labels and self.anti_counts.get((key, str(labels[key])), 0) > 0:
                return ANTI_AFFINITY_RULES
        for key, value in labels.items():
            if self.existing_anti_counts.get((key, str(value)), 0) > 0:
                return EXISTING_ANTI_AFFINITY
        return None

    def _affinity_ok(self, labels: dict[str, str]) -> bool:
        found = True
        for term in self.affinity:
            key = str(term.get("topologyKey") or "")
            if key not in labels:
                return False  # every topology key must be on the node
            if self.affinity_counts.get((key, str(labels[key])), 0) <= 0:
                found = False
        if found:
            return True
        # the first pod of a group with affinity to itself
        return not self.affinity_counts and all(self._matches(t, self.pod, self.pod) for t in self.affinity)

    def scores(self, assigned: list[Obj], fitting: list[Obj]) -> list[int]:
        """The InterPodAffinity score of each fitting node (``scoring.go``): the weights summed per
        topology domain, then scaled from the lowest to the highest raw score onto 0..100."""
        domains = self._domain_weights(assigned)
        if not domains:
            return [0] * len(fitting)  # PreScore returns Skip: no term matched anywhere
        raw = [sum(domains.get((str(k), str(v)), 0) for k, v in self.labels_of.get(
            str(node["metadata"]["name"]), {}).items()) for node in fitting]
        return normalize_min_max(raw)

    def _domain_weights(self, assigned: list[Obj]) -> dict[tuple[str, str], int]:
        """``processExistingPod`` for every running pod: the weight each (topologyKey, value) domain
        earns, from this pod's preferred terms and the pod's own terms that select this pod."""
        weights: dict[tuple[str, str], int] = {}
        mine = _weighted_terms(self.pod, "podAffinity")
        my_anti = _weighted_terms(self.pod, "podAntiAffinity")
        for other in assigned:
            node_labels = self.labels_of.get(other["spec"]["nodeName"])
            if not node_labels:
                continue  # a node without labels has no domain to credit
            hits = [(term, weight) for term, weight in mine if self._matches(term, self.pod, other)]
            hits += [(term, -weight) for term, weight in my_anti if self._matches(term, self.pod, other)]
            # the other pod's terms, looked at from its side: required affinity weighs hardPodAffinityWeight
            theirs = [(term, HARD_POD_AFFINITY_WEIGHT) for term in _required_terms(other, "podAffinity")]
            theirs += _weighted_terms(other, "podAffinity")
            theirs += [(term, -weight) for term, weight in _weighted_terms(other, "podAntiAffinity")]
            hits += [(term, weight) for term, weight in theirs if self._matches(term, other, self.pod)]
            for term, weight in hits:
                key = str(term.get("topologyKey") or "")
                if key in node_labels:
                    pair = (key, str(node_labels[key]))
                    weights[pair] = weights.get(pair, 0) + weight
        return weights


def _weighted_terms(pod: Obj, kind: str) -> list[tuple[Obj, int]]:
    """A pod's ``preferredDuringSchedulingIgnoredDuringExecution`` terms of ``kind`` with their weights."""
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    out = []
    for weighted in affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        if isinstance(weighted, dict) and isinstance(weighted.get("podAffinityTerm"), dict):
            out.append((weighted["podAffinityTerm"], int(weighted.get("weight") or 0)))
    return out


SPREAD = "node(s) didn't match pod topology spread constraints"
SPREAD_MISSING_LABEL = SPREAD + " (missing required label)"


class TopologySpread:
    """The PodTopologySpread filter for one pod's ``whenUnsatisfiable: DoNotSchedule`` constraints: placing
    it in a node's ``topologyKey`` domain may not make that domain's count of matching pods (in the pod's
    namespace) exceed the smallest domain's by more than ``maxSkew`` (the smallest counts as 0 while there
    are fewer domains than ``minDomains``). Domains are those of the nodes the pod's node selector and
    required node affinity allow (``nodeAffinityPolicy: Honor``) and, with ``nodeTaintsPolicy: Honor``,
    whose taints it tolerates; a node without the key is refused outright."""

    def __init__(self, pod: Obj, nodes: list[Obj], assigned: list[Obj]) -> None:
        spec = pod.get("spec") or {}
        self.constraints = [c for c in spec.get("topologySpreadConstraints") or []
                            if isinstance(c, dict) and c.get("whenUnsatisfiable") == "DoNotSchedule"]
        self.self_match: list[bool] = []
        self.counts: list[dict[str, int]] = []
        if not self.constraints:
            return
        namespace = pod["metadata"].get("namespace")
        labels = pod["metadata"].get("labels") or {}
        keys = [str(c.get("topologyKey") or "") for c in self.constraints]
        by_node: dict[str, Obj] = {}
        for node in nodes:
            node_labels = node["metadata"].get("labels") or {}
            if all(k in node_labels for k in keys):
                by_node[str(node["metadata"]["name"])] = node
        pods = [p for p in assigned if p["metadata"].get("namespace") == namespace and p["spec"]["nodeName"] in by_node]
        for constraint, key in zip(self.constraints, keys, strict=True):
            selector = constraint.get("labelSelector")
            eligible = {name: node for name, node in by_node.items() if self.eligible(constraint, pod, node)}
            counts = {str(node["metadata"]["labels"][key]): 0 for node in eligible.values()}
            for other in pods:
                host = eligible.get(other["spec"]["nodeName"])
                if host is not None and _selects(selector, other["metadata"].get("labels") or {}):
                    counts[str(host["metadata"]["labels"][key])] += 1
            self.counts.append(counts)
            self.self_match.append(_selects(selector, labels))

    @staticmethod
    def eligible(constraint: Obj, pod: Obj, node: Obj) -> bool:
        """``matchNodeInclusionPolicies``: whether the node's pods count for the constraint."""
        if constraint.get("nodeAffinityPolicy", "Honor") == "Honor" and not matches_affinity(pod, node):
            return False
        if constraint.get("nodeTaintsPolicy", "Ignore") == "Honor":
            tolerations = list((pod.get("spec") or {}).get("tolerations") or [])
            for taint in (node.get("spec") or {}).get("taints") or []:
                if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
                    return False
        return True

    def filter(self, node: Obj) -> str | None:
        node_labels = node["metadata"].get("labels") or {}
        for i, constraint in enumerate(self.constraints):
            key = str(constraint.get("topologyKey") or "")
            if key not in node_labels:
                return SPREAD_MISSING_LABEL
            counts = self.counts[i]
            smallest = min(counts.values(), default=0)
            min_domains = constraint.get("minDomains")
            if min_domains is not None and len(counts) < int(min_domains):
                smallest = 0
            placed = counts.get(str(node_labels[key]), 0) + (1 if self.self_match[i] else 0)
            if placed - smallest > int(constraint.get("maxSkew") or 1):
                return SPREAD
        return None


def node_usage(assigned: list[Obj]) -> dict[str, tuple[dict[str, Decimal], int]]:
    """Per node: what its pods request, and how many there are."""
    usage: dict[str, tuple[dict[str, Decimal], int]] = {}
    for pod in assigned:
        used, count = usage.get(pod["spec"]["nodeName"], ({}, 0))
        _add(used, pod_requests(pod))
        usage[pod["spec"]["nodeName"]] = (used, count + 1)
    return usage


# --- scoring: among the nodes that pass the filters, kube-scheduler binds to the highest weighted sum ----

MAX_NODE_SCORE = 100
#: ``schedutil.DefaultMilliCPURequest`` (100m) and ``DefaultMemoryRequest`` (200 MiB): what LeastAllocated
#: counts for a container that requests no cpu or memory, so that pods without requests still spread.
NON_ZERO_DEFAULTS = {"cpu": Decimal("0.1"), "memory": Decimal(200 * 1024 * 1024)}
#: ``InterPodAffinityArgs.hardPodAffinityWeight``'s default.
HARD_POD_AFFINITY_WEIGHT = 1
HOSTNAME_KEY = "kubernetes.io/hostname"
ZONE_KEY = "topology.kubernetes.io/zone"
#: PodTopologySpread's ``systemDefaultConstraints``, for pods that declare no constraints of their own.
SYSTEM_DEFAULT_SPREAD = ({"maxSkew": 3, "topologyKey": HOSTNAME_KEY, "whenUnsatisfiable": "ScheduleAnyway"},
                         {"maxSkew": 5, "topologyKey": ZONE_KEY, "whenUnsatisfiable": "ScheduleAnyway"})
#: The default profile's score plugins and their weights (``apis/config/v1/default_plugins.go``).
#: ImageLocality (weight 1) is left out: simulated nodes report no images, so it would add 0 everywhere.
SCORE_WEIGHTS = {"TaintToleration": 3, "NodeAffinity": 2, "PodTopologySpread": 2, "InterPodAffinity": 2,
                 "NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1}


def _go_div(a: int, b: int) -> int:
    """Go's int64 division, which truncates toward zero (Python's ``//`` floors)."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def _go_round(x: float) -> int:
    """Go's ``math.Round``: halves away from zero (Python's ``round`` takes halves to even)."""
    whole = math.trunc(x)
    return whole + (int(math.copysign(1, x)) if abs(x - whole) >= 0.5 else 0)


def default_normalize(scores: list[int], reverse: bool) -> list[int]:
    """``helper.DefaultNormalizeScore(MaxNodeScore, reverse, scores)``: scale [0, max] onto [0, 100]."""
    top = max([0, *scores])
    if top == 0:
        return [MAX_NODE_SCORE] * len(scores) if reverse else list(scores)
    scaled = [_go_div(MAX_NODE_SCORE * score, top) for score in scores]
    return [MAX_NODE_SCORE - score for score in scaled] if reverse else scaled


def normalize_min_max(scores: list[int]) -> list[int]:
    """InterPodAffinity's ``NormalizeScore``: the lowest raw score becomes 0, the highest 100."""
    if not scores:
        return []
    low, spread = min(scores), max(scores) - min(scores)
    if spread <= 0:
        return [0] * len(scores)
    return [int(float(MAX_NODE_SCORE) * (float(score - low) / float(spread))) for score in scores]


def taint_toleration_scores(pod: Obj, fitting: list[Obj]) -> list[int]:
    """TaintToleration: fewer ``PreferNoSchedule`` taints the pod does not tolerate score higher."""
    tolerations = [t for t in (pod.get("spec") or {}).get("tolerations") or []
                   if isinstance(t, dict) and (t.get("effect") or "PreferNoSchedule") == "PreferNoSchedule"]
    counts = [sum(1 for taint in (node.get("spec") or {}).get("taints") or []
                  if taint.get("effect") == "PreferNoSchedule" and not tolerates(tolerations, taint))
              for node in fitting]
    return default_normalize(counts, reverse=True)


def node_affinity_scores(pod: Obj, fitting: list[Obj]) -> list[int]:
    """NodeAffinity: the weights of the pod's preferred node-affinity terms each node matches, scaled so
    the best node gets 100 (terms with weight 0 or no requirements are ignored)."""
    node_affinity = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
    preferred = [t for t in node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
                 if isinstance(t, dict) and int(t.get("weight") or 0)]
    if not preferred:
        return [0] * len(fitting)  # PreScore returns Skip
    raw = [sum(int(t["weight"]) for t in preferred if _node_term_matches(t.get("preference"), node))
           for node in fitting]
    return default_normalize(raw, reverse=False)


class SpreadScore:
    """PodTopologySpread's scoring (``podtopologyspread/scoring.go``). The pod's ``ScheduleAnyway``
    constraints, or, when it declares no constraints at all, the system defaults (hostname maxSkew 3,
    zone maxSkew 5) with ``default_selector`` (``helper.DefaultSelector``). A node's raw score adds, per
    constraint whose key it has, ``count * log(domains + 2) + maxSkew - 1``, where ``count`` is the
    matching pods (the pod's namespace, not terminating) in its domain; fewer is better. With the pod's own
    constraints a fitting node missing one of their keys scores 0; the system defaults skip, per node, the
    keys it lacks, so nodes without a zone still spread by hostname."""

    def __init__(self, pod: Obj, fitting: list[Obj], nodes: list[Obj], assigned: list[Obj],
                 default_selector: LabelSelector | None) -> None:
        self.pod, self.fitting, self.nodes = pod, fitting, nodes
        self.constraints: list[_SoftConstraint] = []
        declared = (pod.get("spec") or {}).get("topologySpreadConstraints") or []
        self.require_all_keys = bool(declared)  # only the system defaults tolerate nodes without a key
        if declared:
            self.constraints = [_SoftConstraint.of(c, _parsed_selector(c.get("labelSelector"))) for c in declared
                                if isinstance(c, dict) and c.get("whenUnsatisfiable") == "ScheduleAnyway"]
        elif default_selector is not None and not default_selector.empty:
            self.constraints = [_SoftConstraint.of(c, default_selector) for c in SYSTEM_DEFAULT_SPREAD]
        self.pods_on: dict[str, list[Obj]] = {}
        for other in assigned:
            self.pods_on.setdefault(str(other["spec"]["nodeName"]), []).append(other)

    def _has_keys(self, node: Obj) -> bool:
        labels = node["metadata"].get("labels") or {}
        return not self.require_all_keys or all(c.key in labels for c in self.constraints)

    def _count(self, node_name: str, selector: LabelSelector) -> int:
        """``countPodsMatchSelector``: the node's pods in the pod's namespace the selector matches,
        terminating ones left out."""
        namespace = self.pod["metadata"].get("namespace")
        return sum(1 for p in self.pods_on.get(node_name, [])
                   if p["metadata"].get("namespace") == namespace and not p["metadata"].get("deletionTimestamp")
                   and selector.matches(p["metadata"].get("labels") or {}))

    def _domain_counts(self, scored: list[Obj]) -> list[dict[str, int]]:
        """Per constraint (hostname aside, counted per node at scoring), the matching pods in each domain
        of the scored nodes, summed over all nodes the constraint's node inclusion policies admit."""
        counts: list[dict[str, int]] = [
            {} if c.key == HOSTNAME_KEY else {str(_labels(n).get(c.key, "")): 0 for n in scored}
            for c in self.constraints]
        for node in self.nodes:
            if not self._has_keys(node):
                continue
            for c, domains in zip(self.constraints, counts, strict=True):
                value = str(_labels(node).get(c.key, ""))
                if value in domains and TopologySpread.eligible(c.spec, self.pod, node):
                    domains[value] += self._count(str(node["metadata"]["name"]), c.selector)
        return counts

    def scores(self) -> list[int]:
        if not self.constraints:
            return [0] * len(self.fitting)  # PreScore returns Skip
        scored = [n for n in self.fitting if self._has_keys(n)]
        counts = self._domain_counts(scored)
        # topologyNormalizingWeight: log(domains + 2), the hostname's domains being the scored nodes
        weights = [math.log((len(scored) if c.key == HOSTNAME_KEY else len(domains)) + 2)
                   for c, domains in zip(self.constraints, counts, strict=True)]
        raw: list[int | None] = []
        for node in self.fitting:
            if not self._has_keys(node):
                raw.append(None)  # ignored: it scores 0 after normalizing
                continue
            labels, total = _labels(node), 0.0
            for c, domains, weight in zip(self.constraints, counts, weights, strict=True):
                if c.key not in labels:
                    continue  # a system default constraint on a key the node lacks
                count = (self._count(str(node["metadata"]["name"]), c.selector) if c.key == HOSTNAME_KEY
                         else domains[str(labels[c.key])])
                total += float(count) * weight + float(c.max_skew - 1)  # maxSkew-1 waters small skews down
            raw.append(_go_round(total))
        return normalize_spread(raw)


class _SoftConstraint(NamedTuple):
    key: str
    max_skew: int
    spec: Obj
    selector: LabelSelector

    @classmethod
    def of(cls, spec: Obj, selector: LabelSelector) -> _SoftConstraint:
        return cls(str(spec.get("topologyKey") or ""), int(spec.get("maxSkew") or 1), spec, selector)


def _labels(node: Obj) -> dict[str, Any]:
    return dict(node["metadata"].get("labels") or {})


def normalize_spread(raw: list[int | None]) -> list[int]:
    """PodTopologySpread's ``NormalizeScore``: ``100 * (max + min - score) / max`` over the scored nodes,
    100 for all when the highest is 0, and 0 for the ignored (None) ones."""
    present = [score for score in raw if score is not None]
    low, high = min(present, default=0), max([0, *present])
    out = []
    for score in raw:
        if score is None:
            out.append(0)
        elif high == 0:
            out.append(MAX_NODE_SCORE)
        else:
            out.append(_go_div(MAX_NODE_SCORE * (high + low - score), high))
    return out


def _parsed_selector(selector: Any) -> LabelSelector:
    """``LabelSelectorAsSelector``; an invalid selector (the API server refuses those) matches nothing."""
    try:
        return label_selector_from_dict(selector if isinstance(selector, dict) else None)
    except errors.StatusError:
        return LabelSelector.nothing()


def default_selector(registry: Registry, pod: Obj) -> LabelSelector:
    """``helper.DefaultSelector``: the selectors of the Services in the pod's namespace that select it,
    merged, plus the selector of the ReplicationController, ReplicaSet or StatefulSet that controls it."""
    namespace = str(pod["metadata"].get("namespace") or "")
    labels = {str(k): str(v) for k, v in (pod["metadata"].get("labels") or {}).items()}
    merged: dict[str, str] = {}
    for service in registry.store.list("services", namespace)[0]:
        selector = (service.get("spec") or {}).get("selector")
        if isinstance(selector, dict) and all(labels.get(str(k)) == str(v) for k, v in selector.items()):
            merged.update({str(k): str(v) for k, v in selector.items()})  # a nil selector matches nothing
    owner = next((ref for ref in pod["metadata"].get("ownerReferences") or [] if ref.get("controller")), None)
    extra: tuple[LabelRequirement, ...] = ()
    if owner is not None:
        kind = (owner.get("apiVersion"), owner.get("kind"))
        resource = {("v1", "ReplicationController"): "replicationcontrollers", ("apps/v1", "ReplicaSet"):
                    "replicasets.apps", ("apps/v1", "StatefulSet"): "statefulsets.apps"}.get(kind)
        controller = registry.store.get(resource, namespace, str(owner.get("name"))) if resource else None
        selector = ((controller or {}).get("spec") or {}).get("selector")
        if resource == "replicationcontrollers" and isinstance(selector, dict):
            merged.update({str(k): str(v) for k, v in selector.items()})
        elif controller is not None and isinstance(selector, dict):
            extra = _parsed_selector(selector).requirements
    return LabelSelector([*(LabelRequirement(k, EQUALS, (v,)) for k, v in merged.items()), *extra])


class Load(NamedTuple):
    """What a node's pods request, as NodeInfo keeps it: ``Requested`` and ``NonZeroRequested`` (each
    container's missing cpu/memory request counted as the defaults), cpu in millicores, memory in bytes."""

    cpu: int = 0
    memory: int = 0
    non_zero_cpu: int = 0
    non_zero_memory: int = 0


def _cpu_memory(requests: dict[str, Decimal]) -> tuple[int, int]:
    """cpu as ``Quantity.MilliValue`` and memory as ``Value`` (both round up)."""
    return math.ceil(requests.get("cpu", Decimal(0)) * 1000), math.ceil(requests.get("memory", Decimal(0)))


def node_loads(assigned: list[Obj]) -> dict[str, Load]:
    loads: dict[str, Load] = {}
    for pod in assigned:
        cpu, memory = _cpu_memory(pod_requests(pod))
        non_zero_cpu, non_zero_memory = _cpu_memory(pod_requests(pod, NON_ZERO_DEFAULTS))
        have = loads.get(pod["spec"]["nodeName"], Load())
        loads[pod["spec"]["nodeName"]] = Load(have.cpu + cpu, have.memory + memory, have.non_zero_cpu + non_zero_cpu,
                                              have.non_zero_memory + non_zero_memory)
    return loads


def least_allocated(requested: tuple[int, int], allocatable: tuple[int, int]) -> int:
    """NodeResourcesFit's LeastAllocated ``leastResourceScorer``, cpu and memory weighing 1 each: the
    share each leaves free, on 0..100, averaged; a resource the node lacks is not scored."""
    total = weights = 0
    for want, have in zip(requested, allocatable, strict=True):
        if have == 0:
            continue
        total += 0 if want > have else _go_div((have - want) * MAX_NODE_SCORE, have)
        weights += 1
    return _go_div(total, weights) if weights else 0


def balanced_allocation(requested: tuple[int, int], allocatable: tuple[int, int]) -> int:
    """NodeResourcesBalancedAllocation's ``balancedResourceScorer``: 100 * (1 - the standard deviation of
    the requested fractions of cpu and memory, each capped at 1)."""
    fractions = [min(float(want) / float(have), 1.0) for want, have in zip(requested, allocatable, strict=True)
                 if have != 0]
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) * (f - mean) for f in fractions) / len(fractions))
    return int((1 - std) * MAX_NODE_SCORE)


def resource_scores(pod: Obj, fitting: list[Obj], assigned: list[Obj]) -> tuple[list[int], list[int]]:
    """NodeResourcesFit (LeastAllocated on the non-zero requests) and NodeResourcesBalancedAllocation (on
    the requests as they are; it skips a pod that requests no cpu and no memory) for each fitting node."""
    loads = node_loads(assigned)
    non_zero = _cpu_memory(pod_requests(pod, NON_ZERO_DEFAULTS))
    exact = _cpu_memory(pod_requests(pod))
    least, balanced = [], []
    for node in fitting:
        allocatable = _cpu_memory(_requests({"requests": (node.get("status") or {}).get("allocatable") or {}}))
        load = loads.get(str(node["metadata"]["name"]), Load())
        least.append(least_allocated((load.non_zero_cpu + non_zero[0], load.non_zero_memory + non_zero[1]),
                                     allocatable))
        balanced.append(0 if exact == (0, 0) else balanced_allocation(
            (load.cpu + exact[0], load.memory + exact[1]), allocatable))
    return least, balanced


def score_nodes(pod: Obj, fitting: list[Obj], nodes: list[Obj], assigned: list[Obj], affinity: InterPodAffinity,
                spread_selector: LabelSelector | None) -> dict[str, int]:
    """Each fitting node's total: every score plugin's 0..100 score times its weight, summed."""
    least, balanced = resource_scores(pod, fitting, assigned)
    plugins = {
        "TaintToleration": taint_toleration_scores(pod, fitting),
        "NodeAffinity": node_affinity_scores(pod, fitting),
        "PodTopologySpread": SpreadScore(pod, fitting, nodes, assigned, spread_selector).scores(),
        "InterPodAffinity": affinity.scores(assigned, fitting),
        "NodeResourcesFit": least,
        "NodeResourcesBalancedAllocation": balanced,
    }
    return {str(node["metadata"]["name"]): sum(SCORE_WEIGHTS[name] * scores[i] for name, scores in plugins.items())
            for i, node in enumerate(fitting)}


def best_node(totals: dict[str, int]) -> str:
    """The highest total; kube-scheduler draws among equal best nodes at random, here the first by name
    wins so that runs repeat."""
    return min(totals, key=lambda name: (-totals[name], name))


def _ended(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class SchedulerController(Controller):
    name = "scheduler"

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        self.unschedulable: set[tuple[str, str]] = set()

    @staticmethod
    def _wants_scheduling(pod: Obj) -> bool:
        spec = pod.get("spec") or {}
        return (not spec.get("nodeName") and not pod["metadata"].get("deletionTimestamp")
                and (spec.get("schedulerName") or DEFAULT_SCHEDULER) == DEFAULT_SCHEDULER)

    def initial_keys(self) -> list[Hashable]:
        items, _ = self.registry.store.list("pods")
        return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in items if self._wants_scheduling(p)]

    def watches(self) -> frozenset[str] | None:
        return frozenset({"nodes", "pods"})

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == "nodes" and event.type != "DELETED":
            return list(self.unschedulable)
        if event.resource != "pods":
            return []
        if event.type == "DELETED":
            self.unschedulable.discard(event.key)
            if (event.obj.get("spec") or {}).get("nodeName"):
                return list(self.unschedulable)  # room freed: nothing changes for our filters, but cheap
            return []
        if self._wants_scheduling(event.obj):
            return [event.key]
        self.unschedulable.discard(event.key)
        if (event.obj.get("spec") or {}).get("nodeName") and _ended(event.obj) and not (
                event.prev is not None and _ended(event.prev)):
            return list(self.unschedulable)  # a pod that ended holds no resources any more
        if (event.obj.get("spec") or {}).get("nodeName") and not (
                event.prev is not None and (event.prev.get("spec") or {}).get("nodeName")):
            return list(self.unschedulable)  # a newly bound pod may be what a pod's affinity waits for
        return []

    def reconcile(self, key: Hashable) -> bool:
        assert isinstance(key, tuple)
        namespace, name = str(key[0]), str(key[1])
        pod = self.registry.store.get("pods", namespace, name)
        if pod is None or not self._wants_scheduling(pod):
            self.unschedulable.discard((namespace, name))
            return False
        if (pod.get("spec") or {}).get("schedulingGates"):
            self._set_unscheduled(pod, "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates")
            return False
        nodes, _ = self.registry.store.list("nodes")
        # the pods running on nodes (pods that ended hold nothing), read once for every filter
        assigned = [p for p in self.registry.store.list("pods")[0] if (p.get("spec") or {}).get("nodeName")
                    and not _ended(p) and p["metadata"]["uid"] != pod["metadata"]["uid"]]
        usage = node_usage(assigned)
        wanted = pod_requests(pod)
        spread = TopologySpread(pod, nodes, assigned)
        affinity = InterPodAffinity(self.registry, pod, nodes, assigned)

        def failures(node: Obj) -> tuple[list[str], bool]:
            """The filters in the default profile's order, stopping at the first that fails: its reasons,
            and whether preemption could resolve them."""
            why = filter_node(pod, node)
            if why is not None:
                return [why], False
            used, count = usage.get(str(node["metadata"]["name"]), ({}, 0))
            short = insufficient(wanted, node, used, count)
            if short:
                return short, True
            why = spread.filter(node) or affinity.filter(node)
            if why is not None:
                return [why], why not in (AFFINITY_RULES, SPREAD_MISSING_LABEL)
            return [], False

        reasons: dict[str, int] = {}
        fitting: list[Obj] = []
        resolvable = 0
        for node in nodes:
            whys, can_preempt = failures(node)
            if not whys:
                fitting.append(node)
                continue
            resolvable += can_preempt
            for reason in whys:
                reasons[reason] = reasons.get(reason, 0) + 1
        if not fitting:
            message = fit_error(len(nodes), reasons, resolvable)
            self.unschedulable.add((namespace, name))
            if self._set_unscheduled(pod, "Unschedulable", message):
                record_event(self.registry, pod, WARNING, "FailedScheduling", message, DEFAULT_SCHEDULER)
            return False
        self.unschedulable.discard((namespace, name))
        node_name = self._pick(pod, fitting, nodes, assigned, affinity)
        try:
            bound = bind_pod(self.registry, namespace, name, node_name, uid=pod["metadata"]["uid"])
        except errors.StatusError as exc:
            if exc.code in (404, 409):
                return False
            raise
        record_event(self.registry, bound, NORMAL, "Scheduled",
                     f"Successfully assigned {namespace}/{name} to {node_name}", DEFAULT_SCHEDULER)
        return False

    def _pick(self, pod: Obj, fitting: list[Obj], nodes: list[Obj], assigned: list[Obj],
              affinity: InterPodAffinity) -> str:
        """The fitting node with the highest weighted score; kube-scheduler does not score a lone one."""
        if len(fitting) == 1:
            return str(fitting[0]["metadata"]["name"])
        # the system default spreading needs the Services and controllers that select the pod
        selector = None if (pod.get("spec") or {}).get("topologySpreadConstraints") else default_selector(
            self.registry, pod)
        return best_node(score_nodes(pod, fitting, nodes, assigned, affinity, selector))

    def _set_unscheduled(self, pod: Obj, reason: str, message: str) -> bool:
        """Write ``PodScheduled=False``; False when it already says so."""
        status = pod.get("status") or {}
        conditions = list(status.get("conditions") or [])
        for cond in conditions:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and \
                    cond.get("reason") == reason and cond.get("message") == message:
                return False
        conditions = [c for c in conditions if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                           "lastTransitionTime": now_rfc3339(self.clock.now()), "reason": reason,
                           "message": message})
        updated = deep_copy(pod)
        updated.setdefault("status", {})["conditions"] = conditions
        try:
            self.registry.update(self.registry.resource("pods"), pod["metadata"]["namespace"],
                                 pod["metadata"]["name"], updated, subresource="status")
        except errors.StatusError as exc:
            if exc.code == 409:
                self.enqueue((pod["metadata"]["namespace"], pod["metadata"]["name"]))
                return False
            if exc.code != 404:
                raise
            return False
        return True


__all__ = ["SchedulerController", "filter_node", "fit_error", "insufficient", "matches_affinity", "node_usage",
           "pod_requests", "tolerates"]
