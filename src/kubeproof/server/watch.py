"""Watch streams: newline-delimited JSON events, bookmarks, WatchList, expiry and timeouts.

Semantics follow ``apiserver/pkg/storage/cacher`` (``cache_watcher.go``, ``cacher.go``) and
``handlers/watch.go``: synthetic ADDED events for the initial state, selector transitions turned into
ADDED/DELETED, the initial-events-end BOOKMARK for watch-list, and 410 Expired as an ERROR event.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from kubeproof.server import errors
from kubeproof.server.options import ListOptions, default_watch_timeout, parse_rv
from kubeproof.server.registry.base import Obj, ResourceType
from kubeproof.server.registry.generic import Registry
from kubeproof.server.store import ADDED, DELETED, MODIFIED, Event, QueueSubscriber, RevisionCompacted, set_rv

INITIAL_EVENTS_END = "k8s.io/initial-events-end"

#: The ASGI scope extension of a synchronous chunk write: its ``write`` is ``(data: bytes) -> bool``
#: (server/protocol.py).
WRITE_CHUNK = "kubeproof.write_chunk"

Send = Callable[[bytes], Awaitable[None]]
#: Writes a chunk of the stream at once, or answers False when it must go through ``Send``.
WriteNow = Callable[[bytes], bool]


class WatchHooks:
    """Where fault injection reaches watch delivery; the defaults do nothing."""

    def delay(self, rt: ResourceType, event_type: str, obj: Obj) -> float:
        """Seconds to hold an event before it is written to this stream."""
        return 0.0

    def drop(self, rt: ResourceType) -> bool:
        """Whether to end this stream now, as a dropped connection would."""
        return False

    def active(self, rt: ResourceType) -> bool:
        """Whether ``delay`` or ``drop`` may act on this resource's streams now; while not, an idle
        stream's events are written without asking them."""
        return False


def encode_event(event_type: str, obj: Obj) -> bytes:
    return orjson.dumps({"type": event_type, "object": obj}) + b"\n"


class _EncodedEvents(threading.local):
    """Recently encoded events, shared by every stream on the loop: with many watchers on one resource,
    each committed object is encoded once per wire format instead of once per watcher. Stored objects
    are never mutated, so identity is a safe key while the entry holds a reference to the object. One
    per thread: clusters in one process each run their loop in a thread of their own."""

    size = 512

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, str, int], tuple[Obj, bytes]] = {}

    def get(self, encode: Callable[[str, Obj], bytes], event_type: str, obj: Obj) -> bytes:
        key = (encode, event_type, id(obj))
        hit = self._entries.get(key)
        if hit is not None and hit[0] is obj:
            return hit[1]
        data = encode(event_type, obj)
        if len(self._entries) >= self.size:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (obj, data)
        return data


_encoded = _EncodedEvents()


class _Fanout:
    """Events for streams that are idle and can be written at once, collected while a commit offers them
    and written by one loop callback after it.

    The writer's response still goes out first (the callback runs once its handler yields, as
    kube-apiserver's cacher dispatches after the commit), and each watcher then costs one direct write
    instead of a task wake-up and an ASGI ``send``: with 1,000 watches that all match, those were most of
    the Python work of delivering an event. A stream that cannot take an event at once (its task is
    writing, a fault hook is active, its transport is over its high-water mark, its deadline passed) gets
    it buffered, and its own task writes it, in order.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[WatchStream, tuple[str, Obj, int, float]]] = []

    def add(self, stream: WatchStream, item: tuple[str, Obj, int, float]) -> None:
        if not self.pending:
            self.loop.call_soon(self.flush)
        self.pending.append((stream, item))

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        now = time.monotonic()
        # Consecutive items are mostly one event for many streams: encode it and check the hooks once.
        obj: Obj | None = None
        event_type = encode = hooks = rt = None
        data = b""
        active = False
        for stream, item in pending:
            subscriber = stream.subscriber
            if stream.parked and not subscriber.items and now < stream.deadline:
                if stream.hooks is not hooks or stream.rt is not rt:
                    hooks, rt = stream.hooks, stream.rt
                    active = hooks.active(rt)
                if not active:
                    assert stream.write_now is not None
                    try:
                        if item[1] is not obj or item[0] != event_type or stream.encode is not encode:
                            event_type, obj, encode = item[0], item[1], stream.encode
                            data = _encoded.get(encode, event_type, obj)
                        written = stream.write_now(data)
                    except Exception:  # the stream's own task meets the error again and ends the stream
                        event_type = None
                        written = False
                    if written:
                        stream.last_rv = item[2]
                        subscriber.settle(item, True)
                        continue
            subscriber.settle(item, False)


_fanouts = threading.local()


def _fanout(loop: asyncio.AbstractEventLoop) -> _Fanout:
    current: _Fanout | None = getattr(_fanouts, "current", None)
    if current is None or current.loop is not loop:
        current = _fanouts.current = _Fanout(loop)
    return current


def bookmark(rt: ResourceType, rv: int, initial_end: bool = False) -> Obj:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    return {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}


class WatchStream:
    """One watch request. ``prepare`` validates (errors go out as HTTP statuses), ``run`` streams."""

    #: Seconds between periodic bookmarks (kube-apiserver: about a minute).
    bookmark_interval = 60.0

    def __init__(
        self,
        registry: Registry,
        rt: ResourceType,
        namespace: str | None,
        opts: ListOptions,
        hooks: WatchHooks | None = None,
        encode: Callable[[str, Obj], bytes] = encode_event,
    ) -> None:
        self.registry = registry
        self.rt = rt
        self.namespace = namespace if rt.namespaced else None
        self.opts = opts
        self.hooks = hooks or WatchHooks()
        self.encode = encode
        self.match = registry.matcher(rt, opts)
        self.since: int | None = None
        if opts.resource_version not in ("", "0"):
            self.since = parse_rv(opts.resource_version)
        timeout = opts.timeout_seconds
        self.timeout = float(timeout) if timeout is not None and timeout > 0 else float(default_watch_timeout())
        # The state of a running stream, which ``_Fanout`` reads and updates.
        self.subscriber: QueueSubscriber
        self.write_now: WriteNow | None = None
        self.deadline = 0.0
        #: The resourceVersion of the last event written (bookmarks never go below it).
        self.last_rv = 0
        #: True only while the stream's task waits with nothing of its own to write: then an event may
        #: be written at once without overtaking anything.
        self.parked = False

    def _transform(self, event: Event) -> tuple[str, Obj] | None:
        """``convertToWatchEvent``: selector transitions become ADDED or DELETED."""
        if self.namespace is not None and event.key[0] != self.namespace:
            return None
        if event.type == DELETED:
            return (DELETED, event.obj) if self.match(event.prev or event.obj) else None
        now = self.match(event.obj)
        before = event.prev is not None and self.match(event.prev)
        if event.type == ADDED:
            return (ADDED, event.obj) if now else None
        if now and before:
            return (MODIFIED, event.obj)
        if now:
            return (ADDED, event.obj)
        if before:
            assert event.prev is not None
            return (DELETED, set_rv(event.prev, event.rv))
        return None

    def _bookmark_rv(self) -> int:
        """The revision a bookmark may carry now: the store's while nothing is buffered or on its way to
        this stream, else the last event written (a client resuming there must still get the rest)."""
        store = self.registry.store
        with store.lock:
            rv = store.revision if self.subscriber.idle() else self.last_rv
        return max(self.last_rv, rv)

    async def run(self, send: Send, disconnected: asyncio.Event, write_now: WriteNow | None = None) -> None:
        """Stream until the timeout, a disconnect or a dropped stream. ``write_now``, when given, lets an
        idle stream's events be written at once (``_Fanout``); everything else goes through ``send``."""
        loop = asyncio.get_running_loop()
        store = self.registry.store

        def accept(event: Event) -> tuple[str, Obj, int, float] | None:
            out = self._transform(event)
            if out is None:
                return None
            return (out[0], out[1], event.rv, time.monotonic())

        subscriber = self.subscriber = QueueSubscriber(loop, accept)
        self.write_now = write_now
        deadline = self.deadline = time.monotonic() + self.timeout
        try:
            initial_send = self.opts.send_initial_events
            try:
                if initial_send:
                    items, start_rv = store.subscribe_state(self.rt.key, subscriber, self.namespace)
                    backlog: list[tuple[str, Obj]] = [(ADDED, o) for o in items if self.match(o)]
                elif self.since is None:
                    _, start_rv = store.subscribe_since(self.rt.key, subscriber, store.revision)
                    backlog = []
                else:
                    missed, start_rv = store.subscribe_since(self.rt.key, subscriber, self.since)
                    backlog = [out for e in missed if (out := self._transform(e)) is not None]
            except RevisionCompacted as exc:
                status = errors.expired(f"too old resource version: {exc.requested} ({exc.compacted})").status()
                await send(self.encode("ERROR", status))
                return
            for event_type, obj in backlog:
                await send(self.encode(event_type, obj))
            self.last_rv = start_rv
            if initial_send and self.opts.allow_bookmarks:
                await send(self.encode("BOOKMARK", bookmark(self.rt, start_rv, initial_end=True)))
            next_bookmark = time.monotonic() + self.bookmark_interval
            waiter = asyncio.ensure_future(disconnected.wait())
            waiter.add_done_callback(lambda _: subscriber.wake())
            if write_now is not None:
                fanout = _fanout(loop)
                subscriber.bypass = lambda item: fanout.add(self, item)
            try:
                while True:
                    now = time.monotonic()
                    if now >= deadline:
                        if self.opts.allow_bookmarks:
                            # Events still buffered are not sent now: the bookmark must not pass them.
                            await send(self.encode("BOOKMARK", bookmark(self.rt, self._bookmark_rv())))
                        return
                    if self.hooks.drop(self.rt):
                        return
                    self.parked = True
                    try:
                        await subscriber.wait_until(min(deadline, next_bookmark))
                    finally:
                        self.parked = False
                    if disconnected.is_set():
                        return
                    if not subscriber.items:
                        if time.monotonic() >= next_bookmark and self.opts.allow_bookmarks:
                            self.last_rv = self._bookmark_rv()
                            await send(self.encode("BOOKMARK", bookmark(self.rt, self.last_rv)))
                        if time.monotonic() >= next_bookmark:
                            next_bookmark = time.monotonic() + self.bookmark_interval
                        continue
                    # Take everything already buffered and write it as one chunk: under a burst, one
                    # socket write per batch instead of per event.
                    pending = list(subscriber.items)
                    subscriber.items.clear()
                    chunk: list[bytes] = []
                    for event_type, obj, rv, queued_at in pending:
                        delay = self.hooks.delay(self.rt, event_type, obj)
                        if delay > 0:
                            if chunk:
                                await send(b"".join(chunk))
                                chunk = []
                            await asyncio.sleep(max(0.0, queued_at + delay - time.monotonic()))
                        chunk.append(_encoded.get(self.encode, event_type, obj))
                        self.last_rv = rv
                    await send(b"".join(chunk))
            finally:
                waiter.cancel()
        finally:
            subscriber.bypass = None
            subscriber.close()
            store.unsubscribe(self.rt.key, subscriber)
