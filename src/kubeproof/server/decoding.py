"""What Go's JSON decoder refuses in the data maps of ConfigMaps and Secrets, with its exact words.

``map[string]string`` fields take only strings; ``map[string][]byte`` fields take only standard base64
(``encoding/base64.StdEncoding``, which skips CR and LF), and report the first bad byte.
"""

from __future__ import annotations

from typing import Any

from kubeproof.server import errors
from kubeproof.server.registry.base import Obj, ResourceType

_STD_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

#: (group, kind) -> {field: Go type of the map}
STRING_MAPS: dict[tuple[str, str], dict[str, str]] = {
    ("", "ConfigMap"): {"data": "map[string]string", "binaryData": "map[string][]uint8"},
    ("", "Secret"): {"data": "map[string][]uint8", "stringData": "map[string]string"},
}


def go_json_type(value: Any) -> str:
    """The JSON type name Go's ``UnmarshalTypeError`` reports for a decoded value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def base64_error(text: str) -> int | None:
    """The offset Go's ``base64.StdEncoding.DecodeString`` reports as illegal, or None if it decodes."""
    src = text.encode()
    si, n = 0, len(src)
    while si < n:
        j = 0
        while j < 4:
            if si == n:
                return None if j == 0 else si - j
            c = src[si]
            si += 1
            if c in _STD_ALPHABET:
                j += 1
                continue
            if c in (0x0A, 0x0D):
                continue
            if c != 0x3D or j < 2:  # not "=", or padding too early
                return si - 1
            if j == 2:  # "==" expected; the first "=" is consumed
                while si < n and src[si] in (0x0A, 0x0D):
                    si += 1
                if si == n:
                    return n
                if src[si] != 0x3D:
                    return si - 1
                si += 1
            while si < n and src[si] in (0x0A, 0x0D):
                si += 1
            return si if si < n else None
    return None


def check_string_maps(rt: ResourceType, obj: Obj) -> None:
    """400 BadRequest for a data map of the wrong JSON type, as decoding into the Go struct fails."""
    fields = STRING_MAPS.get((rt.group, rt.kind))
    if not fields:
        return
    prefix = f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
    for name, go_type in fields.items():
        value = obj.get(name)
        if value is None:
            continue
        where = f"Go struct field {rt.kind}.{name}"
        if not isinstance(value, dict):
            raise errors.bad_request(
                f"{prefix}json: cannot unmarshal {go_json_type(value)} into {where} of type {go_type}"
            )
        binary = go_type.endswith("[]uint8")
        for item in value.values():
            if item is None:
                continue
            if not isinstance(item, str):
                element = "[]uint8" if binary else "string"
                raise errors.bad_request(f"{prefix}json: cannot unmarshal {go_json_type(item)} into {where} of type "
                                         f"{element}")
            if binary and (offset := base64_error(item)) is not None:
                raise errors.bad_request(f"{prefix}illegal base64 data at input byte {offset}")
