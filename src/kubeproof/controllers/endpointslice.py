"""The EndpointSlice controller: IPv4 EndpointSlices for every Service with a selector.

After ``pkg/controller/endpointslice`` and ``staging/src/k8s.io/endpointslice/reconciler.go``: every
selected pod with an IP that has not finished is an endpoint (terminating ones too), with the
conditions ``ready`` (Ready and not terminating, or ``publishNotReadyAddresses``), ``serving`` (Ready)
and ``terminating``. Endpoints serving the same ports share slices of at most 100; a Service with no
endpoints keeps one empty placeholder slice. Slices are named ``<service>-<random>``, labelled with
``kubernetes.io/service-name`` and ``endpointslice.kubernetes.io/managed-by`` plus the Service's labels,
and owned by the Service (controller ownerReference).
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

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS_PER_SLICE = 100
RESOURCE = "endpointslices.discovery.k8s.io"


def _ours(slice_: Obj) -> tuple[str, str] | None:
    meta = slice_.get("metadata") or {}
    labels = meta.get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != CONTROLLER_NAME or not labels.get(SERVICE_NAME_LABEL):
        return None
    return (meta.get("namespace") or "", str(labels[SERVICE_NAME_LABEL]))


class EndpointSliceController(Controller):
    name = "endpointslice"

    def initial_keys(self) -> list[Hashable]:
        services, _ = self.registry.store.list("services")
        keys: set[Hashable] = {(s["metadata"].get("namespace") or "", s["metadata"]["name"]) for s in services}
        slices, _ = self.registry.store.list(RESOURCE)
        keys.update(k for k in (_ours(s) for s in slices) if k is not None)
        return list(keys)

    def watches(self) -> frozenset[str] | None:
        return frozenset({"services", RESOURCE, "pods"})

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == "services":
            return [event.key]
        if event.resource == RESOURCE:
            key = _ours(event.obj)
            return [key] if key is not None else []
        if event.resource == "pods":
            return list(util.services_for_pod_event(self.registry.store, event))
        return []

    def reconcile(self, key: Hashable) -> bool:
        assert isinstance(key, tuple)
        namespace, name = str(key[0]), str(key[1])
        store = self.registry.store
        service = store.get("services", namespace, name)
        slices, _ = store.list(RESOURCE, namespace)
        mine = sorted((s for s in slices if _ours(s) == (namespace, name)),
                      key=lambda s: s["metadata"]["name"])
        if service is None or service["metadata"].get("deletionTimestamp"):
            # The garbage collector would do this through the ownerReference; do not depend on it.
            if service is None:
                for slice_ in mine:
                    self._delete(namespace, slice_["metadata"]["name"])
            return False
        if not util.managed_service(service):
            return False
        desired = self._desired(service)
        # Reuse slices serving the same ports first, then any other, so endpoints move in place.
        remaining = list(mine)
        plan: list[tuple[Obj | None, Obj]] = []
        for body in desired:
            match = next((s for s in remaining if s.get("ports") == body["ports"]), None)
            if match is not None:
                remaining.remove(match)
            plan.append((match, body))
        plan = [(current if current is not None else (remaining.pop(0) if remaining else None), body)
                for current, body in plan]
        for current, body in plan:
            if current is None:
                self._create(namespace, service, body)
            else:
                self._update(namespace, service, current, body)
        for slice_ in remaining:
            self._delete(namespace, slice_["metadata"]["name"])
        return False

    # -- desired state -----------------------------------------------------------------------------

    def _desired(self, service: Obj) -> list[Obj]:
        """Slice bodies (ports, endpoints) for the Service; one empty placeholder when there are none."""
        groups: dict[tuple[tuple[str, int, str], ...], tuple[list[Obj], list[Obj]]] = {}
        spec = service.get("spec") or {}
        has_ports = bool([p for p in spec.get("ports") or [] if isinstance(p, dict)])
        for pod in util.selected_pods(self.registry.store, service):
            if not util.should_be_in_endpoints(pod, include_terminating=True):
                continue
            ports = util.pod_ports(service, pod) if has_ports else []
            if has_ports and not ports:
                continue
            port_key = tuple(sorted((p["name"], p["port"], p["protocol"]) for p in ports))
            groups.setdefault(port_key, (ports, []))[1].append(self._endpoint(service, pod))
        bodies: list[Obj] = []
        for port_key in sorted(groups):
            ports, endpoints = groups[port_key]
            endpoints.sort(key=lambda e: (e["targetRef"]["name"], e["addresses"][0]))
            ports = sorted(ports, key=lambda p: (p["name"], p["port"], p["protocol"]))
            for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
                # (a headless Service without ports: kube-apiserver stores the empty list as null)
                bodies.append({"ports": ports or None,
                               "endpoints": endpoints[start:start + MAX_ENDPOINTS_PER_SLICE]})
        if not bodies:
            # kube-apiserver stores the placeholder's empty lists as null.
            bodies.append({"ports": None, "endpoints": None})
        return bodies

    def _endpoint(self, service: Obj, pod: Obj) -> Obj:
        publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
        ready = util.is_pod_ready(pod)
        terminating = util.is_terminating(pod)
        endpoint: Obj = {
            "addresses": [util.pod_ip(pod)],
            "conditions": {
                # "ready" is never true for a terminating pod unless not-ready addresses are published.
                "ready": publish or (ready and not terminating),
                "serving": ready,
                "terminating": terminating,
            },
        }
        hostname = util.hostname_for(service, pod)
        if hostname:
            endpoint["hostname"] = hostname
        endpoint["targetRef"] = util.target_ref(pod)
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            endpoint["nodeName"] = node
            zone = self._zone(str(node))
            if zone:
                endpoint["zone"] = zone
        return endpoint

    def _zone(self, node_name: str) -> str:
        node = self.registry.store.get("nodes", "", node_name)
        labels = ((node or {}).get("metadata") or {}).get("labels") or {}
        return str(labels.get("topology.kubernetes.io/zone") or "")

    def _labels(self, service: Obj) -> dict[str, str]:
        labels = util.service_labels(service)
        labels[SERVICE_NAME_LABEL] = service["metadata"]["name"]
        labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
        return labels

    @staticmethod
    def _owner(service: Obj) -> Obj:
        meta = service["metadata"]
        return {"apiVersion": "v1", "kind": "Service", "name": meta["name"], "uid": meta.get("uid"),
                "controller": True, "blockOwnerDeletion": True}

    # -- writes ------------------------------------------------------------------------------------

    def _create(self, namespace: str, service: Obj, body: Obj) -> None:
        obj: Obj = {
            "metadata": {
                "generateName": service["metadata"]["name"] + "-",
                "namespace": namespace,
                "labels": self._labels(service),
                "ownerReferences": [self._owner(service)],
            },
            "addressType": "IPv4",
            "endpoints": body["endpoints"],
            "ports": body["ports"],
        }
        try:
            self.registry.create(self.registry.resource(RESOURCE), namespace, obj)
        except errors.StatusError as exc:
            if exc.code not in (403, 404):  # the namespace is going away
                raise

    def _update(self, namespace: str, service: Obj, current: Obj, body: Obj) -> None:
        meta = current["metadata"]
        labels = self._labels(service)
        owners = [self._owner(service)]
        if (current.get("endpoints") == body["endpoints"] and current.get("ports") == body["ports"]
                and (meta.get("labels") or {}) == labels and meta.get("ownerReferences") == owners):
            return
        updated = dict(current)
        updated["metadata"] = dict(meta, labels=labels, ownerReferences=owners)
        updated["endpoints"] = body["endpoints"]
        updated["ports"] = body["ports"]
        try:
            self.registry.update(self.registry.resource(RESOURCE), namespace, meta["name"], updated)
        except errors.StatusError as exc:
            if exc.code == 409:
                self.enqueue((namespace, service["metadata"]["name"]))
            elif exc.code != 404:
                raise

    def _delete(self, namespace: str, name: str) -> None:
        try:
            self.registry.delete(self.registry.resource(RESOURCE), namespace, name, DeleteOptions())
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
