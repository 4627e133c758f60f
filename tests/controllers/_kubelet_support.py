"""Helpers for the scheduler, node and kubelet tests: kubectl against an embedded cluster, pod reads."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kubernetes import client, watch

from kubeproof import Cluster
from kubeproof.testing import eventually

KUBECTL = Path(sys.executable).parent / "kubectl"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def kubectl(cluster: Cluster, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KUBECACHEDIR=str(cluster.workdir / "kubecache"))
    proc = subprocess.run([str(KUBECTL), *args], capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def pod(name: str, *, annotations: dict[str, str] | None = None, image: str = "nginx:1.27",
        **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": [{"name": "app", "image": image}], **spec}
    return {"metadata": {"name": name, "annotations": annotations or {}}, "spec": body}


def condition(p: client.V1Pod, type_: str) -> client.V1PodCondition | None:
    return next((c for c in p.status.conditions or [] if c.type == type_), None)


def is_scheduled(p: client.V1Pod) -> bool:
    return bool(p.spec.node_name)


def is_unschedulable(p: client.V1Pod) -> bool:
    """``PodScheduled=False`` with reason ``Unschedulable``: the scheduler found no node for it."""
    cond = condition(p, "PodScheduled")
    return cond is not None and cond.status == "False" and cond.reason == "Unschedulable"


@contextlib.contextmanager
def own_cluster_core(nodes: list[dict[str, Any]]) -> Iterator[client.CoreV1Api]:
    """A CoreV1Api on a cluster of the test's own with these nodes: scheduling tests whose pods must not
    share nodes (and so resources, domains or neighbours) with another test's."""
    with Cluster(nodes=nodes) as cluster:
        api = cluster.api_client()
        try:
            yield client.CoreV1Api(api)
        finally:
            api.close()


def unschedulable_message(core: client.CoreV1Api, namespace: str, name: str) -> str:
    """The scheduler's message once the pod is ``PodScheduled=False``/``Unschedulable``."""
    message: str = condition(wait_pod(core, namespace, name, is_unschedulable), "PodScheduled").message
    return message


def is_ready(p: client.V1Pod) -> bool:
    cond = condition(p, "Ready")
    return cond is not None and cond.status == "True"


def wait_pod(core: client.CoreV1Api, namespace: str, name: str, check: Any, timeout: float = 20) -> client.V1Pod:
    """Read the pod until ``check(pod)`` holds (it may assert)."""

    def read() -> client.V1Pod:
        p = core.read_namespaced_pod(name, namespace)
        result = check(p)
        assert result, f"pod {name}: {p.status}"
        return p

    return eventually(read, timeout=timeout)


def wait_pod_gone(core: client.CoreV1Api, namespace: str, name: str, timeout: float = 20) -> None:
    def gone() -> None:
        try:
            core.read_namespaced_pod(name, namespace)
        except client.ApiException as exc:
            assert exc.status == 404, exc
            return
        raise AssertionError(f"pod {namespace}/{name} still exists")

    eventually(gone, timeout=timeout)


class PodWatcher:
    """Records every watch event of one pod from a resourceVersion until it is DELETED."""

    def __init__(self, core: client.CoreV1Api, namespace: str, name: str, resource_version: str) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(core, namespace, name, resource_version), daemon=True)
        self._thread.start()

    def _run(self, core: client.CoreV1Api, namespace: str, name: str, rv: str) -> None:
        w = watch.Watch()
        try:
            for event in w.stream(core.list_namespaced_pod, namespace, field_selector=f"metadata.name={name}",
                                  resource_version=rv, timeout_seconds=60, _preload_content=True):
                obj = core.api_client.sanitize_for_serialization(event["object"])
                self.events.append((event["type"], obj))
                if event["type"] == "DELETED":
                    break
        finally:
            w.stop()
            self.done.set()

    def wait(self, timeout: float = 60) -> list[tuple[str, dict[str, Any]]]:
        assert self.done.wait(timeout), f"no DELETED event; saw {[t for t, _ in self.events]}"
        return self.events
