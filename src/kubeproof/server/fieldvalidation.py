"""Server-side field validation: the ``fieldValidation=Ignore|Warn|Strict`` query parameter.

kube-apiserver decodes request bodies with a strict decoder unless the directive is ``Ignore``
(``handlers/rest.go fieldValidation``: the default is ``Warn``). The strict decoder (sigs.k8s.io/json)
reports, in the order it meets them, ``unknown field "spec.foo"`` for keys the Go type does not have and
``duplicate field "spec.replicas"`` for keys given twice; whatever the directive, unknown fields are
dropped from what is stored, because decoding into the Go struct has nowhere to put them.

* ``Strict`` on create/update: 400 ``BadRequest`` ``<Kind> in version "v1" cannot be handled as a <Kind>:
  strict decoding error: unknown field "a", duplicate field "b"`` (``transformDecodeError``).
* ``Strict`` on patch: 422 ``Invalid`` on the field ``patch`` (``handlers/patch.go``), with the duplicate
  fields of the patch body first and then the unknown fields of the patched object.
* ``Warn``: one ``Warning: 299 - "unknown field \\"spec.foo\\""`` header per problem.
* An unsupported value: 422 ``CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value:
  "x": supported values: "", "Ignore", "Strict", "Warn"`` (``ValidateCreateOptions``; Update/PatchOptions
  likewise).

The known fields come from the Kubernetes 1.37 definitions (:mod:`kubeproof.server.schema`), so the check
covers every built-in kind. Kinds the schemas do not know (custom resources) get duplicate detection and
the ``metadata`` check only, as a schemaless custom resource would.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import yaml

from kubeproof.server import errors
from kubeproof.server.registry.base import JSON_CONTAINERS, ResourceType
from kubeproof.server.validation.field import FieldError, not_supported

IGNORE = "Ignore"
WARN = "Warn"
STRICT = "Strict"
#: ``sets.NewString("", Ignore, Warn, Strict).List()``: sorted, the empty string first.
SUPPORTED = ["", IGNORE, STRICT, WARN]
#: sigs.k8s.io/json stops collecting strict errors after 100.
MAX_STRICT_ERRORS = 100

Obj = dict[str, Any]
Schema = dict[str, Any]
Warnings = list[str]


def directive(query: Mapping[str, list[str]], options_kind: str) -> str:
    """The effective directive of a request; 422 on ``<options_kind>`` for an unsupported value."""
    values = query.get("fieldValidation") or [""]
    value = values[0]
    if value not in SUPPORTED:
        raise errors.invalid_options(options_kind, [not_supported("fieldValidation", value, SUPPORTED)])
    return value or WARN


# -- the schema of a request body ---------------------------------------------------------------------


def body_kind(rt: ResourceType, subresource: str = "") -> tuple[str, str, str]:
    """The group/version/kind a request body decodes into (``scale`` bodies are ``autoscaling/v1 Scale``)."""
    sub = rt.subresources.get(subresource) if subresource else None
    if sub is not None and sub.kind:
        sub_group = sub.group if sub.group is not None else rt.group
        return sub_group, sub.version or rt.version, sub.kind
    return rt.group, rt.version, rt.kind


def _definitions() -> dict[str, Schema]:
    from kubeproof.server import schema

    return schema.definitions()


def _kind_schema(group: str, version: str, kind: str) -> Schema | None:
    from kubeproof.server import schema

    return schema.schema_for(group, version, kind)


#: A custom kind without a schema: anything goes, but metadata is an ObjectMeta (as for CRDs).
_UNSTRUCTURED: Schema = {
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
    },
    "x-kubernetes-preserve-unknown-fields": True,
}


_resolved: dict[int, tuple[Schema, Schema | None]] = {}


def _resolve(schema: Any) -> Schema | None:
    """The schema a node stands for (``$ref`` followed), remembered per node: the walk asks for the same
    nodes at every request. An entry holds its node, so the id cannot be reused while it is cached."""
    if not isinstance(schema, dict):
        return None
    hit = _resolved.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    if len(_resolved) >= 65536:
        _resolved.clear()  # custom resources' schemas come and go in long runs
    target = _follow(schema)
    _resolved[id(schema)] = (schema, target)
    return target


def _follow(schema: Schema) -> Schema | None:
    seen = 0
    while isinstance(schema.get("$ref"), str) and seen < 8:
        ref: str = schema["$ref"]
        target = _definitions().get(ref.rsplit("/", 1)[-1])
        if target is None:
            return None
        schema = target
        seen += 1
    resolved: Schema = schema
    return resolved


# -- JSON with duplicate keys -------------------------------------------------------------------------


class _Pairs(dict[str, Any]):
    """A decoded JSON object that remembers every key/value pair, duplicates included (last one wins)."""

    pairs: list[tuple[str, Any]]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> _Pairs:
    obj = _Pairs(pairs)
    obj.pairs = pairs
    return obj


def decode_with_duplicates(body: bytes) -> Any:
    """The body as JSON, objects as :class:`_Pairs`; None when the standard decoder cannot read it."""
    try:
        return json.loads(body, object_pairs_hook=_pairs_hook)
    except (ValueError, RecursionError):
        try:
            return json.loads(body.decode("utf-8", "replace"), object_pairs_hook=_pairs_hook)
        except (ValueError, RecursionError):
            return None


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _key_count(value: Any) -> int:
    count = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            count += len(node)
            stack.extend(v for v in node.values() if isinstance(v, JSON_CONTAINERS))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, JSON_CONTAINERS))
    return count


def may_repeat_keys(raw: bytes, decoded: Any) -> bool:
    """Whether a JSON body may repeat a key, given ``decoded`` (its parse): every member of a JSON
    object has exactly one ``:`` outside strings, so as many colons as decoded keys means none repeats.
    Saves the slow second parse that finds which ones do."""
    keys = _key_count(decoded)
    return raw.count(b":") != keys and _JSON_STRING.sub(b"", raw).count(b":") != keys


def has_duplicates(value: Any) -> bool:
    """Whether a value from :func:`decode_with_duplicates` repeats a key anywhere."""
    if isinstance(value, _Pairs):
        return len(value.pairs) != len(value) or any(has_duplicates(v) for v in value.values())
    if isinstance(value, dict):
        return any(has_duplicates(v) for v in value.values())
    if isinstance(value, list):
        return any(has_duplicates(v) for v in value)
    return False


def _items(value: dict[str, Any], ordered: bool) -> Iterable[tuple[str, Any]]:
    pairs: Iterable[tuple[str, Any]] = value.pairs if isinstance(value, _Pairs) else value.items()
    return sorted(pairs, key=lambda kv: kv[0]) if ordered else pairs


# -- the walk -------------------------------------------------------------------------------------------------


class _Walk:
    """One strict decode: collects errors in the decoder's order and returns the pruned value."""

    def __init__(self, *, sort_keys: bool, unknown: bool, duplicates: bool, typed: bool,
                 keep: frozenset[str] = frozenset()) -> None:
        self.sort_keys = sort_keys  # maps re-encoded by Go (patched objects, YAML) come out with sorted keys
        self.unknown = unknown
        self.duplicates = duplicates
        self.typed = typed  # built-in types decode RawExtension/FieldsV1 as raw bytes: nothing to check inside
        self.keep = keep  # unknown paths to leave alone (already in the stored object)
        self.errors: list[str] = []
        self._seen: set[str] = set()

    def error(self, text: str) -> None:
        if text in self._seen or len(self.errors) >= MAX_STRICT_ERRORS:
            return
        self._seen.add(text)
        self.errors.append(text)

    def value(self, value: Any, schema: Any, path: str) -> Any:
        resolved = _resolve(schema)
        if isinstance(value, dict):
            return self.object(value, resolved, path)
        if isinstance(value, list):
            items = resolved.get("items") if resolved is not None else None
            if resolved is None or (items is None and self.typed):
                return self.free(value, path) if not self.typed else value
            return [self.value(item, items, f"{path}[{i}]") if isinstance(item, JSON_CONTAINERS) else item
                    for i, item in enumerate(value)]
        return value

    def object(self, value: dict[str, Any], schema: Schema | None, path: str) -> Any:
        props = schema.get("properties") if schema is not None else None
        additional = schema.get("additionalProperties") if schema is not None else None
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields")) if schema is not None else True
        if not isinstance(props, dict) and not isinstance(additional, dict):
            # Free-form: RawExtension, FieldsV1, preserve-unknown-fields, or no schema at all.
            return self.free(value, path) if not self.typed else dict(value)
        out: dict[str, Any] = {}
        seen: set[str] = set()
        duplicates = self.duplicates and isinstance(value, _Pairs)  # a plain dict cannot repeat a key
        if not isinstance(props, dict):
            props = {}
        for key, item in _items(value, self.sort_keys):
            sub_path = f"{path}.{key}" if path else key
            if key in props:
                sub_schema: Any = props[key]
            elif isinstance(additional, dict):
                sub_schema = additional
            elif preserve:
                if duplicates and key in seen:
                    self.error(f"duplicate field {_quote(sub_path)}")
                seen.add(key)
                out[key] = self.free(item, sub_path)
                continue
            else:
                if sub_path in self.keep:
                    out[key] = item
                elif self.unknown:
                    self.error(f"unknown field {_quote(sub_path)}")
                continue
            if duplicates:
                if key in seen:
                    self.error(f"duplicate field {_quote(sub_path)}")
                seen.add(key)
            # A scalar needs no schema: nothing below it can be unknown or repeated.
            out[key] = self.value(item, sub_schema, sub_path) if isinstance(item, JSON_CONTAINERS) else item
        return out

    def free(self, value: Any, path: str) -> Any:
        """Unstructured content: only duplicate keys can be wrong."""
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in _items(value, self.sort_keys):
                sub_path = f"{path}.{key}" if path else key
                if key in out and self.duplicates:
                    self.error(f"duplicate field {_quote(sub_path)}")
                out[key] = self.free(item, sub_path)
            return out
        if isinstance(value, list):
            return [self.free(item, f"{path}[{i}]") for i, item in enumerate(value)]
        return value


def _quote(text: str) -> str:
    """Go's ``%q``."""
    from kubeproof.server.validation.field import go_quote

    return go_quote(text)


def _schema_of(group: str, version: str, kind: str, custom: Schema | None) -> tuple[Schema, bool]:
    """The kind's schema and whether it is a built-in (typed) one. ``custom``: the pruning schema of a
    custom resource (its CRD's structural schema, from the request's cluster: prune what it lacks)."""
    if custom is not None:
        return custom, False
    schema = _kind_schema(group, version, kind)
    if schema is None:
        return _UNSTRUCTURED, False
    return schema, True


def unknown_fields(group: str, version: str, kind: str, obj: Any, *, sort_keys: bool = True,
                   custom: Schema | None = None) -> list[str]:
    """The ``unknown field "..."`` errors of an object (no pruning, no duplicates)."""
    schema, typed = _schema_of(group, version, kind, custom)
    walk = _Walk(sort_keys=sort_keys, unknown=True, duplicates=False, typed=typed)
    walk.value(obj, schema, "")
    return walk.errors


def _unknown_paths(group: str, version: str, kind: str, obj: Any, custom: Schema | None) -> frozenset[str]:
    paths = set()
    for text in unknown_fields(group, version, kind, obj, custom=custom):
        paths.add(json.loads(text[len("unknown field "):]))
    return frozenset(paths)


# -- YAML duplicate keys (go-yaml's "already set in map") ---------------------------------------------------


def yaml_duplicate_errors(body: bytes) -> list[str]:
    """``line N: key "k" already set in map`` for every repeated key of a YAML document (1-based lines)."""
    try:
        root = yaml.compose(body, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    found: list[tuple[int, int, str]] = []
    visited: set[int] = set()

    def walk(node: yaml.Node) -> None:
        if id(node) in visited:
            return
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    ident = (key.tag, key.value)
                    if ident in keys:
                        found.append((key.start_mark.line, key.start_mark.column, key.value))
                    keys.add(ident)
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)

    if root is not None:
        walk(root)
    found.sort()
    return [f"line {line + 1}: key {_quote(key)} already set in map" for line, _, key in found]


# -- responses ---------------------------------------------------------------------------------------------------


def warning_headers(warnings: Iterable[str]) -> dict[str, list[str]]:
    """``Warning: 299 - "<text>"`` header values, one per distinct warning (``net.NewWarningHeader``:
    only ``"`` and ``\\`` are escaped; a text with control characters is dropped)."""
    values: list[str] = []
    for text in warnings:
        if any(unicodedata.category(ch) == "Cc" for ch in text):
            continue
        value = '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if value not in values:
            values.append(value)
    return {"Warning": values} if values else {}


# -- create and update ---------------------------------------------------------------------------------------


def check_body(group: str, version: str, kind: str, obj: Obj, mode: str, *, raw: bytes | None = None,
               content_type: str = "application/json", custom: Schema | None = None) -> tuple[Obj, list[str]]:
    """Validate a decoded create/update body: returns (pruned object, warnings); 400 on ``Strict``.

    ``raw`` is the request body; with a JSON body it is parsed again to find duplicate keys (the fast
    decoder keeps only the last one). YAML bodies report go-yaml's duplicate-key lines first, then the
    unknown fields in the order of the JSON the YAML converts to (sorted keys). Protobuf bodies cannot
    carry unknown fields (the protobuf decoder drops them), so they pass unchanged.
    """
    schema, typed = _schema_of(group, version, kind, custom)
    media = content_type.split(";")[0].strip().lower()
    if media == "application/vnd.kubernetes.protobuf":
        return obj, []
    strict_decode = mode != IGNORE
    is_yaml = media in ("application/yaml", "application/x-yaml", "text/yaml")
    source: Any = obj
    if (strict_decode and raw is not None and not is_yaml and media in ("", "application/json", "*/*")
            and may_repeat_keys(raw, obj)):
        decoded = decode_with_duplicates(raw)
        if isinstance(decoded, dict) and has_duplicates(decoded):
            source = decoded  # the same object, but with every occurrence of the repeated keys
    yaml_errors = yaml_duplicate_errors(raw) if strict_decode and is_yaml and raw is not None else []
    if typed:
        walk = _Walk(sort_keys=is_yaml, unknown=strict_decode, duplicates=strict_decode, typed=True)
        cleaned = walk.value(source, schema, "")
        problems = walk.errors
    else:
        # Custom resources: the decoder reports duplicates, then pruning reports unknown fields.
        dups = _Walk(sort_keys=is_yaml, unknown=False, duplicates=strict_decode, typed=False)
        dups.value(source, schema, "")
        prune = _Walk(sort_keys=True, unknown=strict_decode, duplicates=False, typed=False)
        cleaned = prune.value(obj, schema, "")
        problems = dups.errors + prune.errors
    if not isinstance(cleaned, dict):
        cleaned = obj
    if mode == IGNORE:
        return cleaned, []
    if mode == STRICT and (yaml_errors or problems):
        parts = (["yaml: unmarshal errors:\n  " + "\n  ".join(yaml_errors)] if yaml_errors else []) + problems
        raise errors.bad_request(
            f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: '
            + ", ".join(parts)
        )
    return cleaned, yaml_errors + problems


# -- patch ---------------------------------------------------------------------------------------------------------

_JSON_PATCH_OP_FIELDS = {"op", "path", "from", "value"}


def patch_body_errors(content_type: str, body: bytes, mode: str) -> list[str]:
    """Problems of the patch document itself, found when it is strictly decoded (``applyJSPatch``):
    duplicate keys of a merge or strategic patch, and for a JSON patch the unknown and duplicate keys of
    each operation (``json patch unknown field "[0].foo"``)."""
    if mode == IGNORE:
        return []
    decoded = decode_with_duplicates(body)
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json-patch+json":
        if not isinstance(decoded, list):
            return []
        walk = _Walk(sort_keys=False, unknown=True, duplicates=True, typed=True)
        for index, operation in enumerate(decoded):
            if not isinstance(operation, dict):
                continue
            seen: set[str] = set()
            for key, _ in _items(operation, False):
                path = f"[{index}].{key}"
                if key not in _JSON_PATCH_OP_FIELDS:
                    walk.error(f"unknown field {_quote(path)}")
                elif key in seen:
                    walk.error(f"duplicate field {_quote(path)}")
                seen.add(key)
        return ["json patch " + text for text in walk.errors]
    if not isinstance(decoded, dict):
        return []
    walk = _Walk(sort_keys=False, unknown=False, duplicates=True, typed=False)
    walk.free(decoded, "")
    return walk.errors


def check_patched(group: str, version: str, kind: str, patched: Obj, mode: str, *,
                  patch_errors: list[str] | None = None, current: Obj | None = None,
                  patch_value: str | Callable[[], str] = "", custom: Schema | None = None) -> tuple[Obj, list[str]]:
    """Validate the result of a patch: returns (pruned object, warnings); 422 on ``Strict``.

    Unknown fields are reported in the order of the re-encoded patched object (sorted keys), after the
    ``patch_errors`` of the patch document. Unknown fields already present in ``current`` (the stored
    object) are neither reported nor dropped: they are the server's own.
    """
    schema, typed = _schema_of(group, version, kind, custom)
    keep = _unknown_paths(group, version, kind, current, custom) if current is not None else frozenset()
    walk = _Walk(sort_keys=True, unknown=mode != IGNORE, duplicates=False, typed=typed, keep=keep)
    cleaned = walk.value(patched, schema, "")
    if not isinstance(cleaned, dict):
        cleaned = patched
    if mode == IGNORE:
        return cleaned, []
    problems = [*(patch_errors or []), *walk.errors]
    if mode == STRICT and problems:
        detail = "strict decoding error: " + ", ".join(problems)
        if callable(patch_value):
            patch_value = patch_value()
        # errors.NewInvalid(schema.GroupKind{}, "", ...): no kind, no name.
        raise errors.invalid("", "", "", [FieldError("FieldValueInvalid", "patch", patch_value, detail)])
    return cleaned, problems


def patch_value_json(obj: Any) -> str:
    """The patched object as the JSON patchers hand it to the decoder (``json.Marshal``: sorted keys,
    HTML characters escaped), which the 422 of a strict JSON or merge patch quotes."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def go_map_repr(value: Any) -> str:
    """``fmt.Sprintf("%+v", patchMap)`` of a decoded JSON value, which the 422 of a strict strategic merge
    patch quotes: ``map[spec:map[replicas:3]]``."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_map_repr(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_map_repr(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    """Go's ``%v`` of a float64 (``%g`` with the shortest digits; exponent form below 1e-4 or from 1e6)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    number = Decimal(repr(value)).normalize()
    sign, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(str(d) for d in digit_tuple)
    sci = len(digits) - 1 + exponent
    prefix = "-" if sign else ""
    if sci < -4 or sci >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if sci < 0 else '+'}{abs(sci):02d}"
    return prefix + format(abs(number), "f")
