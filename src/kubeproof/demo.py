"""``kubeproof demo``: a narrated tour of the embedded cluster with kubectl and the official Python client."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import click

from kubeproof.cluster import Cluster, find_tool


def _step(text: str) -> None:
    click.secho(f"\n==> {text}", fg="cyan", bold=True)


def _kubectl(cluster: Cluster, *args: str) -> None:
    click.secho("$ kubectl " + " ".join(args), fg="yellow")
    proc = cluster.kubectl(*args, check=False)
    click.echo((proc.stdout + proc.stderr).rstrip())


def run_demo() -> int:
    started = time.perf_counter()
    with Cluster() as cluster:
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

        _step(f"Deleting namespace {ns}: the namespace controller empties it, then it is gone")
        api.create_namespaced_config_map(ns, {"metadata": {"name": "leftover"}})
        if find_tool("kubectl"):
            _kubectl(cluster, "delete", "namespace", ns, "--wait=true", "--timeout=30s")
            _kubectl(cluster, "get", "namespaces")
        _step("Done: the timeline of API events this demo caused")
        for entry in cluster.timeline.entries(namespace=ns)[:12]:
            click.echo(entry.describe())
    return 0


def _message(body: Any) -> str:
    import json

    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return str(body)
