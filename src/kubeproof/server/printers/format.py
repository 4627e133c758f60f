"""The small formatting helpers the built-in printers share, each a copy of the Go function it names.

``human_duration`` is ``k8s.io/apimachinery/pkg/util/duration.HumanDuration``; ``translate_timestamp_since``
is the helper of ``pkg/printers/internalversion/printers.go``; the label helpers are
``labels.FormatLabels`` and ``metav1.FormatLabelSelector``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kubeproof.server.errors import StatusError
from kubeproof.server.selectors import label_selector_from_dict

UNKNOWN = "<unknown>"
NONE = "<none>"
UNSET = "<unset>"


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``: a succinct duration with about two significant figures."""
    whole = math.trunc(seconds)  # int(d.Seconds()) truncates toward zero
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 60 * 2:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        s = whole % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: Any) -> float | None:
    """A ``metav1.Time``/``MicroTime`` string as epoch seconds; None for the zero time (absent or unparsable)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year <= 1:
        return None  # Go's zero time (0001-01-01T00:00:00Z) prints as "<unknown>"
    return parsed.timestamp()


def translate_timestamp_since(value: Any, now: float | None = None) -> str:
    """``translateTimestampSince`` (and ``translateMicroTimestampSince``): ``<unknown>`` for the zero time."""
    at = parse_time(value)
    if at is None:
        return UNKNOWN
    return human_duration((time.time() if now is None else now) - at)


def rfc3339(value: Any) -> str:
    """``m.GetCreationTimestamp().Time.UTC().Format(time.RFC3339)`` (the zero time for an absent one)."""
    at = parse_time(value)
    if at is None:
        return "0001-01-01T00:00:00Z"
    return datetime.fromtimestamp(math.floor(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_labels(labels: Any) -> str:
    """``labels.FormatLabels``: ``k=v`` sorted by key and joined with commas, ``<none>`` when empty."""
    if not isinstance(labels, Mapping) or not labels:
        return NONE
    return ",".join(f"{k}={'' if labels[k] is None else labels[k]}" for k in sorted(labels))


def selector_string(selector: Any) -> str | None:
    """``LabelSelectorAsSelector(s).String()``; None when the selector does not convert."""
    if selector is not None and not isinstance(selector, Mapping):
        return None
    try:
        return str(label_selector_from_dict(selector))
    except (StatusError, TypeError, AttributeError):
        return None


def format_label_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: ``<error>`` when invalid, ``<none>`` when it selects nothing or all."""
    text = selector_string(selector)
    if text is None:
        return "<error>"
    return text or NONE


def int_or_string(value: Any) -> str:
    """``intstr.IntOrString.String()``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value))
    return str(value)


def as_int(value: Any) -> int:
    """An int32/int64 field of a JSON object (absent is zero)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return 0


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[dict[str, Any]]:
    """The object entries of a JSON list (anything else in it is skipped)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def join_host_port(host: str, port: int) -> str:
    """``net.JoinHostPort``: IPv6 literals go in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
