"""``kubeproof demo``: a narrated tour of the embedded cluster with kubectl and the official Python client."""

from __future__ import annotations

import sys
import threading
import time
import urllib.request
import uuid
from typing import Any

import click

from kubeproof.cluster import Cluster, find_tool

#: The demo maps this image to a real local process (``kubeproof/demo_worker.py``).
WORKER_IMAGE = "kubeproof/demo-worker:1"

_WORKERS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: workers}
spec:
  replicas: 2
  selector: {matchLabels: {app: workers}}
  template:
    metadata: {labels: {app: workers}}
    spec:
      containers:
      - name: worker
        image: WORKER_IMAGE
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: workers}
spec:
  selector: {app: workers}
  ports: [{port: 80, targetPort: 8080}]
""".replace("WORKER_IMAGE", WORKER_IMAGE)


def _step(text: str) -> None:
    click.secho(f"\n==> {text}", fg="cyan", bold=True)


def _kubectl(cluster: Cluster, *args: str) -> None:
    click.secho("$ kubectl " + " ".join(args), fg="yellow")
    proc = cluster.kubectl(*args, check=False)
    click.echo((proc.stdout + proc.stderr).rstrip())


def run_demo() -> int:
    started = time.perf_counter()
    with Cluster(images={WORKER_IMAGE: [sys.executable, "-m", "kubeproof.demo_worker"]}) as cluster:
        elapsed = (time.perf_counter() - started) * 1000
        _step(f"An embedded Kubernetes API server started in {elapsed:.0f} ms at {cluster.url}")
        click.echo(f"kubeconfig: {cluster.kubeconfig}")
        if find_tool("kubectl"):
            _kubectl(cluster, "version")
            _kubectl(cluster, "get", "namespaces")
        else:
            click.echo("(kubectl not on PATH: run `bash scripts/setup.sh` to install it into .venv/bin)")

        from kubernetes import client, watch
        from kubernetes.client import ApiException

        api: Any = client.CoreV1Api(cluster.api_client())
        ns = f"demo-{uuid.uuid4().hex[:6]}"
        _step(f"The official Python client creates namespace {ns} and a ConfigMap in it")
        api.create_namespace({"metadata": {"name": ns}})
        cm: Any = api.create_namespaced_config_map(ns, {"metadata": {"name": "settings"}, "data": {"mode": "fast"}})
        click.echo(f"created configmap settings at resourceVersion {cm.metadata.resource_version}")

        _step("A stale update is refused with 409 Conflict, exactly as kube-apiserver does")
        api.patch_namespaced_config_map("settings", ns, {"data": {"mode": "safe"}})
        cm.data["mode"] = "stale"
        try:
            api.replace_namespaced_config_map("settings", ns, cm)
        except ApiException as exc:
            click.echo(f"{exc.status} {exc.reason}: {_message(exc.body)}")

        _step("A finalizer keeps a deleted object alive; a watch sees it go when the finalizer is removed")
        api.patch_namespaced_config_map("settings", ns, {"metadata": {"finalizers": ["demo.kubeproof.dev/hold"]}})
        api.delete_namespaced_config_map("settings", ns)
        held: Any = api.read_namespaced_config_map("settings", ns)
        click.echo(f"still there, deletionTimestamp={held.metadata.deletion_timestamp}")
        events: list[str] = []
        watcher: Any = watch.Watch()  # type: ignore[no-untyped-call]
        ready = threading.Event()

        def follow() -> None:
            ready.set()
            for event in watcher.stream(api.list_namespaced_config_map, ns,
                                        resource_version=held.metadata.resource_version, timeout_seconds=10):
                events.append(f"{event['type']} {event['object'].metadata.name} "
                              f"rv={event['object'].metadata.resource_version}")
                if event["type"] == "DELETED":
                    watcher.stop()

        thread = threading.Thread(target=follow)
        thread.start()
        ready.wait()
        api.patch_namespaced_config_map("settings", ns, {"metadata": {"finalizers": None}})
        thread.join(timeout=15)
        for line in events:
            click.echo(f"watch: {line}")

        if find_tool("kubectl"):
            _workloads(cluster, ns)

        _step(f"Deleting namespace {ns}: the namespace controller empties it, then it is gone")
        api.create_namespaced_config_map(ns, {"metadata": {"name": "leftover"}})
        if find_tool("kubectl"):
            _kubectl(cluster, "delete", "namespace", ns, "--wait=true", "--timeout=30s")
            _kubectl(cluster, "get", "namespaces")
        _step("Done: the timeline of API events this demo caused")
        for entry in cluster.timeline.entries(namespace=ns)[:12]:
            click.echo(entry.describe())
    return 0


def _workloads(cluster: Cluster, ns: str) -> None:
    _step(f"A Deployment whose pods are real local processes ({WORKER_IMAGE} -> python -m kubeproof.demo_worker)")
    click.secho("$ kubectl apply -f workers.yaml", fg="yellow")
    click.echo(cluster.kubectl("apply", "-n", ns, "-f", "-", input=_WORKERS, check=False).stdout.rstrip())
    _kubectl(cluster, "rollout", "status", "-n", ns, "deployment/workers", "--timeout=60s")
    _kubectl(cluster, "get", "pods", "-n", ns, "-o", "wide")
    _step("The Service's Endpoints list the ready pods; the test reaches the Service directly")
    _kubectl(cluster, "get", "endpoints", "-n", ns, "workers")
    host, port = cluster.port_forward("svc/workers", 80, namespace=ns)
    with urllib.request.urlopen(f"http://{host}:{port}/", timeout=10) as response:
        click.echo(f"GET http://{host}:{port}/ -> {response.read().decode().strip()}")
    pod = cluster.kubectl("get", "pods", "-n", ns, "-l", "app=workers", "-o", "jsonpath={.items[0].metadata.name}",
                          check=False).stdout.strip()
    if pod:
        _kubectl(cluster, "logs", "-n", ns, pod)
    _step("RBAC: the namespace's default ServiceAccount may not list pods")
    token = cluster.kubectl("create", "token", "default", "-n", ns, check=False).stdout.strip()
    _kubectl(cluster, "auth", "can-i", "list", "pods", "-n", ns, f"--as=system:serviceaccount:{ns}:default")
    click.secho(f"$ kubectl --token=<token of {ns}/default> get pods -n {ns}", fg="yellow")
    proc = cluster.kubectl(f"--token={token}", "get", "pods", "-n", ns, check=False)
    click.echo((proc.stdout + proc.stderr).rstrip())


def _message(body: Any) -> str:
    import json

    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return str(body)
