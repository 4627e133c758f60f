"""``GET /api/v1/namespaces/{ns}/pods/{name}/log``: the pods/log subresource (``pkg/registry/core/pod/rest/log.go``).

The apiserver validates ``PodLogOptions`` and the container name, then streams what the node's kubelet
serves; here the "kubelet" is the process runtime. A pod it does not run (a simulated container, or a pod
not yet scheduled) has an empty log, as an unscheduled pod has on a real cluster.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from kubeproof.runtime.logs import LogOptions, parse_time
from kubeproof.runtime.process import LogError
from kubeproof.server import errors
from kubeproof.server.validation import field

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from kubeproof.server.http import APIServer, Request, ResourceRequest, Responder

Obj = dict[str, Any]
Query = Mapping[str, list[str]]


class LogSource(Protocol):
    """What serves container logs (``kubeproof.runtime.ProcessRuntime``)."""

    def has_pod(self, uid: str) -> bool: ...

    def read_log(self, uid: str, container: str, options: LogOptions, previous: bool = False) -> bytes: ...

    def follow_log(self, uid: str, container: str, options: LogOptions, previous: bool,
                   gone: asyncio.Event) -> AsyncGenerator[bytes, None]: ...


def _flag(query: Query, name: str) -> bool:
    values = query.get(name)
    return values is not None and len(values) > 0 and values[0] in ("true", "1", "True")


def _int(query: Query, name: str) -> int | None:
    values = query.get(name)
    if not values or values[0] == "":
        return None
    try:
        return int(values[0])
    except ValueError:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{values[0]}": invalid syntax') from None


def parse_options(query: Query, pod_name: str) -> tuple[LogOptions, str, bool, bool]:
    """``PodLogOptions`` from the query, validated as ``ValidatePodLogOptions``; (options, container,
    follow, previous)."""
    tail, limit, since_seconds = _int(query, "tailLines"), _int(query, "limitBytes"), _int(query, "sinceSeconds")
    since_time_raw = (query.get("sinceTime") or [""])[0]
    problems: list[field.FieldError] = []
    if tail is not None and tail < 0:
        problems.append(field.invalid("tailLines", tail, "must be greater than or equal to 0"))
    if limit is not None and limit < 1:
        problems.append(field.invalid("limitBytes", limit, "must be greater than 0"))
    if since_seconds is not None and since_time_raw:
        problems.append(field.forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif since_seconds is not None and since_seconds < 1:
        problems.append(field.invalid("sinceSeconds", since_seconds, "must be greater than 0"))
    if problems:
        raise errors.invalid("PodLogOptions", "", pod_name, problems)
    since: float | None = None
    if since_seconds is not None:
        since = time.time() - since_seconds
    elif since_time_raw:
        try:
            since = parse_time(since_time_raw)
        except ValueError:
            raise errors.bad_request(f'parsing time "{since_time_raw}" as "2006-01-02T15:04:05Z07:00": '
                                     "cannot parse") from None
    options = LogOptions(timestamps=_flag(query, "timestamps"), tail_lines=tail, since=since, limit_bytes=limit)
    container = (query.get("container") or [""])[0]
    return options, container, _flag(query, "follow"), _flag(query, "previous")


def container_names(pod: Obj) -> list[str]:
    """``podutil.VisitContainers`` order: init containers, containers, ephemeral containers."""
    spec = pod.get("spec") or {}
    return [str(c.get("name", "")) for key in ("initContainers", "containers", "ephemeralContainers")
            for c in spec.get(key) or []]


def validate_container(container: str, pod: Obj) -> str:
    """``validateContainer`` of the pod strategy, with its messages."""
    name = (pod.get("metadata") or {}).get("name", "")
    if not container:
        regular = (pod.get("spec") or {}).get("containers") or []
        if len(regular) == 1:
            return str(regular[0].get("name", ""))
        if not regular:
            raise errors.bad_request(f"a container name must be specified for pod {name}")
        raise errors.bad_request(f"a container name must be specified for pod {name}, choose one of: "
                                 f"[{' '.join(container_names(pod))}]")
    if container not in container_names(pod):
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    return container


async def serve(api: APIServer, request: Request, out: Responder, info: ResourceRequest) -> None:
    options, container, follow, previous = parse_options(request.query, info.name)
    pod = api.registry.get(info.rt, info.namespace or "", info.name)
    container = validate_container(container, pod)
    source: LogSource | None = getattr(api, "pod_logs", None)
    uid = str((pod.get("metadata") or {}).get("uid", ""))
    if not (pod.get("spec") or {}).get("nodeName") or source is None or not source.has_pod(uid):
        await out.raw(200, b"", "text/plain")
        return
    if not follow:
        try:
            body = source.read_log(uid, container, options, previous)
        except LogError as exc:
            raise errors.bad_request(str(exc)) from None
        await out.raw(200, body, "text/plain")
        return
    gone = asyncio.Event()
    try:
        chunks = source.follow_log(uid, container, options, previous, gone)
    except LogError as exc:
        raise errors.bad_request(str(exc)) from None
    async with api.streaming(request, out, "text/plain", gone):
        try:
            async for chunk in chunks:
                if gone.is_set():
                    break
                await out.chunk(chunk)
        finally:
            await chunks.aclose()
