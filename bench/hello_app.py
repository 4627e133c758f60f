"""The throughput ceiling: a bare hello-world ASGI app on the stack kubeproof uses.

Same uvicorn settings as ``kubeproof.cluster.Cluster.start`` (kubeproof's httptools protocol that writes
a response's head and body together, the same event loop, no access log, no lifespan, a pre-bound
socket with TCP_NODELAY) and the same response shape (a start message with
content-type, content-length and cache-control, then one body message), so the difference to kubeproof's
gets/s is the cost of kubeproof's own request handling. Prints ``listening on <url>`` when ready.

    python bench/hello_app.py [--tls]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import uvicorn

from kubeproof.loops import close_loop, new_server_loop
from kubeproof.server.protocol import CoalescingHttpToolsProtocol

Message = MutableMapping[str, Any]

BODY = b'{"hello":"world"}\n'
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
    (b"cache-control", b"no-cache, private"),
]


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        scheme = "https" if self.config.is_ssl else "http"
        print(f"hello ASGI listening on {scheme}://127.0.0.1:{self.config.port}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throwaway certificate")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    kwargs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-hello-") as tmp:
        if args.tls:
            from kubeproof.server.certs import make_certificates

            files = make_certificates(Path(tmp), ["127.0.0.1", "localhost"])
            kwargs = {"ssl_certfile": str(files.cert_path), "ssl_keyfile": str(files.key_path)}
        config = uvicorn.Config(
            app,
            port=port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # nothing stands in front of it: no X-Forwarded-* to honour
            http=CoalescingHttpToolsProtocol,
            timeout_keep_alive=120,
            timeout_graceful_shutdown=2,
            backlog=1024,
            **kwargs,
        )
        loop = new_server_loop()
        try:
            loop.run_until_complete(_Server(config).serve(sockets=[sock]))
        finally:
            close_loop(loop)
    sys.exit(0)


if __name__ == "__main__":
    main()
