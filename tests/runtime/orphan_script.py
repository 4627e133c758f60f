"""Run by test_no_orphans: starts a Cluster with a process-backed pod (created through the API) whose process
starts a child of its own, prints ``{"pids": [...], "watchdog": N}`` once both run, then waits to be
SIGKILLed."""

from __future__ import annotations

import json
import sys
import threading

from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster
from kubeproof.testing import eventually

# The pod's command and its grandchild only have to stay alive until the runner is SIGKILLed; a long
# sleep is the behaviour under test (a process that would outlive its parent), not a wait for state.
SPAWNER = r"""
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("pids", os.getpid(), child.pid, flush=True)
time.sleep(600)
"""


def main() -> None:
    cluster = Cluster(tls=False, images={"spawner:1": [sys.executable, "-c", SPAWNER]}).start()
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespaced_pod("default", {"metadata": {"name": "spawner"},
                                           "spec": {"containers": [{"name": "main", "image": "spawner:1"}]}})

    def pids() -> list[int]:
        for line in core.read_namespaced_pod_log("spawner", "default").splitlines():
            if line.startswith("pids "):
                return [int(p) for p in line.split()[1:]]
        raise AssertionError("no pids yet")

    # 400 "waiting to start" until the kubelet has started the container.
    found = eventually(pids, timeout=60, retry_on=(AssertionError, ApiException))
    print(json.dumps({"pids": found, "watchdog": cluster.process_runtime.watchdog.pid}), flush=True)
    threading.Event().wait()  # until SIGKILLed


if __name__ == "__main__":
    main()
