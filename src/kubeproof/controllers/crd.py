"""CRD conditions and cleanup: apiextensions-apiserver's naming, establishing and finalizing controllers.

* Naming (``pkg/controller/status/naming_controller.go``): names that clash with another CRD of the group
  give ``NamesAccepted=False`` (``PluralConflict``, ``KindConflict``, ... ``"x" is already in use``) and
  ``Established=False`` (``NotAccepted``); otherwise ``status.acceptedNames`` are the requested names and
  ``NamesAccepted=True`` (``NoConflicts``, ``no conflicts found``).
* Establishing (``pkg/controller/establish``): ``Established=True`` (``InitialNamesAccepted``, ``the
  initial names have been accepted``) once the names are accepted; the resource is already served by
  then (``server/crd/serving.py``), so ``kubectl wait --for condition=established`` means it can be used.
* Finalizing (``pkg/controller/finalizer/crd_finalizer.go``): a deleted CRD deletes every custom resource
  it serves, waits for them to go (their own finalizers included), then drops the
  ``customresourcecleanup.apiextensions.k8s.io`` finalizer so the CRD goes and its resource is unserved.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kubeproof.controllers.base import Controller
from kubeproof.server import errors
from kubeproof.server.crd import definition, serving_of
from kubeproof.server.crd.serving import name_conflict
from kubeproof.server.options import DeleteOptions
from kubeproof.server.registry.generic import deep_copy, now_rfc3339
from kubeproof.server.store import Event


def _accepted_names(crd: dict[str, Any]) -> dict[str, Any]:
    names = dict((crd.get("spec") or {}).get("names") or {})
    return {k: v for k, v in names.items() if v not in (None, "", [])}


class CRDController(Controller):
    name = "crd"

    def initial_keys(self) -> list[Hashable]:
        items, _ = self.registry.store.list(definition.RESOURCE_KEY)
        return [crd["metadata"]["name"] for crd in items]

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == definition.RESOURCE_KEY:
            name = str(event.obj["metadata"].get("name"))
            if event.type != "DELETED":
                return [name]
            # A deleted CRD may free names another CRD of its group is waiting for.
            items, _ = self.registry.store.list(definition.RESOURCE_KEY)
            return [c["metadata"]["name"] for c in items if not definition.condition_true(c, "NamesAccepted")]
        if event.type == "DELETED":
            crd = self.registry.store.get(definition.RESOURCE_KEY, "", event.resource)
            if crd is not None and crd["metadata"].get("deletionTimestamp"):
                return [event.resource]  # a custom resource of a terminating CRD went away
        return []

    def reconcile(self, key: Hashable) -> bool:
        name = str(key)
        crd = self.registry.store.get(definition.RESOURCE_KEY, "", name)
        if crd is None:
            return False
        if crd["metadata"].get("deletionTimestamp"):
            return self._finalize(crd)
        self._name_and_establish(crd)
        return False

    # -- naming and establishing ---------------------------------------------------------------------

    def _name_and_establish(self, crd: dict[str, Any]) -> None:
        serving = serving_of(self.registry)
        if serving is None:
            return
        name = crd["metadata"]["name"]
        if not serving.is_served(name):
            serving.serve(crd)  # names freed since the CRD was written
        now = now_rfc3339(self.clock.now())
        new = deep_copy(crd)
        conflict = None if serving.is_served(name) else name_conflict(crd, serving.others(name))
        if conflict is not None:
            reason, message = conflict
            definition.set_condition(new, "NamesAccepted", "False", reason, message, now)
            definition.set_condition(new, "Established", "False", "NotAccepted", "not all names are accepted", now)
        else:
            new.setdefault("status", {})["acceptedNames"] = _accepted_names(crd)
            definition.set_condition(new, "NamesAccepted", "True", "NoConflicts", "no conflicts found", now)
            definition.set_condition(new, "Established", "True", "InitialNamesAccepted",
                                     "the initial names have been accepted", now)
        self._write_status(crd, new)

    def _write_status(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if new.get("status") == old.get("status"):
            return
        rt = self.registry.resource(definition.RESOURCE_KEY)
        try:
            self.registry.update(rt, "", old["metadata"]["name"], new, subresource="status")
        except errors.StatusError as exc:
            if exc.code not in (404, 409):
                raise  # a conflict or a deletion brings another event, and another reconcile

    # -- finalizing ------------------------------------------------------------------------------------

    def _finalize(self, crd: dict[str, Any]) -> bool:
        name = crd["metadata"]["name"]
        if definition.CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or []):
            return False
        rt = self.registry.by_key.get(name)
        remaining = 0
        if rt is not None:
            items, _ = self.registry.store.list(rt.key)
            for obj in items:
                meta = obj["metadata"]
                if not meta.get("deletionTimestamp"):
                    try:
                        self.registry.delete(rt, meta.get("namespace") or "", meta["name"], DeleteOptions())
                    except errors.StatusError as exc:
                        if exc.code != 404:
                            raise
                if self.registry.store.get(rt.key, meta.get("namespace") or "", meta["name"]) is not None:
                    remaining += 1
        now = now_rfc3339(self.clock.now())
        new = deep_copy(crd)
        if remaining:
            definition.set_condition(new, "Terminating", "True", "InstanceDeletionInProgress",
                                     "CustomResource deletion is in progress", now)
            self._write_status(crd, new)
            return True
        definition.set_condition(new, "Terminating", "False", "InstanceDeletionCompleted", "removed all instances",
                                 now)
        self._write_status(crd, new)
        current = self.registry.store.get(definition.RESOURCE_KEY, "", name)
        if current is None:
            return False
        done = deep_copy(current)
        done["metadata"]["finalizers"] = [f for f in current["metadata"].get("finalizers") or []
                                          if f != definition.CLEANUP_FINALIZER]
        crd_rt = self.registry.resource(definition.RESOURCE_KEY)
        try:
            self.registry.update(crd_rt, "", name, done)
        except errors.StatusError as exc:
            if exc.code not in (404, 409):
                raise
            self.enqueue(name)
        return False
