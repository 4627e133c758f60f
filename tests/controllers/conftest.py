"""Fixtures the controller tests share. Each module still picks its own ``cluster`` (controllers, nodes,
clock): pytest resolves the ``cluster`` these fixtures request in the requesting module first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.clock import ManualClock


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    """Cluster time the module's tests move by hand (a module's ``cluster`` opts in by requesting it)."""
    return ManualClock()


@pytest.fixture(scope="module")
def api(cluster: Cluster) -> Iterator[Any]:
    """An official-client ApiClient for the module's cluster."""
    api_client = cluster.api_client()
    yield api_client
    api_client.close()


@pytest.fixture(scope="module")
def core(cluster: Cluster) -> Iterator[client.CoreV1Api]:
    """CoreV1Api on its own ApiClient for the module's cluster (modules that use the shared
    ``k8s_api_client`` define their own ``core``)."""
    api_client = cluster.api_client()
    yield client.CoreV1Api(api_client)
    api_client.close()
