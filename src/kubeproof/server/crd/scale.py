"""The ``scale`` subresource of a custom resource (``customresource/etcd.go`` ``ScaleREST``).

The Scale is read from the CRD's ``specReplicasPath``, ``statusReplicasPath`` and ``labelSelectorPath``;
a write sets ``specReplicasPath`` in the custom resource (a missing path is created) with the Scale's
resourceVersion, so a stale Scale is a 409 on the parent.
"""

from __future__ import annotations

from typing import Any

from kubeproof.server import errors
from kubeproof.server.crd.resource import CustomResourceStrategy
from kubeproof.server.options import Query
from kubeproof.server.registry.base import Obj, ResourceType
from kubeproof.server.registry.generic import ManageFields, deep_copy
from kubeproof.server.scale import SCALE, SCALE_API_VERSION, ScaleStorage
from kubeproof.server.validation.field import invalid


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _segments(path: str) -> list[str]:
    return [p for p in path.lstrip(".").split(".") if p]


def _get(obj: Obj, path: str) -> Any:
    current: Any = obj
    for part in _segments(path):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def _set(obj: Obj, path: str, value: Any) -> None:
    parts = _segments(path)
    current = obj
    for part in parts[:-1]:
        nxt = current.get(part)
        if not isinstance(nxt, dict):
            nxt = current[part] = {}
        current = nxt
    current[parts[-1]] = value


class CustomScaleStorage(ScaleStorage):
    """Same signatures as the built-in ``ScaleStorage``, paths from the CRD."""

    def __init__(self, registry: Any, parent: ResourceType) -> None:
        super().__init__(registry, parent)
        strategy = parent.strategy
        assert isinstance(strategy, CustomResourceStrategy) and strategy.scale is not None
        self.spec_path = str(strategy.scale.get("specReplicasPath") or ".spec.replicas")
        self.status_path = str(strategy.scale.get("statusReplicasPath") or ".status.replicas")
        self.selector_path = str(strategy.scale.get("labelSelectorPath") or "")

    def _parent(self, namespace: str, name: str) -> Obj:
        obj = self.registry.store.get(self.parent.key, namespace if self.parent.namespaced else "", name)
        if obj is None:
            raise errors.not_found(self.parent.plural, self.parent.group, name)
        return obj

    def scale_from(self, parent: Obj) -> Obj:
        meta = parent.get("metadata") or {}
        scale_meta: dict[str, Any] = {"name": meta.get("name")}
        for key in ("namespace", "uid", "resourceVersion"):
            if meta.get(key):
                scale_meta[key] = meta[key]
        scale_meta["creationTimestamp"] = meta.get("creationTimestamp")
        spec: dict[str, Any] = {}
        replicas = _get(parent, self.spec_path)
        if isinstance(replicas, int) and replicas:
            spec["replicas"] = replicas
        status: dict[str, Any] = {"replicas": _get(parent, self.status_path) or 0}
        selector = _get(parent, self.selector_path) if self.selector_path else None
        if isinstance(selector, str) and selector:
            status["selector"] = selector
        return {"kind": "Scale", "apiVersion": SCALE_API_VERSION, "metadata": scale_meta, "spec": spec,
                "status": status}

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        with self.registry.store.lock:
            return self.scale_from(self._parent(namespace, name))

    def update(self, rt: ResourceType, namespace: str, name: str, obj: Obj, *, subresource: str = SCALE,
               dry_run: bool = False, manage: ManageFields | None = None) -> Obj:
        with self.registry.store.lock:
            parent = self._parent(namespace, name)
            scale = deep_copy(obj)
            meta = _mapping(scale.get("metadata"))
            sent = meta.get("name")
            if sent and sent != name:
                raise errors.bad_request(
                    f"the name of the object ({sent}) does not match the name on the URL ({name})")
            spec = _mapping(scale.get("spec"))
            replicas = spec.get("replicas") or 0
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.invalid("Scale", "autoscaling", name, [
                    invalid("spec.replicas", replicas, "must be greater than or equal to 0"),
                ])
            uid = meta.get("uid")
            parent_meta = parent.get("metadata") or {}
            if uid and uid != parent_meta.get("uid"):
                raise errors.conflict(
                    f"{self.parent.plural}/{SCALE}", self.parent.group, name,
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: {parent_meta.get('uid')}",
                )
            new_parent = deep_copy(parent)
            _set(new_parent, self.spec_path, replicas)
            new_parent["metadata"]["resourceVersion"] = meta.get("resourceVersion") or parent_meta.get(
                "resourceVersion")
            stored = self.registry.update(self.parent, namespace, name, new_parent, dry_run=dry_run)
            return self.scale_from(stored)

    def apply(self, namespace: str, name: str, query: Query, body: bytes) -> Obj:
        """Server-side apply of a Scale: its ``spec.replicas`` is written through :meth:`update`."""
        from kubeproof.server.patch.apply import decode_body, patch_options

        _manager, _force, dry_run, validation = patch_options(query)
        config = decode_body(body, strict=validation == "Strict")
        with self.registry.store.lock:
            live = self.scale_from(self._parent(namespace, name))
            replicas = ((config or {}).get("spec") or {}).get("replicas")
            if replicas is not None:
                live.setdefault("spec", {})["replicas"] = replicas
            live["metadata"].pop("resourceVersion", None)
            return self.update(self.rt, namespace, name, live, dry_run=dry_run)
