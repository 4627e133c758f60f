"""410 Expired on a watch from a compacted resourceVersion, as each client meets it.

This module compacts its cluster's history; it has a cluster of its own (module-scoped fixture).
"""

from __future__ import annotations

import contextlib
import ssl
from typing import Any

import httpx
import lightkube
import orjson
import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from lightkube.resources.core_v1 import ConfigMap

from kubeproof import Cluster

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


@pytest.fixture
def compacted(cluster: Cluster, core: client.CoreV1Api, namespace: str) -> tuple[str, int]:
    """(an old resourceVersion, the compaction revision): history up to now is gone."""
    old = core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}}).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "b"}})
    upto = cluster.store.compact()
    assert upto > int(old)
    return old, upto


def test_official_watch_retries_once_then_raises_410(
    core: client.CoreV1Api, namespace: str, compacted: tuple[str, int]
) -> None:
    old, upto = compacted
    requested: list[str | None] = []

    def list_config_maps(ns: str, **kwargs: Any) -> Any:
        requested.append(kwargs.get("resource_version"))
        return core.list_namespaced_config_map(ns, **kwargs)

    w = watch.Watch(return_type="V1ConfigMap")
    with pytest.raises(ApiException) as info:
        # No timeout_seconds: with one, the client would not retry at all.
        for _ in w.stream(list_config_maps, namespace, resource_version=old, _request_timeout=8):
            pytest.fail("no event expected from an expired resourceVersion")
    assert info.value.status == 410
    assert info.value.reason == f"Expired: too old resource version: {old} ({upto})"
    assert requested == [old, old]  # the first 410 is retried once from the same version


def test_official_watch_with_timeout_raises_410_at_once(
    core: client.CoreV1Api, namespace: str, compacted: tuple[str, int]
) -> None:
    old, _ = compacted
    with pytest.raises(ApiException) as info:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=old,
                                      timeout_seconds=5, _request_timeout=8):
            pytest.fail("no event expected from an expired resourceVersion")
    assert info.value.status == 410


def test_lightkube_watch_raises_api_error_410(cluster: Cluster, namespace: str, compacted: tuple[str, int]) -> None:
    old, upto = compacted
    kube = lightkube.Client(config=lightkube.KubeConfig.from_file(cluster.kubeconfig))
    try:
        with pytest.raises(lightkube.ApiError) as info:
            for _ in kube.watch(ConfigMap, namespace=namespace, resource_version=old):
                pytest.fail("no event expected from an expired resourceVersion")
        status = info.value.status
        assert status.code == 410
        assert status.reason == "Expired"
        assert status.message == f"too old resource version: {old} ({upto})"
    finally:
        kube.close()


@contextlib.contextmanager
def raw_http(cluster: Cluster) -> Any:
    context = ssl.create_default_context(cadata=cluster.ca_pem.decode())
    headers = {"Authorization": f"Bearer {cluster.token}", "Accept": "application/json"}
    with httpx.Client(base_url=cluster.url, verify=context, headers=headers, timeout=8) as http:
        yield http


def test_raw_watch_gets_error_event_inside_a_200_stream(
    cluster: Cluster, namespace: str, compacted: tuple[str, int]
) -> None:
    old, upto = compacted
    with raw_http(cluster) as http:
        url = f"/api/v1/namespaces/{namespace}/configmaps"
        with http.stream("GET", url, params={"watch": "1", "resourceVersion": old}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            lines = list(response.iter_lines())  # the server closes the stream after the error
    assert [orjson.loads(line) for line in lines] == [
        {
            "type": "ERROR",
            "object": {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f"too old resource version: {old} ({upto})",
                "reason": "Expired",
                "code": 410,
            },
        }
    ]


def test_raw_exact_list_at_compacted_version_is_410(
    cluster: Cluster, namespace: str, compacted: tuple[str, int]
) -> None:
    old, _ = compacted
    with raw_http(cluster) as http:
        response = http.get(f"/api/v1/namespaces/{namespace}/configmaps",
                            params={"resourceVersion": old, "resourceVersionMatch": "Exact"})
    assert response.status_code == 410
    body = response.json()
    assert body["reason"] == "Expired"
    assert body["message"] == "The resourceVersion for the provided list is too old."


def test_relist_then_watch_recovers_after_expiry(
    core: client.CoreV1Api, namespace: str, compacted: tuple[str, int]
) -> None:
    listed = core.list_namespaced_config_map(namespace)
    assert [i.metadata.name for i in listed.items] == ["a", "b", "kube-root-ca.crt"]
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}})
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, namespace,
                          resource_version=listed.metadata.resource_version, timeout_seconds=5, _request_timeout=8):
        seen.append((event["type"], event["object"].metadata.name))
        w.stop()
    assert seen == [("ADDED", "c")]
