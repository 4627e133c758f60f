"""``kubeproof serve`` as a command: startup banner, Ctrl-C, plain HTTP, and a port that is taken."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from ._support import DEADLINE, KUBECTL, KUBEPROOF, Served, unique

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not KUBECTL.exists() or not KUBEPROOF.exists(), reason="run `bash scripts/setup.sh`"),
]


def test_serve_prints_how_to_use_it_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    server = Served(tmp_path)
    try:
        assert server.url.startswith("https://127.0.0.1:")
        assert f"kubeconfig: {server.kubeconfig}" in server.banner
        assert server.banner[-1] == "Ctrl-C to stop."
        config = yaml.safe_load(server.kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == server.url
        assert config["clusters"][0]["cluster"]["certificate-authority-data"]
        assert "namespace/default" in server.kubectl("get", "ns", "-o", "name").stdout.split()
    finally:
        code, out, err = server.stop()
    assert code == 0, err
    assert out.splitlines()[-1] == "stopped."
    assert "Traceback" not in err
    assert not server.kubeconfig.exists()


def test_serve_stops_on_ctrl_c_with_a_watch_open(tmp_path: Path) -> None:
    server = Served(tmp_path)
    watching = server.kubectl_bg("get", "namespaces", "-w", "-o", "name")
    try:
        watching.stdout.wait_for("namespace/default")
        code, out, err = server.stop()
        assert code == 0, err
        assert out.splitlines()[-1] == "stopped."
        assert "Exception in ASGI application" not in err  # the open watch ended, it was not cancelled
    finally:
        watching.kill()
        server.process.kill()


def test_serve_http_works_with_kubectl(tmp_path: Path) -> None:
    server = Served(tmp_path, "--http")
    try:
        assert server.url.startswith("http://127.0.0.1:")
        config = yaml.safe_load(server.kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == server.url
        assert server.kubectl("version", "-o", "json").stdout
        assert "namespace/kube-system" in server.kubectl("get", "ns", "-o", "name").stdout.split()
        name = unique("cm")
        manifest = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}})
        server.kubectl("create", "-f", "-", input=manifest)
        assert server.kubectl("get", "cm", name, "-o", "jsonpath={.data.a}").stdout == "1"
        waiting = server.kubectl_bg("wait", f"cm/{name}", "--for=delete", "--timeout=60s")
        server.kubectl("delete", "cm", name)
        code, out, err = waiting.finish()
        assert code == 0, err
        # kubectl sends no credentials over plain HTTP, so none are needed; a wrong token is still refused.
        assert _status(f"{server.url}/api/v1/namespaces", None) == 200
        assert _status(f"{server.url}/api/v1/namespaces", "wrong") == 401
        assert _status(f"{server.url}/api/v1/namespaces", config["users"][0]["user"]["token"]) == 200
    finally:
        code, out, err = server.stop()
    assert code == 0, err
    assert out.splitlines()[-1] == "stopped."


def _status(url: str, token: str | None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=DEADLINE) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_serve_on_a_busy_port_fails_with_a_clear_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [str(KUBEPROOF), "serve", "--port", str(port), "--kubeconfig", str(tmp_path / "kubeconfig")],
            capture_output=True, text=True, timeout=DEADLINE, stdin=subprocess.DEVNULL,
        )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    message = proc.stderr.strip()
    assert message.startswith("Error: ")
    assert f"127.0.0.1:{port}" in message  # names what failed
    assert "in use" in message  # and why
    assert "choose another port" in message  # and the fix
    assert "--port" in message or "0 for any free port" in message
    assert not (tmp_path / "kubeconfig").exists()
