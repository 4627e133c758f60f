"""Discovery on the wire: /version, legacy documents, aggregated discovery, health endpoints."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ._http import API

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
KUBECTL_ACCEPT = f"{AGGREGATED},application/json"  # what client-go sends to /api and /apis


def test_version(api: API) -> None:
    response = api.get("/version")
    assert response.status == 200
    assert response.content_type == "application/json"
    info = response.json()
    assert re.fullmatch(r"v1\.37\.\d+", info["gitVersion"])
    assert (info["major"], info["minor"]) == ("1", "37")
    assert (info["emulationMajor"], info["emulationMinor"]) == ("1", "37")
    assert info["gitTreeState"] == "clean"
    assert info["compiler"] == "gc"
    assert re.fullmatch(r"linux/[a-z0-9]+", info["platform"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["buildDate"])


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz", "/healthz/ping", "/readyz/etcd"])
def test_health_endpoints(api: API, path: str) -> None:
    response = api.get(path)
    assert response.status == 200
    assert response.content_type.startswith("text/plain")
    assert response.body == b"ok"


def test_legacy_core_root(api: API) -> None:
    response = api.get("/api", headers={"Accept": "application/json"})
    assert response.status == 200
    assert response.content_type == "application/json"
    doc = response.json()
    assert doc["kind"] == "APIVersions"
    assert "apiVersion" not in doc
    assert doc["versions"] == ["v1"]
    assert doc["serverAddressByClientCIDRs"][0]["clientCIDR"] == "0.0.0.0/0"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", doc["serverAddressByClientCIDRs"][0]["serverAddress"])


def test_legacy_group_list_and_groups(api: API) -> None:
    response = api.get("/apis")
    assert response.status == 200
    assert response.content_type == "application/json"
    doc = response.json()
    assert doc["kind"] == "APIGroupList"
    groups = {g["name"]: g for g in doc["groups"]}
    assert "" not in groups
    assert groups["apps"]["versions"][0] == {"groupVersion": "apps/v1", "version": "v1"}
    for group in doc["groups"]:
        assert group["preferredVersion"] == group["versions"][0]
        one = api.get(f"/apis/{group['name']}").json()
        assert one["kind"] == "APIGroup"
        assert one["name"] == group["name"]
        assert one["versions"] == group["versions"]
        for version in group["versions"]:
            resources = api.get(f"/apis/{version['groupVersion']}")
            assert resources.status == 200, version
            assert resources.json()["groupVersion"] == version["groupVersion"]


def _resources(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in doc["resources"]}


def test_core_resource_list(api: API) -> None:
    doc = api.get("/api/v1").json()
    assert doc["kind"] == "APIResourceList"
    assert "apiVersion" not in doc
    assert doc["groupVersion"] == "v1"
    resources = _resources(doc)
    cm = resources["configmaps"]
    assert cm["singularName"] == "configmap"
    assert cm["namespaced"] is True
    assert cm["kind"] == "ConfigMap"
    assert cm["shortNames"] == ["cm"]
    assert sorted(cm["verbs"]) == ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    assert re.fullmatch(r"[A-Za-z0-9+/]{11}=", cm["storageVersionHash"])
    assert resources["namespaces"]["namespaced"] is False
    assert "deletecollection" not in resources["namespaces"]["verbs"]
    status = resources["pods/status"]
    assert status["singularName"] == ""
    assert status["kind"] == "Pod"
    assert sorted(status["verbs"]) == ["get", "patch", "update"]
    assert resources["namespaces/finalize"]["verbs"] == ["update"]


def test_group_resource_list_with_scale(api: API) -> None:
    doc = api.get("/apis/apps/v1").json()
    assert doc["kind"] == "APIResourceList"
    assert doc["apiVersion"] == "v1"
    assert doc["groupVersion"] == "apps/v1"
    resources = _resources(doc)
    deployments = resources["deployments"]
    assert deployments["shortNames"] == ["deploy"]
    assert deployments["categories"] == ["all"]
    scale = resources["deployments/scale"]
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")


def test_every_listable_resource_lists(api: API) -> None:
    """Discovery promises nothing the server does not serve."""
    paths = ["/api/v1"] + [f"/apis/{v['groupVersion']}" for g in api.get("/apis").json()["groups"]
                           for v in g["versions"]]
    for gv_path in paths:
        for resource in api.get(gv_path).json()["resources"]:
            if "/" in resource["name"] or "list" not in resource["verbs"]:
                continue
            listed = api.get(f"{gv_path}/{resource['name']}")
            assert listed.status == 200, (gv_path, resource["name"], listed)
            assert listed.json()["kind"].endswith("List")


@pytest.mark.parametrize("path", ["/api", "/apis"])
@pytest.mark.parametrize("accept", [KUBECTL_ACCEPT, AGGREGATED, f"{AGGREGATED};profile=nopeer,application/json",
                                    "application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io"])
def test_aggregated_discovery_when_asked(api: API, path: str, accept: str) -> None:
    response = api.get(path, headers={"Accept": accept})
    assert response.status == 200
    assert response.content_type == AGGREGATED
    doc = response.json()
    assert doc["kind"] == "APIGroupDiscoveryList"
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2"
    names = [item["metadata"]["name"] for item in doc["items"]]
    if path == "/api":
        assert names == [""]
    else:
        assert "" not in names
        assert "apps" in names


def test_aggregated_discovery_content(api: API) -> None:
    core = api.get("/api", headers={"Accept": KUBECTL_ACCEPT}).json()["items"][0]
    v1 = core["versions"][0]
    assert v1["version"] == "v1"
    assert v1["freshness"] == "Current"
    pods = {r["resource"]: r for r in v1["resources"]}["pods"]
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert pods["scope"] == "Namespaced"
    assert pods["singularResource"] == "pod"
    assert {"subresource": "status", "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
            "verbs": ["get", "patch", "update"]} in pods["subresources"]

    groups = {i["metadata"]["name"]: i for i in api.get("/apis", headers={"Accept": KUBECTL_ACCEPT}).json()["items"]}
    deployments = {r["resource"]: r for r in groups["apps"]["versions"][0]["resources"]}["deployments"]
    assert deployments["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert deployments["categories"] == ["all"]
    scale = {s["subresource"]: s for s in deployments["subresources"]}["scale"]
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}

    legacy = {r["name"] for r in api.get("/apis/apps/v1").json()["resources"] if "/" not in r["name"]}
    assert {r["resource"] for r in groups["apps"]["versions"][0]["resources"]} == legacy


@pytest.mark.parametrize("path", ["/api", "/apis"])
@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "application/json, */*",
                                    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                                    "application/json"])
def test_legacy_discovery_otherwise(api: API, path: str, accept: str | None) -> None:
    response = api.get(path, headers={"Accept": accept} if accept else {})
    assert response.status == 200
    assert response.content_type == "application/json"  # never the aggregated type over a legacy body
    assert response.json()["kind"] == ("APIVersions" if path == "/api" else "APIGroupList")


def test_discovery_in_yaml(api: API) -> None:
    import yaml

    response = api.get("/api/v1", headers={"Accept": "application/yaml"})
    assert response.status == 200
    assert response.content_type == "application/yaml"
    assert yaml.safe_load(response.body)["groupVersion"] == "v1"
