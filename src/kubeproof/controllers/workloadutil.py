"""What the workload controllers share: controller references, claiming pods, pod state, events.

After ``pkg/controller/controller_utils.go`` and ``controller_ref_manager.go``.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

from kubeproof.controllers import events
from kubeproof.controllers.base import Controller
from kubeproof.server import errors
from kubeproof.server.options import DeleteOptions
from kubeproof.server.registry.generic import Registry, deep_copy
from kubeproof.server.selectors import label_selector_from_dict
from kubeproof.server.store import Event

Obj = dict[str, Any]


def controller_ref(obj: Obj) -> Obj | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return None


def owner_ref_to(owner: Obj) -> Obj:
    """The controller reference a workload puts on what it creates (``metav1.NewControllerRef``)."""
    meta = owner["metadata"]
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def selector_matcher(selector: Any) -> Callable[[Any], bool]:
    """A predicate on labels for a LabelSelector (matchLabels/matchExpressions); an empty, missing or
    invalid one matches nothing here, as controllers treat it."""
    if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return lambda labels: False
    try:
        parsed = label_selector_from_dict(selector)
    except errors.StatusError:
        return lambda labels: False
    return lambda labels: bool(parsed.matches(labels or {}))


def selector_matches(selector: Any, labels: Any) -> bool:
    return selector_matcher(selector)(labels)


def parse_time(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


def is_active(pod: Obj) -> bool:
    """Not finished and not terminating (``controller.IsPodActive``)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def ready_condition(pod: Obj) -> Obj | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond
    return None


def is_ready(pod: Obj) -> bool:
    cond = ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def available_in(pod: Obj, min_ready_seconds: int, now: float) -> float | None:
    """Seconds until the pod counts as available: 0 if it is, None if it is not even ready
    (``podutil.IsPodAvailable``)."""
    if not is_ready(pod):
        return None
    if min_ready_seconds <= 0:
        return 0.0
    since = parse_time((ready_condition(pod) or {}).get("lastTransitionTime"))
    if since is None:
        return 0.0
    return max(0.0, since + min_ready_seconds - now)


def pod_from_template(owner: Obj, template: Obj, *, generate_name: str = "", name: str = "") -> Obj:
    """``GetPodFromTemplate``: labels, annotations, finalizers and spec of the template, owned by ``owner``."""
    tmeta = template.get("metadata") or {}
    meta: Obj = {"labels": dict(tmeta.get("labels") or {}), "ownerReferences": [owner_ref_to(owner)]}
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": deep_copy(template.get("spec") or {})}


def claim(registry: Registry, resource: str, owner: Obj, candidates: list[Obj], selector: Any,
          adoptable: Callable[[Obj], bool] | None = None) -> list[Obj]:
    """``ClaimObjects``: what ``owner`` controls among ``candidates``. Orphans matching the selector are
    adopted, owned objects that stopped matching are released (both written through the registry)."""
    uid = owner["metadata"]["uid"]
    rt = registry.resource(resource)
    deleting = bool(owner["metadata"].get("deletionTimestamp"))
    claimed: list[Obj] = []
    selects = selector_matcher(selector)
    for obj in candidates:
        ref = controller_ref(obj)
        matches = selects(obj["metadata"].get("labels"))
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches or deleting:
                claimed.append(obj)
                continue
            new = deep_copy(obj)  # release
            refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences", None)
            _write(registry, rt, new)
            continue
        if deleting or not matches or obj["metadata"].get("deletionTimestamp"):
            continue
        if adoptable is not None and not adoptable(obj):
            continue
        new = deep_copy(obj)  # adopt
        new["metadata"]["ownerReferences"] = [*(new["metadata"].get("ownerReferences") or []), owner_ref_to(owner)]
        adopted = _write(registry, rt, new)
        if adopted is not None:
            claimed.append(adopted)
    return claimed


def _write(registry: Registry, rt: Any, obj: Obj) -> Obj | None:
    meta = obj["metadata"]
    try:
        return registry.update(rt, meta.get("namespace") or "", meta["name"], obj)
    except errors.StatusError as exc:
        if exc.code in (404, 409):
            return None
        raise


def update_status(registry: Registry, resource: str, obj: Obj, status: Obj) -> Obj:
    """Write ``status`` through the status subresource unless it is what is stored."""
    if obj.get("status") == status:
        return obj
    new = deep_copy(obj)
    new["status"] = status
    meta = obj["metadata"]
    return registry.update(registry.resource(resource), meta.get("namespace") or "", meta["name"], new,
                           subresource="status")


def record_event(registry: Registry, involved: Obj, type_: str, reason: str, message: str,
                 component: str) -> None:
    """Through the shared recorder (``controllers/events.py``): repeats aggregate as client-go's do."""
    events.record_event(registry, involved, type_, reason, message, component)


# -- PodControl ----------------------------------------------------------------------------------


def create_pod(registry: Registry, owner: Obj, pod: Obj, component: str,
               tolerate: tuple[int, ...] = (403, 422)) -> Obj | None:
    """``PodControl.CreatePods``: create ``pod`` in the owner's namespace and record SuccessfulCreate or
    FailedCreate on the owner. Failures with a code in ``tolerate`` return None, others are raised."""
    try:
        created = registry.create(registry.resource("pods"), owner["metadata"]["namespace"], pod)
    except errors.StatusError as exc:
        record_event(registry, owner, "Warning", "FailedCreate", f"Error creating: {exc.message}", component)
        if exc.code in tolerate:
            return None
        raise
    record_event(registry, owner, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                 component)
    return created


def delete_pod(registry: Registry, owner: Obj, pod: Obj, component: str, message: str | None = None) -> bool:
    """``PodControl.DeletePod`` with a uid precondition (never a same-named successor); a pod already gone
    or replaced (404/409) is not an error. Records SuccessfulDelete (``message`` or the default) on the owner."""
    meta = pod["metadata"]
    try:
        registry.delete(registry.resource("pods"), meta["namespace"], meta["name"],
                        DeleteOptions(precondition_uid=meta["uid"]))
    except errors.StatusError as exc:
        if exc.code in (404, 409):
            return False
        raise
    record_event(registry, owner, "Normal", "SuccessfulDelete", message or f"Deleted pod: {meta['name']}", component)
    return True


# -- keys and the reconcile wrapper ----------------------------------------------------------------


# -- ControllerRevisions (StatefulSets and DaemonSets) -------------------------------------------------

REVISIONS = "controllerrevisions.apps"


def template_patch(owner: Obj) -> Obj:
    """``getPatch``: what a ControllerRevision stores, the pod template as a replacing strategic merge patch
    (``kubectl rollout undo`` applies it as it is)."""
    template = deep_copy((owner.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def owned_revisions(registry: Registry, owner: Obj) -> list[Obj]:
    """The owner's ControllerRevisions, oldest revision first."""
    uid = owner["metadata"]["uid"]
    return sorted((r for r in registry.store.list(REVISIONS, owner["metadata"]["namespace"])[0]
                   if (controller_ref(r) or {}).get("uid") == uid), key=lambda r: int(r.get("revision", 0)))


def current_revision(registry: Registry, owner: Obj, data: Obj, make: Callable[[int], Obj]) -> Obj | None:
    """The revision holding ``data``: an existing one (renumbered as the newest when an older template came
    back, as after ``kubectl rollout undo``), or ``make(next number)`` created. None when its name is taken
    by another object (a revision of a deleted owner the garbage collector has not removed yet)."""
    revisions = owned_revisions(registry, owner)
    latest = max((int(r.get("revision", 0)) for r in revisions), default=0)
    rt = registry.resource(REVISIONS)
    for rev in revisions:
        if rev.get("data") == data:
            if int(rev.get("revision", 0)) == latest:
                return rev
            renumbered = deep_copy(rev)
            renumbered["revision"] = latest + 1
            return registry.update(rt, rev["metadata"]["namespace"], rev["metadata"]["name"], renumbered)
    try:
        return registry.create(rt, owner["metadata"]["namespace"], make(latest + 1))
    except errors.StatusError as exc:
        if exc.code == 409:
            return None
        raise


def truncate_revisions(registry: Registry, owner: Obj, keep: set[str]) -> None:
    """Delete the oldest revisions beyond ``revisionHistoryLimit`` (default 10), never one in ``keep``."""
    limit = int((owner.get("spec") or {}).get("revisionHistoryLimit", 10))
    old = [r for r in owned_revisions(registry, owner) if r["metadata"]["name"] not in keep]
    rt = registry.resource(REVISIONS)
    for rev in old[:max(0, len(old) - limit)]:
        try:
            registry.delete(rt, rev["metadata"]["namespace"], rev["metadata"]["name"], DeleteOptions())
        except errors.StatusError as exc:
            if exc.code != 404:
                raise


class OwnerKeyedController(Controller):
    """A workload controller keyed by ``(namespace, name)`` of its own ``resource``: events on it map to its
    key, events on ``child_resources`` to the key of their controller owner of kind ``owner_kind``."""

    resource: ClassVar[str] = ""
    owner_kind: ClassVar[str] = ""
    child_resources: ClassVar[tuple[str, ...]] = ("pods",)

    def initial_keys(self) -> list[Hashable]:
        items, _ = self.registry.store.list(self.resource)
        return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in items]

    def watches(self) -> frozenset[str] | None:
        return frozenset({self.resource, *self.child_resources})

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == self.resource:
            return [event.key]
        if event.resource not in self.child_resources:
            return []
        return self.owner_keys(event)

    def owner_keys(self, event: Event) -> list[Hashable]:
        """Keys of the ``owner_kind`` controller owners of the child, before and after the event."""
        keys: list[Hashable] = []
        for obj in (event.obj, event.prev):
            ref = controller_ref(obj) if obj else None
            if ref is not None and ref.get("kind") == self.owner_kind:
                keys.append((event.key[0], str(ref.get("name"))))
        return keys

    def selecting_keys(self, namespace: str, labels: Any) -> list[Hashable]:
        """Keys of the objects whose selector matches ``labels``: who may adopt an orphan."""
        return [(namespace, o["metadata"]["name"]) for o in self.registry.store.list(self.resource, namespace)[0]
                if selector_matches((o.get("spec") or {}).get("selector"), labels)]

    def reconcile(self, key: Hashable) -> bool:
        assert isinstance(key, tuple)
        obj = self.registry.store.get(self.resource, str(key[0]), str(key[1]))
        if obj is None:
            return False
        try:
            self._sync(obj)
        except errors.StatusError as exc:
            if exc.code not in (404, 409):
                raise
            self.enqueue_after(key, 0.05)  # raced with another writer (a kubelet status update): look again
        return False

    def _sync(self, obj: Obj) -> None:
        raise NotImplementedError
