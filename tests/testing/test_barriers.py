"""Readiness barriers: an object observed by N independent watchers, by the test's own readers, and by
every cluster of a set (the ExpectClusterQueuesToBeActive pattern), with the text of their failures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from kubeproof.testing import Kube, Ref, WaitTimeout
from kubeproof.testing.barriers import rv_at_least, wait_observed, wait_observed_everywhere


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_resource_versions_compare_as_numbers_when_they_are_numbers() -> None:
    assert rv_at_least("10", "9") and rv_at_least("9", "9") and not rv_at_least("9", "10")
    assert rv_at_least("abc", "abc") and not rv_at_least("abd", "abc")


def test_every_watcher_observes_the_object_at_its_resource_version(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("queue", active="false"))
    kube.wait_observed(created, watchers=3, timeout=30)
    patched = kube.patch(created, {"data": {"active": "true"}})
    # the barrier is on the patched resourceVersion: each watcher must hold that state, not the created one
    wait_observed(kube, patched, watchers=2, condition=lambda cm: cm["data"]["active"] == "true", timeout=30)


def test_the_barrier_follows_writes_made_while_it_waits(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("counter", n="0"))

    def bump() -> None:
        for n in range(1, 6):
            kube.patch(created, {"data": {"n": str(n)}})

    writer = threading.Thread(target=bump, name="writer")
    writer.start()
    try:
        kube.wait_observed(created, watchers=2, condition=lambda cm: cm["data"]["n"] == "5", timeout=30)
    finally:
        writer.join()
    assert kube.get(created)["data"]["n"] == "5"


def test_a_watcher_that_never_sees_the_version_fails_the_barrier_saying_so(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("future"))
    have = created["metadata"]["resourceVersion"]
    want = str(int(have) + 1000)
    with pytest.raises(WaitTimeout) as info:
        kube.wait_observed(created, watchers=2, resource_version=want, timeout=5)
    message = str(info.value)
    assert message.startswith(
        f"wait_observed: timed out after 5s waiting for ConfigMap {namespace}/future at resourceVersion "
        f"{want} or later to be observed by 2 reader(s)"
    )
    assert f"  watcher 1 of 2: last saw resourceVersion {have}, want {want} or later" in message
    assert f"  watcher 2 of 2: last saw resourceVersion {have}, want {want} or later" in message


def test_the_tests_own_readers_are_part_of_the_barrier(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("cached", v="1"))
    patched = kube.patch(created, {"data": {"v": "2"}})
    cache: dict[str, Any] = {"obj": created}  # a stand-in for an informer cache that lags behind

    def stale_cache() -> dict[str, Any]:
        return dict(cache["obj"])

    with pytest.raises(WaitTimeout) as info:
        kube.wait_observed(patched, watchers=1, observers=[stale_cache], timeout=5)
    message = str(info.value)
    assert "  watcher 1 of 1: observed it" in message
    want = patched["metadata"]["resourceVersion"]
    assert (f"  observer 1 (test_the_tests_own_readers_are_part_of_the_barrier.<locals>.stale_cache): last saw "
            f"resourceVersion {created['metadata']['resourceVersion']}, want {want} or later") in message

    cache["obj"] = patched  # the cache catches up
    kube.wait_observed(patched, watchers=1, observers=[stale_cache], timeout=30)


def test_a_missing_object_is_reported_as_not_seen(kube: Kube, namespace: str) -> None:
    ref = Ref("v1", "ConfigMap", "never", namespace)
    with pytest.raises(WaitTimeout, match="  watcher 1 of 1: has not seen the object at all"):
        kube.wait_observed(ref, resource_version="1", timeout=5)


def is_active(obj: dict[str, Any]) -> bool:
    assert obj["data"]["active"] == "true", f"active is {obj['data']['active']}"
    return True


def test_every_cluster_of_a_set_observes_each_object(kube_clusters: Callable[..., list[Kube]]) -> None:
    manager, worker = kube_clusters(2)
    queues = [configmap("queue-a", active="true"), configmap("queue-b", active="true")]
    for side in (manager, worker):
        side.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kueue-system"}})
    made = [manager.create(q, namespace="kueue-system") for q in queues]
    for q in queues:
        worker.create({**q, "data": {"active": "false"}}, namespace="kueue-system")

    with pytest.raises(WaitTimeout) as info:
        wait_observed_everywhere([manager, worker], made, condition=is_active, timeout=5)
    message = str(info.value)
    assert message.startswith(
        f"wait_observed_everywhere: cluster 2 of 2 ({worker.connection.kubeconfig}) has not observed "
        "ConfigMap kueue-system/queue-a in time:"
    )
    assert "condition said: active is false" in message

    for q in queues:
        worker.patch(Ref("v1", "ConfigMap", q["metadata"]["name"], "kueue-system"), {"data": {"active": "true"}})
    wait_observed_everywhere([manager, worker], made, condition=is_active, timeout=30)
    wait_observed_everywhere([manager, worker], made[0], timeout=30)  # one object, existence only
