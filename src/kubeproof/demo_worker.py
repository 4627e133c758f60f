"""The worker the demo runs as a process-backed pod: HTTP on ``$POD_IP:8080`` answering who it is."""

from __future__ import annotations

import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {os.environ.get('POD_NAME', '?')} at {os.environ.get('POD_IP', '?')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.command} {self.path} -> 200", flush=True)


def main() -> None:
    address = (os.environ["POD_IP"], 8080)
    print(f"worker {os.environ.get('POD_NAME')} listening on {address[0]}:{address[1]}", flush=True)
    sys.stdout.flush()
    ThreadingHTTPServer(address, _Handler).serve_forever()


if __name__ == "__main__":
    main()
