"""No process survives the test runner, even when it is SIGKILLed (process groups, PDEATHSIG, watchdog)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kubeproof.testing import eventually

SCRIPT = Path(__file__).with_name("orphan_script.py")
REPO = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone: it has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_sigkill_of_the_runner_leaves_no_pod_process() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    runner = subprocess.Popen([sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, text=True, env=env,
                              cwd=REPO)
    try:
        assert runner.stdout is not None
        line = runner.stdout.readline()
        assert line, f"the script ended without reporting its pids (exit {runner.poll()})"
        report = json.loads(line)
        pids: list[int] = report["pids"]
        watched = [*pids, report["watchdog"]]
        assert all(alive(pid) for pid in watched), "the pod's process and its child run before the kill"
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    # The container process (PDEATHSIG), its own child (the watchdog's group kill) and the watchdog go.
    eventually(lambda: [pid for pid in watched if alive(pid)], matcher=lambda left: left == [], timeout=20)
