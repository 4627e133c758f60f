"""The Endpoints controller: one Endpoints object per Service with a selector, listing the selected pods.

After ``pkg/controller/endpoint/endpoints_controller.go``: ready pods go to ``addresses``, the others
(not finished, not terminating) to ``notReadyAddresses``; ``publishNotReadyAddresses`` puts every pod
with an IP in ``addresses``, terminating ones included; a named targetPort resolves through each pod's
container ports; headless Services without ports still list their pods. Subsets are repacked so pods
serving the same ports share one subset. Services without a selector are left alone (their Endpoints
belong to the user), and a deleted Service takes its Endpoints with it.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kubeproof.controllers import endpointsutil as util
from kubeproof.controllers.base import Controller
from kubeproof.server import errors
from kubeproof.server.options import DeleteOptions
from kubeproof.server.store import Event

Obj = dict[str, Any]


class EndpointsController(Controller):
    name = "endpoints"

    def initial_keys(self) -> list[Hashable]:
        services, _ = self.registry.store.list("services")
        return [(s["metadata"].get("namespace") or "", s["metadata"]["name"]) for s in services]

    def watches(self) -> frozenset[str] | None:
        return frozenset({"services", "endpoints", "pods"})

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == "services":
            return [event.key]
        if event.resource == "endpoints" and event.type == "DELETED":
            return [event.key]  # deleted while its Service lives on: put it back
        if event.resource == "pods":
            return list(util.services_for_pod_event(self.registry.store, event))
        return []

    def reconcile(self, key: Hashable) -> bool:
        assert isinstance(key, tuple)
        namespace, name = str(key[0]), str(key[1])
        store = self.registry.store
        rt = self.registry.resource("endpoints")
        service = store.get("services", namespace, name)
        existing = store.get("endpoints", namespace, name)
        if service is None:
            if existing is not None:
                try:
                    self.registry.delete(rt, namespace, name, DeleteOptions())
                except errors.StatusError as exc:
                    if exc.code != 404:
                        raise
            return False
        if not util.managed_service(service) or service["metadata"].get("deletionTimestamp"):
            return False
        desired: Obj = {"metadata": {"name": name, "namespace": namespace}}
        labels = util.service_labels(service)
        if labels:
            desired["metadata"]["labels"] = labels
        subsets = build_subsets(service, util.selected_pods(store, service))
        if subsets:
            desired["subsets"] = subsets
        if existing is None:
            try:
                self.registry.create(rt, namespace, desired)
            except errors.StatusError as exc:
                # 403/404: the namespace is going away; 409: created meanwhile, so look again.
                if exc.code == 409:
                    self.enqueue(key)
                elif exc.code not in (403, 404):
                    raise
            return False
        if (existing.get("subsets") or []) == subsets and (existing["metadata"].get("labels") or {}) == labels:
            return False
        updated = dict(existing)
        updated["metadata"] = {k: v for k, v in existing["metadata"].items() if k != "labels"}
        if labels:
            updated["metadata"]["labels"] = labels
        updated.pop("subsets", None)
        if subsets:
            updated["subsets"] = subsets
        try:
            self.registry.update(rt, namespace, name, updated)
        except errors.StatusError as exc:
            if exc.code == 409:
                self.enqueue(key)
            elif exc.code != 404:
                raise
        return False


def _address(service: Obj, pod: Obj) -> Obj:
    address: Obj = {"ip": util.pod_ip(pod)}
    hostname = util.hostname_for(service, pod)
    if hostname:
        address["hostname"] = hostname
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        address["nodeName"] = node
    address["targetRef"] = util.target_ref(pod)
    return address


def build_subsets(service: Obj, pods: list[Obj]) -> list[Obj]:
    """The Endpoints subsets for these pods, repacked by port set and sorted (``RepackSubsets``)."""
    spec = service.get("spec") or {}
    tolerate_unready = bool(spec.get("publishNotReadyAddresses"))
    has_ports = bool([p for p in spec.get("ports") or [] if isinstance(p, dict)])
    groups: dict[tuple[tuple[str, int, str], ...], tuple[list[Obj], list[Obj], list[Obj]]] = {}
    for pod in pods:
        if not util.should_be_in_endpoints(pod, tolerate_unready):
            continue
        if has_ports:
            ports = util.pod_ports(service, pod)
            if not ports:
                continue  # the pod serves none of the Service's ports
        elif util.is_headless(service):
            ports = []
        else:
            continue
        port_key = tuple(sorted((p["name"], p["port"], p["protocol"]) for p in ports))
        ready, not_ready, _ = groups.setdefault(port_key, ([], [], ports))
        if tolerate_unready or util.is_pod_ready(pod):
            ready.append(_address(service, pod))
        else:
            not_ready.append(_address(service, pod))
    subsets = []
    for port_key in sorted(groups):
        ready, not_ready, ports = groups[port_key]
        subset: Obj = {}
        order = _address_order
        if ready:
            subset["addresses"] = sorted(ready, key=order)
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=order)
        if ports:
            subset["ports"] = sorted(ports, key=lambda p: (p["name"], p["port"], p["protocol"]))
        subsets.append(subset)
    return subsets


def _address_order(address: Obj) -> tuple[tuple[int, ...], str]:
    ip = str(address.get("ip") or "")
    try:
        numeric = tuple(int(part) for part in ip.split("."))
    except ValueError:
        numeric = ()
    return numeric, str((address.get("targetRef") or {}).get("uid") or "")
