"""Serving custom resources as CRDs come and go (the apiextensions-apiserver ``crdHandler``).

A store listener sees every committed CRD change and, in the same commit, registers one ResourceType
per served version (or unregisters them when the CRD is gone), so the resource is served under
``/apis/{group}/{version}`` and in discovery at once. A CRD whose names clash with a CRD served earlier
in the same group is not served; ``controllers/crd.py`` reports that in its NamesAccepted condition.
"""

from __future__ import annotations

from typing import Any

from kubeproof.server import errors
from kubeproof.server.crd import definition
from kubeproof.server.crd.resource import resource_types
from kubeproof.server.registry.base import Obj, ResourceType
from kubeproof.server.registry.generic import Registry
from kubeproof.server.store import Event


def _names(crd: Obj) -> dict[str, Any]:
    spec = crd.get("spec") or {}
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    return names if isinstance(names, dict) else {}


def name_conflict(crd: Obj, others: list[Obj]) -> tuple[str, str] | None:
    """``calculateNamesAndConditions``: (reason, message) of the first clash with another CRD of the group."""
    spec = crd.get("spec") or {}
    group = spec.get("group")
    names = _names(crd)
    plural, singular = names.get("plural"), names.get("singular")
    kind, list_kind = names.get("kind"), names.get("listKind")
    shorts = set(names.get("shortNames") or [])
    for other in others:
        other_spec = other.get("spec") or {}
        if other_spec.get("group") != group or (other.get("metadata") or {}).get("name") == (
                crd.get("metadata") or {}).get("name"):
            continue
        theirs = _names(other)
        resource_names = {theirs.get("plural"), theirs.get("singular"), *(theirs.get("shortNames") or [])}
        if plural in resource_names:
            return "PluralConflict", f'"{plural}" is already in use'
        if singular in resource_names:
            return "SingularConflict", f'"{singular}" is already in use'
        clash = sorted(shorts & resource_names - {None})
        if clash:
            return "ShortNamesConflict", f'"{clash[0]}" is already in use'
        kinds = {theirs.get("kind"), theirs.get("listKind")}
        if kind in kinds:
            return "KindConflict", f'"{kind}" is already in use'
        if list_kind in kinds:
            return "ListKindConflict", f'"{list_kind}" is already in use'
    return None


class CRDServing:
    """Keeps the registry's custom ResourceTypes in step with the stored CRDs."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        #: CRD name -> its served ResourceTypes, and the CRD object they were built from.
        self.served: dict[str, tuple[Obj, list[ResourceType]]] = {}
        registry.store.listeners.append(self.on_event)
        registry.before_write.append(self.before_write)

    def on_event(self, event: Event) -> None:
        if event.resource != definition.RESOURCE_KEY:
            return
        name = str((event.obj.get("metadata") or {}).get("name") or "")
        if event.type == "DELETED":
            self.unserve(name)
        else:
            self.serve(event.obj)

    def others(self, name: str) -> list[Obj]:
        return [crd for key, (crd, _) in self.served.items() if key != name]

    def serve(self, crd: Obj) -> None:
        name = str((crd.get("metadata") or {}).get("name") or "")
        current = self.served.get(name)
        if current is not None and current[0] is crd:
            return
        if current is None and name_conflict(crd, self.others(name)) is not None:
            return  # not served: the CRD controller reports NamesAccepted=False
        if current is not None and _same_serving(current[0], crd):
            self.served[name] = (crd, current[1])
            return
        self.unserve(name)
        rts = resource_types(crd)
        for rt in rts:
            self.registry.register(rt)
        self.served[name] = (crd, rts)

    def unserve(self, name: str) -> None:
        current = self.served.pop(name, None)
        if current is None:
            return
        for rt in current[1]:
            self.registry.unregister(rt)

    def is_served(self, name: str) -> bool:
        return name in self.served

    def before_write(self, verb: str, rt: ResourceType, namespace: str, name: str) -> None:
        """No new custom resources while their CRD is being deleted (``crdHandler``)."""
        if verb != "create" or not rt.typed_list_items:
            return
        crd_name = f"{rt.plural}.{rt.group}"
        current = self.served.get(crd_name)
        if current is not None and (current[0].get("metadata") or {}).get("deletionTimestamp"):
            raise errors.StatusError(
                405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating")


def _same_serving(old: Obj, new: Obj) -> bool:
    """Whether a CRD change leaves what is served unchanged (status-only and metadata-only writes)."""
    return old.get("spec") == new.get("spec") and (
        (old.get("status") or {}).get("acceptedNames") == (new.get("status") or {}).get("acceptedNames"))
