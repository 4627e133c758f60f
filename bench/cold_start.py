"""Benchmark 1: cold start of ``kubeproof serve`` (a subprocess) until ``kubectl get ns`` succeeds.

Each round spawns ``kubeproof serve --port 0 --kubeconfig <fresh file>`` (HTTPS, the default), polls for
the kubeconfig file every millisecond, then runs ``kubectl get ns`` (with a fresh, empty discovery cache)
until it exits 0. Reported per round: process start until the kubeconfig is written, kubectl's own run
time, and the total; then SIGINT and the time until the process has exited. Baselines, measured in the
same run: ``kubectl version --client`` (kubectl's start-up without the network), ``python -c pass`` and
``python -c "import kubeproof.cluster"`` (the interpreter and the import of the package).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from common import KUBEPROOF, PYTHON, VENV_BIN, log, summary_ms


def _timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    return time.perf_counter() - start, proc


def _one_round(kubectl: str, workdir: Path) -> dict[str, float | int]:
    kubeconfig = workdir / "kubeconfig"
    env = dict(os.environ, KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(workdir / "cache"))
    stderr_path = workdir / "serve.stderr"
    stderr_file = stderr_path.open("w")
    start = time.perf_counter()
    server = subprocess.Popen(
        [KUBEPROOF, "serve", "--port", "0", "--kubeconfig", str(kubeconfig)],
        stdout=subprocess.DEVNULL,
        stderr=stderr_file,
    )
    try:
        while not (kubeconfig.exists() and kubeconfig.stat().st_size > 0):
            if server.poll() is not None:
                raise RuntimeError(f"kubeproof serve exited {server.returncode}: {stderr_path.read_text()}")
            if time.perf_counter() - start > 30:
                raise RuntimeError("kubeproof serve wrote no kubeconfig within 30 s")
            time.sleep(0.001)
        written = time.perf_counter()
        attempts = 0
        while True:
            attempts += 1
            kubectl_start = time.perf_counter()
            proc = subprocess.run([kubectl, "get", "ns"], capture_output=True, text=True, env=env, timeout=60)
            done = time.perf_counter()
            if proc.returncode == 0 and "kube-system" in proc.stdout:
                break
            if done - start > 30:
                raise RuntimeError(f"kubectl get ns kept failing: {proc.stderr}")
        server.send_signal(signal.SIGINT)
        stop_start = time.perf_counter()
        server.wait(timeout=30)
        stopped = time.perf_counter()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        stderr_file.close()
    return {
        "to_kubeconfig": written - start,
        "kubectl_get_ns": done - kubectl_start,
        "total": done - start,
        "stop": stopped - stop_start,
        "attempts": attempts,
    }


def import_profile(limit: int = 10) -> dict[str, Any]:
    """``python -X importtime -c "import kubeproof.cluster"``: total and the modules with the most self time."""
    proc = subprocess.run([PYTHON, "-X", "importtime", "-c", "import kubeproof.cluster"], capture_output=True,
                          text=True, timeout=60)
    rows: list[tuple[int, int, str]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:"):].split("|", 2)
        rows.append((int(self_us), int(cumulative_us), name.rstrip()))
    total = max((r[1] for r in rows), default=0)
    top = sorted(rows, reverse=True)[:limit]
    return {
        "total_ms": round(total / 1000, 1),
        "modules": len(rows),
        "top_self_ms": {name.strip(): round(self_us / 1000, 1) for self_us, _, name in top},
    }


def run(quick: bool) -> dict[str, Any]:
    kubectl = shutil.which("kubectl", path=str(VENV_BIN)) or shutil.which("kubectl")
    if kubectl is None:
        return {"skipped": "kubectl not found in .venv/bin or on PATH (run `bash scripts/setup.sh`)"}
    rounds = 3 if quick else 10
    baseline_rounds = 3 if quick else 10
    # Warm the page cache once (binaries, .pyc files) so that round 1 is not an outlier of disk reads.
    _timed([kubectl, "version", "--client"])
    _timed([PYTHON, "-c", "import kubeproof.cluster"])
    samples: list[dict[str, float | int]] = []
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        for i in range(rounds):
            workdir = Path(tmp) / f"round-{i}"
            workdir.mkdir()
            samples.append(_one_round(kubectl, workdir))
        log(f"  cold start: {rounds} rounds done")
    kubectl_client = [_timed([kubectl, "version", "--client"])[0] for _ in range(baseline_rounds)]
    python_pass = [_timed([PYTHON, "-c", "pass"])[0] for _ in range(baseline_rounds)]
    python_import = [_timed([PYTHON, "-c", "import kubeproof.cluster"])[0] for _ in range(baseline_rounds)]
    return {
        "rounds": rounds,
        "serve_to_kubectl_get_ns_ok": summary_ms([float(s["total"]) for s in samples]),
        "serve_to_kubeconfig_written": summary_ms([float(s["to_kubeconfig"]) for s in samples]),
        "kubectl_get_ns_run": summary_ms([float(s["kubectl_get_ns"]) for s in samples]),
        "serve_stop_after_sigint": summary_ms([float(s["stop"]) for s in samples]),
        "kubectl_attempts_max": max(int(s["attempts"]) for s in samples),
        "baseline_kubectl_version_client": summary_ms(kubectl_client),
        "baseline_python_pass": summary_ms(python_pass),
        "baseline_python_import_kubeproof_cluster": summary_ms(python_import),
        "import_profile": import_profile(),
    }
