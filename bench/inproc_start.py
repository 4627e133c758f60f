"""Benchmark 2: start and stop of an in-process ``kubeproof.Cluster``.

Runs in its own fresh process (``run.py`` starts it as ``python bench/inproc_start.py N``) and prints JSON.
For HTTPS (the default) and plain HTTP: ``Cluster()`` construction, ``start()``, then a first
``GET /api/v1/namespaces`` on a new connection (for HTTPS including the client's SSL context and the
handshake), then a first create of a configmap on that connection, then ``stop()``. The first round in
the process is reported on its own (it pays for lazy imports and loads); medians are over the others.

Where the time of ``start()`` goes is measured by wrapping, in this process only, the functions it calls
(``make_certificates``, ``write_kubeconfig``, ``uvicorn.Config.load``, ``uvicorn.Server.startup``), and
the first HTTPS start is profiled with cProfile (the caller's thread, and ``Config.load`` on the server
thread).
"""

from __future__ import annotations

import cProfile
import functools
import http.client
import io
import json
import pstats
import ssl
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

T_IMPORT = time.perf_counter()
import uvicorn  # noqa: E402

import kubeproof.cluster as cluster_module  # noqa: E402
from kubeproof.cluster import Cluster  # noqa: E402
from kubeproof.server.certs import make_certificates  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - T_IMPORT

phases: dict[str, list[float]] = defaultdict(list)
profile_thread: list[cProfile.Profile] = []


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name].append(time.perf_counter() - start)

    return wrapper


def async_timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            phases[name].append(time.perf_counter() - start)

    return wrapper


def profiled_load(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if profile_thread and not profile_thread[0].getstats():
            profile_thread[0].enable()
            try:
                return fn(*args, **kwargs)
            finally:
                profile_thread[0].disable()
        return fn(*args, **kwargs)

    return wrapper


# Wrapped with setattr (this process only) so that start() reports the time of each phase.
setattr(cluster_module, "make_certificates", timed("make_certificates", make_certificates))  # noqa: B010
setattr(Cluster, "write_kubeconfig", timed("write_kubeconfig", Cluster.write_kubeconfig))  # noqa: B010
setattr(uvicorn.Config, "load", timed("uvicorn Config.load", profiled_load(uvicorn.Config.load)))  # noqa: B010
setattr(uvicorn.Server, "startup", async_timed("uvicorn Server.startup", uvicorn.Server.startup))  # noqa: B010


def first_requests(c: Cluster) -> tuple[float, float]:
    """A GET of the namespaces on a new connection, then a first create (a configmap) on the same one."""
    headers = {"Authorization": f"Bearer {c.token}", "Content-Type": "application/json"}
    start = time.perf_counter()
    conn: http.client.HTTPConnection
    if c.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=c.ca_pem.decode())
        conn = http.client.HTTPSConnection("127.0.0.1", c.port, context=ctx, timeout=10)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=10)
    try:
        conn.request("GET", "/api/v1/namespaces", headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET /api/v1/namespaces answered {response.status}")
        got = time.perf_counter()
        body = json.dumps({"metadata": {"name": "first"}, "data": {"k": "v"}})
        conn.request("POST", "/api/v1/namespaces/default/configmaps", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 201:
            raise RuntimeError(f"POST of a configmap answered {response.status}")
        return got - start, time.perf_counter() - got
    finally:
        conn.close()


def one(tls: bool) -> dict[str, float]:
    t0 = time.perf_counter()
    c = Cluster(tls=tls)
    t1 = time.perf_counter()
    c.start()
    t2 = time.perf_counter()
    get_seconds, create_seconds = first_requests(c)
    t3 = time.perf_counter()
    c.stop()
    t4 = time.perf_counter()
    return {
        "construct": t1 - t0,
        "start": t2 - t1,
        "first_get": get_seconds,
        "start_to_get_ok": t2 - t1 + get_seconds,
        "first_create": create_seconds,
        "stop": t4 - t3,
    }


def ms(values: list[float]) -> dict[str, float]:
    out = [v * 1000 for v in values]
    ordered = sorted(out)
    return {"median_ms": round(statistics.median(out), 3),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 3),
            "max_ms": round(max(out), 3)}


def top(profile: cProfile.Profile, limit: int) -> list[str]:
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.sort_stats("cumulative").print_stats(limit)
    lines = [ln.rstrip() for ln in stream.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return lines[start: start + limit + 1]


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    results: dict[str, Any] = {"rounds": rounds, "import_kubeproof_cluster_ms": round(IMPORT_SECONDS * 1000, 3)}
    # The first start in the process, profiled.
    main_profile = cProfile.Profile()
    profile_thread.append(cProfile.Profile())
    main_profile.enable()
    first_tls = one(tls=True)
    main_profile.disable()
    first_phases = {name: round(values[0] * 1000, 3) for name, values in phases.items()}
    phases.clear()
    first_plain = one(tls=False)
    phases.clear()
    results["first_in_process"] = {
        "https": {k: round(v * 1000, 3) for k, v in first_tls.items()},
        "http": {k: round(v * 1000, 3) for k, v in first_plain.items()},
        "https_phases_ms": first_phases,
        "profile_caller_thread": top(main_profile, 14),
        "profile_config_load_server_thread": top(profile_thread[0], 10),
    }
    for tls, label in ((True, "https"), (False, "http")):
        samples = [one(tls) for _ in range(rounds)]
        results[label] = {key: ms([s[key] for s in samples]) for key in samples[0]}
        results[label + "_phases"] = {name: ms(values) for name, values in phases.items()}
        phases.clear()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
