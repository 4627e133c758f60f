"""What the Endpoints and EndpointSlice controllers share: which pods a Service selects, whether a pod
is ready or terminating, and how a Service port's targetPort resolves on a pod.

After ``pkg/api/v1/pod/util.go`` (``IsPodReady``, ``FindPort``) and
``staging/src/k8s.io/endpointslice/util`` (``ShouldPodBeInEndpoints``).
"""

from __future__ import annotations

from typing import Any

from kubeproof.server.store import Event, Store

Obj = dict[str, Any]


def selector_of(service: Obj) -> dict[str, str] | None:
    """The Service's selector, or None when it selects nothing (no selector, or an empty one: an empty
    map does not survive kube-apiserver's storage round trip)."""
    selector = (service.get("spec") or {}).get("selector")
    if not isinstance(selector, dict) or not selector:
        return None
    return {str(k): str(v) for k, v in selector.items()}


def selects(selector: dict[str, str], labels: Any) -> bool:
    if not isinstance(labels, dict):
        return False
    return all(labels.get(k) == v for k, v in selector.items())


def managed_service(service: Obj) -> bool:
    """Services whose endpoints the controllers compute: a selector, and not ExternalName."""
    return selector_of(service) is not None and (service.get("spec") or {}).get("type") != "ExternalName"


def selected_pods(store: Store, service: Obj) -> list[Obj]:
    selector = selector_of(service)
    if selector is None:
        return []
    namespace = service["metadata"].get("namespace") or ""
    pods, _ = store.list("pods", namespace)
    return [p for p in pods if selects(selector, (p.get("metadata") or {}).get("labels"))]


def services_for_pod_event(store: Store, event: Event) -> list[tuple[str, str]]:
    """The Services whose selection a pod event may change (old or new labels match)."""
    namespace = event.key[0]
    label_sets = [(event.obj.get("metadata") or {}).get("labels")]
    if event.prev is not None:
        label_sets.append((event.prev.get("metadata") or {}).get("labels"))
    services, _ = store.list("services", namespace)
    keys = []
    for svc in services:
        selector = selector_of(svc)
        if selector is not None and any(selects(selector, labels) for labels in label_sets):
            keys.append((namespace, svc["metadata"]["name"]))
    return keys


def pod_ip(pod: Obj) -> str:
    status = pod.get("status") or {}
    ip = status.get("podIP")
    if isinstance(ip, str) and ip:
        return ip
    for entry in status.get("podIPs") or []:
        if isinstance(entry, dict) and isinstance(entry.get("ip"), str) and entry["ip"]:
            return str(entry["ip"])
    return ""


def is_pod_ready(pod: Obj) -> bool:
    """``IsPodReady``: the Ready condition is True."""
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def is_terminating(pod: Obj) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def should_be_in_endpoints(pod: Obj, include_terminating: bool) -> bool:
    """``ShouldPodBeInEndpoints``: an IP, not finished, and not terminating unless asked for."""
    if not pod_ip(pod):
        return False
    if not include_terminating and is_terminating(pod):
        return False
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def find_port(pod: Obj, service_port: Obj) -> int | None:
    """``FindPort``: a number targetPort as is; a named one through the containers' ports (same name and
    protocol). None when the pod does not have it."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in (container or {}).get("ports") or []:
            if not isinstance(port, dict):
                continue
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                number = port.get("containerPort")
                if isinstance(number, int):
                    return number
    return None


def endpoint_port(service_port: Obj, number: int) -> Obj:
    port: Obj = {"name": service_port.get("name") or "", "port": number,
                 "protocol": service_port.get("protocol") or "TCP"}
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def pod_ports(service: Obj, pod: Obj) -> list[Obj]:
    """The Service's ports as this pod serves them (ports the pod lacks are left out, as upstream does)."""
    ports = []
    for service_port in (service.get("spec") or {}).get("ports") or []:
        if not isinstance(service_port, dict):
            continue
        number = find_port(pod, service_port)
        if number is not None:
            ports.append(endpoint_port(service_port, number))
    return ports


def target_ref(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta.get("namespace") or "", "name": meta["name"], "uid": meta.get("uid")}


def hostname_for(service: Obj, pod: Obj) -> str:
    """A pod's hostname is published when its subdomain names the Service."""
    spec = pod.get("spec") or {}
    hostname = spec.get("hostname")
    if isinstance(hostname, str) and hostname and spec.get("subdomain") == service["metadata"]["name"]:
        return hostname
    return ""


def is_headless(service: Obj) -> bool:
    return (service.get("spec") or {}).get("clusterIP") == "None"


def service_labels(service: Obj) -> dict[str, str]:
    """Labels copied from the Service, plus the headless marker."""
    labels = {str(k): str(v) for k, v in ((service["metadata"].get("labels") or {}).items())}
    if is_headless(service):
        labels["service.kubernetes.io/headless"] = ""
    return labels
