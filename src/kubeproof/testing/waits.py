"""Waiting on state instead of sleeping: ``eventually`` and ``consistently`` with Gomega's semantics,
and watch-based waits on Kubernetes objects.

``eventually(fn)`` calls ``fn`` until it passes; ``consistently(fn)`` calls it for a while and fails on the
first miss. ``fn`` passes when it returns without raising and its value satisfies ``matcher`` (without a
matcher: any value except ``False``). Raising ``AssertionError`` (or one of ``retry_on``) means "not yet";
raising :class:`StopTrying` ends the wait at once as a failure; any other exception propagates at once (a
bug in the probe should not be hidden for the whole timeout).

Failures raise :class:`WaitTimeout` / :class:`ConsistentlyFailed` (both ``AssertionError``), whose message
says what was waited for, the last value or error seen, how many attempts were made and how long it took.

The watch-based waits (:func:`wait_for`, :func:`wait_gone`, :func:`wait_for_condition`,
:func:`wait_for_jsonpath`) follow one object through a watch that starts at the resourceVersion it was
seen at, so no intermediate state is missed and nothing polls; they are also methods of
:class:`kubeproof.testing.Kube`.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from kubeproof.testing.kube import Kube, ObjLike

T = TypeVar("T")
F = TypeVar("F", bound="WaitFailed")

#: Default ``eventually`` timeout, in seconds. Far above what a healthy embedded server needs; the
#: Kubernetes e2e framework's ``ForeverTestTimeout`` is the same 30 s. A passing wait returns at once.
DEFAULT_TIMEOUT = 30.0
#: Default pause between attempts, in seconds.
DEFAULT_INTERVAL = 0.05
#: Default ``consistently`` duration, in seconds.
DEFAULT_DURATION = 1.0

Matcher = Callable[[Any], object]


class StopTrying(Exception):
    """Raise from a probe to end ``eventually``/``consistently`` at once, as a failure, with a reason."""

    def __init__(self, reason: str, value: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


class WaitFailed(AssertionError):
    """A wait did not reach what it waited for. Attributes carry what the message says."""

    def __init__(self, message: str, *, description: str, attempts: int, elapsed: float,
                 last_value: Any = None, last_error: BaseException | None = None) -> None:
        super().__init__(message)
        self.description = description
        self.attempts = attempts
        self.elapsed = elapsed
        self.last_value = last_value
        self.last_error = last_error


class WaitTimeout(WaitFailed):
    """``eventually`` (or a watch-based wait) ran out of time, or was stopped with :class:`StopTrying`."""


class ConsistentlyFailed(WaitFailed):
    """``consistently`` saw the probe fail."""


def _short(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 20] + f"... ({len(text)} chars)"


def _describe_error(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _matcher_name(matcher: Matcher | None) -> str:
    if matcher is None:
        return ""
    return getattr(matcher, "__name__", None) or repr(matcher)


class _Attempts:
    """The bookkeeping shared by the four loops: judges each attempt and says how long to pause next.

    ``after(value, error)`` returns ``None`` when the wait is over and passed, a pause in seconds when
    another attempt is due, and raises the failure otherwise.
    """

    def __init__(self, kind: str, fn: Callable[..., Any], description: str | None, matcher: Matcher | None,
                 retry_on: tuple[type[BaseException], ...], span: float, interval: float, must_pass: int) -> None:
        if span < 0 or interval < 0:
            raise ValueError("timeout, duration and interval must not be negative")
        if must_pass < 1:
            raise ValueError("must_pass must be at least 1")
        self.kind = kind
        self.description = description or getattr(fn, "__qualname__", None) or repr(fn)
        self.matcher = matcher
        self.retry_on = retry_on
        self.span = span
        self.interval = interval
        self.must_pass = must_pass
        self.start = time.monotonic()
        self.deadline = self.start + span
        self.attempts = 0
        self.streak = 0
        self.last_value: Any = None
        self.have_value = False
        self.last_error: BaseException | None = None

    def after(self, value: Any, error: BaseException | None) -> float | None:
        self.attempts += 1
        passed = self._judge(value) if error is None else self._failed(error)
        self.streak = self.streak + 1 if passed else 0
        now = time.monotonic()
        if self.kind == "eventually":
            if self.streak >= self.must_pass:
                return None
            if now >= self.deadline:
                raise self._timeout()
        else:
            if not passed:
                raise self._inconsistent()
            if now >= self.deadline:
                return None
        return min(self.interval, self.deadline - now)

    def stopped(self, stop: StopTrying) -> WaitTimeout:
        self.attempts += 1
        if stop.value is not None:
            self.last_value, self.have_value = stop.value, True
        message = f"{self.kind}: stopped trying: {stop.reason}; waiting for {self.description}\n{self._details()}"
        return self._error(WaitTimeout, message)

    def _judge(self, value: Any) -> bool:
        self.last_value, self.have_value, self.last_error = value, True, None
        if self.matcher is None:
            return value is not False
        try:
            return bool(self.matcher(value))
        except self.retry_on as exc:
            self.last_error = exc
            return False

    def _failed(self, error: BaseException) -> bool:
        self.last_error, self.have_value = error, False
        return False

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _details(self) -> str:
        lines = [f"  attempts: {self.attempts}, elapsed {self.elapsed:.2f}s"]
        if self.last_error is not None:
            lines.append(f"  last error: {_describe_error(self.last_error)}")
        if self.have_value:
            rejected = f" (rejected by {_matcher_name(self.matcher)})" if self.matcher is not None else ""
            lines.append(f"  last value: {_short(self.last_value)}{rejected}")
        return "\n".join(lines)

    def _timeout(self) -> WaitTimeout:
        need = f" ({self.streak} of {self.must_pass} consecutive passes)" if self.must_pass > 1 else ""
        message = (f"eventually: timed out after {self.span:g}s waiting for {self.description}{need}\n"
                   f"{self._details()}")
        return self._error(WaitTimeout, message)

    def _inconsistent(self) -> ConsistentlyFailed:
        message = (f"consistently: {self.description} failed on attempt {self.attempts}, "
                   f"{self.elapsed:.2f}s into {self.span:g}s\n{self._details()}")
        return self._error(ConsistentlyFailed, message)

    def _error(self, cls: type[F], message: str) -> F:
        return cls(message, description=self.description, attempts=self.attempts, elapsed=self.elapsed,
                   last_value=self.last_value if self.have_value else None, last_error=self.last_error)


def _run(state: _Attempts, fn: Callable[[], T]) -> T:
    while True:
        error: BaseException | None = None
        value: Any = None
        try:
            value = fn()
        except StopTrying as stop:
            raise state.stopped(stop) from None
        except state.retry_on as exc:
            error = exc
        pause = state.after(value, error)
        if pause is None:
            return state.last_value  # type: ignore[no-any-return]
        time.sleep(pause)  # the poll interval (bounded by the deadline), not a wait for state


async def _run_async(state: _Attempts, fn: Callable[[], Any]) -> Any:
    while True:
        error: BaseException | None = None
        value: Any = None
        try:
            value = fn()
            if inspect.isawaitable(value):
                value = await value
        except StopTrying as stop:
            raise state.stopped(stop) from None
        except state.retry_on as exc:
            error = exc
        pause = state.after(value, error)
        if pause is None:
            return state.last_value
        await asyncio.sleep(pause)


def eventually(fn: Callable[[], T], *, timeout: float = DEFAULT_TIMEOUT, interval: float = DEFAULT_INTERVAL,
               description: str | None = None, matcher: Matcher | None = None, must_pass: int = 1,
               retry_on: tuple[type[BaseException], ...] = (AssertionError,)) -> T:
    """Call ``fn`` until it passes ``must_pass`` times in a row; return its last value.

    Raises :class:`WaitTimeout` when ``timeout`` seconds pass first (or ``fn`` raises :class:`StopTrying`).
    """
    return _run(_Attempts("eventually", fn, description, matcher, retry_on, timeout, interval, must_pass), fn)


def consistently(fn: Callable[[], T], *, duration: float = DEFAULT_DURATION, interval: float = DEFAULT_INTERVAL,
                 description: str | None = None, matcher: Matcher | None = None,
                 retry_on: tuple[type[BaseException], ...] = (AssertionError,)) -> T:
    """Call ``fn`` every ``interval`` for ``duration`` seconds; fail on the first attempt that does not pass.

    Returns the last value. :class:`StopTrying` fails at once, like a miss.
    """
    return _run(_Attempts("consistently", fn, description, matcher, retry_on, duration, interval, 1), fn)


@overload
async def eventually_async(fn: Callable[[], Awaitable[T]], *, timeout: float = ..., interval: float = ...,
                           description: str | None = ..., matcher: Matcher | None = ..., must_pass: int = ...,
                           retry_on: tuple[type[BaseException], ...] = ...) -> T: ...
@overload
async def eventually_async(fn: Callable[[], T], *, timeout: float = ..., interval: float = ...,
                           description: str | None = ..., matcher: Matcher | None = ..., must_pass: int = ...,
                           retry_on: tuple[type[BaseException], ...] = ...) -> T: ...
async def eventually_async(fn: Callable[[], Any], *, timeout: float = DEFAULT_TIMEOUT,
                           interval: float = DEFAULT_INTERVAL, description: str | None = None,
                           matcher: Matcher | None = None, must_pass: int = 1,
                           retry_on: tuple[type[BaseException], ...] = (AssertionError,)) -> Any:
    """:func:`eventually` for async code: ``fn`` may be a coroutine function or a plain one."""
    state = _Attempts("eventually", fn, description, matcher, retry_on, timeout, interval, must_pass)
    return await _run_async(state, fn)


@overload
async def consistently_async(fn: Callable[[], Awaitable[T]], *, duration: float = ..., interval: float = ...,
                             description: str | None = ..., matcher: Matcher | None = ...,
                             retry_on: tuple[type[BaseException], ...] = ...) -> T: ...
@overload
async def consistently_async(fn: Callable[[], T], *, duration: float = ..., interval: float = ...,
                             description: str | None = ..., matcher: Matcher | None = ...,
                             retry_on: tuple[type[BaseException], ...] = ...) -> T: ...
async def consistently_async(fn: Callable[[], Any], *, duration: float = DEFAULT_DURATION,
                             interval: float = DEFAULT_INTERVAL, description: str | None = None,
                             matcher: Matcher | None = None,
                             retry_on: tuple[type[BaseException], ...] = (AssertionError,)) -> Any:
    """:func:`consistently` for async code."""
    state = _Attempts("consistently", fn, description, matcher, retry_on, duration, interval, 1)
    return await _run_async(state, fn)


# -- watch-based waits on Kubernetes objects ------------------------------------------------------------


def wait_for(kube: Kube, obj: ObjLike, condition: Callable[[dict[str, Any]], object], *,
             timeout: float = DEFAULT_TIMEOUT, description: str | None = None) -> dict[str, Any]:
    """Watch ``obj`` until ``condition(current_object)`` is true; return that object.

    The watch starts at the object's resourceVersion (or at a fresh list when it has none), so every
    state it goes through is seen. Raises :class:`WaitTimeout` with the last state seen.
    """
    return kube.wait_for(obj, condition, timeout=timeout, description=description)


def wait_gone(kube: Kube, obj: ObjLike, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Wait until ``obj`` (that uid) no longer exists; on timeout, say what holds it."""
    kube.wait_gone(obj, timeout=timeout)


def wait_for_condition(kube: Kube, obj: ObjLike, type_: str, status: str = "True", *,
                       timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Wait until ``status.conditions`` has ``type_`` with ``status``, for the object's current generation."""
    return kube.wait_for_condition(obj, type_, status, timeout=timeout)


def wait_for_jsonpath(kube: Kube, obj: ObjLike, path: str, value: Any, *,
                      timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Wait until the kubectl-style JSONPath ``path`` of ``obj`` equals ``value``."""
    return kube.wait_for_jsonpath(obj, path, value, timeout=timeout)
