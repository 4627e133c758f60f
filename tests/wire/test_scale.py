"""The ``scale`` subresource of deployments, replicasets and statefulsets (``ScaleREST``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from kubeproof import Cluster

from ._http import API, status_of, unique


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """No controllers: the workloads' status and replicas stay as the tests write them."""
    with Cluster(tls=False, controllers=[]) as c:
        yield c

KINDS = [
    ("deployments", "Deployment"),
    ("replicasets", "ReplicaSet"),
    ("statefulsets", "StatefulSet"),
]


def workload(kind: str, name: str, replicas: int = 2) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name},
                     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]},
        "template": {"metadata": {"labels": {"app": name, "tier": "web"}},
                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
    }
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def create(api: API, ns: str, plural: str, kind: str, replicas: int = 2) -> dict[str, Any]:
    name = unique("w")
    response = api.post(f"/apis/apps/v1/namespaces/{ns}/{plural}", workload(kind, name, replicas))
    assert response.status == 201, response
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("plural", "kind"), KINDS)
def test_get_scale_describes_the_parent(api: API, ns: str, plural: str, kind: str) -> None:
    parent = create(api, ns, plural, kind)
    name = parent["metadata"]["name"]
    response = api.get(f"/apis/apps/v1/namespaces/{ns}/{plural}/{name}/scale")
    assert response.status == 200, response
    meta = parent["metadata"]
    assert response.json() == {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": name, "namespace": ns, "uid": meta["uid"], "resourceVersion": meta["resourceVersion"],
                     "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": 2},
        "status": {"replicas": 0, "selector": f"app={name},tier in (api,web)"},
    }


@pytest.mark.parametrize(("plural", "kind"), KINDS)
def test_put_scale_changes_the_parent_replicas(api: API, ns: str, plural: str, kind: str) -> None:
    parent = create(api, ns, plural, kind)
    name = parent["metadata"]["name"]
    path = f"/apis/apps/v1/namespaces/{ns}/{plural}/{name}"
    scale = api.get(f"{path}/scale").json()
    scale["spec"]["replicas"] = 5
    response = api.put(f"{path}/scale", scale)
    assert response.status == 200, response
    answered = response.json()
    assert answered["kind"] == "Scale" and answered["spec"] == {"replicas": 5}
    stored = api.get(path).json()
    assert stored["spec"]["replicas"] == 5
    assert answered["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    assert int(stored["metadata"]["resourceVersion"]) > int(parent["metadata"]["resourceVersion"])
    assert stored["metadata"]["generation"] == 2
    # The writer (no User-Agent: "unknown") owns the parent's replicas, recorded for the subresource.
    owners = [e for e in stored["metadata"]["managedFields"] if e.get("subresource") == "scale"]
    assert owners == [{
        "manager": "unknown", "operation": "Update", "apiVersion": "apps/v1",
        "time": owners[0]["time"], "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}},
        "subresource": "scale",
    }]


def test_stale_resource_version_is_a_conflict(api: API, ns: str) -> None:
    parent = create(api, ns, "deployments", "Deployment")
    name = parent["metadata"]["name"]
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"
    scale = api.get(f"{path}/scale").json()
    assert api.patch(path, {"metadata": {"labels": {"x": "y"}}}).status == 200
    scale["spec"]["replicas"] = 7
    status = status_of(api.put(f"{path}/scale", scale), 409)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        f'Operation cannot be fulfilled on deployments.apps "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert api.get(path).json()["spec"]["replicas"] == 2


@pytest.mark.parametrize(("patch_type", "body"), [
    ("application/merge-patch+json", {"spec": {"replicas": 4}}),
    ("application/strategic-merge-patch+json", {"spec": {"replicas": 4}}),
    ("application/json-patch+json", [{"op": "replace", "path": "/spec/replicas", "value": 4}]),
])
def test_patch_scale(api: API, ns: str, patch_type: str, body: Any) -> None:
    parent = create(api, ns, "deployments", "Deployment")
    name = parent["metadata"]["name"]
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"
    response = api.patch(f"{path}/scale", body, patch_type)
    assert response.status == 200, response
    assert response.json()["kind"] == "Scale"
    assert response.json()["spec"] == {"replicas": 4}
    assert api.get(path).json()["spec"]["replicas"] == 4


def test_patch_scale_with_a_stale_resource_version(api: API, ns: str) -> None:
    parent = create(api, ns, "replicasets", "ReplicaSet")
    name = parent["metadata"]["name"]
    path = f"/apis/apps/v1/namespaces/{ns}/replicasets/{name}"
    assert api.patch(path, {"metadata": {"labels": {"x": "y"}}}).status == 200
    body = {"metadata": {"resourceVersion": parent["metadata"]["resourceVersion"]}, "spec": {"replicas": 3}}
    status = status_of(api.patch(f"{path}/scale", body), 409)
    assert status["message"] == (
        f'Operation cannot be fulfilled on replicasets.apps "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_apply_scale_then_conflict_with_another_applier(api: API, ns: str) -> None:
    parent = create(api, ns, "deployments", "Deployment")
    name = parent["metadata"]["name"]
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"
    config = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": name}, "spec": {"replicas": 6}}
    # The creator owns the replicas, seen through the Scale's version.
    status = status_of(api.patch(f"{path}/scale?fieldManager=hpa", config, "application/apply-patch+yaml"), 409)
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "unknown" using autoscaling/v1: ' \
        ".spec.replicas"
    response = api.patch(f"{path}/scale?fieldManager=hpa&force=true", config, "application/apply-patch+yaml")
    assert response.status == 200, response
    assert response.json()["spec"] == {"replicas": 6}
    stored = api.get(path).json()
    assert stored["spec"]["replicas"] == 6
    hpa = [e for e in stored["metadata"]["managedFields"] if e.get("manager") == "hpa"]
    assert [(e["operation"], e["apiVersion"], e["subresource"], e["fieldsV1"]) for e in hpa] == [
        ("Apply", "apps/v1", "scale", {"f:spec": {"f:replicas": {}}}),
    ]
    config["spec"] = {"replicas": 1}
    status = status_of(api.patch(f"{path}/scale?fieldManager=other", config, "application/apply-patch+yaml"), 409)
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "hpa" with subresource "scale": ' \
        ".spec.replicas"
    forced = api.patch(f"{path}/scale?fieldManager=other&force=true", config, "application/apply-patch+yaml")
    assert forced.status == 200, forced
    assert api.get(path).json()["spec"]["replicas"] == 1


def test_negative_replicas_are_invalid(api: API, ns: str) -> None:
    parent = create(api, ns, "deployments", "Deployment")
    name = parent["metadata"]["name"]
    status = status_of(api.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale",
                                 {"spec": {"replicas": -1}}), 422)
    assert status["message"] == (
        f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    )
    assert status["details"] == {
        "name": name, "group": "autoscaling", "kind": "Scale",
        "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be greater than or equal to 0",
                    "field": "spec.replicas"}],
    }


def test_uid_precondition(api: API, ns: str) -> None:
    parent = create(api, ns, "deployments", "Deployment")
    name = parent["metadata"]["name"]
    status = status_of(api.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale",
                                 {"metadata": {"uid": "other"}, "spec": {"replicas": 3}}), 409)
    assert status["message"] == (
        f'Operation cannot be fulfilled on deployments/scale.apps "{name}": Precondition failed: '
        f"UID in precondition: other, UID in object meta: {parent['metadata']['uid']}"
    )


def test_scale_of_a_missing_object(api: API, ns: str) -> None:
    status = status_of(api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/nope/scale"), 404)
    assert status["message"] == 'deployments/scale.apps "nope" not found'
    assert status["details"] == {"name": "nope", "group": "apps", "kind": "deployments/scale"}


def test_a_scale_body_of_another_kind_is_refused(api: API, ns: str) -> None:
    parent = create(api, ns, "deployments", "Deployment")
    name = parent["metadata"]["name"]
    status = status_of(api.put(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", parent), 400)
    assert status["message"] == "the API version in the data (apps/v1) does not match the expected API version " \
        "(autoscaling/v1)"


def test_discovery_lists_the_scale_subresource(api: API) -> None:
    resources = api.get("/apis/apps/v1").json()["resources"]
    scales = {r["name"]: r for r in resources if r["name"].endswith("/scale")}
    assert set(scales) == {"deployments/scale", "replicasets/scale", "statefulsets/scale"}
    assert scales["deployments/scale"] == {
        "name": "deployments/scale", "singularName": "", "namespaced": True, "group": "autoscaling",
        "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
    }


def test_a_patched_scale_of_the_wrong_type_is_a_decode_error(api: API, ns: str) -> None:
    parent = create(api, ns, "deployments", "Deployment")
    name = parent["metadata"]["name"]
    status = status_of(api.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale",
                                 {"spec": {"replicas": "3"}}), 422)
    meta = parent["metadata"]
    patched = (
        '{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"creationTimestamp":"'
        + meta["creationTimestamp"] + f'","name":"{name}","namespace":"{ns}","resourceVersion":"'
        + meta["resourceVersion"] + '","uid":"' + meta["uid"] + '"},"spec":{"replicas":"3"},'
        f'"status":{{"replicas":0,"selector":"app={name},tier in (api,web)"}}}}'
    )
    why = "json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32"
    assert status["message"] == ' "" is invalid: patch: Invalid value: ' + json.dumps(patched) + f": {why}"
    assert api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}").json()["spec"]["replicas"] == 2
