"""Service creation as kube-apiserver does it: ClusterIP and NodePort allocation, defaults, type changes."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster

from ._support import unique

SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/12")


@pytest.fixture(scope="module")
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    name = unique("svc")
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def svc(name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("ports", [{"port": 80}])
    return {"metadata": {"name": name}, "spec": spec}


def create(core: client.CoreV1Api, ns: str, body: dict[str, Any]) -> dict[str, Any]:
    core.create_namespaced_service(ns, body)
    return read(core, ns, body["metadata"]["name"])


def read(core: client.CoreV1Api, ns: str, name: str) -> dict[str, Any]:
    response = core.read_namespaced_service(name, ns, _preload_content=False)
    result: dict[str, Any] = json.loads(response.data)
    return result


def rejected(call: Any) -> dict[str, Any]:
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.status == 422, info.value.body
    status: dict[str, Any] = json.loads(info.value.body)
    return status


def test_kubernetes_service_has_the_first_address(core: client.CoreV1Api, cluster: Cluster) -> None:
    spec = read(core, "default", "kubernetes")["spec"]
    assert spec["clusterIP"] == "10.96.0.1"
    assert spec["clusterIPs"] == ["10.96.0.1"]
    assert spec["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": cluster.port}]


def test_cluster_ip_is_allocated_with_defaults(core: client.CoreV1Api, ns: str) -> None:
    spec = create(core, ns, svc("web", selector={"app": "web"}))["spec"]
    assert ipaddress.ip_address(spec["clusterIP"]) in SERVICE_RANGE
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert "externalTrafficPolicy" not in spec


def test_each_service_gets_its_own_address(core: client.CoreV1Api, ns: str) -> None:
    ips = {create(core, ns, svc(f"s{i}"))["spec"]["clusterIP"] for i in range(20)}
    assert len(ips) == 20
    assert "10.96.0.1" not in ips


def test_requested_ip_is_honoured_and_released_on_delete(core: client.CoreV1Api, ns: str) -> None:
    assert create(core, ns, svc("fixed", clusterIP="10.96.0.53"))["spec"]["clusterIPs"] == ["10.96.0.53"]
    status = rejected(lambda: core.create_namespaced_service(ns, svc("second", clusterIP="10.96.0.53")))
    assert status["message"] == (
        'Service "second" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.53"}: '
        "failed to allocate IP 10.96.0.53: provided IP is already allocated"
    )
    assert status["details"]["causes"] == [{
        "reason": "FieldValueInvalid",
        "message": 'Invalid value: []string{"10.96.0.53"}: failed to allocate IP 10.96.0.53: '
                   "provided IP is already allocated",
        "field": "spec.clusterIPs",
    }]
    core.delete_namespaced_service("fixed", ns)
    assert create(core, ns, svc("second", clusterIP="10.96.0.53"))["spec"]["clusterIP"] == "10.96.0.53"


def test_requested_ip_outside_the_range(core: client.CoreV1Api, ns: str) -> None:
    status = rejected(lambda: core.create_namespaced_service(ns, svc("out", clusterIP="192.168.7.7")))
    assert status["message"] == (
        'Service "out" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.7.7"}: '
        "failed to allocate IP 192.168.7.7: the provided network does not match the current range"
    )
    status = rejected(lambda: core.create_namespaced_service(ns, svc("net", clusterIP="10.96.0.0")))
    assert status["message"] == (
        'Service "net" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.0"}: '
        "failed to allocate IP 10.96.0.0: provided IP 10.96.0.0 is not in the valid range"
    )


def test_malformed_cluster_ip(core: client.CoreV1Api, ns: str) -> None:
    status = rejected(lambda: core.create_namespaced_service(ns, svc("bad", clusterIP="10.96.0.300")))
    assert status["message"] == (
        'Service "bad" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.300": '
        "must be a valid IP address (e.g. 10.9.8.7 or 2001:db8::ffff)"
    )
    status = rejected(lambda: core.create_namespaced_service(
        ns, svc("mismatch", clusterIP="10.96.0.60", clusterIPs=["10.96.0.61"])))
    assert status["message"] == (
        'Service "mismatch" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.61"}: '
        "first value must match `clusterIP`"
    )


def test_ipv6_and_dual_stack_are_not_configured(core: client.CoreV1Api, ns: str) -> None:
    status = rejected(lambda: core.create_namespaced_service(ns, svc("six", ipFamilies=["IPv6"])))
    assert status["message"] == (
        'Service "six" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster'
    )
    status = rejected(lambda: core.create_namespaced_service(ns, svc("dual", ipFamilyPolicy="RequireDualStack")))
    assert status["message"] == (
        'Service "dual" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": '
        "this cluster is not configured for dual-stack services"
    )
    spec = create(core, ns, svc("prefer", ipFamilyPolicy="PreferDualStack"))["spec"]
    assert spec["ipFamilies"] == ["IPv4"] and len(spec["clusterIPs"]) == 1


def test_cluster_ip_is_immutable(core: client.CoreV1Api, ns: str) -> None:
    ip = create(core, ns, svc("web"))["spec"]["clusterIP"]
    status = rejected(lambda: core.patch_namespaced_service("web", ns, {"spec": {"clusterIP": "10.96.0.77"}}))
    assert status["message"] == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.77"}: '
        "may not change once set"
    )
    # A PUT that leaves clusterIP out keeps the allocated one (old clients do that).
    body = read(core, ns, "web")
    del body["spec"]["clusterIP"], body["spec"]["clusterIPs"]
    body["metadata"]["labels"] = {"touched": "yes"}
    core.replace_namespaced_service("web", ns, body)
    assert read(core, ns, "web")["spec"]["clusterIPs"] == [ip]


def test_headless_services(core: client.CoreV1Api, ns: str) -> None:
    spec = create(core, ns, svc("headless", clusterIP="None", selector={"app": "db"}))["spec"]
    assert spec["clusterIP"] == "None" and spec["clusterIPs"] == ["None"]
    assert spec["ipFamilyPolicy"] == "SingleStack" and spec["ipFamilies"] == ["IPv4"]
    # Headless and selectorless defaults to dual-stack families, even on a single-stack cluster.
    spec = create(core, ns, svc("bare", clusterIP="None", ports=None))["spec"]
    assert spec["ipFamilyPolicy"] == "RequireDualStack"
    assert spec["ipFamilies"] == ["IPv4", "IPv6"]


def test_external_name_gets_no_address(core: client.CoreV1Api, ns: str) -> None:
    spec = create(core, ns, svc("ext", type="ExternalName", externalName="example.com"))["spec"]
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"):
        assert field not in spec
    assert spec["sessionAffinity"] == "None"
    # ExternalName -> ClusterIP allocates; and back releases (the fields go).
    core.patch_namespaced_service("ext", ns, {"spec": {"type": "ClusterIP", "externalName": None}})
    spec = read(core, ns, "ext")["spec"]
    assert ipaddress.ip_address(spec["clusterIP"]) in SERVICE_RANGE
    core.patch_namespaced_service("ext", ns, {"spec": {"type": "ExternalName", "externalName": "example.org"}})
    spec = read(core, ns, "ext")["spec"]
    assert "clusterIP" not in spec and "clusterIPs" not in spec and "ipFamilies" not in spec


def test_node_ports_are_allocated(core: client.CoreV1Api, ns: str) -> None:
    body = svc("np", type="NodePort", ports=[
        {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "http", "port": 80, "targetPort": "http"},
    ])
    spec = create(core, ns, body)["spec"]
    ports = {p["name"]: p for p in spec["ports"]}
    assert all(30000 <= p["nodePort"] <= 32767 for p in ports.values())
    # The same port number over TCP and UDP shares one node port.
    assert ports["dns"]["nodePort"] == ports["dns-tcp"]["nodePort"] != ports["http"]["nodePort"]
    assert ports["http"]["targetPort"] == "http"
    assert spec["externalTrafficPolicy"] == "Cluster"


def test_requested_node_ports(core: client.CoreV1Api, ns: str) -> None:
    create(core, ns, svc("a", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    status = rejected(lambda: core.create_namespaced_service(
        ns, svc("b", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])))
    assert status["message"] == (
        'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated'
    )
    status = rejected(lambda: core.create_namespaced_service(
        ns, svc("c", type="NodePort", ports=[{"port": 80, "nodePort": 8080}])))
    assert status["message"] == (
        'Service "c" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the '
        "valid range. The range of valid ports is 30000-32767"
    )
    core.delete_namespaced_service("a", ns)
    assert create(core, ns, svc("b", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))


def test_type_changes_allocate_and_release_node_ports(core: client.CoreV1Api, ns: str) -> None:
    create(core, ns, svc("web", type="NodePort", ports=[{"port": 80, "nodePort": 31080}]))
    core.patch_namespaced_service("web", ns, {"spec": {"type": "ClusterIP"}})
    spec = read(core, ns, "web")["spec"]
    assert "nodePort" not in spec["ports"][0] and "externalTrafficPolicy" not in spec
    # The released port is free for another Service at once.
    assert create(core, ns, svc("other", type="NodePort", ports=[{"port": 80, "nodePort": 31080}]))
    core.patch_namespaced_service("web", ns, {"spec": {"type": "LoadBalancer"}})
    spec = read(core, ns, "web")["spec"]
    assert 30000 <= spec["ports"][0]["nodePort"] <= 32767
    assert spec["ports"][0]["nodePort"] != 31080
    assert spec["allocateLoadBalancerNodePorts"] is True
    assert spec["externalTrafficPolicy"] == "Cluster"


def test_local_load_balancer_gets_a_health_check_port(core: client.CoreV1Api, ns: str) -> None:
    spec = create(core, ns, svc("lb", type="LoadBalancer", externalTrafficPolicy="Local"))["spec"]
    assert 30000 <= spec["healthCheckNodePort"] <= 32767
    assert spec["healthCheckNodePort"] != spec["ports"][0]["nodePort"]
    core.patch_namespaced_service("lb", ns, {"spec": {"externalTrafficPolicy": "Cluster"}})
    assert "healthCheckNodePort" not in read(core, ns, "lb")["spec"]


def test_kubectl_apply_keeps_the_allocated_node_port(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    manifest = json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "applied"},
                           "spec": {"type": "NodePort", "selector": {"app": "x"}, "ports": [{"port": 80}]}})
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    first = read(core, ns, "applied")["spec"]
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest.replace('"app": "x"', '"app": "y"'))
    second = read(core, ns, "applied")["spec"]
    assert second["selector"] == {"app": "y"}
    assert second["ports"][0]["nodePort"] == first["ports"][0]["nodePort"]
    assert second["clusterIP"] == first["clusterIP"]


def test_dry_run_allocates_nothing(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    out = cluster.kubectl("create", "service", "clusterip", "dry", "--tcp=80:8080", "-n", ns,
                          "--dry-run=server", "-o", "json").stdout
    spec = json.loads(out)["spec"]
    assert ipaddress.ip_address(spec["clusterIP"]) in SERVICE_RANGE
    assert spec["ports"][0]["targetPort"] == 8080
    # Nothing was stored, so the address shown can be requested by a real Service.
    assert create(core, ns, svc("real", clusterIP=spec["clusterIP"]))["spec"]["clusterIP"] == spec["clusterIP"]


def test_kubectl_get_services_shows_the_addresses(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    create(core, ns, svc("web", clusterIP="10.96.0.88", type="NodePort", ports=[{"port": 80, "nodePort": 30088}]))
    out = cluster.kubectl("get", "svc", "web", "-n", ns, "--no-headers").stdout.split()
    assert out[:5] == ["web", "NodePort", "10.96.0.88", "<none>", "80:30088/TCP"]
