"""Image mappings: ``ImageMap`` matching, and ``kubeproof serve --image`` running a pod as a process."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from kubectl._support import KUBECTL, KUBEPROOF, Served

from kubeproof.runtime.images import ImageMap, parse_mapping
from kubeproof.testing import eventually

WORKER = str(Path(__file__).with_name("http_worker.py"))


def test_exact_names_win_over_globs_and_the_longest_glob_wins() -> None:
    images = ImageMap({"app:*": "run-any", "app:1": ["run", "one"], "app:1*": "run-ones"})
    assert images.lookup("app:1") == ["run", "one"]
    assert images.lookup("app:12") == ["run-ones"]
    assert images.lookup("app:2") == ["run-any"]
    assert images.lookup("other:1") is None
    assert "app:2" in images and "other" not in images
    images.set("other:1", "go run .")
    assert images.lookup("other:1") == ["go", "run", "."]


def test_python_means_the_interpreter_kubeproof_runs_on() -> None:
    assert ImageMap({"w:1": "python -m app.worker --port 80"}).lookup("w:1") == [sys.executable, "-m", "app.worker",
                                                                                "--port", "80"]


def test_cli_mappings_are_image_equals_command() -> None:
    assert parse_mapping("fake-worker:1=python -m myapp.fake_worker") == ("fake-worker:1",
                                                                         "python -m myapp.fake_worker")
    assert parse_mapping("reg.example:5000/a:1=cmd --x=1") == ("reg.example:5000/a:1", "cmd --x=1")
    for bad in ("no-command", "=cmd", "image="):
        with pytest.raises(ValueError, match="expected IMAGE=COMMAND"):
            parse_mapping(bad)
    with pytest.raises(ValueError, match="empty command"):
        ImageMap({"a": []})


@pytest.mark.timeout(120)
@pytest.mark.skipif(not KUBECTL.exists() or not KUBEPROOF.exists(), reason="run `bash scripts/setup.sh`")
def test_serve_runs_mapped_images_as_processes(tmp_path: Path) -> None:
    server = Served(tmp_path, "--http", "--image", f"worker:1={sys.executable} {WORKER}")
    try:
        server.kubectl("run", "web", "--image=worker:1", "--port=8080", "--", "8080")
        server.kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
        ip = server.kubectl("get", "pod", "web", "-o", "jsonpath={.status.podIP}").stdout

        def hello() -> str:
            with urllib.request.urlopen(f"http://{ip}:8080/", timeout=5) as response:
                return str(response.read().decode())

        assert eventually(hello, retry_on=(OSError,)) == "hello from web"
        logs = eventually(lambda: server.kubectl("logs", "web").stdout, matcher=lambda out: "listening" in out)
        assert logs.splitlines()[0] == f"worker listening on {ip}:8080"
        with urllib.request.urlopen(f"http://{ip}:8080/pid", timeout=5) as response:
            pid = int(response.read())
    finally:
        code, _out, err = server.stop()
    assert code == 0, err
    # Stopping the server stops the pod's process.
    assert subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip() in (
        "", "Z")
