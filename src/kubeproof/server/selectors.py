"""Label and field selectors, parsed, matched and rejected exactly as kube-apiserver does.

Ported from:

* ``k8s.io/apimachinery/pkg/labels/selector.go`` (``Parse``, ``NewRequirement``, ``Requirement.Matches``
  and ``String``): the byte lexer, the recursive-descent parser and every error text;
* ``k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go`` (``LabelSelectorAsSelector``): a nil
  ``metav1.LabelSelector`` selects nothing, an empty one selects everything;
* ``k8s.io/apimachinery/pkg/fields/selector.go`` (``ParseSelector``, ``UnescapeValue``,
  ``EscapeValue``): comma-separated ``f=v`` / ``f==v`` / ``f!=v`` terms with ``\\,`` ``\\=`` ``\\\\``
  escapes in values;
* ``k8s.io/apimachinery/pkg/runtime/conversion.go`` (``DefaultMetaV1FieldSelectorConversion``) and the
  per-kind field label conversion functions, for the unsupported-field messages.

Errors are raised as ``errors.bad_request(message)``, the 400 kube-apiserver answers with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from kubeproof.server.errors import bad_request
from kubeproof.server.validation import names
from kubeproof.server.validation.field import FieldError, GoRaw, aggregate, go_quote, invalid, not_supported

__all__ = [
    "DOES_NOT_EXIST",
    "DOUBLE_EQUALS",
    "EQUALS",
    "EXISTS",
    "GREATER_THAN",
    "IN",
    "LESS_THAN",
    "NOT_EQUALS",
    "NOT_IN",
    "FieldSelector",
    "LabelRequirement",
    "LabelSelector",
    "check_field_labels",
    "escape_field_value",
    "label_selector_from_dict",
    "parse_field_selector",
    "parse_label_selector",
    "unescape_field_value",
]

# --- selection.Operator values (k8s.io/apimachinery/pkg/selection/operator.go) -------------------

DOES_NOT_EXIST = "!"
EQUALS = "="
DOUBLE_EQUALS = "=="
IN = "in"
NOT_EQUALS = "!="
NOT_IN = "notin"
EXISTS = "exists"
GREATER_THAN = "gt"
LESS_THAN = "lt"

#: ``binaryOperators`` in selector.go, in its order (it is printed in "expected: ..." messages).
_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_UNARY_OPERATORS = (EXISTS, DOES_NOT_EXIST)

_INT_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


def _parse_int64(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``: an optional sign and ASCII digits, within int64."""
    if not _INT_RE.fullmatch(text):
        return None
    value = int(text)
    if value < _INT64_MIN or value > _INT64_MAX:
        return None
    return value


def _go_json_strings(values: Sequence[str] | None) -> GoRaw:
    """``json.Marshal`` of a ``[]string`` as field.Error prints a composite bad value (``null`` when nil)."""
    if not values:
        # LabelSelectorAsSelector passes append([]string(nil), ...) which is nil when empty.
        return GoRaw("null")
    text = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))
    # encoding/json escapes HTML-sensitive characters and the JS line separators.
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return GoRaw(text)


# --- label selectors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelRequirement:
    """``labels.Requirement``: ``operator`` is a ``selection.Operator`` value (``in``, ``=``, ``gt``...)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            if self.key not in labels:
                return False
            have = _parse_int64(labels[self.key])
            if have is None or len(self.values) != 1:
                return False
            want = _parse_int64(self.values[0])
            if want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        op = self.operator
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        if op == EXISTS:
            return self.key
        symbol = {
            EQUALS: "=",
            DOUBLE_EQUALS: "==",
            NOT_EQUALS: "!=",
            IN: " in ",
            NOT_IN: " notin ",
            GREATER_THAN: ">",
            LESS_THAN: "<",
        }.get(op, "")
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            return f"{self.key}{symbol}({values})"
        return f"{self.key}{symbol}{values}"


def _compiled(r: LabelRequirement) -> Callable[[Mapping[str, str]], bool]:
    """``r.matches`` as a closure. A missing key reads as None, which equals no value (labels are strings)."""
    key, op = r.key, r.operator
    if op in (IN, EQUALS, DOUBLE_EQUALS):
        if len(r.values) == 1:
            only = r.values[0]
            return lambda labels: labels.get(key) == only
        values = frozenset(r.values)
        return lambda labels: labels.get(key) in values
    if op in (NOT_IN, NOT_EQUALS):
        excluded = frozenset(r.values)
        return lambda labels: labels.get(key) not in excluded
    if op == EXISTS:
        return lambda labels: key in labels
    if op == DOES_NOT_EXIST:
        return lambda labels: key not in labels
    return r.matches


class LabelSelector:
    """A parsed label selector: the AND of its requirements (sorted by key), or the "nothing" selector."""

    __slots__ = ("_nothing", "_requirements")

    def __init__(self, requirements: Iterable[LabelRequirement] = (), *, nothing: bool = False) -> None:
        # sort.Sort(ByKey(...)): stable here; Go's is insertion sort (so stable) for up to 12 items.
        self._requirements: tuple[LabelRequirement, ...] = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = nothing

    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls(nothing=True)

    @property
    def requirements(self) -> tuple[LabelRequirement, ...]:
        return self._requirements

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (the "nothing" selector is not empty)."""
        return not self._nothing and not self._requirements

    @property
    def is_nothing(self) -> bool:
        return self._nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        have: Mapping[str, str] = labels if labels is not None else {}
        return all(r.matches(have) for r in self._requirements)

    def compile(self) -> Callable[[Mapping[str, str]], bool]:
        """``matches`` as one closure, for the hot path: a watch filters every event of its resource."""
        if self._nothing:
            return lambda labels: False
        tests = [_compiled(r) for r in self._requirements]
        if not tests:
            return lambda labels: True
        if len(tests) == 1:
            return tests[0]

        def all_match(labels: Mapping[str, str]) -> bool:
            return all(test(labels) for test in tests)

        return all_match

    def requires_exact_match(self, key: str) -> str | None:
        """``RequiresExactMatch``: the value the first requirement on ``key`` pins, if it pins one."""
        for r in self._requirements:
            if r.key == key:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self._requirements)

    def __repr__(self) -> str:
        if self._nothing:
            return "LabelSelector.nothing()"
        return f"LabelSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSelector):
            return NotImplemented
        return self._nothing == other._nothing and self._requirements == other._requirements

    def __hash__(self) -> int:
        return hash((self._nothing, self._requirements))


def _validate_label_key(key: str, path: str) -> FieldError | None:
    errs = names.is_qualified_name(key)
    if errs:
        return invalid(path, key, "; ".join(errs))
    return None


def _validate_label_value(key: str, value: str, path: str) -> FieldError | None:
    errs = names.is_valid_label_value(value)
    if errs:
        return invalid(f"{path}[{key}]", value, "; ".join(errs))
    return None


def _new_requirement(key: str, op: str, values: Sequence[str]) -> tuple[LabelRequirement, list[FieldError]]:
    """``labels.NewRequirement`` with a nil path: the errors it aggregates, in its order."""
    errs: list[FieldError] = []
    key_err = _validate_label_key(key, "key")
    if key_err is not None:
        errs.append(key_err)
    shown = _go_json_strings(values)
    if op in (IN, NOT_IN):
        if not values:
            errs.append(invalid("values", shown, "for 'in', 'notin' operators, values set can't be empty"))
    elif op in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(values) != 1:
            errs.append(invalid("values", shown, "exact-match compatibility requires one single value"))
    elif op in (EXISTS, DOES_NOT_EXIST):
        if values:
            errs.append(invalid("values", shown, "values set must be empty for exists and does not exist"))
    elif op in (GREATER_THAN, LESS_THAN):
        if len(values) != 1:
            errs.append(invalid("values", shown, "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, value in enumerate(values):
            if _parse_int64(value) is None:
                detail = "for 'Gt', 'Lt' operators, the value must be an integer"
                errs.append(invalid(f"values[{i}]", value, detail))
    else:
        errs.append(not_supported("operator", op, [*_BINARY_OPERATORS, *_UNARY_OPERATORS]))
    for i, value in enumerate(values):
        value_err = _validate_label_value(key, value, f"values[{i}]")
        if value_err is not None:
            errs.append(value_err)
    return LabelRequirement(key, op, tuple(values)), errs


class _ParseError(Exception):
    """An error of the Go parser, carrying its exact text."""


class _Tok(IntEnum):
    ERROR = 0
    END_OF_STRING = 1
    CLOSED_PAR = 2
    COMMA = 3
    DOES_NOT_EXIST = 4
    DOUBLE_EQUALS = 5
    EQUALS = 6
    GREATER_THAN = 7
    IDENTIFIER = 8
    IN = 9
    LESS_THAN = 10
    NOT_EQUALS = 11
    NOT_IN = 12
    OPEN_PAR = 13


_STRING2TOKEN: dict[str, _Tok] = {
    ")": _Tok.CLOSED_PAR,
    ",": _Tok.COMMA,
    "!": _Tok.DOES_NOT_EXIST,
    "==": _Tok.DOUBLE_EQUALS,
    "=": _Tok.EQUALS,
    ">": _Tok.GREATER_THAN,
    "in": _Tok.IN,
    "<": _Tok.LESS_THAN,
    "!=": _Tok.NOT_EQUALS,
    "notin": _Tok.NOT_IN,
    "(": _Tok.OPEN_PAR,
}

_NUL = "\x00"
_WHITESPACE = frozenset(" \t\r\n")
_SPECIAL = frozenset("=!(),><")


class _Lexer:
    """selector.go's ``Lexer``. A NUL byte reads like the end of the string, as in Go (``ch == 0``)."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.pos = 0

    def read(self) -> str:
        if self.pos < len(self.s):
            ch = self.s[self.pos]
            self.pos += 1
            return ch
        return _NUL

    def unread(self) -> None:
        self.pos -= 1

    def scan_id_or_keyword(self) -> tuple[_Tok, str]:
        buffer: list[str] = []
        while True:
            ch = self.read()
            if ch == _NUL:
                break
            if ch in _SPECIAL or ch in _WHITESPACE:
                self.unread()
                break
            buffer.append(ch)
        text = "".join(buffer)
        tok = _STRING2TOKEN.get(text)
        if tok is not None:
            return tok, text
        return _Tok.IDENTIFIER, text

    def scan_special_symbol(self) -> tuple[_Tok, str]:
        last: tuple[_Tok, str] | None = None
        buffer = ""
        while True:
            ch = self.read()
            if ch == _NUL:
                break
            if ch in _SPECIAL:
                buffer += ch
                tok = _STRING2TOKEN.get(buffer)
                if tok is not None:
                    last = (tok, buffer)
                elif last is not None:
                    self.unread()
                    break
            else:
                self.unread()
                break
        if last is None:
            return _Tok.ERROR, f"error expected: keyword found '{buffer}'"
        return last

    def lex(self) -> tuple[_Tok, str]:
        ch = self.read()
        while ch in _WHITESPACE:
            ch = self.read()
        if ch == _NUL:
            return _Tok.END_OF_STRING, ""
        self.unread()
        if ch in _SPECIAL:
            return self.scan_special_symbol()
        return self.scan_id_or_keyword()


# ParserContext: in the Values context the keywords "in" / "notin" read as identifiers.
_KEY_AND_OPERATOR = 0
_VALUES = 1


class _Parser:
    def __init__(self, text: str) -> None:
        lexer = _Lexer(text)
        self.items: list[tuple[_Tok, str]] = []
        while True:
            item = lexer.lex()
            self.items.append(item)
            if item[0] == _Tok.END_OF_STRING:
                break
        self.position = 0

    def _item(self, index: int, context: int) -> tuple[_Tok, str]:
        # Go would index past the end only on a parser bug; answer end-of-string instead of raising.
        tok, lit = self.items[index] if index < len(self.items) else (_Tok.END_OF_STRING, "")
        if context == _VALUES and tok in (_Tok.IN, _Tok.NOT_IN):
            tok = _Tok.IDENTIFIER
        return tok, lit

    def lookahead(self, context: int) -> tuple[_Tok, str]:
        return self._item(self.position, context)

    def consume(self, context: int) -> tuple[_Tok, str]:
        self.position += 1
        return self._item(self.position - 1, context)

    def parse(self) -> list[LabelRequirement]:
        requirements: list[LabelRequirement] = []
        while True:
            tok, lit = self.lookahead(_VALUES)
            if tok in (_Tok.IDENTIFIER, _Tok.DOES_NOT_EXIST):
                try:
                    requirement = self.parse_requirement()
                except _ParseError as err:
                    raise _ParseError(f"unable to parse requirement: {err}") from None
                requirements.append(requirement)
                t, lit2 = self.consume(_VALUES)
                if t == _Tok.END_OF_STRING:
                    return requirements
                if t == _Tok.COMMA:
                    t2, lit3 = self.lookahead(_VALUES)
                    if t2 not in (_Tok.IDENTIFIER, _Tok.DOES_NOT_EXIST):
                        raise _ParseError(f"found '{lit3}', expected: identifier after ','")
                else:
                    raise _ParseError(f"found '{lit2}', expected: ',' or 'end of string'")
            elif tok == _Tok.END_OF_STRING:
                return requirements
            else:
                raise _ParseError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> LabelRequirement:
        key, operator = self.parse_key_and_infer_operator()
        if operator in (EXISTS, DOES_NOT_EXIST):
            return self._new_requirement(key, operator, [])
        operator = self.parse_operator()
        values = self.parse_values() if operator in (IN, NOT_IN) else self.parse_exact_value()
        # NewRequirement(key, operator, values.List()): a sorted, de-duplicated list.
        return self._new_requirement(key, operator, sorted(values))

    @staticmethod
    def _new_requirement(key: str, operator: str, values: list[str]) -> LabelRequirement:
        requirement, errs = _new_requirement(key, operator, values)
        if errs:
            raise _ParseError(aggregate(errs))
        return requirement

    def parse_key_and_infer_operator(self) -> tuple[str, str]:
        operator = ""
        tok, literal = self.consume(_VALUES)
        if tok == _Tok.DOES_NOT_EXIST:
            operator = DOES_NOT_EXIST
            tok, literal = self.consume(_VALUES)
        if tok != _Tok.IDENTIFIER:
            raise _ParseError(f"found '{literal}', expected: identifier")
        # validateLabelKey(literal, p.path) with the parser's nil path: the field prints "<nil>".
        key_err = _validate_label_key(literal, "<nil>")
        if key_err is not None:
            raise _ParseError(str(key_err))
        t, _ = self.lookahead(_VALUES)
        if t in (_Tok.END_OF_STRING, _Tok.COMMA) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        return literal, operator

    def parse_operator(self) -> str:
        tok, lit = self.consume(_KEY_AND_OPERATOR)
        operator = {
            _Tok.IN: IN,
            _Tok.EQUALS: EQUALS,
            _Tok.DOUBLE_EQUALS: DOUBLE_EQUALS,
            _Tok.GREATER_THAN: GREATER_THAN,
            _Tok.LESS_THAN: LESS_THAN,
            _Tok.NOT_IN: NOT_IN,
            _Tok.NOT_EQUALS: NOT_EQUALS,
        }.get(tok)
        if operator is None:
            raise _ParseError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return operator

    def parse_values(self) -> set[str]:
        tok, lit = self.consume(_VALUES)
        if tok != _Tok.OPEN_PAR:
            raise _ParseError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(_VALUES)
        if tok in (_Tok.IDENTIFIER, _Tok.COMMA):
            values = self.parse_identifiers_list()
            tok, _ = self.consume(_VALUES)
            if tok != _Tok.CLOSED_PAR:
                raise _ParseError(f"found '{lit}', expected: ')'")
            return values
        if tok == _Tok.CLOSED_PAR:  # "()"
            self.consume(_VALUES)
            return {""}
        raise _ParseError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(_VALUES)
            if tok == _Tok.IDENTIFIER:
                values.add(lit)
                tok2, lit2 = self.lookahead(_VALUES)
                if tok2 == _Tok.COMMA:
                    continue
                if tok2 == _Tok.CLOSED_PAR:
                    return values
                raise _ParseError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _Tok.COMMA:  # "(," ",)" ",,"
                if not values:
                    values.add("")
                tok2, _ = self.lookahead(_VALUES)
                if tok2 == _Tok.CLOSED_PAR:
                    values.add("")
                    return values
                if tok2 == _Tok.COMMA:
                    self.consume(_VALUES)
                    values.add("")
            else:
                raise _ParseError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        tok, _ = self.lookahead(_VALUES)
        if tok in (_Tok.END_OF_STRING, _Tok.COMMA):
            return {""}
        tok, lit = self.consume(_VALUES)
        if tok == _Tok.IDENTIFIER:
            return {lit}
        raise _ParseError(f"found '{lit}', expected: identifier")


def parse_label_selector(text: str) -> LabelSelector:
    """``labels.Parse``: the ``labelSelector`` query parameter. The empty string selects everything."""
    try:
        requirements = _Parser(text).parse()
    except _ParseError as err:
        raise bad_request(str(err)) from None
    return LabelSelector(requirements)


_LABEL_SELECTOR_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def label_selector_from_dict(sel: Mapping[str, Any] | None) -> LabelSelector:
    """``metav1.LabelSelectorAsSelector``: None selects nothing, ``{}`` selects everything."""
    if sel is None:
        return LabelSelector.nothing()
    match_labels = sel.get("matchLabels") or {}
    match_expressions = sel.get("matchExpressions") or []
    if len(match_labels) + len(match_expressions) == 0:
        return LabelSelector.everything()
    requirements: list[LabelRequirement] = []
    # Go ranges over the map in random order; sorted keys make the first reported error deterministic.
    for key in sorted(match_labels):
        requirements.append(_checked_requirement(str(key), EQUALS, [_as_str(match_labels[key])]))
    for expr in match_expressions:
        expr_map: Mapping[str, Any] = expr if isinstance(expr, Mapping) else {}
        raw_op = expr_map.get("operator")
        op_text = raw_op if isinstance(raw_op, str) else ""
        op = _LABEL_SELECTOR_OPERATORS.get(op_text)
        if op is None:
            raise bad_request(f"{go_quote(op_text)} is not a valid label selector operator")
        raw_values = expr_map.get("values")
        values = [_as_str(v) for v in raw_values] if isinstance(raw_values, list) else []
        requirements.append(_checked_requirement(_as_str(expr_map.get("key")), op, values))
    return LabelSelector(requirements)


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _checked_requirement(key: str, op: str, values: list[str]) -> LabelRequirement:
    requirement, errs = _new_requirement(key, op, values)
    if errs:
        raise bad_request(aggregate(errs))
    return requirement


# --- field selectors ------------------------------------------------------------------------------


def escape_field_value(value: str) -> str:
    """``fields.EscapeValue``: backslash-escape ``\\``, ``,`` and ``=``."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_field_value(value: str) -> str:
    """``fields.UnescapeValue``; raises the 400 with Go's ``invalid field selector: ...`` text."""
    if not any(c in value for c in "\\,="):
        return value
    out: list[str] = []
    in_slash = False
    for ch in value:
        if in_slash:
            if ch in "\\,=":
                out.append(ch)
            else:
                raise bad_request(f"invalid field selector: invalid escape sequence: \\{ch}")
            in_slash = False
            continue
        if ch == "\\":
            in_slash = True
        elif ch in ",=":
            # UnescapedRune formats the rune with %v: its code point in decimal.
            raise bad_request(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if in_slash:
        raise bad_request("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(selector: str) -> list[str]:
    """``splitTerms``: split on unescaped commas, keeping escapes in the terms."""
    if not selector:
        return []
    terms: list[str] = []
    start = 0
    in_slash = False
    for i, ch in enumerate(selector):
        if in_slash:
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


_TERM_OPERATORS = ("!=", "==", "=")


def _split_term(term: str) -> tuple[str, str, str] | None:
    """``splitTerm``: the first operator occurrence splits (no escaping on the left-hand side)."""
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


class FieldSelector:
    """A parsed field selector: the AND of ``(field, op, value)`` terms, op ``=`` or ``!=``."""

    __slots__ = ("_requirements",)

    def __init__(self, requirements: Iterable[tuple[str, str, str]] = ()) -> None:
        self._requirements: tuple[tuple[str, str, str], ...] = tuple(requirements)

    @property
    def requirements(self) -> list[tuple[str, str, str]]:
        """``Requirements()``: ``==`` terms read as ``=`` (``selection.Equals``), in parse (sorted) order."""
        return list(self._requirements)

    @property
    def fields(self) -> set[str]:
        return {f for f, _, _ in self._requirements}

    @property
    def empty(self) -> bool:
        return not self._requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        for name, op, value in self._requirements:
            have = fields.get(name, "")
            if (have == value) != (op == EQUALS):
                return False
        return True

    def requires_exact_match(self, field: str) -> str | None:
        """``RequiresExactMatch``: the value of the first ``field=value`` term, if any."""
        for name, op, value in self._requirements:
            if name == field and op == EQUALS:
                return value
        return None

    def single_name(self) -> str | None:
        """The name a ``metadata.name=X`` term pins, which makes a list/watch a single-object request."""
        return self.requires_exact_match("metadata.name")

    def __str__(self) -> str:
        return ",".join(f"{f}{op}{escape_field_value(v)}" for f, op, v in self._requirements)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSelector):
            return NotImplemented
        return self._requirements == other._requirements

    def __hash__(self) -> int:
        return hash(self._requirements)


def parse_field_selector(text: str) -> FieldSelector:
    """``fields.ParseSelector``: the ``fieldSelector`` query parameter. Empty terms are skipped."""
    requirements: list[tuple[str, str, str]] = []
    for part in sorted(_split_terms(text)):
        if part == "":
            continue
        split = _split_term(part)
        if split is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        lhs, op, rhs = split
        value = unescape_field_value(rhs)
        requirements.append((lhs, NOT_EQUALS if op == NOT_EQUALS else EQUALS, value))
    return FieldSelector(requirements)


def check_field_labels(selector: FieldSelector, supported: Iterable[str], kind_has_conversion: bool) -> None:
    """Reject the first unsupported field, as ``Selector.Transform(ConvertFieldLabel)`` does.

    Kinds with a field label conversion function answer ``field label not supported: <f>``; the others
    fall back on ``runtime.DefaultMetaV1FieldSelectorConversion``, whose text names only
    ``metadata.name`` and ``metadata.namespace`` (for cluster-scoped kinds too).
    """
    allowed = set(supported)
    for name, _, _ in selector.requirements:
        if name in allowed:
            continue
        if kind_has_conversion:
            raise bad_request(f"field label not supported: {name}")
        raise bad_request(
            f"{go_quote(name)} is not a known field selector: only "
            f"{go_quote('metadata.name')}, {go_quote('metadata.namespace')}"
        )
