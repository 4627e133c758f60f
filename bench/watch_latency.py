"""Benchmark 5: watch event latency with 1,000 open watches on one resource.

A ``kubeproof serve --http`` process serves 1,000 watches of configmaps in one namespace, each on its own
HTTP connection, all held by this process in one epoll loop of non-blocking sockets (plain ``recv``, no
asyncio, so the client adds little: a few microseconds per socket and event). The writer's connection is
in the same loop. For each of N changes (a create of a configmap ``ev-NNNNN``), one at a time: send the
POST, note when its response has been read completely ("the write returned"), then note when each
watcher's stream contains the event. Latency = receipt time - write-returned time, pooled over all
watchers and changes (N x 1,000 samples); the next change starts when every watcher has the previous one.

The watches start at the resourceVersion of a list taken before they open, and warm-up events must
reach all of them before measuring: the first makes sure every watch is registered, and in the fan-out
shape 20 in all carry every connection past TCP's quick-ack phase. Linux acknowledges each of a new
connection's first 16 segments at once (``TCP_MAX_QUICKACKS``) and delays acknowledgements after that; on
loopback the receiver's ACK is processed inside the sender's ``send``, so on a fresh connection each send
costs about 1.5 x as much (7.1 against 4.9 us per send in the floor below, measured on this machine). Watches
live for minutes (kube-apiserver's default timeout is 30-60 minutes), so the budget figure is taken on warm
connections, and the 2nd to 20th events on fresh ones are reported beside it as ``cold_connections``.
Both clocks are this process's ``time.monotonic()``. Also reported: the POST latency with the 1,000
watches open against the same POSTs with none, because the store offers each event to every watcher
before the write's response goes out.

Two shapes of the same 1,000 open watches are measured:

- **fan-out**: every watch matches every change, so each write is delivered 1,000 times (the worst case:
  the last watcher waits for the other 999 writes to go out);
- **selective**: watch ``i`` has ``labelSelector=w in (i,all)`` and each change is labelled for one watch
  (``w=<k>``, k spread over all of them), so each write is delivered once while 1,000 watches are open
  and the other 999 must filter it out (the shape of many controllers each watching its own objects).

Two floors, with no server at all, show what one thread can do on this machine: ``send_floor`` times
1,000 bare ``socket.send`` calls while nothing reads, and ``live_floor`` sends the same way from another
process to 1,000 readers waiting in an epoll loop like this one, measured like the watches (each send
then also wakes a reader, which makes it dearer). The fan-out's p99 is best read against the second.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from common import HOST, TOKEN, Client, ServerProcess, kubeproof_server, log, percentile, raise_fd_limit, summary_ms

NAMESPACE = "watch-bench"
WATCHERS = 1000


class _Conn:
    __slots__ = ("buf", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()


def _post_bytes(name: str, label: str | None = None) -> bytes:
    meta: dict[str, Any] = {"name": name}
    if label is not None:
        meta["labels"] = {"w": label}
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"n": name}}).encode()
    head = (f"POST /api/v1/namespaces/{NAMESPACE}/configmaps HTTP/1.1\r\nHost: {HOST}\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def _response_complete(buf: bytearray) -> bool:
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = bytes(buf[:end]).lower()
    if not head.startswith(b"http/1.1 201"):
        raise RuntimeError(f"create failed: {bytes(buf[:300])!r}")
    for line in head.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(buf) - end - 4 >= int(line.split(b":")[1])
    raise RuntimeError("create response without content-length")


def _open_watchers(port: int, rv: str, count: int, selective: bool) -> list[_Conn]:
    conns: list[_Conn] = []
    for i in range(count):
        selector = f"&labelSelector=w+in+%28{i}%2Call%29" if selective else ""
        request = (f"GET /api/v1/namespaces/{NAMESPACE}/configmaps?watch=1&resourceVersion={rv}{selector} "
                   f"HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {TOKEN}\r\n"
                   f"Accept: application/json\r\n\r\n").encode()
        sock = socket.create_connection((HOST, port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request)
        sock.setblocking(False)
        conns.append(_Conn(sock))
    return conns


class _Loop:
    """One epoll loop over the watcher sockets and the writer's socket."""

    def __init__(self, watchers: list[_Conn], writer: _Conn) -> None:
        self.ep = select.epoll()
        self.by_fd: dict[int, _Conn] = {}
        for conn in watchers:
            self.ep.register(conn.sock.fileno(), select.EPOLLIN)
            self.by_fd[conn.sock.fileno()] = conn
        self.writer = writer
        self.ep.register(writer.sock.fileno(), select.EPOLLIN)

    def change(self, name: str, timeout: float = 10.0, label: str | None = None,
               expect: _Conn | None = None) -> tuple[float, float, list[float]]:
        """Create ``name`` (labelled ``w=label``); return (sent, returned, receipt times of every watcher, or
        of ``expect`` alone: then any other watcher receiving it is an error)."""
        marker = f'"name":"{name}"'.encode()
        writer, writer_fd = self.writer, self.writer.sock.fileno()
        writer.buf.clear()
        received: dict[int, float] = {}
        returned = 0.0
        sent = time.monotonic()
        writer.sock.sendall(_post_bytes(name, label))
        deadline = sent + timeout
        total = len(self.by_fd) if expect is None else 1
        while (len(received) < total or not returned) and time.monotonic() < deadline:
            events = self.ep.poll(1.0)
            # The writer first: a watcher's bytes read in the same batch must not count as arriving earlier.
            events.sort(key=lambda item: item[0] != writer_fd)
            for fd, _ in events:
                if fd == writer_fd:
                    writer.buf += writer.sock.recv(65536)
                    if not returned and _response_complete(writer.buf):
                        returned = time.monotonic()
                    continue
                conn = self.by_fd[fd]
                data = conn.sock.recv(65536)
                now = time.monotonic()
                if not data:
                    raise RuntimeError("a watch stream ended early")
                conn.buf += data
                if fd not in received and marker in conn.buf:
                    if expect is not None and conn is not expect:
                        raise RuntimeError(f"{name} reached a watch whose selector does not match it")
                    received[fd] = now
                    conn.buf.clear()
        if len(received) < total or not returned:
            raise RuntimeError(f"{name}: {len(received)}/{total} watchers got the event within {timeout} s")
        return sent, returned, list(received.values())

    def close(self) -> None:
        self.ep.close()


#: Events every connection gets before the fan-out is measured (the first 16 segments are quick-acked).
WARM_EVENTS = 20


def measure(watchers_count: int, changes: int, selective: bool = False,
            server: Callable[[], ServerProcess] | None = None) -> dict[str, Any]:
    """One fresh server (``server()``, else this checkout's ``kubeproof serve --http``), ``watchers_count``
    watches, ``changes`` creates one after another; ``selective``: each change matches one watch (see the
    module's docstring)."""
    kp = (server or (lambda: kubeproof_server(tls=False)))().start()
    try:
        client = Client(kp.port)
        client.must("POST", "/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
        writer = _Conn(socket.create_connection((HOST, kp.port), timeout=10))
        writer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer.sock.setblocking(False)
        # The same POSTs with no watch open, for comparison.
        no_watch: list[float] = []
        bare = _Loop([], writer)
        for i in range(changes):
            sent, returned, _ = bare.change(f"pre-{i:05d}")
            no_watch.append(returned - sent)
        bare.close()
        rv = client.must("GET", f"/api/v1/namespaces/{NAMESPACE}/configmaps")["metadata"]["resourceVersion"]
        client.close()
        opened = time.perf_counter()
        watchers = _open_watchers(kp.port, rv, watchers_count, selective)
        loop = _Loop(watchers, writer)
        try:
            loop.change("warm-00000", timeout=60.0, label="all" if selective else None)
            ready = time.perf_counter() - opened
            cold: list[float] = []
            for i in range(1, 1 if selective else WARM_EVENTS):
                _, returned, receipts = loop.change(f"warm-{i:05d}")
                cold.extend(max(0.0, t - returned) for t in receipts)
                time.sleep(0.005)
            latencies: list[float] = []
            from_sent: list[float] = []
            writes: list[float] = []
            first: list[float] = []
            last: list[float] = []
            for i in range(changes):
                if selective:
                    k = (i * 7919) % watchers_count  # spread over the watches
                    sent, returned, receipts = loop.change(f"ev-{i:05d}", label=str(k), expect=watchers[k])
                else:
                    sent, returned, receipts = loop.change(f"ev-{i:05d}")
                writes.append(returned - sent)
                latencies.extend(max(0.0, t - returned) for t in receipts)
                from_sent.extend(t - sent for t in receipts)
                first.append(min(receipts) - returned)
                last.append(max(receipts) - returned)
                time.sleep(0.005)
        finally:
            loop.close()
            for conn in [*watchers, writer]:
                conn.sock.close()
    finally:
        stop_start = time.perf_counter()
        kp.stop()
        stop_seconds = time.perf_counter() - stop_start
    shape = "selective" if selective else "fan-out"
    p50 = percentile(latencies, 50) * 1000
    log(f"  watch ({shape}): {changes} changes x {watchers_count} watchers: p50 {p50:.2f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.2f} ms")
    return {
        "shape": shape,
        "watchers": watchers_count,
        "changes": changes,
        "samples": len(latencies),
        "open_and_sync_watchers_s": round(ready, 3),
        "warm_events_before_measuring": 1 if selective else WARM_EVENTS,
        "latency_from_write_returned": summary_ms(latencies),
        "cold_connections": summary_ms(cold) if cold else None,
        "latency_from_write_sent": summary_ms(from_sent),
        "first_watcher_after_write_returned": summary_ms(first),
        "last_watcher_after_write_returned": summary_ms(last),
        "post_latency_with_watchers": summary_ms(writes),
        "post_latency_without_watchers": summary_ms(no_watch),
        "server_stop_after_sigint_s": round(stop_seconds, 3),
        "server_exceptions_logged": kp.errors,
    }


def send_floor(count: int, rounds: int) -> dict[str, Any]:
    """The machine's floor for a fan-out: one thread writes one watch-event-sized chunk to each of
    ``count`` loopback TCP connections with plain ``socket.send`` (no server, no framework), while this
    process's other end reads nothing until the round is over. A server writing from one thread cannot
    reach its last watcher sooner than this. As for the watches, the first ``WARM_EVENTS`` rounds are
    reported apart (``cold_connections``) and the floor is taken on warm connections."""
    listener = socket.create_server((HOST, 0), backlog=count + 16)
    port = listener.getsockname()[1]
    readers: list[socket.socket] = []
    writers: list[socket.socket] = []
    event = json.dumps({"type": "ADDED", "object": {"pad": "x" * 300}}).encode() + b"\n"
    chunk = b"%x\r\n" % len(event) + event + b"\r\n"  # as a chunked watch stream frames one event
    try:
        for _ in range(count):
            reader = socket.create_connection((HOST, port), timeout=10)
            writer, _ = listener.accept()
            for sock in (reader, writer):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            readers.append(reader)
            writers.append(writer)
        spans: list[float] = []
        for _ in range(WARM_EVENTS + rounds):
            start = time.perf_counter()
            for writer in writers:
                writer.send(chunk)
            spans.append(time.perf_counter() - start)
            for reader in readers:
                reader.recv(65536)
        cold, spans = spans[:WARM_EVENTS], spans[WARM_EVENTS:]
    finally:
        for sock in [*readers, *writers, listener]:
            sock.close()
    result = summary_ms(spans)
    log(f"  floor: {count} bare socket sends from one thread: median {result['median_ms']:.2f} ms")
    return {"connections": count, "rounds": rounds, "chunk_bytes": len(chunk), "all_sends": result,
            "per_send_us": round(float(result["median_ms"]) * 1000 / count, 2),
            "cold_connections": summary_ms(cold)}


_SENDER = """
import socket, sys
count, chunk = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
listener = socket.create_server(("127.0.0.1", 0), backlog=count + 16)
print(listener.getsockname()[1], flush=True)
writers = []
for _ in range(count):
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    writers.append(conn)
while sys.stdin.buffer.read(1) == b"g":
    for conn in writers:
        conn.send(chunk)
"""


def live_floor(count: int, changes: int) -> dict[str, Any]:
    """The floor measured the way the watches are: a separate process (no server, no framework) writes one
    chunk to each of ``count`` connections with plain ``socket.send`` from one thread whenever this process
    asks, and this process receives them in the same kind of epoll loop as the watches. Latency = receipt
    - the moment just before asking (so it includes the one-byte pipe write that asks, tens of
    microseconds), pooled over ``changes`` rounds after ``WARM_EVENTS`` warm-up rounds. Unlike
    ``send_floor``, every send here wakes a reader that is waiting, as a server's sends to watchers do."""
    event = json.dumps({"type": "ADDED", "object": {"pad": "x" * 300}}).encode() + b"\n"
    chunk = b"%x\r\n" % len(event) + event + b"\r\n"
    sender = subprocess.Popen([sys.executable, "-c", _SENDER, str(count), chunk.hex()],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert sender.stdin is not None and sender.stdout is not None
    conns: list[_Conn] = []
    ep = select.epoll()
    try:
        port = int(sender.stdout.readline())
        for _ in range(count):
            conn = _Conn(socket.create_connection((HOST, port), timeout=10))
            conn.sock.setblocking(False)
            conns.append(conn)
        by_fd = {conn.sock.fileno(): conn for conn in conns}
        for fd in by_fd:
            ep.register(fd, select.EPOLLIN)
        marker = b'"ADDED"'
        latencies: list[float] = []
        for i in range(WARM_EVENTS + changes):
            received: dict[int, float] = {}
            start = time.monotonic()
            sender.stdin.write(b"g")
            sender.stdin.flush()
            while len(received) < count:
                events = ep.poll(10.0)
                if not events:
                    raise RuntimeError(f"live floor: {len(received)}/{count} chunks arrived within 10 s")
                for fd, _ in events:
                    conn = by_fd[fd]
                    conn.buf += conn.sock.recv(65536)
                    now = time.monotonic()
                    if fd not in received and marker in conn.buf:
                        received[fd] = now
                        conn.buf.clear()
            if i >= WARM_EVENTS:
                latencies.extend(t - start for t in received.values())
            time.sleep(0.005)
    finally:
        ep.close()
        for conn in conns:
            conn.sock.close()
        sender.stdin.close()
        sender.wait(timeout=10)
    result = summary_ms(latencies)
    log(f"  live floor: {count} bare sends from one thread to waiting readers: p50 {result['median_ms']:.2f} ms, "
        f"p99 {result['p99_ms']:.2f} ms")
    return {"connections": count, "changes": changes, "latency": result}


def run(quick: bool) -> dict[str, Any]:
    raise_fd_limit()
    changes = 20 if quick else 100
    smaller = measure(100, changes)
    result = measure(WATCHERS, changes)
    result["with_100_watchers"] = smaller
    result["selective"] = measure(WATCHERS, changes * 5, selective=True)
    result["send_floor"] = send_floor(WATCHERS, 10 if quick else 30)
    result["live_floor"] = live_floor(WATCHERS, changes)
    return result
