"""Strategic merge patch for built-in types: a port of the apply half of
``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`` (``StrategicMergeMapPatch`` with
``MergeParallelList`` and ``IgnoreUnmatchedNulls``, as ``handlers/patch.go`` calls it).

The Go code reads patch metadata from the struct tags of the versioned type; here it comes from the kind's
schema (``server/schema.py``), whose ``x-kubernetes-patch-strategy`` / ``x-kubernetes-patch-merge-key``
extensions are generated from those tags. A path the schema does not know behaves like a JSON merge patch
(maps merge, lists are replaced).

What is reproduced, function by function: maps merge recursively and ``null`` deletes; lists whose strategy
is ``merge`` merge element-wise by the merge key (primitive lists: union); other lists are replaced; the
directives ``$patch: replace|merge|delete`` (in maps and as list elements), ``$retainKeys``,
``$deleteFromPrimitiveList/<field>`` and ``$setElementOrder/<field>``; the resulting element order (including
Go's stable sort and its in-place de-duplication); directives and nulls dropped from values the original did
not have (``removeDirectives`` / ``discardNullValuesFromPatch``).

Errors are mapped as ``interpretStrategicMergePatchError`` (``apiserver/pkg/endpoints/handlers/patch.go``)
does: the ``mergepatch`` sentinels for a malformed directive answer 400 BadRequest with the sentinel's text;
``lists of lists are not supported`` answers 422 with the generic "rejected" message; every other error
(unknown ``$patch`` value, missing merge key, mismatched element types, ...) is a plain Go error, which
``ErrorToAPIStatus`` turns into 500 with an empty reason and the error's text.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kubeproof.server import errors
from kubeproof.server.patch import JSON_PATCH_FAILED
from kubeproof.server.schema import REF_PREFIX, Schema, resolve

DIRECTIVE_MARKER = "$patch"
DELETE_DIRECTIVE = "delete"
REPLACE_DIRECTIVE = "replace"
MERGE_DIRECTIVE = "merge"
RETAIN_KEYS_STRATEGY = "retainKeys"
DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList"
RETAIN_KEYS_DIRECTIVE = "$" + RETAIN_KEYS_STRATEGY
SET_ELEMENT_ORDER_PREFIX = "$setElementOrder"

# mergepatch/errors.go sentinels.
ERR_BAD_JSON_DOC = "invalid JSON document"
ERR_NO_LIST_OF_LISTS = "lists of lists are not supported"
ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST = "invalid patch format of setElementOrder list"
ERR_PATCH_CONTENT_NOT_MATCH_RETAIN_KEYS = "patch content doesn't match retainKeys list"
ERR_UNSUPPORTED_STRATEGIC_MERGE_PATCH_FORMAT = "strategic merge patch format is not supported"

_BAD_REQUEST_SENTINELS = frozenset({
    ERR_BAD_JSON_DOC,
    ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST,
    ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS,
    ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST,
    ERR_UNSUPPORTED_STRATEGIC_MERGE_PATCH_FORMAT,
})
_UNPROCESSABLE_SENTINELS = frozenset({ERR_NO_LIST_OF_LISTS, ERR_PATCH_CONTENT_NOT_MATCH_RETAIN_KEYS})

#: What ``WithPanicRecovery`` answers when the Go code panics (comparing maps, a nil list element, ...).
PANIC_MESSAGE = "This request caused apiserver to panic. Look in the logs for details."

Obj = dict[str, Any]


class GoError(Exception):
    """An ``error`` returned by the Go code; ``sentinel`` marks the ``mergepatch.Err*`` values."""

    def __init__(self, message: str, *, sentinel: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.sentinel = sentinel


class GoPanic(Exception):
    """A runtime panic in the Go code (recovered by the apiserver's panic filter)."""


def _sentinel(message: str) -> GoError:
    return GoError(message, sentinel=True)


def to_status_error(err: GoError | GoPanic) -> errors.StatusError:
    """``interpretStrategicMergePatchError``, then ``ErrorToAPIStatus`` for the errors it passes through."""
    if isinstance(err, GoPanic):
        return errors.internal(PANIC_MESSAGE)
    if err.sentinel and err.message in _BAD_REQUEST_SENTINELS:
        return errors.bad_request(err.message)
    if err.sentinel and err.message in _UNPROCESSABLE_SENTINELS:
        # NewGenericServerResponse(422, ...): the sentinel's text is dropped in favour of the generic one.
        return errors.StatusError(422, "Invalid", JSON_PATCH_FAILED)
    return errors.internal(err.message)


def strategic_merge_patch(original: Obj, patch: Obj, schema: Schema | None) -> Obj:
    """Apply ``patch`` to ``original``; ``schema`` is the kind's definition (see ``server/schema.py``).

    Raises ``errors.StatusError`` as the apiserver answers a patch it cannot apply.
    """
    meta = _Meta(schema, _def_name(schema))
    try:
        result = _merge_map(copy.deepcopy(original), copy.deepcopy(patch), meta)
    except (GoError, GoPanic) as exc:
        raise to_status_error(exc) from None
    # The handler decodes the merged map into the typed object (FromUnstructured), which drops the
    # directive keys the merge leaves in values it copied verbatim (new list elements, replaced lists).
    _drop_leftover_directives(result, meta)
    return result


# -- patch metadata from the schema (LookupPatchMeta / PatchMetaFromStruct) -----------------------


def _def_name(schema: Schema | None) -> str:
    if schema is None:
        return ""
    for gvk in schema.get("x-kubernetes-group-version-kind") or []:
        kind = gvk.get("kind")
        if isinstance(kind, str):
            return kind
    return ""


def _types(schema: Schema) -> list[str]:
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    return [x for x in t if isinstance(x, str)] if isinstance(t, list) else []


class _Meta:
    """The Go type at one point of the object: ``schema`` None means "unknown" (merge-patch behaviour)."""

    __slots__ = ("name", "schema")

    def __init__(self, schema: Schema | None, name: str = "") -> None:
        self.schema = schema
        self.name = name

    @staticmethod
    def wrap(raw: Any) -> _Meta:
        if not isinstance(raw, dict):
            return _UNKNOWN
        ref = raw.get("$ref")
        if isinstance(ref, str):
            resolved = resolve(raw)
            if resolved is None:
                return _UNKNOWN
            return _Meta(resolved, ref[len(REF_PREFIX):].rsplit(".", 1)[-1])
        return _Meta(raw)

    def kind(self) -> str:
        """``reflect.Kind`` of the Go type, as Go prints it."""
        s = self.schema
        if s is None:
            return "interface"
        if isinstance(s.get("properties"), dict):
            return "struct"
        if isinstance(s.get("additionalProperties"), dict):
            return "map"
        if self.name:  # a named definition without properties: RawExtension, Time, Quantity, IntOrString, ...
            return "struct"
        types = _types(s)
        if "array" in types:
            return "slice"
        if "object" in types:
            return "map"
        if "string" in types:
            return "string"
        if "integer" in types:
            return "int32" if s.get("format") == "int32" else "int64"
        if "boolean" in types:
            return "bool"
        if "number" in types:
            return "float64"
        return "interface"

    def lookup_struct(self, key: str) -> tuple[_Meta, list[str], str]:
        """``LookupPatchMetadataForStruct``: the field's type, patch strategies and merge key."""
        s = self.schema
        if s is None:
            return _UNKNOWN, [], ""
        kind = self.kind()
        if kind != "struct":
            raise GoError(f"merging an object in json but data type is not struct, instead is: {kind}")
        props = s.get("properties") or {}
        prop = props.get(key)
        if prop is None:
            folded = key.lower()
            prop = next((p for name, p in props.items() if name.lower() == folded), None)
        if prop is None:
            if not props:
                raise GoError(f"unable to find api field in struct {self.name} for the json field {_go_q(key)}")
            # Not a field of the type: the live object can only hold it because this server keeps unknown
            # fields; treat it as an untyped value (merge-patch semantics) rather than failing.
            return _UNKNOWN, [], ""
        strategy = prop.get("x-kubernetes-patch-strategy")
        strategies = strategy.split(",") if isinstance(strategy, str) else [""]
        merge_key = prop.get("x-kubernetes-patch-merge-key")
        return _Meta.wrap(prop), strategies, merge_key if isinstance(merge_key, str) else ""

    def lookup_slice(self, key: str) -> tuple[_Meta, list[str], str]:
        """``LookupPatchMetadataForSlice``: like ``lookup_struct`` but returns the element type."""
        sub, strategies, merge_key = self.lookup_struct(key)
        if sub.schema is None or sub.kind() != "slice":
            # Go: a pointer field yields its pointee; unknown fields stay unknown.
            return sub, strategies, merge_key
        elem = _Meta.wrap(sub.schema.get("items"))
        if elem.schema is not None and elem.kind() == "slice":
            raise GoError("unexpected slice of slice")
        return elem, strategies, merge_key

    def go_name(self) -> str:
        """``PatchMetaFromStruct.Name()``: the kind of the type."""
        return "struct" if self.schema is None else self.kind()


_UNKNOWN = _Meta(None)


def _extract_retain_keys_patch_strategy(strategies: list[str]) -> tuple[bool, str]:
    if not strategies:
        return False, ""
    if len(strategies) == 1:
        if strategies[0] == RETAIN_KEYS_STRATEGY:
            return True, ""
        return False, strategies[0]
    if len(strategies) == 2:
        if strategies[0] == RETAIN_KEYS_STRATEGY:
            return True, strategies[1]
        if strategies[1] == RETAIN_KEYS_STRATEGY:
            return True, strategies[0]
    raise GoError(f"unexpected patch strategy: {_go_v(strategies)}")


# -- Go value semantics ------------------------------------------------------------------------------


def _go_type(value: Any) -> str:
    """``reflect.TypeOf`` of a decoded JSON value (``json.Unmarshal`` into ``interface{}``, ints kept)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return type(value).__name__


def _go_eq(a: Any, b: Any) -> bool:
    """``a == b`` on two ``interface{}`` values: the dynamic types must match; maps and slices panic."""
    if a is None or b is None:
        return a is None and b is None
    if _go_type(a) != _go_type(b):
        return False
    if isinstance(a, (dict, list)):
        raise GoPanic(f"runtime error: comparing uncomparable type {_go_type(a)}")
    return bool(a == b)


def _go_key(value: Any) -> tuple[str, Any]:
    """A hashable stand-in for an ``interface{}`` used as a Go map key."""
    if isinstance(value, (dict, list)):
        raise GoPanic(f"runtime error: hash of unhashable type {_go_type(value)}")
    return _go_type(value), value


def _go_q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _go_float(f: float) -> str:
    """``%v`` of a float64 (``strconv.FormatFloat(f, 'g', -1, 64)``)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(f)).as_tuple()
    digits = "".join(str(d) for d in digit_tuple).rstrip("0") or "0"
    assert isinstance(exponent, int)
    point = len("".join(str(d) for d in digit_tuple)) + exponent  # decimal point position
    x = point - 1
    prefix = "-" if sign else ""
    if x < -4 or x >= 6:  # shortest formatting switches to %e from exponent 6 on
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{prefix}{digits}{'0' * (point - len(digits))}"
    return f"{prefix}{digits[:point]}.{digits[point:]}"


def _go_v(value: Any) -> str:
    """``fmt`` ``%v`` of a decoded JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_v(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_v(v) for v in value) + "]"
    return str(value)


def _go_s(value: Any) -> str:
    """``fmt`` ``%s`` of a decoded JSON value (non-strings print as ``%!s(type=value)``)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_s(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_s(v) for v in value) + "]"
    return f"%!s({_go_type(value)}={_go_v(value)})"


def _reflect_type_s(value: Any) -> str:
    """``%s`` of ``reflect.TypeOf(value)``."""
    return "%!s(<nil>)" if value is None else _go_type(value)


def _err_no_merge_key(m: Obj, key: str) -> GoError:
    return GoError(f"map: {_go_v(m)} does not contain declared merge key: {key}")


def _err_bad_arg_type(expected: str, actual: Any) -> GoError:
    return GoError(f"expected a {expected}, but received a {_reflect_type_s(actual)}")


def _err_bad_patch_type(t: Any, m: Obj) -> GoError:
    return GoError(f"unknown patch type: {_go_s(t)} in map: {_go_v(m)}")


_MAP = "map[string]interface {}"
_SLICE = "[]interface {}"


# -- sort.SliceStable (insertion sort in blocks of 20, then SymMerge), as Go runs it ---------------


def _slice_stable(data: list[Any], less: Callable[[list[Any], int, int], bool]) -> None:
    """Go's ``sort.SliceStable`` in place. The comparator SMP passes is not always a strict order, so the
    exact algorithm matters for the resulting element order."""
    n = len(data)

    def lt(i: int, j: int) -> bool:
        return less(data, i, j)

    def swap(i: int, j: int) -> None:
        data[i], data[j] = data[j], data[i]

    def insertion_sort(a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and lt(j, j - 1):
                swap(j, j - 1)
                j -= 1

    def swap_range(a: int, b: int, count: int) -> None:
        for i in range(count):
            swap(a + i, b + i)

    def rotate(a: int, m: int, b: int) -> None:
        i = m - a
        j = b - m
        while i != j:
            if i > j:
                swap_range(m - i, m, j)
                i -= j
            else:
                swap_range(m - i, m + j - i, i)
                j -= i
        swap_range(m - i, m, i)

    def sym_merge(a: int, m: int, b: int) -> None:
        if m - a == 1:
            i, j = m, b
            while i < j:
                h = (i + j) >> 1
                if lt(h, a):
                    i = h + 1
                else:
                    j = h
            for k in range(a, i - 1):
                swap(k, k + 1)
            return
        if b - m == 1:
            i, j = a, m
            while i < j:
                h = (i + j) >> 1
                if not lt(m, h):
                    i = h + 1
                else:
                    j = h
            for k in range(m, i, -1):
                swap(k, k - 1)
            return
        mid = (a + b) >> 1
        total = mid + m
        if m > mid:
            start, r = total - b, mid
        else:
            start, r = a, m
        p = total - 1
        while start < r:
            c = (start + r) >> 1
            if not lt(p - c, c):
                start = c + 1
            else:
                r = c
        end = total - start
        if start < m < end:
            rotate(start, m, end)
        if a < start < mid:
            sym_merge(a, start, mid)
        if mid < end < b:
            sym_merge(mid, end, b)

    block = 20
    a, b = 0, block
    while b <= n:
        insertion_sort(a, b)
        a, b = b, b + block
    insertion_sort(a, n)
    while block < n:
        a, b = 0, 2 * block
        while b <= n:
            sym_merge(a, a + block, b)
            a, b = b, b + 2 * block
        m = a + block
        if m < n:
            sym_merge(a, m, n)
        block *= 2


# -- mergeMap and its helpers ----------------------------------------------------------------------


def _merge_map(original: Obj | None, patch: Obj, meta: _Meta) -> Obj:
    if DIRECTIVE_MARKER in patch:
        return _handle_directive_in_merge_map(patch[DIRECTIVE_MARKER], patch)
    if original is None:
        original = {}
    _apply_retain_keys_directive(original, patch)
    _merge_patch_into_original(original, patch, meta)

    for key, patch_v in list(patch.items()):
        k = key
        is_delete_list = False
        if k.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX):
            k = _extract_key(k, DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            is_delete_list = True

        if patch_v is None:
            original.pop(k, None)
            continue  # IgnoreUnmatchedNulls

        if k not in original or _go_type(original[k]) != _go_type(patch_v):
            if not is_delete_list:
                _discard_null_values_from_patch(patch_v)
                value, keep = _remove_directives(patch_v)
                if keep:
                    original[k] = value
                else:
                    original.pop(k, None)
            continue

        current = original[k]
        if isinstance(current, dict):
            sub, strategies, _ = meta.lookup_struct(k)
            _, strategy = _extract_retain_keys_patch_strategy(strategies)
            original[k] = _merge_map_handler(current, patch_v, sub, strategy)
        elif isinstance(current, list):
            sub, strategies, merge_key = meta.lookup_slice(k)
            _, strategy = _extract_retain_keys_patch_strategy(strategies)
            original[k] = _merge_slice_handler(current, patch_v, sub, strategy, merge_key, is_delete_list)
        else:
            original[k] = patch_v  # a scalar: removeDirectives keeps it as is
    return original


def _handle_directive_in_merge_map(directive: Any, patch: Obj) -> Obj:
    if isinstance(directive, str) and directive == REPLACE_DIRECTIVE:
        del patch[DIRECTIVE_MARKER]
        return patch
    if isinstance(directive, str) and directive == DELETE_DIRECTIVE:
        return {}
    raise _err_bad_patch_type(directive, patch)


def _discard_null_values_from_patch(value: Any) -> None:
    if isinstance(value, dict):
        for k in [k for k, v in value.items() if v is None]:
            del value[k]
        for v in value.values():
            _discard_null_values_from_patch(v)
    elif isinstance(value, list):
        for v in value:
            _discard_null_values_from_patch(v)


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """Drop every map holding ``$patch`` from a value the original did not have; False: drop the value."""
    if isinstance(value, dict):
        if DIRECTIVE_MARKER in value:
            return None, False
        for k in list(value):
            new, keep = _remove_directives(value[k])
            if keep:
                value[k] = new
            else:
                del value[k]
        return value, True
    if isinstance(value, list):
        out = []
        for v in value:
            new, keep = _remove_directives(v)
            if keep:
                out.append(new)
        return out, True
    return value, True


def _extract_key(s: str, prefix: str) -> str:
    parts = s.split("/", 1)
    if len(parts) <= 1 or parts[0] != prefix:
        if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX:
            raise _sentinel(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST)
        if prefix == SET_ELEMENT_ORDER_PREFIX:
            raise _sentinel(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST)
        raise GoError(f"fail to find unknown prefix {_go_q(prefix)} in {s}\n")
    return parts[1]


def _apply_retain_keys_directive(original: Obj, patch: Obj) -> None:
    if RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retain = patch.pop(RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retain, list):
        raise _sentinel(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    keep = {_go_key(v) for v in retain}
    for k, v in patch.items():
        if v is None or k.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) or k.startswith(SET_ELEMENT_ORDER_PREFIX):
            continue
        if ("string", k) not in keep:
            raise _sentinel(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    for k in [k for k in original if ("string", k) not in keep]:
        del original[k]


def _merge_patch_into_original(original: Obj, patch: Obj, meta: _Meta) -> None:
    """``$setElementOrder/<field>``: merge the field's list now and impose the order the directive gives."""
    for key in list(patch):
        if key not in patch or not key.startswith(SET_ELEMENT_ORDER_PREFIX):
            continue
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _err_bad_arg_type(_SLICE, order)
        field = _extract_key(key, SET_ELEMENT_ORDER_PREFIX)
        found_original = field in original
        found_patch = field in patch
        original_list: list[Any] = []
        patch_list: list[Any] = []
        if found_original:
            if not isinstance(original[field], list):
                raise _err_bad_arg_type(_SLICE, original[field])
            original_list = original[field]
        if found_patch:
            if not isinstance(patch[field], list):
                raise _err_bad_arg_type(_SLICE, patch[field])
            patch_list = patch[field]
        sub, strategies, merge_key = meta.lookup_slice(field)
        _, strategy = _extract_retain_keys_patch_strategy(strategies)
        _validate_patch_with_set_order_list(patch_list, order, merge_key)

        if found_original and not found_patch:
            merged = original_list
        elif not found_original and found_patch:
            merged, _ = _remove_directives(patch_list)
        elif found_original and found_patch:
            merged = _merge_slice_handler(list(original_list), patch_list, sub, strategy, merge_key, False)
        else:
            continue

        if not merge_key:
            patch_items, server_only = _partition_primitives_by_present_in_list(merged, order)
        else:
            patch_items, server_only = _partition_maps_by_present_in_list(merged, order, merge_key)
        kind = _slice_element_type(original_list, patch_list)
        original[field] = _normalize_element_order(patch_items, server_only, order, original_list, merge_key, kind)
        patch.pop(field, None)


def _validate_patch_with_set_order_list(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """The patch list must be a subsequence of the ``$setElementOrder`` list (deletions aside)."""
    if not order or not patch_list:
        return
    non_delete = _extract_to_delete_items(patch_list)[0] if merge_key else patch_list
    pi = si = 0
    while pi < len(non_delete) and si < len(order):
        if isinstance(non_delete[pi], dict) and DIRECTIVE_MARKER in non_delete[pi]:
            pi += 1
            continue
        if _merge_key_value_equal(non_delete[pi], order[si], merge_key):
            pi += 1
        si += 1
    if pi < len(non_delete) and si >= len(order):
        raise GoError(
            f"The order in patch list:\n{_go_v(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER_PREFIX} list:\n{_go_v(order)}\n"
        )


def _merge_key_value_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _go_eq(left, right)
    if not isinstance(left, dict):
        raise _err_bad_arg_type(_MAP, left)
    if not isinstance(right, dict):
        raise _err_bad_arg_type(_MAP, right)
    if merge_key not in left:
        raise _err_no_merge_key(left, merge_key)
    if merge_key not in right:
        raise _err_no_merge_key(right, merge_key)
    return _go_eq(left[merge_key], right[merge_key])


def _merge_map_handler(original: Obj, patch: Obj, meta: _Meta, strategy: str) -> Obj:
    if strategy != REPLACE_DIRECTIVE:
        return _merge_map(original, patch, meta)
    return patch


def _merge_slice_handler(
    original: list[Any], patch: list[Any], meta: _Meta, strategy: str, merge_key: str, is_delete_list: bool
) -> list[Any]:
    # Delete lists are handled the same way regardless of the field's patch strategy.
    if strategy == MERGE_DIRECTIVE or is_delete_list:
        return _merge_slice(original, patch, meta, merge_key, is_delete_list)
    return patch


def _merge_slice(original: list[Any], patch: list[Any], meta: _Meta, merge_key: str, is_delete_list: bool) -> list[Any]:
    if not original and not patch:
        return original
    kind = _slice_element_type(original, patch)
    if kind != _MAP:
        if is_delete_list:
            return _delete_from_slice(original, patch)
        merged = _deduplicate_scalars(original + patch)
    else:
        if not merge_key:
            raise GoError(f"cannot merge lists without merge key for {meta.go_name()}")
        original, patch = _merge_slice_with_special_elements(original, patch, merge_key)
        merged = _merge_slice_without_special_elements(original, patch, merge_key, meta)

    if not merge_key:
        patch_items, server_only = _partition_primitives_by_present_in_list(merged, patch)
    else:
        patch_items, server_only = _partition_maps_by_present_in_list(merged, patch, merge_key)
    return _normalize_element_order(patch_items, server_only, patch, original, merge_key, kind)


def _merge_slice_with_special_elements(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """Apply ``$patch: delete`` elements; ``$patch: replace`` makes the patch's other elements the list."""
    without: list[Any] = []
    replace = False
    for v in patch:
        if DIRECTIVE_MARKER not in v:
            without.append(v)
            continue
        directive = v[DIRECTIVE_MARKER]
        if isinstance(directive, str) and directive == DELETE_DIRECTIVE:
            if merge_key not in v:
                raise _err_no_merge_key(v, merge_key)
            original = _delete_matching_entries(original, merge_key, v[merge_key])
        elif isinstance(directive, str) and directive == REPLACE_DIRECTIVE:
            replace = True
        elif isinstance(directive, str) and directive == MERGE_DIRECTIVE:
            raise GoError("merging lists cannot yet be specified in the patch")
        else:
            raise _err_bad_patch_type(directive, v)
    if replace:
        return without, []
    return original, without


def _find_map_in_slice(items: list[Any], key: str, value: Any) -> int:
    for i, v in enumerate(items):
        if not isinstance(v, dict):
            raise GoError(f"value for key {i} is not a map.")
        if key in v and _go_eq(v[key], value):
            return i
    return -1


def _delete_matching_entries(original: list[Any], merge_key: str, value: Any) -> list[Any]:
    while True:
        i = _find_map_in_slice(original, merge_key, value)
        if i < 0:
            return original
        original = original[:i] + original[i + 1:]


def _merge_slice_without_special_elements(
    original: list[Any], patch: list[Any], merge_key: str, meta: _Meta
) -> list[Any]:
    merged = list(original)
    for v in patch:
        if merge_key not in v:
            raise _err_no_merge_key(v, merge_key)
        i = _find_map_in_slice(merged, merge_key, v[merge_key])
        if i >= 0:
            merged[i] = _merge_map(merged[i], v, meta)
        else:
            merged.append(v)  # verbatim: Go neither drops its directives nor its nulls
    return merged


def _delete_from_slice(current: list[Any], to_delete: list[Any]) -> list[Any]:
    doomed = {_go_key(v) for v in to_delete}
    return [v for v in current if _go_key(v) not in doomed]


def _deduplicate_scalars(s: list[Any]) -> list[Any]:
    """Go's in-place de-duplication: a duplicate is overwritten by the last element (order changes)."""
    s = list(s)
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _go_eq(s[i], s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _slice_element_type(*slices: list[Any]) -> str:
    """The one element type of the lists; lists of lists and mixed types are errors."""
    prev: str | None = None
    for s in slices:
        for v in s:
            current = _go_type(v)
            if prev is None:
                if current == "nil":
                    raise GoPanic("runtime error: invalid memory address or nil pointer dereference")
                prev = current
                if current == _SLICE:
                    raise _sentinel(ERR_NO_LIST_OF_LISTS)
            elif prev != current:
                raise GoError(f"list element types are not identical: {_go_v(list(slices))}")
    if prev is None:
        raise GoError("no elements in any of the given slices")
    return prev


def _partition_primitives_by_present_in_list(items: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    present = {_go_key(v) for v in by}
    inside: list[Any] = []
    outside: list[Any] = []
    for v in items:
        (inside if _go_key(v) in present else outside).append(v)
    return inside, outside


def _partition_maps_by_present_in_list(
    items: list[Any], by: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    inside: list[Any] = []
    outside: list[Any] = []
    for v in items:
        if not isinstance(v, dict):
            raise _err_bad_arg_type(_MAP, v)
        if merge_key not in v:
            raise _err_no_merge_key(v, merge_key)
        (inside if _find_map_in_slice(by, merge_key, v[merge_key]) >= 0 else outside).append(v)
    return inside, outside


def _index(items: list[Any], value: Any, merge_key: str, kind: str) -> int:
    def get(item: Any) -> Any:
        if kind == _MAP:
            return item.get(merge_key) if isinstance(item, dict) else None
        return item

    wanted = get(value)
    for i, v in enumerate(items):
        if _go_eq(wanted, get(v)):
            return i
    return -1


def _extract_to_delete_items(items: list[Any]) -> tuple[list[Any], list[Any]]:
    keep: list[Any] = []
    doomed: list[Any] = []
    for v in items:
        if not isinstance(v, dict):
            raise _err_bad_arg_type(_MAP, v)
        directive = v.get(DIRECTIVE_MARKER)
        if isinstance(directive, str) and directive == DELETE_DIRECTIVE:
            doomed.append(v)
        else:
            keep.append(v)
    return keep, doomed


def _normalize_slice_order(to_sort: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    doomed: list[Any] = []
    if kind == _MAP:
        for lst in (to_sort, order):
            for item in lst:
                if not isinstance(item, dict):
                    raise _err_bad_arg_type(_MAP, item)
                if merge_key not in item:
                    raise _err_no_merge_key(item, merge_key)
        to_sort, doomed = _extract_to_delete_items(to_sort)
    to_sort = list(to_sort)

    def less(data: list[Any], i: int, j: int) -> bool:
        ii = _index(order, data[i], merge_key, kind)
        if ii >= 0:
            ij = _index(order, data[j], merge_key, kind)
            if ij >= 0:
                return ii < ij
        return True

    _slice_stable(to_sort, less)
    return to_sort + doomed


def _merge_sorted_slice(
    left: list[Any], right: list[Any], server_order: list[Any], merge_key: str, kind: str
) -> list[Any]:
    """Interleave the server-only items (left) with the patch items (right) by the live object's order."""
    out: list[Any] = []
    i = j = 0
    while i < len(left) and j < len(right):
        li = _index(server_order, left[i], merge_key, kind)
        ri = _index(server_order, right[j], merge_key, kind)
        if li >= 0 and ri >= 0 and li < ri:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out + left[i:] + right[j:]


def _normalize_element_order(
    patch: list[Any], server_only: list[Any], patch_order: list[Any], server_order: list[Any], merge_key: str,
    kind: str,
) -> list[Any]:
    patch = _normalize_slice_order(patch, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    return _merge_sorted_slice(server_only, patch, server_order, merge_key, kind)


# -- FromUnstructured: struct fields that do not exist are dropped ---------------------------------


def _is_directive_key(key: str) -> bool:
    return (
        key in (DIRECTIVE_MARKER, RETAIN_KEYS_DIRECTIVE)
        or key.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
        or key.startswith(SET_ELEMENT_ORDER_PREFIX)
    )


def _drop_leftover_directives(value: Any, meta: _Meta) -> None:
    s = meta.schema
    if s is None:
        return
    if isinstance(value, dict):
        props = s.get("properties")
        if isinstance(props, dict):
            for key in [k for k in value if _is_directive_key(k) and k not in props]:
                del value[key]
            for key, v in value.items():
                if isinstance(v, (dict, list)) and key in props:
                    _drop_leftover_directives(v, _Meta.wrap(props[key]))
        elif isinstance(s.get("additionalProperties"), dict):
            sub = _Meta.wrap(s["additionalProperties"])
            for v in value.values():
                _drop_leftover_directives(v, sub)
    elif isinstance(value, list) and "items" in s:
        sub = _Meta.wrap(s["items"])
        for v in value:
            _drop_leftover_directives(v, sub)
