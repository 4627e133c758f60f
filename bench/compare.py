"""Side by side: this checkout against another git revision, on the same machine in the same minutes.

    .venv/bin/python bench/compare.py --base 33e867c [--rounds 6] [--seconds 2]

Absolute rates on a shared machine move by a third between runs, so a change is judged by measuring both
versions alternately. This makes a git worktree of ``--base`` in a temporary directory and runs
``python -m kubeproof serve --http`` from each tree (``PYTHONPATH`` picks the tree; both use this
checkout's ``.venv``), then, round by round, base then current:

- **gets**: ``wrk -t1 -c16`` GETs of one ConfigMap, both servers up for the whole comparison;
- **creates**: ``wrk`` POSTs of ConfigMaps with unique names (``bench/wrk_create.lua``), a fresh server
  per round;
- **ceiling**: each tree's own ``bench/hello_app.py`` (the bare stack of that version);
- with ``--watch``: the fan-out watch latency of ``bench/watch_latency.py`` (1,000 watches that all match,
  warm connections, ``--watch-changes`` changes per round), a fresh server per round;

and each server's CPU time per request (user + system time from ``/proc/<pid>/stat`` over the round,
divided by the round's requests). Prints the medians and current/base ratios and writes
``bench/results/compare-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import watch_latency
from common import BENCH_DIR, PYTHON, ROOT, TOKEN, Client, ServerProcess, log, raise_fd_limit, run_wrk

CONNECTIONS = 16
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GET_PATH = "/api/v1/namespaces/default/configmaps/bench-get"
CREATE_PATH = "/api/v1/namespaces/default/configmaps"
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of the line)


def _server(tree: Path, name: str) -> ServerProcess:
    return ServerProcess(name, [PYTHON, "-m", "kubeproof", "serve", "--http", "--port", "0", "--token", TOKEN],
                         env={"PYTHONPATH": str(tree / "src")})


def _hello(tree: Path, name: str) -> ServerProcess:
    return ServerProcess(name, [PYTHON, str(tree / "bench" / "hello_app.py")], env={"PYTHONPATH": str(tree / "src")})


def _round(server: ServerProcess, path: str, seconds: float, **wrk: Any) -> dict[str, Any]:
    assert server.proc is not None
    before = _cpu_seconds(server.proc.pid)
    result = run_wrk(server.url + path, seconds, CONNECTIONS, **wrk)
    after = _cpu_seconds(server.proc.pid)
    if result["non_2xx"] or result["socket_errors"]:
        raise RuntimeError(f"{server.name}: {result['non_2xx']} non-2xx answers, "
                           f"socket errors {result['socket_errors']}")
    out = {"requests_per_s": result["requests_per_s"]}
    if before is not None and after is not None and result["requests"]:
        out["cpu_us_per_request"] = round((after - before) / result["requests"] * 1e6, 1)
    return out


def _summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"rounds": rounds}
    for key in ("requests_per_s", "cpu_us_per_request"):
        values = [r[key] for r in rounds if key in r]
        if values:
            out[f"median_{key}"] = round(statistics.median(values), 1)
    return out


def _seed_get(server: ServerProcess) -> None:
    client = Client(server.port)
    client.must("POST", CREATE_PATH, {"apiVersion": "v1", "kind": "ConfigMap",
                                      "metadata": {"name": "bench-get", "labels": {"app": "bench"}},
                                      "data": {"key": "value", "other": "some more data"}})
    client.close()


def compare_watch(trees: dict[str, Path], rounds: int, changes: int) -> dict[str, Any]:
    """Fan-out latency (write returned -> watcher got the event) with 1,000 watches, alternately."""
    raise_fd_limit()
    rounds_: dict[str, list[dict[str, Any]]] = {side: [] for side in trees}
    for i in range(rounds):
        for side, tree in trees.items():
            server = functools.partial(_server, tree, f"kubeproof ({side}, watch)")
            result = watch_latency.measure(watch_latency.WATCHERS, changes, server=server)
            lat = result["latency_from_write_returned"]
            rounds_[side].append({"p50_ms": lat["median_ms"], "p99_ms": lat["p99_ms"],
                                  "post_ms": result["post_latency_with_watchers"]["median_ms"]})
        log(f"  watch round {i + 1}/{rounds}: p99 base {rounds_['base'][-1]['p99_ms']:.2f} ms, "
            f"current {rounds_['current'][-1]['p99_ms']:.2f} ms")
    out: dict[str, Any] = {}
    for side, values in rounds_.items():
        out[side] = {"rounds": values, **{f"median_{key}": round(statistics.median(r[key] for r in values), 3)
                                          for key in ("p50_ms", "p99_ms", "post_ms")}}
    out["ratio_p99"] = round(out["current"]["median_p99_ms"] / out["base"]["median_p99_ms"], 3)
    return out


def compare(base_tree: Path, rounds: int, seconds: float, watch_changes: int = 0) -> dict[str, Any]:
    trees = {"base": base_tree, "current": ROOT}
    results: dict[str, Any] = {kind: {side: [] for side in trees} for kind in ("gets", "creates", "ceiling")}
    servers = {side: _server(tree, f"kubeproof ({side})").start() for side, tree in trees.items()}
    hellos = {side: _hello(tree, f"hello ({side})").start() for side, tree in trees.items()}
    try:
        for side, server in servers.items():
            _seed_get(server)
            run_wrk(server.url + GET_PATH, 1, CONNECTIONS, headers=AUTH)  # warm-up
            run_wrk(hellos[side].url + "/", 1, CONNECTIONS)
        for i in range(rounds):
            for side in trees:
                results["gets"][side].append(_round(servers[side], GET_PATH, seconds, headers=AUTH))
                results["ceiling"][side].append(_round(hellos[side], "/", seconds))
            log(f"  round {i + 1}/{rounds}: gets base {results['gets']['base'][-1]['requests_per_s']:.0f}/s, "
                f"current {results['gets']['current'][-1]['requests_per_s']:.0f}/s")
    finally:
        for server in [*servers.values(), *hellos.values()]:
            server.stop()
    create_headers = {**AUTH, "Content-Type": "application/json"}
    for i in range(rounds):
        for side, tree in trees.items():
            with _server(tree, f"kubeproof ({side}, creates)") as server:
                prefix = f"c{secrets.token_hex(3)}"
                run_wrk(server.url + CREATE_PATH, 1, CONNECTIONS, headers=create_headers,
                        script=BENCH_DIR / "wrk_create.lua", script_args=[prefix + "w"])
                results["creates"][side].append(_round(server, CREATE_PATH, seconds, headers=create_headers,
                                                       script=BENCH_DIR / "wrk_create.lua", script_args=[prefix]))
        log(f"  creates round {i + 1}/{rounds}: base {results['creates']['base'][-1]['requests_per_s']:.0f}/s, "
            f"current {results['creates']['current'][-1]['requests_per_s']:.0f}/s")
    summary: dict[str, Any] = {}
    if watch_changes:
        summary["watch"] = compare_watch(trees, rounds, watch_changes)
    for kind, sides in results.items():
        summary[kind] = {side: _summary(rounds_) for side, rounds_ in sides.items()}
        base, current = summary[kind]["base"], summary[kind]["current"]
        summary[kind]["ratio_requests_per_s"] = round(
            current["median_requests_per_s"] / base["median_requests_per_s"], 3)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the git revision to compare against (e.g. a commit)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds of each measurement (6)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one wrk round (2)")
    parser.add_argument("--watch", action="store_true", help="also compare the fan-out watch latency")
    parser.add_argument("--watch-changes", type=int, default=50, help="measured changes per watch round (50)")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True)
    if commit.returncode != 0:
        raise SystemExit(f"compare.py: {args.base!r} is not a revision of this repository: {commit.stderr.strip()}")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    with tempfile.TemporaryDirectory(prefix="kubeproof-compare-") as tmp:
        worktree = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(worktree), args.base], cwd=ROOT, check=True)
        try:
            started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            log(f"comparing {commit.stdout.strip()} (base) with this checkout at {head.stdout.strip()} ...")
            summary = compare(worktree, args.rounds, args.seconds, args.watch_changes if args.watch else 0)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False)
    report = {"base": commit.stdout.strip(), "current": head.stdout.strip(), "date": started,
              "rounds": args.rounds, "seconds_per_round": args.seconds, "load_generator": "wrk -t1 -c16",
              **summary}
    print(f"\nbase {report['base']} vs current {report['current']} (uncommitted changes included), {started}, "
          f"{args.rounds} alternating rounds")
    for kind in ("gets", "creates", "ceiling"):
        base, current = summary[kind]["base"], summary[kind]["current"]
        cpu = ""
        if "median_cpu_us_per_request" in base and "median_cpu_us_per_request" in current:
            cpu = (f"; server CPU per request {base['median_cpu_us_per_request']:.0f} -> "
                   f"{current['median_cpu_us_per_request']:.0f} us")
        print(f"  {kind:8} {base['median_requests_per_s']:>9,.0f}/s -> {current['median_requests_per_s']:>9,.0f}/s "
              f"({summary[kind]['ratio_requests_per_s']:.2f} x){cpu}")
    if "watch" in summary:
        base, current = summary["watch"]["base"], summary["watch"]["current"]
        print(f"  watch    fan-out p99 {base['median_p99_ms']:.2f} -> {current['median_p99_ms']:.2f} ms "
              f"({summary['watch']['ratio_p99']:.2f} x), p50 {base['median_p50_ms']:.2f} -> "
              f"{current['median_p50_ms']:.2f} ms, POST {base['median_post_ms']:.2f} -> "
              f"{current['median_post_ms']:.2f} ms")
    out_dir = BENCH_DIR / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"compare-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
