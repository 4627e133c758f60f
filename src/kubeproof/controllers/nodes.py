"""The cluster's Nodes: Ready Node objects as a registered kubelet reports them, and their Leases.

``Cluster(nodes=...)`` takes a count, a list of names, or a list of dicts
``{"name": ..., "labels": {...}, "taints": [{"key": ..., "value": ..., "effect": "NoSchedule"}],
"unschedulable": bool}``; the default is one node, ``kubeproof-node-1``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubeproof.controllers.kubelet import KUBELET_VERSION, NODE_IP
from kubeproof.server.registry.generic import Registry, now_rfc3339

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
            "capacity": dict(CAPACITY),
            "allocatable": dict(CAPACITY),
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
        micro = now.replace("Z", ".000000Z")
        registry.create(lease_rt, LEASE_NAMESPACE, {
            "metadata": {"name": name, "ownerReferences": [{
                "apiVersion": "v1", "kind": "Node", "name": name, "uid": created["metadata"]["uid"]}]},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": micro},
        })
    return names


__all__ = ["DEFAULT_NODE", "ensure_nodes", "node_object", "node_specs"]
