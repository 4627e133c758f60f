"""``pods/binding``: assign a pod to a node, as the scheduler does (``pkg/registry/core/pod/storage``
``BindingREST``). The pod's ``spec.nodeName`` is otherwise immutable; binding sets it once, adds the
binding's annotations and the ``PodScheduled`` condition, in one write."""

from __future__ import annotations

from typing import Any

from kubeproof.server import errors
from kubeproof.server.registry.base import Subresource
from kubeproof.server.registry.generic import Registry, deep_copy, now_rfc3339
from kubeproof.server.validation.field import FieldError, not_supported, required

Obj = dict[str, Any]


def bind_pod(registry: Registry, namespace: str, name: str, node: str, *, uid: str | None = None,
             annotations: dict[str, str] | None = None) -> Obj:
    """Bind the pod to ``node``; returns the stored pod. Conflict when it is bound already or being
    deleted, as kube-apiserver answers."""
    rt = registry.resource("pods")
    with registry.store.lock:
        pod = registry.store.get(rt.key, namespace, name)
        if pod is None:
            raise errors.not_found("pods", "", name)
        registry._check_write("create", rt, namespace, name)  # fault injection sees binds too
        meta = pod["metadata"]
        if uid is not None and uid != meta.get("uid"):
            raise errors.conflict(
                "Pod", "", name,
                f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.get('uid')}")
        if meta.get("deletionTimestamp"):
            raise errors.conflict("pods", "", name, f"pod {name} is being deleted, cannot be assigned to a host")
        current = (pod.get("spec") or {}).get("nodeName")
        if current:
            raise errors.conflict("pods", "", name, f'pod {name} is already assigned to node "{current}"')
        new = deep_copy(pod)
        new["spec"]["nodeName"] = node
        if annotations:
            new["metadata"].setdefault("annotations", {}).update(annotations)
        status = new.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": now_rfc3339(registry.clock.now())})
        status["conditions"] = conditions
        stored = registry.store.update(rt.key, new)
        assert stored is not None
        return stored


def _binding_errors(binding: Obj) -> list[FieldError]:
    target = binding.get("target") or {}
    errs: list[FieldError] = []
    if target.get("kind") not in (None, "", "Node"):
        errs.append(not_supported("target.kind", target.get("kind"), ["Node", "<empty>"]))
    if not target.get("name"):
        errs.append(required("target.name", ""))
    return errs


class BindingHandler:
    """The ``create_handlers`` entry for ``pods/binding``."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def __call__(self, user: Any, namespace: str, name: str, data: Obj) -> tuple[int, Obj]:
        meta = data.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request("name in URL does not match name in Binding object")
        errs = _binding_errors(data)
        if errs:
            raise errors.invalid("Binding", "", name, errs)
        bind_pod(self.registry, namespace, name, str(data["target"]["name"]), uid=meta.get("uid"),
                 annotations=meta.get("annotations"))
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def install_binding(registry: Registry, create_handlers: dict[tuple[str, str], Any]) -> None:
    """Serve ``POST pods/{name}/binding``."""
    registry.resource("pods").subresources["binding"] = Subresource("binding", ["create"], kind="Binding")
    create_handlers[("pods", "binding")] = BindingHandler(registry)


__all__ = ["bind_pod", "install_binding"]
