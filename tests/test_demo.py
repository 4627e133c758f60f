"""`kubeproof demo` (the README's first command) runs end to end and shows what it claims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubeproof.cluster import find_tool


@pytest.mark.skipif(find_tool("kubectl") is None, reason="kubectl is not installed (run scripts/setup.sh)")
def test_demo_runs_and_shows_cluster_behaviour() -> None:
    cli = Path(sys.executable).parent / "kubeproof"
    proc = subprocess.run([str(cli), "demo"], capture_output=True, text=True, timeout=180)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "409 Conflict: Operation cannot be fulfilled on configmaps \"settings\"" in out
    assert "watch: DELETED settings" in out
    assert 'deployment "workers" successfully rolled out' in out
    assert "hello from workers-" in out  # a real worker process answered through the Service's endpoint
    assert "listening on 127." in out  # kubectl logs of the process
    assert 'pods is forbidden: User "system:serviceaccount:' in out
    assert "Traceback" not in out
