"""The Deployment controller: one ReplicaSet per pod template, rolled over by the deployment strategy.

After ``pkg/controller/deployment``: the new ReplicaSet is ``<deployment>-<pod-template-hash>`` with the
``pod-template-hash`` label in its selector and template (the hash is FNV-32a of the template and the
collision count, encoded with ``rand.SafeEncodeString``), revisions live in the
``deployment.kubernetes.io/revision`` annotation (an old template that comes back, as ``kubectl rollout
undo`` does, takes the next revision), RollingUpdate honours maxSurge/maxUnavailable, Recreate scales the
old ReplicaSets to zero and waits for their pods to go, and old ReplicaSets beyond revisionHistoryLimit
are deleted once a rollout completes. Status and the Available/Progressing conditions carry the
controller's reasons and messages, which ``kubectl rollout status`` reads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from typing import Any

import orjson

from kubeproof.controllers import workloadutil as util
from kubeproof.server import errors
from kubeproof.server.options import DeleteOptions
from kubeproof.server.registry.builtin import default_pod_template
from kubeproof.server.registry.generic import deep_copy, now_rfc3339
from kubeproof.server.store import Event

Obj = dict[str, Any]
RESOURCE = "deployments.apps"
RS_RESOURCE = "replicasets.apps"
COMPONENT = "deployment-controller"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def compute_hash(template: Obj, collision_count: int | None) -> str:
    """``controller.ComputeHash``: FNV-32a of the template (and collision count), safe-encoded."""
    data = orjson.dumps(template, option=orjson.OPT_SORT_KEYS)
    if collision_count is not None:
        data += str(collision_count).encode()
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in str(h).encode())


def _normalised(template: Obj) -> Obj:
    wrapper = {"spec": {"template": deep_copy(template or {})}}
    default_pod_template(wrapper)
    out: Obj = wrapper["spec"]["template"]
    meta = out.setdefault("metadata", {})
    labels = dict(meta.get("labels") or {})
    labels.pop(HASH_LABEL, None)
    if labels:
        meta["labels"] = labels
    else:
        meta.pop("labels", None)
    for key in [k for k, v in meta.items() if v in (None, {}, [], "")]:
        del meta[key]
    return out


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    return _normalised(a) == _normalised(b)


def scaled(value: Any, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and (m := re.fullmatch(r"(\d+)%", value)):
        exact = int(m.group(1)) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def surge_and_unavailable(d: Obj) -> tuple[int, int]:
    """``ResolveFenceposts``: maxSurge rounds up, maxUnavailable down; both 0 means 1 unavailable."""
    spec = d.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    rolling = ((spec.get("strategy") or {}).get("rollingUpdate")) or {}
    surge = scaled(rolling.get("maxSurge", "25%"), replicas, True)
    unavailable = scaled(rolling.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def revision_of(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _replicas(rs: Obj) -> int:
    return int((rs.get("spec") or {}).get("replicas", 0))


def _st(rs: Obj, field: str) -> int:
    return int((rs.get("status") or {}).get(field) or 0)


def _created(obj: Obj) -> tuple[float, str]:
    return (util.parse_time(obj["metadata"].get("creationTimestamp")) or 0.0, obj["metadata"]["name"])


class DeploymentController(util.OwnerKeyedController):
    name = "deployment"
    resource = RESOURCE
    owner_kind = "Deployment"
    child_resources = (RS_RESOURCE,)

    def watches(self) -> frozenset[str] | None:
        return frozenset({*(super().watches() or ()), "pods"})  # Recreate waits for pods to be gone

    def keys_for(self, event: Event) -> list[Hashable]:
        namespace = event.key[0]
        if event.resource in (RESOURCE, RS_RESOURCE):
            keys = super().keys_for(event)
            if event.resource == RS_RESOURCE and not keys and event.type != "DELETED":
                keys = self.selecting_keys(namespace, event.obj["metadata"].get("labels"))
            return keys
        if event.resource == "pods" and event.type == "DELETED":
            # Recreate waits for the old pods to be gone.
            ref = util.controller_ref(event.obj)
            if ref is not None and ref.get("kind") == "ReplicaSet":
                rs = self.registry.store.get(RS_RESOURCE, namespace, str(ref.get("name")))
                owner = util.controller_ref(rs) if rs else None
                if owner is not None and owner.get("kind") == "Deployment":
                    return [(namespace, str(owner.get("name")))]
        return []

    # -- sync ------------------------------------------------------------------------------------

    def _owned(self, d: Obj) -> list[Obj]:
        candidates = self.registry.store.list(RS_RESOURCE, d["metadata"]["namespace"])[0]
        return sorted(util.claim(self.registry, RS_RESOURCE, d, candidates, d["spec"].get("selector")),
                      key=_created)

    def _sync(self, d: Obj) -> None:
        if d["metadata"].get("deletionTimestamp"):
            return
        selector_spec = d.get("spec") or {}
        if not util.selector_matches(selector_spec.get("selector"),
                                     (selector_spec.get("template") or {}).get("metadata", {}).get("labels")):
            return  # validation forbids it; never act on a selector that selects everything
        meta = d["metadata"]
        namespace = meta["namespace"]
        spec = d["spec"]
        rss = self._owned(d)
        template = spec.get("template") or {}
        new_rs = next((rs for rs in rss if equal_ignore_hash((rs.get("spec") or {}).get("template") or {},
                                                                template)), None)
        olds = [rs for rs in rss if rs is not new_rs]
        conditions = list((d.get("status") or {}).get("conditions") or [])
        if spec.get("paused"):
            self._sync_status(d, new_rs, conditions, paused=True)
            return
        new_revision = max((revision_of(rs) for rs in olds), default=0) + 1
        if new_rs is None:
            new_rs = self._create_new_rs(d, new_revision)
            if new_rs is None:
                return
            conditions = _set_condition(conditions, "Progressing", "True", "NewReplicaSetCreated",
                                        f'Created new replica set "{new_rs["metadata"]["name"]}"',
                                        self.clock.now())
        else:
            new_rs = self._sync_revision(d, new_rs, new_revision)
            if not any(c.get("type") == "Progressing" for c in conditions):
                conditions = _set_condition(conditions, "Progressing", "True", "FoundNewReplicaSet",
                                            f'Found new replica set "{new_rs["metadata"]["name"]}"',
                                            self.clock.now())
        self._set_deployment_revision(d, revision_of(new_rs))
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            self._recreate(d, new_rs, olds)
        else:
            self._rolling(d, new_rs, olds)
        new_rs = self.registry.store.get(RS_RESOURCE, namespace, new_rs["metadata"]["name"]) or new_rs
        complete = self._sync_status(d, new_rs, conditions)
        if complete:
            self._cleanup(d, new_rs)

    def _create_new_rs(self, d: Obj, revision: int) -> Obj | None:
        meta, spec = d["metadata"], d["spec"]
        collision = (d.get("status") or {}).get("collisionCount")
        template = deep_copy(spec.get("template") or {})
        pod_hash = compute_hash(template, collision)
        tmeta = template.setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), HASH_LABEL: pod_hash}
        selector = deep_copy(spec["selector"])
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
        surge, _ = surge_and_unavailable(d)
        replicas = int(spec.get("replicas", 1))
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                       if k not in ("kubectl.kubernetes.io/last-applied-configuration", REVISION)}
        annotations.update({REVISION: str(revision), DESIRED: str(replicas),
                            MAX_REPLICAS: str(replicas + (surge if _rolling_update(d) else 0))})
        rs: Obj = {
            "metadata": {"name": f"{meta['name']}-{pod_hash}", "namespace": meta["namespace"],
                         "labels": dict(tmeta["labels"]), "annotations": annotations,
                         "ownerReferences": [util.owner_ref_to(d)]},
            "spec": {"replicas": 0, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                     "selector": selector, "template": template},
        }
        rt = self.registry.resource(RS_RESOURCE)
        try:
            return self.registry.create(rt, meta["namespace"], rs)
        except errors.StatusError as exc:
            if exc.code != 409:
                raise
        existing = self.registry.store.get(RS_RESOURCE, meta["namespace"], rs["metadata"]["name"])
        if existing is not None and (util.controller_ref(existing) or {}).get("uid") == meta["uid"] and \
                equal_ignore_hash(existing["spec"].get("template") or {}, spec.get("template") or {}):
            return existing
        # A hash collision: bump collisionCount so the next sync picks another name.
        status = dict(d.get("status") or {})
        status["collisionCount"] = int(collision or 0) + 1
        util.update_status(self.registry, RESOURCE, d, status)
        return None

    def _sync_revision(self, d: Obj, rs: Obj, revision: int) -> Obj:
        """``SetNewReplicaSetAnnotations``: the new ReplicaSet carries the newest revision."""
        annotations = dict(rs["metadata"].get("annotations") or {})
        replicas = int(d["spec"].get("replicas", 1))
        surge, _ = surge_and_unavailable(d)
        wanted = dict(annotations)
        if revision_of(rs) < revision:
            wanted[REVISION] = str(revision)
        wanted[DESIRED] = str(replicas)
        wanted[MAX_REPLICAS] = str(replicas + (surge if _rolling_update(d) else 0))
        if wanted == annotations:
            return rs
        new = deep_copy(rs)
        new["metadata"]["annotations"] = wanted
        return self.registry.update(self.registry.resource(RS_RESOURCE), rs["metadata"]["namespace"],
                                    rs["metadata"]["name"], new)

    def _set_deployment_revision(self, d: Obj, revision: int) -> None:
        annotations = d["metadata"].get("annotations") or {}
        if annotations.get(REVISION) == str(revision):
            return
        current = self.registry.store.get(RESOURCE, d["metadata"]["namespace"], d["metadata"]["name"])
        if current is None:
            return
        new = deep_copy(current)
        new["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
        self.registry.update(self.registry.resource(RESOURCE), d["metadata"]["namespace"], d["metadata"]["name"],
                             new)

    def _scale(self, d: Obj, rs: Obj, replicas: int) -> Obj:
        old = _replicas(rs)
        if old == replicas:
            return rs
        current = self.registry.store.get(RS_RESOURCE, rs["metadata"]["namespace"], rs["metadata"]["name"])
        if current is None:
            raise errors.not_found("replicasets", "apps", rs["metadata"]["name"])
        new = deep_copy(current)
        new["spec"]["replicas"] = replicas
        d_replicas = int(d["spec"].get("replicas", 1))
        surge, _ = surge_and_unavailable(d)
        annotations = new["metadata"].setdefault("annotations", {})
        annotations[DESIRED] = str(d_replicas)
        annotations[MAX_REPLICAS] = str(d_replicas + (surge if _rolling_update(d) else 0))
        stored = self.registry.update(self.registry.resource(RS_RESOURCE), rs["metadata"]["namespace"],
                                      rs["metadata"]["name"], new)
        direction = "up" if replicas > old else "down"
        util.record_event(self.registry, d, "Normal", "ScalingReplicaSet",
                          f"Scaled {direction} replica set {rs['metadata']['name']} from {old} to {replicas}",
                          COMPONENT)
        return stored

    def _recreate(self, d: Obj, new_rs: Obj, olds: list[Obj]) -> None:
        for rs in olds:
            self._scale(d, rs, 0)
        old_uids = {rs["metadata"]["uid"] for rs in olds}
        for pod in self.registry.store.list("pods", d["metadata"]["namespace"])[0]:
            if (util.controller_ref(pod) or {}).get("uid") in old_uids and \
                    (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                return  # old pods still running (terminating ones included)
        self._scale(d, new_rs, int(d["spec"].get("replicas", 1)))

    def _rolling(self, d: Obj, new_rs: Obj, olds: list[Obj]) -> None:
        replicas = int(d["spec"].get("replicas", 1))
        surge, unavailable = surge_and_unavailable(d)
        # reconcileNewReplicaSet
        all_rs = [new_rs, *olds]
        if _replicas(new_rs) > replicas:
            new_rs = self._scale(d, new_rs, replicas)
        elif _replicas(new_rs) < replicas:
            current = sum(_replicas(rs) for rs in all_rs)
            max_total = replicas + surge
            if current < max_total:
                up = min(max_total - current, replicas - _replicas(new_rs))
                new_rs = self._scale(d, new_rs, _replicas(new_rs) + up)
        # reconcileOldReplicaSets
        old_count = sum(_replicas(rs) for rs in olds)
        if old_count == 0:
            return
        all_count = _replicas(new_rs) + old_count
        min_available = replicas - unavailable
        new_unavailable = _replicas(new_rs) - _st(new_rs, "availableReplicas")
        max_down = all_count - min_available - new_unavailable
        if max_down <= 0:
            return
        # cleanupUnhealthyReplicas: unavailable old pods go first, oldest ReplicaSet first.
        cleaned = 0
        scaled_olds: list[Obj] = []
        for rs in sorted(olds, key=_created):
            healthy = _st(rs, "availableReplicas")
            if cleaned < max_down and _replicas(rs) > healthy:
                down = min(max_down - cleaned, _replicas(rs) - healthy)
                rs = self._scale(d, rs, _replicas(rs) - down)
                cleaned += down
            scaled_olds.append(rs)
        max_down -= cleaned
        if max_down <= 0:
            return
        # scaleDownOldReplicaSetsForRollingUpdate
        available = _st(new_rs, "availableReplicas") + sum(_st(rs, "availableReplicas") for rs in scaled_olds)
        if available <= min_available:
            return
        budget = min(available - min_available, max_down)
        for rs in scaled_olds:
            if budget <= 0:
                break
            down = min(_replicas(rs), budget)
            if down:
                self._scale(d, rs, _replicas(rs) - down)
                budget -= down

    def _sync_status(self, d: Obj, new_rs: Obj | None, conditions: list[Obj], paused: bool = False) -> bool:
        """``syncRolloutStatus``; returns whether the rollout is complete."""
        now = self.clock.now()
        spec = d["spec"]
        replicas = int(spec.get("replicas", 1))
        _, unavailable = surge_and_unavailable(d)
        if not _rolling_update(d):
            unavailable = 0
        all_rs = [rs for rs in self.registry.store.list(RS_RESOURCE, d["metadata"]["namespace"])[0]
                  if (util.controller_ref(rs) or {}).get("uid") == d["metadata"]["uid"]]
        available = sum(_st(rs, "availableReplicas") for rs in all_rs)
        status: Obj = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": sum(_st(rs, "replicas") for rs in all_rs),
            "updatedReplicas": _st(new_rs, "replicas") if new_rs else 0,
            "readyReplicas": sum(_st(rs, "readyReplicas") for rs in all_rs),
            "availableReplicas": available,
            "unavailableReplicas": max(0, replicas - available),
        }
        collision = (d.get("status") or {}).get("collisionCount")
        if collision is not None:
            status["collisionCount"] = collision
        if available >= replicas - unavailable:
            conditions = _set_condition(conditions, "Available", "True", "MinimumReplicasAvailable",
                                        "Deployment has minimum availability.", now)
        else:
            conditions = _set_condition(conditions, "Available", "False", "MinimumReplicasUnavailable",
                                        "Deployment does not have minimum availability.", now)
        old = d.get("status") or {}
        current = next((c for c in old.get("conditions") or [] if c.get("type") == "Progressing"), None)
        complete = (status["updatedReplicas"] == replicas and status["replicas"] == replicas
                    and available == replicas)
        rs_name = new_rs["metadata"]["name"] if new_rs else ""
        if paused:
            conditions = _set_condition(conditions, "Progressing", "Unknown", "DeploymentPaused",
                                        "Deployment is paused", now)
        elif spec.get("progressDeadlineSeconds") is None:
            conditions = [c for c in conditions if c.get("type") != "Progressing"]
        elif not (status["replicas"] == status["updatedReplicas"] and current is not None
                  and current.get("reason") == "NewReplicaSetAvailable"):
            if complete:
                msg = f'ReplicaSet "{rs_name}" has successfully progressed.' if new_rs else \
                    f'Deployment "{d["metadata"]["name"]}" has successfully progressed.'
                conditions = _set_condition(conditions, "Progressing", "True", "NewReplicaSetAvailable", msg, now)
            elif _progressing(old, status):
                msg = f'ReplicaSet "{rs_name}" is progressing.' if new_rs else \
                    f'Deployment "{d["metadata"]["name"]}" is progressing.'
                prev = next((c for c in conditions if c.get("type") == "Progressing"), None)
                cond = _condition("Progressing", "True", "ReplicaSetUpdated", msg, now)
                if prev is not None and prev.get("status") == "True":
                    cond["lastTransitionTime"] = prev.get("lastTransitionTime")
                conditions = [c for c in conditions if c.get("type") != "Progressing"] + [cond]
            elif (remaining := self._deadline_remaining(d, conditions, now)) is not None:
                if remaining <= 0:
                    conditions = _set_condition(conditions, "Progressing", "False", "ProgressDeadlineExceeded",
                                                f'ReplicaSet "{rs_name}" has timed out progressing.', now)
                else:
                    self.enqueue_after((d["metadata"]["namespace"], d["metadata"]["name"]), remaining)
        status["conditions"] = conditions
        for field in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                      "unavailableReplicas"):
            if not status[field]:
                del status[field]  # omitempty
        current_d = self.registry.store.get(RESOURCE, d["metadata"]["namespace"], d["metadata"]["name"])
        if current_d is not None:
            util.update_status(self.registry, RESOURCE, current_d, status)
        return complete

    @staticmethod
    def _deadline_remaining(d: Obj, conditions: list[Obj], now: float) -> float | None:
        """``DeploymentTimedOut``: seconds left before the last progress is older than the deadline
        (None when there is nothing to time out)."""
        cond = next((c for c in conditions if c.get("type") == "Progressing"), None)
        if cond is None or cond.get("reason") in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded"):
            return None
        since = util.parse_time(cond.get("lastUpdateTime"))
        if since is None:
            return None
        return since + int(d["spec"]["progressDeadlineSeconds"]) - now

    def _cleanup(self, d: Obj, new_rs: Obj) -> None:
        """``cleanupDeployment``: keep revisionHistoryLimit old ReplicaSets that are scaled to zero."""
        limit = d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        olds = [rs for rs in self.registry.store.list(RS_RESOURCE, d["metadata"]["namespace"])[0]
                if (util.controller_ref(rs) or {}).get("uid") == d["metadata"]["uid"]
                and rs["metadata"]["uid"] != new_rs["metadata"]["uid"] and not rs["metadata"].get("deletionTimestamp")]
        excess = len(olds) - int(limit)
        if excess <= 0:
            return
        rt = self.registry.resource(RS_RESOURCE)
        for rs in sorted(olds, key=lambda r: (revision_of(r), _created(r)))[:excess]:
            if _st(rs, "replicas") or _replicas(rs) or (rs.get("status") or {}).get("observedGeneration", 0) < \
                    rs["metadata"].get("generation", 1):
                continue
            try:
                self.registry.delete(rt, rs["metadata"]["namespace"], rs["metadata"]["name"],
                                     DeleteOptions(precondition_uid=rs["metadata"]["uid"]))
            except errors.StatusError as exc:
                if exc.code not in (404, 409):
                    raise


def _rolling_update(d: Obj) -> bool:
    return bool(((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate")


def _progressing(old: Obj, new: Obj) -> bool:
    """``DeploymentProgressing``: more updated/ready/available pods, or fewer old ones."""
    old_old = int(old.get("replicas") or 0) - int(old.get("updatedReplicas") or 0)
    new_old = int(new.get("replicas") or 0) - int(new.get("updatedReplicas") or 0)
    return (int(new.get("updatedReplicas") or 0) > int(old.get("updatedReplicas") or 0) or new_old < old_old
            or int(new.get("readyReplicas") or 0) > int(old.get("readyReplicas") or 0)
            or int(new.get("availableReplicas") or 0) > int(old.get("availableReplicas") or 0))


def _condition(type_: str, status: str, reason: str, message: str, now: float) -> Obj:
    stamp = now_rfc3339(now)
    return {"type": type_, "status": status, "lastUpdateTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def _set_condition(conditions: list[Obj], type_: str, status: str, reason: str, message: str,
                   now: float) -> list[Obj]:
    """``SetDeploymentCondition``: unchanged if status and reason are; a replaced condition goes last."""
    current = next((c for c in conditions if c.get("type") == type_), None)
    if current is not None and current.get("status") == status and current.get("reason") == reason:
        return conditions
    cond = _condition(type_, status, reason, message, now)
    if current is not None and current.get("status") == status:
        cond["lastTransitionTime"] = current.get("lastTransitionTime")
    return [c for c in conditions if c.get("type") != type_] + [cond]
