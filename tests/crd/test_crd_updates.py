"""CRD updates (kubectl apply of a changed CRD), new versions, namespace deletion of custom resources."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._crds import delete_crd, unique_group, widget_crd, widget_schema


@pytest.fixture
def group(cluster: Cluster) -> Iterator[str]:
    name = unique_group()
    yield name
    for plural in ("widgets", "gadgets"):
        delete_crd(cluster, f"{plural}.{name}")


def test_kubectl_apply_changed_crd_adds_names_and_versions(cluster: Cluster, group: str, namespace: str) -> None:
    crd = widget_crd(group)
    cluster.kubectl("apply", "-f", "-", input=json.dumps(crd))
    cluster.kubectl("wait", "--for=condition=established", f"crd/widgets.{group}", "--timeout=30s")
    crd["spec"]["names"]["shortNames"] = ["wz"]
    crd["spec"]["versions"].append({"name": "v2", "served": True, "storage": False, "schema": {
        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}})
    out = cluster.kubectl("apply", "-f", "-", input=json.dumps(crd)).stdout
    assert out.strip() == f"customresourcedefinition.apiextensions.k8s.io/widgets.{group} configured"

    def renamed() -> list[str]:
        rows = cluster.kubectl("api-resources", f"--api-group={group}", "--no-headers").stdout.split()
        assert rows == ["widgets", "wz", f"{group}/v2", "true", "Widget"]
        return rows

    eventually(renamed, description="new shortName and preferred version in discovery")
    manifest = {"apiVersion": f"{group}/v2", "kind": "Widget", "metadata": {"name": "b", "namespace": namespace},
                "spec": {"color": "blue", "anything": 1}}
    cluster.kubectl("create", "-f", "-", input=json.dumps(manifest))
    got = json.loads(cluster.kubectl("get", "wz", "b", "-n", namespace, "-o", "json").stdout)
    assert got["apiVersion"] == f"{group}/v2" and got["spec"] == {"color": "blue", "anything": 1}
    # Read through v1, the same object with v1's apiVersion (conversion None; no pruning on read).
    v1 = json.loads(cluster.kubectl("get", f"widgets.v1.{group}", "b", "-n", namespace, "-o", "json").stdout)
    assert v1["apiVersion"] == f"{group}/v1" and v1["metadata"]["uid"] == got["metadata"]["uid"]
    stored = json.loads(cluster.kubectl("get", "crd", f"widgets.{group}", "-o", "json").stdout)
    assert stored["status"]["storedVersions"] == ["v1"]
    assert stored["metadata"]["generation"] == 2


def test_structural_schema_rules(cluster: Cluster, k8s_api_client: Any) -> None:
    api = client.ApiextensionsV1Api(k8s_api_client)
    group = unique_group()
    schema = widget_schema()
    schema["properties"]["spec"]["properties"]["untyped"] = {"description": "no type"}
    crd = widget_crd(group, versions=[{"name": "v1", "served": True, "storage": True,
                                       "schema": {"openAPIV3Schema": schema}}])
    with pytest.raises(ApiException) as info:
        api.create_custom_resource_definition(crd)
    assert json.loads(info.value.body)["details"]["causes"] == [{
        "reason": "FieldValueRequired", "message": "Required value: must not be empty for specified object fields",
        "field": "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[untyped].type"}]
    no_schema = widget_crd(group, versions=[{"name": "v1", "served": True, "storage": True}])
    with pytest.raises(ApiException) as info:
        api.create_custom_resource_definition(no_schema)
    assert json.loads(info.value.body)["details"]["causes"] == [{
        "reason": "FieldValueRequired", "message": "Required value: schemas are required",
        "field": "spec.versions[0].schema.openAPIV3Schema"}]


def test_embedded_resource_and_pruning(cluster: Cluster, group: str, namespace: str, k8s_api_client: Any) -> None:
    from ._crds import create_crd

    schema = widget_schema()
    schema["properties"]["spec"]["properties"]["template"] = {
        "type": "object", "x-kubernetes-embedded-resource": True,
        "properties": {"spec": {"type": "object", "properties": {"image": {"type": "string"}}}}}
    create_crd(cluster, widget_crd(group, versions=[{"name": "v1", "served": True, "storage": True,
                                                     "schema": {"openAPIV3Schema": schema}}]))
    objects = client.CustomObjectsApi(k8s_api_client)
    body = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "e"},
            "spec": {"color": "red", "template": {"apiVersion": "v1", "kind": "Pod",
                                                  "metadata": {"name": "x", "labels": {"a": "b"}, "bogus": 1},
                                                  "spec": {"image": "nginx", "extra": True}}}}
    created = objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", body,
                                                      field_validation="Ignore")
    assert created["spec"]["template"] == {"apiVersion": "v1", "kind": "Pod",
                                           "metadata": {"name": "x", "labels": {"a": "b"}},
                                           "spec": {"image": "nginx"}}
    missing_kind = json.loads(json.dumps(body))
    missing_kind["metadata"]["name"] = "e2"
    del missing_kind["spec"]["template"]["kind"]
    with pytest.raises(ApiException) as info:
        objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", missing_kind,
                                                field_validation="Ignore")
    assert json.loads(info.value.body)["details"]["causes"] == [{
        "reason": "FieldValueRequired", "message": "Required value: must not be empty",
        "field": "spec.template.kind"}]


def test_namespace_deletion_deletes_custom_resources(cluster: Cluster, group: str, k8s_api_client: Any) -> None:
    from ._crds import create_crd

    create_crd(cluster, widget_crd(group))
    core = client.CoreV1Api(k8s_api_client)
    ns = f"crd-ns-{group.split('.')[0]}"
    core.create_namespace({"metadata": {"name": ns}})
    objects = client.CustomObjectsApi(k8s_api_client)
    objects.create_namespaced_custom_object(group, "v1", ns, "widgets", {
        "apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"color": "red"}})
    core.delete_namespace(ns)

    def gone() -> None:
        try:
            core.read_namespace(ns)
        except ApiException as exc:
            assert exc.status == 404
            return
        raise AssertionError(f"namespace {ns} still there")

    eventually(gone, timeout=30, description="namespace with a custom resource deleted")
    assert objects.list_cluster_custom_object(group, "v1", "widgets")["items"] == []
