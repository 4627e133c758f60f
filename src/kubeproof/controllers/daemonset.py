"""The DaemonSet controller: one pod per eligible node.

After ``pkg/controller/daemon``: a node is eligible when the pod (with the tolerations the controller
adds to every daemon pod) passes the scheduler's node filter (nodeSelector, required node affinity,
taints). Each daemon pod pins its node through required node affinity on ``metadata.name`` (the
scheduler binds it), carries ``controller-revision-hash`` and ``pod-template-generation`` labels, and is
replaced under RollingUpdate at most ``maxUnavailable`` at a time once the others are available, or
with ``maxSurge`` a new pod starts beside the old one, which goes once the new one is available (OnDelete
leaves it to the user). Status reports the scheduled/misscheduled/ready/updated/available
counts that ``kubectl rollout status`` reads. Each template is kept as a ControllerRevision
``<ds>-<hash>`` (``kubectl rollout history|undo daemonset`` read them; an undone template becomes the
newest revision again), at most ``revisionHistoryLimit`` unused ones.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kubeproof.controllers import workloadutil as util
from kubeproof.controllers.deployment import compute_hash, scaled
from kubeproof.controllers.scheduler import filter_node
from kubeproof.server.registry.generic import deep_copy
from kubeproof.server.store import Event

Obj = dict[str, Any]
RESOURCE = "daemonsets.apps"
COMPONENT = "daemonset-controller"
REVISION_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
#: ``util.AddOrUpdateDaemonPodTolerations``: daemon pods survive node conditions and cordons.
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


def _node_of(pod: Obj) -> str:
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    terms = ((((spec.get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or [])
    for term in terms:
        for expr in term.get("matchFields") or []:
            if expr.get("key") == "metadata.name" and expr.get("operator") == "In" and expr.get("values"):
                return str(expr["values"][0])
    return ""


def _revision_of(pod: Obj) -> str | None:
    return (pod["metadata"].get("labels") or {}).get(REVISION_LABEL)


def _max_surge(ds: Obj, nodes: int) -> int:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0
    return scaled((strategy.get("rollingUpdate") or {}).get("maxSurge", 0), nodes, True)


def _extra_pods(running: list[Obj], revision: str, surging: bool) -> list[Obj]:
    """``podsShouldBeOnNode``: one pod per node, the oldest; while surging, the oldest of the current
    revision and the oldest of the others may both stay."""
    ordered = sorted(running, key=lambda p: p["metadata"].get("creationTimestamp") or "")
    if not surging:
        return ordered[1:]
    new = [p for p in ordered if _revision_of(p) == revision]
    old = [p for p in ordered if _revision_of(p) != revision]
    return new[1:] + old[1:]


class DaemonSetController(util.OwnerKeyedController):
    name = "daemonset"
    resource = RESOURCE
    owner_kind = "DaemonSet"

    def watches(self) -> frozenset[str] | None:
        return frozenset({*(super().watches() or ()), "nodes"})

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == "nodes":  # a node change can change where every DaemonSet runs
            return self.initial_keys()
        return super().keys_for(event)

    def _template_pod(self, ds: Obj, node: str, revision: str) -> Obj:
        spec = ds.get("spec") or {}
        pod = util.pod_from_template(ds, spec.get("template") or {}, generate_name=f"{ds['metadata']['name']}-")
        pod["metadata"]["labels"].update({REVISION_LABEL: revision,
                                          GENERATION_LABEL: str(ds["metadata"].get("generation", 1))})
        pspec = pod["spec"]
        tolerations = list(pspec.get("tolerations") or [])
        for tol in DAEMON_TOLERATIONS:
            if not any(t.get("key") == tol["key"] and t.get("effect") == tol["effect"] for t in tolerations):
                tolerations.append(dict(tol))
        pspec["tolerations"] = tolerations
        if node:
            affinity = pspec.setdefault("affinity", {})
            node_affinity = affinity.setdefault("nodeAffinity", {})
            node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
        return pod

    def _sync(self, ds: Obj) -> None:
        meta, spec = ds["metadata"], ds.get("spec") or {}
        namespace = meta["namespace"]
        candidates = self.registry.store.list("pods", namespace)[0]
        pods = util.claim(self.registry, "pods", ds, candidates, spec.get("selector"))
        if meta.get("deletionTimestamp"):
            return
        revision = compute_hash(spec.get("template") or {}, (ds.get("status") or {}).get("collisionCount"))
        history = self._snapshot(ds, revision)
        probe = self._template_pod(ds, "", revision)
        nodes = {n["metadata"]["name"]: n for n in self.registry.store.list("nodes")[0]}
        wanted = {name for name, node in nodes.items() if filter_node(probe, node) is None}
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            if util.is_active(pod):
                by_node.setdefault(_node_of(pod), []).append(pod)
            elif (pod.get("status") or {}).get("phase") == "Failed" and not pod["metadata"].get("deletionTimestamp"):
                self._delete(ds, pod)  # a failed daemon pod is replaced
        surging = _max_surge(ds, len(wanted)) > 0
        for node in sorted(wanted):
            running = by_node.get(node) or []
            if not running:
                self._create(ds, node, revision)
            for extra in _extra_pods(running, revision, surging):
                self._delete(ds, extra)
        for node, running in by_node.items():
            if node not in wanted:
                for pod in running:
                    self._delete(ds, pod)
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            self._rolling_update(ds, revision, wanted, strategy)
        self._status(ds, revision, wanted)
        in_use = {(p["metadata"].get("labels") or {}).get(REVISION_LABEL) for p in pods if util.is_active(p)}
        keep = {r["metadata"]["name"] for r in util.owned_revisions(self.registry, ds)
                if (r["metadata"].get("labels") or {}).get(REVISION_LABEL) in in_use}
        util.truncate_revisions(self.registry, ds, keep | ({history["metadata"]["name"]} if history else set()))

    def _snapshot(self, ds: Obj, hash_: str) -> Obj | None:
        """``constructHistory``/``snapshot``: the ControllerRevision ``<ds>-<hash>`` of the current template,
        labelled like its pods, with the DaemonSet's annotations (``kubectl rollout history`` shows their
        change-cause)."""
        data = util.template_patch(ds)
        template_labels = ((ds["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}

        def make(number: int) -> Obj:
            meta: Obj = {"name": f"{ds['metadata']['name']}-{hash_}", "namespace": ds["metadata"]["namespace"],
                         "labels": {**template_labels, REVISION_LABEL: hash_},
                         "ownerReferences": [util.owner_ref_to(ds)]}
            if ds["metadata"].get("annotations"):
                meta["annotations"] = dict(ds["metadata"]["annotations"])
            return {"metadata": meta, "data": data, "revision": number}

        return util.current_revision(self.registry, ds, data, make)

    def _surge_update(self, ds: Obj, revision: str, wanted: set[str], max_surge: int) -> None:
        """``rollingUpdate`` with ``maxSurge``: a new pod starts beside the old one (at once when the old one
        is unavailable, else at most ``maxSurge`` nodes at a time), and the old one goes once the new one
        is available."""
        uid = ds["metadata"]["uid"]
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        now = self.clock.now()
        by_node: dict[str, list[Obj]] = {}
        for pod in self.registry.store.list("pods", ds["metadata"]["namespace"])[0]:
            if (util.controller_ref(pod) or {}).get("uid") == uid and util.is_active(pod) and \
                    not pod["metadata"].get("deletionTimestamp") and _node_of(pod) in wanted:
                by_node.setdefault(_node_of(pod), []).append(pod)
        surge_count = 0
        replace_now: list[str] = []
        candidates: list[str] = []
        for node, pods in sorted(by_node.items()):
            new = next((p for p in pods if _revision_of(p) == revision), None)
            old = next((p for p in pods if _revision_of(p) != revision), None)
            if old is None:
                continue
            if new is None:
                if util.available_in(old, min_ready, now) != 0:
                    replace_now.append(node)  # an unavailable old pod may be replaced at once
                else:
                    candidates.append(node)
            elif util.available_in(new, min_ready, now) != 0:
                surge_count += 1  # waiting for the new pod to become available
            else:
                self._delete(ds, old)
        for node in replace_now + candidates[:max(0, max_surge - surge_count)]:
            self._create(ds, node, revision)

    def _rolling_update(self, ds: Obj, revision: str, wanted: set[str], strategy: Obj) -> None:
        max_surge = _max_surge(ds, len(wanted))
        if max_surge > 0:
            self._surge_update(ds, revision, wanted, max_surge)
            return
        max_unavailable = max(1, scaled((strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1),
                                        len(wanted), True))
        uid = ds["metadata"]["uid"]
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        now = self.clock.now()
        pods = [p for p in self.registry.store.list("pods", ds["metadata"]["namespace"])[0]
                if (util.controller_ref(p) or {}).get("uid") == uid and _node_of(p) in wanted]
        unavailable = len(wanted) - sum(1 for p in pods if util.is_active(p)
                                        and util.available_in(p, min_ready, now) == 0)
        old = sorted((p for p in pods if util.is_active(p)
                      and (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision),
                     key=lambda p: (util.available_in(p, min_ready, now) == 0, _node_of(p)))
        for pod in old:
            if util.available_in(pod, min_ready, now) != 0:
                self._delete(ds, pod)  # an unavailable old pod costs nothing to replace
            elif unavailable < max_unavailable:
                self._delete(ds, pod)
                unavailable += 1

    def _create(self, ds: Obj, node: str, revision: str) -> None:
        util.create_pod(self.registry, ds, self._template_pod(ds, node, revision), COMPONENT)

    def _delete(self, ds: Obj, pod: Obj) -> None:
        util.delete_pod(self.registry, ds, pod, COMPONENT)

    def _status(self, ds: Obj, revision: str, wanted: set[str]) -> None:
        meta, spec = ds["metadata"], ds.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.clock.now()
        pods = [p for p in self.registry.store.list("pods", meta["namespace"])[0]
                if (util.controller_ref(p) or {}).get("uid") == meta["uid"] and util.is_active(p)]
        scheduled = {_node_of(p) for p in pods}
        # updateDaemonSetStatus looks at the oldest pod of each node (during a surge, the old one)
        oldest: dict[str, Obj] = {}
        for pod in sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp") or ""):
            oldest.setdefault(_node_of(pod), pod)
        on_wanted = [p for node, p in oldest.items() if node in wanted]
        ready = [p for p in on_wanted if util.is_ready(p)]
        available = [p for p in ready if util.available_in(p, min_ready, now) == 0]
        updated = [p for p in on_wanted if _revision_of(p) == revision]
        status: Obj = deep_copy(ds.get("status") or {})
        status.update({
            "currentNumberScheduled": len(scheduled & wanted),
            "numberMisscheduled": len(scheduled - wanted),
            "desiredNumberScheduled": len(wanted),
            "numberReady": len(ready),
            "observedGeneration": meta.get("generation", 1),
            "updatedNumberScheduled": len({_node_of(p) for p in updated}),
            "numberAvailable": len(available),
            "numberUnavailable": len(wanted) - len(available),
        })
        for field in ("updatedNumberScheduled", "numberAvailable", "numberUnavailable"):
            if not status[field]:
                del status[field]  # omitempty
        latest = self.registry.store.get(RESOURCE, meta["namespace"], meta["name"])
        if latest is not None:
            util.update_status(self.registry, RESOURCE, latest, status)
