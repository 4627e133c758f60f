"""Benchmarks 3 and 4: HTTP throughput with keep-alive, and the ceiling of the bare stack beside it.

The load generator is wrk (one thread, a fixed number of keep-alive connections) in its own process;
each server is a separate process (``kubeproof serve`` or ``bench/hello_app.py``), so on a 2-core
machine wrk has one core and the single-threaded server the other. Traffic goes to 127.0.0.1 only.

- gets/s: ``GET /api/v1/namespaces/default/configmaps/bench-get`` (one object), plain HTTP and HTTPS;
- lists/s: ``GET /api/v1/namespaces/bench-list/configmaps`` (100 configmaps);
- creates/s: ``POST`` of configmaps with unique names (``bench/wrk_create.lua``), on a fresh server;
- ceiling: the same wrk run against a hello-world ASGI app on the same uvicorn + httptools setup.

kubeproof gets and the ceiling are measured alternately (A/B, A/B, ...) in the same run and each is
reported as the median of its rounds, so a noisy neighbour on a shared machine hits both alike.
"""

from __future__ import annotations

import http.client
import json
import secrets
import ssl
import statistics
from typing import Any

from common import BENCH_DIR, TOKEN, WRK, WRK_MISSING, Client, hello_server, kubeproof_server, log, run_wrk

CONNECTIONS = 16
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GET_PATH = "/api/v1/namespaces/default/configmaps/bench-get"
LIST_NS = "bench-list"
LIST_PATH = f"/api/v1/namespaces/{LIST_NS}/configmaps"
CREATE_PATH = "/api/v1/namespaces/default/configmaps"


def _configmap(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "bench"}},
        "data": {"key": "value", "other": "some more data"},
    }


def _measure(url: str, seconds: float, warmup: float, **kwargs: Any) -> dict[str, Any]:
    if warmup > 0:
        run_wrk(url, warmup, CONNECTIONS, **kwargs)
    return run_wrk(url, seconds, CONNECTIONS, **kwargs)


def _median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("requests_per_s", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms")
    out: dict[str, Any] = {k: round(statistics.median(r[k] for r in rounds), 3) for k in keys}
    out["rounds_requests_per_s"] = [r["requests_per_s"] for r in rounds]
    out["non_2xx"] = sum(r["non_2xx"] for r in rounds)
    out["socket_errors"] = [r["socket_errors"] for r in rounds if r["socket_errors"]]
    out["connections"] = CONNECTIONS
    out["seconds_per_round"] = rounds[0]["seconds"]
    out["rounds"] = len(rounds)
    return out


def _paired_ratio(ours: list[dict[str, Any]], ceiling: list[dict[str, Any]]) -> float:
    """The median over rounds of (our rate / the ceiling's rate in the run just before it)."""
    ratios = [a["requests_per_s"] / b["requests_per_s"] for a, b in zip(ours, ceiling, strict=True)]
    return round(statistics.median(ratios), 3)


def _check_clean(name: str, result: dict[str, Any]) -> None:
    if result.get("non_2xx"):
        raise RuntimeError(f"{name}: {result['non_2xx']} responses were not 2xx/3xx")


def run(quick: bool) -> dict[str, Any]:
    if WRK is None:
        log("  " + WRK_MISSING)
        return {"skipped": WRK_MISSING}
    seconds = 2.0 if quick else 4.0  # creates and lists: one run of this length
    warmup = 1.0
    # Gets and the ceiling: short runs taken alternately, so that noise from other work hits both alike.
    ab_rounds, ab_seconds = (2, 1.0) if quick else (5, 2.0)
    results: dict[str, Any] = {"load_generator": f"wrk -t1 -c{CONNECTIONS} (one thread, keep-alive)"}

    # Gets and lists against one plain-HTTP server, A/B with the hello-world ceiling.
    with kubeproof_server(tls=False) as kp, hello_server(tls=False) as hello:
        client = Client(kp.port)
        body = client.must("POST", "/api/v1/namespaces/default/configmaps", _configmap("bench-get", "default"))
        client.must("POST", "/api/v1/namespaces", {"metadata": {"name": LIST_NS}})
        for i in range(100):
            client.must("POST", LIST_PATH, _configmap(f"item-{i:03d}", LIST_NS))
        listed = client.must("GET", LIST_PATH)
        if len(listed["items"]) != 100:
            raise RuntimeError(f"expected 100 configmaps in the list, got {len(listed['items'])}")
        client.close()
        get_bytes = len(json.dumps(body, separators=(",", ":"))) + 1
        list_bytes = len(json.dumps(listed, separators=(",", ":"))) + 1
        kp_rounds: list[dict[str, Any]] = []
        hello_rounds: list[dict[str, Any]] = []
        for i in range(ab_rounds):
            hello_rounds.append(_measure(hello.url + "/", ab_seconds, warmup if i == 0 else 0))
            kp_rounds.append(_measure(kp.url + GET_PATH, ab_seconds, warmup if i == 0 else 0, headers=AUTH))
            log(f"  gets A/B round {i + 1}/{ab_rounds}: hello {hello_rounds[-1]['requests_per_s']:.0f}/s, "
                f"kubeproof {kp_rounds[-1]['requests_per_s']:.0f}/s")
        gets = _median_of(kp_rounds)
        ceiling = _median_of(hello_rounds)
        _check_clean("gets", gets)
        _check_clean("ceiling", ceiling)
        gets["response_bytes"] = get_bytes
        results["gets_http"] = gets
        results["ceiling_http"] = ceiling
        results["gets_http_vs_ceiling"] = _paired_ratio(kp_rounds, hello_rounds)
        lists = _median_of([_measure(kp.url + LIST_PATH, seconds, warmup, headers=AUTH)])
        _check_clean("lists", lists)
        lists["response_bytes"] = list_bytes
        lists["items"] = 100
        results["lists_http"] = lists
        log(f"  lists: {lists['requests_per_s']:.0f}/s")

    # Creates on a fresh server (they grow the store), each name unique.
    with kubeproof_server(tls=False) as kp:
        client = Client(kp.port)
        before = len(client.must("GET", CREATE_PATH)["items"])
        script = BENCH_DIR / "wrk_create.lua"
        prefix = f"w{secrets.token_hex(3)}"
        run_wrk(kp.url + CREATE_PATH, warmup, CONNECTIONS, headers={**AUTH, "Content-Type": "application/json"},
                script=script, script_args=[prefix])
        middle = len(client.must("GET", CREATE_PATH)["items"])
        creates = _median_of([run_wrk(kp.url + CREATE_PATH, seconds, CONNECTIONS,
                                      headers={**AUTH, "Content-Type": "application/json"},
                                      script=script, script_args=[prefix + "m"])])
        after = len(client.must("GET", CREATE_PATH)["items"])
        client.close()
        _check_clean("creates", creates)
        creates["objects_created"] = after - middle
        creates["objects_before"] = middle - before
        results["creates_http"] = creates
        log(f"  creates: {creates['requests_per_s']:.0f}/s ({after - before} configmaps stored)")

    # Gets over HTTPS, A/B with the hello-world ceiling over HTTPS.
    with kubeproof_server(tls=True) as kp, hello_server(tls=True) as hello:
        # The fixture over HTTPS (the benchmark's own throwaway CA is not worth verifying here).
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", kp.port, context=ctx, timeout=30)
        conn.request("POST", "/api/v1/namespaces/default/configmaps",
                     body=json.dumps(_configmap("bench-get", "default")),
                     headers={**AUTH, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 201:
            raise RuntimeError(f"creating the HTTPS fixture answered {response.status}")
        kp_rounds, hello_rounds = [], []
        for i in range(ab_rounds):
            hello_rounds.append(_measure(hello.url + "/", ab_seconds, warmup if i == 0 else 0))
            kp_rounds.append(_measure(kp.url + GET_PATH, ab_seconds, warmup if i == 0 else 0, headers=AUTH))
        gets_tls = _median_of(kp_rounds)
        ceiling_tls = _median_of(hello_rounds)
        _check_clean("gets over HTTPS", gets_tls)
        results["gets_https"] = gets_tls
        results["ceiling_https"] = ceiling_tls
        results["gets_https_vs_ceiling"] = _paired_ratio(kp_rounds, hello_rounds)
        log(f"  HTTPS gets: hello {ceiling_tls['requests_per_s']:.0f}/s, kubeproof {gets_tls['requests_per_s']:.0f}/s")
    return results
