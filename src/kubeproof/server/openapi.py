"""OpenAPI documents: ``/openapi/v3`` (index and per-group-version) and ``/openapi/v2``.

Hook only for now: every path answers None, which the HTTP front turns into Go's plain 404.
"""

from __future__ import annotations

from kubeproof.server.registry.generic import Registry


def document(registry: Registry, path: str, query: dict[str, list[str]], accept: str) -> tuple[int, bytes, str] | None:
    """The response (status, body, content type) for an OpenAPI path, or None for 404."""
    return None
