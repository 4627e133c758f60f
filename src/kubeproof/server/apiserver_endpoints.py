"""What kube-apiserver publishes about itself: where the ``kubernetes`` Service leads.

After ``pkg/controlplane/reconcilers`` (the endpoint reconciler) and
``pkg/controlplane/controller/kubernetesservice``: the ``default/kubernetes`` Service's targetPort is the
server's port, and its Endpoints (marked ``skip-mirror``) and EndpointSlice (named ``kubernetes``, not
managed by the EndpointSlice controller) list the server's address. The embedded server listens on
loopback, so that is ``127.0.0.1:<port>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeproof.server import errors
from kubeproof.server.registry.generic import Registry, deep_copy

Obj = dict[str, Any]

SERVICE_NAME = "kubernetes"
NAMESPACE = "default"


def advertised_address(host: str) -> str:
    """The address clients inside the cluster would use: a wildcard or a name becomes loopback."""
    if host in ("", "0.0.0.0", "::", "localhost"):
        return "127.0.0.1"
    return host


def publish_kubernetes_service(registry: Registry, host: str, port: int) -> None:
    """Point the ``kubernetes`` Service, its Endpoints and its EndpointSlice at ``host:port``."""
    ip = advertised_address(host)
    endpoint_port = {"name": "https", "port": port, "protocol": "TCP"}
    service = registry.store.get("services", NAMESPACE, SERVICE_NAME)
    if service is not None:
        updated = deep_copy(service)
        for svc_port in updated.get("spec", {}).get("ports") or []:
            if svc_port.get("name") == "https":
                svc_port["targetPort"] = port
        _apply(lambda: registry.update(registry.resource("services"), NAMESPACE, SERVICE_NAME, updated))
    _put(registry, "endpoints", {
        "metadata": {"name": SERVICE_NAME, "namespace": NAMESPACE,
                     "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": ip}], "ports": [endpoint_port]}],
    })
    _put(registry, "endpointslices.discovery.k8s.io", {
        "metadata": {"name": SERVICE_NAME, "namespace": NAMESPACE,
                     "labels": {"kubernetes.io/service-name": SERVICE_NAME}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}],
        "ports": [endpoint_port],
    })


def _put(registry: Registry, resource: str, desired: Obj) -> None:
    rt = registry.resource(resource)
    current = registry.store.get(resource, NAMESPACE, SERVICE_NAME)
    if current is None:
        _apply(lambda: registry.create(rt, NAMESPACE, desired))
        return
    updated = deep_copy(current)
    updated["metadata"]["labels"] = desired["metadata"]["labels"]
    for field, value in desired.items():
        if field != "metadata":
            updated[field] = value
    _apply(lambda: registry.update(rt, NAMESPACE, SERVICE_NAME, updated))


def _apply(write: Callable[[], Any]) -> None:
    try:
        write()
    except errors.StatusError as exc:
        if exc.code != 409:
            raise
