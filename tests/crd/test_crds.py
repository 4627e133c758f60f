"""CustomResourceDefinitions against the embedded server, through kubectl and the official clients."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._crds import create_crd, delete_crd, unique_group, widget_crd, widget_schema


@pytest.fixture
def group(cluster: Cluster) -> Iterator[str]:
    """A fresh API group; every CRD of the test is named in it and deleted afterwards."""
    name = unique_group()
    yield name
    api = client.ApiextensionsV1Api(cluster.api_client())
    try:
        for crd in api.list_custom_resource_definition().items:
            if crd.spec.group == name:
                delete_crd(cluster, crd.metadata.name)
    finally:
        api.api_client.close()


@pytest.fixture
def objects(k8s_api_client: Any) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(k8s_api_client)


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "", "kind": "Widget", "metadata": {"name": name}, "spec": {"color": "red", **spec}}


def make(group: str, name: str, version: str = "v1", **spec: Any) -> dict[str, Any]:
    obj = widget(name, **spec)
    obj["apiVersion"] = f"{group}/{version}"
    return obj


def status_of(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def uid() -> str:
    return uuid.uuid4().hex[:8]


# -- the CRD itself ---------------------------------------------------------------------------------------


def test_kubectl_wait_established_and_discovery(cluster: Cluster, group: str, dynamic_client: Any) -> None:
    crd = widget_crd(group, short_names=["wdg"])
    cluster.kubectl("apply", "-f", "-", input=json.dumps(crd))
    cluster.kubectl("wait", "--for", "condition=established", f"crd/widgets.{group}", "--timeout=30s")
    got = json.loads(cluster.kubectl("get", "crd", f"widgets.{group}", "-o", "json").stdout)
    conditions = {c["type"]: c for c in got["status"]["conditions"]}
    assert (conditions["NamesAccepted"]["status"], conditions["NamesAccepted"]["reason"],
            conditions["NamesAccepted"]["message"]) == ("True", "NoConflicts", "no conflicts found")
    assert (conditions["Established"]["status"], conditions["Established"]["reason"],
            conditions["Established"]["message"]) == ("True", "InitialNamesAccepted",
                                                       "the initial names have been accepted")
    assert got["status"]["acceptedNames"]["plural"] == "widgets"
    assert got["status"]["acceptedNames"]["listKind"] == "WidgetList"
    assert got["status"]["storedVersions"] == ["v1"]
    assert got["spec"]["conversion"] == {"strategy": "None"}
    assert "customresourcecleanup.apiextensions.k8s.io" not in (got["metadata"].get("finalizers") or [])

    out = cluster.kubectl("api-resources", f"--api-group={group}", "--no-headers").stdout.split()
    assert out == ["widgets", "wdg", f"{group}/v1", "true", "Widget"]
    resources = json.loads(cluster.kubectl("get", "--raw", f"/apis/{group}/v1").stdout)
    names = sorted(r["name"] for r in resources["resources"])
    assert names == ["widgets", "widgets/scale", "widgets/status"]
    groups = json.loads(cluster.kubectl("get", "--raw", "/apis").stdout)
    assert any(g["name"] == group and g["preferredVersion"]["version"] == "v1" for g in groups["groups"])
    # The dynamic client's discovery finds it too.
    resource = dynamic_client.resources.get(api_version=f"{group}/v1", kind="Widget")
    assert resource.namespaced and resource.name == "widgets"


def test_crd_validation_messages(cluster: Cluster, k8s_api_client: Any) -> None:
    api = client.ApiextensionsV1Api(k8s_api_client)
    group = unique_group()
    bad_name = widget_crd(group)
    bad_name["metadata"]["name"] = f"gadgets.{group}"
    with pytest.raises(ApiException) as info:
        api.create_custom_resource_definition(bad_name)
    assert info.value.status == 422
    status = status_of(info.value)
    assert status["message"] == (
        f'CustomResourceDefinition.apiextensions.k8s.io "gadgets.{group}" is invalid: metadata.name: '
        f'Invalid value: "gadgets.{group}": must be spec.names.plural+"."+spec.group')

    upper = widget_crd(group, plural="Widgets")
    upper["metadata"]["name"] = f"widgets.{group}"
    with pytest.raises(ApiException) as info:
        api.create_custom_resource_definition(upper)
    causes = status_of(info.value)["details"]["causes"]
    assert {"reason": "FieldValueInvalid", "field": "spec.names.plural",
            "message": "Invalid value: \"Widgets\": a DNS-1035 label must consist of lower case alphanumeric "
                       "characters or '-', start with an alphabetic character, and end with an alphanumeric "
                       "character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
                       "'[a-z]([-a-z0-9]*[a-z0-9])?')"} in causes

    two_storage = widget_crd(group, versions=[
        {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {"type": "object"}}},
        {"name": "v2", "served": True, "storage": True, "schema": {"openAPIV3Schema": {"type": "object"}}},
    ])
    with pytest.raises(ApiException) as info:
        api.create_custom_resource_definition(two_storage)
    messages = [c["message"] for c in status_of(info.value)["details"]["causes"]]
    assert any(m.endswith("must have exactly one version marked as storage version") for m in messages)

    bad_scope = widget_crd(group, scope="Global")
    with pytest.raises(ApiException) as info:
        api.create_custom_resource_definition(bad_scope)
    assert {"reason": "FieldValueNotSupported", "field": "spec.scope",
            "message": 'Unsupported value: "Global": supported values: "Cluster", "Namespaced"'} in status_of(
        info.value)["details"]["causes"]


def test_name_conflict_is_not_accepted(cluster: Cluster, group: str, k8s_api_client: Any) -> None:
    create_crd(cluster, widget_crd(group))
    clash = widget_crd(group, plural="gizmos")  # kind Widget again
    clash["spec"]["names"]["singular"] = "gizmo"
    api = client.ApiextensionsV1Api(k8s_api_client)
    api.create_custom_resource_definition(clash)

    def not_accepted() -> dict[str, Any]:
        got = api.api_client.sanitize_for_serialization(api.read_custom_resource_definition(f"gizmos.{group}"))
        conditions = {c["type"]: c for c in got["status"].get("conditions") or []}
        assert conditions["NamesAccepted"]["status"] == "False"
        return conditions

    conditions = eventually(not_accepted)
    assert conditions["NamesAccepted"]["reason"] == "KindConflict"
    assert conditions["NamesAccepted"]["message"] == '"Widget" is already in use'
    assert (conditions["Established"]["status"], conditions["Established"]["reason"]) == ("False", "NotAccepted")
    resources = json.loads(cluster.kubectl("get", "--raw", f"/apis/{group}/v1").stdout)["resources"]
    assert "gizmos" not in [r["name"] for r in resources]


# -- schema validation ------------------------------------------------------------------------------------


def test_schema_violation_is_422_with_causes(cluster: Cluster, group: str, namespace: str,
                                             objects: client.CustomObjectsApi) -> None:
    create_crd(cluster, widget_crd(group))
    bad = make(group, "bad", color="green", replicas=-1, size="ABCDEFG", tags=["a", "a"],
               ports=[{"name": "http", "port": 80}, {"name": "http", "port": 81}], when="yesterday",
               labels={"a": 1})
    with pytest.raises(ApiException) as info:
        objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", bad)
    assert info.value.status == 422
    status = status_of(info.value)
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "Widget" and status["details"]["group"] == group
    assert status["details"]["causes"] == [
        {"reason": "FieldValueNotSupported", "message": 'Unsupported value: "green": supported values: "red", "blue"',
         "field": "spec.color"},
        {"reason": "FieldValueTypeInvalid",
         "message": 'Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
         "field": "spec.labels.a"},
        {"reason": "FieldValueDuplicate", "message": 'Duplicate value: map[string]interface {}{"name":"http"}',
         "field": "spec.ports[1]"},
        {"reason": "FieldValueInvalid",
         "message": "Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
         "field": "spec.replicas"},
        {"reason": "FieldValueTooLong", "message": "Too long: may not be more than 5 bytes", "field": "spec.size"},
        {"reason": "FieldValueInvalid",
         "message": "Invalid value: \"ABCDEFG\": spec.size in body should match '^[a-z]+$'", "field": "spec.size"},
        {"reason": "FieldValueDuplicate", "message": 'Duplicate value: "a"', "field": "spec.tags[1]"},
        {"reason": "FieldValueTypeInvalid",
         "message": 'Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
         "field": "spec.when"},
    ]
    assert status["message"].startswith(f'Widget.{group} "bad" is invalid: [spec.color: Unsupported value: ')

    # required, type, maxItems, int-or-string
    with pytest.raises(ApiException) as info:
        objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", {
            "apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "bad2"},
            "spec": {"replicas": "three", "tags": ["a", "b", "c", "d"], "port": 1.5}})
    assert status_of(info.value)["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.color"},
        {"reason": "FieldValueTypeInvalid",
         "message": 'Invalid value: "number": spec.port in body must be of type integer,string: "number"',
         "field": "spec.port"},
        {"reason": "FieldValueTypeInvalid",
         "message": 'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
         "field": "spec.replicas"},
        {"reason": "FieldValueTooMany", "message": "Too many: 4: must have at most 3 items", "field": "spec.tags"},
    ]
    # null where the schema does not allow it (the official client drops None, so the raw API here)
    path = f"/apis/{group}/v1/namespaces/{namespace}/widgets"
    proc = cluster.kubectl("create", "--raw", path, "-f", "-", input=json.dumps(make(group, "n1", when=None)),
                           check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        'The Widget "n1" is invalid: spec.when: Invalid value: "null": spec.when in body must be of type '
        'string: "null"')
    # A null with a default gets the default; a nullable field keeps its null.
    proc = cluster.kubectl("create", "--raw", path, "-f", "-", input=json.dumps(make(group, "n2", replicas=None,
                                                                                      note=None)))
    assert json.loads(proc.stdout)["spec"] == {"color": "red", "replicas": 1, "size": "small", "note": None}
    # What passes: int-or-string either way, a nullable string left out, free-form content kept.
    for name, port in (("ok1", 8080), ("ok2", "http")):
        created = objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(
            group, name, port=port, when="2024-01-02T03:04:05Z", free={"any": {"thing": [1]}}))
        assert created["spec"]["port"] == port
        assert created["spec"]["free"] == {"any": {"thing": [1]}}


def test_defaulting_and_pruning(cluster: Cluster, group: str, namespace: str,
                                objects: client.CustomObjectsApi) -> None:
    create_crd(cluster, widget_crd(group))
    # kubectl (fieldValidation=Strict by default) is told about the unknown field.
    manifest = make(group, "strict", bogus=1)
    manifest["metadata"]["namespace"] = namespace
    proc = cluster.kubectl("create", "-f", "-", input=json.dumps(manifest), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": Widget in version "v1" cannot be handled '
        'as a Widget: strict decoding error: unknown field "spec.bogus"')
    # Without strict validation the field is pruned and the defaults are set.
    proc = cluster.kubectl("create", "--validate=false", "-f", "-", input=json.dumps(manifest))
    got = objects.get_namespaced_custom_object(group, "v1", namespace, "widgets", "strict")
    assert got["spec"] == {"color": "red", "replicas": 1, "size": "small"}
    assert got["metadata"]["generation"] == 1
    # An update without resourceVersion is refused for custom resources.
    got["spec"]["replicas"] = 2
    del got["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as info:
        objects.replace_namespaced_custom_object(group, "v1", namespace, "widgets", "strict", got)
    assert info.value.status == 422
    assert status_of(info.value)["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "message": "Invalid value: 0: must be specified for an update",
         "field": "metadata.resourceVersion"}]


def test_cel_rules(cluster: Cluster, group: str, namespace: str, objects: client.CustomObjectsApi,
                   k8s_api_client: Any) -> None:
    schema = widget_schema()
    spec = schema["properties"]["spec"]
    spec["x-kubernetes-validations"] = [
        {"rule": "self.replicas <= 5 || self.color == 'blue'", "message": "red widgets have at most 5 replicas"},
        {"rule": "!has(oldSelf.color) || self.color == oldSelf.color", "message": "color is immutable"},
    ]
    spec["properties"]["size"]["x-kubernetes-validations"] = [{"rule": "self != 'huge'"}]
    versions = [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}]
    create_crd(cluster, widget_crd(group, versions=versions))
    with pytest.raises(ApiException) as info:
        objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "w", replicas=7))
    assert status_of(info.value)["message"] == (
        f'Widget.{group} "w" is invalid: spec: Invalid value: "object": red widgets have at most 5 replicas')
    with pytest.raises(ApiException) as info:
        objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "w", size="huge"))
    assert status_of(info.value)["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "message": "Invalid value: \"string\": failed rule: self != 'huge'",
         "field": "spec.size"}]
    objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "w", replicas=7,
                                                                                      color="blue"))
    # A transition rule: oldSelf is the stored object.
    with pytest.raises(ApiException) as info:
        objects.patch_namespaced_custom_object(group, "v1", namespace, "widgets", "w", {"spec": {"color": "red"}})
    assert "spec: Invalid value: \"object\": color is immutable" in status_of(info.value)["message"]
    # Kubernetes' CEL library functions are refused when the CRD is written, not ignored.
    schema2 = widget_schema()
    schema2["properties"]["spec"]["x-kubernetes-validations"] = [{"rule": "isURL(self.size)"}]
    api = client.ApiextensionsV1Api(k8s_api_client)
    with pytest.raises(ApiException) as info:
        api.create_custom_resource_definition(widget_crd(group, plural="gadgets", kind="Gadget", versions=[
            {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema2}}]))
    cause = status_of(info.value)["details"]["causes"][0]
    assert cause["field"] == (
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule")
    assert ("compilation failed: kubeproof cannot evaluate the Kubernetes CEL library function 'isURL'"
            in cause["message"])


# -- versions, printing, patches ------------------------------------------------------------------------------


def test_two_versions_served(cluster: Cluster, group: str, namespace: str, objects: client.CustomObjectsApi,
                             dynamic_client: Any) -> None:
    schema = {"openAPIV3Schema": widget_schema()}
    create_crd(cluster, widget_crd(group, versions=[
        {"name": "v1beta1", "served": True, "storage": False, "schema": schema},
        {"name": "v1", "served": True, "storage": True, "schema": schema},
        {"name": "v1alpha1", "served": False, "storage": False, "schema": schema},
    ]))
    created = objects.create_namespaced_custom_object(group, "v1beta1", namespace, "widgets",
                                                      make(group, "old", "v1beta1"))
    assert created["apiVersion"] == f"{group}/v1beta1"
    objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "new"))
    for version in ("v1", "v1beta1"):
        listed = objects.list_namespaced_custom_object(group, version, namespace, "widgets")
        assert listed["apiVersion"] == f"{group}/{version}"
        assert sorted((i["metadata"]["name"], i["apiVersion"]) for i in listed["items"]) == [
            ("new", f"{group}/{version}"), ("old", f"{group}/{version}")]
    with pytest.raises(ApiException) as info:
        objects.list_namespaced_custom_object(group, "v1alpha1", namespace, "widgets")
    assert info.value.status == 404
    groups = json.loads(cluster.kubectl("get", "--raw", f"/apis/{group}").stdout)
    assert [v["version"] for v in groups["versions"]] == ["v1", "v1beta1"]
    assert groups["preferredVersion"]["version"] == "v1"
    # The dynamic client through the older version.
    resource = dynamic_client.resources.get(api_version=f"{group}/v1beta1", kind="Widget")
    got = resource.get(name="new", namespace=namespace)
    assert got.apiVersion == f"{group}/v1beta1" and got.spec.color == "red"
    made = resource.create(body=make(group, "dyn", "v1beta1", replicas=2), namespace=namespace)
    assert made.apiVersion == f"{group}/v1beta1" and made.spec.replicas == 2
    patched = resource.patch(name="dyn", namespace=namespace, body={"spec": {"replicas": 3}},
                             content_type="application/merge-patch+json")
    assert patched.spec.replicas == 3 and patched.metadata.generation == 2
    crd = json.loads(cluster.kubectl("get", "crd", f"widgets.{group}", "-o", "json").stdout)
    assert crd["status"]["storedVersions"] == ["v1"]


def test_printer_columns_in_kubectl_get(cluster: Cluster, group: str, namespace: str,
                                        objects: client.CustomObjectsApi) -> None:
    create_crd(cluster, widget_crd(group))
    objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "a", replicas=3))
    objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "b", color="blue"))
    objects.patch_namespaced_custom_object_status(group, "v1", namespace, "widgets", "a",
                                                  {"status": {"phase": "Ready"}})
    out = cluster.kubectl("get", f"widgets.{group}", "-n", namespace).stdout.splitlines()
    assert out[0].split() == ["NAME", "COLOR", "REPLICAS", "PHASE", "AGE"]
    assert out[1].split()[:4] == ["a", "red", "3", "Ready"]
    assert out[2].split()[:3] == ["b", "blue", "1"] and "<none>" not in out[2]
    table = json.loads(cluster.kubectl("get", "--raw",
                                       f"/apis/{group}/v1/namespaces/{namespace}/widgets?limit=500").stdout)
    assert table["kind"] == "WidgetList"


def test_patch_types(cluster: Cluster, group: str, namespace: str, objects: client.CustomObjectsApi) -> None:
    create_crd(cluster, widget_crd(group))
    objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "p"))
    proc = cluster.kubectl("patch", f"widgets.{group}", "p", "-n", namespace, "--type=strategic",
                           "-p", '{"spec":{"replicas":2}}', check=False)
    assert proc.returncode == 1
    assert "the body of the request was in an unknown format - accepted media types include: " \
           "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml" in proc.stderr
    cluster.kubectl("patch", f"widgets.{group}", "p", "-n", namespace, "--type=merge", "-p",
                    '{"spec":{"replicas":2}}')
    cluster.kubectl("patch", f"widgets.{group}", "p", "-n", namespace, "--type=json", "-p",
                    '[{"op":"replace","path":"/spec/color","value":"blue"}]')
    got = objects.get_namespaced_custom_object(group, "v1", namespace, "widgets", "p")
    assert (got["spec"]["replicas"], got["spec"]["color"], got["metadata"]["generation"]) == (2, "blue", 3)
    applied = make(group, "p", replicas=4)
    applied["metadata"]["namespace"] = namespace
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(applied))
    assert objects.get_namespaced_custom_object(group, "v1", namespace, "widgets", "p")["spec"]["replicas"] == 4
    explain = cluster.kubectl("explain", f"widgets.{group}.spec").stdout
    assert "color\t<string> -required-" in explain


# -- subresources -------------------------------------------------------------------------------------------


def test_status_subresource_rules(cluster: Cluster, group: str, namespace: str,
                                  objects: client.CustomObjectsApi) -> None:
    create_crd(cluster, widget_crd(group))
    obj = make(group, "s")
    obj["status"] = {"phase": "Sneaky"}
    created = objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", obj)
    assert "status" not in created  # reset on create
    # The main endpoint ignores status; spec changes bump the generation.
    updated = objects.patch_namespaced_custom_object(group, "v1", namespace, "widgets", "s",
                                                     {"spec": {"replicas": 2}, "status": {"phase": "X"}})
    assert "status" not in updated and updated["metadata"]["generation"] == 2
    # The status endpoint ignores spec, and does not bump the generation.
    updated = objects.patch_namespaced_custom_object_status(group, "v1", namespace, "widgets", "s",
                                                            {"spec": {"replicas": 5}, "status": {"phase": "Ready"}})
    assert updated["status"] == {"phase": "Ready"}
    assert updated["spec"]["replicas"] == 2 and updated["metadata"]["generation"] == 2
    # Status is validated against the schema too.
    with pytest.raises(ApiException) as info:
        objects.patch_namespaced_custom_object_status(group, "v1", namespace, "widgets", "s",
                                                      {"status": {"replicas": "many"}})
    assert status_of(info.value)["details"]["causes"][0]["field"] == "status.replicas"


def test_generation_without_status_subresource(cluster: Cluster, group: str, namespace: str,
                                               objects: client.CustomObjectsApi) -> None:
    versions = [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": widget_schema()}}]
    create_crd(cluster, widget_crd(group, versions=versions))
    obj = make(group, "g")
    obj["status"] = {"phase": "Kept"}
    created = objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", obj)
    assert created["status"] == {"phase": "Kept"}
    updated = objects.patch_namespaced_custom_object(group, "v1", namespace, "widgets", "g",
                                                     {"status": {"phase": "Changed"}})
    assert updated["metadata"]["generation"] == 2  # every non-metadata change counts
    with pytest.raises(ApiException) as info:
        objects.get_namespaced_custom_object_status(group, "v1", namespace, "widgets", "g")
    assert info.value.status == 404


def test_scale_subresource(cluster: Cluster, group: str, namespace: str, objects: client.CustomObjectsApi) -> None:
    create_crd(cluster, widget_crd(group))
    objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "sc", replicas=2))
    objects.patch_namespaced_custom_object_status(group, "v1", namespace, "widgets", "sc",
                                                  {"status": {"replicas": 2, "selector": "app=sc"}})
    scale = objects.get_namespaced_custom_object_scale(group, "v1", namespace, "widgets", "sc")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": "app=sc"}
    cluster.kubectl("scale", f"widgets.{group}/sc", "-n", namespace, "--replicas=4")
    got = objects.get_namespaced_custom_object(group, "v1", namespace, "widgets", "sc")
    assert got["spec"]["replicas"] == 4 and got["metadata"]["generation"] == 2
    assert got["status"] == {"replicas": 2, "selector": "app=sc"}
    # The new replica count is validated against the schema (maximum 10).
    proc = cluster.kubectl("scale", f"widgets.{group}/sc", "-n", namespace, "--replicas=11", check=False)
    assert proc.returncode == 1
    assert "spec.replicas in body should be less than or equal to 10" in proc.stderr


def test_cluster_scoped_crd(cluster: Cluster, group: str, objects: client.CustomObjectsApi) -> None:
    create_crd(cluster, widget_crd(group, scope="Cluster"))
    name = f"c-{uid()}"
    created = objects.create_cluster_custom_object(group, "v1", "widgets", make(group, name))
    assert "namespace" not in created["metadata"]
    out = cluster.kubectl("api-resources", f"--api-group={group}", "--no-headers").stdout.split()
    assert out == ["widgets", f"{group}/v1", "false", "Widget"]
    assert [i["metadata"]["name"] for i in objects.list_cluster_custom_object(group, "v1", "widgets")["items"]] == [
        name]


# -- deletion -----------------------------------------------------------------------------------------------


def test_deleting_the_crd_deletes_its_objects(cluster: Cluster, group: str, namespace: str,
                                              objects: client.CustomObjectsApi, k8s_api_client: Any) -> None:
    create_crd(cluster, widget_crd(group))
    objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "plain"))
    held = make(group, "held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", held)
    api = client.ApiextensionsV1Api(k8s_api_client)
    api.delete_custom_resource_definition(f"widgets.{group}")

    def terminating() -> dict[str, Any]:
        crd = api.api_client.sanitize_for_serialization(api.read_custom_resource_definition(f"widgets.{group}"))
        conditions = {c["type"]: c for c in crd["status"]["conditions"]}
        assert conditions["Terminating"]["reason"] == "InstanceDeletionInProgress", conditions
        items = objects.list_namespaced_custom_object(group, "v1", namespace, "widgets")["items"]
        assert [i["metadata"]["name"] for i in items] == ["held"]
        return crd

    crd = eventually(terminating)
    assert crd["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    assert crd["metadata"]["deletionTimestamp"]
    with pytest.raises(ApiException) as info:
        objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "late"))
    assert info.value.status == 405
    assert status_of(info.value)["message"] == "create not allowed while custom resource definition is terminating"
    objects.patch_namespaced_custom_object(group, "v1", namespace, "widgets", "held",
                                           {"metadata": {"finalizers": None}})
    delete_crd(cluster, f"widgets.{group}")
    proc = cluster.kubectl("get", "--raw", f"/apis/{group}/v1", check=False)
    assert proc.returncode == 1 and "NotFound" in proc.stderr
    assert cluster.kubectl("api-resources", f"--api-group={group}", "--no-headers").stdout.strip() == ""
    # The same CRD again starts empty.
    create_crd(cluster, widget_crd(group))
    assert objects.list_namespaced_custom_object(group, "v1", namespace, "widgets")["items"] == []


def test_watch_through_another_version(cluster: Cluster, group: str, namespace: str,
                                       objects: client.CustomObjectsApi) -> None:
    from kubernetes import watch

    schema = {"openAPIV3Schema": widget_schema()}
    create_crd(cluster, widget_crd(group, versions=[
        {"name": "v1beta1", "served": True, "storage": False, "schema": schema},
        {"name": "v1", "served": True, "storage": True, "schema": schema},
    ]))
    created = objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "w"))
    stream = watch.Watch()
    seen = []
    for event in stream.stream(objects.list_namespaced_custom_object, group, "v1beta1", namespace, "widgets",
                               resource_version="0", timeout_seconds=10):
        seen.append(event["object"])
        break
    stream.stop()
    assert seen[0]["apiVersion"] == f"{group}/v1beta1"
    assert seen[0]["metadata"]["uid"] == created["metadata"]["uid"]


def test_two_clusters_prune_by_their_own_crd(cluster: Cluster, group: str, namespace: str,
                                             objects: client.CustomObjectsApi) -> None:
    """The same kind with different schemas in two clusters of one process (kube_clusters does this)."""
    create_crd(cluster, widget_crd(group))
    wider = widget_schema()
    wider["properties"]["spec"]["properties"]["shade"] = {"type": "string"}
    versions = [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": wider}}]
    with Cluster(tls=False) as other:
        create_crd(other, widget_crd(group, versions=versions))  # registered last
        other_client = other.api_client()
        try:
            other_objects = client.CustomObjectsApi(other_client)
            kept = other_objects.create_namespaced_custom_object(
                group, "v1", "default", "widgets", make(group, "w", shade="dark"))
            assert kept["spec"]["shade"] == "dark"
        finally:
            other_client.close()
    pruned = objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", make(group, "w", shade="dark"))
    assert "shade" not in pruned["spec"]
