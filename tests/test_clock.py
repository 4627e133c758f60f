"""The cluster clock: timestamps and controller delays follow a ManualClock."""

from __future__ import annotations

from collections.abc import Hashable

from kubeproof.clock import ManualClock
from kubeproof.controllers.base import Controller
from kubeproof.server.registry.builtin import builtin_resources
from kubeproof.server.registry.generic import Registry
from kubeproof.server.store import Store


def test_manual_clock_fires_due_timers_in_order() -> None:
    clock = ManualClock(start=1000.0)
    fired: list[tuple[str, float]] = []
    clock.call_later(5, lambda: fired.append(("b", clock.now())))
    clock.call_later(2, lambda: fired.append(("a", clock.now())))
    late = clock.call_later(20, lambda: fired.append(("late", clock.now())))
    clock.advance(10)
    assert fired == [("a", 1002.0), ("b", 1005.0)]
    assert clock.now() == 1010.0
    late.cancel()
    clock.advance(100)
    assert fired == [("a", 1002.0), ("b", 1005.0)]
    assert clock.pending() == 0


def test_registry_timestamps_follow_the_clock() -> None:
    registry = Registry(Store())
    for rt in builtin_resources():
        registry.register(rt)
    registry.clock = ManualClock(start=0.0)
    created = registry.create(registry.resource("namespaces"), "", {"metadata": {"name": "a"}})
    assert created["metadata"]["creationTimestamp"] == "1970-01-01T00:00:00Z"


class _Recorder(Controller):
    name = "recorder"

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        self.enqueued: list[Hashable] = []

    def enqueue(self, key: Hashable) -> None:
        self.enqueued.append(key)


def test_enqueue_after_keeps_the_earliest_request() -> None:
    registry = Registry(Store())
    clock = ManualClock(start=0.0)
    registry.clock = clock
    controller = _Recorder(registry)
    controller.enqueue_after("k", 10)
    controller.enqueue_after("k", 3)
    controller.enqueue_after("k", 7)
    clock.advance(5)
    assert controller.enqueued == ["k"]
    clock.advance(10)
    assert controller.enqueued == ["k"]
