"""Shared helpers for the benchmarks: statistics, machine facts, server subprocesses and wrk."""

from __future__ import annotations

import datetime
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
PYTHON = sys.executable
KUBEPROOF = str(VENV_BIN / "kubeproof")
TOKEN = "bench-token"
HOST = "127.0.0.1"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- statistics ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """Median, p90, p99, min and max of durations given in seconds, in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
    }


# -- machine -------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load1, load5, load15 = os.getloadavg()
    kubectl = shutil.which("kubectl", path=str(VENV_BIN)) or shutil.which("kubectl")
    wrk = shutil.which("wrk")
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "kubectl": version_of([kubectl, "version", "--client"]) if kubectl else None,
        "wrk": version_of([wrk, "-v"]) if wrk else None,
        "packages": package_versions(["uvicorn", "httptools", "uvloop", "orjson", "cryptography"]),
    }


def version_of(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (proc.stdout + proc.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def package_versions(names: list[str]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out


def raise_fd_limit(wanted: int = 8192) -> None:
    """1,000 watches need more descriptors than a default soft limit of 1,024 (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# -- server subprocesses -------------------------------------------------------------------------

_LISTENING = re.compile(r"listening on (https?)://([\d.]+):(\d+)")


@dataclass
class ServerProcess:
    """A server in a child process that prints ``listening on <url>`` once it accepts connections.

    Its output goes to a file, never to a pipe: a server that logs a lot while nobody reads a pipe would
    block on the write. ``errors`` counts the ``Exception in ASGI application`` reports in that output.
    """

    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    scheme: str = "http"
    port: int = 0
    output: str = ""
    errors: int = 0
    #: Extra environment for the child (e.g. ``PYTHONPATH`` of another source tree).
    env: dict[str, str] | None = None
    _log: Path | None = None

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(self.env or {}))
        fd, name = tempfile.mkstemp(prefix="bench-server-", suffix=".log")
        self._log = Path(name)
        try:
            self.proc = subprocess.Popen(self.argv, stdout=fd, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        finally:
            os.close(fd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            match = _LISTENING.search(self._log.read_text(errors="replace"))
            if match:
                self.scheme, self.port = match.group(1), int(match.group(3))
                return self
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.name} did not start:\n{self.output}")

    @property
    def url(self) -> str:
        return f"{self.scheme}://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self._log is not None:
            self.output = self._log.read_text(errors="replace")
            self.errors = self.output.count("Exception in ASGI application")
            self._log.unlink(missing_ok=True)
            self._log = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kubeproof_server(tls: bool) -> ServerProcess:
    argv = [KUBEPROOF, "serve", "--port", "0", "--token", TOKEN]
    if not tls:
        argv.append("--http")
    return ServerProcess("kubeproof serve" + ("" if tls else " --http"), argv)


def hello_server(tls: bool) -> ServerProcess:
    argv = [PYTHON, str(BENCH_DIR / "hello_app.py")]
    if tls:
        argv.append("--tls")
    return ServerProcess("hello ASGI" + (" (TLS)" if tls else ""), argv)


class Client:
    """A keep-alive client for setting up fixtures (plain HTTP, bearer token)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=payload, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, data.decode(errors="replace")

    def must(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.request(method, path, body)
        if status >= 300:
            raise RuntimeError(f"{method} {path} -> {status}: {data}")
        return data

    def close(self) -> None:
        self.conn.close()


# -- wrk -----------------------------------------------------------------------------------------

WRK = shutil.which("wrk")
WRK_MISSING = (
    "wrk is not installed, so the HTTP throughput benchmarks are skipped; "
    "install it with `apt-get install -y wrk` (Debian/Ubuntu) and run again"
)

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(
    url: str,
    seconds: float,
    connections: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    script_args: list[str] | None = None,
) -> dict[str, Any]:
    """One wrk run with one thread (wrk's thread uses one core; the server gets the other)."""
    if WRK is None:
        raise RuntimeError(WRK_MISSING)
    argv = [WRK, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    for key, value in (headers or {}).items():
        argv += ["-H", f"{key}: {value}"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    if script_args:
        argv += ["--", *script_args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    out = proc.stdout
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or out}")
    result: dict[str, Any] = {"connections": connections, "seconds": max(1, round(seconds))}
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["requests_per_s"] = float(match.group(1)) if match else float("nan")
    match = re.search(r"(\d+) requests in", out)
    result["requests"] = int(match.group(1)) if match else 0
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.MULTILINE)
        result[f"latency_p{pct}_ms"] = round(_ms(match.group(1)), 3) if match else float("nan")
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["non_2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors:(.*)", out)
    result["socket_errors"] = match.group(1).strip() if match else ""
    return result
