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
    _wait_for_namespace_content(cluster, core, name)
    yield name
    try:
        core.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


def _wait_for_namespace_content(cluster: Cluster, core: Any, name: str) -> None:
    """Wait for what the controllers put in every new namespace (the ``default`` ServiceAccount and the
    ``kube-root-ca.crt`` ConfigMap), as the Kubernetes e2e framework does, so that tests listing the
    namespace see them always rather than depending on timing."""
    from kubernetes.client.rest import ApiException

    from kubeproof.testing import eventually

    if "serviceaccount" not in {c.name for c in cluster.controllers.controllers}:
        return
    eventually(lambda: core.read_namespaced_service_account("default", name), retry_on=(ApiException,),
               description=f"the default ServiceAccount in {name}")
    if cluster.tls:
        eventually(lambda: core.read_namespaced_config_map("kube-root-ca.crt", name), retry_on=(ApiException,),
                   description=f"kube-root-ca.crt in {name}")
