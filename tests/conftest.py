"""Shared fixtures: one embedded cluster per test module, a fresh namespace per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from kubeproof import Cluster


def _unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """An embedded API server shared by the tests of one module (each on its own random port)."""
    with Cluster() as c:
        yield c


@pytest.fixture(scope="module")
def k8s_api_client(cluster: Cluster) -> Iterator[Any]:
    """The official ``kubernetes`` client's ``ApiClient`` for the module's cluster."""
    api = cluster.api_client()
    try:
        yield api
    finally:
        api.close()


@pytest.fixture(scope="module")
def dynamic_client(cluster: Cluster, k8s_api_client: Any) -> Any:
    """The official client's ``DynamicClient``, with its discovery cache private to this cluster."""
    from kubernetes import dynamic

    return dynamic.DynamicClient(k8s_api_client, cache_file=str(cluster.workdir / "dynamic-discovery.json"))


@pytest.fixture
def namespace(cluster: Cluster, k8s_api_client: Any) -> Iterator[str]:
    """A namespace created for this test alone; deleted (not awaited) afterwards."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    name = _unique_name("ns")
    core = client.CoreV1Api(k8s_api_client)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        core.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise
