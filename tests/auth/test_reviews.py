"""SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview and TokenReview through the
official client, with the RBAC authorizer's reasons and the reviews' validation errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster


def _sar(user: str, namespace: str, verb: str, resource: str) -> dict[str, Any]:
    return {"spec": {"user": user, "resourceAttributes": {"namespace": namespace, "verb": verb,
                                                          "resource": resource}}}


def test_access_reviews_say_which_binding_allowed(cluster: Cluster, k8s_api_client: Any, namespace: str) -> None:
    authz = client.AuthorizationV1Api(k8s_api_client)
    cluster.kubectl("create", "role", "reader", "-n", namespace, "--verb=get", "--resource=configmaps")
    cluster.kubectl("create", "rolebinding", "kim-reader", "-n", namespace, "--role=reader", "--user=kim")
    allowed = authz.create_subject_access_review(_sar("kim", namespace, "get", "configmaps"))
    assert allowed.status.allowed is True
    assert allowed.status.reason == (
        f'RBAC: allowed by RoleBinding "kim-reader/{namespace}" of Role "reader" to User "kim"')
    denied = authz.create_subject_access_review(_sar("kim", namespace, "delete", "configmaps"))
    assert denied.status.allowed is False and not denied.status.reason
    local = authz.create_namespaced_local_subject_access_review(
        namespace, {"metadata": {"namespace": namespace}, **_sar("kim", namespace, "get", "configmaps")})
    assert local.status.allowed is True
    cluster_wide = authz.create_subject_access_review(
        {"spec": {"groups": ["system:masters"], "user": "x", "resourceAttributes": {"verb": "delete",
                                                                                    "resource": "nodes"}}})
    assert cluster_wide.status.allowed is True


def test_access_review_validation(k8s_api_client: Any) -> None:
    authz = client.AuthorizationV1Api(k8s_api_client)
    with pytest.raises(ApiException) as failed:
        authz.create_subject_access_review({"spec": {"resourceAttributes": {"verb": "get"}}})
    assert failed.value.status == 422
    assert json.loads(failed.value.body)["message"] == (
        'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of '
        "user or group must be specified")
    with pytest.raises(ApiException) as empty:
        authz.create_self_subject_access_review({"spec": {}})
    assert json.loads(empty.value.body)["message"] == (
        'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Required value: '
        "exactly one of nonResourceAttributes or resourceAttributes must be specified")


def test_self_subject_rules_review(cluster: Cluster, k8s_api_client: Any, namespace: str) -> None:
    authz = client.AuthorizationV1Api(k8s_api_client)
    review = authz.create_self_subject_rules_review({"spec": {"namespace": namespace}})
    assert review.status.incomplete is False
    assert {"verbs": ["*"], "api_groups": ["*"], "resources": ["*"], "resource_names": None} in [
        r.to_dict() for r in review.status.resource_rules]
    with pytest.raises(ApiException) as failed:
        authz.create_self_subject_rules_review({"spec": {}})
    assert failed.value.status == 400
    assert json.loads(failed.value.body)["message"] == "no namespace on request"


def test_token_review(cluster: Cluster, k8s_api_client: Any, namespace: str) -> None:
    authn = client.AuthenticationV1Api(k8s_api_client)
    cluster.kubectl("create", "serviceaccount", "reviewed", "-n", namespace)
    token = cluster.kubectl("create", "token", "reviewed", "-n", namespace).stdout.strip()
    review = authn.create_token_review({"spec": {"token": token}})
    assert review.status.authenticated is True
    assert review.status.user.username == f"system:serviceaccount:{namespace}:reviewed"
    bad = authn.create_token_review({"spec": {"token": "nope"}})
    assert not bad.status.authenticated
