"""A recorded timeline of API events: every committed change with its revision and deletion state.

The pytest toolkit prints it for the objects a failing test touched; the flake hunter compares runs.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from kubeproof.server.store import Event


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    time: float
    type: str
    resource: str
    namespace: str
    name: str
    resource_version: int
    uid: str
    deletion_timestamp: str | None
    finalizers: tuple[str, ...]

    def describe(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        extra = ""
        if self.deletion_timestamp:
            extra += f" deletionTimestamp={self.deletion_timestamp}"
        if self.finalizers:
            extra += f" finalizers={list(self.finalizers)}"
        return f"{self.type:<8} {self.resource} {where} rv={self.resource_version}{extra}"


class Timeline:
    """A bounded, thread-safe record of committed events (attach ``record`` as a store listener)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._entries: deque[TimelineEntry] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(self, event: Event) -> None:
        meta: dict[str, Any] = event.obj.get("metadata") or {}
        entry = TimelineEntry(
            time=event.time,
            type=event.type,
            resource=event.resource,
            namespace=event.key[0],
            name=event.key[1],
            resource_version=event.rv,
            uid=str(meta.get("uid") or ""),
            deletion_timestamp=meta.get("deletionTimestamp"),
            finalizers=tuple(meta.get("finalizers") or ()),
        )
        with self._lock:
            self._entries.append(entry)

    def entries(
        self, *, resource: str | None = None, namespace: str | None = None, name: str | None = None,
        since: float | None = None,
    ) -> list[TimelineEntry]:
        with self._lock:
            entries = list(self._entries)
        return [
            e for e in entries
            if (resource is None or e.resource == resource)
            and (namespace is None or e.namespace == namespace)
            and (name is None or e.name == name)
            and (since is None or e.time >= since)
        ]
