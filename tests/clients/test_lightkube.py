"""lightkube, sync ``Client`` and ``AsyncClient``: create, get, list (chunked), patch, replace, watch, delete,
and ``ApiError`` carrying the server's Status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import lightkube
import pytest
from lightkube import operators
from lightkube.models.apps_v1 import DeploymentSpec
from lightkube.models.core_v1 import Container, PodSpec, PodTemplateSpec
from lightkube.models.meta_v1 import LabelSelector, ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Namespace, Pod
from lightkube.types import PatchType

from kubeproof import Cluster

from ._support import unique_name, wait_until

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
def kube(cluster: Cluster) -> Iterator[lightkube.Client]:
    c = lightkube.Client(config=lightkube.KubeConfig.from_file(cluster.kubeconfig))
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
async def akube(cluster: Cluster) -> AsyncIterator[lightkube.AsyncClient]:
    c = lightkube.AsyncClient(config=lightkube.KubeConfig.from_file(cluster.kubeconfig))
    try:
        yield c
    finally:
        await c.close()


def take(kube: lightkube.Client, res: Any, count: int, **kwargs: Any) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    with contextlib.closing(kube.watch(res, **kwargs)) as stream:
        for event in stream:
            events.append(event)
            if len(events) == count:
                break
    return events


def test_configmap_lifecycle(kube: lightkube.Client, namespace: str) -> None:
    created = kube.create(ConfigMap(metadata=ObjectMeta(name="conf", labels={"app": "lk"}), data={"k": "1"}),
                          namespace=namespace)
    assert created.metadata.uid
    start = created.metadata.resourceVersion

    got = kube.get(ConfigMap, "conf", namespace=namespace)
    assert got.data == {"k": "1"}
    listed = list(kube.list(ConfigMap, namespace=namespace, labels={"app": operators.in_(["lk", "other"])}))
    assert [o.metadata.name for o in listed] == ["conf"]

    got.data = {"k": "2"}
    replaced = kube.replace(got)
    assert replaced.data == {"k": "2"}
    patched = kube.patch(ConfigMap, "conf", {"data": {"extra": "x"}}, namespace=namespace,
                         patch_type=PatchType.MERGE)
    assert patched.data == {"k": "2", "extra": "x"}
    patched = kube.patch(ConfigMap, "conf", [{"op": "remove", "path": "/data/extra"}], namespace=namespace,
                         patch_type=PatchType.JSON)
    assert patched.data == {"k": "2"}

    kube.delete(ConfigMap, "conf", namespace=namespace)
    with pytest.raises(lightkube.ApiError) as info:
        kube.get(ConfigMap, "conf", namespace=namespace)
    assert info.value.status.code == 404
    assert info.value.status.reason == "NotFound"
    assert info.value.status.message == 'configmaps "conf" not found'

    events = take(kube, ConfigMap, 4, namespace=namespace, resource_version=start)
    assert [(t, o.data) for t, o in events] == [
        ("MODIFIED", {"k": "2"}),
        ("MODIFIED", {"k": "2", "extra": "x"}),
        ("MODIFIED", {"k": "2"}),
        ("DELETED", {"k": "2"}),
    ]


def test_chunked_list(kube: lightkube.Client, namespace: str) -> None:
    expected = [f"cm-{i:02d}" for i in range(25)]
    for name in expected:
        kube.create(ConfigMap(metadata=ObjectMeta(name=name)), namespace=namespace)
    result = kube.list(ConfigMap, namespace=namespace, chunk_size=10)
    assert [o.metadata.name for o in result] == [*expected, "kube-root-ca.crt"]  # every namespace has it
    assert int(result.resourceVersion) > 0


def test_selectors(kube: lightkube.Client, namespace: str) -> None:
    for name, labels in {"a": {"env": "prod"}, "b": {"env": "dev"}, "c": {}}.items():
        kube.create(ConfigMap(metadata=ObjectMeta(name=name, labels=labels)), namespace=namespace)

    def names(**kwargs: Any) -> list[str]:
        return [o.metadata.name for o in kube.list(ConfigMap, namespace=namespace, **kwargs)]

    assert names(labels={"env": "prod"}) == ["a"]
    # (kube-root-ca.crt, in every namespace, has no labels either)
    assert names(labels={"env": operators.not_equal("prod")}) == ["b", "c", "kube-root-ca.crt"]
    assert names(labels={"env": operators.exists()}) == ["a", "b"]
    assert names(labels={"env": operators.not_exists()}) == ["c", "kube-root-ca.crt"]
    assert names(labels={"env": operators.not_in(["dev"])}) == ["a", "c", "kube-root-ca.crt"]
    assert names(fields={"metadata.name": "b"}) == ["b"]
    assert names(fields={"metadata.name": operators.not_equal("b")}) == ["a", "c", "kube-root-ca.crt"]


def test_errors_carry_status(kube: lightkube.Client, namespace: str) -> None:
    kube.create(ConfigMap(metadata=ObjectMeta(name="x")), namespace=namespace)
    with pytest.raises(lightkube.ApiError) as info:
        kube.create(ConfigMap(metadata=ObjectMeta(name="x")), namespace=namespace)
    assert info.value.status.code == 409
    assert info.value.status.reason == "AlreadyExists"
    assert info.value.status.message == 'configmaps "x" already exists'

    stale = kube.get(ConfigMap, "x", namespace=namespace)
    kube.patch(ConfigMap, "x", {"data": {"k": "v"}}, namespace=namespace, patch_type=PatchType.MERGE)
    with pytest.raises(lightkube.ApiError) as info:
        kube.replace(stale)
    assert info.value.status.code == 409
    assert info.value.status.reason == "Conflict"

    with pytest.raises(lightkube.ApiError) as info:
        kube.create(ConfigMap(metadata=ObjectMeta(name="Not_Valid")), namespace=namespace)
    status = info.value.status
    assert status.code == 422
    assert status.reason == "Invalid"
    assert status.details.causes[0].field == "metadata.name"
    assert status.details.causes[0].reason == "FieldValueInvalid"


def test_pod_status_and_field_selector(kube: lightkube.Client, namespace: str) -> None:
    spec = PodSpec(containers=[Container(name="c", image="busybox")], nodeName="node-1")
    kube.create(Pod(metadata=ObjectMeta(name="p"), spec=spec), namespace=namespace)
    kube.patch(Pod.Status, "p", {"status": {"phase": "Running"}}, namespace=namespace, patch_type=PatchType.MERGE)
    running = list(kube.list(Pod, namespace=namespace, fields={"status.phase": "Running", "spec.nodeName": "node-1"}))
    assert [p.metadata.name for p in running] == ["p"]
    assert kube.get(Pod, "p", namespace=namespace).status.phase == "Running"


def test_cluster_scoped_namespace(kube: lightkube.Client) -> None:
    name = unique_name("lk")
    created = kube.create(Namespace(metadata=ObjectMeta(name=name)))
    assert created.status.phase == "Active"
    assert created.metadata.labels == {"kubernetes.io/metadata.name": name}
    kube.delete(Namespace, name)

    def gone() -> bool:
        try:
            kube.get(Namespace, name)
        except lightkube.ApiError as exc:
            return exc.status.code == 404
        return False

    wait_until(gone, what=f"namespace {name} to be deleted")


async def test_async_client_lifecycle(akube: lightkube.AsyncClient, namespace: str) -> None:
    template = PodTemplateSpec(metadata=ObjectMeta(labels={"app": "web"}),
                               spec=PodSpec(containers=[Container(name="web", image="nginx:1.27")]))
    deployment = Deployment(
        metadata=ObjectMeta(name="web"),
        spec=DeploymentSpec(selector=LabelSelector(matchLabels={"app": "web"}), template=template, replicas=1),
    )
    created = await akube.create(deployment, namespace=namespace)
    assert created.metadata.generation == 1
    start = created.metadata.resourceVersion

    got = await akube.get(Deployment, "web", namespace=namespace)
    assert got.spec.template.spec.containers[0].image == "nginx:1.27"
    names = [d.metadata.name async for d in akube.list(Deployment, namespace=namespace)]
    assert names == ["web"]
    scaled = await akube.patch(Deployment, "web", {"spec": {"replicas": 2}}, namespace=namespace,
                               patch_type=PatchType.MERGE)
    assert scaled.spec.replicas == 2
    assert scaled.metadata.generation == 2
    await akube.delete(Deployment, "web", namespace=namespace)
    with pytest.raises(lightkube.ApiError) as info:
        await akube.get(Deployment, "web", namespace=namespace)
    assert info.value.status.message == 'deployments.apps "web" not found'

    # The deployment controller's writes (revision annotation, status) come as more MODIFIED events, none
    # of which changes the spec: keep the events where the generation moves, and the deletion.
    events: list[tuple[str, int]] = []
    generation = created.metadata.generation
    async with asyncio.timeout(8), contextlib.aclosing(
        akube.watch(Deployment, namespace=namespace, resource_version=start)
    ) as stream:
        async for event_type, obj in stream:
            if event_type == "DELETED" or obj.metadata.generation != generation:
                generation = obj.metadata.generation
                events.append((event_type, obj.spec.replicas))
            if event_type == "DELETED":
                break
    assert events == [("MODIFIED", 2), ("DELETED", 2)]


async def test_async_live_watch(akube: lightkube.AsyncClient, namespace: str) -> None:
    start = (await akube.create(ConfigMap(metadata=ObjectMeta(name="first")), namespace=namespace)).metadata
    seen: list[tuple[str, str]] = []

    async def watch() -> None:
        stream = akube.watch(ConfigMap, namespace=namespace, resource_version=start.resourceVersion)
        async with contextlib.aclosing(stream):
            async for event_type, obj in stream:
                seen.append((event_type, obj.metadata.name))
                if obj.metadata.name == "last":
                    return

    watcher = asyncio.create_task(watch())
    for name in ("second", "last"):
        await akube.create(ConfigMap(metadata=ObjectMeta(name=name)), namespace=namespace)
    await asyncio.wait_for(watcher, 8)
    assert seen == [("ADDED", "second"), ("ADDED", "last")]


def test_server_side_apply(kube: lightkube.Client, namespace: str) -> None:
    """lightkube's ``apply`` (server-side apply): create on first apply, update on the next, conflicts between
    field managers unless forced."""
    name = unique_name("applied")
    first = kube.apply(ConfigMap(metadata=ObjectMeta(name=name), data={"a": "1"}), namespace=namespace,
                       field_manager="lk-one")
    assert first.data == {"a": "1"}
    assert [(e.manager, e.operation) for e in first.metadata.managedFields] == [("lk-one", "Apply")]
    second = kube.apply(ConfigMap(metadata=ObjectMeta(name=name), data={"a": "2", "b": "3"}), namespace=namespace,
                        field_manager="lk-one")
    assert second.data == {"a": "2", "b": "3"}
    assert int(second.metadata.resourceVersion) > int(first.metadata.resourceVersion)
    with pytest.raises(lightkube.ApiError) as conflict:
        kube.apply(ConfigMap(metadata=ObjectMeta(name=name), data={"a": "other"}), namespace=namespace,
                   field_manager="lk-two")
    assert conflict.value.status.code == 409
    assert conflict.value.status.reason == "Conflict"
    assert conflict.value.status.message == 'Apply failed with 1 conflict: conflict with "lk-one": .data.a'
    forced = kube.apply(ConfigMap(metadata=ObjectMeta(name=name), data={"a": "other"}), namespace=namespace,
                        field_manager="lk-two", force=True)
    assert forced.data == {"a": "other", "b": "3"}
    assert sorted(e.manager for e in forced.metadata.managedFields) == ["lk-one", "lk-two"]
