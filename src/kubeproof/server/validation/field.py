"""Field errors with the exact text of apimachinery's ``field.Error`` (util/validation/field/errors.go)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Cause reasons (metav1.CauseType) and the human text of each error type.
_TYPE_TEXT = {
    "FieldValueRequired": "Required value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueTooLong": "Too long",
    "FieldValueTooMany": "Too many",
    "FieldValueTypeInvalid": "Invalid value",
    "FieldValueNotFound": "Not found",
    "InternalError": "Internal error",
}
# Types whose message never shows the offending value.
_NO_VALUE = {"FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong", "InternalError"}


class _Omit:
    def __repr__(self) -> str:
        return "<omitted>"


OMIT: Any = _Omit()


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (what ``%q`` prints): printable runes kept, the rest escaped Go-style."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable() and not 0xD800 <= code <= 0xDFFF:
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


class GoRaw(str):
    """A bad value already written in Go syntax (``%#v`` of a typed value, or a ``String()`` result).

    ``go_value`` prints it unchanged, so typed Go values such as ``map[string]string{"a":"b"}`` or
    ``v1.LabelSelector{...}`` can be reproduced exactly.
    """


def go_value(value: Any) -> str:
    """Format a bad value the way Go's ``%v``/``%q``/``%#v`` does in field.Error.ErrorBody."""
    if isinstance(value, GoRaw):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return go_string_slice(value)
        return "[]interface {}{" + ", ".join(go_value(v) for v in value) + "}"
    if isinstance(value, dict):
        return "map[string]interface {}{" + ", ".join(
            f"{go_quote(str(k))}:{go_value(v)}" for k, v in sorted(value.items())
        ) + "}"
    return str(value)


def go_string_slice(values: list[str] | None, type_name: str = "[]string") -> GoRaw:
    """``%#v`` of a ``[]string`` (``[]string(nil)`` when nil)."""
    if values is None:
        return GoRaw(f"{type_name}(nil)")
    return GoRaw(type_name + "{" + ", ".join(go_quote(v) for v in values) + "}")


def go_string_map(values: dict[str, Any] | None) -> GoRaw:
    """``%#v`` of a ``map[string]string``: keys sorted as fmt prints them, ``(nil)`` when nil."""
    if values is None:
        return GoRaw("map[string]string(nil)")
    inner = ", ".join(f"{go_quote(str(k))}:{go_quote(str(v))}" for k, v in sorted(values.items()))
    return GoRaw("map[string]string{" + inner + "}")


def go_label_selector(selector: dict[str, Any] | None, type_name: str = "v1.LabelSelector") -> GoRaw:
    """``%#v`` of a ``metav1.LabelSelector`` (a nil pointer prints as ``null``)."""
    if selector is None:
        return GoRaw("null")
    labels = selector.get("matchLabels")
    exprs = selector.get("matchExpressions")
    if exprs is None:
        expr_text = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = []
        for e in exprs:
            vals = e.get("values")
            items.append(
                "v1.LabelSelectorRequirement{Key:"
                + go_quote(str(e.get("key", "")))
                + ", Operator:"
                + go_quote(str(e.get("operator", "")))
                + ", Values:"
                + go_string_slice(vals)
                + "}"
            )
        expr_text = "[]v1.LabelSelectorRequirement{" + ", ".join(items) + "}"
    return GoRaw(
        f"{type_name}{{MatchLabels:{go_string_map(labels)}, MatchExpressions:{expr_text}}}"
    )


@dataclass(frozen=True)
class FieldError:
    """One validation failure: ``type`` is the metav1 cause reason (e.g. ``FieldValueInvalid``)."""

    type: str
    field: str
    bad_value: Any = OMIT
    detail: str = ""

    def body(self) -> str:
        text = _TYPE_TEXT[self.type]
        if self.type not in _NO_VALUE and self.bad_value is not OMIT:
            text = f"{text}: {go_value(self.bad_value)}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def cause(self) -> dict[str, str]:
        return {"reason": self.type, "message": self.body(), "field": self.field}


def required(field: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", field, OMIT, detail)


def invalid(field: str, value: Any, detail: str = "") -> FieldError:
    return FieldError("FieldValueInvalid", field, value, detail)


def forbidden(field: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueForbidden", field, OMIT, detail)


def not_supported(field: str, value: Any, valid: list[str]) -> FieldError:
    detail = "supported values: " + ", ".join(go_quote(v) for v in valid) if valid else ""
    return FieldError("FieldValueNotSupported", field, value, detail)


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError("FieldValueDuplicate", field, value)


def too_long(field: str, max_length: int) -> FieldError:
    if max_length < 0:
        return FieldError("FieldValueTooLong", field, OMIT, "value is too long")
    unit = "byte" if max_length == 1 else "bytes"
    return FieldError("FieldValueTooLong", field, OMIT, f"may not be more than {max_length} {unit}")


def too_many(field: str, actual: int, limit: int) -> FieldError:
    return FieldError("FieldValueTooMany", field, actual, f"must have at most {limit} items")


def type_invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError("FieldValueTypeInvalid", field, value, detail)


def not_found(field: str, value: Any) -> FieldError:
    return FieldError("FieldValueNotFound", field, value)


def aggregate(errors: list[FieldError]) -> str:
    """``ErrorList.ToAggregate().Error()``: duplicates dropped, several wrapped in ``[...]``."""
    seen: list[str] = []
    for err in errors:
        text = str(err)
        if text not in seen:
            seen.append(text)
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"
