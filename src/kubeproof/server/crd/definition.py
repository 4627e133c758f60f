"""``apiextensions.k8s.io/v1`` CustomResourceDefinition: defaults, validation and the deletion rules.

After ``apiextensions-apiserver/pkg/registry/customresourcedefinition`` (strategy.go, etcd.go) and
``pkg/apis/apiextensions/validation/validation.go``. The naming and establishing conditions are written by
``controllers/crd.py``; serving the new resource is ``server/crd/serving.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubeproof.server.crd import cel
from kubeproof.server.registry.base import Obj, Strategy
from kubeproof.server.validation import names
from kubeproof.server.validation.field import (
    FieldError,
    GoRaw,
    duplicate,
    invalid,
    not_supported,
    required,
)
from kubeproof.server.validation.objectmeta import validate_object_meta, validate_object_meta_update

GROUP = "apiextensions.k8s.io"
RESOURCE_KEY = f"customresourcedefinitions.{GROUP}"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def storage_version(crd: Obj) -> str:
    for version in _list(_map(crd.get("spec")).get("versions")):
        if _map(version).get("storage"):
            return str(version.get("name") or "")
    return ""


def set_condition(crd: Obj, type_: str, status: str, reason: str, message: str, now: str) -> None:
    """``SetCRDCondition``: the transition time changes only when the status does."""
    crd_status = crd.setdefault("status", {})
    conditions = [dict(c) for c in _list(crd_status.get("conditions"))]
    for condition in conditions:
        if condition.get("type") == type_:
            if condition.get("status") != status:
                condition["lastTransitionTime"] = now
            condition.update({"status": status, "reason": reason, "message": message})
            break
    else:
        conditions.append({"type": type_, "status": status, "lastTransitionTime": now, "reason": reason,
                           "message": message})
    crd_status["conditions"] = conditions


def condition_true(crd: Obj, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True"
               for c in _list(_map(crd.get("status")).get("conditions")))


def _default(crd: Obj) -> None:
    """``SetDefaults_CustomResourceDefinition`` and friends (v1)."""
    spec = crd.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    names_ = spec.get("names")
    if isinstance(names_, dict):
        kind = names_.get("kind")
        if isinstance(kind, str) and kind:
            names_.setdefault("singular", kind.lower())
            names_.setdefault("listKind", kind + "List")
    conversion = spec.setdefault("conversion", {})
    if isinstance(conversion, dict):
        conversion.setdefault("strategy", "None")


def _dns1035(path: str, value: str) -> list[FieldError]:
    errs = names.is_dns1035_label(value)
    return [invalid(path, value, ",".join(errs))] if errs else []


def _validate_names(names_: dict[str, Any], path: str) -> list[FieldError]:
    """``ValidateCustomResourceDefinitionNames``."""
    errs: list[FieldError] = []
    plural = str(names_.get("plural") or "")
    singular = str(names_.get("singular") or "")
    kind = str(names_.get("kind") or "")
    list_kind = str(names_.get("listKind") or "")
    if plural:
        errs += _dns1035(f"{path}.plural", plural)
    else:
        errs.append(required(f"{path}.plural"))
    if singular:
        errs += _dns1035(f"{path}.singular", singular)
    for index, short in enumerate(_list(names_.get("shortNames"))):
        errs += _dns1035(f"{path}.shortNames[{index}]", str(short))
    if kind:
        problems = names.is_dns1035_label(kind.lower())
        if problems:
            errs.append(invalid(f"{path}.kind", kind, "may have mixed case, but should otherwise match: "
                                + ",".join(problems)))
    else:
        errs.append(required(f"{path}.kind"))
    if list_kind:
        problems = names.is_dns1035_label(list_kind.lower())
        if problems:
            errs.append(invalid(f"{path}.listKind", list_kind, "may have mixed case, but should otherwise match: "
                                + ",".join(problems)))
    if not list_kind or list_kind == kind:
        errs.append(invalid(f"{path}.listKind", list_kind, "kind and listKind may not be the same or empty"))
    for index, category in enumerate(_list(names_.get("categories"))):
        errs += _dns1035(f"{path}.categories[{index}]", str(category))
    return errs


def _structural(schema: Any, path: str) -> list[FieldError]:
    """The structural-schema rule clients trip over most: every specified field needs a type."""
    errs: list[FieldError] = []
    if not isinstance(schema, dict):
        return errs
    for name, sub in sorted(_map(schema.get("properties")).items()):
        sub_path = f"{path}.properties[{name}]"
        if isinstance(sub, dict) and not sub.get("type") and not sub.get("x-kubernetes-int-or-string") \
                and not sub.get("x-kubernetes-preserve-unknown-fields"):
            errs.append(required(f"{sub_path}.type", "must not be empty for specified object fields"))
        errs += _structural(sub, sub_path)
    if isinstance(schema.get("items"), dict):
        items = schema["items"]
        if not items.get("type") and not items.get("x-kubernetes-int-or-string") \
                and not items.get("x-kubernetes-preserve-unknown-fields"):
            errs.append(required(f"{path}.items.type", "must not be empty for specified array items"))
        errs += _structural(items, f"{path}.items")
    if isinstance(schema.get("additionalProperties"), dict):
        errs += _structural(schema["additionalProperties"], f"{path}.additionalProperties")
    return errs


def _validate_versions(versions: list[Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    storage = served = 0
    for index, version in enumerate(versions):
        version = _map(version)
        vpath = f"{path}[{index}]"
        name = str(version.get("name") or "")
        if not name:
            errs.append(required(f"{vpath}.name"))
        else:
            errs += _dns1035(f"{vpath}.name", name)
            if name in seen:
                errs.append(duplicate(f"{vpath}.name", name))
            seen.add(name)
        storage += bool(version.get("storage"))
        served += bool(version.get("served"))
        schema = _map(version.get("schema")).get("openAPIV3Schema")
        if not isinstance(schema, dict):
            errs.append(required(f"{vpath}.schema.openAPIV3Schema", "schemas are required"))
        else:
            if schema.get("type") != "object":
                errs.append(invalid(f"{vpath}.schema.openAPIV3Schema.type", schema.get("type") or "",
                                    "must be object at the root"))
            errs += _structural(schema, f"{vpath}.schema.openAPIV3Schema")
            errs += cel.check_schema(schema, f"{vpath}.schema.openAPIV3Schema")
        sub = _map(version.get("subresources"))
        scale = sub.get("scale")
        if isinstance(scale, dict):
            spath = f"{vpath}.subresources.scale"
            for field_name in ("specReplicasPath", "statusReplicasPath"):
                value = scale.get(field_name)
                if not value:
                    errs.append(required(f"{spath}.{field_name}"))
                elif not str(value).startswith("."):
                    errs.append(invalid(f"{spath}.{field_name}", value, "should be a json path"))
    value = GoRaw("[]apiextensions.CustomResourceDefinitionVersion{...}")
    if storage != 1:
        errs.append(invalid(path, value, "must have exactly one version marked as storage version"))
    if versions and not served:
        errs.append(invalid(path, value, "must have at least one version marked as served"))
    return errs


def validate_crd(crd: Obj) -> list[FieldError]:
    """``ValidateCustomResourceDefinition`` (the rules clients meet; see docs/crds.md for the rest)."""
    errs = validate_object_meta(crd.get("metadata"), namespaced=False, name_fn=names.name_is_dns_subdomain,
                                kube_finalizers=False)
    spec = _map(crd.get("spec"))
    names_ = _map(spec.get("names"))
    group = str(spec.get("group") or "")
    name = str(_map(crd.get("metadata")).get("name") or "")
    plural = str(names_.get("plural") or "")
    if name != f"{plural}.{group}":
        errs.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if not group:
        errs.append(required("spec.group"))
    else:
        problems = names.is_dns1123_subdomain(group)
        if problems:
            errs.append(invalid("spec.group", group, ",".join(problems)))
        elif "." not in group:
            errs.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    scope = spec.get("scope")
    if not scope:
        errs.append(required("spec.scope"))
    elif scope not in ("Cluster", "Namespaced"):
        errs.append(not_supported("spec.scope", scope, ["Cluster", "Namespaced"]))
    versions = _list(spec.get("versions"))
    if not versions:
        errs.append(invalid("spec.versions", GoRaw("[]apiextensions.CustomResourceDefinitionVersion(nil)"),
                            "must have exactly one version marked as storage version"))
    else:
        errs += _validate_versions(versions, "spec.versions")
    errs += _validate_names(names_, "spec.names")
    strategy = _map(spec.get("conversion")).get("strategy")
    if strategy not in ("None", "Webhook"):
        errs.append(not_supported("spec.conversion.strategy", strategy, ["None", "Webhook"]))
    return errs


class CRDStrategy(Strategy):
    """``strategy.go``: generation tracks the spec, status is a subresource, storedVersions on create."""

    track_generation: ClassVar[bool] = True
    has_status: ClassVar[bool] = True
    return_deleted_object: ClassVar[bool] = False

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        _default(obj)
        stored = storage_version(obj)
        obj["status"] = {"acceptedNames": {"kind": "", "plural": ""}, "storedVersions": [stored] if stored else []}

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        _default(new)
        stored = storage_version(new)
        status = dict(new.get("status") or {})
        versions = list(status.get("storedVersions") or [])
        if stored and stored not in versions:
            versions.append(stored)  # the new storage version is recorded at once
            status["storedVersions"] = versions
            new["status"] = status

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_crd(obj)

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), kube_finalizers=False)
        errs += validate_crd(new)
        old_spec, new_spec = _map(old.get("spec")), _map(new.get("spec"))
        if old_spec.get("group") != new_spec.get("group"):
            errs.append(invalid("spec.group", new_spec.get("group"), "field is immutable"))
        old_plural = _map(old_spec.get("names")).get("plural")
        if old_plural != _map(new_spec.get("names")).get("plural"):
            errs.append(invalid("spec.names.plural", _map(new_spec.get("names")).get("plural"),
                                "field is immutable"))
        if _map(new.get("metadata")).get("deletionTimestamp") is None:
            stored = set(_list(_map(new.get("status")).get("storedVersions")))
            served = {str(_map(v).get("name")) for v in _list(new_spec.get("versions"))}
            for index, version in enumerate(sorted(stored - served)):
                errs.append(invalid(f"status.storedVersions[{index}]", version,
                                    "must appear in spec.versions"))
        return errs

    def pending_finalizers(self, obj: Obj) -> bool:
        # etcd.go Delete: a CRD always goes through the cleanup finalizer.
        return True if not (obj.get("metadata") or {}).get("deletionTimestamp") else super().pending_finalizers(obj)

    def mark_deleting(self, obj: Obj) -> None:
        meta = obj.setdefault("metadata", {})
        finalizers = list(meta.get("finalizers") or [])
        if CLEANUP_FINALIZER not in finalizers:
            finalizers.append(CLEANUP_FINALIZER)
        meta["finalizers"] = finalizers
        set_condition(obj, "Terminating", "True", "InstanceDeletionPending",
                      "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
                      str(meta.get("deletionTimestamp") or ""))
