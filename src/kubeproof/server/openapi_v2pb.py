"""Swagger 2.0 as gnostic's ``openapi.v2.Document`` protobuf: what ``GET /openapi/v2`` answers to client-go.

client-go asks for ``/openapi/v2`` only as ``application/com.github.proto-openapi.spec.v2@v1.0+protobuf``
(kube-openapi's ``handler.ToProtoBinary`` turns the JSON document into this). kubectl needs it when the
OpenAPI v3 document has no PATCH operation for a kind (the review APIs, TokenRequest): its field-validation
check then falls back to v2, and its client-side validation reads the v2 schemas.

The messages and field numbers are those of ``openapiv2/OpenAPIv2.proto`` in google/gnostic. Values that are
free-form JSON (``default``, ``example``, ``enum`` items, ``x-`` extensions) travel as ``Any.yaml`` text, which
kube-openapi parses with a YAML decoder; JSON is valid YAML, so they are written as compact JSON. Only what a
Swagger document built by ``server/openapi.py`` contains is encoded; other keys are left out.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

import orjson

Schema = dict[str, Any]

_VARINT, _FIXED64, _LENGTH = 0, 1, 2


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values: two's complement, as Go writes them
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


class _Message:
    """Fields appended in order; proto3 leaves zero values out (``keep`` writes them, for oneof members)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def bytes_field(self, number: int, data: bytes, keep: bool = False) -> None:
        if data or keep:
            self.parts += (_tag(number, _LENGTH), _varint(len(data)), data)

    def string(self, number: int, value: Any) -> None:
        if isinstance(value, str):
            self.bytes_field(number, value.encode())

    def strings(self, number: int, values: Any) -> None:
        for value in values if isinstance(values, list) else []:
            self.bytes_field(number, str(value).encode(), keep=True)

    def boolean(self, number: int, value: Any, keep: bool = False) -> None:
        if value is True or keep:
            self.parts += (_tag(number, _VARINT), b"\x01" if value is True else b"\x00")

    def int64(self, number: int, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and value:
            self.parts += (_tag(number, _VARINT), _varint(value))

    def double(self, number: int, value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool) and value:
            self.parts += (_tag(number, _FIXED64), struct.pack("<d", float(value)))

    def message(self, number: int, data: bytes | None, keep: bool = False) -> None:
        if data is not None:
            self.bytes_field(number, data, keep=keep)

    def done(self) -> bytes:
        return b"".join(self.parts)


def _any(value: Any) -> bytes:
    """``Any{yaml}``: the value as YAML text (compact JSON is YAML)."""
    m = _Message()
    m.bytes_field(2, orjson.dumps(value))
    return m.done()


def _named(number: int, m: _Message, items: Iterable[tuple[str, bytes]]) -> None:
    """``repeated Named<X> = number``: each pair as ``{name = 1, value = 2}``."""
    for name, value in items:
        named = _Message()
        named.string(1, name)
        named.bytes_field(2, value, keep=True)
        m.bytes_field(number, named.done(), keep=True)


def _extensions(number: int, m: _Message, node: Schema) -> None:
    _named(number, m, ((k, _any(v)) for k, v in node.items() if k.startswith("x-")))


def schema(node: Schema) -> bytes:
    m = _Message()
    m.string(1, node.get("$ref"))
    m.string(2, node.get("format"))
    m.string(3, node.get("title"))
    m.string(4, node.get("description"))
    if "default" in node:
        m.message(5, _any(node["default"]), keep=True)
    m.double(6, node.get("multipleOf"))
    m.double(7, node.get("maximum"))
    m.boolean(8, node.get("exclusiveMaximum"))
    m.double(9, node.get("minimum"))
    m.boolean(10, node.get("exclusiveMinimum"))
    for number, key in ((11, "maxLength"), (12, "minLength")):
        m.int64(number, node.get(key))
    m.string(13, node.get("pattern"))
    for number, key in ((14, "maxItems"), (15, "minItems")):
        m.int64(number, node.get(key))
    m.boolean(16, node.get("uniqueItems"))
    for number, key in ((17, "maxProperties"), (18, "minProperties")):
        m.int64(number, node.get(key))
    m.strings(19, node.get("required"))
    for value in node.get("enum") or []:
        m.message(20, _any(value), keep=True)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        item = _Message()
        item.message(1, schema(extra), keep=True)
        m.message(21, item.done(), keep=True)
    elif isinstance(extra, bool):
        item = _Message()
        item.boolean(2, extra, keep=True)
        m.message(21, item.done(), keep=True)
    kind = node.get("type")
    if kind is not None:
        type_item = _Message()
        type_item.strings(1, kind if isinstance(kind, list) else [kind])
        m.message(22, type_item.done(), keep=True)
    items = node.get("items")
    if items is not None:
        items_item = _Message()
        for entry in items if isinstance(items, list) else [items]:
            items_item.message(1, schema(entry), keep=True)
        m.message(23, items_item.done(), keep=True)
    for entry in node.get("allOf") or []:
        m.message(24, schema(entry), keep=True)
    properties = node.get("properties")
    if isinstance(properties, dict):
        props = _Message()
        _named(1, props, ((name, schema(value)) for name, value in properties.items()))
        m.message(25, props.done(), keep=True)
    m.string(26, node.get("discriminator"))
    m.boolean(27, node.get("readOnly"))
    if "example" in node:
        m.message(30, _any(node["example"]), keep=True)
    _extensions(31, m, node)
    return m.done()


#: Non-body parameters: which ``NonBodyParameter`` member each location is, and its field numbers
#: (``required``, ``in``, ``description``, ``name``, ``allowEmptyValue``, ``type``, ``format``,
#: ``uniqueItems``, ``default``, ``vendor_extension``; 0 where the message has no such field).
_NON_BODY: dict[str, tuple[int, tuple[int, ...]]] = {
    "header": (1, (1, 2, 3, 4, 0, 5, 6, 19, 9, 22)),
    "formData": (2, (1, 2, 3, 4, 5, 6, 7, 20, 10, 23)),
    "query": (3, (1, 2, 3, 4, 5, 6, 7, 20, 10, 23)),
    "path": (4, (1, 2, 3, 4, 0, 5, 6, 19, 9, 22)),
}


def parameter(node: Schema) -> bytes:
    """A ``ParametersItem``: a ``$ref``, a body parameter or a non-body one."""
    item = _Message()
    if "$ref" in node:
        ref = _Message()
        ref.string(1, node["$ref"])
        ref.string(2, node.get("description"))
        item.message(2, ref.done(), keep=True)
        return item.done()
    param = _Message()
    where = node.get("in")
    if where == "body":
        body = _Message()
        body.string(1, node.get("description"))
        body.string(2, node.get("name"))
        body.string(3, where)
        body.boolean(4, node.get("required"))
        if isinstance(node.get("schema"), dict):
            body.message(5, schema(node["schema"]), keep=True)
        _extensions(6, body, node)
        param.message(1, body.done(), keep=True)
    else:
        member, numbers = _NON_BODY.get(str(where), _NON_BODY["query"])
        required, in_, description, name, allow_empty, kind, fmt, unique, default, ext = numbers
        sub = _Message()
        sub.boolean(required, node.get("required"))
        sub.string(in_, where)
        sub.string(description, node.get("description"))
        sub.string(name, node.get("name"))
        if allow_empty:
            sub.boolean(allow_empty, node.get("allowEmptyValue"))
        sub.string(kind, node.get("type"))
        sub.string(fmt, node.get("format"))
        if "default" in node:
            sub.message(default, _any(node["default"]), keep=True)
        sub.boolean(unique, node.get("uniqueItems"))
        _extensions(ext, sub, node)
        non_body = _Message()
        non_body.message(member, sub.done(), keep=True)
        param.message(2, non_body.done(), keep=True)
    item.message(1, param.done(), keep=True)
    return item.done()


def _responses(node: Schema) -> bytes:
    m = _Message()

    def response_value(value: Schema) -> bytes:
        response = _Message()
        response.string(1, value.get("description"))
        if isinstance(value.get("schema"), dict):
            schema_item = _Message()
            schema_item.message(1, schema(value["schema"]), keep=True)
            response.message(2, schema_item.done(), keep=True)
        _extensions(5, response, value)
        wrapper = _Message()
        wrapper.message(1, response.done(), keep=True)
        return wrapper.done()

    _named(1, m, ((code, response_value(value)) for code, value in node.items() if not code.startswith("x-")))
    _extensions(2, m, node)
    return m.done()


def operation(node: Schema) -> bytes:
    m = _Message()
    m.strings(1, node.get("tags"))
    m.string(2, node.get("summary"))
    m.string(3, node.get("description"))
    m.string(5, node.get("operationId"))
    m.strings(6, node.get("produces"))
    m.strings(7, node.get("consumes"))
    for param in node.get("parameters") or []:
        m.message(8, parameter(param), keep=True)
    if isinstance(node.get("responses"), dict):
        m.message(9, _responses(node["responses"]), keep=True)
    m.strings(10, node.get("schemes"))
    m.boolean(11, node.get("deprecated"))
    _extensions(13, m, node)
    return m.done()


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def path_item(node: Schema) -> bytes:
    m = _Message()
    m.string(1, node.get("$ref"))
    for method, number in _METHODS.items():
        if isinstance(node.get(method), dict):
            m.message(number, operation(node[method]), keep=True)
    for param in node.get("parameters") or []:
        m.message(9, parameter(param), keep=True)
    _extensions(10, m, node)
    return m.done()


def _map_of(encode: Callable[[Any], bytes], node: Any) -> bytes:
    """``{repeated Named<X> additional_properties = 1}``."""
    m = _Message()
    _named(1, m, ((name, encode(value)) for name, value in (node or {}).items()))
    return m.done()


def _security_requirement(node: Schema) -> bytes:
    def string_array(values: Any) -> bytes:
        m = _Message()
        m.strings(1, values)
        return m.done()

    return _map_of(string_array, node)


def _security_definition(node: Schema) -> bytes:
    """``SecurityDefinitionsItem``: the API-key and basic schemes (kube-apiserver publishes BearerToken)."""
    m = _Message()
    item = _Message()
    if node.get("type") == "basic":
        item.string(1, node.get("type"))
        item.string(2, node.get("description"))
        _extensions(3, item, node)
        m.message(1, item.done(), keep=True)
    else:
        item.string(1, node.get("type"))
        item.string(2, node.get("name"))
        item.string(3, node.get("in"))
        item.string(4, node.get("description"))
        _extensions(5, item, node)
        m.message(2, item.done(), keep=True)
    return m.done()


def document(doc: Schema) -> bytes:
    """The whole Swagger 2.0 document as an ``openapi.v2.Document``."""
    m = _Message()
    m.string(1, doc.get("swagger"))
    info = doc.get("info") or {}
    info_message = _Message()
    info_message.string(1, info.get("title"))
    info_message.string(2, info.get("version"))
    info_message.string(3, info.get("description"))
    m.message(2, info_message.done(), keep=True)
    m.string(3, doc.get("host"))
    m.string(4, doc.get("basePath"))
    for number, key in ((5, "schemes"), (6, "consumes"), (7, "produces")):
        m.strings(number, doc.get(key))
    paths = _Message()
    _named(2, paths, ((name, path_item(item)) for name, item in (doc.get("paths") or {}).items()))
    m.message(8, paths.done(), keep=True)
    m.message(9, _map_of(schema, doc.get("definitions")), keep=True)
    for requirement in doc.get("security") or []:
        m.message(12, _security_requirement(requirement), keep=True)
    if doc.get("securityDefinitions"):
        m.message(13, _map_of(_security_definition, doc["securityDefinitions"]))
    return m.done()
