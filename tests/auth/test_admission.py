"""ServiceAccount admission: the default account, and the 403 for a pod naming a missing account."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

POD = {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def test_pod_defaults_to_the_default_service_account(k8s_api_client: Any, namespace: str) -> None:
    core = client.CoreV1Api(k8s_api_client)
    pod = core.create_namespaced_pod(namespace, {"metadata": {"name": "plain"}, **POD})
    assert pod.spec.service_account_name == "default"
    assert pod.spec.service_account == "default"


def test_pod_naming_a_missing_service_account_is_forbidden(k8s_api_client: Any, namespace: str) -> None:
    core = client.CoreV1Api(k8s_api_client)
    body = {"metadata": {"name": "lost"}, "spec": {**POD["spec"], "serviceAccountName": "ghost"}}
    with pytest.raises(ApiException) as failed:
        core.create_namespaced_pod(namespace, body)
    assert failed.value.status == 403
    assert json.loads(failed.value.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'pods "lost" is forbidden: error looking up service account {namespace}/ghost: '
                   'serviceaccount "ghost" not found',
        "reason": "Forbidden", "details": {"name": "lost", "kind": "pods"}, "code": 403}
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "ghost"}})
    pod = core.create_namespaced_pod(namespace, body)
    assert pod.spec.service_account_name == "ghost"
