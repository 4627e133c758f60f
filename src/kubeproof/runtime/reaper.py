"""No orphans: every container process dies with the process that started it, even on SIGKILL.

Two mechanisms, because neither is enough alone:

- ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in each direct child: the kernel kills it when the thread that
  forked it dies (the runtime's own thread, which lives as long as the runtime). It does not reach the
  child's own children.
- a watchdog process (``Watchdog``), in a session of its own so a terminal's Ctrl-C or a signal to the
  runner's process group does not reach it first. It holds the read end of a pipe whose write end only
  the runtime holds; the runtime tells it each process group it starts and ends. When the pipe reaches
  EOF (the runner exited, however it died), the watchdog SIGKILLs every process group still registered,
  grandchildren included, and exits.

Each container runs in its own session and process group (``start_new_session``), so a group kill reaches
everything it started, unless a process deliberately leaves the group with ``setsid``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1

_libc: ctypes.CDLL | None
try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    _prctl: Callable[..., int] | None = _libc.prctl
except (OSError, AttributeError):  # not Linux: the watchdog alone covers it
    _libc, _prctl = None, None

WATCHDOG_SOURCE = r"""
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
groups = set()
for line in sys.stdin.buffer:
    op, _, pgid = line.strip().partition(b" ")
    if op == b"+":
        groups.add(int(pgid))
    elif op == b"-":
        groups.discard(int(pgid))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


def death_signal_preexec() -> Callable[[], None]:
    """A ``preexec_fn`` that asks the kernel to SIGKILL the child when its parent thread dies.

    It only calls the pre-resolved ``prctl`` (no Python-level locks are taken in the forked child) and exits
    at once if the parent already died between fork and prctl.
    """
    parent = os.getpid()
    prctl = _prctl

    def preexec() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(137)

    return preexec


class Watchdog:
    """The external reaper: ``register(pgid)`` after a start, ``unregister(pgid)`` once the group is dead."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-S", "-c", WATCHDOG_SOURCE],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True,
            )
        return self._proc

    def _send(self, line: str) -> None:
        with self._lock:
            proc = self._ensure()
            assert proc.stdin is not None
            try:
                proc.stdin.write(line.encode())
                proc.stdin.flush()
            except OSError:
                pass

    def register(self, pgid: int) -> None:
        self._send(f"+ {pgid}\n")

    def unregister(self, pgid: int) -> None:
        if self._proc is not None:
            self._send(f"- {pgid}\n")

    def close(self) -> None:
        """End the watchdog: it kills whatever is still registered, then exits."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> bool:
    """Signal a process group; False when it no longer exists."""
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
