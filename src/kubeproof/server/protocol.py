"""uvicorn's httptools protocol, with each response's head and body leaving in one socket write.

uvicorn writes the status line and headers when the app sends ``http.response.start`` and the body
with the next message: two ``send`` system calls, and two TCP segments with ``TCP_NODELAY``, for every
response. On loopback those writes are most of the server's time per request (about half, measured
with py-spy under ``wrk``), so the head is held until the first body write, or until the response
completes (a HEAD response has no body write), and goes out with it. A streamed response (a watch)
still has its headers on the wire at once: its first body message, empty, flushes them.

A streamed response can also write a body chunk synchronously, through the ASGI scope extension
``kubeproof.write_chunk`` (its ``write``): a callable per request that frames and writes the chunk at
once, or answers False when it must go through ``send`` (headers still held, response finished, client
gone, transport closing or over its high-water mark). A watch event for 1,000 watchers is then 1,000
such writes from one callback instead of 1,000 task wake-ups, each through ``send`` (server/watch.py).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from kubeproof.server.watch import WRITE_CHUNK

_last_framed: tuple[bytes, bytes] = (b"", b"")


def _framed(data: bytes) -> bytes:
    """``data`` as one HTTP/1.1 chunk; the last one is kept, since a watch event goes to many streams."""
    global _last_framed
    last = _last_framed
    if last[0] is data:
        return last[1]
    framed = b"%x\r\n%b\r\n" % (len(data), data)
    _last_framed = (data, framed)
    return framed


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

    def write_chunk(self, data: bytes) -> bool:
        cycle = self._cycle
        if (self._held is not None or not self._head_seen or cycle.disconnected or cycle.response_complete
                or not cycle.chunked_encoding or cycle.flow.write_paused or self._transport.is_closing()):
            return False
        if data:  # an empty chunk would end the body
            self._transport.write(_framed(data))
        return True

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
        cycle.scope.setdefault("extensions", {})[WRITE_CHUNK] = {"write": transport.write_chunk}
        super()._start_asgi_task(cycle, app)
