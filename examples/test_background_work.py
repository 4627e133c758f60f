"""Background work that outlives its test (Kubernetes #131056: "Fail in goroutine after
TestRegistrationHandler has completed").

A thread or task started by a test keeps running after it: it writes into the next test's objects or
raises into another test's report. Stop what you start and wait for it; the leak guard (on by default)
fails the test that leaves a thread or task running, or whose thread raised, even after it returned.
``tests/testing/test_leaks.py`` shows the guard catching each kind of leak.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from kubeproof.testing import Kube, eventually


def follow(kube: Kube, name: str, seen: list[str], stop: threading.Event) -> None:
    """Records the values of a ConfigMap until told to stop."""
    while not stop.is_set():
        current = kube.try_get("ConfigMap", name)
        if current is not None and (value := current.get("data", {}).get("v")) and value not in seen:
            seen.append(value)
        stop.wait(0.02)  # the follower's poll interval


def test_a_thread_is_stopped_and_joined_before_the_test_ends(kube: Kube, namespace: str) -> None:
    cm = kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "followed"},
                      "data": {"v": "1"}})
    seen: list[str] = []
    stop = threading.Event()
    follower = threading.Thread(target=follow, args=(kube, "followed", seen, stop), name="follower")
    follower.start()
    try:
        kube.patch(cm, {"data": {"v": "2"}})
        eventually(lambda: seen[-1:] == ["2"], timeout=30, description="the follower to see v=2")
    finally:
        stop.set()
        follower.join()  # without this, the leak guard fails the test: the thread outlives it


async def test_a_task_is_awaited_or_cancelled(kube: Kube, namespace: str) -> None:
    from kubernetes_asyncio import client

    async def watch_names(api: Any, found: list[str]) -> None:
        listed = await client.CoreV1Api(api).list_namespaced_config_map(namespace,
                                                                        label_selector=kube.label_selector)
        found.extend(cm.metadata.name for cm in listed.items)

    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "async"}})
    found: list[str] = []
    async with kube.async_client() as api:
        task = asyncio.create_task(watch_names(api, found))
        await task  # a task left pending would be reported by the leak guard, then cancelled
    assert found == ["async"]
