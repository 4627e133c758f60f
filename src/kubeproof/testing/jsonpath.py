"""kubectl-style JSONPath for waits: ``{.status.phase}``, ``{.status.conditions[?(@.type=="Ready")].status}``.

With the ``python-jsonpath`` package installed (it comes with the ``clients`` extra, through kr8s) the whole
RFC 9535 language is available: filters, wildcards, slices, recursive descent. Without it a small subset
is evaluated here, and anything outside it is refused with a clear error rather than misread:

* dotted keys ``.a.b``, kubectl's escaped dots ``.metadata.labels.app\\.kubernetes\\.io/name``;
* bracketed keys ``['a.b']`` / ``["a.b"]``;
* list indexes ``[0]`` and ``[-1]``.
"""

from __future__ import annotations

import json
import re
from types import ModuleType
from typing import Any

_library: ModuleType | None
try:  # which branch runs depends on what is installed
    import jsonpath as _library
except ImportError:  # pragma: no cover
    _library = None

_UNSUPPORTED = re.compile(r"[*?@:]|\.\.")


class JSONPathError(ValueError):
    """The path cannot be evaluated (bad syntax, or beyond the subset without python-jsonpath)."""


def _strip(path: str) -> str:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    if text and not text.startswith((".", "[")):
        text = "." + text
    return text


def _segments(text: str) -> list[str | int]:
    """Split a path of the fallback subset into keys and indexes."""
    out: list[str | int] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == ".":
            i += 1
            key = []
            while i < len(text) and text[i] not in ".[":
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                key.append(text[i])
                i += 1
            if not key:
                raise JSONPathError(f"empty key in JSONPath {text!r}")
            out.append("".join(key))
        elif ch == "[":
            end = text.find("]", i)
            if end < 0:
                raise JSONPathError(f"unclosed '[' in JSONPath {text!r}")
            inner = text[i + 1 : end].strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                out.append(inner[1:-1])
            else:
                try:
                    out.append(int(inner))
                except ValueError:
                    raise JSONPathError(f"unsupported index [{inner}] in JSONPath {text!r}") from None
            i = end + 1
        else:
            raise JSONPathError(f"unexpected {ch!r} at position {i} of JSONPath {text!r}")
    return out


def _to_rfc9535(text: str) -> str:
    """kubectl spelling to RFC 9535: ``$`` root, escaped dots become bracketed keys, ``?(...)`` keeps."""
    if "\\." not in text:
        return "$" + text
    parts: list[str] = []
    for segment in re.split(r"(?<!\\)\.", text)[1:]:
        key, sep, rest = segment.partition("[")
        key = key.replace("\\.", ".")
        parts.append(f"[{json.dumps(key)}]" + (sep + rest))
    return "$" + "".join(parts)


def find(path: str, obj: Any) -> list[Any]:
    """Every value ``path`` selects in ``obj`` (an empty list when nothing matches)."""
    text = _strip(path)
    if not text:
        return [obj]
    if _library is not None:
        try:
            return list(_library.findall(_to_rfc9535(text), obj))
        except _library.JSONPathError as exc:
            raise JSONPathError(f"invalid JSONPath {path!r}: {exc}") from None
    if _UNSUPPORTED.search(text):
        raise JSONPathError(
            f"JSONPath {path!r} needs filters or wildcards; install python-jsonpath "
            "(pip install 'kubeproof[clients]') or use dotted keys and [index] only"
        )
    current: list[Any] = [obj]
    for seg in _segments(text):
        nxt: list[Any] = []
        for value in current:
            fits_list = isinstance(seg, int) and isinstance(value, list) and -len(value) <= seg < len(value)
            if fits_list or (isinstance(seg, str) and isinstance(value, dict) and seg in value):
                nxt.append(value[seg])
        current = nxt
    return current


def render(value: Any) -> str:
    """A value as kubectl prints it in ``-o jsonpath``: strings bare, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def matches(path: str, obj: Any, expected: Any) -> bool:
    """True when ``path`` selects at least one value and every selected value equals ``expected``
    (compared as values, or as kubectl renders them when ``expected`` is a string: ``"true"``, ``"3"``)."""
    found = find(path, obj)
    if not found:
        return False
    return all(v == expected or (isinstance(expected, str) and render(v) == expected) for v in found)
