"""core/v1 Events as client-go's ``record.EventRecorder`` writes them, for every controller to share.

``record_event(registry, involved, "Normal", "Scheduled", "Successfully assigned ...", "default-scheduler")``
creates an Event named ``<involved name>.<hex nanoseconds>`` in the involved object's namespace (``default``
for cluster-scoped objects), with ``involvedObject``, ``source``, ``reportingComponent``,
``firstTimestamp``/``lastTimestamp`` and ``count``. Like client-go's ``EventCorrelator``, a repeat of the
same event (same source, object, type, reason and message) bumps ``count`` and ``lastTimestamp`` of the
event already written instead of creating another, which is what ``kubectl describe`` shows as
``(x3 over 10s)``.

Recording never fails the caller: an event that cannot be written (namespace terminating, fault injected)
is dropped, as client-go drops it after its retries.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from kubeproof.server import errors
from kubeproof.server.registry.generic import Registry, deep_copy, now_rfc3339

log = logging.getLogger("kubeproof.controllers.events")

NORMAL = "Normal"
WARNING = "Warning"

_CorrelationKey = tuple[str, str, str, str, str, str, str, str, str, str]


class EventRecorder:
    """Writes Events through one registry; remembers what it wrote to aggregate repeats."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._lock = threading.RLock()  # re-entrant: a store listener may record an event too
        self._written: dict[_CorrelationKey, tuple[str, str]] = {}  # key -> (namespace, event name)

    def record(
        self,
        involved: dict[str, Any],
        type_: str,
        reason: str,
        message: str,
        component: str,
        *,
        host: str = "",
        field_path: str = "",
    ) -> dict[str, Any] | None:
        """Record an event about ``involved`` (a stored object); returns the Event written, or None."""
        meta = involved.get("metadata") or {}
        ref: dict[str, Any] = {
            "kind": involved.get("kind") or "",
            "namespace": meta.get("namespace") or "",
            "name": meta.get("name") or "",
            "uid": meta.get("uid") or "",
            "apiVersion": involved.get("apiVersion") or "",
            "resourceVersion": meta.get("resourceVersion") or "",
        }
        if field_path:
            ref["fieldPath"] = field_path
        if not ref["namespace"]:
            ref.pop("namespace")
        namespace = meta.get("namespace") or "default"
        source: dict[str, Any] = {"component": component}
        if host:
            source["host"] = host
        key: _CorrelationKey = (component, host, ref["kind"], namespace, ref["name"], ref["uid"], field_path,
                                type_, reason, message)
        try:
            rt = self.registry.resource("events")
            now = self.registry.clock.now()
            with self._lock:
                seen = self._written.get(key)
                if seen is not None:
                    existing = self.registry.store.get(rt.key, seen[0], seen[1])
                    if existing is not None:
                        updated = deep_copy(existing)
                        updated["count"] = int(existing.get("count") or 1) + 1
                        updated["lastTimestamp"] = now_rfc3339(now)
                        return self.registry.update(rt, seen[0], seen[1], updated)
                event: dict[str, Any] = {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"{ref['name']}.{int(now * 1e9):x}", "namespace": namespace},
                    "involvedObject": ref,
                    "reason": reason,
                    "message": message,
                    "source": source,
                    "firstTimestamp": now_rfc3339(now),
                    "lastTimestamp": now_rfc3339(now),
                    "count": 1,
                    "type": type_,
                    "eventTime": None,
                    "reportingComponent": component,
                    "reportingInstance": host,
                }
                for attempt in range(3):
                    try:
                        stored = self.registry.create(rt, namespace, event)
                        break
                    except errors.StatusError as exc:
                        if exc.code != 409 or attempt == 2:
                            raise
                        # Two events in the same nanosecond of a ManualClock: make the name unique.
                        event["metadata"]["name"] = f"{ref['name']}.{int(now * 1e9) + attempt + 1:x}"
                if len(self._written) > 4096:
                    self._written.clear()  # a bounded cache, like the correlator's LRU
                self._written[key] = (namespace, stored["metadata"]["name"])
                return stored
        except errors.StatusError as exc:
            log.debug("dropping event %s %s for %s/%s: %s", reason, message, namespace, ref["name"], exc)
            return None


_recorders: weakref.WeakKeyDictionary[Registry, EventRecorder] = weakref.WeakKeyDictionary()
_recorders_lock = threading.Lock()


def recorder_for(registry: Registry) -> EventRecorder:
    """The registry's shared recorder (one per cluster, so repeats aggregate across controllers)."""
    with _recorders_lock:
        recorder = _recorders.get(registry)
        if recorder is None:
            recorder = _recorders[registry] = EventRecorder(registry)
        return recorder


def record_event(
    registry: Registry,
    involved: dict[str, Any],
    type_: str,
    reason: str,
    message: str,
    component: str,
    *,
    host: str = "",
    field_path: str = "",
) -> dict[str, Any] | None:
    """Record a core/v1 Event about ``involved``; see the module docstring. ``type_`` is ``Normal`` or
    ``Warning``; ``component`` is the source (``default-scheduler``, ``kubelet``,
    ``deployment-controller``...); ``host`` the node for kubelet events; ``field_path`` e.g.
    ``spec.containers{web}`` for a container's events."""
    return recorder_for(registry).record(involved, type_, reason, message, component, host=host,
                                         field_path=field_path)


__all__ = ["NORMAL", "WARNING", "EventRecorder", "record_event", "recorder_for"]
