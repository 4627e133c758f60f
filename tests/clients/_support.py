"""Helpers for the client tests: waiting with a deadline, and reading Status bodies from errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from kubernetes import client as _k8s_client

from kubeproof.testing import eventually, eventually_async

T = TypeVar("T")

# The official client builds its (pydantic) API classes on first use, which takes about a second (much
# more on a loaded machine). Build them at collection time, so that no test's timeout pays for it.
for _api in ("CoreV1Api", "AppsV1Api", "RbacAuthorizationV1Api", "BatchV1Api", "VersionApi", "ApisApi"):
    getattr(_k8s_client, _api)

#: Upper bound for any wait in these tests; the server answers in milliseconds.
DEADLINE = 5.0


def unique_name(prefix: str = "t") -> str:
    """A DNS-1123 name no other test (or xdist worker) uses: for cluster-scoped objects."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(probe: Callable[[], T | None], timeout: float = DEADLINE, what: str = "condition") -> T:
    """Call ``probe`` until it returns something truthy (returned): the toolkit's ``eventually``."""
    return eventually(probe, matcher=bool, timeout=timeout, description=what)  # type: ignore[return-value]


async def async_wait_until(
    probe: Callable[[], Awaitable[T | None]], timeout: float = DEADLINE, what: str = "condition"
) -> T:
    return await eventually_async(probe, matcher=bool, timeout=timeout, description=what)  # type: ignore[return-value]


def status_body(exc: Any) -> dict[str, Any]:
    """The ``Status`` object of an official-client ``ApiException`` (or a dynamic-client error)."""
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode()
    data = json.loads(body)
    assert isinstance(data, dict)
    return data
