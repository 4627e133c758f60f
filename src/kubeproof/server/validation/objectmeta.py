"""ObjectMeta validation, after ``k8s.io/apimachinery/pkg/api/validation/objectmeta.go``.

``validate_object_meta`` is ``ValidateObjectMetaAccessor`` (create) and ``validate_object_meta_update``
is ``ValidateObjectMetaAccessorUpdate``; with ``kube_finalizers=True`` both add the extra finalizer
check that ``pkg/apis/core/validation`` wraps them with (``validateKubeFinalizerName``), which every
built-in kind except those validated with apimachinery's version directly (Lease) gets.

Go walks label and annotation maps in random order; here keys are sorted so output is stable.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from kubeproof.server.validation import names
from kubeproof.server.validation.field import (
    FieldError,
    GoRaw,
    forbidden,
    go_quote,
    go_string_slice,
    invalid,
    required,
    too_long,
)

FIELD_IMMUTABLE = "field is immutable"
IS_NEGATIVE = "must be greater than or equal to 0"
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * (1 << 10)
FIELD_MANAGER_MAX_LENGTH = 128
MAX_SUBRESOURCE_NAME_LENGTH = 256
FINALIZER_ORPHAN = "orphan"
FINALIZER_DELETE_DEPENDENTS = "foregroundDeletion"
STANDARD_FINALIZERS = frozenset({"kubernetes", FINALIZER_ORPHAN, FINALIZER_DELETE_DEPENDENTS})

Obj = dict[str, Any]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- building blocks (also used by kinds.py) -----------------------------------------------------


def validate_nonnegative(value: int, path: str) -> list[FieldError]:
    """``ValidateNonnegativeField``."""
    return [invalid(path, value, IS_NEGATIVE)] if value < 0 else []


def validate_label_name(name: str, path: str) -> list[FieldError]:
    return [invalid(path, name, msg) for msg in names.is_qualified_name(name)]


def validate_labels(labels: Any, path: str) -> list[FieldError]:
    """``v1validation.ValidateLabels``: key errors then value errors, all on the map's own path."""
    errs: list[FieldError] = []
    for key, value in sorted(_map(labels).items()):
        errs.extend(validate_label_name(key, path))
        text = value if isinstance(value, str) else str(value)
        errs.extend(invalid(path, text, msg) for msg in names.is_valid_label_value(text))
    return errs


def validate_annotations(annotations: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    amap = _map(annotations)
    for key in sorted(amap):
        # The rule is QualifiedName except that case doesn't matter.
        errs.extend(invalid(path, key, msg) for msg in names.is_qualified_name(key.lower()))
    total = sum(len(k.encode()) + len(_str(v).encode()) for k, v in amap.items())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def _go_bool_ptr(value: Any) -> str:
    if value is None:
        return "(*bool)(nil)"
    # A set pointer prints its address in Go; there is no address to reproduce here.
    return "(*bool)(0xc000000000)"


def go_owner_reference(ref: Obj) -> GoRaw:
    """``%#v`` of a ``metav1.OwnerReference``."""
    return GoRaw(
        "v1.OwnerReference{APIVersion:"
        + go_quote(_str(ref.get("apiVersion")))
        + ", Kind:"
        + go_quote(_str(ref.get("kind")))
        + ", Name:"
        + go_quote(_str(ref.get("name")))
        + ", UID:"
        + go_quote(_str(ref.get("uid")))
        + ", Controller:"
        + _go_bool_ptr(ref.get("controller"))
        + ", BlockOwnerDeletion:"
        + _go_bool_ptr(ref.get("blockOwnerDeletion"))
        + "}"
    )


def _parse_group_version(api_version: str) -> tuple[str, str] | None:
    """``schema.ParseGroupVersion``: None when it would fail."""
    if not api_version:
        return "", ""
    parts = api_version.split("/")
    if len(parts) == 1:
        return "", api_version
    if len(parts) == 2:
        return parts[0], parts[1]
    return None


def validate_owner_references(refs: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    first_controller = ""
    ref_list = _list(refs)
    for raw in ref_list:
        ref = _map(raw)
        api_version = _str(ref.get("apiVersion"))
        kind = _str(ref.get("kind"))
        gv = _parse_group_version(api_version)
        group, version = gv if gv is not None else ("", "")
        if not version:
            errs.append(invalid(f"{path}.apiVersion", api_version, "version must not be empty"))
        if not kind:
            errs.append(invalid(f"{path}.kind", kind, "must not be empty"))
        if not _str(ref.get("name")):
            errs.append(invalid(f"{path}.name", _str(ref.get("name")), "must not be empty"))
        if not _str(ref.get("uid")):
            errs.append(invalid(f"{path}.uid", _str(ref.get("uid")), "must not be empty"))
        if (group, version, kind) == ("", "v1", "Event"):
            errs.append(
                invalid(
                    path,
                    go_owner_reference(ref),
                    f"{group}/{version}, Kind={kind} is disallowed from being an owner",
                )
            )
        if ref.get("controller") is True:
            current = f"{kind}/{_str(ref.get('name'))}"
            if first_controller:
                value = GoRaw(
                    "[]v1.OwnerReference{" + ", ".join(go_owner_reference(_map(r)) for r in ref_list) + "}"
                )
                errs.append(
                    invalid(
                        path,
                        value,
                        'Only one reference can have Controller set to true. Found "true" in references for '
                        f"{first_controller} and {current}",
                    )
                )
            else:
                first_controller = current
    return errs


def validate_finalizers(finalizers: Any, path: str) -> list[FieldError]:
    """``ValidateFinalizers``: each must be a qualified name; orphan and foregroundDeletion conflict."""
    errs: list[FieldError] = []
    items = [_str(f) for f in _list(finalizers)]
    for finalizer in items:
        errs.extend(invalid(path, finalizer, msg) for msg in names.is_qualified_name(finalizer))
    if FINALIZER_ORPHAN in items and FINALIZER_DELETE_DEPENDENTS in items:
        errs.append(
            invalid(
                path,
                go_string_slice(items),
                f"finalizer {FINALIZER_ORPHAN} and {FINALIZER_DELETE_DEPENDENTS} cannot be both set",
            )
        )
    return errs


def validate_kube_finalizer_name(name: str, path: str) -> list[FieldError]:
    """``validateKubeFinalizerName`` (pkg/apis/core/validation): unprefixed names must be standard."""
    if "/" not in name and name not in STANDARD_FINALIZERS:
        return [invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified")]
    return []


def _go_unicode(ch: str) -> str:
    """``%#U`` for a non-printable rune."""
    return f"U+{ord(ch):04X}"


def validate_field_manager(manager: str, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if len(manager.encode()) > FIELD_MANAGER_MAX_LENGTH:
        errs.append(too_long(path, FIELD_MANAGER_MAX_LENGTH))
    position = 0
    for ch in manager:
        if not ch.isprintable():
            errs.append(
                invalid(path, manager, f"invalid character {_go_unicode(ch)} (at position {position})")
            )
        position += len(ch.encode())
    return errs


def validate_managed_fields(entries: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, raw in enumerate(_list(entries)):
        entry = _map(raw)
        entry_path = f"{path}[{i}]"
        operation = _str(entry.get("operation"))
        if operation not in ("Apply", "Update"):
            errs.append(invalid(f"{entry_path}.operation", operation, "must be `Apply` or `Update`"))
        fields_type = _str(entry.get("fieldsType"))
        if fields_type and fields_type != "FieldsV1":
            errs.append(invalid(f"{entry_path}.fieldsType", fields_type, "must be `FieldsV1`"))
        errs.extend(validate_field_manager(_str(entry.get("manager")), f"{entry_path}.manager"))
        if len(_str(entry.get("subresource")).encode()) > MAX_SUBRESOURCE_NAME_LENGTH:
            errs.append(too_long(f"{entry_path}.subresource", MAX_SUBRESOURCE_NAME_LENGTH))
    return errs


# --- ObjectMeta ----------------------------------------------------------------------------------


def validate_object_meta(
    meta: Any,
    *,
    namespaced: bool,
    name_fn: names.NameFunc,
    path: str = "metadata",
    kube_finalizers: bool = True,
) -> list[FieldError]:
    """``ValidateObjectMeta`` on create: name/generateName, namespace, labels, annotations and the rest."""
    meta = _map(meta)
    errs: list[FieldError] = []
    generate_name = _str(meta.get("generateName"))
    if generate_name:
        errs.extend(
            invalid(f"{path}.generateName", generate_name, msg) for msg in name_fn(generate_name, True)
        )
    name = _str(meta.get("name"))
    if not name:
        errs.append(required(f"{path}.name", "name or generateName is required"))
    else:
        errs.extend(invalid(f"{path}.name", name, msg) for msg in name_fn(name, False))
    errs.extend(_validate_common(meta, namespaced, path))
    if kube_finalizers:
        for i, finalizer in enumerate(_list(meta.get("finalizers"))):
            errs.extend(validate_kube_finalizer_name(_str(finalizer), f"{path}.finalizers[{i}]"))
    return errs


class _Passed(threading.local):
    """Inside :func:`common_checks_once`: the metadata map whose common checks passed, in this thread."""

    active = False
    meta: Obj | None = None
    namespaced = False
    path = ""


_passed = _Passed()


@contextlib.contextmanager
def common_checks_once() -> Iterator[None]:
    """A create validates its ObjectMeta twice: in the kind's validation, then in ``rest.BeforeCreate``'s
    generic pass (kube-apiserver does both). Nothing changes the map between the two, so inside this block
    the common checks of a map that passed them once are not run again."""
    _passed.active, _passed.meta = True, None
    try:
        yield
    finally:
        _passed.active, _passed.meta = False, None


def _validate_common(meta: Obj, namespaced: bool, path: str) -> list[FieldError]:
    """``validateObjectMetaAccessorWithOptsCommon``."""
    if not _passed.active:
        return _common_errors(meta, namespaced, path)
    if _passed.meta is meta and _passed.namespaced == namespaced and _passed.path == path:
        return []
    errs = _common_errors(meta, namespaced, path)
    if not errs:
        _passed.meta, _passed.namespaced, _passed.path = meta, namespaced, path
    return errs


def _common_errors(meta: Obj, namespaced: bool, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    namespace = _str(meta.get("namespace"))
    if namespaced:
        if not namespace:
            errs.append(required(f"{path}.namespace"))
        else:
            errs.extend(
                invalid(f"{path}.namespace", namespace, msg)
                for msg in names.validate_namespace_name(namespace, False)
            )
    elif namespace:
        errs.append(forbidden(f"{path}.namespace", "not allowed on this type"))
    errs.extend(validate_nonnegative(_int(meta.get("generation")), f"{path}.generation"))
    errs.extend(validate_labels(meta.get("labels"), f"{path}.labels"))
    errs.extend(validate_annotations(meta.get("annotations"), f"{path}.annotations"))
    errs.extend(validate_owner_references(meta.get("ownerReferences"), f"{path}.ownerReferences"))
    errs.extend(validate_finalizers(meta.get("finalizers"), f"{path}.finalizers"))
    errs.extend(validate_managed_fields(meta.get("managedFields"), f"{path}.managedFields"))
    return errs


def go_time(value: Any) -> GoRaw:
    """``time.Time.String()`` of an RFC 3339 timestamp: ``2024-01-02 03:04:05 +0000 UTC``."""
    text = _str(value)
    if not text:
        return GoRaw("0001-01-01 00:00:00 +0000 UTC")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return GoRaw(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    frac = f".{parsed.microsecond:06d}".rstrip("0") if parsed.microsecond else ""
    return GoRaw(parsed.strftime("%Y-%m-%d %H:%M:%S") + frac + " +0000 UTC")


def _immutable(new: Any, old: Any, path: str, shown: Any) -> list[FieldError]:
    return [invalid(path, shown, FIELD_IMMUTABLE)] if new != old else []


def new_finalizers(new_meta: Obj, old_meta: Obj) -> list[str]:
    old = {_str(f) for f in _list(old_meta.get("finalizers"))}
    return sorted({_str(f) for f in _list(new_meta.get("finalizers"))} - old)


def validate_object_meta_update(
    new_meta: Any,
    old_meta: Any,
    path: str = "metadata",
    *,
    kube_finalizers: bool = True,
) -> list[FieldError]:
    """``ValidateObjectMetaUpdate``: what an update may not change, and the new metadata's own rules."""
    new_meta = _map(new_meta)
    old_meta = _map(old_meta)
    errs: list[FieldError] = []
    # Finalizers cannot be added if the object is already being deleted.
    if old_meta.get("deletionTimestamp"):
        extra = new_finalizers(new_meta, old_meta)
        if extra:
            errs.append(
                forbidden(
                    f"{path}.finalizers",
                    "no new finalizers can be added if the object is being deleted, found new finalizers "
                    + go_string_slice(extra),
                )
            )
    resource_version = _str(new_meta.get("resourceVersion"))
    if not resource_version:
        errs.append(invalid(f"{path}.resourceVersion", resource_version, "must be specified for an update"))
    new_generation = _int(new_meta.get("generation"))
    if new_generation < _int(old_meta.get("generation")):
        errs.append(invalid(f"{path}.generation", new_generation, "must not be decremented"))
    for key in ("name", "namespace", "uid"):
        new_value, old_value = _str(new_meta.get(key)), _str(old_meta.get(key))
        errs.extend(_immutable(new_value, old_value, f"{path}.{key}", new_value))
    new_created, old_created = (
        go_time(new_meta.get("creationTimestamp")),
        go_time(old_meta.get("creationTimestamp")),
    )
    errs.extend(_immutable(new_created, old_created, f"{path}.creationTimestamp", new_created))
    new_deleted, old_deleted = new_meta.get("deletionTimestamp"), old_meta.get("deletionTimestamp")
    errs.extend(
        _immutable(
            go_time(new_deleted) if new_deleted else None,
            go_time(old_deleted) if old_deleted else None,
            f"{path}.deletionTimestamp",
            go_time(new_deleted) if new_deleted else None,
        )
    )
    new_grace, old_grace = (
        new_meta.get("deletionGracePeriodSeconds"),
        old_meta.get("deletionGracePeriodSeconds"),
    )
    errs.extend(_immutable(new_grace, old_grace, f"{path}.deletionGracePeriodSeconds", new_grace))
    errs.extend(validate_labels(new_meta.get("labels"), f"{path}.labels"))
    errs.extend(validate_annotations(new_meta.get("annotations"), f"{path}.annotations"))
    errs.extend(validate_owner_references(new_meta.get("ownerReferences"), f"{path}.ownerReferences"))
    errs.extend(validate_managed_fields(new_meta.get("managedFields"), f"{path}.managedFields"))
    if kube_finalizers:
        for i, finalizer in enumerate(_list(new_meta.get("finalizers"))):
            errs.extend(validate_kube_finalizer_name(_str(finalizer), f"{path}.finalizers[{i}]"))
    return errs
