"""uvicorn's httptools protocol, with each response's head and body leaving in one socket write.

uvicorn writes the status line and headers when the app sends ``http.response.start`` and the body
with the next message: two ``send`` system calls, and two TCP segments with ``TCP_NODELAY``, for every
response. On loopback those writes are most of the server's time per request (about half, measured
with py-spy under ``wrk``), so the head is held until the first body write, or until the response
completes (a HEAD response has no body write), and goes out with it. A streamed response (a watch)
still has its headers on the wire at once: its first body message, empty, flushes them.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


class _HeadHoldingTransport:
    """The transport one request/response cycle writes to."""

    __slots__ = ("_cycle", "_head_seen", "_held", "_transport")

    def __init__(self, transport: Any, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle = cycle
        self._held: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        if self._held is not None:
            data, self._held = self._held + data, None
        elif not self._head_seen and self._cycle.response_started:
            # The first write after the response started is its head ("100 Continue", written
            # before, is never held: the client waits for it before sending the body).
            self._head_seen = True
            self._held = data
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._held is not None:
            data, self._held = self._held, None
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        transport = _HeadHoldingTransport(cycle.transport, cycle)
        cycle.transport = cast(asyncio.Transport, transport)  # duck-typed: every other call passes through
        on_response = cycle.on_response

        def completed() -> None:
            transport.flush()
            on_response()

        cycle.on_response = completed
        super()._start_asgi_task(cycle, app)
