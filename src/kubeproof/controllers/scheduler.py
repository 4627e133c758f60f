"""The scheduler: binds pending pods to a node that fits, as kube-scheduler's default profile does for
the filters a test meets (NodeUnschedulable, TaintToleration for NoSchedule/NoExecute taints,
NodeAffinity: ``nodeSelector`` and required node affinity, NodeResourcesFit: the pod's requests against
the node's allocatable less what its other pods request, and its pod count, PodTopologySpread: the
``DoNotSchedule`` constraints, InterPodAffinity: required pod affinity and anti-affinity terms, both ways),
spreading pods over the fitting nodes.

A pod that fits nowhere gets ``PodScheduled=False`` (reason ``Unschedulable``) with kube-scheduler's
message and a ``FailedScheduling`` event, and is retried when a node changes or a pod goes. A pod with
``schedulingGates`` waits with reason ``SchedulingGated``. Pods naming another ``schedulerName`` are left
alone (a test's own scheduler can bind them through ``pods/binding``).
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from typing import Any

from kubeproof.controllers.base import Controller
from kubeproof.controllers.events import NORMAL, WARNING, record_event
from kubeproof.server import errors
from kubeproof.server.registry.binding import bind_pod
from kubeproof.server.registry.generic import Registry, deep_copy, now_rfc3339
from kubeproof.server.selectors import label_selector_from_dict
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
    fields = {"metadata.name": str((node.get("metadata") or {}).get("name") or "")}
    for term in terms:
        exprs = term.get("matchExpressions") or []
        field_exprs = term.get("matchFields") or []
        if not exprs and not field_exprs:
            continue  # an empty term matches nothing
        if all(_expression_matches(e, labels) for e in exprs) and all(
                _expression_matches(e, fields) for e in field_exprs):
            return True
    return False


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


def pod_requests(pod: Obj) -> dict[str, Decimal]:
    """``resourcehelper.PodRequests``: the containers' sum, or the largest init step if larger (sidecars,
    init containers with ``restartPolicy: Always``, run beside the later steps and the containers), plus
    the pod's overhead."""
    spec = pod.get("spec") or {}
    total: dict[str, Decimal] = {}
    for container in spec.get("containers") or []:
        _add(total, _requests((container or {}).get("resources")))
    sidecars: dict[str, Decimal] = {}
    init_peak: dict[str, Decimal] = {}
    for container in spec.get("initContainers") or []:
        step = _requests((container or {}).get("resources"))
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
            eligible = {name: node for name, node in by_node.items() if self._eligible(constraint, pod, node)}
            counts = {str(node["metadata"]["labels"][key]): 0 for node in eligible.values()}
            for other in pods:
                host = eligible.get(other["spec"]["nodeName"])
                if host is not None and _selects(selector, other["metadata"].get("labels") or {}):
                    counts[str(host["metadata"]["labels"][key])] += 1
            self.counts.append(counts)
            self.self_match.append(_selects(selector, labels))

    @staticmethod
    def _eligible(constraint: Obj, pod: Obj, node: Obj) -> bool:
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
        # the fitting node with the fewest pods, then by name: kube-scheduler's balanced spreading, roughly
        node_name = min((str(n["metadata"]["name"]) for n in fitting), key=lambda n: (usage.get(n, ({}, 0))[1], n))
        try:
            bound = bind_pod(self.registry, namespace, name, node_name, uid=pod["metadata"]["uid"])
        except errors.StatusError as exc:
            if exc.code in (404, 409):
                return False
            raise
        record_event(self.registry, bound, NORMAL, "Scheduled",
                     f"Successfully assigned {namespace}/{name} to {node_name}", DEFAULT_SCHEDULER)
        return False

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
