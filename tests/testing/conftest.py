"""The toolkit's own tests: its fixtures come from the kubeproof plugin (the pytest11 entry point)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def namespace(kube_namespace: str) -> str:
    """The toolkit's namespace fixture (tests/conftest.py defines another ``namespace`` for the server tests,
    which would otherwise shadow the plugin's here)."""
    return kube_namespace


INNER_INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
kube_leak_grace = 1
kube_cleanup_timeout = 5
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs load the kubeproof plugin (through its entry point) with short grace periods.

    Runs go through ``runpytest_subprocess``: the leak guard patches process-wide hooks, which must not
    mix with the outer run's."""
    for var in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(var, raising=False)
    for var in ("KUBEPROOF_BACKEND", "KUBEPROOF_KUBECONFIG", "KUBEPROOF_CONTEXT", "KUBEPROOF_LEAK_GUARD"):
        monkeypatch.delenv(var, raising=False)
    # the inner files below are written in order (a leaking test, then the test after it): keep that order
    # even with pytest-randomly installed; tests/testing/test_order.py covers the random order itself
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly")
    pytester.makeini(INNER_INI)
    return pytester
