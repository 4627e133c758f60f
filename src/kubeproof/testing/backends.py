"""Where the tests' cluster comes from, and the settings that choose it.

* ``inprocess`` (default): an embedded ``Cluster`` in the test process (one per xdist worker);
* ``subprocess``: ``kubeproof serve --kubeconfig PATH`` in a child process, reached only through that
  kubeconfig, like any remote cluster (one per xdist worker);
* ``kubeconfig``: any cluster, from ``--kubeconfig`` / ``--kube-context`` (shared by the workers, so every
  name the toolkit makes carries the worker id).

Settings come from the command line, then environment variables, then the ini file, then defaults.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubeproof.testing.kube import DEFAULT_CLEANUP_TIMEOUT, Connection, KubeError

BACKENDS = ("inprocess", "subprocess", "kubeconfig")
LEAK_GUARD_MODES = ("fail", "warn", "off")
#: How long the leak guard waits (joining threads, awaiting tasks) before calling something leaked.
DEFAULT_LEAK_GRACE = 2.0

#: setting -> (command-line option dest, environment variable, ini key)
_SOURCES = {
    "backend": ("kube_backend", "KUBEPROOF_BACKEND", "kube_backend"),
    "kubeconfig": ("kube_kubeconfig", "KUBEPROOF_KUBECONFIG", "kube_kubeconfig"),
    "context": ("kube_context", "KUBEPROOF_CONTEXT", "kube_context"),
    "contexts": ("kube_contexts", "KUBEPROOF_CONTEXTS", "kube_contexts"),
    "leak_guard": ("kube_leak_guard", "KUBEPROOF_LEAK_GUARD", "kube_leak_guard"),
    "leak_grace": ("kube_leak_grace", "KUBEPROOF_LEAK_GRACE", "kube_leak_grace"),
    "cleanup_timeout": ("kube_cleanup_timeout", "KUBEPROOF_CLEANUP_TIMEOUT", "kube_cleanup_timeout"),
}


class BackendError(KubeError):
    """The configured backend cannot be used (bad settings, or the server did not come up)."""


@dataclass(frozen=True)
class Settings:
    backend: str = "inprocess"
    kubeconfig: str | None = None
    context: str | None = None
    #: The kubeconfig contexts ``kube_clusters`` hands out on the kubeconfig backend, in order.
    contexts: tuple[str, ...] = ()
    leak_guard: str = "fail"
    leak_grace: float = DEFAULT_LEAK_GRACE
    cleanup_timeout: float = DEFAULT_CLEANUP_TIMEOUT

    @classmethod
    def resolve(cls, option: Any = None, ini: Any = None, env: dict[str, str] | None = None) -> Settings:
        """From ``option(dest)`` (command line), ``env``, then ``ini(key)``; each returns None/"" when unset."""
        environ = os.environ if env is None else env
        raw: dict[str, str] = {}
        for name, (dest, var, key) in _SOURCES.items():
            for value in (option(dest) if option else None, environ.get(var), ini(key) if ini else None):
                if value not in (None, ""):
                    raw[name] = str(value)
                    break
        if "backend" not in raw and "kubeconfig" in raw:
            raw["backend"] = "kubeconfig"  # --kubeconfig alone means "this cluster"
        settings = cls(
            backend=raw.get("backend", cls.backend),
            kubeconfig=raw.get("kubeconfig"),
            context=raw.get("context"),
            contexts=tuple(c.strip() for c in raw.get("contexts", "").split(",") if c.strip()),
            leak_guard=raw.get("leak_guard", cls.leak_guard),
            leak_grace=_number(raw, "leak_grace", DEFAULT_LEAK_GRACE),
            cleanup_timeout=_number(raw, "cleanup_timeout", DEFAULT_CLEANUP_TIMEOUT),
        )
        if settings.backend not in BACKENDS:
            raise BackendError(f"unknown kube backend {settings.backend!r}; choose from {', '.join(BACKENDS)}")
        if settings.leak_guard not in LEAK_GUARD_MODES:
            raise BackendError(f"unknown leak guard mode {settings.leak_guard!r}; "
                               f"choose from {', '.join(LEAK_GUARD_MODES)}")
        return settings


def _number(raw: dict[str, str], name: str, default: float) -> float:
    if name not in raw:
        return default
    try:
        return float(raw[name])
    except ValueError:
        raise BackendError(f"{name} must be a number of seconds, got {raw[name]!r}") from None


class Backend:
    """A source of clusters: ``start()`` returns the connection tests use; ``stop()`` ends it."""

    name = ""
    #: Whether :meth:`fresh` can make another cluster of this kind (for ``kube_fresh_cluster``).
    can_make_fresh = False
    #: The connection :meth:`start` made (``None`` before and after).
    connection: Connection | None = None

    def start(self) -> Connection:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def fresh(self) -> Backend:
        raise BackendError(
            f"a fresh cluster per test needs an embedded backend; this run uses {self.name}"
        )


class InProcessBackend(Backend):
    """An embedded ``Cluster`` in this process."""

    name = "inprocess"
    can_make_fresh = True

    def __init__(self, **cluster_kwargs: Any) -> None:
        self._kwargs = cluster_kwargs
        self._cluster: Any = None

    def start(self) -> Connection:
        from kubeproof.cluster import Cluster

        self._cluster = Cluster(**self._kwargs).start()
        self.connection = Connection(self._cluster.kubeconfig, cluster=self._cluster)
        return self.connection

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
        if self._cluster is not None:
            self._cluster.stop()
        self._cluster = self.connection = None

    def fresh(self) -> Backend:
        return InProcessBackend(**self._kwargs)


class SubprocessBackend(Backend):
    """``kubeproof serve --kubeconfig PATH`` in a child process; the tests see only the kubeconfig."""

    name = "subprocess"
    can_make_fresh = True

    def __init__(self, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    def start(self) -> Connection:
        self._dir = Path(tempfile.mkdtemp(prefix="kubeproof-serve-"))
        kubeconfig = self._dir / "kubeconfig"
        log_path = self._dir / "server.log"
        with open(log_path, "w") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "kubeproof", "serve", "--kubeconfig", str(kubeconfig)],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
            )
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        output = b""
        deadline = time.monotonic() + self.startup_timeout
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\nkubeconfig:" not in output:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._proc.poll() is not None:
                    code = self._proc.returncode
                    self.stop()
                    raise BackendError(
                        "`kubeproof serve` did not come up" + (f" (exit code {code})" if code is not None else "")
                        + f"\nstdout:\n{output.decode(errors='replace')}\nstderr:\n{_read(log_path)}"
                    )
                if selector.select(timeout=remaining):
                    output += os.read(fd, 65536)
        self.connection = Connection(kubeconfig, embedded=True)
        return self.connection

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def fresh(self) -> Backend:
        return SubprocessBackend(self.startup_timeout)


class KubeconfigBackend(Backend):
    """Any cluster a kubeconfig reaches (a real one, kind, or a kubeproof server started elsewhere)."""

    name = "kubeconfig"

    def __init__(self, kubeconfig: str | None, context: str | None = None) -> None:
        path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config"
        self.kubeconfig = Path(path).expanduser()
        self.context = context

    def start(self) -> Connection:
        if not self.kubeconfig.exists():
            raise BackendError(f"kubeconfig {self.kubeconfig} does not exist (--kubeconfig / KUBEPROOF_KUBECONFIG)")
        self.connection = Connection(self.kubeconfig, self.context)
        return self.connection

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def make_backend(settings: Settings) -> Backend:
    if settings.backend == "subprocess":
        return SubprocessBackend()
    if settings.backend == "kubeconfig":
        return KubeconfigBackend(settings.kubeconfig, settings.context)
    return InProcessBackend()


def _read(path: Path) -> str:
    try:
        return path.read_text()[-4000:]
    except OSError:
        return ""
