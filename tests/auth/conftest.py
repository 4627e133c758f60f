"""Fixtures of the auth tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubeproof import Cluster


@pytest.fixture
def cleanup(cluster: Cluster) -> Iterator[list[tuple[str, ...]]]:
    """Cluster-scoped objects a test made, deleted afterwards: append ``(resource, name)``."""
    made: list[tuple[str, ...]] = []
    yield made
    for resource, name in reversed(made):
        cluster.kubectl("delete", resource, name, "--ignore-not-found", "--wait=false")
