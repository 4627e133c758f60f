"""kubeproof.testing: the toolkit for Kubernetes tests that do not flake, with or without pytest.

The pytest plugin (``kubeproof.testing.plugin``, loaded through the ``pytest11`` entry point) gives the
``kube``, ``namespace`` and ``kube_clusters`` fixtures; everything below works without pytest too.
"""

from __future__ import annotations

from typing import NoReturn

from kubeproof.testing.backends import (
    Backend,
    BackendError,
    InProcessBackend,
    KubeconfigBackend,
    Settings,
    SubprocessBackend,
)
from kubeproof.testing.barriers import wait_observed, wait_observed_everywhere
from kubeproof.testing.kube import (
    CleanupError,
    CleanupReport,
    Connection,
    EmbeddedOnly,
    Kube,
    KubeError,
    Ref,
    holders,
)
from kubeproof.testing.leaks import KubeproofLeakWarning, LeakError
from kubeproof.testing.names import TEST_LABEL_KEY, unique_name
from kubeproof.testing.waits import (
    ConsistentlyFailed,
    StopTrying,
    WaitFailed,
    WaitTimeout,
    consistently,
    consistently_async,
    eventually,
    eventually_async,
    wait_for,
    wait_for_condition,
    wait_for_jsonpath,
    wait_gone,
)


def require(condition: object, reason: str) -> None:
    """Skip the running test with ``reason`` unless ``condition`` holds (a server feature, a kind, a backend).

    Under pytest this is ``pytest.skip(reason)``; without pytest it raises ``unittest.SkipTest``.
    """
    if condition:
        return
    _skip(reason)


def _skip(reason: str) -> NoReturn:
    try:
        import pytest
    except ImportError:  # pragma: no cover
        import unittest

        raise unittest.SkipTest(reason) from None
    pytest.skip(reason)


__all__ = [
    "TEST_LABEL_KEY",
    "Backend",
    "BackendError",
    "CleanupError",
    "CleanupReport",
    "Connection",
    "ConsistentlyFailed",
    "EmbeddedOnly",
    "InProcessBackend",
    "Kube",
    "KubeError",
    "KubeconfigBackend",
    "KubeproofLeakWarning",
    "LeakError",
    "Ref",
    "Settings",
    "StopTrying",
    "SubprocessBackend",
    "WaitFailed",
    "WaitTimeout",
    "consistently",
    "consistently_async",
    "eventually",
    "eventually_async",
    "holders",
    "require",
    "unique_name",
    "wait_for",
    "wait_for_condition",
    "wait_for_jsonpath",
    "wait_gone",
    "wait_observed",
    "wait_observed_everywhere",
]
