"""The simulated kubelet on wall-clock time: running pods, graceful and forced deletion, IPs, exits."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._kubelet_support import (
    PodWatcher,
    condition,
    is_ready,
    kubectl,
    pod,
    unique,
    wait_pod,
    wait_pod_gone,
)


@pytest.fixture(scope="module")
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


def _running_ready(p: client.V1Pod) -> bool:
    return p.status.phase == "Running" and is_ready(p)


def test_kubectl_run_shows_running_ready_pod_with_events(cluster: Cluster, core: client.CoreV1Api,
                                                          namespace: str) -> None:
    name = unique("web")
    kubectl(cluster, "run", name, "-n", namespace, "--image=nginx:1.27")
    p = wait_pod(core, namespace, name, _running_ready)
    ip = ipaddress.ip_address(p.status.pod_ip)
    assert ip.is_loopback and str(ip) != "127.0.0.1"
    assert p.status.host_ip == "127.0.0.1"
    assert p.spec.node_name == "kubeproof-node-1"
    assert [c.type for c in p.status.conditions] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    (cs,) = p.status.container_statuses
    assert cs.ready and cs.started and cs.restart_count == 0 and cs.state.running.started_at is not None
    assert cs.container_id.startswith("containerd://")
    assert cs.image == "docker.io/library/nginx:1.27" and "@sha256:" in cs.image_id

    table = kubectl(cluster, "get", "pods", "-n", namespace, name).stdout.splitlines()
    assert table[0].split()[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[:4] == [name, "1/1", "Running", "0"]

    described = kubectl(cluster, "describe", "pod", "-n", namespace, name).stdout
    assert f"Successfully assigned {namespace}/{name} to kubeproof-node-1" in described
    for line in ('Container image "nginx:1.27" already present on machine', f"Created container: {name}",
                 f"Started container {name}"):
        assert line in described, described
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items
    reasons = {e.reason: e for e in events}
    assert set(reasons) >= {"Scheduled", "Pulled", "Created", "Started"}
    assert reasons["Scheduled"].source.component == "default-scheduler"
    assert reasons["Started"].source.component == "kubelet"
    assert reasons["Started"].source.host == "kubeproof-node-1"
    assert reasons["Started"].involved_object.field_path == f"spec.containers{{{name}}}"
    assert reasons["Started"].involved_object.uid == p.metadata.uid
    assert reasons["Started"].count == 1 and reasons["Started"].first_timestamp is not None


def test_kubectl_delete_waits_for_graceful_termination(cluster: Cluster, core: client.CoreV1Api,
                                                       namespace: str) -> None:
    name = unique("slow")
    core.create_namespaced_pod(namespace, pod(name, annotations={"kubeproof.dev/termination-delay": "2"}))
    p = wait_pod(core, namespace, name, _running_ready)
    watcher = PodWatcher(core, namespace, name, p.metadata.resource_version)
    started = time.monotonic()
    kubectl(cluster, "delete", "pod", "-n", namespace, name)  # returns once the pod is gone
    elapsed = time.monotonic() - started
    events = watcher.wait()
    assert elapsed >= 2.0
    with pytest.raises(ApiException) as info:
        core.read_namespaced_pod(name, namespace)
    assert info.value.status == 404

    types = [t for t, _ in events]
    assert types[-1] == "DELETED" and set(types[:-1]) == {"MODIFIED"}
    first = events[0][1]["metadata"]
    assert first.get("deletionTimestamp") and first["deletionGracePeriodSeconds"] == 30
    # The kubelet reports the containers stopped (and the terminal phase) before its final DELETE.
    stopped = [o for t, o in events if t == "MODIFIED" and o["status"].get("phase") == "Succeeded"]
    assert stopped, types
    state = stopped[-1]["status"]["containerStatuses"][0]["state"]
    assert state["terminated"]["exitCode"] == 0 and state["terminated"]["reason"] == "Completed"
    assert events[-1][1]["metadata"]["deletionGracePeriodSeconds"] == 0
    killing = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name},reason=Killing")
    assert [e.message for e in killing.items] == ["Stopping container app"]


def test_grace_period_cuts_a_slow_container_short(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("stubborn")
    body = pod(name, annotations={"kubeproof.dev/termination-delay": "600"}, terminationGracePeriodSeconds=1)
    core.create_namespaced_pod(namespace, body)
    p = wait_pod(core, namespace, name, _running_ready)
    watcher = PodWatcher(core, namespace, name, p.metadata.resource_version)
    core.delete_namespaced_pod(name, namespace)
    events = watcher.wait(timeout=30)
    final = [o for t, o in events if t == "MODIFIED"][-1]["status"]
    assert final["phase"] == "Failed"
    terminated = final["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 137 and terminated["reason"] == "Error"


def test_prestop_hook_time_counts_against_the_grace_period(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("hook")
    body = pod(name, annotations={"kubeproof.dev/prestop-delay": "1", "kubeproof.dev/termination-delay": "1"})
    body["spec"]["containers"][0]["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", "1"]}}}
    core.create_namespaced_pod(namespace, body)
    p = wait_pod(core, namespace, name, _running_ready)
    watcher = PodWatcher(core, namespace, name, p.metadata.resource_version)
    started = time.monotonic()
    core.delete_namespaced_pod(name, namespace)
    terminating = core.read_namespaced_pod(name, namespace)
    assert terminating.metadata.deletion_timestamp is not None
    watcher.wait()
    assert time.monotonic() - started >= 2.0


def test_force_delete_is_modified_then_deleted(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("force")
    core.create_namespaced_pod(namespace, pod(name))
    p = wait_pod(core, namespace, name, _running_ready)
    watcher = PodWatcher(core, namespace, name, p.metadata.resource_version)
    core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    events = watcher.wait()
    assert [t for t, _ in events] == ["MODIFIED", "DELETED"]
    assert events[0][1]["metadata"]["deletionTimestamp"]
    assert events[0][1]["metadata"]["deletionGracePeriodSeconds"] == 0


def test_unscheduled_pod_is_deleted_at_once(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("nosched")
    core.create_namespaced_pod(namespace, pod(name, schedulerName="someone-else"))
    core.delete_namespaced_pod(name, namespace)
    with pytest.raises(ApiException) as info:
        core.read_namespaced_pod(name, namespace)
    assert info.value.status == 404


def test_pod_ips_are_distinct_and_new_on_recreate(core: client.CoreV1Api, namespace: str) -> None:
    names = [unique("ip") for _ in range(4)]
    for name in names:
        core.create_namespaced_pod(namespace, pod(name))
    ips = {name: wait_pod(core, namespace, name, lambda p: p.status.pod_ip).status.pod_ip for name in names}
    assert len(set(ips.values())) == len(names)
    assert "127.0.0.1" not in ips.values()
    first = names[0]
    core.delete_namespaced_pod(first, namespace, grace_period_seconds=0)
    wait_pod_gone(core, namespace, first)
    core.create_namespaced_pod(namespace, pod(first))
    again = wait_pod(core, namespace, first, lambda p: p.status.pod_ip).status.pod_ip
    assert again not in ips.values()


def test_reuse_ip_annotation_gives_a_recreated_pod_its_old_ip(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("sticky")
    reuse = {"kubeproof.dev/reuse-ip": "true"}
    core.create_namespaced_pod(namespace, pod(name, annotations=reuse))
    ip = wait_pod(core, namespace, name, lambda p: p.status.pod_ip).status.pod_ip
    core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    wait_pod_gone(core, namespace, name)
    core.create_namespaced_pod(namespace, pod(name, annotations=reuse))
    assert wait_pod(core, namespace, name, lambda p: p.status.pod_ip).status.pod_ip == ip


def test_cluster_wide_reuse_switch(cluster: Cluster, core: client.CoreV1Api, namespace: str) -> None:
    name = unique("sticky")
    cluster.kubelet.reuse_ips = True
    try:
        core.create_namespaced_pod(namespace, pod(name))
        ip = wait_pod(core, namespace, name, lambda p: p.status.pod_ip).status.pod_ip
        core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
        wait_pod_gone(core, namespace, name)
        core.create_namespaced_pod(namespace, pod(name))
        assert wait_pod(core, namespace, name, lambda p: p.status.pod_ip).status.pod_ip == ip
    finally:
        cluster.kubelet.reuse_ips = False


def test_never_restart_pod_succeeds(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("job")
    core.create_namespaced_pod(namespace, pod(name, restartPolicy="Never",
                                              annotations={"kubeproof.dev/run-seconds": "0.2"}))
    p = wait_pod(core, namespace, name, lambda p: p.status.phase == "Succeeded")
    terminated = p.status.container_statuses[0].state.terminated
    assert terminated.exit_code == 0 and terminated.reason == "Completed"
    ready = condition(p, "Ready")
    assert ready is not None and ready.status == "False" and ready.reason == "PodCompleted"


def test_never_restart_pod_fails_with_exit_code(cluster: Cluster, core: client.CoreV1Api, namespace: str) -> None:
    name = unique("job")
    annotations = {"kubeproof.dev/run-seconds": "0", "kubeproof.dev/exit-code": "3"}
    core.create_namespaced_pod(namespace, pod(name, restartPolicy="Never", annotations=annotations))
    p = wait_pod(core, namespace, name, lambda p: p.status.phase == "Failed")
    terminated = p.status.container_statuses[0].state.terminated
    assert terminated.exit_code == 3 and terminated.reason == "Error"
    assert kubectl(cluster, "get", "pod", "-n", namespace, name).stdout.splitlines()[1].split()[2] == "Error"
    # A finished pod goes at once on delete (no grace period).
    core.delete_namespaced_pod(name, namespace)
    wait_pod_gone(core, namespace, name)


def test_on_failure_restarts_a_failing_container(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("crash")
    annotations = {"kubeproof.dev/run-seconds": "0", "kubeproof.dev/exit-code": "1"}
    core.create_namespaced_pod(namespace, pod(name, restartPolicy="OnFailure", annotations=annotations))
    p = wait_pod(core, namespace, name, lambda p: p.status.container_statuses
                 and p.status.container_statuses[0].restart_count >= 1)
    cs = p.status.container_statuses[0]
    assert cs.last_state.terminated.exit_code == 1
    assert p.status.phase == "Running"
    core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)


def test_init_containers_run_first(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("init")
    body = pod(name, initContainers=[{"name": "setup", "image": "busybox:1.36"}])
    core.create_namespaced_pod(namespace, body)
    p = wait_pod(core, namespace, name, _running_ready)
    (init,) = p.status.init_container_statuses
    assert init.state.terminated.reason == "Completed" and init.state.terminated.exit_code == 0
    assert init.ready is False or init.ready is None
    started_app = p.status.container_statuses[0].state.running.started_at
    assert started_app >= init.state.terminated.finished_at


def test_ready_annotation_holds_readiness(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("unready")
    core.create_namespaced_pod(namespace, pod(name, annotations={"kubeproof.dev/ready": "false"}))
    p = wait_pod(core, namespace, name, lambda p: p.status.phase == "Running")
    ready = condition(p, "Ready")
    assert ready is not None and ready.status == "False" and ready.reason == "ContainersNotReady"
    assert ready.message == "containers with unready status: [app]"
    core.patch_namespaced_pod(name, namespace, {"metadata": {"annotations": {"kubeproof.dev/ready": "true"}}})
    wait_pod(core, namespace, name, is_ready)


def test_deleting_a_namespace_with_running_pods_finishes(core: client.CoreV1Api) -> None:
    ns = unique("ns")
    core.create_namespace({"metadata": {"name": ns}})
    for _ in range(3):
        core.create_namespaced_pod(ns, pod(unique("p"), annotations={"kubeproof.dev/termination-delay": "0.5"}))
    core.delete_namespace(ns)

    def gone() -> None:
        try:
            core.read_namespace(ns)
        except ApiException as exc:
            assert exc.status == 404
            return
        raise AssertionError(f"namespace {ns} still exists")

    eventually(gone, timeout=30)


def test_host_network_pod_has_the_node_address(core: client.CoreV1Api, namespace: str) -> None:
    name = unique("hostnet")
    core.create_namespaced_pod(namespace, pod(name, hostNetwork=True))
    p = wait_pod(core, namespace, name, _running_ready)
    assert p.status.pod_ip == "127.0.0.1" == p.status.host_ip
