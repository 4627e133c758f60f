"""A small kopf operator, as a project would write it: a create handler that sets status, and a delete
handler (so kopf puts its finalizer on every object) that a test can hold back."""

from __future__ import annotations

import threading
from typing import Any

import kopf


def build_registry(group: str, server: str, token: str, ca_pem: bytes | None,
                   release: threading.Event) -> kopf.OperatorRegistry:
    """The operator's handlers in a registry of their own (several operators may run in one process)."""
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(server=server, scheme="Bearer", token=token,
                                   ca_data=ca_pem, default_namespace="default")

    @kopf.on.create(group, "v1", "widgets", id="created", registry=registry)
    def created(spec: kopf.Spec, name: str, patch: kopf.Patch, **_: Any) -> dict[str, Any]:
        patch.status["phase"] = "Ready"
        patch.status["replicas"] = spec.get("replicas", 1)
        return {"message": f"hello {name}"}

    @kopf.on.delete(group, "v1", "widgets", id="deleted", registry=registry)
    def deleted(name: str, **_: Any) -> None:
        if not release.wait(timeout=1):
            raise kopf.TemporaryError(f"{name} is held by the test", delay=0.2)

    return registry
