"""End to end on a full embedded cluster: a Deployment's pods are scheduled, started and made ready by the
simulated kubelet, and the Service's Endpoints follow their readiness (cluster time steered by hand)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.clock import ManualClock
from kubeproof.testing import eventually

from ._support import unique

READINESS_DELAY = 30.0


@pytest.fixture(scope="module")
def cluster(clock: ManualClock) -> Iterator[Cluster]:
    with Cluster(clock=clock) as c:
        yield c


@pytest.fixture
def ns(api: Any) -> Iterator[str]:
    core = client.CoreV1Api(api)
    name = unique("e2e")
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels,
                             "annotations": {"kubeproof.dev/readiness-delay": str(READINESS_DELAY)}},
                "spec": {"terminationGracePeriodSeconds": 0,
                         "containers": [{"name": "app", "image": "example/web:1",
                                         "ports": [{"name": "http", "containerPort": 8080}]}]},
            },
        },
    }


def endpoints_state(core: client.CoreV1Api, ns: str, name: str) -> tuple[list[str], list[str]]:
    response = core.read_namespaced_endpoints(name, ns, _preload_content=False)
    subsets = json.loads(response.data).get("subsets") or []
    ready = sorted(a["ip"] for s in subsets for a in s.get("addresses") or [])
    not_ready = sorted(a["ip"] for s in subsets for a in s.get("notReadyAddresses") or [])
    return ready, not_ready


def pod_ips(core: client.CoreV1Api, ns: str, name: str) -> list[str]:
    pods = core.list_namespaced_pod(ns, label_selector=f"app={name}").items
    return sorted(p.status.pod_ip for p in pods if p.status.pod_ip and not p.metadata.deletion_timestamp)


def test_endpoints_follow_pod_readiness(cluster: Cluster, clock: ManualClock, api: Any, ns: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    core.create_namespaced_service(ns, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
    apps.create_namespaced_deployment(ns, deployment("web", 2))

    # Running, with IPs, but not ready yet: the kubelet waits for the readiness delay.
    def running_not_ready() -> list[str]:
        ips = pod_ips(core, ns, "web")
        assert len(ips) == 2
        assert endpoints_state(core, ns, "web") == ([], ips)
        return ips

    ips = eventually(running_not_ready, description="two running pods listed as not ready")
    assert all(ip.startswith("127.") and ip != "127.0.0.1" for ip in ips)

    clock.advance(READINESS_DELAY)
    eventually(lambda: endpoints_state(core, ns, "web") == (ips, []), description="both pods ready in Endpoints")
    ready_address = cluster.port_forward("svc/web", 80, namespace=ns)
    assert ready_address[0] in ips and ready_address[1] == 8080
    out = cluster.kubectl("get", "endpoints", "web", "-n", ns, "--no-headers").stdout
    assert all(f"{ip}:8080" in out for ip in ips)

    # A deleted pod leaves the Endpoints; its replacement joins once ready.
    victim = core.list_namespaced_pod(ns, label_selector="app=web").items[0]
    core.delete_namespaced_pod(victim.metadata.name, ns)
    survivor = [ip for ip in ips if ip != victim.status.pod_ip]

    def replaced() -> list[str]:
        now = pod_ips(core, ns, "web")
        assert len(now) == 2 and victim.status.pod_ip not in now
        ready, not_ready = endpoints_state(core, ns, "web")
        assert ready == survivor
        assert len(not_ready) == 1
        return now

    new_ips = eventually(replaced, description="the replacement pod running and not ready")
    clock.advance(READINESS_DELAY)
    eventually(lambda: endpoints_state(core, ns, "web") == (new_ips, []),
               description="the replacement ready in Endpoints")
    discovery = client.DiscoveryV1Api(api)

    def slice_addresses() -> list[str]:
        slices = discovery.list_namespaced_endpoint_slice(ns, label_selector="kubernetes.io/service-name=web")
        return sorted(e.addresses[0] for s in slices.items for e in s.endpoints or [] if e.conditions.ready)

    eventually(slice_addresses, matcher=lambda got: got == new_ips, description="the EndpointSlice agrees")
