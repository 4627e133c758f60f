"""The StatefulSet controller: ordinal pods ``<sts>-0 .. <sts>-(n-1)`` with stable names and claims.

After ``pkg/controller/statefulset``: each pod template revision is a ControllerRevision
``<sts>-<hash>`` (``kubectl rollout history|undo`` read them); pods carry ``controller-revision-hash``,
``statefulset.kubernetes.io/pod-name`` and ``apps.kubernetes.io/pod-index``, hostname and subdomain,
and a PersistentVolumeClaim ``<template>-<sts>-<ordinal>`` per volumeClaimTemplate. With
``OrderedReady`` the next ordinal is created only once every lower one is Running and Ready, and scale
down removes the highest ordinal first, one at a time; ``Parallel`` does both at once. RollingUpdate
replaces pods from the highest ordinal down to ``partition``, one at a time, each once the others are
Ready. ``currentRevision`` becomes ``updateRevision`` when the rollout is complete.
"""

from __future__ import annotations

import re
from typing import Any

from kubeproof.controllers import workloadutil as util
from kubeproof.controllers.deployment import compute_hash
from kubeproof.server import errors
from kubeproof.server.registry.generic import deep_copy

Obj = dict[str, Any]
RESOURCE = "statefulsets.apps"
COMPONENT = "statefulset-controller"
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def _ordinal(sts_name: str, pod: Obj) -> int | None:
    m = re.fullmatch(re.escape(sts_name) + r"-(\d+)", pod["metadata"]["name"])
    return int(m.group(1)) if m else None


def _running_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and util.is_ready(pod)


class StatefulSetController(util.OwnerKeyedController):
    name = "statefulset"
    resource = RESOURCE
    owner_kind = "StatefulSet"

    # -- revisions -------------------------------------------------------------------------------

    def _update_revision(self, sts: Obj) -> Obj | None:
        data = util.template_patch(sts)
        collision = int((sts.get("status") or {}).get("collisionCount") or 0)
        hash_ = compute_hash(data, collision)
        labels = dict(((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
        labels["controller.kubernetes.io/hash"] = hash_

        def make(number: int) -> Obj:
            meta = {"name": f"{sts['metadata']['name']}-{hash_}", "namespace": sts["metadata"]["namespace"],
                    "labels": labels, "ownerReferences": [util.owner_ref_to(sts)]}
            return {"metadata": meta, "data": data, "revision": number}

        return util.current_revision(self.registry, sts, data, make)

    # -- pods ------------------------------------------------------------------------------------

    def _new_pod(self, sts: Obj, ordinal: int, revision: str) -> Obj:
        name = f"{sts['metadata']['name']}-{ordinal}"
        spec = sts.get("spec") or {}
        pod = util.pod_from_template(sts, spec.get("template") or {}, name=name)
        pod["metadata"]["labels"].update({REVISION_LABEL: revision, POD_NAME_LABEL: name,
                                          POD_INDEX_LABEL: str(ordinal)})
        pod["spec"]["hostname"] = name
        if spec.get("serviceName"):
            pod["spec"]["subdomain"] = spec["serviceName"]
        volumes = [v for v in pod["spec"].get("volumes") or []]
        for claim in spec.get("volumeClaimTemplates") or []:
            claim_name = claim.get("metadata", {}).get("name", "")
            pvc = f"{claim_name}-{name}"
            volumes = [v for v in volumes if v.get("name") != claim_name]
            volumes.append({"name": claim_name, "persistentVolumeClaim": {"claimName": pvc}})
            self._ensure_claim(sts, claim, pvc)
        if volumes:
            pod["spec"]["volumes"] = volumes
        return pod

    def _ensure_claim(self, sts: Obj, claim: Obj, name: str) -> None:
        namespace = sts["metadata"]["namespace"]
        if self.registry.store.get("persistentvolumeclaims", namespace, name) is not None:
            return
        pvc = {"metadata": {"name": name, "namespace": namespace,
                            "labels": dict(((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})},
               "spec": deep_copy(claim.get("spec") or {})}
        try:
            self.registry.create(self.registry.resource("persistentvolumeclaims"), namespace, pvc)
        except errors.StatusError as exc:
            if exc.code != 409:
                raise
            return
        util.record_event(self.registry, sts, "Normal", "SuccessfulCreate",
                          f"create Claim {name} Pod {name.split('-', 1)[-1]} in StatefulSet {sts['metadata']['name']} "
                          "success", COMPONENT)

    def _create(self, sts: Obj, ordinal: int, revision: str) -> None:
        pod = self._new_pod(sts, ordinal, revision)
        try:
            self.registry.create(self.registry.resource("pods"), sts["metadata"]["namespace"], pod)
        except errors.StatusError as exc:
            if exc.code == 409:
                return
            raise
        util.record_event(self.registry, sts, "Normal", "SuccessfulCreate",
                          f"create Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful",
                          COMPONENT)

    def _delete(self, sts: Obj, pod: Obj) -> None:
        util.delete_pod(self.registry, sts, pod, COMPONENT,
                        f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful")

    def _sync(self, sts: Obj) -> None:
        meta, spec = sts["metadata"], sts.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        candidates = [p for p in self.registry.store.list("pods", namespace)[0] if _ordinal(name, p) is not None]
        pods = util.claim(self.registry, "pods", sts, candidates, spec.get("selector"))
        by_ordinal = {o: p for p in pods if (o := _ordinal(name, p)) is not None}
        status = sts.get("status") or {}
        if meta.get("deletionTimestamp"):
            return
        update = self._update_revision(sts)
        if update is None:
            return  # its revision's name is still taken: the next event tries again
        update_name = update["metadata"]["name"]
        current_name = status.get("currentRevision") or update_name
        if not any(r["metadata"]["name"] == current_name for r in util.owned_revisions(self.registry, sts)):
            current_name = update_name
        replicas = int(spec.get("replicas", 1))
        parallel = spec.get("podManagementPolicy") == "Parallel"
        # Failed pods are deleted and recreated; terminating ones are waited for.
        for pod in list(by_ordinal.values()):
            if (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded") and \
                    not pod["metadata"].get("deletionTimestamp"):
                self._delete(sts, pod)
        busy = False
        for ordinal in range(replicas):
            existing = by_ordinal.get(ordinal)
            if existing is None or self.registry.store.get("pods", namespace, existing["metadata"]["name"]) is None:
                revision = current_name if ordinal < int(
                    ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition") or 0) \
                    else update_name
                self._create(sts, ordinal, revision)
                if not parallel:
                    busy = True
                    break
                continue
            if not parallel and (existing["metadata"].get("deletionTimestamp") or not _running_ready(existing)):
                busy = True
                break
        condemned = sorted((o for o in by_ordinal if o >= replicas), reverse=True)
        if condemned and not busy:
            for ordinal in condemned:
                pod = by_ordinal[ordinal]
                if pod["metadata"].get("deletionTimestamp"):
                    if not parallel:
                        busy = True
                        break
                    continue
                self._delete(sts, pod)
                if not parallel:
                    busy = True
                    break
        strategy = spec.get("updateStrategy") or {}
        if not busy and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
            live = {o: p for o, p in by_ordinal.items() if o < replicas}
            if all(_running_ready(p) and not p["metadata"].get("deletionTimestamp") for p in live.values()):
                for ordinal in sorted(live, reverse=True):
                    if ordinal < partition:
                        break
                    pod = live[ordinal]
                    if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != update_name:
                        self._delete(sts, pod)
                        break
        self._status(sts, current_name, update_name)
        util.truncate_revisions(self.registry, sts, {current_name, update_name})

    def _status(self, sts: Obj, current_name: str, update_name: str) -> None:
        meta, spec = sts["metadata"], sts.get("spec") or {}
        pods = [p for p in self.registry.store.list("pods", meta["namespace"])[0]
                if (util.controller_ref(p) or {}).get("uid") == meta["uid"]]
        replicas = int(spec.get("replicas", 1))
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.clock.now()
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        ready = [p for p in live if _running_ready(p)]
        current = [p for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == current_name]
        updated = [p for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == update_name]
        available = [p for p in ready if util.available_in(p, min_ready, now) == 0]
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy == "RollingUpdate" and len(updated) == replicas and len(ready) == replicas and \
                len(live) == replicas:
            current_name, current = update_name, updated  # completeRollingUpdate
        status: Obj = dict(sts.get("status") or {})
        status.update({
            "observedGeneration": meta.get("generation", 1), "replicas": len(live),
            "readyReplicas": len(ready), "currentReplicas": len(current), "updatedReplicas": len(updated),
            "availableReplicas": len(available), "currentRevision": current_name, "updateRevision": update_name,
            "collisionCount": int(status.get("collisionCount") or 0),
        })
        for field in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[field]:
                del status[field]  # omitempty
        latest = self.registry.store.get(RESOURCE, meta["namespace"], meta["name"])
        if latest is not None:
            util.update_status(self.registry, RESOURCE, latest, status)
