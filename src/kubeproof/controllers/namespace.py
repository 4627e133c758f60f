"""Namespace lifecycle: a deleted namespace empties itself, then goes.

After ``pkg/controller/namespace/deletion/namespaced_resources_deleter.go``: delete every namespaced
object in it, report progress in the status conditions, and once nothing is left remove the
``kubernetes`` finalizer (``/finalize``) and delete the namespace.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kubeproof.controllers.base import Controller
from kubeproof.server import errors
from kubeproof.server.options import DeleteOptions
from kubeproof.server.registry.generic import deep_copy, now_rfc3339
from kubeproof.server.store import Event

FINALIZER = "kubernetes"


def _condition(type_: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": type_, "status": status, "lastTransitionTime": now_rfc3339(), "reason": reason,
            "message": message}


class NamespaceController(Controller):
    name = "namespace"

    def __init__(self, registry: Any) -> None:
        super().__init__(registry)
        self.terminating: set[str] = set()

    def initial_keys(self) -> list[Hashable]:
        items, _ = self.registry.store.list("namespaces")
        return [ns["metadata"]["name"] for ns in items if ns["metadata"].get("deletionTimestamp")]

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == "namespaces":
            if event.obj["metadata"].get("deletionTimestamp") and event.type != "DELETED":
                self.terminating.add(event.key[1])
                return [event.key[1]]
            self.terminating.discard(event.key[1])
            return []
        namespace = event.key[0]
        if namespace and namespace in self.terminating:
            return [namespace]
        return []

    def reconcile(self, key: Hashable) -> bool:
        name = str(key)
        registry = self.registry
        ns_rt = registry.resource("namespaces")
        ns = registry.store.get("namespaces", "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            self.terminating.discard(name)
            return False
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or []):
            return False
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        for rt in list(registry.by_key.values()):
            if not rt.namespaced or "delete" not in rt.verbs:
                continue
            items, _ = registry.store.list(rt.key, name)
            for obj in items:
                meta = obj["metadata"]
                if not meta.get("deletionTimestamp"):
                    try:
                        registry.delete(rt, name, meta["name"], DeleteOptions(propagation_policy="Background"))
                    except errors.StatusError as exc:
                        if exc.code != 404:
                            raise
                    current = registry.store.get(rt.key, name, meta["name"])
                    if current is None:
                        continue
                    meta = current["metadata"]
                resource = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
                remaining[resource] = remaining.get(resource, 0) + 1
                for finalizer in meta.get("finalizers") or []:
                    finalizers[finalizer] = finalizers.get(finalizer, 0) + 1
        self._set_conditions(name, remaining, finalizers)
        if remaining:
            return True
        ns = registry.store.get("namespaces", "", name)
        if ns is None:
            return False
        finalized = deep_copy(ns)
        finalized["spec"]["finalizers"] = [f for f in ns["spec"].get("finalizers", []) if f != FINALIZER]
        registry.update(ns_rt, "", name, finalized, subresource="finalize")
        try:
            registry.delete(ns_rt, "", name, DeleteOptions())
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
        return False

    def _set_conditions(self, name: str, remaining: dict[str, int], finalizers: dict[str, int]) -> None:
        ns = self.registry.store.get("namespaces", "", name)
        if ns is None:
            return
        if remaining:
            content = _condition(
                "NamespaceContentRemaining", "True", "SomeResourcesRemain",
                "Some resources are remaining: "
                + ", ".join(f"{r} has {n} resource instances" for r, n in sorted(remaining.items())),
            )
        else:
            content = _condition("NamespaceContentRemaining", "False", "ContentRemoved",
                                 "All content successfully removed")
        if finalizers:
            held = _condition(
                "NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: "
                + ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items())),
            )
        else:
            held = _condition("NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers",
                              "All content-preserving finalizers finished")
        wanted = [
            _condition("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered",
                       "All resources successfully discovered"),
            _condition("NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions",
                       "All legacy kube types successfully parsed"),
            _condition("NamespaceDeletionContentFailure", "False", "ContentDeleted",
                       "All content successfully deleted, may be waiting on finalization"),
            content,
            held,
        ]
        old = {c["type"]: c for c in (ns.get("status") or {}).get("conditions") or []}
        conditions = []
        for cond in wanted:
            prev = old.get(cond["type"])
            if prev and all(prev.get(k) == cond[k] for k in ("status", "reason", "message")):
                conditions.append(prev)
            else:
                conditions.append(cond)
        if conditions == (ns.get("status") or {}).get("conditions"):
            return
        updated = deep_copy(ns)
        updated.setdefault("status", {})["conditions"] = conditions
        self.registry.update(self.registry.resource("namespaces"), "", name, updated, subresource="status")
