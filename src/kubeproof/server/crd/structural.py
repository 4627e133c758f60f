"""Structural-schema validation and defaulting of custom resources.

The messages are kube-openapi's (``pkg/validation/errors``: ``<path> in body must be of type integer:
"string"``, ``<path> in body should match '<pattern>'``, ...) as apiextensions-apiserver turns them into
field errors (``kubeOpenAPIResultToFieldErrors``): a missing property is ``Required value``, an enum miss
``Unsupported value``, maxLength ``Too long``, maxItems/maxProperties ``Too many``, a wrong type
``Invalid value: "<got type>"``, everything else ``Invalid value: <value>: <kube-openapi text>``. The
list-type checks (``x-kubernetes-list-type: set|map``) report ``Duplicate value`` as ``listtype`` does.
Pruning of unknown fields happens in the HTTP layer (``server/fieldvalidation.py`` reads the schema
through :func:`pruning_schema`), so that ``fieldValidation=Strict`` can report them.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import math
import re
import uuid
from datetime import datetime
from typing import Any

from kubeproof.server.validation.field import (
    FieldError,
    GoRaw,
    duplicate,
    invalid,
    not_supported,
    required,
    too_long,
    too_many,
    type_invalid,
)

Schema = dict[str, Any]

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DURATION = re.compile(r"^([-+]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w))+$")
_HOSTNAME = re.compile(
    r"^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")


def _is_ip(value: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(value).version == version
    except ValueError:
        return False


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
        return "/" in value
    except ValueError:
        return False


def _is_date_time(value: str) -> bool:
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _is_byte(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except ValueError:
        return False
    return True


def _is_uuid(value: str, version: int | None = None) -> bool:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36 and (version is None or parsed.version == version)


#: String formats apiextensions-apiserver validates (``supportedFormats``); any other format is ignored.
STRING_FORMATS: dict[str, Any] = {
    "date-time": _is_date_time,
    "datetime": _is_date_time,
    "date": _is_date,
    "duration": lambda v: bool(_DURATION.match(v)),
    "byte": _is_byte,
    "uuid": _is_uuid,
    "uuid3": lambda v: _is_uuid(v, 3),
    "uuid4": lambda v: _is_uuid(v, 4),
    "uuid5": lambda v: _is_uuid(v, 5),
    "ipv4": lambda v: _is_ip(v, 4),
    "ipv6": lambda v: _is_ip(v, 6),
    "cidr": _is_cidr,
    "hostname": lambda v: bool(_HOSTNAME.match(v)) and len(v) <= 255,
    "email": lambda v: bool(_EMAIL.match(v)),
    "mac": lambda v: bool(_MAC.match(v)),
}


def json_type(value: Any) -> str:
    """The JSON type name kube-openapi reports for a value it did not expect."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_ok(value: Any, typ: str) -> bool:
    if typ == "object":
        return isinstance(value, dict)
    if typ == "array":
        return isinstance(value, list)
    if typ == "string":
        return isinstance(value, str)
    if typ == "boolean":
        return isinstance(value, bool)
    if typ == "integer":
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
    if typ == "number":
        return not isinstance(value, bool) and isinstance(value, int | float)
    return True


def _num(value: Any) -> str:
    """A bound as Go's ``%v`` prints a float64."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None


class Validator:
    """One validation pass over a custom resource (create or update)."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def value(self, value: Any, schema: Schema, path: str) -> None:
        if not isinstance(schema, dict):
            return
        before = len(self.errors)
        if value is None:
            if schema.get("nullable"):
                return
            typ = schema.get("type")
            if typ:
                self._type_error(path, typ, "null")
            return
        if schema.get("x-kubernetes-int-or-string"):
            if not isinstance(value, str) and not _type_ok(value, "integer"):
                self._type_error(path, "integer,string", json_type(value))
                return
        else:
            typ = schema.get("type")
            if typ and not _type_ok(value, str(typ)):
                self._type_error(path, str(typ), json_type(value))
                return
        self._common(value, schema, path)
        if isinstance(value, str):
            self._string(value, schema, path)
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int | float):
            self._number(value, schema, path)
        elif isinstance(value, list):
            self._array(value, schema, path)
        elif isinstance(value, dict):
            self._object(value, schema, path)
        if len(self.errors) == before:
            self._junctors(value, schema, path)

    # -- per type ---------------------------------------------------------------------------------

    def _type_error(self, path: str, typ: str, got: str) -> None:
        self.errors.append(type_invalid(path, got, f'{path} in body must be of type {typ}: "{got}"'))

    def _common(self, value: Any, schema: Schema, path: str) -> None:
        enum = schema.get("enum")
        if isinstance(enum, list) and value not in enum:
            self.errors.append(not_supported(path, value, [_enum_text(e) for e in enum]))

    def _string(self, value: str, schema: Schema, path: str) -> None:
        length = len(value)
        max_length = schema.get("maxLength")
        if isinstance(max_length, int) and length > max_length:
            self.errors.append(too_long(path, max_length))
        min_length = schema.get("minLength")
        if isinstance(min_length, int) and length < min_length:
            self.errors.append(invalid(path, value, f"{path} in body should be at least {min_length} chars long"))
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            compiled = _pattern(pattern)
            if compiled is not None and not compiled.search(value):
                self.errors.append(invalid(path, value, f"{path} in body should match '{pattern}'"))
        fmt = schema.get("format")
        check = STRING_FORMATS.get(fmt) if isinstance(fmt, str) else None
        if check is not None and not check(value):
            self.errors.append(type_invalid(path, value, f'{path} in body must be of type {fmt}: "{value}"'))

    def _number(self, value: float, schema: Schema, path: str) -> None:
        fmt = schema.get("format")
        bounds = {"int32": _INT32, "int64": _INT64}.get(fmt) if isinstance(fmt, str) else None
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            self.errors.append(type_invalid(path, value, f"{path} in body must be of type {fmt}"))
        minimum, maximum = schema.get("minimum"), schema.get("maximum")
        if isinstance(minimum, int | float) and not isinstance(minimum, bool):
            if schema.get("exclusiveMinimum") and value <= minimum:
                self.errors.append(invalid(path, value, f"{path} in body should be greater than {_num(minimum)}"))
            elif value < minimum:
                self.errors.append(invalid(
                    path, value, f"{path} in body should be greater than or equal to {_num(minimum)}"))
        if isinstance(maximum, int | float) and not isinstance(maximum, bool):
            if schema.get("exclusiveMaximum") and value >= maximum:
                self.errors.append(invalid(path, value, f"{path} in body should be less than {_num(maximum)}"))
            elif value > maximum:
                self.errors.append(invalid(
                    path, value, f"{path} in body should be less than or equal to {_num(maximum)}"))
        multiple = schema.get("multipleOf")
        if isinstance(multiple, int | float) and multiple and not math.isclose(
                value / multiple, round(value / multiple)):
            self.errors.append(invalid(path, value, f"{path} in body should be a multiple of {_num(multiple)}"))

    def _array(self, value: list[Any], schema: Schema, path: str) -> None:
        size = len(value)
        min_items, max_items = schema.get("minItems"), schema.get("maxItems")
        if isinstance(min_items, int) and size < min_items:
            self.errors.append(invalid(path, size, f"{path} in body should have at least {min_items} items"))
        if isinstance(max_items, int) and size > max_items:
            self.errors.append(too_many(path, size, max_items))
        if schema.get("uniqueItems") and any(value[i] in value[:i] for i in range(size)):
            self.errors.append(invalid(path, GoRaw(_go_list(value)), f"{path} in body shouldn't contain duplicates"))
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                self.value(item, items, f"{path}[{index}]")
        self._list_type(value, schema, path)

    def _list_type(self, value: list[Any], schema: Schema, path: str) -> None:
        """``listtype.ValidateListSetsAndMaps``: duplicates of a set, or of a map's keys."""
        list_type = schema.get("x-kubernetes-list-type")
        if list_type == "set":
            seen: list[Any] = []
            for index, item in enumerate(value):
                if item in seen:
                    self.errors.append(duplicate(f"{path}[{index}]", item))
                else:
                    seen.append(item)
        elif list_type == "map":
            keys = schema.get("x-kubernetes-list-map-keys") or []
            seen_keys: list[tuple[Any, ...]] = []
            for index, item in enumerate(value):
                if not isinstance(item, dict):
                    continue
                key = tuple(item.get(k) for k in keys)
                if key in seen_keys:
                    self.errors.append(duplicate(f"{path}[{index}]", {k: item.get(k) for k in keys if k in item}))
                else:
                    seen_keys.append(key)

    def _object(self, value: dict[str, Any], schema: Schema, path: str) -> None:
        props: dict[str, Any] = _props(schema)
        for name in schema.get("required") or []:
            if name not in value:
                self.errors.append(required(_join(path, name)))
        count = len(value)
        min_props, max_props = schema.get("minProperties"), schema.get("maxProperties")
        if isinstance(min_props, int) and count < min_props:
            self.errors.append(invalid(path, count, f"{path} in body should have at least {min_props} properties"))
        if isinstance(max_props, int) and count > max_props:
            self.errors.append(too_many(path, count, max_props))
        additional = schema.get("additionalProperties")
        if schema.get("x-kubernetes-embedded-resource"):
            for name in ("apiVersion", "kind"):
                if not value.get(name):
                    self.errors.append(required(_join(path, name), "must not be empty"))
        for name in sorted(value):
            sub = props.get(name)
            if sub is None and isinstance(additional, dict):
                sub = additional
            if isinstance(sub, dict):
                self.value(value[name], sub, _join(path, name))

    def _junctors(self, value: Any, schema: Schema, path: str) -> None:
        """``allOf``/``anyOf``/``oneOf``/``not`` (value validations only, as structural schemas allow).

        kube-openapi's composite errors are not ``Validation`` errors, so apiextensions reports them as
        ``Invalid value: ""`` with the error text (the errors of the best alternative are not repeated)."""
        for sub in schema.get("allOf") or []:
            self.value(value, sub, path)
        quoted = '"' + path + '"'
        any_of = schema.get("anyOf")
        if isinstance(any_of, list) and any_of and not any(_passes(value, s, path) for s in any_of):
            self.errors.append(invalid(path, "", f"{quoted} must validate at least one schema (anyOf)"))
        one_of = schema.get("oneOf")
        if isinstance(one_of, list) and one_of:
            passing = sum(1 for s in one_of if _passes(value, s, path))
            if passing != 1:
                found = "Found none valid" if passing == 0 else f"Found {passing} valid alternatives"
                self.errors.append(invalid(path, "", f"{quoted} must validate one and only one schema (oneOf). "
                                                     + found))
        negated = schema.get("not")
        if isinstance(negated, dict) and _passes(value, negated, path):
            self.errors.append(invalid(path, "", f"{quoted} must not validate the schema (not)"))


def _passes(value: Any, schema: Any, path: str) -> bool:
    sub = Validator()
    sub.value(value, schema if isinstance(schema, dict) else {}, path)
    return not sub.errors


def _go_list(value: list[Any]) -> str:
    from kubeproof.server.validation.field import go_value

    return "[]interface {}{" + ", ".join(go_value(v) for v in value) + "}"


def _enum_text(value: Any) -> str:
    """Enum values as apiextensions lists them (``%v`` of each)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    return _num(value) if isinstance(value, float) else str(value)


def _props(schema: Schema) -> dict[str, Any]:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def validate(obj: dict[str, Any], schema: Schema) -> list[FieldError]:
    """Validate a whole custom resource against its version's ``openAPIV3Schema``.

    apiVersion, kind and metadata are checked by the generic metadata validation, not the schema.
    """
    validator = Validator()
    props: dict[str, Any] = _props(schema)
    for name in schema.get("required") or []:
        if name not in obj and name not in ("apiVersion", "kind", "metadata"):
            validator.errors.append(required(name))
    additional = schema.get("additionalProperties")
    for name in sorted(obj):
        if name in ("apiVersion", "kind", "metadata"):
            continue
        sub = props.get(name)
        if sub is None and isinstance(additional, dict):
            sub = additional
        if isinstance(sub, dict):
            validator.value(obj[name], sub, name)
    return validator.errors


# -- defaulting ---------------------------------------------------------------------------------------------


def apply_defaults(value: Any, schema: Any) -> Any:
    """``structuraldefaulting.Default``: set ``default`` for missing properties (and nulls that may not be
    null), recursively, in place; returns the value."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props: dict[str, Any] = _props(schema)
        for name, sub in props.items():
            if not isinstance(sub, dict) or "default" not in sub:
                continue
            if name not in value or (value[name] is None and not sub.get("nullable")):
                value[name] = copy.deepcopy(sub["default"])
        for name, item in value.items():
            sub = props.get(name)
            if sub is None and isinstance(schema.get("additionalProperties"), dict):
                sub = schema["additionalProperties"]
            apply_defaults(item, sub)
    elif isinstance(value, list):
        items = schema.get("items")
        for item in value:
            apply_defaults(item, items)
    return value


# -- pruning -----------------------------------------------------------------------------------------------

_META_REF = "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def pruning_schema(schema: Schema) -> Schema:
    """The schema the strict decoder walks: the CRD's, with apiVersion/kind/metadata typed as ObjectMeta
    (at the root and in embedded resources), and free-form nodes marked as such."""
    def convert(node: Any, root: bool) -> Any:
        if not isinstance(node, dict):
            return node
        out = dict(node)
        props = node.get("properties")
        if isinstance(props, dict):
            out["properties"] = {k: convert(v, False) for k, v in props.items()}
        if isinstance(node.get("items"), dict):
            out["items"] = convert(node["items"], False)
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = convert(node["additionalProperties"], False)
        elif node.get("additionalProperties") is True:
            out["x-kubernetes-preserve-unknown-fields"] = True
        if root or node.get("x-kubernetes-embedded-resource"):
            extra = dict(out.get("properties") or {})
            extra["apiVersion"] = {"type": "string"}
            extra["kind"] = {"type": "string"}
            extra["metadata"] = {"$ref": _META_REF}
            out["properties"] = extra
        if node.get("x-kubernetes-int-or-string") and "properties" not in node:
            out["x-kubernetes-preserve-unknown-fields"] = True
        elif (node.get("type") == "object" and not isinstance(out.get("properties"), dict)
              and "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields")):
            out["properties"] = {}  # an object without fields keeps none of what it is sent
        return out

    result: Schema = convert(schema, True)
    return result
