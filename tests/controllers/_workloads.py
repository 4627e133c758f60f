"""Helpers for the GC and workload tests: play the kubelet through the status subresource."""

from __future__ import annotations

import time
import uuid
from typing import Any

from kubernetes import client

#: The controllers these tests exercise, without scheduler or kubelet: the tests write pod status.
WORKLOAD_CONTROLLERS = ["namespace", "garbagecollector", "replicaset", "deployment"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def mark_ready(core: client.CoreV1Api, namespace: str, name: str) -> None:
    status: dict[str, Any] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": _stamp()}],
    }
    core.patch_namespaced_pod_status(name, namespace, {"status": status})


def mark_all_ready(core: client.CoreV1Api, namespace: str) -> int:
    """Every pod of the namespace not yet Running and Ready becomes so; returns how many were marked."""
    marked = 0
    for pod in core.list_namespaced_pod(namespace).items:
        if pod.metadata.deletion_timestamp:
            continue
        conds = {c.type: c.status for c in (pod.status.conditions or [])}
        if pod.status.phase != "Running" or conds.get("Ready") != "True":
            try:
                mark_ready(core, namespace, pod.metadata.name)
            except client.ApiException as exc:
                if exc.status != 404:
                    raise
            marked += 1
    return marked


def set_phase(core: client.CoreV1Api, namespace: str, name: str, phase: str) -> None:
    core.patch_namespaced_pod_status(name, namespace, {"status": {"phase": phase}})


def configmap(name: str, owners: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if owners:
        meta["ownerReferences"] = owners
    return {"metadata": meta, "data": {"k": "v"}}


def owner_ref(obj: Any, kind: str = "ConfigMap", api_version: str = "v1", block: bool = False) -> dict[str, Any]:
    ref: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "name": obj.metadata.name,
                           "uid": obj.metadata.uid}
    if block:
        ref["blockOwnerDeletion"] = True
    return ref
