"""The toolkit's own tests: its fixtures come from the kubeproof plugin (the pytest11 entry point)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def namespace(kube_namespace: str) -> str:
    """The toolkit's namespace fixture (tests/conftest.py defines another ``namespace`` for the server tests,
    which would otherwise shadow the plugin's here)."""
    return kube_namespace
