"""Fixtures for the helm 4 tests: a chart written into a temporary directory, and helm on PATH."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ._chart import write_chart


@pytest.fixture(autouse=True)
def _helm_on_path() -> None:
    if shutil.which("helm") is None:
        pytest.skip("helm is not on PATH; run `bash scripts/setup.sh` and put .venv/bin on PATH")


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    """The ``demo`` chart: Deployment, Service, ConfigMap, Secret, an optional ConfigMap (``extra``) and a
    ``pre-install`` ConfigMap hook deleted when it succeeds."""
    return write_chart(tmp_path / "demo")
