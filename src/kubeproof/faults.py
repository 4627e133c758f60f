"""Fault and latency injection for the embedded server, driven by a seeded random source.

A ``FaultInjector`` hooks into the registry's writes (API errors) and into watch delivery (delays and
dropped streams). Rules are plain data, so the flake hunter can build them from a profile and a seed and
report a one-line reproduction.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from kubeproof.server import errors
from kubeproof.server.registry.base import Obj, ResourceType
from kubeproof.server.watch import WatchHooks


@dataclass
class ErrorRule:
    """Fail a fraction of writes (``verbs``) on matching resources with the given Status."""

    probability: float
    code: int = 500
    reason: str = "InternalError"
    message: str = "Internal error occurred: injected fault"
    verbs: tuple[str, ...] = ("create", "update", "delete")
    resources: tuple[str, ...] = ()  # storage keys such as "pods" or "deployments.apps"; empty = all


@dataclass
class WatchDelayRule:
    """Hold events of matching resources for ``min_seconds``..``max_seconds`` before delivery."""

    min_seconds: float
    max_seconds: float
    probability: float = 1.0
    resources: tuple[str, ...] = ()


@dataclass
class FaultInjector(WatchHooks):
    seed: int = 0
    errors: list[ErrorRule] = field(default_factory=list)
    watch_delays: list[WatchDelayRule] = field(default_factory=list)
    #: Chance that a watch stream ends at each delivery step, as a dropped connection would.
    watch_drop_probability: float = 0.0
    injected: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def _roll(self) -> float:
        with self._lock:
            return self._random.random()

    def before_write(self, verb: str, rt: ResourceType, namespace: str, name: str) -> None:
        for rule in self.errors:
            applies = verb in rule.verbs and (not rule.resources or rt.key in rule.resources)
            if applies and self._roll() < rule.probability:
                self.injected += 1
                raise errors.StatusError(rule.code, rule.reason, rule.message)

    def delay(self, rt: ResourceType, event_type: str, obj: Obj) -> float:
        for rule in self.watch_delays:
            if (not rule.resources or rt.key in rule.resources) and self._roll() < rule.probability:
                with self._lock:
                    return self._random.uniform(rule.min_seconds, rule.max_seconds)
        return 0.0

    def drop(self, rt: ResourceType) -> bool:
        return self.watch_drop_probability > 0 and self._roll() < self.watch_drop_probability

    def active(self, rt: ResourceType) -> bool:
        return self.watch_drop_probability > 0 or bool(self.watch_delays)

    def clear(self) -> None:
        self.errors.clear()
        self.watch_delays.clear()
        self.watch_drop_probability = 0.0
