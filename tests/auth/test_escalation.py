"""RBAC escalation prevention: nobody grants or binds permissions they do not hold.

A ServiceAccount that may write Roles and RoleBindings in its namespace, driven through the official client
with its own token (and kubectl with its kubeconfig), gets kube-apiserver's exact 403 when a Role or a binding
would give more than it has, and succeeds once it holds the rules or the ``escalate``/``bind`` verb. The admin
(``system:masters``) is never checked. A test that passes here would fail on a real cluster without this.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster

from ._support import token_client, token_kubeconfig, unique

RBAC = "rbac.authorization.k8s.io"


def _rule(verbs: list[str], resources: list[str], groups: list[str] | None = None,
          names: list[str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"apiGroups": groups if groups is not None else [""], "resources": resources,
                            "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def _manager(rbac: Any, core: Any, namespace: str, extra_rules: list[dict[str, Any]] | None = None) -> str:
    """A ServiceAccount that may write Roles and RoleBindings and read pods in ``namespace``; its token."""
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "manager"}})
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "role-writer"}, "rules": [
        _rule(["create", "update", "get"], ["roles", "rolebindings"], [RBAC]),
        _rule(["get", "list"], ["pods"]),
        *(extra_rules or []),
    ]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "manager-role-writer"},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "role-writer"},
        "subjects": [{"kind": "ServiceAccount", "name": "manager", "namespace": namespace}],
    })
    token: str = core.create_namespaced_service_account_token("manager", namespace, {"spec": {}}).status.token
    return token


def _groups(namespace: str) -> str:
    return f'["system:serviceaccounts" "system:serviceaccounts:{namespace}" "system:authenticated"]'


def _forbidden(failed: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    assert failed.value.status == 403, failed.value.body
    status: dict[str, Any] = json.loads(failed.value.body)
    assert status["reason"] == "Forbidden"
    return status


def test_a_role_may_only_grant_what_its_writer_holds(
        cluster: Cluster, k8s_api_client: Any, namespace: str) -> None:
    rbac, core = client.RbacAuthorizationV1Api(k8s_api_client), client.CoreV1Api(k8s_api_client)
    sa_api = token_client(cluster, _manager(rbac, core, namespace))
    try:
        sa_rbac = client.RbacAuthorizationV1Api(sa_api)
        # held: get and list pods
        sa_rbac.create_namespaced_role(namespace, {"metadata": {"name": "reader"},
                                                   "rules": [_rule(["get", "list"], ["pods"])]})
        with pytest.raises(ApiException) as failed:
            sa_rbac.create_namespaced_role(namespace, {"metadata": {"name": "deleter"}, "rules": [
                _rule(["get", "delete", "patch"], ["pods"]), _rule(["get"], ["secrets"], names=["db"])]})
        user = f"system:serviceaccount:{namespace}:manager"
        assert _forbidden(failed) == {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden",
            "message": f'roles.{RBAC} "deleter" is forbidden: user "{user}" (groups={_groups(namespace)}) is '
                       "attempting to grant RBAC permissions not currently held:\n"
                       '{APIGroups:[""], Resources:["pods"], Verbs:["delete" "patch"]}\n'
                       '{APIGroups:[""], Resources:["secrets"], ResourceNames:["db"], Verbs:["get"]}',
            "details": {"name": "deleter", "group": RBAC, "kind": "roles"}, "code": 403,
        }
        # an update that would escalate is refused the same way; one that keeps within stays allowed
        reader = sa_rbac.read_namespaced_role("reader", namespace)
        reader.rules.append(client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["delete"]))
        with pytest.raises(ApiException) as updated:
            sa_rbac.replace_namespaced_role("reader", namespace, reader)
        assert "attempting to grant RBAC permissions not currently held" in _forbidden(updated)["message"]
        reader.rules = [client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get"])]
        sa_rbac.replace_namespaced_role("reader", namespace, reader)
        # the admin is in system:masters: never checked
        rbac.create_namespaced_role(namespace, {"metadata": {"name": "deleter"},
                                                "rules": [_rule(["delete"], ["pods"])]})
    finally:
        sa_api.close()


def test_escalate_verb_lets_a_role_grant_more(cluster: Cluster, k8s_api_client: Any, namespace: str) -> None:
    rbac, core = client.RbacAuthorizationV1Api(k8s_api_client), client.CoreV1Api(k8s_api_client)
    token = _manager(rbac, core, namespace, [_rule(["escalate"], ["roles"], [RBAC])])
    sa_api = token_client(cluster, token)
    try:
        created = client.RbacAuthorizationV1Api(sa_api).create_namespaced_role(
            namespace, {"metadata": {"name": "anything"}, "rules": [_rule(["*"], ["*"], ["*"])]})
        assert created.rules[0].verbs == ["*"]
    finally:
        sa_api.close()


def test_a_binding_needs_the_roles_rules_or_the_bind_verb(
        cluster: Cluster, k8s_api_client: Any, namespace: str, cleanup: list[tuple[str, ...]]) -> None:
    rbac, core = client.RbacAuthorizationV1Api(k8s_api_client), client.CoreV1Api(k8s_api_client)
    powerful = unique("powerful")
    rbac.create_cluster_role({"metadata": {"name": powerful}, "rules": [_rule(["delete"], ["pods"])]})
    cleanup.append(("clusterrole", powerful))
    binding = {
        "metadata": {"name": "to-powerful"},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": powerful},
        "subjects": [{"kind": "User", "name": "eve"}],
    }
    sa_api = token_client(cluster, _manager(rbac, core, namespace))
    try:
        sa_rbac = client.RbacAuthorizationV1Api(sa_api)
        with pytest.raises(ApiException) as failed:
            sa_rbac.create_namespaced_role_binding(namespace, binding)
        status = _forbidden(failed)
        assert status["message"] == (
            f'rolebindings.{RBAC} "to-powerful" is forbidden: user "system:serviceaccount:{namespace}:manager" '
            f"(groups={_groups(namespace)}) is attempting to grant RBAC permissions not currently held:\n"
            '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}')
        assert status["details"] == {"name": "to-powerful", "group": RBAC, "kind": "rolebindings"}

        # a binding to a role that does not exist: the registry's NotFound
        with pytest.raises(ApiException) as missing:
            sa_rbac.create_namespaced_role_binding(namespace, {
                **binding, "metadata": {"name": "to-nothing"},
                "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "nothing"}})
        assert missing.value.status == 404
        assert json.loads(missing.value.body)["message"] == f'roles.{RBAC} "nothing" not found'

        # the bind verb on that one ClusterRole is enough
        rbac.patch_namespaced_role("role-writer", namespace, {"rules": [
            _rule(["create", "update", "get"], ["roles", "rolebindings"], [RBAC]),
            _rule(["get", "list"], ["pods"]),
            _rule(["bind"], ["clusterroles"], [RBAC], names=[powerful]),
        ]})
        created = sa_rbac.create_namespaced_role_binding(namespace, binding)
        assert created.role_ref.name == powerful
    finally:
        sa_api.close()


def test_an_aggregation_rule_needs_cluster_admin(
        cluster: Cluster, k8s_api_client: Any, namespace: str, cleanup: list[tuple[str, ...]]) -> None:
    rbac, core = client.RbacAuthorizationV1Api(k8s_api_client), client.CoreV1Api(k8s_api_client)
    writer = unique("clusterrole-writer")
    rbac.create_cluster_role({"metadata": {"name": writer},
                              "rules": [_rule(["create"], ["clusterroles"], [RBAC])]})
    cleanup.append(("clusterrole", writer))
    rbac.create_cluster_role_binding({
        "metadata": {"name": writer},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": writer},
        "subjects": [{"kind": "ServiceAccount", "name": "manager", "namespace": namespace}],
    })
    cleanup.append(("clusterrolebinding", writer))
    sa_api = token_client(cluster, _manager(rbac, core, namespace))
    try:
        name = unique("aggregated")
        with pytest.raises(ApiException) as failed:
            client.RbacAuthorizationV1Api(sa_api).create_cluster_role({
                "metadata": {"name": name}, "rules": [],
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"team": "a"}}]}})
        assert _forbidden(failed)["message"] == (
            f'clusterroles.{RBAC} "{name}" is forbidden: must have cluster-admin privileges to use the '
            "aggregationRule")
    finally:
        sa_api.close()


def test_kubectl_reports_the_escalation(cluster: Cluster, k8s_api_client: Any, namespace: str) -> None:
    rbac, core = client.RbacAuthorizationV1Api(k8s_api_client), client.CoreV1Api(k8s_api_client)
    kubeconfig = token_kubeconfig(cluster, _manager(rbac, core, namespace), unique("manager"))
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "-n", namespace, "create", "role", "deleter",
         "--verb=delete", "--resource=pods"],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result
    assert result.stderr.strip() == (
        f'Error from server (Forbidden): roles.{RBAC} "deleter" is forbidden: user '
        f'"system:serviceaccount:{namespace}:manager" (groups={_groups(namespace)}) is attempting to grant '
        'RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}')
    allowed = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "-n", namespace, "create", "role", "lister",
         "--verb=list", "--resource=pods"],
        capture_output=True, text=True, timeout=60, check=False)
    assert allowed.returncode == 0, allowed
    assert allowed.stdout.strip() == "role.rbac.authorization.k8s.io/lister created"
