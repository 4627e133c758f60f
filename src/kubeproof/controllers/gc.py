"""The garbage collector: ownerReferences with background, foreground and orphan propagation.

After ``pkg/controller/garbagecollector``. Every committed event of every resource (custom resources
included: the store reports them all) updates two indexes: uid -> object and owner uid -> dependents, so
an event never makes the collector scan the cluster. Then, per object:

- an owner being deleted with the ``orphan`` finalizer has the ownerReferences to it removed from its
  dependents, then loses the finalizer (``orphanDependents``);
- an owner being deleted with ``foregroundDeletion`` has its blocking dependents (ownerReference with
  ``blockOwnerDeletion: true``) deleted in the foreground, and loses the finalizer once none of them is
  left (``processDeletingDependentsItem``);
- a dependent whose owners are all gone (absent, or present with another uid: dangling) is deleted;
  one with some live owner only loses the references to gone or foreground-deleting owners
  (``attemptToDeleteItem`` with ``classifyReferences``).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kubeproof.controllers.base import Controller
from kubeproof.server import errors
from kubeproof.server.options import DeleteOptions
from kubeproof.server.registry.generic import Registry, deep_copy
from kubeproof.server.store import DELETED, Event

Obj = dict[str, Any]
#: (resource key, namespace, name) of one stored object.
Ref = tuple[str, str, str]

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


def _owner_uids(obj: Obj | None) -> set[str]:
    if obj is None:
        return set()
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return {str(r["uid"]) for r in refs if isinstance(r, dict) and r.get("uid")}


def _deleting_with(obj: Obj, finalizer: str) -> bool:
    meta = obj.get("metadata") or {}
    return bool(meta.get("deletionTimestamp")) and finalizer in (meta.get("finalizers") or [])


class GarbageCollector(Controller):
    name = "garbagecollector"

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        registry.gc_enabled = True  # the delete path now adds orphan/foregroundDeletion finalizers
        #: uid -> where the object with that uid lives (every resource, built from the events).
        self.objects: dict[str, Ref] = {}
        #: owner uid -> dependents that name it in an ownerReference.
        self.dependents: dict[str, set[Ref]] = {}

    # -- indexes (maintained under the store lock: listeners run inside the commit) ----------------

    def _index(self, ref: Ref, obj: Obj | None, prev: Obj | None) -> None:
        for uid in _owner_uids(prev) - _owner_uids(obj):
            deps = self.dependents.get(uid)
            if deps is not None:
                deps.discard(ref)
                if not deps:
                    del self.dependents[uid]
        for uid in _owner_uids(obj):
            self.dependents.setdefault(uid, set()).add(ref)
        prev_uid = (prev or {}).get("metadata", {}).get("uid")
        uid = (obj or {}).get("metadata", {}).get("uid")
        if prev_uid and prev_uid != uid and self.objects.get(prev_uid) == ref:
            del self.objects[prev_uid]
        if uid:
            self.objects[uid] = ref

    def initial_keys(self) -> list[Hashable]:
        store = self.registry.store
        keys: list[Hashable] = []
        with store.lock:
            self.objects.clear()
            self.dependents.clear()
            for resource in store.resources():
                for obj in store.list(resource)[0]:
                    meta = obj["metadata"]
                    ref = (resource, meta.get("namespace") or "", meta["name"])
                    self._index(ref, obj, None)
                    if meta.get("ownerReferences") or meta.get("deletionTimestamp"):
                        keys.append(ref)
        return keys

    def keys_for(self, event: Event) -> list[Hashable]:
        ref: Ref = (event.resource, event.key[0], event.key[1])
        meta = event.obj.get("metadata") or {}
        uid = str(meta.get("uid") or "")
        if event.type == DELETED:
            self._index(ref, None, event.prev)
            if uid:
                self.objects.pop(uid, None)
        else:
            self._index(ref, event.obj, event.prev)
        keys: list[Hashable] = []
        if event.type != DELETED and (meta.get("ownerReferences") or meta.get("deletionTimestamp")):
            keys.append(ref)
        # Its dependents may now be dangling, or waiting on a foreground deletion.
        if uid and (event.type == DELETED or meta.get("deletionTimestamp")):
            keys.extend(self.dependents.get(uid, ()))
        # A foreground-deleting owner waits on this dependent.
        for owner_uid in _owner_uids(event.obj) | _owner_uids(event.prev):
            owner = self.objects.get(owner_uid)
            if owner is not None:
                keys.append(owner)
        return keys

    # -- reconcile -------------------------------------------------------------------------------

    def _get(self, ref: Ref) -> Obj | None:
        return self.registry.store.get(ref[0], ref[1], ref[2])

    def _live_owner(self, dependent_ns: str, uid: str) -> Obj | None:
        """The owner with this uid, if it exists where the dependent may reference it."""
        where = self.objects.get(uid)
        if where is None:
            return None
        owner = self._get(where)
        if owner is None or owner["metadata"].get("uid") != uid:
            return None
        owner_ns = owner["metadata"].get("namespace") or ""
        if owner_ns and owner_ns != dependent_ns:
            return None  # a namespaced owner in another namespace is treated as absent
        return owner

    def reconcile(self, key: Hashable) -> bool:
        assert isinstance(key, tuple)
        ref: Ref = (str(key[0]), str(key[1]), str(key[2]))
        if ref[0] not in self.registry.by_key:
            return False
        try:
            obj = self._get(ref)
            if obj is None:
                return False
            if _deleting_with(obj, ORPHAN):
                self._orphan_dependents(ref, obj)
            elif _deleting_with(obj, FOREGROUND):
                self._process_deleting_dependents(ref, obj)
            obj = self._get(ref)
            if obj is not None and obj["metadata"].get("ownerReferences"):
                self._attempt_to_delete(ref, obj)
        except errors.StatusError as exc:
            if exc.code in (404, 409):
                self.enqueue_after(ref, 0.05)  # raced with another writer: look again
                return True
            raise
        return False

    def _dependents_of(self, obj: Obj) -> list[Ref]:
        uid = obj["metadata"].get("uid")
        with self.registry.store.lock:
            return sorted(self.dependents.get(uid, ()))

    def _update(self, ref: Ref, obj: Obj) -> None:
        self.registry.update(self.registry.resource(ref[0]), ref[1], ref[2], obj)

    def _remove_finalizer(self, ref: Ref, finalizer: str) -> None:
        obj = self._get(ref)
        if obj is None or finalizer not in (obj["metadata"].get("finalizers") or []):
            return
        new = deep_copy(obj)
        new["metadata"]["finalizers"] = [f for f in new["metadata"]["finalizers"] if f != finalizer]
        self._update(ref, new)

    def _delete(self, ref: Ref, obj: Obj, policy: str) -> None:
        rt = self.registry.resource(ref[0])
        opts = DeleteOptions(propagation_policy=policy, precondition_uid=obj["metadata"].get("uid"))
        try:
            self.registry.delete(rt, ref[1], ref[2], opts)
        except errors.StatusError as exc:
            if exc.code not in (404, 409):  # gone, or replaced by a new object of the same name
                raise

    def _orphan_dependents(self, ref: Ref, owner: Obj) -> None:
        uid = owner["metadata"]["uid"]
        for dep_ref in self._dependents_of(owner):
            dep = self._get(dep_ref)
            if dep is None or dep_ref[0] not in self.registry.by_key:
                continue
            new = deep_copy(dep)
            refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences", None)
            self._update(dep_ref, new)
        self._remove_finalizer(ref, ORPHAN)

    def _process_deleting_dependents(self, ref: Ref, owner: Obj) -> None:
        uid = owner["metadata"]["uid"]
        blocking: list[tuple[Ref, Obj]] = []
        for dep_ref in self._dependents_of(owner):
            dep = self._get(dep_ref)
            if dep is None:
                continue
            if any(r.get("uid") == uid and r.get("blockOwnerDeletion")
                   for r in dep["metadata"].get("ownerReferences") or []):
                blocking.append((dep_ref, dep))
        if not blocking:
            self._remove_finalizer(ref, FOREGROUND)
            return
        for dep_ref, dep in blocking:
            if not dep["metadata"].get("deletionTimestamp"):
                self._attempt_to_delete(dep_ref, dep)

    def _attempt_to_delete(self, ref: Ref, obj: Obj) -> None:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return  # already being deleted; its own finalizers decide
        refs = meta.get("ownerReferences") or []
        solid: list[Obj] = []
        dangling: list[Obj] = []
        waiting: list[Obj] = []
        for owner_ref in refs:
            owner = self._live_owner(ref[1], str(owner_ref.get("uid")))
            if owner is None:
                dangling.append(owner_ref)
            elif owner_ref.get("blockOwnerDeletion") and _deleting_with(owner, FOREGROUND):
                waiting.append(owner_ref)
            else:
                solid.append(owner_ref)
        if solid:
            if not dangling and not waiting:
                return
            # Some owner lives on: only drop the references to owners that are gone or going.
            new = deep_copy(obj)
            new["metadata"]["ownerReferences"] = solid
            self._update(ref, new)
            return
        if waiting and self.dependents.get(meta.get("uid")):
            self._delete(ref, obj, "Foreground")
            return
        finalizers = meta.get("finalizers") or []
        policy = "Orphan" if ORPHAN in finalizers else "Foreground" if FOREGROUND in finalizers else "Background"
        self._delete(ref, obj, policy)
