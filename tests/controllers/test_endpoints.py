"""Endpoints and EndpointSlices follow the pods a Service selects, their IPs and their readiness.

The test plays the kubelet: it creates pods and writes their IP and Ready condition through the status
subresource, on a cluster that runs the endpoint controllers but no scheduler or kubelet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._support import SERVICE_CONTROLLERS, pod_manifest, run_pod, set_pod_status, unique

MANAGED_BY = {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(controllers=SERVICE_CONTROLLERS) as c:
        yield c


@pytest.fixture(scope="module")
def discovery(cluster: Cluster) -> Iterator[client.DiscoveryV1Api]:
    api = cluster.api_client()
    yield client.DiscoveryV1Api(api)
    api.close()


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    name = unique("ep")
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def raw(call: Any, *args: Any) -> dict[str, Any]:
    """The JSON as the server sent it (the client's models rename and drop fields)."""
    response = call(*args, _preload_content=False)
    result: dict[str, Any] = json.loads(response.data)
    return result


def endpoints(core: client.CoreV1Api, ns: str, name: str) -> dict[str, Any]:
    return raw(core.read_namespaced_endpoints, name, ns)


def subsets(core: client.CoreV1Api, ns: str, name: str) -> list[dict[str, Any]]:
    ep = endpoints(core, ns, name)
    result: list[dict[str, Any]] = ep.get("subsets") or []
    return result


def slices(discovery: client.DiscoveryV1Api, ns: str, name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = raw(discovery.list_namespaced_endpoint_slice, ns)["items"]
    return [s for s in items if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name]


def ips(addresses: list[dict[str, Any]] | None) -> list[str]:
    return [a["ip"] for a in addresses or []]


def web_service(core: client.CoreV1Api, ns: str, name: str = "web", **spec: Any) -> dict[str, Any]:
    spec.setdefault("selector", {"app": name})
    spec.setdefault("ports", [{"name": "http", "port": 80, "targetPort": "http"}])
    body = {"metadata": {"name": name, "labels": {"team": "a"}}, "spec": spec}
    core.create_namespaced_service(ns, body)
    return raw(core.read_namespaced_service, name, ns)


HTTP = [{"name": "http", "containerPort": 8080}]


def test_ready_and_unready_pods(core: client.CoreV1Api, ns: str) -> None:
    web_service(core, ns)
    run_pod(core, ns, "web-a", {"app": "web"}, "127.0.10.1", ready=True, ports=HTTP)
    run_pod(core, ns, "web-b", {"app": "web"}, "127.0.10.2", ready=False, ports=HTTP)
    run_pod(core, ns, "other", {"app": "other"}, "127.0.10.3", ready=True, ports=HTTP)

    def check() -> list[dict[str, Any]]:
        got = subsets(core, ns, "web")
        assert len(got) == 1
        assert ips(got[0].get("addresses")) == ["127.0.10.1"]
        assert ips(got[0].get("notReadyAddresses")) == ["127.0.10.2"]
        return got

    subset = eventually(check, description="web-a ready and web-b not ready in the Endpoints")[0]
    # The named targetPort resolved through the container port.
    assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    pod = core.read_namespaced_pod("web-a", ns)
    assert subset["addresses"][0]["targetRef"] == {"kind": "Pod", "namespace": ns, "name": "web-a",
                                                   "uid": pod.metadata.uid}
    ep = endpoints(core, ns, "web")
    assert ep["metadata"]["labels"] == {"team": "a"}

    # Readiness flips move addresses between the two lists.
    set_pod_status(core, ns, "web-b", "127.0.10.2", ready=True)
    set_pod_status(core, ns, "web-a", "127.0.10.1", ready=False)

    def flipped() -> None:
        got = subsets(core, ns, "web")
        assert ips(got[0].get("addresses")) == ["127.0.10.2"]
        assert ips(got[0].get("notReadyAddresses")) == ["127.0.10.1"]

    eventually(flipped, description="readiness flip reflected in the Endpoints")


def test_pods_without_ip_or_finished_are_left_out(core: client.CoreV1Api, ns: str) -> None:
    web_service(core, ns)
    core.create_namespaced_pod(ns, pod_manifest("pending", {"app": "web"}, HTTP))
    run_pod(core, ns, "done", {"app": "web"}, "127.0.11.1", ready=False, ports=HTTP)
    set_pod_status(core, ns, "done", "127.0.11.1", ready=False, phase="Succeeded")
    run_pod(core, ns, "live", {"app": "web"}, "127.0.11.2", ready=True, ports=HTTP)

    def check() -> None:
        got = subsets(core, ns, "web")
        assert [ips(s.get("addresses")) + ips(s.get("notReadyAddresses")) for s in got] == [["127.0.11.2"]]

    eventually(check, description="only the running pod with an IP")


def test_pods_lacking_the_named_port_are_left_out(core: client.CoreV1Api, ns: str) -> None:
    web_service(core, ns, ports=[{"name": "http", "port": 80, "targetPort": "http"},
                                 {"name": "metrics", "port": 9090, "targetPort": 9090}])
    run_pod(core, ns, "full", {"app": "web"}, "127.0.12.1", ports=HTTP)
    run_pod(core, ns, "bare", {"app": "web"}, "127.0.12.2", ports=[{"name": "web", "containerPort": 80}])

    def check() -> list[dict[str, Any]]:
        got = subsets(core, ns, "web")
        assert len(got) == 2, got
        return got

    got = eventually(check, description="two subsets, one per port set")
    by_ports = {tuple(p["port"] for p in s["ports"]): ips(s["addresses"]) for s in got}
    assert by_ports == {(8080, 9090): ["127.0.12.1"], (9090,): ["127.0.12.2"]}


def test_terminating_pods_leave_the_addresses(core: client.CoreV1Api, discovery: client.DiscoveryV1Api,
                                              ns: str) -> None:
    web_service(core, ns)
    # A finalizer keeps the deleted pod around (Terminating) the way a grace period would.
    run_pod(core, ns, "going", {"app": "web"}, "127.0.13.1", ports=HTTP)
    core.patch_namespaced_pod("going", ns, {"metadata": {"finalizers": ["example.com/hold"]}})
    run_pod(core, ns, "staying", {"app": "web"}, "127.0.13.2", ports=HTTP)
    eventually(lambda: ips(subsets(core, ns, "web")[0]["addresses"]) == ["127.0.13.1", "127.0.13.2"],
               description="both pods ready")
    core.delete_namespaced_pod("going", ns)

    def check() -> None:
        got = subsets(core, ns, "web")
        assert ips(got[0].get("addresses")) == ["127.0.13.2"]
        assert "notReadyAddresses" not in got[0]
        endpoints_ = {e["targetRef"]["name"]: e for s in slices(discovery, ns, "web") for e in s["endpoints"]}
        assert endpoints_["going"]["conditions"] == {"ready": False, "serving": True, "terminating": True}
        assert endpoints_["staying"]["conditions"] == {"ready": True, "serving": True, "terminating": False}

    eventually(check, description="the terminating pod out of the Endpoints, terminating in its slice")
    core.patch_namespaced_pod("going", ns, {"metadata": {"finalizers": None}})


def test_publish_not_ready_addresses(core: client.CoreV1Api, discovery: client.DiscoveryV1Api, ns: str) -> None:
    web_service(core, ns, clusterIP="None", publishNotReadyAddresses=True)
    run_pod(core, ns, "starting", {"app": "web"}, "127.0.14.1", ready=False, ports=HTTP)

    def check() -> None:
        got = subsets(core, ns, "web")
        assert ips(got[0].get("addresses")) == ["127.0.14.1"] and "notReadyAddresses" not in got[0]
        (endpoint,) = [e for s in slices(discovery, ns, "web") for e in s["endpoints"]]
        assert endpoint["conditions"] == {"ready": True, "serving": False, "terminating": False}

    eventually(check, description="a not-ready pod published as ready")
    assert endpoints(core, ns, "web")["metadata"]["labels"]["service.kubernetes.io/headless"] == ""


def test_headless_service_without_ports(core: client.CoreV1Api, discovery: client.DiscoveryV1Api, ns: str) -> None:
    web_service(core, ns, name="db", clusterIP="None", ports=None)
    run_pod(core, ns, "db-0", {"app": "db"}, "127.0.15.1", hostname="db-0", subdomain="db")

    def check() -> None:
        got = subsets(core, ns, "db")
        assert got == [{"addresses": [{"ip": "127.0.15.1", "hostname": "db-0", "targetRef": got[0]["addresses"][0][
            "targetRef"]}]}]
        (slice_,) = slices(discovery, ns, "db")
        assert slice_["ports"] is None
        assert slice_["endpoints"][0]["hostname"] == "db-0"

    eventually(check, description="the headless Service lists its pod without ports")


def test_endpoint_slices(core: client.CoreV1Api, discovery: client.DiscoveryV1Api, ns: str) -> None:
    svc = web_service(core, ns)
    # No pods yet: one empty placeholder slice.
    placeholder = eventually(lambda: slices(discovery, ns, "web"), matcher=lambda s: len(s) == 1,
                             description="the placeholder slice")[0]
    assert placeholder["endpoints"] is None and placeholder["ports"] is None
    assert placeholder["metadata"]["name"].startswith("web-")
    assert placeholder["metadata"]["labels"] == {"team": "a", "kubernetes.io/service-name": "web", **MANAGED_BY}
    assert placeholder["metadata"]["ownerReferences"] == [{
        "apiVersion": "v1", "kind": "Service", "name": "web", "uid": svc["metadata"]["uid"],
        "controller": True, "blockOwnerDeletion": True,
    }]
    assert placeholder["addressType"] == "IPv4"
    run_pod(core, ns, "web-a", {"app": "web"}, "127.0.16.1", ports=HTTP)

    def check() -> dict[str, Any]:
        (slice_,) = slices(discovery, ns, "web")
        assert slice_["endpoints"] and slice_["endpoints"][0]["addresses"] == ["127.0.16.1"]
        return slice_

    slice_ = eventually(check, description="the pod in the slice")
    # The placeholder was filled in place rather than replaced.
    assert slice_["metadata"]["name"] == placeholder["metadata"]["name"]
    assert slice_["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert slice_["endpoints"][0]["conditions"] == {"ready": True, "serving": True, "terminating": False}


def test_slices_hold_at_most_100_endpoints(cluster: Cluster, core: client.CoreV1Api,
                                           discovery: client.DiscoveryV1Api, ns: str) -> None:
    web_service(core, ns)
    # Bulk setup goes straight to the registry (the same path requests take, without HTTP).
    registry = cluster.registry
    pods = registry.resource("pods")
    for i in range(105):
        created = registry.create(pods, ns, pod_manifest(f"web-{i}", {"app": "web"}, HTTP))
        created["status"].update({"phase": "Running", "podIP": f"127.0.17.{i + 1}",
                                  "conditions": [{"type": "Ready", "status": "True"}]})
        registry.update(pods, ns, f"web-{i}", created, subresource="status")

    def check() -> None:
        sizes = sorted(len(s["endpoints"] or []) for s in slices(discovery, ns, "web"))
        assert sizes == [5, 100]

    eventually(check, description="105 endpoints in slices of 100 and 5")
    out = cluster.kubectl("get", "endpoints", "web", "-n", ns, "--no-headers").stdout
    assert "+ 102 more..." in out


def test_deleted_endpoints_come_back_and_go_with_the_service(
        core: client.CoreV1Api, discovery: client.DiscoveryV1Api, ns: str) -> None:
    web_service(core, ns)
    run_pod(core, ns, "web-a", {"app": "web"}, "127.0.18.1", ports=HTTP)
    first = eventually(lambda: endpoints(core, ns, "web"), matcher=lambda ep: ep.get("subsets"),
                       description="Endpoints with the pod")
    core.delete_namespaced_endpoints("web", ns)
    again = eventually(lambda: endpoints(core, ns, "web"),
                       matcher=lambda ep: ep["metadata"]["uid"] != first["metadata"]["uid"],
                       retry_on=(AssertionError, client.ApiException), description="the Endpoints recreated")
    assert again["subsets"] == first["subsets"]
    core.delete_namespaced_service("web", ns)

    def gone() -> None:
        assert not slices(discovery, ns, "web")
        names = [e.metadata.name for e in core.list_namespaced_endpoints(ns).items]
        assert "web" not in names

    eventually(gone, description="Endpoints and slices gone with the Service")


def test_selectorless_service_keeps_user_endpoints(core: client.CoreV1Api, discovery: client.DiscoveryV1Api,
                                                   ns: str) -> None:
    core.create_namespaced_service(ns, {"metadata": {"name": "external"}, "spec": {"ports": [{"port": 5432}]}})
    core.create_namespaced_endpoints(ns, {"metadata": {"name": "external"},
                                          "subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 5432}]}]})
    # A labelled pod cannot join a Service without selector; and no slices are made for it.
    run_pod(core, ns, "db", {"app": "external"}, "127.0.19.1")
    web_service(core, ns)  # a later event the controllers handle, so the check below is not vacuous
    eventually(lambda: slices(discovery, ns, "web"), matcher=bool, description="the other Service's slice")
    assert subsets(core, ns, "external") == [{"addresses": [{"ip": "10.1.2.3"}],
                                              "ports": [{"port": 5432, "protocol": "TCP"}]}]
    assert slices(discovery, ns, "external") == []


def test_kubernetes_service_endpoints_point_at_the_api_server(cluster: Cluster, core: client.CoreV1Api,
                                                              discovery: client.DiscoveryV1Api) -> None:
    ep = endpoints(core, "default", "kubernetes")
    assert ep["subsets"] == [{"addresses": [{"ip": "127.0.0.1"}],
                              "ports": [{"name": "https", "port": cluster.port, "protocol": "TCP"}]}]
    assert ep["metadata"]["labels"] == {"endpointslice.kubernetes.io/skip-mirror": "true"}
    slice_ = raw(discovery.read_namespaced_endpoint_slice, "kubernetes", "default")
    assert slice_["endpoints"] == [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}]
    assert slice_["ports"] == [{"name": "https", "port": cluster.port, "protocol": "TCP"}]
    out = cluster.kubectl("get", "endpoints", "kubernetes", "-n", "default", "--no-headers").stdout.split()
    assert out[:2] == ["kubernetes", f"127.0.0.1:{cluster.port}"]


def test_kubectl_shows_the_addresses(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    svc = web_service(core, ns)
    run_pod(core, ns, "web-a", {"app": "web"}, "127.0.20.1", ports=HTTP)
    eventually(lambda: subsets(core, ns, "web"), matcher=bool, description="Endpoints with the pod")
    eventually(lambda: cluster.kubectl("get", "endpointslices", "-n", ns, "--no-headers").stdout,
               matcher=lambda out: "127.0.20.1" in out, description="kubectl get endpointslices")
    describe = cluster.kubectl("describe", "svc", "web", "-n", ns).stdout
    assert "Endpoints:                127.0.20.1:8080" in describe
    assert f"IP:                       {svc['spec']['clusterIP']}" in describe
    assert "TargetPort:               http/TCP" in describe
