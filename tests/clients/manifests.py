"""Minimal valid manifests for every built-in resource the server serves (one per resource)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RBAC = "rbac.authorization.k8s.io"
POD_TEMPLATE = {
    "metadata": {"labels": {"app": "demo"}},
    "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
}
SELECTOR = {"matchLabels": {"app": "demo"}}


@dataclass(frozen=True)
class ResourceCase:
    api_version: str
    kind: str
    plural: str
    namespaced: bool
    body: dict[str, Any]  # everything but metadata

    @property
    def id(self) -> str:
        group = self.api_version.rpartition("/")[0]
        return f"{self.plural}.{group}" if group else self.plural

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def manifest(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name, "labels": {"suite": "clients"}}
        if self.namespaced and namespace:
            meta["namespace"] = namespace
        body = _deep(self.body, name, namespace or "default")
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": meta, **body}


def _deep(value: Any, name: str, namespace: str = "default") -> Any:
    """A fresh copy with ``$NAME`` and ``$NS`` replaced by the object's name and namespace."""
    if isinstance(value, dict):
        return {k: _deep(v, name, namespace) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v, name, namespace) for v in value]
    if isinstance(value, str):
        return value.replace("$NAME", name).replace("$NS", namespace)
    return value


def _template(restart: str | None = None) -> dict[str, Any]:
    template = _deep(POD_TEMPLATE, "")
    if restart:
        template["spec"]["restartPolicy"] = restart
    return template


RESOURCES: list[ResourceCase] = [
    ResourceCase("v1", "Namespace", "namespaces", False, {}),
    # A scheduler nobody runs: the pod stays as created (no binding, no kubelet status) while the matrix checks it.
    ResourceCase("v1", "Pod", "pods", True, {"spec": {"containers": [{"name": "main", "image": "busybox:1.36"}],
                                                  "schedulerName": "unscheduled"}}),
    ResourceCase("v1", "Service", "services", True,
                 {"spec": {"selector": {"app": "demo"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
    ResourceCase("v1", "Endpoints", "endpoints", True,
                 {"subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 8080}]}]}),
    ResourceCase("v1", "ConfigMap", "configmaps", True, {"data": {"key": "value"}}),
    ResourceCase("v1", "Secret", "secrets", True, {"type": "Opaque", "data": {"key": "dmFsdWU="}}),
    ResourceCase("v1", "ServiceAccount", "serviceaccounts", True, {}),
    ResourceCase("v1", "Event", "events", True, {
        "involvedObject": {"kind": "Pod", "name": "some-pod", "namespace": "$NS", "apiVersion": "v1"},
        "reason": "Testing", "message": "a test event", "type": "Normal",
        "source": {"component": "kubeproof-tests"},
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z", "count": 1,
    }),
    ResourceCase("v1", "Node", "nodes", False, {"spec": {}}),
    ResourceCase("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True,
                 {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    ResourceCase("apps/v1", "Deployment", "deployments", True,
                 {"spec": {"replicas": 1, "selector": SELECTOR, "template": _template()}}),
    ResourceCase("apps/v1", "ReplicaSet", "replicasets", True,
                 {"spec": {"replicas": 1, "selector": SELECTOR, "template": _template()}}),
    ResourceCase("apps/v1", "StatefulSet", "statefulsets", True,
                 {"spec": {"serviceName": "$NAME", "selector": SELECTOR, "template": _template()}}),
    ResourceCase("apps/v1", "DaemonSet", "daemonsets", True, {"spec": {"selector": SELECTOR, "template": _template()}}),
    ResourceCase("batch/v1", "Job", "jobs", True, {"spec": {"template": _template("Never")}}),
    ResourceCase("batch/v1", "CronJob", "cronjobs", True, {
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": _template("OnFailure")}}},
    }),
    ResourceCase("coordination.k8s.io/v1", "Lease", "leases", True,
                 {"spec": {"holderIdentity": "holder-1", "leaseDurationSeconds": 15}}),
    ResourceCase("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True, {
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.1.2.3"]}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }),
    ResourceCase("events.k8s.io/v1", "Event", "events", True, {
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "kubeproof.dev/tests",
        "reportingInstance": "tests-1",
        "action": "Testing",
        "reason": "Testing",
        "type": "Normal",
        "note": "a test event",
        "regarding": {"kind": "Pod", "name": "some-pod", "namespace": "$NS", "apiVersion": "v1"},
    }),
    ResourceCase(f"{RBAC}/v1", "Role", "roles", True,
                 {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
    ResourceCase(f"{RBAC}/v1", "RoleBinding", "rolebindings", True, {
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "some-role"},
        "subjects": [{"kind": "User", "name": "jane", "apiGroup": RBAC}],
    }),
    ResourceCase(f"{RBAC}/v1", "ClusterRole", "clusterroles", False,
                 {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    ResourceCase(f"{RBAC}/v1", "ClusterRoleBinding", "clusterrolebindings", False, {
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "some-role"},
        "subjects": [{"kind": "Group", "name": "devs", "apiGroup": RBAC}],
    }),
    ResourceCase("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True,
                 {"spec": {"minAvailable": 1, "selector": SELECTOR}}),
]
