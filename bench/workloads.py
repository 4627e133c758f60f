"""Benchmark 6: workloads on the embedded cluster (issue 4).

An in-process ``Cluster(tls=False)`` with its default controllers. Each round, in a fresh namespace:

- ``deployment_100_simulated``: create a Deployment with 100 replicas of an unmapped (simulated) image
  through the official client, then watch the Deployment until ``status.readyReplicas == 100``. The time
  runs from sending the create to the watch event that shows 100 ready. ``pods_per_s`` is 100 divided by
  that time: the rate the scheduler, the simulated kubelet, the ReplicaSet and Deployment controllers
  sustain together (kubelet timing knobs at their defaults: no startup or readiness delay).
- ``deployment_20_processes``: the same with 20 replicas of an image mapped to a real process
  (``bench/worker.py``, a stdlib HTTP server bound to its pod IP) with an httpGet readiness probe that
  the runtime really performs, so Ready means the process answered.

Rounds are timed with ``time.perf_counter``; results are medians. Run through ``bench/run.py --only
workloads`` or directly: ``.venv/bin/python bench/workloads.py [rounds]``.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from common import log, summary_ms

WORKER = Path(__file__).resolve().parent / "worker.py"
PROCESS_IMAGE = "bench-worker:1"


def _deployment(name: str, replicas: int, image: str, probe: bool) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": image, "ports": [{"containerPort": 8080}]}
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 1}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}},
        },
    }


def _time_to_ready(api_client: Any, namespace: str, body: dict[str, Any], replicas: int,
                   timeout: float) -> float:
    from kubernetes import client, watch

    apps = client.AppsV1Api(api_client)
    core = client.CoreV1Api(api_client)
    name = body["metadata"]["name"]
    start_rv = apps.list_namespaced_deployment(namespace).metadata.resource_version
    started = time.perf_counter()
    apps.create_namespaced_deployment(namespace, body)
    w = watch.Watch()
    try:
        for event in w.stream(apps.list_namespaced_deployment, namespace, resource_version=start_rv,
                              field_selector=f"metadata.name={name}", timeout_seconds=int(timeout)):
            status = event["object"].status
            if status is not None and (status.ready_replicas or 0) >= replicas:
                return time.perf_counter() - started
    finally:
        w.stop()
        core.delete_namespace(namespace)
    raise RuntimeError(f"deployment {namespace}/{name} not ready within {timeout} s")


def measure(rounds: int) -> dict[str, Any]:
    from kubernetes import client

    from kubeproof import Cluster

    worker_cmd = [sys.executable, str(WORKER)]
    simulated: list[float] = []
    processes: list[float] = []
    with Cluster(tls=False, images={PROCESS_IMAGE: worker_cmd}) as cluster:
        api_client = cluster.api_client()
        core = client.CoreV1Api(api_client)
        for i in range(rounds):
            for label, replicas, image, probe, out, timeout in (
                ("simulated", 100, "registry.example/app:1", False, simulated, 120.0),
                ("processes", 20, PROCESS_IMAGE, True, processes, 180.0),
            ):
                ns = f"bench-{label}-{uuid.uuid4().hex[:6]}"
                core.create_namespace({"metadata": {"name": ns}})
                seconds = _time_to_ready(api_client, ns, _deployment("app", replicas, image, probe), replicas,
                                         timeout)
                out.append(seconds)
                log(f"  workloads round {i + 1}: {replicas} {label} pods ready in {seconds * 1000:.0f} ms")
        api_client.close()
    return {
        "rounds": rounds,
        "deployment_100_simulated": summary_ms(simulated),
        "simulated_pods_per_s_median": round(100 / sorted(simulated)[len(simulated) // 2], 1),
        "deployment_20_processes": summary_ms(processes),
        "process_pods_per_s_median": round(20 / sorted(processes)[len(processes) // 2], 1),
    }


def run(quick: bool) -> dict[str, Any]:
    return measure(2 if quick else 5)


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=2))
