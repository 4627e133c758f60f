"""HTTP/1.1 on one keep-alive connection, byte for byte: the server writes a response's head and body
together (server/protocol.py), which must not change what a client reads."""

from __future__ import annotations

import json
import socket

from kubeproof import Cluster
from kubeproof.server.protocol import _HeadHoldingTransport

from ._http import API, DEADLINE, unique


def _connect(cluster: Cluster) -> socket.socket:
    sock = socket.create_connection((cluster.host, cluster.port), timeout=DEADLINE)
    return sock


def _read_response(sock: socket.socket, buffer: bytearray,
                   has_body: bool = True) -> tuple[bytes, dict[str, str], bytes]:
    """One response off the connection; ``buffer`` keeps what arrived beyond it."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        assert data, f"connection closed mid-head: {bytes(buffer)!r}"
        buffer += data
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    headers = {k.decode().lower(): v.decode() for k, _, v in (line.partition(b": ") for line in lines)}
    length = int(headers.get("content-length", "0")) if has_body else 0
    while len(rest) < length:
        data = sock.recv(65536)
        assert data, "connection closed mid-body"
        rest += data
    buffer[:] = rest[length:]
    return status_line, headers, rest[:length]


def _request(method: str, path: str, token: str, body: bytes = b"", extra: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n{extra}"
    if body or method in ("POST", "PUT"):
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def test_get_head_and_get_again_on_one_connection(cluster: Cluster, api: API, ns: str) -> None:
    """A HEAD answer has no body write at all: its held head must still go out, and the connection must
    stay in step for the requests after it."""
    name = unique("cm")
    api.post(f"/api/v1/namespaces/{ns}/configmaps",
             {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
    path = f"/api/v1/namespaces/{ns}/configmaps/{name}"
    with _connect(cluster) as sock:
        buffer = bytearray()
        sock.sendall(_request("GET", path, cluster.token))
        status, headers, body = _read_response(sock, buffer)
        assert status == b"HTTP/1.1 200 OK"
        assert int(headers["content-length"]) == len(body)
        assert json.loads(body)["data"] == {"k": "v"}

        sock.sendall(_request("HEAD", path, cluster.token))
        status, head_headers, _ = _read_response(sock, buffer, has_body=False)
        assert status == b"HTTP/1.1 200 OK"
        assert head_headers["content-length"] == headers["content-length"]

        # Two requests written at once (pipelined) come back in order, whole.
        sock.sendall(_request("GET", path, cluster.token) + _request("GET", "/version", cluster.token))
        first = _read_response(sock, buffer)
        second = _read_response(sock, buffer)
        assert json.loads(first[2])["metadata"]["name"] == name
        assert "gitVersion" in json.loads(second[2])
        assert not buffer


def test_expect_100_continue_is_answered_before_the_body(cluster: Cluster, ns: str) -> None:
    """curl sends ``Expect: 100-continue`` for bodies over 1 KiB and waits for the interim answer; a held
    write there would leave it waiting."""
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": unique("cm")},
                       "data": {"big": "x" * 2048}}).encode()
    with _connect(cluster) as sock:
        head = _request("POST", f"/api/v1/namespaces/{ns}/configmaps", cluster.token, body,
                        extra="Expect: 100-continue\r\n")
        sock.sendall(head[: -len(body)])
        interim = b""
        while b"\r\n\r\n" not in interim:
            data = sock.recv(65536)
            assert data, "connection closed before 100 Continue"
            interim += data
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
        buffer = bytearray(interim[len(b"HTTP/1.1 100 Continue\r\n\r\n"):])
        sock.sendall(body)
        status, _, answer = _read_response(sock, buffer)
        assert status == b"HTTP/1.1 201 Created", answer
        assert json.loads(answer)["data"]["big"] == "x" * 2048


def test_watch_headers_leave_before_any_event(cluster: Cluster, ns: str) -> None:
    """A watch's head is flushed by its first (empty) body write, not held until an event comes."""
    with _connect(cluster) as sock:
        sock.sendall(_request("GET", f"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion=",
                              cluster.token))
        received = b""
        while b"\r\n\r\n" not in received:
            data = sock.recv(65536)
            assert data, "connection closed before the watch's head"
            received += data
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"transfer-encoding: chunked" in received.lower()


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class _Cycle:
    response_started = False


def test_head_and_body_leave_in_one_write() -> None:
    """The point of the wrapper: one write per plain response, and nothing held or reordered."""
    recorder, cycle = _Recorder(), _Cycle()
    transport = _HeadHoldingTransport(recorder, cycle)  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response starts: at once
    assert recorder.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.response_started = True
    transport.write(b"HEAD")
    assert len(recorder.writes) == 1
    transport.write(b"BODY")
    transport.write(b"MORE")
    assert recorder.writes[1:] == [b"HEADBODY", b"MORE"]
    assert transport.is_closing() is False  # everything else passes through

    held_then_closed, cycle2 = _Recorder(), _Cycle()
    transport = _HeadHoldingTransport(held_then_closed, cycle2)  # type: ignore[arg-type]
    cycle2.response_started = True
    transport.write(b"HEAD")
    transport.close()
    assert held_then_closed.writes == [b"HEAD"] and held_then_closed.closed
