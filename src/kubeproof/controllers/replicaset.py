"""The ReplicaSet controller: keep ``spec.replicas`` active pods that match the selector.

After ``pkg/controller/replicaset/replica_set.go``: claim pods (adopt orphans that match, release owned
pods that stopped matching), create ``<rs>-<5 random>`` pods owned by the ReplicaSet, delete surplus pods
ranked as ``getPodsToDelete`` does (unscheduled, pending, not ready and newest first), and report
replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (minReadySeconds) and observedGeneration.
The store is read synchronously after each write, so the real controller's expectations are not needed.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kubeproof.controllers import workloadutil as util
from kubeproof.server import errors
from kubeproof.server.store import Event

Obj = dict[str, Any]
RESOURCE = "replicasets.apps"
COMPONENT = "replicaset-controller"
#: ``burstReplicas``: at most this many creations or deletions per sync.
BURST = 500

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def _deletion_rank(pod: Obj) -> tuple[int, int, int, float]:
    """Sort key: the pods to delete first come first (``controller.ActivePods`` ordering)."""
    status = pod.get("status") or {}
    created = util.parse_time(pod["metadata"].get("creationTimestamp")) or 0.0
    return (1 if (pod.get("spec") or {}).get("nodeName") else 0, _PHASE_RANK.get(status.get("phase") or "", 0),
            1 if util.is_ready(pod) else 0, -created)


class ReplicaSetController(util.OwnerKeyedController):
    name = "replicaset"
    resource = RESOURCE
    owner_kind = "ReplicaSet"

    def keys_for(self, event: Event) -> list[Hashable]:
        keys = super().keys_for(event)
        if (event.resource == "pods" and not keys and event.type != "DELETED"
                and util.controller_ref(event.obj) is None):
            # An orphan: any ReplicaSet whose selector matches may adopt it.
            keys = self.selecting_keys(event.key[0], event.obj["metadata"].get("labels"))
        return keys

    # Not the shared wrapper: a failed create/delete still gets its status written (see _manage).
    def reconcile(self, key: Hashable) -> bool:
        assert isinstance(key, tuple)
        namespace, name = str(key[0]), str(key[1])
        store = self.registry.store
        rs = store.get(RESOURCE, namespace, name)
        if rs is None:
            return False
        spec = rs.get("spec") or {}
        pods = util.claim(self.registry, "pods", rs, store.list("pods", namespace)[0], spec.get("selector"))
        active = [p for p in pods if util.is_active(p)]
        if not rs["metadata"].get("deletionTimestamp"):
            try:
                self._manage(rs, active)
            except errors.StatusError as exc:
                if exc.code not in (403, 404, 409, 422):
                    raise
            rs = store.get(RESOURCE, namespace, name)
            if rs is None:
                return False
            pods = [p for p in store.list("pods", namespace)[0]
                    if (util.controller_ref(p) or {}).get("uid") == rs["metadata"]["uid"]]
            active = [p for p in pods if util.is_active(p)]
        self._update_status(rs, active)
        return False

    def _manage(self, rs: Obj, active: list[Obj]) -> None:
        spec = rs.get("spec") or {}
        diff = len(active) - int(spec.get("replicas", 1))
        name = rs["metadata"]["name"]
        if diff < 0:
            for _ in range(min(-diff, BURST)):
                pod = util.pod_from_template(rs, spec.get("template") or {}, generate_name=f"{name}-")
                util.create_pod(self.registry, rs, pod, COMPONENT, tolerate=())  # _manage's caller decides
        elif diff > 0:
            for pod in sorted(active, key=_deletion_rank)[:min(diff, BURST)]:
                util.delete_pod(self.registry, rs, pod, COMPONENT)

    def _update_status(self, rs: Obj, active: list[Obj]) -> None:
        spec = rs.get("spec") or {}
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.clock.now()
        ready = available = labelled = 0
        recheck: float | None = None
        for pod in active:
            labels = pod["metadata"].get("labels") or {}
            if all(labels.get(k) == v for k, v in template_labels.items()):
                labelled += 1
            if util.is_ready(pod):
                ready += 1
                wait = util.available_in(pod, min_ready, now)
                if wait == 0:
                    available += 1
                elif wait is not None:
                    recheck = wait if recheck is None else min(recheck, wait)
        status: Obj = dict(rs.get("status") or {})
        status.update({"replicas": len(active), "fullyLabeledReplicas": labelled, "readyReplicas": ready,
                       "availableReplicas": available,
                       "observedGeneration": rs["metadata"].get("generation", 1)})
        for field in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if not status[field]:
                del status[field]  # omitempty, as the Go types serialise them
        try:
            util.update_status(self.registry, RESOURCE, rs, status)
        except errors.StatusError as exc:
            if exc.code not in (404, 409):
                raise
            self.enqueue((rs["metadata"]["namespace"], rs["metadata"]["name"]))
        if recheck is not None:
            self.enqueue_after((rs["metadata"]["namespace"], rs["metadata"]["name"]), recheck)
