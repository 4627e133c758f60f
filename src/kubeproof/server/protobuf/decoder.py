"""Decode ``application/vnd.kubernetes.protobuf`` request bodies into the JSON form of the same object.

The body is the 4-byte magic ``k8s\\x00`` followed by a ``runtime.Unknown`` message
(``k8s.io/apimachinery/pkg/runtime/generated.proto``)::

    message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2;
                      optional string contentEncoding = 3; optional string contentType = 4; }
    message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }

``raw`` is the object, encoded with the messages in ``schema.py``. The wire format reader below handles varints,
fixed32/64, length-delimited fields (packed or not) and skips groups and unknown field numbers, as gogo-protobuf's
generated ``Unmarshal`` does. Errors are 400s worded like the apiserver's (``transformDecodeError`` in
``apiserver/pkg/endpoints/handlers/rest.go``, ``protobuf.Serializer.Decode``).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from kubeproof.server import errors
from kubeproof.server.protobuf.schema import ANY_VERSION_KINDS, KINDS, MESSAGES, Field

MAGIC = b"k8s\x00"

VARINT, FIXED64, LENGTH, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# wire value: an int for varints, bytes for the rest
Wire = int | bytes


class DecodeError(ValueError):
    """The bytes are not a valid encoding of the expected message; the text is Go's error text."""


def decode_protobuf_body(body: bytes, kind: str | None = None) -> dict[str, Any]:
    """The JSON form of a protobuf request body, with ``kind`` and ``apiVersion`` from its envelope.

    ``kind`` is the kind the endpoint expects; it only words the error messages (and stands in for an envelope
    without a kind, as the apiserver's default GVK does). Malformed bodies and kinds that this decoder has no
    schema for raise a 400 ``BadRequest`` ``StatusError``.
    """
    body = bytes(body)
    if not body:
        raise _unrecognized(kind, "empty data", body)
    if not body.startswith(MAGIC):
        raise _unrecognized(
            kind, "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]", body
        )
    if len(body) == len(MAGIC):
        raise _unrecognized(kind, "empty body", body)
    try:
        api_version, object_kind, raw = _envelope(body[len(MAGIC):])
    except DecodeError as exc:
        raise _unrecognized(kind, str(exc), body) from None
    object_kind = object_kind or (kind or "")
    type_meta = f'runtime.TypeMeta{{APIVersion:"{api_version}", Kind:"{object_kind}"}}'
    if not object_kind:
        raise _unrecognized(kind, f"Object 'Kind' is missing in '{type_meta}'", body)
    version = api_version.rpartition("/")[2]
    expected = kind or object_kind

    def cannot_handle(why: str) -> errors.StatusError:
        return errors.bad_request(f'{object_kind} in version "{version}" cannot be handled as a {expected}: {why}')

    if not api_version:
        raise cannot_handle(f"Object 'apiVersion' is missing in '{type_meta}'")
    message = ANY_VERSION_KINDS.get(object_kind) or KINDS.get(api_version, {}).get(object_kind)
    if message is None:
        raise cannot_handle(
            f'no kind "{object_kind}" is registered for version "{api_version}" in the kubeproof protobuf schema '
            "(send this object as application/json)"
        )
    try:
        obj = decode_message(message, raw)
    except DecodeError as exc:
        raise cannot_handle(str(exc)) from None
    return {"kind": object_kind, "apiVersion": api_version, **obj}


def _unrecognized(kind: str | None, why: str, body: bytes) -> errors.StatusError:
    must_be = f" (must be of type {kind})" if kind else ""
    return errors.bad_request(f"the object provided is unrecognized{must_be}: {why} ({_summarize(body)})")


def _summarize(data: bytes, max_length: int = 30) -> str:
    """``summarizeData`` of the apiserver: JSON-looking data as text, anything else as hex."""
    if not data:
        return "<empty>"
    head = data[:max_length]
    text = head.decode("utf-8", "replace") if data[:1] == b"{" else head.hex()
    return text + " ..." if len(data) > max_length else text


def _envelope(data: bytes) -> tuple[str, str, bytes]:
    api_version = kind = ""
    raw = b""
    for number, wire_type, value in _fields(data):
        if number == 1:
            type_meta = _expect_bytes(wire_type, value, "TypeMeta")
            for inner, inner_type, inner_value in _fields(type_meta):
                if inner == 1:
                    api_version = _string(_expect_bytes(inner_type, inner_value, "APIVersion"))
                elif inner == 2:
                    kind = _string(_expect_bytes(inner_type, inner_value, "Kind"))
        elif number == 2:
            raw = _expect_bytes(wire_type, value, "Raw")
        elif number in (3, 4):
            _expect_bytes(wire_type, value, "ContentEncoding" if number == 3 else "ContentType")
    return api_version, kind, raw


# --- wire format -------------------------------------------------------------------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if shift >= 64:
            raise DecodeError("proto: integer overflow")
        if pos >= len(data):
            raise DecodeError("unexpected EOF")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, Wire]]:
    """(field number, wire type, value) for each field of a message, groups skipped."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == END_GROUP:
            raise DecodeError("proto: unexpected end group")
        if number <= 0:
            raise DecodeError(f"proto: illegal tag {number} (wire type {wire_type})")
        value: Wire
        if wire_type == VARINT:
            value, pos = _varint(data, pos)
        elif wire_type == FIXED64:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire_type == FIXED32:
            value, pos = data[pos:pos + 4], pos + 4
        elif wire_type == LENGTH:
            length, pos = _varint(data, pos)
            if length >= 1 << 63:
                raise DecodeError("proto: negative length found during unmarshaling")
            value, pos = data[pos:pos + length], pos + length
        elif wire_type == START_GROUP:
            pos = _skip_group(data, pos)
            continue
        else:
            raise DecodeError(f"proto: illegal wireType {wire_type}")
        if pos > end:
            raise DecodeError("unexpected EOF")
        yield number, wire_type, value


def _skip_group(data: bytes, pos: int) -> int:
    depth = 1
    while depth:
        key, pos = _varint(data, pos)
        wire_type = key & 7
        if wire_type == VARINT:
            _, pos = _varint(data, pos)
        elif wire_type == FIXED64:
            pos += 8
        elif wire_type == FIXED32:
            pos += 4
        elif wire_type == LENGTH:
            length, pos = _varint(data, pos)
            pos += length
        elif wire_type == START_GROUP:
            depth += 1
        elif wire_type == END_GROUP:
            depth -= 1
        else:
            raise DecodeError(f"proto: illegal wireType {wire_type}")
        if pos > len(data):
            raise DecodeError("unexpected EOF")
    return pos


def _go_name(name: str) -> str:
    return name[:1].upper() + name[1:]


def _wrong_wire_type(wire_type: int, name: str) -> DecodeError:
    return DecodeError(f"proto: wrong wireType = {wire_type} for field {_go_name(name)}")


def _expect_bytes(wire_type: int, value: Wire, name: str) -> bytes:
    if wire_type != LENGTH or not isinstance(value, bytes):
        raise _wrong_wire_type(wire_type, name)
    return value


def _as_bytes(value: Wire) -> bytes:
    """A length-delimited value (the wire type was checked before)."""
    if not isinstance(value, bytes):
        raise DecodeError("proto: internal error: expected a length-delimited value")
    return value


def _string(value: bytes) -> str:
    return value.decode("utf-8", "replace")


# --- scalars -----------------------------------------------------------------------------------------------------

_NATIVE_WIRE_TYPE = {
    "int32": VARINT, "int64": VARINT, "uint32": VARINT, "uint64": VARINT, "bool": VARINT,
    "double": FIXED64, "float": FIXED32, "string": LENGTH, "bytes": LENGTH,
}

_ZERO: dict[str, Any] = {
    "int32": 0, "int64": 0, "uint32": 0, "uint64": 0, "bool": False, "double": 0.0, "float": 0.0, "string": "",
    "bytes": "",
}


def _scalar(type_: str, value: Wire) -> Any:
    if isinstance(value, int):
        if type_ == "bool":
            return value != 0
        if type_ == "int64":
            return value - (1 << 64) if value >= 1 << 63 else value
        if type_ == "int32":
            value &= 0xFFFFFFFF
            return value - (1 << 32) if value >= 1 << 31 else value
        if type_ == "uint32":
            return value & 0xFFFFFFFF
        return value
    if type_ == "string":
        return _string(value)
    if type_ == "bytes":
        return base64.b64encode(value).decode("ascii")
    if type_ == "double":
        if len(value) != 8:
            raise DecodeError("unexpected EOF")
        return struct.unpack("<d", value)[0]
    if len(value) != 4:
        raise DecodeError("unexpected EOF")
    return struct.unpack("<f", value)[0]


def _packed(type_: str, data: bytes) -> Iterator[Any]:
    """The elements of a packed repeated numeric field."""
    wire_type = _NATIVE_WIRE_TYPE[type_]
    pos = 0
    while pos < len(data):
        value: Wire
        if wire_type == VARINT:
            value, pos = _varint(data, pos)
        else:
            size = 8 if wire_type == FIXED64 else 4
            value, pos = data[pos:pos + size], pos + size
        yield _scalar(type_, value)


def _is_zero(value: Any) -> bool:
    return value is False or value == 0 or value == ""


# --- messages ----------------------------------------------------------------------------------------------------


def decode_message(name: str, data: bytes) -> Any:
    """The JSON form of one message of the schema (a dict, or the custom form of a special type)."""
    special = _SPECIAL.get(name)
    if special is not None:
        return special(data)
    fields = MESSAGES[name]
    seen: dict[int, list[tuple[int, Wire]]] = {}
    for number, wire_type, value in _fields(data):
        field = fields.get(number)
        if field is None:
            continue  # an unknown field: skipped, as Go does
        _check_wire_type(field, wire_type)
        seen.setdefault(number, []).append((wire_type, value))
    out: dict[str, Any] = {}
    for number, field in fields.items():
        occurrences = seen.get(number)
        if occurrences is None:
            if field.presence == "always" and not field.is_message:
                out[field.name] = _ZERO[field.type]
            continue
        if field.map:
            out[field.name] = dict(_map_entry(field, value) for _, value in occurrences)
        elif field.repeated:
            items = list(_repeated(field, occurrences))
            if items:
                out[field.name] = items
        elif field.is_message:
            # a message field that occurs more than once is merged: decode the concatenation
            value = decode_message(field.type, b"".join(_as_bytes(item) for _, item in occurrences))
            if value is None and field.type in _TIMES:
                continue  # a zero metav1.Time: omitted, as encoding/json does with `omitzero` (k8s >= 1.35)
            if field.inline:
                out.update(value)
            else:
                out[field.name] = value
        else:
            scalar = _scalar(field.type, occurrences[-1][1])
            if field.presence != "nonzero" or not _is_zero(scalar):
                out[field.name] = scalar
    return out


def _check_wire_type(field: Field, wire_type: int) -> None:
    if field.is_message or field.map:
        expected = LENGTH
    else:
        expected = _NATIVE_WIRE_TYPE[field.type]
        if field.repeated and wire_type == LENGTH and expected != LENGTH:
            return  # packed
    if wire_type != expected:
        raise _wrong_wire_type(wire_type, field.name)


def _repeated(field: Field, occurrences: list[tuple[int, Wire]]) -> Iterator[Any]:
    for wire_type, value in occurrences:
        if field.is_message:
            yield decode_message(field.type, _as_bytes(value))
        elif wire_type == LENGTH and field.type not in ("string", "bytes"):
            yield from _packed(field.type, _as_bytes(value))
        else:
            yield _scalar(field.type, value)


def _map_entry(field: Field, data: Wire) -> tuple[str, Any]:
    key = ""
    value: Any = None
    seen_value = False
    for number, wire_type, item in _fields(_as_bytes(data)):
        if number == 1:
            key = _string(_expect_bytes(wire_type, item, "Key"))
        elif number == 2:
            if field.is_message:
                value = decode_message(field.type, _expect_bytes(wire_type, item, "Value"))
            else:
                if wire_type != _NATIVE_WIRE_TYPE[field.type]:
                    raise _wrong_wire_type(wire_type, "Value")
                value = _scalar(field.type, item)
            seen_value = True
    if not seen_value:
        value = decode_message(field.type, b"") if field.is_message else _ZERO[field.type]
    return key, value


# --- types with a custom JSON form -------------------------------------------------------------------------------


def _last(data: bytes) -> dict[int, Wire]:
    """The last value of each field number of a small message."""
    return {number: value for number, _, value in _fields(data)}


def _int(values: dict[int, Wire], number: int, name: str, type_: str = "int64") -> int:
    value = values.get(number, 0)
    if not isinstance(value, int):
        raise _wrong_wire_type(LENGTH, name)
    result: int = _scalar(type_, value)
    return result


def _bytes(values: dict[int, Wire], number: int, name: str) -> bytes:
    value = values.get(number, b"")
    if not isinstance(value, bytes):
        raise _wrong_wire_type(VARINT, name)
    return value


def _timestamp(data: bytes, micro: bool) -> str | None:
    """``metav1.Time`` (seconds precision, as its ``Unmarshal`` keeps) or ``metav1.MicroTime``; empty is null."""
    if not data:
        return None
    values = _last(data)
    seconds, nanos = _int(values, 1, "Seconds"), _int(values, 2, "Nanos", "int32")
    try:
        moment = _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000 if micro else 0)
    except OverflowError:
        raise DecodeError(f"Time.MarshalJSON: year outside of range [0,9999] ({seconds}s)") from None
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def go_duration(nanoseconds: int) -> str:
    """``time.Duration.String()``: ``"1h2m3.5s"``, ``"150ms"``, ``"0s"``."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    ns = abs(nanoseconds)

    def fraction(value: int, digits: int) -> str:
        whole, rest = divmod(value, 10**digits)
        tail = f"{rest:0{digits}d}".rstrip("0")
        return f"{whole}.{tail}" if tail else str(whole)

    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{fraction(ns, 3)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{fraction(ns, 6)}ms"
    seconds, rest = divmod(ns, 1_000_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = fraction(seconds * 1_000_000_000 + rest, 9) + "s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _raw_json(data: bytes, what: str) -> Any:
    raw = _bytes(_last(data), 1, "Raw")
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise DecodeError(f"{what}: raw bytes are not JSON ({raw[:30].hex()})") from None


def _quantity(data: bytes) -> str:
    text = _string(_bytes(_last(data), 1, "String_"))
    return text or "0"


def _int_or_string(data: bytes) -> int | str:
    values = _last(data)
    kind = _int(values, 1, "Type")
    if kind == 0:
        return _int(values, 2, "IntVal", "int32")
    if kind == 1:
        return _string(_bytes(values, 3, "StrVal"))
    raise DecodeError(f"impossible IntOrString.Type {kind}")


def _string_list(data: bytes) -> list[str]:
    return [_string(_expect_bytes(wire_type, value, "Items")) for number, wire_type, value in _fields(data)
            if number == 1]


def _duration(data: bytes) -> str:
    return go_duration(_int(_last(data), 1, "Duration"))


_TIMES = frozenset({"meta.Time", "meta.MicroTime"})

_SPECIAL: dict[str, Callable[[bytes], Any]] = {
    "meta.Time": lambda data: _timestamp(data, micro=False),
    "meta.MicroTime": lambda data: _timestamp(data, micro=True),
    "meta.Duration": _duration,
    "meta.FieldsV1": lambda data: _raw_json(data, "FieldsV1"),
    "runtime.RawExtension": lambda data: _raw_json(data, "RawExtension"),
    "resource.Quantity": _quantity,
    "intstr.IntOrString": _int_or_string,
    "authz.ExtraValue": _string_list,
    "authn.ExtraValue": _string_list,
}

__all__ = ["MAGIC", "DecodeError", "decode_message", "decode_protobuf_body", "go_duration"]

