"""kubectl and helm must be on PATH after scripts/setup.sh (they are installed into .venv/bin)."""

from __future__ import annotations

import json
import shutil
import subprocess


def _run(*argv: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}: {proc.stderr}"
    return proc.stdout


def test_kubectl_on_path_is_1_37() -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is not on PATH; run scripts/setup.sh and put .venv/bin on PATH"
    version = json.loads(_run(kubectl, "version", "--client", "-o", "json"))["clientVersion"]["gitVersion"]
    assert version.startswith("v1.37."), f"{kubectl} is {version}, expected v1.37.x"


def test_helm_on_path_is_4() -> None:
    helm = shutil.which("helm")
    assert helm, "helm is not on PATH; run scripts/setup.sh and put .venv/bin on PATH"
    version = _run(helm, "version", "--template", "{{.Version}}").strip()
    assert version.startswith("v4."), f"{helm} is {version}, expected v4.x"
