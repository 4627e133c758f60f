"""Time as the embedded cluster sees it: timestamps, controller delays, kubelet timing, CronJob schedules.

``Clock`` is wall time. ``ManualClock`` only moves when a test calls ``advance()``, so a test can steer
grace periods, probe delays and schedules without sleeping: every timer due by the new time fires, in
order, before ``advance()`` returns.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Timer:
    """A scheduled callback; ``cancel()`` stops it if it has not fired."""

    __slots__ = ("callback", "cancelled", "due")

    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """Wall-clock time. Timers run on ``loop`` when given (thread-safe to schedule from anywhere), else
    on a daemon thread of their own."""

    def now(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], None],
                   loop: asyncio.AbstractEventLoop | None = None) -> Timer:
        delay = max(0.0, delay)
        timer = Timer(self.now() + delay, callback)

        def fire() -> None:
            if not timer.cancelled:
                callback()

        if loop is not None:
            loop.call_soon_threadsafe(loop.call_later, delay, fire)
        else:
            thread = threading.Timer(delay, fire)
            thread.daemon = True
            thread.start()
        return timer


class ManualClock(Clock):
    """Time that stands still until ``advance()``; starts at ``start`` (default: the real time now)."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._timers: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def call_later(self, delay: float, callback: Callable[[], None],
                   loop: asyncio.AbstractEventLoop | None = None) -> Timer:
        """Timers fire inside ``advance()``, on the caller's thread, whatever ``loop`` says."""
        with self._lock:
            timer = Timer(self._now + max(0.0, delay), callback)
            heapq.heappush(self._timers, (timer.due, next(self._seq), timer))
            return timer

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer due by then (each at its own due time)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            target = self._now + seconds
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > target:
                    self._now = target
                    return
                due, _, timer = heapq.heappop(self._timers)
                self._now = max(self._now, due)
            if not timer.cancelled:
                timer.callback()

    def pending(self) -> int:
        with self._lock:
            return sum(1 for _, _, t in self._timers if not t.cancelled)
