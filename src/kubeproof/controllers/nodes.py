"""The cluster's Nodes: Ready Node objects as a registered kubelet reports them, and their Leases, renewed.

``Cluster(nodes=...)`` takes a count, a list of names, or a list of dicts
``{"name": ..., "labels": {...}, "taints": [{"key": ..., "value": ..., "effect": "NoSchedule"}],
"unschedulable": bool, "capacity": {"cpu": "1", "pods": "5", "example.com/gpu": "2", ...}}`` (capacity
entries replace the defaults below; allocatable equals capacity); the default is one node,
``kubeproof-node-1``.
"""

from __future__ import annotations

import datetime
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from kubeproof.controllers.base import Controller
from kubeproof.controllers.kubelet import KUBELET_VERSION, NODE_IP
from kubeproof.server import errors
from kubeproof.server.registry.generic import Registry, deep_copy, now_rfc3339
from kubeproof.server.store import Event

Obj = dict[str, Any]
NodeSpec = str | Mapping[str, Any]

DEFAULT_NODE = "kubeproof-node-1"
LEASE_NAMESPACE = "kube-node-lease"

#: What a node offers the scheduler (a modest machine: 2 CPUs, 8 GiB, 110 pods).
CAPACITY = {"cpu": "2", "ephemeral-storage": "61202244Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
            "memory": "8148440Ki", "pods": "110"}


def node_specs(nodes: int | Sequence[NodeSpec] | None) -> list[Obj]:
    """Normalise ``Cluster(nodes=...)`` to dicts with a name."""
    if nodes is None:
        nodes = 1
    if isinstance(nodes, int):
        return [{"name": f"kubeproof-node-{i + 1}"} for i in range(nodes)]
    out: list[Obj] = []
    for entry in nodes:
        if isinstance(entry, str):
            out.append({"name": entry})
        else:
            if not entry.get("name"):
                raise ValueError(f"a node needs a name: {entry!r}")
            out.append(dict(entry))
    return out


def node_object(spec: Mapping[str, Any], now: str) -> Obj:
    name = str(spec["name"])
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    labels.update(spec.get("labels") or {})
    node_spec: Obj = {}
    taints = [dict(t) for t in spec.get("taints") or []]
    if spec.get("unschedulable"):
        node_spec["unschedulable"] = True
        taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": now})
    if taints:
        node_spec["taints"] = taints

    capacity = {**CAPACITY, **{str(k): str(v) for k, v in (spec.get("capacity") or {}).items()}}

    def cond(type_: str, status: str, reason: str, message: str) -> Obj:
        return {"type": type_, "status": status, "lastHeartbeatTime": now, "lastTransitionTime": now,
                "reason": reason, "message": message}

    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
        "spec": node_spec,
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
                     "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": NODE_IP}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": "", "systemUUID": "", "bootID": "",
                "kernelVersion": "6.1.0", "osImage": "kubeproof simulated node",
                "containerRuntimeVersion": "containerd://2.1.0",
                "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": "",
                "operatingSystem": "linux", "architecture": "amd64",
            },
            "images": [],
        },
    }


def ensure_nodes(registry: Registry, nodes: int | Sequence[NodeSpec] | None) -> list[str]:
    """Create the Nodes (status included, as a kubelet registering itself does) and their Leases."""
    node_rt = registry.resource("nodes")
    lease_rt = registry.resource("leases.coordination.k8s.io")
    names = []
    for spec in node_specs(nodes):
        now = now_rfc3339(registry.clock.now())
        node = node_object(spec, now)
        status = node["status"]
        created = registry.create(node_rt, "", node)
        created = dict(created, status=status)
        registry.update(node_rt, "", node["metadata"]["name"], created, subresource="status")
        name = node["metadata"]["name"]
        names.append(name)
        registry.create(lease_rt, LEASE_NAMESPACE, node_lease(created, micro_time(registry.clock.now())))
    return names


def micro_time(at: float) -> str:
    """A ``MicroTime`` (a Lease's ``renewTime``)."""
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class NodeStatusController(Controller):
    """The node side of the simulated kubelets.

    A Node created through the API (``kubectl create -f node.yaml``) has no status until its kubelet
    registers; here every Node is backed by the simulated kubelet, so its status is filled in as
    registration would (capacity, allocatable, Ready conditions, addresses, nodeInfo) and its Lease made.
    Every Node's Lease in ``kube-node-lease`` is renewed every 10 s of cluster time, the kubelet's
    interval (a quarter of the 40 s lease duration), so a ``ManualClock`` steers it too.
    """

    name = "node-status"
    renew_interval = 10.0

    def initial_keys(self) -> list[Hashable]:
        items, _ = self.registry.store.list("nodes")
        return [str(n["metadata"]["name"]) for n in items]

    def watches(self) -> frozenset[str] | None:
        return frozenset({"nodes"})

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == "nodes" and event.type == "ADDED":
            return [event.key[1]]
        return []

    def reconcile(self, key: Hashable) -> bool:
        name = str(key)
        node = self.registry.store.get("nodes", "", name)
        if node is None:
            return False  # its Lease goes with it (owner reference)
        now = self.clock.now()
        if not (node.get("status") or {}).get("capacity"):
            registered = deep_copy(node)
            registered["status"] = node_object({"name": name}, now_rfc3339(now))["status"]
            try:
                node = self.registry.update(self.registry.resource("nodes"), "", name, registered,
                                            subresource="status")
            except errors.StatusError as exc:
                if exc.code == 409:
                    self.enqueue(name)
                    return False
                if exc.code != 404:
                    raise
                return False
        self._renew(node, now)
        self.enqueue_after(name, self.renew_interval)
        return False

    def _renew(self, node: Obj, now: float) -> None:
        name = str(node["metadata"]["name"])
        lease_rt = self.registry.resource("leases.coordination.k8s.io")
        lease = self.registry.store.get(lease_rt.key, LEASE_NAMESPACE, name)
        try:
            if lease is None:
                self.registry.create(lease_rt, LEASE_NAMESPACE, node_lease(node, micro_time(now)))
            else:
                renewed = deep_copy(lease)
                renewed.setdefault("spec", {})["renewTime"] = micro_time(now)
                self.registry.update(lease_rt, LEASE_NAMESPACE, name, renewed)
        except errors.StatusError as exc:
            if exc.code not in (404, 409):  # the namespace or node went, or another writer won: next round
                raise


def node_lease(node: Obj, renew_time: str) -> Obj:
    name = str(node["metadata"]["name"])
    return {
        "metadata": {"name": name, "ownerReferences": [{
            "apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"]["uid"]}]},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": renew_time},
    }


__all__ = ["DEFAULT_NODE", "NodeStatusController", "ensure_nodes", "node_object", "node_specs"]
