"""A raw HTTP client for wire tests: bytes and headers exactly as the server sent them.

Only the standard library, so nothing between the test and the socket reinterprets the answer.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Upper bound for any single wait; the server answers in milliseconds.
DEADLINE = 10.0


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.content_type!r}, {self.body[:500]!r})"


def status_of(response: Response, code: int) -> dict[str, object]:
    """The Status body of an error response, after the checks every JSON error must pass."""
    assert response.status == code, response
    assert response.content_type == "application/json", response.headers  # exactly: lightkube depends on it
    assert response.body.endswith(b"}\n"), response.body
    status = response.json()
    assert status["kind"] == "Status"
    assert status["apiVersion"] == "v1"
    assert status["metadata"] == {}
    assert status["status"] == "Failure"
    assert status["code"] == code
    return status  # type: ignore[no-any-return]


def query(**params: Any) -> str:
    """``?a=1&b=2`` from keyword arguments (None values are left out)."""
    pairs = [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items() if v is not None]
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


@dataclass
class API:
    """Requests to one server with its bearer token. Every response is remembered in ``responses``."""

    host: str
    port: int
    token: str
    responses: list[tuple[str, str, int]] = field(default_factory=list)

    def connect(self, timeout: float = DEADLINE) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None,
                content_type: str | None = None, token: str | None = "default") -> Response:
        sent: dict[str, str] = {}
        if token == "default":
            token = self.token
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data: bytes | None
        if body is None or isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if content_type is not None:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        conn = self.connect()
        try:
            conn.request(method, path, body=data, headers=sent)
            raw = conn.getresponse()
            response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, raw.read())
        finally:
            conn.close()
        self.responses.append((method, path, response.status))
        return response

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> Response:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: Any, patch_type: str = "application/merge-patch+json", **kw: Any) -> Response:
        return self.request("PATCH", path, body, content_type=patch_type, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("DELETE", path, body, **kw)

    def watch(self, path: str, timeout: float = DEADLINE) -> Watch:
        return Watch(self, path, timeout)

    # -- shortcuts for the common objects --------------------------------------------------------

    def create_namespace(self, name: str) -> dict[str, Any]:
        response = self.post("/api/v1/namespaces", {"metadata": {"name": name}})
        assert response.status == 201, response
        return response.json()  # type: ignore[no-any-return]

    def create_configmap(self, ns: str, name: str, data: dict[str, str] | None = None,
                         **metadata: Any) -> dict[str, Any]:
        body = {"metadata": {"name": name, **metadata}, "data": data or {"k": "v"}}
        response = self.post(f"/api/v1/namespaces/{ns}/configmaps", body)
        assert response.status == 201, response
        return response.json()  # type: ignore[no-any-return]


class Watch:
    """One streaming watch request. ``next_event`` reads a line with a deadline."""

    def __init__(self, api: API, path: str, timeout: float) -> None:
        self.conn = api.connect(timeout)
        headers = {"Authorization": f"Bearer {api.token}"}
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        api.responses.append(("GET", path, self.status))
        self.lines: list[bytes] = []

    def next_line(self, timeout: float = DEADLINE) -> bytes:
        """The next raw line ('' once the server has ended the stream)."""
        assert self.conn.sock is not None
        self.conn.sock.settimeout(timeout)
        line = self.response.readline()
        self.lines.append(line)
        return line

    def next_event(self, timeout: float = DEADLINE) -> dict[str, Any]:
        line = self.next_line(timeout)
        assert line, f"the watch ended; lines so far: {self.lines}"
        assert line.endswith(b"\n"), line
        event = json.loads(line)
        assert set(event) == {"type", "object"}, event
        return event  # type: ignore[no-any-return]

    def events_until(self, stop: Callable[[dict[str, Any]], bool], limit: int = 1000) -> list[dict[str, Any]]:
        """Events up to and including the first for which ``stop`` is true."""
        events = []
        for _ in range(limit):
            event = self.next_event()
            events.append(event)
            if stop(event):
                return events
        raise AssertionError(f"no matching event in {limit}: {events}")

    def read_to_end(self, timeout: float = DEADLINE) -> list[bytes]:
        """The remaining lines, until the server closes the stream."""
        lines = []
        while line := self.next_line(timeout):
            lines.append(line)
        return lines

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def raw_exchange(host: str, port: int, data: bytes, timeout: float = DEADLINE) -> bytes:
    """Send bytes as they are and read the whole answer (the request should ask ``Connection: close``)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def parse_raw_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def iter_chunks(body: bytes) -> Iterator[bytes]:
    """The chunks of a chunked transfer-encoded body."""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return
        yield rest[:size]
        body = rest[size + 2:]
