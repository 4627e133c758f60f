"""Lists, paging, create options and deletecollection on the wire."""

from __future__ import annotations

import base64
import json
import re

import pytest

from kubeproof import Cluster

from ._http import API, query, status_of

NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _rv(obj: dict[str, object]) -> int:
    return int(obj["metadata"]["resourceVersion"])  # type: ignore[index]


def test_empty_list_shape(api: API, ns: str) -> None:
    response = api.get(f"/api/v1/namespaces/{ns}/configmaps")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert b'"items":[]' in response.body  # never null
    listed = response.json()
    assert list(listed) == ["kind", "apiVersion", "metadata", "items"]
    assert listed["kind"] == "ConfigMapList"
    assert listed["apiVersion"] == "v1"
    assert re.fullmatch(r"[1-9][0-9]*", listed["metadata"]["resourceVersion"])
    assert set(listed["metadata"]) == {"resourceVersion"}
    assert listed["items"] == []


def test_list_items_carry_no_kind_and_the_list_rv_is_current(cluster: Cluster, api: API, ns: str) -> None:
    first = api.create_configmap(ns, "b")
    second = api.create_configmap(ns, "a")
    listed = api.get(f"/api/v1/namespaces/{ns}/configmaps").json()
    assert [item["metadata"]["name"] for item in listed["items"]] == ["a", "b"]  # storage-key order
    for item in listed["items"]:
        assert "kind" not in item
        assert "apiVersion" not in item
    list_rv = int(listed["metadata"]["resourceVersion"])
    assert list_rv >= max(_rv(first), _rv(second))
    assert list_rv <= cluster.store.revision
    created = api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c"}}).json()
    assert created["kind"] == "ConfigMap"
    assert created["apiVersion"] == "v1"
    assert _rv(created) > list_rv


def test_group_list_across_namespaces(api: API, ns: str) -> None:
    listed = api.get("/apis/apps/v1/deployments").json()
    assert listed["kind"] == "DeploymentList"
    assert listed["apiVersion"] == "apps/v1"


def test_generate_name(api: API, ns: str) -> None:
    response = api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"generateName": "web-"}})
    assert response.status == 201, response
    meta = response.json()["metadata"]
    assert meta["generateName"] == "web-"
    assert re.fullmatch(rf"web-[{NAME_ALPHABET}]{{5}}", meta["name"]), meta["name"]
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps/{meta['name']}").status == 200

    long_prefix = "p" * 70
    response = api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"generateName": long_prefix}})
    assert response.status == 201, response
    assert response.json()["metadata"]["name"].startswith("p" * 58)
    assert len(response.json()["metadata"]["name"]) == 63


def test_dry_run_create_returns_the_object_and_stores_nothing(cluster: Cluster, api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    response = api.post(path + "?dryRun=All", {"metadata": {"name": "dry"}, "data": {"k": "v"}})
    assert response.status == 201
    obj = response.json()
    assert obj["kind"] == "ConfigMap"
    assert obj["metadata"]["name"] == "dry"
    assert obj["metadata"]["namespace"] == ns
    assert obj["metadata"]["uid"]
    assert obj["metadata"]["creationTimestamp"]
    assert "resourceVersion" not in obj["metadata"]
    assert cluster.store.get("configmaps", ns, "dry") is None
    assert api.get(f"{path}/dry").status == 404
    assert api.get(path).json()["items"] == []
    # A dry run still reports a name collision.
    api.create_configmap(ns, "taken")
    status = status_of(api.post(path + "?dryRun=All", {"metadata": {"name": "taken"}}), 409)
    assert status["reason"] == "AlreadyExists"


def test_unknown_query_parameters_are_ignored(api: API, ns: str) -> None:
    response = api.post(f"/api/v1/namespaces/{ns}/configmaps?bogus=1&also=&x=%ff", {"metadata": {"name": "q"}})
    assert response.status == 201, response
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps{query(bogus='yes', limit=5)}").status == 200


def test_deletecollection_with_a_label_selector(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for name, group in [("a1", "x"), ("a2", "x"), ("b1", "y")]:
        api.create_configmap(ns, name, labels={"group": group})
    response = api.delete(path + query(labelSelector="group=x"))
    assert response.status == 200, response
    deleted = response.json()
    assert deleted["kind"] == "ConfigMapList"
    assert deleted["apiVersion"] == "v1"
    assert sorted(item["metadata"]["name"] for item in deleted["items"]) == ["a1", "a2"]
    remaining = api.get(path).json()["items"]
    assert [item["metadata"]["name"] for item in remaining] == ["b1"]


def test_paging_with_limit_and_continue(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("p1", "p2", "p3"):
        api.create_configmap(ns, name)
    first = api.get(path + query(limit=2)).json()
    assert [item["metadata"]["name"] for item in first["items"]] == ["p1", "p2"]
    token = first["metadata"]["continue"]
    assert first["metadata"]["remainingItemCount"] == 1
    # The continued page is a snapshot of the first: a later change does not show.
    assert api.patch(f"{path}/p3", {"data": {"k": "changed"}}).status == 200
    second = api.get(path + query(limit=2, **{"continue": token})).json()
    assert [item["metadata"]["name"] for item in second["items"]] == ["p3"]
    assert second["items"][0]["data"] == {"k": "v"}
    assert "continue" not in second["metadata"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_continue_with_a_resource_version_is_400(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("c1", "c2"):
        api.create_configmap(ns, name)
    token = api.get(path + query(limit=1)).json()["metadata"]["continue"]
    status = status_of(api.get(path + query(limit=1, resourceVersion="5", **{"continue": token})), 400)
    assert status["message"] == "specifying resource version is not allowed when using continue"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("abc!!", "invalid continue token: continue key is not valid: illegal base64 data at input byte 3"),
        ("abcde", "invalid continue token: continue key is not valid: illegal base64 data at input byte 4"),
        (base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": 0, "start": "a"}).encode()).decode()
         .rstrip("="),
         "invalid continue token: continue key is not valid: incorrect encoded start resourceVersion "
         "(version meta.k8s.io/v1)"),
        (base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": 5, "start": ""}).encode()).decode()
         .rstrip("="),
         "invalid continue token: continue key is not valid: encoded start key empty"),
        (base64.urlsafe_b64encode(b"not json").decode().rstrip("="), None),
    ],
)
def test_malformed_continue_token_is_400(api: API, ns: str, token: str, message: str | None) -> None:
    status = status_of(api.get(f"/api/v1/namespaces/{ns}/configmaps" + query(**{"continue": token})), 400)
    assert status["reason"] == "BadRequest"
    if message is None:
        assert str(status["message"]).startswith("invalid continue token: continue key is not valid")
    else:
        assert status["message"] == message


def test_list_resource_version_too_new_is_504(cluster: Cluster, api: API, ns: str) -> None:
    future = cluster.store.revision + 1000
    response = api.get(f"/api/v1/namespaces/{ns}/configmaps" + query(resourceVersion=future,
                                                                      resourceVersionMatch="Exact"))
    status = status_of(response, 504)
    assert status["reason"] == "Timeout"
    assert str(status["message"]).startswith(f"Timeout: Too large resource version: {future}, current: ")
    assert status["details"]["retryAfterSeconds"] == 1  # type: ignore[index]
    assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"resourceVersionMatch": "Exact"},
         "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"),
        ({"resourceVersion": "0", "resourceVersionMatch": "Exact"},
         'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
        ({"resourceVersion": "1", "resourceVersionMatch": "Newest"},
         'resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'),
        ({"sendInitialEvents": "true"},
         "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"),
    ],
)
def test_invalid_list_options_are_422(api: API, ns: str, params: dict[str, str], message: str) -> None:
    status = status_of(api.get(f"/api/v1/namespaces/{ns}/configmaps" + query(**params)), 422)
    assert status["reason"] == "Invalid"
    assert status["message"] == f'ListOptions.meta.k8s.io "" is invalid: {message}'
    assert status["details"]["group"] == "meta.k8s.io"  # type: ignore[index]
    assert status["details"]["kind"] == "ListOptions"  # type: ignore[index]


@pytest.mark.parametrize("rv", ["abc", "+5", "1_0", " 5", "\u0663", "18446744073709551616", "-1"])
def test_a_resource_version_go_cannot_parse_is_400(api: API, ns: str, rv: str) -> None:
    """``strconv.ParseUint(rv, 10, 64)``: no sign, spaces, underscores, non-ASCII digits, nothing >= 2**64."""
    status = status_of(api.get(f"/api/v1/namespaces/{ns}/configmaps" + query(resourceVersion=rv)), 400)
    assert status["reason"] == "BadRequest"
    assert status["message"] == f"invalid resource version: {rv}"
