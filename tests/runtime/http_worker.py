"""A tiny process-backed pod for the tests: stdlib HTTP on $POD_IP:$PORT (or the first argument).

GET /            "hello from <POD_NAME>"
GET /health      200, or 500 after POST /fail (until POST /recover)
GET /env?name=X  the value of environment variable X (404 when unset)
GET /file?path=P the content of $KUBEPROOF_MOUNT_ROOT/P (404 when missing)
GET /say?text=T  prints T to stdout (a log line written on demand)
GET /pid         its process id

SIGTERM prints "got SIGTERM" and exits 0, unless IGNORE_SIGTERM=1 (then only SIGKILL ends it).
"""

from __future__ import annotations

import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

healthy = True


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def reply(self, code: int, text: str) -> None:
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/":
            self.reply(200, f"hello from {os.environ.get('POD_NAME', '')}")
        elif url.path == "/health":
            self.reply(200 if healthy else 500, "ok" if healthy else "failing")
        elif url.path == "/env":
            value = os.environ.get(query.get("name", ""))
            self.reply(200 if value is not None else 404, value or "")
        elif url.path == "/file":
            path = Path(os.environ["KUBEPROOF_MOUNT_ROOT"]) / query.get("path", "").lstrip("/")
            try:
                self.reply(200, path.read_text())
            except OSError as exc:
                self.reply(404, str(exc))
        elif url.path == "/say":
            print(query.get("text", ""), flush=True)
            self.reply(200, "said")
        elif url.path == "/pid":
            self.reply(200, str(os.getpid()))
        else:
            self.reply(404, "not found")

    def do_POST(self) -> None:
        global healthy
        if self.path == "/fail":
            healthy = False
        elif self.path == "/recover":
            healthy = True
        self.reply(200, "ok")


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "8080"))
    host = os.environ["POD_IP"]

    def on_term(signum: int, frame: object) -> None:
        print("got SIGTERM", flush=True)
        if os.environ.get("IGNORE_SIGTERM") != "1":
            os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    server = ThreadingHTTPServer((host, port), Handler)
    print(f"worker listening on {host}:{port}", flush=True)
    print("a line on stderr", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
