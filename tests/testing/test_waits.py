"""eventually / consistently: Gomega's semantics and the text of their failures."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

from kubeproof.testing import (
    ConsistentlyFailed,
    StopTrying,
    WaitTimeout,
    consistently,
    consistently_async,
    eventually,
    eventually_async,
)


def counter(pass_from: int, value: Any = "ready") -> tuple[Callable[[], Any], list[int]]:
    """A probe that fails (AssertionError) until its ``pass_from``-th call, then returns ``value``."""
    calls = [0]

    def probe() -> Any:
        calls[0] += 1
        assert calls[0] >= pass_from, f"call {calls[0]}: not yet"
        return value

    return probe, calls


def test_eventually_returns_the_value_once_the_probe_passes() -> None:
    probe, calls = counter(3)
    assert eventually(probe, timeout=5, interval=0.001) == "ready"
    assert calls[0] == 3


def test_eventually_passes_at_once_without_waiting() -> None:
    probe, calls = counter(1, value=None)  # a probe that asserts and returns nothing passes
    assert eventually(probe, timeout=0) is None
    assert calls[0] == 1


def test_false_means_not_yet_but_other_values_pass() -> None:
    values = iter([False, False, 0])
    assert eventually(lambda: next(values), timeout=5, interval=0.001) == 0


def test_matcher_judges_the_returned_value() -> None:
    values = iter(["Pending", "Pending", "Running"])
    assert eventually(lambda: next(values), matcher=lambda v: v == "Running", timeout=5, interval=0.001) == "Running"


def test_matcher_may_assert() -> None:
    values = iter([1, 2, 3])

    def at_least_three(v: int) -> bool:
        assert v >= 3, f"{v} < 3"
        return True

    assert eventually(lambda: next(values), matcher=at_least_three, timeout=5, interval=0.001) == 3


def test_timeout_message_shows_description_last_value_attempts_and_time() -> None:
    with pytest.raises(WaitTimeout) as info:
        eventually(lambda: "Pending", matcher=lambda v: v == "Running", timeout=0.2, interval=0.01,
                   description="pod web to run")
    message = str(info.value)
    assert message.startswith("eventually: timed out after 0.2s waiting for pod web to run\n")
    assert "last value: 'Pending' (rejected by <lambda>)" in message
    attempts = int(re.search(r"attempts: (\d+), elapsed (\d+\.\d+)s", message).group(1))  # type: ignore[union-attr]
    assert attempts >= 2
    assert info.value.attempts == attempts
    assert info.value.elapsed >= 0.2
    assert info.value.last_value == "Pending"


def test_timeout_message_shows_the_last_assertion() -> None:
    def probe() -> None:
        raise AssertionError("expected 3 replicas, found 2")

    with pytest.raises(WaitTimeout) as info:
        eventually(probe, timeout=0.05, interval=0.01)
    message = str(info.value)
    assert "waiting for test_timeout_message_shows_the_last_assertion.<locals>.probe" in message
    assert "last error: AssertionError: expected 3 replicas, found 2" in message
    assert "last value" not in message
    assert isinstance(info.value, AssertionError)  # pytest reports it as a failure, not an error


def test_stop_trying_aborts_at_once() -> None:
    calls = [0]

    def probe() -> None:
        calls[0] += 1
        raise StopTrying("the pod failed: CrashLoopBackOff", value={"phase": "Failed"})

    with pytest.raises(WaitTimeout) as info:
        eventually(probe, timeout=30, description="pod to run")
    assert calls[0] == 1
    assert info.value.elapsed < 5
    message = str(info.value)
    assert message.startswith("eventually: stopped trying: the pod failed: CrashLoopBackOff; waiting for pod to run")
    assert "attempts: 1" in message
    assert "last value: {'phase': 'Failed'}" in message


def test_other_exceptions_propagate_at_once() -> None:
    calls = [0]

    def probe() -> None:
        calls[0] += 1
        raise KeyError("status")

    with pytest.raises(KeyError):
        eventually(probe, timeout=30)
    assert calls[0] == 1


def test_retry_on_widens_what_means_not_yet() -> None:
    probe_calls = [0]

    def probe() -> str:
        probe_calls[0] += 1
        if probe_calls[0] < 3:
            raise LookupError("not found yet")
        return "found"

    assert eventually(probe, timeout=5, interval=0.001, retry_on=(AssertionError, LookupError)) == "found"


def test_must_pass_needs_consecutive_passes() -> None:
    values = iter([True, False, True, True, True])
    seen: list[bool] = []

    def probe() -> bool:
        seen.append(next(values))
        return seen[-1]

    eventually(probe, must_pass=3, timeout=5, interval=0.001)
    assert seen == [True, False, True, True, True]


def test_must_pass_timeout_says_how_far_it_got() -> None:
    flip = iter([True, False] * 1000)
    with pytest.raises(WaitTimeout, match=r"\(0 of 2 consecutive passes\)|\(1 of 2 consecutive passes\)"):
        eventually(lambda: next(flip), must_pass=2, timeout=0.05, interval=0.001, description="flapping")


def test_consistently_passes_when_every_attempt_passes() -> None:
    calls = [0]

    def probe() -> int:
        calls[0] += 1
        return calls[0]

    last = consistently(probe, duration=0.05, interval=0.01)
    assert last == calls[0] >= 1


def test_consistently_fails_on_the_first_miss_and_says_when() -> None:
    values = iter([1, 1, 2, 1])
    with pytest.raises(ConsistentlyFailed) as info:
        consistently(lambda: next(values), matcher=lambda v: v == 1, duration=30, interval=0.001,
                     description="replica count stays 1")
    message = str(info.value)
    assert message.startswith("consistently: replica count stays 1 failed on attempt 3, ")
    assert "into 30s" in message
    assert "last value: 2 (rejected by <lambda>)" in message
    assert info.value.attempts == 3


def test_consistently_reports_an_assertion() -> None:
    def probe() -> None:
        raise AssertionError("the configmap changed")

    with pytest.raises(ConsistentlyFailed, match="last error: AssertionError: the configmap changed"):
        consistently(probe, duration=1)


def test_stop_trying_ends_consistently_as_a_failure() -> None:
    def probe() -> None:
        raise StopTrying("cluster went away")

    with pytest.raises(WaitTimeout, match="consistently: stopped trying: cluster went away"):
        consistently(probe, duration=30)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        eventually(lambda: True, timeout=-1)
    with pytest.raises(ValueError):
        eventually(lambda: True, must_pass=0)


async def test_eventually_async_takes_coroutine_probes() -> None:
    state = {"ready": False}

    async def flip_later() -> None:
        await asyncio.sleep(0)  # let the waiter run first: the flip happens while it polls
        state["ready"] = True

    task = asyncio.create_task(flip_later())

    async def probe() -> bool:
        return state["ready"]

    assert await eventually_async(probe, timeout=5, interval=0.001) is True
    await task


async def test_eventually_async_takes_plain_probes_and_reports_like_the_sync_one() -> None:
    with pytest.raises(WaitTimeout) as info:
        await eventually_async(lambda: "Pending", matcher=lambda v: v == "Running", timeout=0.05, interval=0.01,
                               description="the async thing")
    assert "waiting for the async thing" in str(info.value)
    assert "last value: 'Pending'" in str(info.value)


async def test_consistently_async() -> None:
    async def probe() -> str:
        return "steady"

    assert await consistently_async(probe, duration=0.03, interval=0.01) == "steady"
    values = iter(["steady", "changed"])
    with pytest.raises(ConsistentlyFailed, match="failed on attempt 2"):
        await consistently_async(lambda: next(values), matcher=lambda v: v == "steady", duration=30, interval=0.001)


async def test_stop_trying_async() -> None:
    async def probe() -> None:
        raise StopTrying("give up")

    with pytest.raises(WaitTimeout, match="stopped trying: give up"):
        await eventually_async(probe, timeout=30)
