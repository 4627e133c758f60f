"""Steering the simulated kubelet with a ManualClock: nothing moves until the test advances time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.clock import ManualClock
from kubeproof.testing import consistently

from ._kubelet_support import condition, is_ready, pod, unique, wait_pod, wait_pod_gone


@pytest.fixture(scope="module")
def cluster(clock: ManualClock) -> Iterator[Cluster]:
    with Cluster(clock=clock) as c:
        yield c


@pytest.fixture(scope="module")
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


def _running(p: client.V1Pod) -> bool:
    return p.status.phase == "Running"


def test_readiness_waits_for_the_probe_initial_delay(clock: ManualClock, core: client.CoreV1Api,
                                                     namespace: str) -> None:
    name = unique("probe")
    body = pod(name)
    body["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/", "port": 80},
                                                       "initialDelaySeconds": 10}
    core.create_namespaced_pod(namespace, body)
    p = wait_pod(core, namespace, name, _running)
    assert not is_ready(p)
    assert p.status.container_statuses[0].state.running is not None
    clock.advance(9)
    consistently(lambda: not is_ready(core.read_namespaced_pod(name, namespace)), duration=0.3)
    clock.advance(1)
    p = wait_pod(core, namespace, name, is_ready)
    ready = condition(p, "Ready")
    assert ready is not None and ready.reason is None


def test_cluster_wide_startup_and_readiness_delays(cluster: Cluster, clock: ManualClock, core: client.CoreV1Api,
                                                   namespace: str) -> None:
    name = unique("slowstart")
    cluster.kubelet.startup_delay = 5
    cluster.kubelet.readiness_delay = 3
    try:
        core.create_namespaced_pod(namespace, pod(name))
        p = wait_pod(core, namespace, name, lambda p: p.status.pod_ip)
        assert p.status.phase == "Pending"
        waiting = p.status.container_statuses[0].state.waiting
        assert waiting.reason == "ContainerCreating"
        clock.advance(5)
        p = wait_pod(core, namespace, name, _running)
        assert not is_ready(p)
        clock.advance(3)
        wait_pod(core, namespace, name, is_ready)
    finally:
        cluster.kubelet.startup_delay = 0
        cluster.kubelet.readiness_delay = 0


def test_per_pod_annotation_overrides_the_cluster_setting(cluster: Cluster, clock: ManualClock,
                                                          core: client.CoreV1Api, namespace: str) -> None:
    name = unique("annotated")
    core.create_namespaced_pod(namespace, pod(name, annotations={"kubeproof.dev/readiness-delay": "30s"}))
    wait_pod(core, namespace, name, _running)
    clock.advance(29)
    assert not is_ready(core.read_namespaced_pod(name, namespace))
    clock.advance(1)
    wait_pod(core, namespace, name, is_ready)


def test_graceful_deletion_follows_the_clock(clock: ManualClock, core: client.CoreV1Api, namespace: str) -> None:
    name = unique("term")
    core.create_namespaced_pod(namespace, pod(name, annotations={"kubeproof.dev/termination-delay": "20"},
                                              terminationGracePeriodSeconds=60))
    wait_pod(core, namespace, name, is_ready)
    core.delete_namespaced_pod(name, namespace)
    terminating = core.read_namespaced_pod(name, namespace)
    assert terminating.metadata.deletion_grace_period_seconds == 60
    clock.advance(19)
    consistently(lambda: core.read_namespaced_pod(name, namespace).metadata.deletion_timestamp is not None,
                 duration=0.3)
    clock.advance(1)
    wait_pod_gone(core, namespace, name)


def test_job_style_pod_completes_after_its_run_time(cluster: Cluster, clock: ManualClock,
                                                    core: client.CoreV1Api, namespace: str) -> None:
    name = unique("work")
    cluster.kubelet.run_time = 100
    try:
        core.create_namespaced_pod(namespace, pod(name, restartPolicy="Never"))
        wait_pod(core, namespace, name, _running)
        clock.advance(99)
        assert core.read_namespaced_pod(name, namespace).status.phase == "Running"
        clock.advance(1)
        wait_pod(core, namespace, name, lambda p: p.status.phase == "Succeeded")
    finally:
        cluster.kubelet.run_time = 1.0


def test_crash_loop_back_off_on_the_clock(clock: ManualClock, core: client.CoreV1Api, namespace: str) -> None:
    name = unique("crashloop")
    annotations = {"kubeproof.dev/run-seconds": "1", "kubeproof.dev/exit-code": "2"}
    core.create_namespaced_pod(namespace, pod(name, annotations=annotations))
    wait_pod(core, namespace, name, _running)
    clock.advance(1)  # exits, restarts at once
    wait_pod(core, namespace, name, lambda p: p.status.container_statuses[0].restart_count == 1)
    clock.advance(1)  # exits again: now it backs off for 10 s
    p = wait_pod(core, namespace, name, lambda p: p.status.container_statuses[0].state.waiting is not None)
    waiting = p.status.container_statuses[0].state.waiting
    assert waiting.reason == "CrashLoopBackOff"
    assert waiting.message.startswith("back-off 10s restarting failed container=app pod=")
    assert p.status.container_statuses[0].last_state.terminated.exit_code == 2
    clock.advance(10)
    wait_pod(core, namespace, name, lambda p: p.status.container_statuses[0].restart_count == 2)
    core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
