"""Reaching pods and Services of an embedded cluster: ``Cluster.port_forward`` and ``kube.port_forward``."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.reach import Unreachable
from kubeproof.testing import eventually
from kubeproof.testing.kube import Connection, Kube

from ._support import SERVICE_CONTROLLERS, pod_manifest, run_pod, set_pod_status, unique


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(controllers=SERVICE_CONTROLLERS) as c:
        yield c


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    name = unique("pf")
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


class _Hello(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(b"hello from " + self.server.server_address[0].encode())  # type: ignore[index]


@pytest.fixture
def listener() -> Iterator[tuple[str, int]]:
    """A TCP server on a loopback address of its own, as a process-backed pod would have."""
    server = socketserver.ThreadingTCPServer(("127.0.42.7", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, name="hello-listener")
    thread.start()
    try:
        yield server.server_address[0], server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def talk(address: tuple[str, int]) -> bytes:
    with socket.create_connection(address, timeout=5) as conn:
        return conn.recv(100)


def service(core: client.CoreV1Api, ns: str, name: str, ports: list[dict[str, Any]]) -> None:
    core.create_namespaced_service(ns, {"metadata": {"name": name},
                                        "spec": {"selector": {"app": name}, "ports": ports}})


def test_pod_address(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    run_pod(core, ns, "web", {"app": "web"}, "127.0.30.1", ports=[{"name": "http", "containerPort": 8080}])
    assert cluster.port_forward("pod/web", 8080, namespace=ns) == ("127.0.30.1", 8080)
    assert cluster.port_forward("web", "http", namespace=ns) == ("127.0.30.1", 8080)
    pod = core.read_namespaced_pod("web", ns)
    assert cluster.port_forward(pod, 9000) == ("127.0.30.1", 9000)
    with pytest.raises(Unreachable, match=f"pod {ns}/web has no container port named 'metrics'"):
        cluster.port_forward("pod/web", "metrics", namespace=ns)


def test_pod_without_ip(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_pod(ns, pod_manifest("waiting", {"app": "x"}))
    with pytest.raises(Unreachable) as info:
        cluster.port_forward("pod/waiting", 80, namespace=ns)
    assert str(info.value) == f"pod {ns}/waiting has no IP yet (phase Pending, not scheduled to a node yet)"
    with pytest.raises(Unreachable, match=f'pod "nothing" not found in namespace "{ns}"'):
        cluster.port_forward("pod/nothing", 80, namespace=ns)


def test_service_resolves_a_ready_endpoint(cluster: Cluster, core: client.CoreV1Api, ns: str,
                                           listener: tuple[str, int]) -> None:
    ip, port = listener
    service(core, ns, "hello", [{"name": "web", "port": 80, "targetPort": "web"}])
    run_pod(core, ns, "hello-0", {"app": "hello"}, ip, ports=[{"name": "web", "containerPort": port}])
    address = eventually(lambda: cluster.port_forward("svc/hello", 80, namespace=ns), retry_on=(Unreachable,),
                         description="a ready endpoint for svc/hello")
    assert address == (ip, port)
    assert talk(address) == b"hello from 127.0.42.7"
    assert cluster.port_forward("service/hello", "web", namespace=ns) == (ip, port)


def test_service_without_ready_endpoints_says_why(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    service(core, ns, "api", [{"port": 80, "targetPort": 8080}])
    run_pod(core, ns, "api-0", {"app": "api"}, "127.0.31.1", ready=False)

    def message() -> str:
        with pytest.raises(Unreachable) as info:
            cluster.port_forward("svc/api", 80, namespace=ns)
        text = str(info.value)
        assert "not ready" in text, text
        return text

    text = eventually(message, description="the not-ready pod named in the error")
    assert text == (f"service {ns}/api has no ready endpoints for port 80: "
                    "1 not ready (pod api-0 at 127.0.31.1)")
    with pytest.raises(Unreachable) as info:
        cluster.port_forward("svc/api", 443, namespace=ns)
    assert str(info.value) == f"service {ns}/api does not have a service port 443 (its ports: <unnamed>:80)"

    set_pod_status(core, ns, "api-0", "127.0.31.1", ready=True)
    assert eventually(lambda: cluster.port_forward("svc/api", 80, namespace=ns), retry_on=(Unreachable,),
                      description="api-0 ready") == ("127.0.31.1", 8080)


def test_service_with_no_pods(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    service(core, ns, "empty", [{"port": 80}])
    eventually(lambda: core.read_namespaced_endpoints("empty", ns), retry_on=(client.ApiException,),
               description="the (empty) Endpoints")
    with pytest.raises(Unreachable) as info:
        cluster.port_forward("svc/empty", 80, namespace=ns)
    assert str(info.value) == (f"service {ns}/empty has no ready endpoints for port 80: "
                               "no running pod with an IP matches its selector app=empty")


def test_kube_port_forward_in_process_and_through_the_api(cluster: Cluster, core: client.CoreV1Api, ns: str,
                                                          listener: tuple[str, int]) -> None:
    ip, port = listener
    service(core, ns, "hello", [{"port": 80, "targetPort": port}])
    run_pod(core, ns, "hello-0", {"app": "hello"}, ip)
    with Kube.from_cluster(cluster, namespace=ns) as kube:
        address = eventually(lambda: kube.port_forward("svc/hello", 80), retry_on=(Unreachable,),
                             description="svc/hello through kube.port_forward")
        assert talk(address) == b"hello from 127.0.42.7"
    # A kubeproof server reached only through its kubeconfig (as with the subprocess backend).
    with Kube(Connection(cluster.kubeconfig, embedded=True), namespace=ns, owns_connection=True) as kube:
        assert kube.port_forward("svc/hello", 80) == (ip, port)
        assert kube.port_forward("pod/hello-0", port) == (ip, port)
        with pytest.raises(Unreachable, match="does not have a service port 81"):
            kube.port_forward("svc/hello", 81)
