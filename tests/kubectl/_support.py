"""Running ``kubeproof serve`` and kubectl as real subprocesses, and reading their output with deadlines.

Nothing here sleeps to wait for state: output is read line by line on a background thread and every
wait is "until this line appears or the deadline passes".
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from kubeproof.testing import eventually

BIN = Path(sys.executable).parent
KUBECTL = BIN / "kubectl"
KUBEPROOF = BIN / "kubeproof"

#: Upper bound for any wait on a subprocess; the server and kubectl answer in milliseconds.
DEADLINE = 30.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Lines:
    """Collects the lines of a text stream on a daemon thread; ``wait_for`` blocks with a deadline."""

    def __init__(self, stream: IO[str], name: str) -> None:
        self.name = name
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True, name=f"lines-{name}")
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        try:
            for line in stream:
                self._queue.put(line.rstrip("\n"))
        except (OSError, ValueError):
            pass  # the stream was closed under us
        finally:
            self._queue.put(None)

    def wait_for(self, predicate: Callable[[str], bool] | str, timeout: float = DEADLINE) -> str:
        """The first new line that matches (a substring or a predicate); AssertionError after ``timeout``."""
        match = (lambda line: predicate in line) if isinstance(predicate, str) else predicate
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                state = "stream closed" if self._closed else f"timed out after {timeout}s"
                raise AssertionError(
                    f"{state} waiting for a matching line on {self.name}; seen so far:\n" + "\n".join(self.seen)
                )
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self._closed = True
                continue
            self.seen.append(line)
            if match(line):
                return line

    def drain(self, timeout: float = DEADLINE) -> str:
        """Everything until the stream closes (the process must be ending)."""
        self._thread.join(timeout)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._closed = True
            else:
                self.seen.append(line)
        return "\n".join(self.seen)


class Process:
    """A subprocess with both output streams collected by ``Lines``."""

    def __init__(self, argv: Sequence[str | os.PathLike[str]], env: dict[str, str] | None = None) -> None:
        self.argv = [str(a) for a in argv]
        self.popen = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            env=env, start_new_session=True,
        )
        assert self.popen.stdout is not None and self.popen.stderr is not None
        self.stdout = Lines(self.popen.stdout, f"stdout of {' '.join(self.argv)}")
        self.stderr = Lines(self.popen.stderr, f"stderr of {' '.join(self.argv)}")

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def finish(self, timeout: float = DEADLINE) -> tuple[int, str, str]:
        """Wait for the process to exit; returns (code, stdout, stderr)."""
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{' '.join(self.argv)} did not exit within {timeout}s\nstdout:\n{self.stdout.drain(5)}\n"
                f"stderr:\n{self.stderr.drain(5)}"
            ) from None
        return code, self.stdout.drain(), self.stderr.drain()

    def kill(self) -> None:
        """Stop this process (only it: it runs in its own session) and reap it."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)

    def interrupt(self) -> None:
        self.popen.send_signal(signal.SIGINT)


class Served:
    """One ``kubeproof serve`` subprocess and kubectl pointed at it."""

    def __init__(self, workdir: Path, *extra: str) -> None:
        self.workdir = workdir
        self.kubeconfig = workdir / "kubeconfig"
        self.env = dict(os.environ)
        self.env.pop("KUBE_FEATURE_WatchListClient", None)  # kubectl's defaults: watch-list on
        self.env["KUBECONFIG"] = str(self.kubeconfig)
        self.env["KUBECACHEDIR"] = str(workdir / "kubecache")
        self.env["PATH"] = f"{BIN}{os.pathsep}{self.env.get('PATH', '')}"
        self.process = Process([KUBEPROOF, "serve", "--kubeconfig", self.kubeconfig, *extra], env=self.env)
        self.process.stdout.wait_for("Ctrl-C")
        assert self.kubeconfig.exists(), f"kubeconfig {self.kubeconfig} was not written"
        self.banner = self.process.stdout.seen[:]
        self.url = next(re.sub(r".*listening on ", "", line) for line in self.banner if "listening on" in line)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = DEADLINE) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(KUBECTL), *args], input=input, capture_output=True, text=True, env=self.env,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    def kubectl_bg(self, *args: str) -> Process:
        """kubectl running in the background (for wait, get -w and the wait of delete)."""
        return Process([KUBECTL, *args], env=self.env)

    def stop(self) -> tuple[int, str, str]:
        """Ctrl-C, as a user would; returns (exit code, stdout, stderr)."""
        if self.process.running():
            self.process.interrupt()
        return self.process.finish()


def wait_until(probe: Callable[[], object], timeout: float = DEADLINE, what: str = "condition") -> object:
    """Poll ``probe`` until it returns something truthy: the toolkit's ``eventually``."""
    return eventually(probe, matcher=bool, timeout=timeout, description=what)
