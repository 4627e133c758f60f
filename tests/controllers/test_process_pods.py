"""Process-backed pods through the whole cluster: scheduler, kubelet, the process runtime, pods/log.

A pod whose image is mapped to a local command runs as a real process bound to its pod IP; its probes are
really performed, deletion stops the process, and ``kubectl logs [-f]`` serves its output.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._kubelet_support import KUBECTL, is_ready, kubectl, wait_pod

WORKER = str(Path(__file__).resolve().parents[1] / "runtime" / "http_worker.py")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(images={"worker:1": [sys.executable, WORKER], "py:*": [sys.executable]}) as c:
        yield c


@pytest.fixture
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def worker_pod(name: str, *, env: list[dict[str, Any]] | None = None, grace: int | None = None,
               probe: dict[str, Any] | None = None, extra: list[dict[str, Any]] | None = None,
               **container: Any) -> dict[str, Any]:
    web: dict[str, Any] = {
        "name": "web", "image": "worker:1", "args": ["8080"], "ports": [{"containerPort": 8080}],
        "env": env or [],
        "readinessProbe": probe or {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 1,
                                    "failureThreshold": 1},
        **container,
    }
    spec: dict[str, Any] = {"containers": [web, *(extra or [])]}
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return {"metadata": {"name": name}, "spec": spec}


def ready_pod(core: client.CoreV1Api, namespace: str, body: dict[str, Any]) -> client.V1Pod:
    core.create_namespaced_pod(namespace, body)
    return wait_pod(core, namespace, body["metadata"]["name"], is_ready)


def http(ip: str, path: str, method: str = "GET") -> str:
    request = urllib.request.Request(f"http://{ip}:8080{path}", data=b"" if method == "POST" else None,
                                     method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(response.read().decode())


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_http_pod_answers_on_its_pod_ip_and_readiness_follows_health(core: client.CoreV1Api,
                                                                    namespace: str) -> None:
    name = unique("web")
    pod = ready_pod(core, namespace, worker_pod(name))
    ip = pod.status.pod_ip
    assert ip.startswith("127.") and ip != "127.0.0.1"
    assert http(ip, "/") == f"hello from {name}"
    assert http(ip, "/env?name=POD_NAMESPACE") == namespace
    http(ip, "/fail", "POST")
    failing = wait_pod(core, namespace, name, lambda p: not is_ready(p))
    ready = next(c for c in failing.status.conditions if c.type == "Ready")
    assert (ready.reason, ready.message) == ("ContainersNotReady", "containers with unready status: [web]")
    assert failing.status.phase == "Running" and failing.status.container_statuses[0].restart_count == 0
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name},reason=Unhealthy")
    assert any("HTTP probe failed with statuscode: 500" in e.message for e in events.items)
    http(ip, "/recover", "POST")
    wait_pod(core, namespace, name, is_ready)


def test_deleting_the_pod_stops_its_process(cluster: Cluster, core: client.CoreV1Api, namespace: str) -> None:
    name = unique("gone")
    pod = ready_pod(core, namespace, worker_pod(name))
    pid = int(http(pod.status.pod_ip, "/pid"))
    assert cluster.process_runtime.pids(pod.metadata.uid) == {"web": pid}
    kubectl(cluster, "delete", "pod", name, "-n", namespace)  # waits until the pod is gone
    # The kubelet deletes the pod object only once its containers have stopped.
    assert not alive(pid)
    assert cluster.process_runtime.pids(pod.metadata.uid) == {}


def test_graceful_deletion_waits_for_sigterm_then_kills_at_the_grace_period(cluster: Cluster,
                                                                           core: client.CoreV1Api,
                                                                           namespace: str) -> None:
    name = unique("stubborn")
    pod = ready_pod(core, namespace, worker_pod(name, env=[{"name": "IGNORE_SIGTERM", "value": "1"}], grace=3))
    pid = int(http(pod.status.pod_ip, "/pid"))
    began = time.monotonic()
    core.delete_namespaced_pod(name, namespace)
    terminating = core.read_namespaced_pod(name, namespace)
    assert terminating.metadata.deletion_timestamp is not None
    assert alive(pid), "the process keeps running through the grace period"
    eventually(lambda: core.list_namespaced_pod(namespace, field_selector=f"metadata.name={name}").items,
               matcher=lambda items: items == [], timeout=30)
    assert time.monotonic() - began >= 3
    assert not alive(pid)


class LogFollower:
    """``kubectl logs -f`` in the background, its lines on a queue (read with a timeout, never a sleep)."""

    def __init__(self, cluster: Cluster, *args: str) -> None:
        self.proc = subprocess.Popen([str(KUBECTL), "logs", "-f", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=cluster.env())
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self) -> str | None:
        return self.lines.get(timeout=30)

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.kill()
        code = self.proc.wait(timeout=30)
        self._thread.join(timeout=30)
        return code


def test_kubectl_logs_and_logs_follow(cluster: Cluster, core: client.CoreV1Api, namespace: str) -> None:
    name = unique("logs")
    pod = ready_pod(core, namespace, worker_pod(name))
    ip = pod.status.pod_ip
    # The runtime copies the process's output into the log asynchronously: wait for a line, don't assume it.
    eventually(lambda: kubectl(cluster, "logs", name, "-n", namespace).stdout.splitlines()[:2],
               matcher=lambda lines: lines == [f"worker listening on {ip}:8080", "a line on stderr"],
               description="the worker's first two lines in kubectl logs")
    http(ip, "/say?text=third")
    eventually(lambda: kubectl(cluster, "logs", name, "-n", namespace, "--tail=1").stdout,
               matcher=lambda out: out == "third\n", description="the last line is 'third'")
    stamped = kubectl(cluster, "logs", name, "-n", namespace, "--tail=1", "--timestamps").stdout
    assert stamped.endswith("Z third\n") and len(stamped.split(" ", 1)[0]) == len("2006-01-02T15:04:05.000000000Z")

    follower = LogFollower(cluster, name, "-n", namespace, "--tail=1")
    try:
        assert follower.next_line() == "third"
        marker = f"written-after-the-request-{uuid.uuid4().hex[:6]}"
        http(ip, f"/say?text={marker}")
        assert follower.next_line() == marker
        # The stream ends when the container does: deleting the pod ends `kubectl logs -f` cleanly.
        core.delete_namespaced_pod(name, namespace)
        assert follower.next_line() == "got SIGTERM"
        assert follower.next_line() is None
    finally:
        code = follower.close()
    assert code == 0


def test_official_client_follows_a_log(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("stream")
    pod = ready_pod(core, namespace, worker_pod(name))
    response = core.read_namespaced_pod_log(name, namespace, follow=True, tail_lines=0, _preload_content=False)
    try:
        http(pod.status.pod_ip, "/say?text=over-the-stream")
        assert response.readline() == b"over-the-stream\n"
    finally:
        # Close, not just release: a connection still inside a stream must not go back to the pool.
        response.close()
        response.release_conn()


def test_log_errors_are_the_apiservers(cluster: Cluster, core: client.CoreV1Api, namespace: str) -> None:
    name = unique("two")
    ready_pod(core, namespace, worker_pod(name, extra=[{"name": "side", "image": "busybox:1.36"}]))

    def error(**kwargs: Any) -> tuple[int, str]:
        with pytest.raises(ApiException) as caught:
            core.read_namespaced_pod_log(name, namespace, **kwargs)
        return caught.value.status, json.loads(caught.value.body)["message"]

    assert error() == (400, f"a container name must be specified for pod {name}, choose one of: [web side]")
    assert error(container="nope") == (400, f"container nope is not valid for pod {name}")
    assert error(container="web", previous=True) == (
        400, f'previous terminated container "web" in pod "{name}" not found')
    assert error(container="web", tail_lines=-1) == (
        422, f'PodLogOptions "{name}" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0')
    eventually(lambda: core.read_namespaced_pod_log(name, namespace, container="web"),
               matcher=lambda out: "worker listening" in out, description="the worker's first line in its log")
    # The unmapped sidecar is simulated: it has no output.
    assert core.read_namespaced_pod_log(name, namespace, container="side") == ""
    # kubectl picks the first container itself, as on a real cluster.
    assert "worker listening" in kubectl(cluster, "logs", name, "-n", namespace).stdout
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod_log("no-such-pod", namespace)
    assert missing.value.status == 404


def test_env_and_volume_files_are_visible_to_the_process(cluster: Cluster, core: client.CoreV1Api,
                                                         namespace: str) -> None:
    kubectl(cluster, "create", "configmap", "settings", "-n", namespace, "--from-literal=level=debug")
    kubectl(cluster, "create", "secret", "generic", "token", "-n", namespace, "--from-literal=value=s3cret")
    name = unique("env")
    body = worker_pod(name, env=[{"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings",
                                                                                       "key": "level"}}},
                                 {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "token", "key": "value"}}}],
                      volumeMounts=[{"name": "config", "mountPath": "/etc/app"},
                                    {"name": "secret", "mountPath": "/var/run/token"}])
    body["spec"]["volumes"] = [{"name": "config", "configMap": {"name": "settings"}},
                               {"name": "secret", "secret": {"secretName": "token"}}]
    pod = ready_pod(core, namespace, body)
    ip = pod.status.pod_ip
    assert (http(ip, "/env?name=LEVEL"), http(ip, "/env?name=TOKEN"), http(ip, "/env?name=POD_IP")) == (
        "debug", "s3cret", ip)
    assert http(ip, "/file?path=/etc/app/level") == "debug"
    assert http(ip, "/file?path=/var/run/token/value") == "s3cret"
    kubectl(cluster, "patch", "configmap", "settings", "-n", namespace, "-p", '{"data":{"level":"info"}}')
    eventually(lambda: http(ip, "/file?path=/etc/app/level"), matcher=lambda text: text == "info")


def test_a_process_that_exits_sets_the_pod_phase(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("once")
    core.create_namespaced_pod(namespace, {"metadata": {"name": name}, "spec": {
        "restartPolicy": "Never",
        "containers": [{"name": "job", "image": "py:3", "args": ["-c", "print('done'); raise SystemExit(4)"]}]}})
    failed = wait_pod(core, namespace, name, lambda p: p.status.phase == "Failed")
    terminated = failed.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (4, "Error")
    assert core.read_namespaced_pod_log(name, namespace) == "done\n"
