"""The scope mistake the issue names: a ServiceAccount with a namespaced Role watches pods cluster-wide.

It gets the apiserver's exact 403 through the official client with a TokenRequest token, and the same
watch succeeds once a ClusterRole and ClusterRoleBinding grant it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._support import token_client, unique


def _request_token(core: Any, namespace: str, name: str) -> str:
    answer = core.create_namespaced_service_account_token(name, namespace, {"spec": {}})
    token: str = answer.status.token
    return token


def test_namespaced_role_cannot_watch_cluster_wide_until_cluster_role(
    cluster: Cluster, k8s_api_client: Any, namespace: str, cleanup: list[tuple[str, ...]]
) -> None:
    core = client.CoreV1Api(k8s_api_client)
    rbac = client.RbacAuthorizationV1Api(k8s_api_client)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "gateway"}})
    rbac.create_namespaced_role(namespace, {
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
    })
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "gateway-pod-reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "gateway", "namespace": namespace}],
    })
    token = _request_token(core, namespace, "gateway")
    sa_api = token_client(cluster, token)
    try:
        sa_core = client.CoreV1Api(sa_api)
        assert sa_core.list_namespaced_pod(namespace).items == []  # the Role works in its namespace

        with pytest.raises(ApiException) as failed:
            for _ in watch.Watch().stream(sa_core.list_pod_for_all_namespaces, timeout_seconds=5):
                break
        assert failed.value.status == 403
        status = json.loads(failed.value.body)
        user = f"system:serviceaccount:{namespace}:gateway"
        assert status == {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f'pods is forbidden: User "{user}" cannot watch resource "pods" in API group "" '
                       "at the cluster scope",
            "reason": "Forbidden", "details": {"kind": "pods"}, "code": 403,
        }
        with pytest.raises(ApiException) as listed:
            sa_core.list_pod_for_all_namespaces()
        assert json.loads(listed.value.body)["message"] == (
            f'pods is forbidden: User "{user}" cannot list resource "pods" in API group "" at the cluster scope')

        role, binding = unique("pod-watcher"), unique("gateway-pod-watcher")
        rbac.create_cluster_role({"metadata": {"name": role}, "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]})
        cleanup.append(("clusterrole", role))
        rbac.create_cluster_role_binding({
            "metadata": {"name": binding},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "gateway", "namespace": namespace}],
        })
        cleanup.append(("clusterrolebinding", binding))
        core.create_namespaced_pod(namespace, {"metadata": {"name": "seen"},
                                               "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
        names = set()
        for event in watch.Watch().stream(sa_core.list_pod_for_all_namespaces, timeout_seconds=30):
            names.add(event["object"].metadata.name)
            if "seen" in names:
                break
        assert "seen" in names
    finally:
        sa_api.close()


def test_role_binding_to_deleted_role_reports_rbac_reason(
    cluster: Cluster, k8s_api_client: Any, namespace: str
) -> None:
    """A binding whose role is missing names it in the 403 (``: RBAC: role... not found``)."""
    core = client.CoreV1Api(k8s_api_client)
    rbac = client.RbacAuthorizationV1Api(k8s_api_client)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "orphan"}})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "dangling"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "missing"},
        "subjects": [{"kind": "ServiceAccount", "name": "orphan"}],
    })
    sa_api = token_client(cluster, _request_token(core, namespace, "orphan"))
    try:
        with pytest.raises(ApiException) as failed:
            client.CoreV1Api(sa_api).read_namespaced_config_map("x", namespace)
        assert failed.value.status == 403
        assert json.loads(failed.value.body)["message"] == (
            f'configmaps "x" is forbidden: User "system:serviceaccount:{namespace}:orphan" cannot get resource '
            f'"configmaps" in API group "" in the namespace "{namespace}": RBAC: '
            'role.rbac.authorization.k8s.io "missing" not found')
        assert json.loads(failed.value.body)["details"] == {"name": "x", "kind": "configmaps"}
    finally:
        sa_api.close()


def test_aggregated_cluster_role_picks_up_new_rules(
    cluster: Cluster, k8s_api_client: Any, cleanup: list[tuple[str, ...]]
) -> None:
    rbac = client.RbacAuthorizationV1Api(k8s_api_client)
    view_rules = rbac.read_cluster_role("view").rules
    assert any("pods" in (r.resources or []) for r in view_rules)  # bootstrap aggregation filled it
    name = unique("widgets-view")
    rbac.create_cluster_role({
        "metadata": {"name": name, "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
        "rules": [{"apiGroups": ["example.com"], "resources": [name], "verbs": ["get"]}],
    })
    cleanup.append(("clusterrole", name))

    def aggregated(role: str) -> None:
        assert any(name in (r.resources or []) for r in rbac.read_cluster_role(role).rules or [])

    # view -> edit -> admin: each aggregates the next level down
    for role in ("view", "edit", "admin"):
        eventually(lambda role=role: aggregated(role))
    rbac.delete_cluster_role(name)

    def gone() -> None:
        assert not any(name in (r.resources or []) for r in rbac.read_cluster_role("admin").rules or [])

    eventually(gone)
