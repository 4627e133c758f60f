"""Watch streams: newline-delimited JSON events, bookmarks, WatchList, expiry and timeouts.

Semantics follow ``apiserver/pkg/storage/cacher`` (``cache_watcher.go``, ``cacher.go``) and
``handlers/watch.go``: synthetic ADDED events for the initial state, selector transitions turned into
ADDED/DELETED, the initial-events-end BOOKMARK for watch-list, and 410 Expired as an ERROR event.
"""

from __future__ import annotations

import asyncio
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

Send = Callable[[bytes], Awaitable[None]]


class WatchHooks:
    """Where fault injection reaches watch delivery; the defaults do nothing."""

    def delay(self, rt: ResourceType, event_type: str, obj: Obj) -> float:
        """Seconds to hold an event before it is written to this stream."""
        return 0.0

    def drop(self, rt: ResourceType) -> bool:
        """Whether to end this stream now, as a dropped connection would."""
        return False


def encode_event(event_type: str, obj: Obj) -> bytes:
    return orjson.dumps({"type": event_type, "object": obj}) + b"\n"


class _EncodedEvents:
    """Recently encoded events, shared by every stream on the loop: with many watchers on one resource,
    each committed object is encoded once per wire format instead of once per watcher. Stored objects
    are never mutated, so identity is a safe key while the entry holds a reference to the object."""

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

    async def run(self, send: Send, disconnected: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        store = self.registry.store

        def accept(event: Event) -> tuple[str, Obj, int, float] | None:
            out = self._transform(event)
            if out is None:
                return None
            return (out[0], out[1], event.rv, time.monotonic())

        subscriber = QueueSubscriber(loop, accept)
        deadline = time.monotonic() + self.timeout
        last_rv = 0
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
            last_rv = start_rv
            if initial_send and self.opts.allow_bookmarks:
                await send(self.encode("BOOKMARK", bookmark(self.rt, start_rv, initial_end=True)))
            next_bookmark = time.monotonic() + self.bookmark_interval
            waiter = asyncio.ensure_future(disconnected.wait())
            waiter.add_done_callback(lambda _: subscriber.wake())
            try:
                while True:
                    now = time.monotonic()
                    if now >= deadline:
                        if self.opts.allow_bookmarks:
                            await send(self.encode("BOOKMARK", bookmark(self.rt, max(last_rv, store.revision))))
                        return
                    if self.hooks.drop(self.rt):
                        return
                    await subscriber.wait_until(min(deadline, next_bookmark))
                    if disconnected.is_set():
                        return
                    if not subscriber.items:
                        if time.monotonic() >= next_bookmark and self.opts.allow_bookmarks:
                            with store.lock:
                                idle_rv = store.revision if subscriber.idle() else last_rv
                            last_rv = max(last_rv, idle_rv)
                            await send(self.encode("BOOKMARK", bookmark(self.rt, last_rv)))
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
                        last_rv = rv
                    await send(b"".join(chunk))
            finally:
                waiter.cancel()
        finally:
            subscriber.close()
            store.unsubscribe(self.rt.key, subscriber)
