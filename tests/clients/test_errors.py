"""Status errors as the official client sees them: 409 Conflict / AlreadyExists, 404 NotFound, 422 Invalid."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from ._support import status_body

pytestmark = pytest.mark.timeout(10)

DNS1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


@pytest.fixture
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


def _raises(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.headers["Content-Type"] == "application/json"
    return info.value.status, status_body(info.value)


def test_stale_update_is_409_conflict(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}, "data": {"k": "1"}})
    stale_rv = created.metadata.resource_version
    fresh = core.replace_namespaced_config_map(
        "x", namespace, {"metadata": {"name": "x", "resourceVersion": stale_rv}, "data": {"k": "2"}}
    )
    assert int(fresh.metadata.resource_version) > int(stale_rv)

    code, status = _raises(lambda: core.replace_namespaced_config_map(
        "x", namespace, {"metadata": {"name": "x", "resourceVersion": stale_rv}, "data": {"k": "3"}}
    ))
    assert code == 409
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Operation cannot be fulfilled on configmaps "x": the object has been modified; '
                   "please apply your changes to the latest version and try again",
        "reason": "Conflict",
        "details": {"name": "x", "kind": "configmaps"},
        "code": 409,
    }
    assert core.read_namespaced_config_map("x", namespace).data == {"k": "2"}


def test_patch_with_stale_resource_version_is_409(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    core.patch_namespaced_config_map("x", namespace, {"data": {"k": "1"}})
    code, status = _raises(lambda: core.patch_namespaced_config_map(
        "x", namespace, {"metadata": {"resourceVersion": created.metadata.resource_version}, "data": {"k": "2"}}
    ))
    assert code == 409
    assert status["reason"] == "Conflict"
    assert status["message"].startswith('Operation cannot be fulfilled on configmaps "x": the object has been modified')


def test_create_existing_is_409_already_exists(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    code, status = _raises(lambda: core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}}))
    assert code == 409
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'configmaps "x" already exists'
    assert status["details"] == {"name": "x", "kind": "configmaps"}


def test_create_existing_group_resource_names_the_group(k8s_api_client: Any, namespace: str) -> None:
    rbac = client.RbacAuthorizationV1Api(k8s_api_client)
    body = {"metadata": {"name": "reader"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
    rbac.create_namespaced_role(namespace, body)
    code, status = _raises(lambda: rbac.create_namespaced_role(namespace, body))
    assert code == 409
    assert status["message"] == 'roles.rbac.authorization.k8s.io "reader" already exists'
    assert status["details"] == {"name": "reader", "group": "rbac.authorization.k8s.io", "kind": "roles"}


def test_get_missing_is_404_not_found(core: client.CoreV1Api, namespace: str) -> None:
    code, status = _raises(lambda: core.read_namespaced_config_map("missing", namespace))
    assert code == 404
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "missing" not found',
        "reason": "NotFound",
        "details": {"name": "missing", "kind": "configmaps"},
        "code": 404,
    }


def test_missing_group_resource_is_404_with_group(k8s_api_client: Any, namespace: str) -> None:
    apps = client.AppsV1Api(k8s_api_client)
    code, status = _raises(lambda: apps.read_namespaced_deployment("missing", namespace))
    assert code == 404
    assert status["message"] == 'deployments.apps "missing" not found'
    assert status["details"] == {"name": "missing", "group": "apps", "kind": "deployments"}


def test_delete_missing_is_404(core: client.CoreV1Api, namespace: str) -> None:
    code, status = _raises(lambda: core.delete_namespaced_secret("missing", namespace))
    assert code == 404
    assert status["message"] == 'secrets "missing" not found'


def test_create_in_missing_namespace_is_404(core: client.CoreV1Api) -> None:
    code, status = _raises(lambda: core.create_namespaced_config_map("no-such-ns", {"metadata": {"name": "x"}}))
    assert code == 404
    assert status["message"] == 'namespaces "no-such-ns" not found'


def test_bad_name_is_422_invalid_with_causes(core: client.CoreV1Api, namespace: str) -> None:
    code, status = _raises(lambda: core.create_namespaced_config_map(namespace, {"metadata": {"name": "Bad_Name"}}))
    assert code == 422
    assert status["reason"] == "Invalid"
    assert status["message"] == (
        f'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": {DNS1123_SUBDOMAIN}'
    )
    assert status["details"] == {
        "name": "Bad_Name",
        "kind": "ConfigMap",
        "causes": [
            {
                "reason": "FieldValueInvalid",
                "message": f'Invalid value: "Bad_Name": {DNS1123_SUBDOMAIN}',
                "field": "metadata.name",
            }
        ],
    }
    # (nothing but the namespace's own kube-root-ca.crt)
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == ["kube-root-ca.crt"]


def test_missing_name_is_422(core: client.CoreV1Api, namespace: str) -> None:
    code, status = _raises(lambda: core.create_namespaced_config_map(namespace, {"metadata": {}}))
    assert code == 422
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value: name or generateName is required",
            "field": "metadata.name",
        }
    ]


def test_invalid_spec_is_422_with_group_kind(k8s_api_client: Any, namespace: str) -> None:
    apps = client.AppsV1Api(k8s_api_client)
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "other"}},
                         "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
        },
    }
    code, status = _raises(lambda: apps.create_namespaced_deployment(namespace, body))
    assert code == 422
    assert status["reason"] == "Invalid"
    assert status["message"].startswith(
        'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value'
    )
    assert status["details"]["group"] == "apps"
    assert status["details"]["kind"] == "Deployment"
    assert any(c["field"] == "spec.template.metadata.labels" for c in status["details"]["causes"])


def test_delete_precondition_mismatch_is_409_naming_the_kind(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    uid = created.metadata.uid
    options = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-the-uid"))
    code, status = _raises(lambda: core.delete_namespaced_config_map("x", namespace, body=options))
    assert code == 409
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on ConfigMap "x": the UID in the precondition (not-the-uid) does not match '
        f"the UID in record ({uid}). The object might have been deleted and then recreated"
    )
    assert status["details"] == {"name": "x", "kind": "ConfigMap"}

    matching = client.V1DeleteOptions(preconditions=client.V1Preconditions(
        uid=uid, resource_version=created.metadata.resource_version))
    assert core.delete_namespaced_config_map("x", namespace, body=matching)["status"] == "Success"
