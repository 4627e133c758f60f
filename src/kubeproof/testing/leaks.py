"""Leak guards: background work that outlives the test that started it.

* threads a test started that are still alive after a grace period (joined, not slept on);
* asyncio tasks an async test left pending;
* exceptions raised in threads (``threading.excepthook``) and unraisable exceptions
  (``sys.unraisablehook``), charged to the test that started the thread, even when they happen after
  that test returned.

Each thread is marked with its owner when it starts (``Thread.start`` is wrapped): the test running at
that moment, or, for a thread started by another thread, that thread's owner. Threads started while a
fixture of wider scope (module, session, ...) is being set up belong to no test.

The plugin drives a :class:`LeakGuard`; :meth:`LeakGuard.check` can also be called directly.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

_OWNER = "_kubeproof_owner"
_ORIGIN = "_kubeproof_origin"  # "thread 'name' target=... started at file:line", fixed at start
_NO_OWNER = ""


class KubeproofLeakWarning(UserWarning):
    """A leak found with ``--kube-leak-guard=warn``."""


class LeakError(AssertionError):
    """A leak found with ``--kube-leak-guard=fail``."""


@dataclass
class _Pending:
    errors: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)


def _origin() -> str:
    """Where a thread was started from: the innermost frame outside threading and this module."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if frame.filename not in (threading.__file__, __file__):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "?"


def _describe_start(thread: threading.Thread) -> str:
    """Said when the thread starts: ``Thread.run`` drops its target when it ends."""
    target = getattr(thread, "_target", None)
    what = f" target={getattr(target, '__qualname__', target)!r}" if target is not None else ""
    daemon = " daemon" if thread.daemon else ""
    return f"thread {thread.name!r}{what}{daemon}, started at {_origin()}"


def _thread_desc(thread: threading.Thread) -> str:
    return str(getattr(thread, _ORIGIN, None) or f"thread {thread.name!r}")


class LeakGuard:
    """Process-wide bookkeeping of who started which thread, and what went wrong in them."""

    def __init__(self, grace: float = 2.0) -> None:
        self.grace = grace
        self.current: str = _NO_OWNER  # the test running now
        self.wide_scope_depth = 0  # >0 while a fixture of wider scope than "function" is being set up
        self.finished: set[str] = set()
        self._pending: dict[str, _Pending] = {}
        self._late: list[str] = []
        self._lock = threading.Lock()
        self._installed = False
        self._orig_start: Callable[..., None] | None = None
        self._orig_excepthook: Callable[..., Any] | None = None
        self._orig_unraisablehook: Callable[..., Any] | None = None

    # -- installation --------------------------------------------------------------------------------

    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        guard = self
        orig_start = threading.Thread.start
        self._orig_start = orig_start

        @functools.wraps(orig_start)
        def start(thread: threading.Thread) -> None:
            parent = threading.current_thread()
            owner = getattr(parent, _OWNER, None)
            if owner is None:
                owner = guard.current if guard.wide_scope_depth == 0 else _NO_OWNER
            setattr(thread, _OWNER, owner)
            if owner:
                setattr(thread, _ORIGIN, _describe_start(thread))
            orig_start(thread)

        threading.Thread.start = start  # type: ignore[method-assign,assignment]
        self._orig_excepthook = threading.excepthook
        threading.excepthook = self._excepthook
        self._orig_unraisablehook = sys.unraisablehook
        sys.unraisablehook = self._unraisablehook

    def uninstall(self) -> None:
        if not self._installed:
            return
        self._installed = False
        if self._orig_start is not None:
            threading.Thread.start = self._orig_start  # type: ignore[method-assign]
        if threading.excepthook == self._excepthook and self._orig_excepthook is not None:
            threading.excepthook = self._orig_excepthook
        if sys.unraisablehook == self._unraisablehook and self._orig_unraisablehook is not None:
            sys.unraisablehook = self._orig_unraisablehook

    def _charge(self, owner: str, text: str) -> None:
        with self._lock:
            if owner in self.finished:
                self._late.append(f"{text}\n  (raised after test {owner} had finished)")
            else:
                self._pending.setdefault(owner, _Pending()).errors.append(text)

    def _excepthook(self, args: threading.ExceptHookArgs) -> None:
        thread = args.thread
        owner = getattr(thread, _OWNER, _NO_OWNER) if thread is not None else _NO_OWNER
        if owner and args.exc_type is not SystemExit:
            tb = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
            self._charge(owner, f"exception in {_thread_desc(thread) if thread else 'a thread'} "
                                f"started by {owner}:\n{tb.rstrip()}")
        if self._orig_excepthook is not None:
            self._orig_excepthook(args)

    def _unraisablehook(self, unraisable: Any) -> None:
        owner = getattr(threading.current_thread(), _OWNER, None) or self.current
        if owner:
            exc = unraisable.exc_value
            what = unraisable.err_msg or "Exception ignored in"
            obj = f": {unraisable.object!r}" if unraisable.object is not None else ""
            tb = "".join(traceback.format_exception(type(exc), exc, unraisable.exc_traceback)) if exc else ""
            self._charge(owner, f"unraisable exception during {owner}: {what}{obj}\n{tb.rstrip()}")
        if self._orig_unraisablehook is not None:
            self._orig_unraisablehook(unraisable)

    # -- the test lifecycle ----------------------------------------------------------------------------

    def begin(self, test_id: str) -> None:
        self.current = test_id
        with self._lock:
            self.finished.discard(test_id)

    def note_tasks(self, test_id: str, descriptions: list[str]) -> None:
        with self._lock:
            self._pending.setdefault(test_id, _Pending()).tasks.extend(descriptions)

    def check(self, test_id: str) -> list[str]:
        """End ``test_id``: join its threads for up to the grace period, and return every leak found
        (threads still alive, pending tasks, exceptions in its threads), plus late exceptions of
        earlier tests that surfaced meanwhile."""
        deadline = time.monotonic() + self.grace
        threads = [t for t in threading.enumerate() if getattr(t, _OWNER, None) == test_id]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        problems = [f"{_thread_desc(t)} is still running {self.grace:g}s after the test ended"
                    for t in threads if t.is_alive()]
        with self._lock:
            pending = self._pending.pop(test_id, _Pending())
            self.finished.add(test_id)
            late, self._late = self._late, []
        problems.extend(f"asyncio task still pending when the test returned: {t}" for t in pending.tasks)
        problems.extend(pending.errors)
        problems.extend(late)
        if self.current == test_id:
            self.current = _NO_OWNER
        return problems

    def finish_session(self) -> None:
        """At the end of the run: give the threads tests leaked (already reported as still running) the
        grace period once more, so an exception they raise shortly after the last test is caught and
        charged to its test rather than lost at interpreter exit."""
        deadline = time.monotonic() + self.grace
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and getattr(thread, _OWNER, None):
                thread.join(max(0.0, deadline - time.monotonic()))

    def has_late(self) -> bool:
        with self._lock:
            return bool(self._late)

    def take_late(self) -> list[str]:
        with self._lock:
            late, self._late = self._late, []
        return late


def describe(problems: list[str], test_id: str) -> str:
    return f"leak guard: {test_id} left background work behind:\n" + "\n".join(f"- {p}" for p in problems)


def report(problems: list[str], mode: str, test_id: str) -> None:
    """Act on leaks by mode: raise :class:`LeakError` (``fail``), warn (``warn``) or nothing (``off``)."""
    if not problems or mode == "off":
        return
    message = describe(problems, test_id)
    if mode == "fail":
        raise LeakError(message + "\n(--kube-leak-guard=warn or =off to relax this)")
    warnings.warn(KubeproofLeakWarning(message), stacklevel=2)


def _task_desc(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", repr(coro))
    frame = getattr(coro, "cr_frame", None)
    where = f" waiting at {frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else ""
    return f"{task.get_name()} ({name}){where}"


def guard_coroutine(fn: Callable[..., Coroutine[Any, Any, Any]], guard: LeakGuard,
                    test_id: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Wrap an async test: tasks it created and left pending get ``guard.grace`` seconds to finish; the
    rest are reported to ``guard`` and cancelled (so they do not spill into the next test)."""

    @functools.wraps(fn)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        before = asyncio.all_tasks()
        try:
            return await fn(*args, **kwargs)
        finally:
            me = asyncio.current_task()
            pending = {t for t in asyncio.all_tasks() if not t.done()} - before - {me}
            if pending:
                await asyncio.wait(pending, timeout=guard.grace)
                left = [t for t in pending if not t.done()]
                if left:
                    guard.note_tasks(test_id, [_task_desc(t) for t in left])
                    for task in left:
                        task.cancel()
                    await asyncio.gather(*left, return_exceptions=True)

    return guarded
