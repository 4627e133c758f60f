"""The process runtime on its own (the seam the kubelet drives): real processes, env, volumes, probes,
restarts, stop with preStop/SIGTERM/SIGKILL, logs. ConfigMaps and Secrets come from a real Cluster."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeproof import Cluster
from kubeproof.runtime import ProcessRuntime
from kubeproof.runtime.logs import LogOptions
from kubeproof.runtime.process import LogError
from kubeproof.testing import eventually

WORKER = str(Path(__file__).with_name("http_worker.py"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(tls=False, images={"worker:1": [sys.executable, WORKER], "py:*": [sys.executable]}) as c:
        yield c


@pytest.fixture
def runtime(cluster: Cluster) -> ProcessRuntime:
    return cluster.process_runtime


def pod_ip() -> str:
    """A loopback address of its own for each pod (the kubelet's allocator does this in a cluster)."""
    raw = uuid.uuid4().bytes
    return f"127.{100 + raw[0] % 100}.{raw[1]}.{1 + raw[2] % 254}"


class Started:
    """A pod started on the runtime, removed (processes and directory) at the end of the test."""

    def __init__(self, runtime: ProcessRuntime, namespace: str, spec: dict[str, Any],
                 labels: dict[str, str] | None = None) -> None:
        self.runtime = runtime
        self.name = f"p-{uuid.uuid4().hex[:8]}"
        self.uid = str(uuid.uuid4())
        self.ip = pod_ip()
        self.events: list[tuple[str, str, str]] = []
        self.changes = threading.Event()
        self.pod = {"metadata": {"name": self.name, "namespace": namespace, "uid": self.uid,
                                 "labels": labels or {}},
                    "spec": spec}
        runtime.start_pod(self.pod, self.ip, self.changes.set, lambda *e: self.events.append(e))

    def status(self, index: int = 0) -> dict[str, Any]:
        found = self.runtime.status(self.uid)
        assert found is not None
        return found.container_statuses[index]

    def phase(self) -> str:
        found = self.runtime.status(self.uid)
        assert found is not None
        return found.phase

    def url(self, path: str, port: int = 8080) -> str:
        return f"http://{self.ip}:{port}{path}"

    def get(self, path: str, port: int = 8080) -> str:
        with urllib.request.urlopen(self.url(path, port), timeout=5) as response:
            return str(response.read().decode())

    def post(self, path: str) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url(path), data=b"", method="POST"), timeout=5).close()

    def wait_ready(self, ready: bool = True) -> None:
        eventually(lambda: self.status()["ready"], matcher=lambda r: r is ready,
                   description=f"container ready={ready}")


@pytest.fixture
def started(runtime: ProcessRuntime) -> Iterator[list[Started]]:
    pods: list[Started] = []
    yield pods
    for pod in pods:
        runtime.remove_pod(pod.uid)


def worker(**extra: Any) -> dict[str, Any]:
    # Ready once it listens (without a readiness probe a container is ready as soon as it runs).
    container: dict[str, Any] = {"name": "web", "image": "worker:1", "args": ["8080"],
                                 "ports": [{"name": "http", "containerPort": 8080}],
                                 "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}
    container.update(extra)
    return container


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_env_and_volumes_are_visible_to_the_process(cluster: Cluster, k8s_api_client: Any, namespace: str,
                                                      runtime: ProcessRuntime, started: list[Started]) -> None:
    from kubernetes import client

    core = client.CoreV1Api(k8s_api_client)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"},
                                                  "data": {"greeting": "hello", "mode": "fast"}})
    core.create_namespaced_secret(namespace, {"metadata": {"name": "creds"}, "stringData": {"password": "hunter2"}})
    spec = {"containers": [worker(
        env=[{"name": "PLAIN", "value": "one"},
             {"name": "EXPANDED", "value": "$(PLAIN)-two-$$(PLAIN)-$(UNKNOWN)"},
             {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "greeting"}}},
             {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
             {"name": "MY_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
             {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
             {"name": "MY_APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}],
        envFrom=[{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        volumeMounts=[{"name": "config", "mountPath": "/etc/config"},
                      {"name": "secret", "mountPath": "/etc/secret", "readOnly": True},
                      {"name": "info", "mountPath": "/etc/podinfo"},
                      {"name": "scratch", "mountPath": "/tmp/scratch"}])],
        "volumes": [{"name": "config", "configMap": {"name": "cfg"}},
                    {"name": "secret", "secret": {"secretName": "creds", "items": [{"key": "password",
                                                                                    "path": "db/pw"}]}},
                    {"name": "info", "downwardAPI": {"items": [
                        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
                    {"name": "scratch", "emptyDir": {}}]}
    pod = Started(runtime, namespace, spec, labels={"app": "demo"})
    started.append(pod)
    pod.wait_ready()
    env = {name: pod.get(f"/env?name={name}") for name in
           ("PLAIN", "EXPANDED", "GREETING", "PASSWORD", "MY_NAME", "MY_IP", "MY_APP", "CFG_mode",
            "POD_NAME", "POD_NAMESPACE", "POD_IP")}
    assert env == {"PLAIN": "one", "EXPANDED": "one-two-$(PLAIN)-$(UNKNOWN)", "GREETING": "hello",
                   "PASSWORD": "hunter2", "MY_NAME": pod.name, "MY_IP": pod.ip, "MY_APP": "demo", "CFG_mode": "fast",
                   "POD_NAME": pod.name, "POD_NAMESPACE": namespace, "POD_IP": pod.ip}
    assert pod.get("/file?path=/etc/config/greeting") == "hello"
    assert pod.get("/file?path=/etc/secret/db/pw") == "hunter2"
    assert pod.get("/file?path=/etc/podinfo/name") == pod.name
    volume_dir = Path(pod.get("/env?name=KUBEPROOF_VOLUME_SCRATCH"))
    assert volume_dir.is_dir() and volume_dir.name == "scratch"
    # A changed ConfigMap reaches the projected files (kubelet's sync), not the environment.
    core.patch_namespaced_config_map("cfg", namespace, {"data": {"greeting": "bonjour"}})
    eventually(lambda: pod.get("/file?path=/etc/config/greeting"), matcher=lambda text: text == "bonjour")
    assert pod.get("/env?name=GREETING") == "hello"


def test_missing_configmap_holds_the_container_until_it_exists(k8s_api_client: Any, namespace: str,
                                                               runtime: ProcessRuntime,
                                                               started: list[Started]) -> None:
    from kubernetes import client

    spec = {"containers": [worker(env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "late",
                                                                                         "key": "x"}}}])]}
    pod = Started(runtime, namespace, spec)
    started.append(pod)
    waiting = eventually(lambda: pod.status()["state"].get("waiting"),
                         matcher=lambda w: bool(w) and w["reason"] == "CreateContainerConfigError")
    assert waiting["message"] == 'configmap "late" not found'
    assert pod.phase() == "Pending"
    client.CoreV1Api(k8s_api_client).create_namespaced_config_map(namespace, {"metadata": {"name": "late"},
                                                                              "data": {"x": "now"}})
    pod.wait_ready()
    assert pod.get("/env?name=X") == "now"


def test_readiness_follows_the_http_probe(namespace: str, runtime: ProcessRuntime,
                                          started: list[Started]) -> None:
    probe = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 1, "failureThreshold": 1}
    pod = Started(runtime, namespace, {"containers": [worker(readinessProbe=probe)]})
    started.append(pod)
    pod.wait_ready()
    pod.post("/fail")
    pod.wait_ready(False)
    assert any(e[1] == "Unhealthy" and "HTTP probe failed with statuscode: 500" in e[2] for e in pod.events)
    pod.post("/recover")
    pod.wait_ready()
    assert pod.status()["restartCount"] == 0


def test_exec_and_tcp_probes_are_performed(namespace: str, runtime: ProcessRuntime,
                                           started: list[Started]) -> None:
    readiness = {"exec": {"command": ["sh", "-c", 'test -f "$KUBEPROOF_POD_DIR/ready"']}, "periodSeconds": 1}
    liveness = {"tcpSocket": {"port": 8080}, "periodSeconds": 1}
    pod = Started(runtime, namespace, {"containers": [worker(readinessProbe=readiness, livenessProbe=liveness)]})
    started.append(pod)
    eventually(lambda: pod.get("/"), matcher=lambda text: text == f"hello from {pod.name}", retry_on=(OSError,))
    eventually(lambda: any(e[1] == "Unhealthy" and e[2].startswith("Readiness probe failed") for e in pod.events))
    assert pod.status()["ready"] is False
    Path(pod.get("/env?name=KUBEPROOF_POD_DIR"), "ready").touch()
    pod.wait_ready()


def test_liveness_failure_restarts_the_container(namespace: str, runtime: ProcessRuntime,
                                                 started: list[Started]) -> None:
    liveness = {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1}
    # The startup probe holds the strict liveness probe back until the worker listens.
    startup = {"tcpSocket": {"port": 8080}, "periodSeconds": 1, "failureThreshold": 60}
    pod = Started(runtime, namespace, {"containers": [worker(livenessProbe=liveness, startupProbe=startup)],
                                       "terminationGracePeriodSeconds": 5})
    started.append(pod)
    pod.wait_ready()
    first_pid = int(pod.get("/pid"))
    pod.post("/fail")
    status = eventually(pod.status, matcher=lambda s: s["restartCount"] == 1 and "running" in s["state"])
    assert status["lastState"]["terminated"]["exitCode"] == 0  # the worker exits 0 on SIGTERM
    assert any(e[1] == "Killing" and "failed liveness probe, will be restarted" in e[2] for e in pod.events)
    eventually(lambda: int(pod.get("/pid")), matcher=lambda pid: pid != first_pid, retry_on=(OSError,))
    assert not alive(first_pid)
    previous = runtime.read_log(pod.uid, "web", LogOptions(), previous=True).decode()
    assert previous.endswith("got SIGTERM\n")
    assert "got SIGTERM" not in runtime.read_log(pod.uid, "web", LogOptions()).decode()


def test_stop_runs_prestop_then_sigterm_then_sigkill_at_the_grace_period(namespace: str, runtime: ProcessRuntime,
                                                                         started: list[Started]) -> None:
    pre_stop = {"exec": {"command": ["sh", "-c", 'echo ran > "$KUBEPROOF_POD_DIR/prestop"']}}
    pod = Started(runtime, namespace, {"containers": [worker(env=[{"name": "IGNORE_SIGTERM", "value": "1"}],
                                                             lifecycle={"preStop": pre_stop})]})
    started.append(pod)
    pod.wait_ready()
    pid = int(pod.get("/pid"))
    pod_dir = Path(pod.get("/env?name=KUBEPROOF_POD_DIR"))
    began = time.monotonic()
    runtime.stop_pod(pod.uid, 3).result(timeout=30)
    took = time.monotonic() - began
    assert (pod_dir / "prestop").read_text() == "ran\n"
    assert not alive(pid)
    assert took >= 3, f"SIGKILL came before the grace period ended ({took:.2f}s)"
    terminated = pod.status()["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "Error")
    assert "got SIGTERM" in runtime.read_log(pod.uid, "web", LogOptions()).decode()


@pytest.mark.parametrize(("policy", "code", "phase", "reason"),
                         [("Never", 3, "Failed", "Error"), ("OnFailure", 0, "Succeeded", "Completed")])
def test_exit_codes_and_restart_policy(namespace: str, runtime: ProcessRuntime, started: list[Started],
                                       policy: str, code: int, phase: str, reason: str) -> None:
    script = f"print('working'); raise SystemExit({code})"
    pod = Started(runtime, namespace, {"restartPolicy": policy,
                                       "containers": [{"name": "job", "image": "py:3", "args": ["-c", script]}]})
    started.append(pod)
    eventually(pod.phase, matcher=lambda p: p == phase)
    terminated = pod.status()["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"], pod.status()["restartCount"]) == (code, reason, 0)
    assert runtime.read_log(pod.uid, "job", LogOptions()) == b"working\n"


def test_crash_loop_backs_off_and_keeps_the_previous_log(namespace: str, runtime: ProcessRuntime,
                                                         started: list[Started]) -> None:
    pod = Started(runtime, namespace, {"containers": [{"name": "crash", "image": "py:3",
                                                       "command": ["sh", "-c", "echo boom; exit 2"]}]})
    started.append(pod)
    status = eventually(pod.status, matcher=lambda s: s["restartCount"] == 1
                        and (s["state"].get("waiting") or {}).get("reason") == "CrashLoopBackOff")
    assert status["state"]["waiting"]["message"].startswith("back-off 10s restarting failed container=crash pod=")
    assert status["lastState"]["terminated"]["exitCode"] == 2
    assert pod.phase() == "Running"
    assert runtime.read_log(pod.uid, "crash", LogOptions(), previous=True) == b"boom\n"


def test_log_options_and_follow(namespace: str, runtime: ProcessRuntime, started: list[Started]) -> None:
    pod = Started(runtime, namespace, {"containers": [worker()]})
    started.append(pod)
    pod.wait_ready()
    for i in range(3):
        pod.get(f"/say?text=line-{i}")
    # The response can reach the test before the runtime has copied the worker's output into the log.
    everything = eventually(lambda: runtime.read_log(pod.uid, "web", LogOptions()).decode().splitlines(),
                            matcher=lambda lines: lines[-3:] == ["line-0", "line-1", "line-2"], timeout=30,
                            description="the three lines in the container log")
    assert runtime.read_log(pod.uid, "web", LogOptions(tail_lines=2)) == b"line-1\nline-2\n"
    assert runtime.read_log(pod.uid, "web", LogOptions(tail_lines=0)) == b""
    assert runtime.read_log(pod.uid, "web", LogOptions(limit_bytes=4)) == everything[0][:4].encode()
    stamped = runtime.read_log(pod.uid, "web", LogOptions(timestamps=True, tail_lines=1)).decode()
    stamp, _, text = stamped.partition(" ")
    assert text == "line-2\n" and len(stamp) == len("2006-01-02T15:04:05.000000000Z") and stamp.endswith("Z")
    assert runtime.read_log(pod.uid, "web", LogOptions(since=time.time() + 60)) == b""
    with pytest.raises(LogError, match=re.escape(f'previous terminated container "web" in pod "{pod.name}" not found')):
        runtime.read_log(pod.uid, "web", LogOptions(), previous=True)

    async def follow() -> list[bytes]:
        gone = asyncio.Event()
        seen: list[bytes] = []
        async for chunk in runtime.follow_log(pod.uid, "web", LogOptions(tail_lines=1), False, gone):
            seen.append(chunk)
            if chunk == b"line-2\n":
                await asyncio.to_thread(pod.get, "/say?text=after-the-request")
            if chunk == b"after-the-request\n":
                runtime.stop_pod(pod.uid, 5)
        return seen

    # The stream ends by itself when the container stops.
    assert asyncio.run(asyncio.wait_for(follow(), 30)) == [b"line-2\n", b"after-the-request\n", b"got SIGTERM\n"]


def test_a_follow_starts_where_the_log_was_when_it_was_asked_for(namespace: str, runtime: ProcessRuntime,
                                                                 started: list[Started]) -> None:
    """``tailLines=0``: the stream starts at the end of the log at the request, not at the first read, so a
    line written once the client has the response headers is never skipped (a flake of the log tests)."""
    pod = Started(runtime, namespace, {"containers": [worker()]})
    started.append(pod)
    pod.wait_ready()
    pod.get("/say?text=before-asking")

    def log_lines() -> list[str]:
        return runtime.read_log(pod.uid, "web", LogOptions()).decode().splitlines()

    eventually(log_lines, matcher=lambda lines: "before-asking" in lines, timeout=30, description="the first line")
    gone = asyncio.Event()
    stream = runtime.follow_log(pod.uid, "web", LogOptions(tail_lines=0), False, gone)
    pod.get("/say?text=after-asking")
    eventually(log_lines, matcher=lambda lines: "after-asking" in lines, timeout=30, description="the second line")

    async def first_chunk() -> bytes:
        try:
            return await anext(stream)
        finally:
            gone.set()
            await stream.aclose()

    assert asyncio.run(asyncio.wait_for(first_chunk(), 30)) == b"after-asking\n"


def test_unmapped_containers_in_a_process_backed_pod_are_simulated(namespace: str, runtime: ProcessRuntime,
                                                                   started: list[Started]) -> None:
    pod = Started(runtime, namespace, {"containers": [worker(), {"name": "sidecar", "image": "busybox:1.36"}]})
    started.append(pod)
    assert runtime.handles(pod.pod)
    assert not runtime.handles({"spec": {"containers": [{"name": "x", "image": "busybox:1.36"}]}})
    eventually(lambda: [s["ready"] for s in (runtime.status(pod.uid) or pytest.fail()).container_statuses],
               matcher=lambda ready: ready == [True, True])
    assert set(runtime.pids(pod.uid)) == {"web"}


def test_removed_pod_leaves_no_process_and_no_directory(namespace: str, runtime: ProcessRuntime) -> None:
    pod = Started(runtime, namespace, {"containers": [worker()]})
    pod.wait_ready()
    pid = runtime.pids(pod.uid)["web"]
    pod_dir = Path(pod.get("/env?name=KUBEPROOF_POD_DIR"))
    runtime.stop_pod(pod.uid, 5).result(timeout=30)
    runtime.remove_pod(pod.uid)
    assert not alive(pid)
    assert not pod_dir.exists()
    assert runtime.status(pod.uid) is None
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(pod.url("/"), timeout=2)
    assert os.environ.get("POD_IP") is None  # nothing leaked into the runner's own environment
