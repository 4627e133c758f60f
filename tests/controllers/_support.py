"""Helpers for the Services/Endpoints tests: pods whose status the test writes, as a kubelet would."""

from __future__ import annotations

import uuid
from typing import Any

from kubernetes import client

#: The controllers these tests exercise, without a scheduler or kubelet that would write pod status
#: themselves (the tests play the kubelet through the status subresource).
SERVICE_CONTROLLERS = ["namespace", "endpoints", "endpointslice", "serviceaccount"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def pod_manifest(name: str, labels: dict[str, str], ports: list[dict[str, Any]] | None = None,
                 **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "example/app:1"}
    if ports:
        container["ports"] = ports
    return {"metadata": {"name": name, "labels": labels}, "spec": {"containers": [container], **spec}}


def set_pod_status(core: client.CoreV1Api, namespace: str, name: str, ip: str | None, ready: bool,
                   phase: str = "Running") -> None:
    """What the kubelet reports: phase, pod IP and the Ready condition."""
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    core.patch_namespaced_pod_status(name, namespace, {"status": status})


def run_pod(core: client.CoreV1Api, namespace: str, name: str, labels: dict[str, str], ip: str,
            ready: bool = True, ports: list[dict[str, Any]] | None = None, **spec: Any) -> None:
    core.create_namespaced_pod(namespace, pod_manifest(name, labels, ports, **spec))
    set_pod_status(core, namespace, name, ip, ready)
