"""Content negotiation as ``apiserver/pkg/endpoints/handlers/negotiation`` does it.

``Accept`` clauses are tried in order of preference; a clause this endpoint cannot serve (an unknown
media type, or an ``as=`` transform it does not offer) is skipped, and only when none is left is the
answer 406.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
SERVED_MEDIA_TYPES = [JSON, YAML, PROTOBUF]  # what the 406 message lists for built-in types


@dataclass(frozen=True)
class MediaClause:
    type: str
    subtype: str
    params: dict[str, str] = field(default_factory=dict)
    q: float = 1.0

    @property
    def media_type(self) -> str:
        return f"{self.type}/{self.subtype}"


def parse_accept(header: str) -> tuple[MediaClause, ...]:
    """Clauses in preference order (higher q first, then as written)."""
    clauses: list[tuple[float, int, MediaClause]] = []
    for index, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces or not pieces[0]:
            continue
        media = pieces[0].lower()
        if "/" not in media:
            continue
        type_, subtype = media.split("/", 1)
        params: dict[str, str] = {}
        q = 1.0
        for piece in pieces[1:]:
            if "=" not in piece:
                continue
            key, value = piece.split("=", 1)
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            else:
                params[key] = value
        if q <= 0:
            continue
        clauses.append((q, index, MediaClause(type_, subtype, params, q)))
    clauses.sort(key=lambda c: (-c[0], c[1]))
    return tuple(c[2] for c in clauses)


@dataclass(frozen=True)
class Negotiated:
    """The chosen representation: a serializer (``json``/``yaml``) and an optional ``as`` transform."""

    format: str
    transform: str = ""  # e.g. "Table", "APIGroupDiscoveryList"
    group: str = ""
    version: str = ""
    params: dict[str, str] = field(default_factory=dict)


#: Clients send the same few Accept headers on every request, so the choice is cached; longer (odd or
#: hostile) headers are parsed each time rather than kept.
MAX_CACHED_ACCEPT = 256


def negotiate(header: str | None, transforms: frozenset[tuple[str, str, str]] | None = None) -> Negotiated | None:
    """Pick the first acceptable clause; None means 406.

    ``transforms`` lists the ``(as, g, v)`` conversions this endpoint can serve. The answer may be shared
    with other requests (it is cached): read it, do not change it.
    """
    header = header or ""
    if len(header) > MAX_CACHED_ACCEPT:
        return _choose(header, transforms)
    return _cached_choose(header, transforms)


def _choose(header: str, transforms: frozenset[tuple[str, str, str]] | None) -> Negotiated | None:
    if not header:
        return Negotiated("json")
    for clause in parse_accept(header):
        media = clause.media_type
        if media in (JSON, "application/*", "*/*"):
            fmt = "json"
        elif media == YAML:
            fmt = "yaml"
        else:
            continue
        as_ = clause.params.get("as", "")
        if as_:
            key = (as_, clause.params.get("g", ""), clause.params.get("v", ""))
            if transforms is None or key not in transforms:
                continue
            return Negotiated(fmt, as_, key[1], key[2], clause.params)
        return Negotiated(fmt, params=clause.params)
    return None


_cached_choose = lru_cache(maxsize=512)(_choose)
