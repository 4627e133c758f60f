"""The ``scale`` subresource of the built-in workloads, as kube-apiserver's ``ScaleREST`` serves it.

``pkg/registry/apps/{deployment,replicaset,statefulset}/storage``: a GET answers with an ``autoscaling/v1``
``Scale`` made from the parent (its name, namespace, uid, resourceVersion and creationTimestamp,
``spec.replicas``, ``status.replicas`` and the parent's selector as a string); a write turns the old Scale
into a new one (PUT body, any patch or an apply), validates it (``ValidateScale``), checks a uid
precondition and then stores the parent with the new ``spec.replicas`` and the Scale's resourceVersion
(so a stale one is a 409 on the parent). The managedFields of the parent are shown to the Scale's field
manager through ``managedfields.NewScaleHandler`` (``ToSubresource`` / ``ToParent``): the owner of
``spec.replicas`` owns the Scale's ``spec.replicas`` and back.
"""

from __future__ import annotations

import functools
from typing import Any

from kubeproof.server import errors
from kubeproof.server import managedfields as mf
from kubeproof.server.options import Query
from kubeproof.server.registry.base import Obj, ResourceType, Strategy
from kubeproof.server.registry.generic import ManageFields, Registry, deep_copy, now_rfc3339
from kubeproof.server.selectors import label_selector_from_dict
from kubeproof.server.typecheck import check_types
from kubeproof.server.validation.field import invalid

SCALE = "scale"
SCALE_API_VERSION = "autoscaling/v1"
#: ``replicasPathInDeployment`` & co.: where the Scale's ``spec.replicas`` lives in the parent.
REPLICAS_PATH: mf.Path = (("f", "spec"), ("f", "replicas"))
SCALE_REPLICAS_PATH: mf.Path = (("f", "spec"), ("f", "replicas"))


@functools.cache
def _scale_type(plural: str, namespaced: bool) -> ResourceType:
    return ResourceType(group="autoscaling", version="v1", kind="Scale", plural=plural, singular="",
                        namespaced=namespaced, strategy=Strategy())


def scale_type(parent: ResourceType) -> ResourceType:
    """The Scale as a resource of its own (bodies, field manager and printer use it)."""
    return _scale_type(parent.plural, parent.namespaced)


def serves_scale(rt: ResourceType, subresource: str) -> bool:
    """Whether a request is for the built-in ``scale`` subresource (custom resources have their own)."""
    return subresource == SCALE and not rt.typed_list_items and SCALE in rt.subresources


def scale_from(parent: Obj) -> Obj:
    """``scaleFromDeployment`` (and the ReplicaSet and StatefulSet twins)."""
    meta = parent.get("metadata") or {}
    spec = parent.get("spec") or {}
    status = parent.get("status") or {}
    selector = label_selector_from_dict(spec.get("selector"))  # 400 for a selector that does not parse
    scale_meta: dict[str, Any] = {"name": meta.get("name")}
    for key in ("namespace", "uid", "resourceVersion"):
        if meta.get(key):
            scale_meta[key] = meta[key]
    scale_meta["creationTimestamp"] = meta.get("creationTimestamp")
    scale_spec: dict[str, Any] = {}
    if spec.get("replicas"):
        scale_spec["replicas"] = spec["replicas"]  # int32 with omitempty: 0 is left out
    scale_status: dict[str, Any] = {"replicas": status.get("replicas") or 0}
    if str(selector):
        scale_status["selector"] = str(selector)
    return {"kind": "Scale", "apiVersion": SCALE_API_VERSION, "metadata": scale_meta, "spec": scale_spec,
            "status": scale_status}


# -- managedFields: ScaleHandler ---------------------------------------------------------------------


def _to_subresource(parent_entries: Any) -> list[dict[str, Any]]:
    """``ScaleHandler.ToSubresource``: the owners of the parent's replicas own the Scale's."""
    managers, times = mf.decode_managed_fields(parent_entries)
    scale_managers: mf.Managers = {}
    for ident, versioned in managers.items():
        if versioned.set.has(REPLICAS_PATH):
            scale_managers[ident] = mf.VersionedSet(mf.FieldSet.of(SCALE_REPLICAS_PATH), SCALE_API_VERSION,
                                                    versioned.applied)
    return mf.encode_managed_fields(scale_managers, {k: v for k, v in times.items() if k in scale_managers})


def _to_parent(parent_entries: Any, scale_entries: Any, parent_api_version: str) -> list[dict[str, Any]]:
    """``ScaleHandler.ToParent``: the Scale's owners of replicas become the parent's."""
    parent, parent_times = mf.decode_managed_fields(parent_entries)
    scale, scale_times = mf.decode_managed_fields(scale_entries)
    managers: mf.Managers = {}
    times: mf.Times = {}
    for ident, versioned in parent.items():
        if not versioned.set.has(REPLICAS_PATH) or ident in scale:
            managers[ident], times[ident] = versioned, parent_times.get(ident)
            continue
        # The Scale's writer took replicas from this manager.
        rest = versioned.set.difference(mf.FieldSet.of(REPLICAS_PATH))
        if not rest.empty():
            managers[ident] = mf.VersionedSet(rest, versioned.api_version, versioned.applied)
            times[ident] = parent_times.get(ident)
    for ident, versioned in scale.items():
        if ident in parent:
            continue
        managers[ident] = mf.VersionedSet(mf.FieldSet.of(REPLICAS_PATH), parent_api_version, versioned.applied)
        times[ident] = scale_times.get(ident)
    return mf.encode_managed_fields(managers, times)


# -- storage -------------------------------------------------------------------------------------------


def _parent(registry: Registry, rt: ResourceType, namespace: str, name: str) -> Obj:
    obj = registry.store.get(rt.key, namespace if rt.namespaced else "", name)
    if obj is None:
        raise errors.not_found(f"{rt.plural}/{SCALE}", rt.group, name)
    return obj


def _live_scale(parent: Obj) -> Obj:
    """The old Scale a write starts from, with the managedFields its field manager sees."""
    scale = scale_from(parent)
    try:
        entries = _to_subresource((parent.get("metadata") or {}).get("managedFields"))
    except mf.DecodeError:
        entries = []
    if entries:
        scale["metadata"]["managedFields"] = entries
    return scale


class ScaleStorage:
    """What the HTTP layer calls instead of the registry for ``.../{name}/scale`` (same signatures)."""

    def __init__(self, registry: Registry, parent: ResourceType) -> None:
        self.registry = registry
        self.parent = parent
        self.rt = scale_type(parent)

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        with self.registry.store.lock:
            return scale_from(_parent(self.registry, self.parent, namespace, name))

    def update(self, rt: ResourceType, namespace: str, name: str, obj: Obj, *, subresource: str = SCALE,
               dry_run: bool = False, manage: ManageFields | None = None) -> Obj:
        """``ScaleREST.Update``: the new Scale is ``obj``; answers with the Scale of the stored parent."""
        parent_rt = self.parent
        with self.registry.store.lock:
            parent = _parent(self.registry, parent_rt, namespace, name)
            old_scale = _live_scale(parent)
            scale = deep_copy(obj)
            scale["kind"], scale["apiVersion"] = "Scale", SCALE_API_VERSION
            meta = scale.get("metadata")
            if not isinstance(meta, dict):
                meta = scale["metadata"] = {}
            _check_name(meta, name, namespace)
            if manage is not None:
                manage(old_scale, scale)
            check_types(self.rt, scale)  # a patched Scale is decoded into its Go struct too
            spec = scale.get("spec")
            replicas = (spec.get("replicas") if isinstance(spec, dict) else None) or 0
            if replicas < 0:
                raise errors.invalid("Scale", "autoscaling", name, [
                    invalid("spec.replicas", replicas, "must be greater than or equal to 0"),
                ])
            parent_meta = parent.get("metadata") or {}
            uid = meta.get("uid")
            if uid and uid != parent_meta.get("uid"):
                raise errors.conflict(
                    f"{parent_rt.plural}/{SCALE}", parent_rt.group, name,
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: {parent_meta.get('uid')}",
                )
            new_parent = deep_copy(parent)
            new_parent.setdefault("spec", {})["replicas"] = replicas
            new_meta = new_parent["metadata"]
            new_meta["resourceVersion"] = meta.get("resourceVersion") or ""
            entries = _to_parent(parent_meta.get("managedFields"), meta.get("managedFields"), parent_rt.api_version)
            mf.set_managed_fields(new_parent, entries)
            stored = self.registry.update(parent_rt, namespace, name, new_parent, subresource=SCALE, dry_run=dry_run)
            return scale_from(stored)

    def apply(self, namespace: str, name: str, query: Query, body: bytes) -> Obj:
        """Server-side apply of a Scale (``application/apply-patch+yaml`` on ``.../scale``)."""
        from kubeproof.server.patch.apply import apply_config, decode_body, patch_options

        manager, force, dry_run, validation = patch_options(query)
        config = decode_body(body, strict=validation == "Strict")
        fm = mf.field_manager_for(self.rt, SCALE)
        with self.registry.store.lock:
            live = _live_scale(_parent(self.registry, self.parent, namespace, name))
            scale, entries = apply_config(fm, live, config, manager, force,
                                          now_rfc3339(self.registry.clock.now()))
            mf.set_managed_fields(scale, entries)
            return self.update(self.rt, namespace, name, scale, dry_run=dry_run)


def _check_name(meta: dict[str, Any], name: str, namespace: str) -> None:
    """``checkName`` (handlers/rest.go) of the Scale sent."""
    sent = meta.get("name")
    if sent and sent != name:
        raise errors.bad_request(f"the name of the object ({sent}) does not match the name on the URL ({name})")
    sent_ns = meta.get("namespace")
    if namespace and sent_ns and sent_ns != namespace:
        raise errors.bad_request(
            f"the namespace of the object ({sent_ns}) does not match the namespace on the request ({namespace})"
        )
