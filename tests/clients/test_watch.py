"""Watch semantics through the official client: finalizers holding a deletion, and resuming a watch
from a resourceVersion without missing or repeating an event."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from ._support import status_body

pytestmark = pytest.mark.timeout(10)

FINALIZER = "example.com/hold"


@pytest.fixture
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


def take(core: client.CoreV1Api, namespace: str, since: str, count: int, **kwargs: Any) -> list[dict[str, Any]]:
    """The next ``count`` events after ``since`` (raw objects), from a watch that is then stopped."""
    events: list[dict[str, Any]] = []
    w = watch.Watch()
    stream = w.stream(core.list_namespaced_config_map, namespace, resource_version=since, timeout_seconds=5,
                      _request_timeout=8, **kwargs)
    for event in stream:
        events.append({"type": event["type"], "object": event["raw_object"]})
        if len(events) == count:
            w.stop()
            break
    assert len(events) == count, f"watch ended after {len(events)} of {count} events: {events}"
    return events


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e["object"]["metadata"]["name"]) for e in events]


def rv(event: dict[str, Any]) -> int:
    return int(event["object"]["metadata"]["resourceVersion"])


def test_finalizer_blocks_deletion_until_released(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "held", "finalizers": [FINALIZER]}, "data": {"k": "v"}}
    )
    start = created.metadata.resource_version

    response = core.delete_namespaced_config_map("held", namespace, _preload_content=False)
    assert response.status == 200
    deleting = json.loads(response.data)
    assert deleting["kind"] == "ConfigMap"  # not yet deleted: the object comes back, not a Status
    assert deleting["metadata"]["deletionTimestamp"]
    assert deleting["metadata"]["deletionGracePeriodSeconds"] == 0
    assert deleting["metadata"]["finalizers"] == [FINALIZER]

    still_there = core.read_namespaced_config_map("held", namespace)
    assert still_there.metadata.deletion_timestamp is not None
    assert still_there.metadata.finalizers == [FINALIZER]
    assert still_there.metadata.resource_version == deleting["metadata"]["resourceVersion"]

    # Deleting again while the finalizer holds changes nothing.
    again = json.loads(core.delete_namespaced_config_map("held", namespace, _preload_content=False).data)
    assert again["metadata"]["resourceVersion"] == deleting["metadata"]["resourceVersion"]

    # Adding a finalizer to an object being deleted is forbidden.
    with pytest.raises(ApiException) as info:
        core.patch_namespaced_config_map(
            "held", namespace, {"metadata": {"finalizers": [FINALIZER, "example.com/other"]}}
        )
    assert info.value.status == 422
    assert status_body(info.value)["details"]["causes"][0]["field"] == "metadata.finalizers"

    # Release: a JSON patch guarded by a resourceVersion test, as kopf does.
    released = core.patch_namespaced_config_map(
        "held",
        namespace,
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": still_there.metadata.resource_version},
            {"op": "remove", "path": "/metadata/finalizers"},
        ],
    )
    assert not released.metadata.finalizers

    with pytest.raises(ApiException) as info:
        core.read_namespaced_config_map("held", namespace)
    assert info.value.status == 404

    events = take(core, namespace, start, 2, field_selector="metadata.name=held")
    assert summary(events) == [("MODIFIED", "held"), ("DELETED", "held")]
    assert events[0]["object"]["metadata"]["deletionTimestamp"] == deleting["metadata"]["deletionTimestamp"]
    assert rv(events[0]) == int(deleting["metadata"]["resourceVersion"])
    assert rv(events[1]) > rv(events[0])
    assert events[1]["object"]["kind"] == "ConfigMap"


def test_finalizer_release_is_seen_by_a_live_watch(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "held", "finalizers": [FINALIZER]}})
    seen: list[str] = []
    done = threading.Event()
    failure: list[BaseException] = []

    def watcher() -> None:
        try:
            w = watch.Watch()
            for event in w.stream(core.list_namespaced_config_map, namespace,
                                  resource_version=created.metadata.resource_version, timeout_seconds=5,
                                  _request_timeout=8):
                seen.append(event["type"])
                if event["type"] == "DELETED":
                    w.stop()
        except BaseException as exc:  # reported to the test thread
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    core.delete_namespaced_config_map("held", namespace)
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})
    assert done.wait(8), "the watch did not see the deletion"
    thread.join(2)
    assert not failure, failure
    assert seen == ["MODIFIED", "DELETED"]


def test_watch_resumes_from_resource_version_without_gaps_or_duplicates(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}, "data": {"v": "0"}})
    start = core.list_namespaced_config_map(namespace).metadata.resource_version

    core.create_namespaced_config_map(namespace, {"metadata": {"name": "b"}})
    core.patch_namespaced_config_map("a", namespace, {"data": {"v": "1"}})
    core.delete_namespaced_config_map("b", namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}})

    first = take(core, namespace, start, 4)
    assert summary(first) == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b"), ("ADDED", "c")]
    last_rv = first[-1]["object"]["metadata"]["resourceVersion"]

    # Changes while nobody watches.
    core.patch_namespaced_config_map("c", namespace, {"data": {"v": "2"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "d"}})
    core.delete_namespaced_config_map("a", namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "sentinel"}})

    second = take(core, namespace, last_rv, 4)
    assert summary(second) == [("MODIFIED", "c"), ("ADDED", "d"), ("DELETED", "a"), ("ADDED", "sentinel")]
    assert second[0]["object"]["data"] == {"v": "2"}
    rvs = [rv(e) for e in first + second]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs)  # strictly increasing: nothing twice
    assert rvs[4] > int(last_rv)


def test_watch_with_label_selector_sees_transitions(core: client.CoreV1Api, namespace: str) -> None:
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x", "labels": {"watched": "no"}}})
    core.patch_namespaced_config_map("x", namespace, {"metadata": {"labels": {"watched": "yes"}}})
    core.patch_namespaced_config_map("x", namespace, {"data": {"k": "v"}})
    core.patch_namespaced_config_map("x", namespace, {"metadata": {"labels": {"watched": "no"}}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "sentinel", "labels": {"watched": "yes"}}})

    events = take(core, namespace, start, 4, label_selector="watched=yes")
    assert summary(events) == [("ADDED", "x"), ("MODIFIED", "x"), ("DELETED", "x"), ("ADDED", "sentinel")]


def test_watch_without_resource_version_starts_with_current_state(core: client.CoreV1Api, namespace: str) -> None:
    for name in ("a", "b"):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    events: list[tuple[str, str]] = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, namespace, timeout_seconds=5, _request_timeout=8):
        events.append((event["type"], event["object"].metadata.name))
        if len(events) == 2:
            w.stop()
    assert events == [("ADDED", "a"), ("ADDED", "b")]
