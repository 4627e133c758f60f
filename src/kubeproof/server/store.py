"""The MVCC store: every object of every resource, one cluster-wide revision, and watch history.

Objects are JSON-shaped dicts that are never mutated once stored (writers store a new dict), so a list
snapshot is just a list of references. Each resource keeps a bounded history of its events: watches resume
from it, and lists at an older revision are rebuilt from it. When history is dropped (by size, age or an
explicit ``compact``), revisions at or below the compaction point answer 410 Expired, as etcd does.
"""

from __future__ import annotations

import asyncio
import builtins
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name); namespace is "" for cluster-scoped objects

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class Event:
    """A committed change. ``obj`` is the new state (for DELETED: the last state at the deletion revision)."""

    type: str
    resource: str
    key: Key
    obj: Obj
    prev: Obj | None
    rv: int
    time: float


class RevisionCompacted(Exception):
    """The requested revision is older than the retained history of the resource."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"revision {requested} compacted at {compacted}")
        self.requested = requested
        self.compacted = compacted


class Subscriber:
    """Receives committed events of one resource; ``offer`` runs under the store lock, so it must be quick."""

    def offer(self, event: Event) -> None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class _Resource:
    objects: dict[Key, Obj] = field(default_factory=dict)
    history: deque[Event] = field(default_factory=deque)
    compacted_rv: int = 0
    subscribers: set[Subscriber] = field(default_factory=set)


def set_rv(obj: Obj, rv: int) -> Obj:
    """A shallow copy of ``obj`` whose metadata carries ``rv``."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta["resourceVersion"] = str(rv)
    out["metadata"] = meta
    return out


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class Store:
    """One store for all resources with a single, strictly increasing revision."""

    def __init__(self, history_size: int = 10_000, history_seconds: float | None = None) -> None:
        self.lock = threading.RLock()
        self.history_size = history_size
        self.history_seconds = history_seconds
        self._rv = 1  # etcd starts above zero; "0" means "any" to clients
        self._resources: dict[str, _Resource] = {}
        self.listeners: list[Callable[[Event], None]] = []

    # -- reading ---------------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        return self._rv

    def _res(self, resource: str) -> _Resource:
        res = self._resources.get(resource)
        if res is None:
            res = self._resources[resource] = _Resource()
        return res

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        with self.lock:
            return self._res(resource).objects.get((namespace, name))

    def list(self, resource: str, namespace: str | None = None) -> tuple[list[Obj], int]:
        """The current objects (sorted by namespace, name) and the revision they were read at."""
        with self.lock:
            objects = self._res(resource).objects
            if namespace is None:
                items = [objects[k] for k in sorted(objects)]
            else:
                items = [objects[k] for k in sorted(objects) if k[0] == namespace]
            return items, self._rv

    def list_at(self, resource: str, rv: int, namespace: str | None = None) -> builtins.list[Obj]:
        """The objects as they were at revision ``rv``, rebuilt by undoing later history."""
        with self.lock:
            res = self._res(resource)
            if rv < res.compacted_rv:
                raise RevisionCompacted(rv, res.compacted_rv)
            state = dict(res.objects)
            for event in reversed(res.history):
                if event.rv <= rv:
                    break
                if event.prev is None:
                    state.pop(event.key, None)
                else:
                    state[event.key] = event.prev
        keys = sorted(k for k in state if namespace is None or k[0] == namespace)
        return [state[k] for k in keys]

    def compacted_revision(self, resource: str) -> int:
        with self.lock:
            return self._res(resource).compacted_rv

    def count(self, resource: str) -> int:
        with self.lock:
            return len(self._res(resource).objects)

    def resources(self) -> builtins.list[str]:
        with self.lock:
            return list(self._resources)

    # -- writing ---------------------------------------------------------------------------------

    def _commit(self, resource: str, type_: str, key: Key, obj: Obj, prev: Obj | None) -> Event:
        res = self._res(resource)
        self._rv += 1
        stored = set_rv(obj, self._rv)
        if type_ == DELETED:
            res.objects.pop(key, None)
            event = Event(DELETED, resource, key, stored, prev, self._rv, time.time())
        else:
            res.objects[key] = stored
            event = Event(type_, resource, key, stored, prev, self._rv, time.time())
        res.history.append(event)
        while len(res.history) > self.history_size:
            res.compacted_rv = res.history.popleft().rv
        for sub in list(res.subscribers):
            sub.offer(event)
        for listener in self.listeners:
            listener(event)
        return event

    def create(self, resource: str, obj: Obj) -> Obj | None:
        """Store a new object; None if the key is taken. Returns the stored object."""
        key = key_of(obj)
        with self.lock:
            if key in self._res(resource).objects:
                return None
            return self._commit(resource, ADDED, key, obj, None).obj

    def update(self, resource: str, obj: Obj, expected_rv: str | None = None) -> Obj | None:
        """Replace an existing object; None if it is missing or its revision is not ``expected_rv``."""
        key = key_of(obj)
        with self.lock:
            old = self._res(resource).objects.get(key)
            if old is None:
                return None
            if expected_rv is not None and old["metadata"].get("resourceVersion") != expected_rv:
                return None
            return self._commit(resource, MODIFIED, key, obj, old).obj

    def delete(self, resource: str, namespace: str, name: str, expected_rv: str | None = None) -> Obj | None:
        """Remove an object; returns its last state at the deletion revision, or None."""
        key = (namespace, name)
        with self.lock:
            old = self._res(resource).objects.get(key)
            if old is None:
                return None
            if expected_rv is not None and old["metadata"].get("resourceVersion") != expected_rv:
                return None
            return self._commit(resource, DELETED, key, old, old).obj

    # -- history ---------------------------------------------------------------------------------

    def subscribe_state(
        self, resource: str, subscriber: Subscriber, namespace: str | None = None
    ) -> tuple[builtins.list[Obj], int]:
        """Register a subscriber atomically with the current objects (for synthetic ADDED events)."""
        with self.lock:
            items, rv = self.list(resource, namespace)
            self._res(resource).subscribers.add(subscriber)
            return items, rv

    def subscribe_since(
        self, resource: str, subscriber: Subscriber, since: int
    ) -> tuple[builtins.list[Event], int]:
        """Register a subscriber atomically with the retained events after ``since``.

        Raises RevisionCompacted if ``since`` is older than the retained history.
        """
        with self.lock:
            res = self._res(resource)
            if since < res.compacted_rv:
                raise RevisionCompacted(since, res.compacted_rv)
            missed = [e for e in res.history if e.rv > since]
            res.subscribers.add(subscriber)
            return missed, self._rv

    def unsubscribe(self, resource: str, subscriber: Subscriber) -> None:
        with self.lock:
            self._res(resource).subscribers.discard(subscriber)

    def subscriber_count(self, resource: str | None = None) -> int:
        with self.lock:
            if resource is not None:
                return len(self._res(resource).subscribers)
            return sum(len(r.subscribers) for r in self._resources.values())

    def compact(self, rv: int | None = None) -> int:
        """Drop history at or below ``rv`` (default: everything up to now) in every resource."""
        with self.lock:
            upto = self._rv if rv is None else rv
            for res in self._resources.values():
                while res.history and res.history[0].rv <= upto:
                    res.history.popleft()
                res.compacted_rv = max(res.compacted_rv, upto)
            return upto

    def compact_older_than(self, seconds: float) -> None:
        """Drop history older than ``seconds``, like etcd's periodic compaction."""
        cutoff = time.time() - seconds
        with self.lock:
            for res in self._resources.values():
                while res.history and res.history[0].time < cutoff:
                    res.compacted_rv = res.history.popleft().rv


class QueueSubscriber(Subscriber):
    """Buffers events for one consumer on ``loop``, whichever thread commits them.

    A deque and one wake-up future, not an ``asyncio.Queue``: with a thousand watches open, each event
    costs every watcher one append and at most one future, no task.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, accept: Callable[[Event], Any] | None = None) -> None:
        self.loop = loop
        self.items: deque[Any] = deque()
        self.accept = accept
        self._loop_thread = threading.get_ident()
        self._wake: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0
        #: Items handed to the loop from another thread, or to ``bypass``, but not yet buffered or settled.
        self.in_flight = 0
        #: When set, an item that would be buffered behind nothing goes here instead, on the loop's
        #: thread; whoever takes it must ``settle`` it.
        self.bypass: Callable[[Any], None] | None = None

    def idle(self) -> bool:
        """Nothing buffered or on its way (call under the store lock for a stable answer)."""
        return not self.items and self.in_flight == 0

    def offer(self, event: Event) -> None:
        item = self.accept(event) if self.accept is not None else event
        if item is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._push(item)
        else:
            self.in_flight += 1
            self.loop.call_soon_threadsafe(self._push_remote, item)

    def _push_remote(self, item: Any) -> None:
        self.in_flight -= 1
        self._push(item)

    def _push(self, item: Any) -> None:
        if self.bypass is not None and not self.items:
            self.in_flight += 1
            self.bypass(item)
            return
        self.items.append(item)
        self.wake()

    def settle(self, item: Any, delivered: bool) -> None:
        """Take back an item handed to ``bypass``: delivered elsewhere, or to be buffered after all."""
        self.in_flight -= 1
        if not delivered:
            self.items.append(item)
            self.wake()

    def wake(self) -> None:
        """End the current ``wait`` (new items, or the consumer has something else to check)."""
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def wait_until(self, when: float) -> None:
        """Return when items are buffered, ``wake()`` is called, or ``time.monotonic()`` reaches ``when``.

        Waits with the same deadline share one timer: a stream that wakes for every event does not
        schedule and cancel a timer each time (with 1,000 watches that was a sixth of a fan-out's cost).
        """
        if self.items:
            return
        if self._timer is None or self._timer_when != when:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_when = when
            self._timer = self.loop.call_later(max(0.0, when - time.monotonic()), self._deadline_reached)
        self._wake = self.loop.create_future()
        try:
            await self._wake
        finally:
            self._wake = None

    def _deadline_reached(self) -> None:
        self._timer = None
        self.wake()

    def close(self) -> None:
        """Drop the pending timer (a closed stream must not hold itself alive until its deadline)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def iter_keys(objs: Iterable[Obj]) -> list[Key]:
    return [key_of(o) for o in objs]
