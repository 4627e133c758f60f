"""``kubernetes_asyncio``: create, get, list, watch, patch, delete, watch-list bookmarks, and 410 handling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.rest import ApiException

from kubeproof import Cluster

from ._support import async_wait_until, unique_name

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
async def api(cluster: Cluster) -> AsyncIterator[Any]:
    api_client = await cluster.async_api_client()
    async with api_client:
        yield api_client


async def collect(
    func: Any, *args: Any, count: int | None = None, until: str | None = None, **kwargs: Any
) -> list[dict[str, Any]]:
    """Events of a watch (raw objects) up to ``count`` of them or the first of type ``until``."""
    events: list[dict[str, Any]] = []
    done = False
    async with watch.Watch() as w:
        async with asyncio.timeout(8):
            async for event in w.stream(func, *args, timeout_seconds=5, **kwargs):
                events.append({"type": event["type"], "object": event["raw_object"]})
                done = len(events) == count or event["type"] == until
                if done:
                    w.stop()
                    break
    assert done, f"the watch ended early: {events}"
    return events


async def test_configmap_lifecycle(api: Any, namespace: str) -> None:
    core = client.CoreV1Api(api)
    created = await core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "conf", "labels": {"app": "a"}}, "data": {"k": "1"}}
    )
    assert created.metadata.uid and created.metadata.resource_version
    start = created.metadata.resource_version

    got = await core.read_namespaced_config_map("conf", namespace)
    assert got.data == {"k": "1"}
    listed = await core.list_namespaced_config_map(namespace, label_selector="app in (a,b)")
    assert [i.metadata.name for i in listed.items] == ["conf"]

    patched = await core.patch_namespaced_config_map("conf", namespace, {"data": {"k": "2"}})
    assert patched.data == {"k": "2"}
    await core.delete_namespaced_config_map("conf", namespace)
    with pytest.raises(ApiException) as info:
        await core.read_namespaced_config_map("conf", namespace)
    assert info.value.status == 404

    events = await collect(core.list_namespaced_config_map, namespace, resource_version=start, count=2)
    assert [(e["type"], e["object"]["data"]) for e in events] == [("MODIFIED", {"k": "2"}), ("DELETED", {"k": "2"})]


async def test_live_watch_sees_concurrent_writes(api: Any, namespace: str) -> None:
    core = client.CoreV1Api(api)
    start = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    watcher = asyncio.create_task(
        collect(core.list_namespaced_config_map, namespace, resource_version=start, count=3)
    )
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "one"}})
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "two"}})
    await core.delete_namespaced_config_map("one", namespace)
    events = await watcher
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "one"), ("ADDED", "two"), ("DELETED", "one"),
    ]


async def test_watch_list_ends_initial_events_with_bookmark(api: Any, namespace: str) -> None:
    core = client.CoreV1Api(api)
    for name in ("a", "b"):
        await core.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    events = await collect(core.list_namespaced_config_map, namespace, allow_watch_bookmarks=True, count=4)
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events] == [
        ("ADDED", "a"), ("ADDED", "b"), ("ADDED", "kube-root-ca.crt"), ("BOOKMARK", None),
    ]
    bookmark = events[3]["object"]
    assert bookmark["kind"] == "ConfigMap"
    assert bookmark["apiVersion"] == "v1"
    assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["metadata"]["resourceVersion"]) >= max(
        int(e["object"]["metadata"]["resourceVersion"]) for e in events[:3])


async def test_deployment_crud(api: Any, namespace: str) -> None:
    apps = client.AppsV1Api(api)
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
        },
    }
    created = await apps.create_namespaced_deployment(namespace, body)
    assert created.spec.replicas == 1
    # Read-modify-write, retried on 409 as client-go's RetryOnConflict does: the deployment controller
    # writes the object too (revision annotation, status), which moves its resourceVersion.
    conflicts = 0
    while True:
        current = await apps.read_namespaced_deployment("web", namespace)
        current.spec.replicas = 2
        try:
            replaced = await apps.replace_namespaced_deployment("web", namespace, current)
            break
        except ApiException as exc:
            if exc.status != 409 or conflicts == 5:
                raise
            conflicts += 1
    assert replaced.metadata.uid == created.metadata.uid
    assert replaced.spec.replicas == 2
    assert replaced.metadata.generation == 2
    await apps.delete_namespaced_deployment("web", namespace)

    async def gone() -> bool:
        try:
            await apps.read_namespaced_deployment("web", namespace)
        except ApiException as exc:
            return exc.status == 404
        return False

    assert await async_wait_until(gone, what="deployment deleted")


async def test_namespace_deletion_completes(api: Any) -> None:
    core = client.CoreV1Api(api)
    name = unique_name("gone")
    created = await core.create_namespace({"metadata": {"name": name}})
    assert created.spec.finalizers == ["kubernetes"]
    assert created.status.phase == "Active"
    await core.create_namespaced_config_map(name, {"metadata": {"name": "content"}})
    await core.delete_namespace(name)
    # Terminating first, then the namespace controller empties it and removes the "kubernetes" finalizer.
    events = await collect(core.list_namespace, resource_version=created.metadata.resource_version,
                           field_selector=f"metadata.name={name}", until="DELETED")
    assert events[0]["type"] == "MODIFIED"
    assert events[0]["object"]["status"]["phase"] == "Terminating"
    assert events[0]["object"]["metadata"]["deletionTimestamp"]
    assert {e["type"] for e in events[:-1]} == {"MODIFIED"}
    with pytest.raises(ApiException) as info:
        await core.read_namespace(name)
    assert info.value.status == 404
    with pytest.raises(ApiException) as info:
        await core.read_namespaced_config_map("content", name)
    assert info.value.status == 404


async def test_watch_retries_410_once_then_raises(cluster: Cluster, api: Any, namespace: str) -> None:
    core = client.CoreV1Api(api)
    old = (await core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})).metadata.resource_version
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "b"}})
    upto = cluster.store.compact()  # history up to here is gone: "old" is now too old
    calls: list[str] = []

    async def list_config_maps(ns: str, **kwargs: Any) -> Any:
        calls.append(kwargs["resource_version"])
        return await core.list_namespaced_config_map(ns, **kwargs)

    with pytest.raises(ApiException) as info:
        async with asyncio.timeout(8):
            async with watch.Watch(return_type="V1ConfigMap") as w:
                async for _ in w.stream(list_config_maps, namespace, resource_version=old):
                    pytest.fail("no event expected from an expired resourceVersion")
    assert info.value.status == 410
    assert info.value.reason == f"Expired: too old resource version: {old} ({upto})"
    assert calls == [old, old]
