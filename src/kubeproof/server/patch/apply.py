"""Server-side apply: ``PATCH`` with ``Content-Type: application/apply-patch+yaml``.

Follows ``apiserver/pkg/endpoints/handlers/patch.go`` (``applyPatcher``: the body is YAML or JSON; a
missing object is created, 201) and the manager layers of ``apimachinery/pkg/util/managedfields/internal``
around ``structured-merge-diff``'s ``Updater.Apply``:

* ``versioncheck.go``: the body's apiVersion/kind must be the endpoint's (400 ``invalid object type``);
* ``lastappliedupdater.go`` / ``lastappliedmanager.go``: for the manager ``kubectl``, conflicts with what
  a client-side ``kubectl apply`` applied (the last-applied annotation) are not conflicts, and that
  annotation follows the applied configuration;
* ``skipnonapplied.go``: the fields of an object nobody tracked yet become ``before-first-apply``'s;
* ``structuredmerge.go``: ``metadata.managedFields`` must not be sent (400); a body that does not fit
  the schema fails as the apiserver fails it (500 ``failed to create typed patch object``);
* ``conflict.go``: conflicts answer 409 with one ``FieldManagerConflict`` cause per field.

The merge, pruning and ownership rules themselves are in ``server/managedfields.py``.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from kubeproof.server import errors, fieldvalidation
from kubeproof.server import managedfields as mf
from kubeproof.server.decoding import go_json_type
from kubeproof.server.options import Query, first, parse_bool
from kubeproof.server.registry.base import Obj, ResourceType
from kubeproof.server.registry.generic import Registry, deep_copy, now_rfc3339
from kubeproof.server.validation.field import FieldError, not_supported, required

FIELD_VALIDATION_VALUES = ["", "Ignore", "Strict", "Warn"]


# -- options ---------------------------------------------------------------------------------------


def patch_options(query: Query) -> tuple[str, bool, bool, str]:
    """``ValidatePatchOptions`` for an apply patch: (fieldManager, force, dryRun, fieldValidation)."""
    force = parse_bool(query, "force") or False
    manager = first(query, "fieldManager") or ""
    validation = first(query, "fieldValidation") or ""
    errs: list[FieldError] = []
    if not manager:
        # kubectl defaults it to "kubectl"; other clients have to say who they are.
        errs.append(required("fieldManager", "is required for apply patch"))
    errs.extend(mf.field_manager_errors(manager))
    dry_run_values = query.get("dryRun") or []
    errs.extend(not_supported("dryRun", v, ["All"]) for v in dry_run_values if v != "All")
    if validation not in FIELD_VALIDATION_VALUES:
        errs.append(not_supported("fieldValidation", validation, FIELD_VALIDATION_VALUES))
    if errs:
        raise errors.invalid_options("PatchOptions", errs)
    return manager, force, bool(dry_run_values), validation


# -- the body --------------------------------------------------------------------------------------


class _GoYAMLLoader(yaml.SafeLoader):
    """YAML as ``sigs.k8s.io/yaml`` reads it into JSON: timestamps stay strings."""


_GoYAMLLoader.yaml_implicit_resolvers = {
    first_char: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first_char, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def decode_body(body: bytes, strict: bool) -> Obj:
    """The applied configuration: 400 ``error decoding YAML: ...`` when it is not an object."""
    from kubeproof.server.http import yaml_to_json

    data: Any
    try:
        data = orjson.loads(body) if body.lstrip()[:1] == b"{" else None
    except orjson.JSONDecodeError:
        data = None
    if data is None:
        try:
            data = yaml_to_json(yaml.load(body, Loader=_GoYAMLLoader))
        except (yaml.YAMLError, RecursionError) as exc:
            raise errors.bad_request(f"error decoding YAML: {str(exc).replace(chr(10), ' ')}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise errors.bad_request(
            "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
            f"{go_json_type(data)} into Go value of type map[string]interface {{}}"
        )
    if strict:
        # applyPatcher: yaml.UnmarshalStrict of the patch (after the apply itself succeeded).
        duplicates = fieldvalidation.yaml_duplicate_errors(body)
        if duplicates:
            raise errors.bad_request(
                "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  "
                + "\n  ".join(duplicates)
            )
    return data


def _gvk_string(api_version: Any, kind: Any) -> str:
    """``schema.GroupVersionKind.String()`` of what the body names (empty when unparsable)."""
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return "/, Kind="
    if api_version.count("/") > 1:
        return "/, Kind="
    group, _, version = api_version.rpartition("/")
    return f"{group}/{version}, Kind={kind}"


def _object_gvknn(rt: ResourceType, obj: Obj) -> str:
    """``objectGVKNN``: ``namespace/name; group/version, Kind=Kind``."""
    meta = _meta(obj)
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}; {rt.group}/{rt.version}, Kind={rt.kind}"


# -- the field manager layers ----------------------------------------------------------------------


def _structured_apply(fm: mf.FieldManager, live: Obj, config: Obj, managers: mf.Managers, times: mf.Times,
                      manager: str, force: bool, now: str) -> tuple[Obj, mf.Managers, mf.Times]:
    """SkipNonApplied → BuildManagerInfo → ManagedFieldsUpdater → StripMeta → StructuredMerge (Apply)."""
    managers, times = dict(managers), dict(times)
    if not managers:
        # Nobody tracked this object's fields yet: they become "before-first-apply"'s first.
        fm.update_managers({}, live, managers, times, mf.BEFORE_FIRST_APPLY, now)
    ident = mf.manager_identifier(manager, "Apply", "", fm.subresource)
    meta = config.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("managedFields"), list):
        raise errors.bad_request("metadata.managedFields must be nil")
    problems = mf.validate(config, fm.root)
    if problems:
        raise errors.internal(
            f"failed to create typed patch object ({_object_gvknn(fm.rt, config)}): {mf.validation_message(problems)}"
        )
    try:
        new, managers = fm.updater_apply(live, config, managers, ident, force)
    except mf.ItemKeyError as exc:
        raise errors.internal(f"failed to merge config: {exc}") from None
    fm._strip(managers, ident)
    if new is None:
        return deep_copy(live), managers, times
    times[ident] = now
    return fm.normalize(new), managers, times


def _allowed_conflicts(fm: mf.FieldManager, live: Obj) -> mf.FieldSet | None:
    """``allowedConflictsFromLastApplied``: what the last client-side apply set and the object still has."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(mf.LAST_APPLIED_ANNOTATION) if isinstance(annotations, dict) else None
    if not text or not isinstance(text, str):
        return None
    try:
        last = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != fm.api_version or mf.validate(last, fm.root):
        return None
    fields = fm.field_set(last)
    comparison = fm.compare(last, live)
    return fields.difference(comparison.modified).difference(comparison.added).difference(comparison.removed)


def apply_config(fm: mf.FieldManager, live: Obj | None, config: Obj, manager: str, force: bool,
                 now: str) -> tuple[Obj, list[dict[str, Any]]]:
    """``FieldManager.Apply``: the new object and its managedFields entries. Raises StatusErrors."""
    live_obj = mf.without_managed_fields(live) if live else {}
    try:
        managers, times = mf.decode_managed_fields(((live or {}).get("metadata") or {}).get("managedFields"))
    except mf.DecodeError as exc:
        raise errors.internal(f"failed to decode managed fields: {exc}") from None
    rt = fm.rt
    if config.get("apiVersion") != rt.api_version or config.get("kind") != rt.kind:
        raise errors.bad_request(f"invalid object type: {_gvk_string(config.get('apiVersion'), config.get('kind'))}")
    try:
        try:
            obj, managers, times = _structured_apply(fm, live_obj, config, managers, times, manager, force, now)
        except mf.ApplyConflicts as exc:
            if manager != "kubectl" or not live:
                raise
            allowed = _allowed_conflicts(fm, live_obj)
            if allowed is None:
                raise
            remaining = [(m, p) for m, p in exc.conflicts if not allowed.has(p)]
            if remaining:
                raise mf.ApplyConflicts(remaining) from None
            obj, managers, times = _structured_apply(fm, live_obj, config, managers, times, manager, True, now)
    except mf.ApplyConflicts as exc:
        message, causes = mf.conflict_status(exc.conflicts)
        raise errors.StatusError(409, "Conflict", message, {"causes": causes}) from None
    if manager == "kubectl":
        _sync_last_applied(obj, config)
    return obj, mf.encode_managed_fields(managers, times)


def _sync_last_applied(obj: Obj, config: Obj) -> None:
    """``lastAppliedUpdater``: a client-side apply annotation follows what ``kubectl`` applies server-side."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict) or not annotations.get(mf.LAST_APPLIED_ANNOTATION):
        return
    applied = deep_copy(config)
    applied_meta = applied.get("metadata")
    if isinstance(applied_meta, dict) and isinstance(applied_meta.get("annotations"), dict):
        applied_meta["annotations"].pop(mf.LAST_APPLIED_ANNOTATION, None)
    annotations[mf.LAST_APPLIED_ANNOTATION] = mf.go_json(applied) + "\n"


# -- the request -----------------------------------------------------------------------------------


def apply_patch(registry: Registry, rt: ResourceType, namespace: str, name: str, subresource: str,
                query: Query, body: bytes) -> tuple[int, Obj]:
    """Serve an apply patch: (status code, object)."""
    manager, force, dry_run, validation = patch_options(query)
    config = decode_body(body, strict=validation == "Strict")
    fm = mf.field_manager_for(rt, subresource)
    ns = namespace if rt.namespaced else ""
    with registry.store.lock:
        live = registry.store.get(rt.key, ns, name)
        if live is not None:
            live = registry.from_storage(rt, live)
        if live is None and subresource:
            raise errors.not_found(rt.plural, rt.group, name)
        obj, entries = apply_config(fm, live, config, manager, force, now_rfc3339(registry.clock.now()))
        _check_name(obj, name, namespace)

        def manage(_live: Obj | None, new: Obj) -> None:
            mf.set_managed_fields(new, deep_copy({"e": entries})["e"])

        if live is None:
            meta = _meta(obj)
            if meta.get("uid"):
                raise errors.conflict(
                    rt.plural, rt.group, name,
                    f"uid mismatch: the provided object specified uid {meta['uid']}, and no existing object was found",
                )
            meta.pop("resourceVersion", None)
            return 201, registry.create(rt, namespace, obj, dry_run=dry_run, manage=manage)
        return 200, registry.update(rt, namespace, name, obj, subresource=subresource, dry_run=dry_run,
                                    manage=manage)


def _meta(obj: Obj) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _check_name(obj: Obj, name: str, namespace: str) -> None:
    """``checkName`` (handlers/rest.go) on the applied result."""
    meta = _meta(obj)
    obj_name = meta.get("name") or ""
    if obj_name != name:
        raise errors.bad_request(f"the name of the object ({obj_name}) does not match the name on the URL ({name})")
    obj_namespace = meta.get("namespace") or ""
    if namespace and obj_namespace and obj_namespace != namespace:
        raise errors.bad_request(
            f"the namespace of the object ({obj_namespace}) does not match the namespace on the request ({namespace})"
        )
