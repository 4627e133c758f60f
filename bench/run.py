"""Run kubeproof's benchmarks, print a summary and write the results as JSON.

    .venv/bin/python bench/run.py            # everything, about 2-3 minutes
    .venv/bin/python bench/run.py --quick    # fewer rounds and shorter runs, under 40 s
    .venv/bin/python bench/run.py --only throughput,watch

Benchmarks: ``cold`` (``kubeproof serve`` until ``kubectl get ns`` succeeds), ``inproc`` (start and stop of
an in-process ``Cluster``), ``throughput`` (creates, gets, lists per second over HTTP with wrk, beside a
hello-world ASGI ceiling; skipped with a message when wrk is not installed), ``watch`` (event latency
with 1,000 open watches) and ``workloads`` (a Deployment's pods to Ready, simulated and process-backed).
Results go to ``bench/results/<UTC time>.json`` and ``bench/results/latest.json``.
All traffic is to 127.0.0.1. docs/benchmarks.md explains each number.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cold_start
import throughput
import watch_latency
import workloads
from common import BENCH_DIR, PYTHON, ROOT, log, machine_info, raise_fd_limit

RESULTS = BENCH_DIR / "results"
BUDGETS = {"inproc_start_ms": 50.0, "creates_per_s": 3000.0, "gets_per_s": 10000.0, "watch_p99_ms": 10.0}


def run_inproc(quick: bool) -> dict[str, Any]:
    rounds = 10 if quick else 30
    proc = subprocess.run([PYTHON, str(BENCH_DIR / "inproc_start.py"), str(rounds)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"inproc_start.py failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    log(f"  in-process start (HTTPS) to first GET: median {result['https']['start_to_get_ok']['median_ms']:.1f} ms")
    return result


BENCHMARKS: dict[str, tuple[str, Callable[[bool], dict[str, Any]]]] = {
    "cold": ("cold start of `kubeproof serve` until `kubectl get ns` succeeds", cold_start.run),
    "inproc": ("in-process Cluster start and stop", run_inproc),
    "throughput": ("HTTP throughput (wrk) and the hello-world ceiling", throughput.run),
    "watch": ("watch event latency with 1,000 watches", watch_latency.run),
    "workloads": ("Deployments to Ready pods: 100 simulated, 20 process-backed", workloads.run),
}


def fmt(value: Any, unit: str = "") -> str:
    if isinstance(value, float):
        return f"{value:,.1f}{unit}" if value >= 100 else f"{value:.2f}{unit}"
    return f"{value}{unit}"


def budget(ok: bool) -> str:
    return "within budget" if ok else "OVER BUDGET"


def print_summary(results: dict[str, Any]) -> None:
    out = print
    m = results["machine"]
    out(f"\nkubeproof benchmarks ({results['mode']}), {m['date']}")
    out(f"machine: {m['nproc']} x {m['cpu_model']}, Python {m['python']}; load average at start "
        f"{m['loadavg_at_start']}, at end {results.get('loadavg_at_end')}")
    loads = [m["loadavg_at_start"][0], *(results.get("loadavg_at_end") or [0.0])[:1]]
    if max(loads) > (m["nproc"] or 1):
        out("WARNING: the 1-minute load average exceeded the number of CPUs: other work competed for the CPU,")
        out("         so these numbers are noisy (the side-by-side ratios less so). Run again on a quiet machine.")
    cold = results.get("cold")
    if cold and "skipped" not in cold:
        out(f"\n1. cold start of `kubeproof serve` (median of {cold['rounds']} rounds)")
        for label, key in (
            ("spawn -> `kubectl get ns` ok", "serve_to_kubectl_get_ns_ok"),
            ("spawn -> kubeconfig written", "serve_to_kubeconfig_written"),
            ("`kubectl get ns` run time", "kubectl_get_ns_run"),
            ("baseline `kubectl version --client`", "baseline_kubectl_version_client"),
            ("baseline `python -c pass`", "baseline_python_pass"),
            ("baseline `python -c 'import kubeproof.cluster'`", "baseline_python_import_kubeproof_cluster"),
            ("SIGINT -> process exited", "serve_stop_after_sigint"),
        ):
            out(f"   {label:<48} {fmt(cold[key]['median_ms'], ' ms')}")
    elif cold:
        out(f"\n1. cold start: skipped: {cold['skipped']}")
    inproc = results.get("inproc")
    if inproc:
        https, http = inproc["https"], inproc["http"]
        first = inproc["first_in_process"]
        med = https["start_to_get_ok"]["median_ms"]
        out(f"\n2. in-process Cluster (median of {inproc['rounds']}; budget <= 50 ms)")
        out(f"   HTTPS start() -> GET ok  {fmt(med, ' ms')} (p90 {fmt(https['start_to_get_ok']['p90_ms'], ' ms')}) "
            f"{budget(med <= BUDGETS['inproc_start_ms'])}")
        out(f"   HTTP  start() -> GET ok  {fmt(http['start_to_get_ok']['median_ms'], ' ms')}")
        out(f"   stop()                   {fmt(https['stop']['median_ms'], ' ms')} (HTTPS), "
            f"{fmt(http['stop']['median_ms'], ' ms')} (HTTP)")
        out(f"   first in a process: HTTPS {fmt(first['https']['start_to_get_ok'], ' ms')}, "
            f"of which uvicorn Config.load {fmt(first['https_phases_ms'].get('uvicorn Config.load', 0.0), ' ms')}")
        out(f"   first create (configmap) after start: {fmt(first['https']['first_create'], ' ms')} first in a "
            f"process, median {fmt(https['first_create']['median_ms'], ' ms')} later")
    tp = results.get("throughput")
    if tp and "skipped" not in tp:
        out(f"\n3./4. throughput, {tp['load_generator']}")
        c, g, li = tp["creates_http"], tp["gets_http"], tp["lists_http"]
        out(f"   creates/s   {fmt(c['requests_per_s'])}  p99 {fmt(c['latency_p99_ms'], ' ms')}  "
            f"{budget(c['requests_per_s'] >= BUDGETS['creates_per_s'])} (>= 3,000)")
        out(f"   gets/s      {fmt(g['requests_per_s'])}  p99 {fmt(g['latency_p99_ms'], ' ms')}  "
            f"{budget(g['requests_per_s'] >= BUDGETS['gets_per_s'])} (>= 10,000)")
        out(f"   lists/s (100 items) {fmt(li['requests_per_s'])}  p99 {fmt(li['latency_p99_ms'], ' ms')}")
        out(f"   ceiling (hello ASGI) {fmt(tp['ceiling_http']['requests_per_s'])}/s; "
            f"gets = {tp['gets_http_vs_ceiling']:.2f} x ceiling (median of paired rounds)")
        out(f"   HTTPS gets/s {fmt(tp['gets_https']['requests_per_s'])}; HTTPS ceiling "
            f"{fmt(tp['ceiling_https']['requests_per_s'])}/s; ratio {tp['gets_https_vs_ceiling']:.2f}")
    elif tp:
        out(f"\n3./4. throughput: skipped: {tp['skipped']}")
    w = results.get("watch")
    if w:
        lat = w["latency_from_write_returned"]
        out(f"\n5. watch latency, {w['watchers']} watches x {w['changes']} changes (budget p99 <= 10 ms)")
        out(f"   fan-out (every watch gets every change): write returned -> watcher got event: "
            f"p50 {fmt(lat['median_ms'], ' ms')}, p99 {fmt(lat['p99_ms'], ' ms')}, max {fmt(lat['max_ms'], ' ms')}  "
            f"{budget(lat['p99_ms'] <= BUDGETS['watch_p99_ms'])}")
        cold = w.get("cold_connections")
        if cold:
            out(f"     on fresh connections (their 2nd to {w['warm_events_before_measuring']}th events, "
                f"quick-acked): p50 {fmt(cold['median_ms'], ' ms')}, p99 {fmt(cold['p99_ms'], ' ms')}")
        sel = w.get("selective")
        if sel:
            sl = sel["latency_from_write_returned"]
            out(f"   selective (each change matches 1 of the {sel['watchers']} watches, {sel['changes']} changes): "
                f"p50 {fmt(sl['median_ms'], ' ms')}, p99 {fmt(sl['p99_ms'], ' ms')}, max {fmt(sl['max_ms'], ' ms')}  "
                f"{budget(sl['p99_ms'] <= BUDGETS['watch_p99_ms'])}")
            ss, sp = sel["latency_from_write_sent"], sel["post_latency_with_watchers"]
            out(f"     from the write sent (includes the POST itself): p50 {fmt(ss['median_ms'], ' ms')}, "
                f"p99 {fmt(ss['p99_ms'], ' ms')}; POST latency with the 1,000 selective watches "
                f"{fmt(sp['median_ms'], ' ms')}")
        out(f"   POST latency: {fmt(w['post_latency_with_watchers']['median_ms'], ' ms')} with the watches, "
            f"{fmt(w['post_latency_without_watchers']['median_ms'], ' ms')} without")
        floor = w.get("send_floor")
        if floor:
            out(f"   floor: {floor['connections']} bare socket sends from one thread, no server: median "
                f"{fmt(floor['all_sends']['median_ms'], ' ms')} ({floor['per_send_us']} us each); "
                f"on fresh connections {fmt(floor['cold_connections']['median_ms'], ' ms')}")
        live = w.get("live_floor")
        if live:
            out(f"   floor with waiting readers (one thread's bare sends, received like the watches): "
                f"p50 {fmt(live['latency']['median_ms'], ' ms')}, p99 {fmt(live['latency']['p99_ms'], ' ms')}")
    wl = results.get("workloads")
    if wl:
        sim, proc = wl["deployment_100_simulated"], wl["deployment_20_processes"]
        out(f"\n6. workloads (median of {wl['rounds']} rounds)")
        out(f"   create Deployment replicas=100 (simulated) -> 100 Ready  {fmt(sim['median_ms'], ' ms')} "
            f"({wl['simulated_pods_per_s_median']} pods/s)")
        out(f"   create Deployment replicas=20 (processes)  -> 20 Ready   {fmt(proc['median_ms'], ' ms')} "
            f"({wl['process_pods_per_s_median']} pods/s)")
    for name, error in results.get("errors", {}).items():
        out(f"\n{name}: FAILED: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and shorter runs (under 40 s)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here too")
    args = parser.parse_args()
    selected = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in selected if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    raise_fd_limit()
    command = " ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]])
    results: dict[str, Any] = {"command": command, "mode": "quick" if args.quick else "full",
                               "machine": machine_info(), "errors": {}}
    started = time.perf_counter()
    for name in selected:
        title, fn = BENCHMARKS[name]
        log(f"[{name}] {title} ...")
        t0 = time.perf_counter()
        try:
            results[name] = fn(args.quick)
        except Exception as exc:  # report and go on with the other benchmarks
            results["errors"][name] = f"{type(exc).__name__}: {exc}"
            log(f"  FAILED: {exc}")
        log(f"  ({time.perf_counter() - t0:.1f} s)")
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    results["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(results, indent=2)
    paths = [RESULTS / f"{stamp}{'-quick' if args.quick else ''}.json", RESULTS / "latest.json"]
    if args.out is not None:
        paths.append(args.out)
    for path in paths:
        path.write_text(text + "\n")
    print_summary(results)
    print(f"\nwall time {results['wall_seconds']} s; results: {paths[0].relative_to(ROOT)}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
