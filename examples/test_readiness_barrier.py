"""404 or stale data right after a write, read through another watcher or cluster (Kueue #3581, #6233).

A write is acknowledged when it is stored; other readers (watch caches, informers, a second cluster
synced by a controller) see it later. Kueue's fix, ``ExpectClusterQueuesToBeActive``: before depending on
queues, wait until every cluster has observed each of them as active. Here a replicator copies "queue"
objects from a manager cluster to a worker cluster and marks them active, as MultiKueue would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kubeproof.testing import Kube, unique_name, wait_observed_everywhere

QUEUE_LABEL = "example.com/queue"


def queue(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {QUEUE_LABEL: "true"}}, "data": {"active": "false"}}


def is_active(obj: dict[str, Any]) -> bool:
    assert obj["data"]["active"] == "true", f"active={obj['data']['active']}"
    return True


def replicator(source: Kube, target: Kube, namespace: str, stop: threading.Event) -> None:
    """Copies each queue to the target cluster and marks both active: eventually, not at once."""
    done: set[str] = set()
    while not stop.is_set():
        for item in source.list("ConfigMap", namespace=namespace, label_selector=f"{QUEUE_LABEL}=true"):
            name = item["metadata"]["name"]
            if name in done:
                continue
            # through the worker's handle, so teardown deletes the copies too
            target.create({**queue(name), "data": {"active": "true"}}, namespace=namespace)
            source.patch(item, {"data": {"active": "true"}})
            done.add(name)
        stop.wait(0.02)  # the replicator's own poll interval (it stands in for a controller)


def test_wait_until_every_cluster_has_observed_the_queues(kube_clusters: Callable[..., list[Kube]]) -> None:
    manager, worker = kube_clusters(2)
    namespace = unique_name("kueue")
    for side in (manager, worker):
        side.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        side.namespace = namespace
    stop = threading.Event()
    sync = threading.Thread(target=replicator, args=(manager, worker, namespace, stop), name="replicator")
    sync.start()
    try:
        queues = [manager.create(queue(name)) for name in ("team-a", "team-b")]
        # Naive: worker.get("ConfigMap", "team-a") here is a 404 whenever the replicator is behind.
        wait_observed_everywhere([manager, worker], queues, condition=is_active, timeout=30)
        for name in ("team-a", "team-b"):
            assert worker.get("ConfigMap", name)["data"]["active"] == "true"
    finally:
        stop.set()
        sync.join()


def test_wait_until_independent_watchers_have_seen_a_write(kube: Kube, namespace: str) -> None:
    created = kube.create(queue("team-c"))
    updated = kube.patch(created, {"data": {"active": "true"}})
    # Three informer-like watchers (own connections, lists from the watch cache, then watches) must
    # each hold the object at updated's resourceVersion or later before the test depends on it.
    kube.wait_observed(updated, watchers=3, timeout=30)
