"""The controller runtime: a keyed work queue fed by store events, and a manager that runs controllers."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Hashable
from typing import ClassVar

from kubeproof.clock import Clock, Timer
from kubeproof.server.registry.generic import Registry
from kubeproof.server.store import Event

log = logging.getLogger("kubeproof.controllers")


class Controller:
    """Reconciles keys; ``keys_for`` maps a committed event to the keys it makes dirty."""

    name: ClassVar[str] = ""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._timers: dict[Hashable, Timer] = {}
        self._timers_lock = threading.Lock()
        self._queue: asyncio.Queue[Hashable] | None = None
        self._queued: set[Hashable] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0

    def keys_for(self, event: Event) -> list[Hashable]:
        return []

    def watches(self) -> frozenset[str] | None:
        """The resources whose events ``keys_for`` can turn into keys (None: every resource). The manager
        hands a controller only those events: most writes concern few controllers."""
        return None

    def initial_keys(self) -> list[Hashable]:
        return []

    def reconcile(self, key: Hashable) -> bool:
        """Bring ``key`` towards its desired state; return True to be called again on the next change."""
        raise NotImplementedError

    # -- queue -----------------------------------------------------------------------------------

    def enqueue(self, key: Hashable) -> None:
        if self._queue is None or self._loop is None:
            return
        if threading.get_ident() != self._loop_thread:
            if self._loop.is_closed():
                return  # the cluster has stopped; late callbacks (runtimes, timers) have nothing to do
            try:
                self._loop.call_soon_threadsafe(self.enqueue, key)
            except RuntimeError:  # closed between the check and the call
                pass
            return
        if key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    @property
    def clock(self) -> Clock:
        return self.registry.clock

    def enqueue_after(self, key: Hashable, delay: float) -> None:
        """Reconcile ``key`` again once ``delay`` seconds of cluster time have passed (the earliest
        request wins, like client-go's AddAfter on a delaying queue)."""
        if delay <= 0:
            self.enqueue(key)
            return
        due = self.clock.now() + delay
        with self._timers_lock:
            existing = self._timers.get(key)
            if existing is not None and not existing.cancelled and existing.due <= due:
                return
            if existing is not None:
                existing.cancel()

            def fire() -> None:
                with self._timers_lock:
                    if self._timers.get(key) is timer:
                        del self._timers[key]
                self.enqueue(key)

            timer = self.clock.call_later(delay, fire, loop=self._loop)
            self._timers[key] = timer

    def on_event(self, event: Event) -> None:
        for key in self.keys_for(event):
            self.enqueue(key)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._queue = asyncio.Queue()
        for key in self.initial_keys():
            self.enqueue(key)
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            try:
                self.reconcile(key)
            except Exception:
                log.exception("%s controller failed to reconcile %r", self.name, key)
            # Yield so a burst of work never starves request handling on the shared loop.
            await asyncio.sleep(0)


class ControllerManager:
    """Starts the chosen controllers on the server's loop and feeds them store events."""

    def __init__(self, registry: Registry, controllers: list[Controller]) -> None:
        self.registry = registry
        self.controllers = controllers
        self._tasks: list[asyncio.Task[None]] = []
        #: The controllers each resource's events go to, in the order of ``controllers``.
        self._by_resource: dict[str, list[Controller]] = {}
        registry.store.listeners.append(self._dispatch)

    def _dispatch(self, event: Event) -> None:
        interested = self._by_resource.get(event.resource)
        if interested is None:
            interested = self._by_resource[event.resource] = [
                c for c in self.controllers if (watched := c.watches()) is None or event.resource in watched]
        for controller in interested:
            controller.on_event(event)

    def start(self) -> None:
        """Call on the server's event loop."""
        for controller in self.controllers:
            self._tasks.append(asyncio.get_running_loop().create_task(controller.run(), name=controller.name))
