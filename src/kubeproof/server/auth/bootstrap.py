"""The default ClusterRoles and ClusterRoleBindings kube-apiserver creates at start.

Transcribed from Kubernetes' ``plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/
cluster-roles.yaml`` and ``cluster-role-bindings.yaml`` (the roles users and clients rely on: the
user-facing ``cluster-admin``/``admin``/``edit``/``view`` with their aggregation labels, and the
``system:`` discovery, basic-user, public-info-viewer, monitoring and auth-delegator roles). The
controller-component roles (``system:kube-scheduler``, ``system:node``...) are left out: nothing here
runs as those users.
"""

from __future__ import annotations

from typing import Any

from kubeproof.server.auth.aggregation import aggregated_rules
from kubeproof.server.registry.generic import Registry

RBAC = "rbac.authorization.k8s.io"
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
BOOTSTRAP_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
RW = ["create", "delete", "deletecollection", "patch", "update"]
RO = ["get", "list", "watch"]
ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def _urls(urls: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"nonResourceURLs": urls, "verbs": verbs}


def _role(name: str, rules: list[dict[str, Any]] | None, labels: dict[str, str] | None = None,
          aggregate: str | None = None) -> dict[str, Any]:
    role: dict[str, Any] = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "annotations": dict(AUTOUPDATE), "labels": {**BOOTSTRAP_LABEL, **(labels or {})}},
    }
    if aggregate is not None:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {aggregate: "true"}}]}
    role["rules"] = rules if rules is not None else []
    return role


TO_ADMIN = f"{RBAC}/aggregate-to-admin"
TO_EDIT = f"{RBAC}/aggregate-to-edit"
TO_VIEW = f"{RBAC}/aggregate-to-view"


def cluster_roles() -> list[dict[str, Any]]:
    return [
        _role("admin", None, aggregate=TO_ADMIN),
        _role("cluster-admin", [_rule(["*"], ["*"], ["*"]), _urls(["*"], ["*"])]),
        _role("edit", None, {TO_ADMIN: "true"}, aggregate=TO_EDIT),
        _role("system:aggregate-to-admin", [
            _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
            _rule([RBAC], ["rolebindings", "roles"], ALL),
        ], {TO_ADMIN: "true"}),
        _role("system:aggregate-to-edit", [
            _rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
                  RO),
            _rule([""], ["serviceaccounts"], ["impersonate"]),
            _rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], RW),
            _rule([""], ["pods/eviction"], ["create"]),
            _rule([""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                         "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
                         "services/proxy"], RW),
            _rule([""], ["serviceaccounts/token"], ["create"]),
            _rule(["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                             "replicasets/scale", "statefulsets", "statefulsets/scale"], RW),
            _rule(["autoscaling"], ["horizontalpodautoscalers"], RW),
            _rule(["batch"], ["cronjobs", "jobs"], RW),
            _rule(["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                                   "ingresses", "networkpolicies", "replicasets", "replicasets/scale",
                                   "replicationcontrollers/scale"], RW),
            _rule(["policy"], ["poddisruptionbudgets"], RW),
            _rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], RW),
            _rule(["coordination.k8s.io"], ["leases"], ALL),
        ], {TO_EDIT: "true"}),
        _role("system:aggregate-to-view", [
            _rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                         "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                         "services/status"], RO),
            _rule([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                         "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], RO),
            _rule([""], ["namespaces"], RO),
            _rule(["discovery.k8s.io"], ["endpointslices"], RO),
            _rule(["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
                             "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
                             "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"], RO),
            _rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], RO),
            _rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], RO),
            _rule(["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                                   "deployments/status", "ingresses", "ingresses/status", "networkpolicies",
                                   "replicasets", "replicasets/scale", "replicasets/status",
                                   "replicationcontrollers/scale"], RO),
            _rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], RO),
            _rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], RO),
        ], {TO_VIEW: "true"}),
        _role("system:auth-delegator", [
            _rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
            _rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"]),
        ]),
        _role("system:basic-user", [
            _rule(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
            _rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
        ]),
        _role("system:discovery", [
            _urls(["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz",
                   "/version", "/version/"], ["get"]),
        ]),
        _role("system:monitoring", [
            _urls(["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz",
                   "/readyz/*"], ["get"]),
        ]),
        _role("system:public-info-viewer", [
            _urls(["/healthz", "/livez", "/readyz", "/version", "/version/"], ["get"]),
        ]),
        _role("system:service-account-issuer-discovery", [
            _urls(["/.well-known/openid-configuration", "/openid/v1/jwks"], ["get"]),
        ]),
        _role("view", None, {TO_EDIT: "true"}, aggregate=TO_VIEW),
    ]


def _binding(name: str, role: str, subjects: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "annotations": dict(AUTOUPDATE), "labels": dict(BOOTSTRAP_LABEL)},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": RBAC, "kind": kind, "name": subject} for kind, subject in subjects],
    }


def cluster_role_bindings() -> list[dict[str, Any]]:
    return [
        _binding("cluster-admin", "cluster-admin", [("Group", "system:masters")]),
        _binding("system:basic-user", "system:basic-user", [("Group", "system:authenticated")]),
        _binding("system:discovery", "system:discovery", [("Group", "system:authenticated")]),
        _binding("system:monitoring", "system:monitoring", [("Group", "system:monitoring")]),
        _binding("system:public-info-viewer", "system:public-info-viewer",
                 [("Group", "system:authenticated"), ("Group", "system:unauthenticated")]),
        _binding("system:service-account-issuer-discovery", "system:service-account-issuer-discovery",
                 [("Group", "system:serviceaccounts")]),
    ]


def ensure_bootstrap_policy(registry: Registry) -> None:
    """Create the default roles and bindings that are missing (kube-apiserver's ``rbac/bootstrap-roles``
    post-start hook; aggregated roles get their rules from the aggregation controller)."""
    roles = registry.resource(f"clusterroles.{RBAC}")
    bindings = registry.resource(f"clusterrolebindings.{RBAC}")
    for rt, objs in ((roles, cluster_roles()), (bindings, cluster_role_bindings())):
        for obj in objs:
            if registry.store.get(rt.key, "", obj["metadata"]["name"]) is None:
                registry.create(rt, "", obj)
    # fill the aggregated roles at once, so they are usable before the aggregation controller runs
    for role in registry.store.list(roles.key)[0]:
        rules = aggregated_rules(registry.store, role)
        if rules is not None and rules != (role.get("rules") or []):
            registry.update(roles, "", role["metadata"]["name"], {**role, "rules": rules})


def bind_anonymous_admin(registry: Registry) -> None:
    """Give ``system:anonymous`` cluster-admin (``kubeproof serve --http``: kubectl sends no credentials
    over plain HTTP)."""
    bindings = registry.resource(f"clusterrolebindings.{RBAC}")
    name = "kubeproof:anonymous-admin"
    if registry.store.get(bindings.key, "", name) is None:
        binding = _binding(name, "cluster-admin", [("User", "system:anonymous")])
        binding["metadata"].pop("annotations")
        binding["metadata"]["labels"] = {}
        registry.create(bindings, "", binding)
