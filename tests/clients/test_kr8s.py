"""kr8s (async API): create, get, list (with its limit/continue paging), patch, watch, delete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import kr8s
import kr8s.asyncio
import pytest
from kr8s.asyncio.objects import ConfigMap, Deployment, Namespace, Pod

from kubeproof import Cluster

from ._support import async_wait_until, unique_name

pytestmark = [
    pytest.mark.timeout(10),
    # kr8s warns that it was not tested against the version the server reports (v1.37).
    pytest.mark.filterwarnings("ignore:Kubernetes version .* is not supported:UserWarning"),
]


@pytest.fixture
async def api(cluster: Cluster, namespace: str) -> AsyncIterator[Any]:
    # kr8s caches Api objects per (arguments, thread, loop): the per-test namespace keeps them apart.
    yield await kr8s.asyncio.api(kubeconfig=str(cluster.kubeconfig), namespace=namespace)


async def take(api: Any, kind: str, count: int, **kwargs: Any) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    generator = api.watch(kind, **kwargs)
    try:
        async with asyncio.timeout(8):
            async for event_type, obj in generator:
                events.append((event_type, obj))
                if len(events) == count:
                    break
    finally:
        await generator.aclose()
    return events


async def test_version_and_discovery(api: Any) -> None:
    version = await api.version()
    assert version["major"] == "1"
    assert version["gitVersion"].startswith("v1.")
    resources = {(r["version"], r["name"]): r for r in await api.api_resources()}
    assert resources[("apps/v1", "deployments")]["shortNames"] == ["deploy"]
    assert resources[("v1", "pods")]["namespaced"] is True
    assert resources[("v1", "nodes")]["namespaced"] is False
    assert ("policy/v1", "poddisruptionbudgets") in resources


async def test_configmap_create_get_list_patch_watch_delete(api: Any, namespace: str) -> None:
    cm = await ConfigMap({"metadata": {"name": "conf", "labels": {"app": "kr8s"}}, "data": {"k": "1"}}, api=api)
    await cm.create()
    assert cm.metadata.uid
    start = cm.metadata.resourceVersion

    fetched = await ConfigMap.get("conf", namespace=namespace, api=api)
    assert fetched.raw["data"] == {"k": "1"}
    assert fetched.metadata.uid == cm.metadata.uid

    listed = [o async for o in api.get("configmaps", namespace=namespace, label_selector={"app": "kr8s"})]
    assert [o.name for o in listed] == ["conf"]

    await cm.patch({"data": {"k": "2"}})  # merge patch
    assert cm.raw["data"] == {"k": "2"}
    await cm.label(tier="backend")
    await cm.patch([{"op": "add", "path": "/data/extra", "value": "x"}], type="json")
    await cm.refresh()
    assert cm.labels == {"app": "kr8s", "tier": "backend"}
    assert cm.raw["data"] == {"k": "2", "extra": "x"}

    await cm.delete()
    assert not await cm.exists()

    events = await take(api, "configmaps", 4, namespace=namespace, since=start)
    assert [t for t, _ in events] == ["MODIFIED", "MODIFIED", "MODIFIED", "DELETED"]
    assert all(o.name == "conf" for _, o in events)


async def test_list_pages_through_limit_and_continue(cluster: Cluster, api: Any, namespace: str) -> None:
    # Bulk setup goes straight to the registry; the listing is what this test exercises.
    rt = cluster.registry.resource("configmaps")
    expected = [f"cm-{i:03d}" for i in range(205)]
    for name in expected:
        cluster.registry.create(rt, namespace, {"metadata": {"name": name}})
    [o async for o in api.get("serviceaccounts", namespace=namespace)]  # discovery happens here, not below
    requests_before = cluster.api.request_count
    names = [o.name async for o in api.get("configmaps", namespace=namespace)]  # kr8s asks 100 at a time
    assert names == [*expected, "kube-root-ca.crt"]  # (every namespace holds kube-root-ca.crt)
    assert cluster.api.request_count - requests_before == 3  # pages of 100, 100 and 6


async def test_field_selector_with_trailing_comma(api: Any, namespace: str) -> None:
    for name in ("one", "two"):
        await (await ConfigMap({"metadata": {"name": name}}, api=api)).create()
    # A named get sends fieldSelector=metadata.name=<name>, (with the trailing comma).
    found = [o.name async for o in api.get("configmaps", "two", namespace=namespace)]
    assert found == ["two"]


async def test_pod_and_deployment(api: Any, namespace: str) -> None:
    # A scheduler nobody runs keeps the pod Pending for the field selector below.
    pod = await Pod({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}],
                                                         "schedulerName": "unscheduled"}}, api=api)
    await pod.create()
    assert pod.status.phase == "Pending"
    pods = [o.name async for o in api.get("pods", namespace=namespace, field_selector="status.phase=Pending")]
    assert pods == ["p"]
    await pod.delete()
    assert not await pod.exists()

    deploy = await Deployment({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
        },
    }, api=api)
    await deploy.create()
    await deploy.scale(3)  # kr8s patches spec.replicas
    await deploy.refresh()
    assert deploy.spec.replicas == 3
    assert deploy.metadata.generation == 2
    await deploy.delete()
    assert not await deploy.exists()


async def test_cluster_scoped_namespace(api: Any) -> None:
    name = unique_name("kr8s")
    ns = await Namespace({"metadata": {"name": name}}, api=api)
    await ns.create()
    assert ns.raw["status"]["phase"] == "Active"
    assert name in [o.name async for o in api.get("namespaces")]
    await ns.delete()

    async def gone() -> bool:
        return not await ns.exists()

    await async_wait_until(gone, what="the namespace controller to finish the deletion")


async def test_not_found_error(api: Any, namespace: str) -> None:
    cm = await ConfigMap({"metadata": {"name": "missing", "namespace": namespace}}, api=api)
    with pytest.raises(kr8s.NotFoundError):
        await cm.refresh()
    with pytest.raises(kr8s.ServerError) as info:
        await (await ConfigMap({"metadata": {"name": "Bad_Name"}}, api=api)).create()
    assert info.value.response.status_code == 422
    assert info.value.status["reason"] == "Invalid"
