"""List paging with limit/continue (snapshot semantics), label selectors and field selectors,
through the official client's typed API."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from ._support import status_body

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


def _names(result: Any) -> list[str]:
    return [item.metadata.name for item in result.items]


#: Every namespace holds this ConfigMap (the root CA publisher's); it sorts after the tests' "cm-NN".
ROOT_CA = "kube-root-ca.crt"


def _created(result: Any) -> list[str]:
    """The names of the objects the test created (without the namespace's own kube-root-ca.crt)."""
    return [name for name in _names(result) if name != ROOT_CA]


def test_pagination_sees_every_item_once(core: client.CoreV1Api, namespace: str) -> None:
    expected = [f"cm-{i:02d}" for i in range(25)]
    for name in expected:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}, "data": {"v": "1"}})

    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = core.list_namespaced_config_map(namespace, limit=10, _continue=token)
        pages += 1
        assert len(page.items) <= 10
        seen.extend(_names(page))
        token = page.metadata._continue
        if not token:
            assert page.metadata.remaining_item_count is None
            break
    assert pages == 3
    assert seen == [*expected, ROOT_CA]  # ordered by name, nothing missed, nothing repeated


def test_continued_pages_show_the_first_page_snapshot(core: client.CoreV1Api, namespace: str) -> None:
    expected = [f"cm-{i:02d}" for i in range(25)]
    for name in expected:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}, "data": {"v": "old"}})

    first = core.list_namespaced_config_map(namespace, limit=10)
    snapshot_rv = first.metadata.resource_version
    assert _names(first) == expected[:10]
    assert first.metadata.remaining_item_count == 16  # with kube-root-ca.crt
    assert first.metadata._continue

    # Change the collection after the first page: delete, modify and add items on later pages.
    core.delete_namespaced_config_map("cm-15", namespace)
    core.patch_namespaced_config_map("cm-20", namespace, {"data": {"v": "new"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm-99"}, "data": {"v": "new"}})
    core.delete_namespaced_config_map("cm-05", namespace)  # already returned: no effect on later pages

    second = core.list_namespaced_config_map(namespace, limit=10, _continue=first.metadata._continue)
    assert _names(second) == expected[10:20]
    assert second.metadata.resource_version == snapshot_rv
    assert second.metadata.remaining_item_count == 6
    third = core.list_namespaced_config_map(namespace, limit=10, _continue=second.metadata._continue)
    assert _names(third) == [*expected[20:], ROOT_CA]
    assert not third.metadata._continue
    assert third.metadata.resource_version == snapshot_rv
    by_name = {item.metadata.name: item for item in [*second.items, *third.items]}
    assert by_name["cm-15"].data == {"v": "old"}  # deleted later, still in the snapshot
    assert by_name["cm-20"].data == {"v": "old"}  # modified later, shown as it was

    # A fresh list sees the new state.
    fresh = core.list_namespaced_config_map(namespace)
    names = _names(fresh)
    assert "cm-15" not in names and "cm-05" not in names and "cm-99" in names
    assert int(fresh.metadata.resource_version) > int(snapshot_rv)
    assert {i.metadata.name: i.data for i in fresh.items}["cm-20"] == {"v": "new"}


def test_malformed_continue_token_is_400(core: client.CoreV1Api, namespace: str) -> None:
    with pytest.raises(ApiException) as info:
        core.list_namespaced_config_map(namespace, limit=10, _continue="not-a-token")
    assert info.value.status == 400
    status = status_body(info.value)
    assert status["reason"] == "BadRequest"
    assert status["message"].startswith("invalid continue token")


LABELLED = {
    "a": {"app": "web", "env": "prod", "tier": "front"},
    "b": {"app": "web", "env": "staging"},
    "c": {"app": "db", "env": "prod", "tier": "back"},
    "d": {"app": "db"},
    "e": {},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", "ab"),
        ("app==web", "ab"),
        ("app!=web", "cde"),
        ("app=web,env=prod", "a"),
        ("env in (prod,staging)", "abc"),
        ("env notin (prod)", "bde"),
        ("tier", "ac"),
        ("!tier", "bde"),
        ("app in (db),!env", "d"),
        ("app in (web, db), env notin (staging), tier", "ac"),
        ("app=nothing", ""),
    ],
)
def test_label_selectors(core: client.CoreV1Api, namespace: str, selector: str, expected: str) -> None:
    for name, labels in LABELLED.items():
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name, "labels": labels}})
    result = core.list_namespaced_config_map(namespace, label_selector=selector)
    assert _created(result) == list(expected)
    assert result.items is not None


def test_bad_label_selector_is_400(core: client.CoreV1Api, namespace: str) -> None:
    with pytest.raises(ApiException) as info:
        core.list_namespaced_config_map(namespace, label_selector="app in (web")
    assert info.value.status == 400
    assert status_body(info.value)["reason"] == "BadRequest"


def test_field_selector_metadata_name(core: client.CoreV1Api, namespace: str) -> None:
    for name in "abc":
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    assert _names(core.list_namespaced_config_map(namespace, field_selector="metadata.name=b")) == ["b"]
    assert _created(core.list_namespaced_config_map(namespace, field_selector="metadata.name!=b")) == ["a", "c"]
    both = core.list_namespaced_config_map(namespace, field_selector=f"metadata.name=a,metadata.namespace={namespace}")
    assert _names(both) == ["a"]


def _pod(name: str, node: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "busybox:1.36"}]}
    if node:
        spec["nodeName"] = node  # a node that does not exist: no kubelet runs the pod
    else:
        spec["schedulerName"] = "unscheduled"  # a scheduler nobody runs: the pod stays unbound
    return {"metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("status.phase=Running", ["p1"]),
        ("status.phase=Pending", ["p2", "p3"]),
        ("status.phase!=Pending", ["p1"]),
        ("spec.nodeName=node-a", ["p1"]),
        ("spec.nodeName=", ["p3"]),
        ("spec.nodeName!=", ["p1", "p2"]),
        ("spec.nodeName=node-b,status.phase=Pending", ["p2"]),
        ("spec.host=node-a", ["p1"]),
    ],
)
def test_pod_field_selectors(core: client.CoreV1Api, namespace: str, selector: str, expected: list[str]) -> None:
    core.create_namespaced_pod(namespace, _pod("p1", "node-a"))
    core.create_namespaced_pod(namespace, _pod("p2", "node-b"))
    core.create_namespaced_pod(namespace, _pod("p3"))
    running = core.patch_namespaced_pod_status("p1", namespace, {"status": {"phase": "Running"}})
    assert running.status.phase == "Running"
    assert _names(core.list_namespaced_pod(namespace, field_selector=selector)) == expected


def test_unsupported_field_selector_is_400(core: client.CoreV1Api, namespace: str) -> None:
    with pytest.raises(ApiException) as info:
        core.list_namespaced_pod(namespace, field_selector="spec.foo=bar")
    assert info.value.status == 400
    status = status_body(info.value)
    assert status["reason"] == "BadRequest"
    assert status["message"] == "field label not supported: spec.foo"
