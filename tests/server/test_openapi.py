"""OpenAPI documents (``/openapi/v3``, ``/openapi/v2``) and server-side field validation.

The requests go straight to the ASGI application, so every response header line is visible (one
``Warning`` line per warning). The expected strict-decoding texts are those of kube-apiserver's own
integration test (``test/integration/apiserver/field_validation_test.go``).
"""

# ruff: noqa: E501

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from kubeproof.server import fieldvalidation, openapi, schema
from kubeproof.server.errors import StatusError
from kubeproof.server.http import APIServer
from kubeproof.server.patch import BUILTIN_PATCH_TYPES, CUSTOM_PATCH_TYPES
from kubeproof.server.registry.base import ResourceType, Strategy, Subresource
from kubeproof.server.registry.builtin import builtin_resources
from kubeproof.server.registry.generic import Registry
from kubeproof.server.store import Store

# -- a server without sockets ------------------------------------------------------------------------------------


class Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.header_lines = headers
        self.body = body

    def header(self, name: str) -> str | None:
        values = self.headers(name)
        return values[0] if values else None

    def headers(self, name: str) -> list[str]:
        return [v for k, v in self.header_lines if k == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def warnings(self) -> list[str]:
        """The warning texts, unquoted as client-go's ``ParseWarningHeader`` does."""
        out = []
        for value in self.headers("warning"):
            assert value.startswith('299 - "') and value.endswith('"'), value
            out.append(value[len('299 - "'):-1].replace('\\"', '"').replace("\\\\", "\\"))
        return out

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.header_lines!r}, {self.body[:300]!r})"


class Server:
    def __init__(self) -> None:
        self.registry = Registry(Store())
        for rt in builtin_resources():
            self.registry.register(rt)
        self.registry.create(self.registry.resource("namespaces"), "", {"metadata": {"name": "default"}})
        self.app = APIServer(self.registry)

    async def request(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
                      accept: str = "application/json", **params: str) -> Reply:
        if body is None:
            raw = b""
        elif isinstance(body, bytes):
            raw = body
        else:
            raw = json.dumps(body).encode()
        path, _, query = path.partition("?")
        if params:
            query = (query + "&" if query else "") + urlencode(params)
        headers = [(b"accept", accept.encode()), (b"content-type", content_type.encode()),
                   (b"content-length", str(len(raw)).encode())]
        scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(),
                 "headers": headers, "raw_path": path.encode()}
        sent = False
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await self.app(scope, receive, send)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body_bytes = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        lines = [(k.decode().lower(), v.decode()) for k, v in start["headers"]]
        return Reply(start["status"], lines, body_bytes)


@pytest.fixture
def server() -> Server:
    return Server()


def deployment(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": "nginx"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "nginx"}},
                 "template": {"metadata": {"labels": {"app": "nginx"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}},
                 **spec},
    }


def widget_type() -> ResourceType:
    return ResourceType(group="example.com", version="v1alpha1", kind="Widget", plural="widgets",
                        singular="widget", namespaced=True, strategy=Strategy(), typed_list_items=True,
                        subresources={"status": Subresource("status", ["get", "patch", "update"])})


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def all_schemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from all_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_schemas(value)


def served_gv_keys(registry: Registry) -> set[str]:
    return {openapi.gv_key(g, v) for g, v, _ in registry.by_path}


# -- /openapi/v3 index ----------------------------------------------------------------------------------------------


async def test_index_lists_every_served_group_version_with_its_hash(server: Server) -> None:
    reply = await server.request("GET", "/openapi/v3")
    assert reply.status == 200
    # kube-aggregator serves the index through http.ServeContent without a type: Go sniffs text/plain.
    assert reply.header("content-type") == "text/plain; charset=utf-8"
    paths = reply.json()["paths"]
    assert served_gv_keys(server.registry) <= set(paths)
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/rbac.authorization.k8s.io/v1", "apis/policy/v1",
            "apis/coordination.k8s.io/v1", "apis/discovery.k8s.io/v1", "apis/events.k8s.io/v1"} <= set(paths)
    # The non-resource documents the real index lists too.
    assert {"api", "apis", "apis/apps", "version"} <= set(paths)
    for key, entry in paths.items():
        url = entry["serverRelativeURL"]
        prefix, _, digest = url.partition("?hash=")
        assert prefix == "/openapi/v3/" + key
        assert len(digest) == 128 and digest == digest.upper()
        document = await server.request("GET", url)
        assert document.status == 200, key
        assert hashlib.sha512(document.body).hexdigest().upper() == digest, key


async def test_index_follows_registration(server: Server) -> None:
    before = (await server.request("GET", "/openapi/v3")).json()["paths"]
    assert "apis/example.com/v1alpha1" not in before
    widgets = widget_type()
    server.registry.register(widgets)
    after = (await server.request("GET", "/openapi/v3")).json()["paths"]
    assert "apis/example.com/v1alpha1" in after and "apis/example.com" in after
    assert after["api/v1"] == before["api/v1"]  # unchanged documents keep their hash
    doc = (await server.request("GET", after["apis/example.com/v1alpha1"]["serverRelativeURL"])).json()
    item = doc["paths"]["/apis/example.com/v1alpha1/namespaces/{namespace}/widgets/{name}"]
    # Custom resources take no strategic merge patch: kubectl must not send one (it would get a 415).
    assert list(item["patch"]["requestBody"]["content"]) == CUSTOM_PATCH_TYPES
    assert "application/strategic-merge-patch+json" not in item["patch"]["requestBody"]["content"]
    assert item["patch"]["x-kubernetes-group-version-kind"] == {
        "group": "example.com", "kind": "Widget", "version": "v1alpha1"}
    widget_schema = doc["components"]["schemas"]["com.example.v1alpha1.Widget"]
    assert widget_schema["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "kind": "Widget", "version": "v1alpha1"}]
    assert widget_schema["x-kubernetes-preserve-unknown-fields"] is True
    server.registry.unregister(widgets)
    again = (await server.request("GET", "/openapi/v3")).json()["paths"]
    assert "apis/example.com/v1alpha1" not in again
    assert (await server.request("GET", "/openapi/v3/apis/example.com/v1alpha1")).status == 404


async def test_documents_are_cached_per_generation(server: Server) -> None:
    first = openapi.group_version_document(server.registry, "apis/apps/v1")
    second = openapi.group_version_document(server.registry, "apis/apps/v1")
    assert first is not None and second is not None
    assert first[0] is second[0]  # the same bytes: built once
    assert openapi.index(server.registry) is openapi.index(server.registry)
    server.registry.register(widget_type())
    third = openapi.group_version_document(server.registry, "apis/apps/v1")
    assert third is not None and third[0] is not first[0] and third[1] == first[1]


# -- /openapi/v3/<group-version> ------------------------------------------------------------------------------------


async def test_group_version_document_paths_and_operations(server: Server) -> None:
    reply = await server.request("GET", "/openapi/v3/apis/apps/v1")
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    assert reply.header("etag") == '"' + hashlib.sha512(reply.body).hexdigest().upper() + '"'
    doc = reply.json()
    assert doc["openapi"] == "3.0.0"
    assert doc["info"]["title"] == "Kubernetes" and doc["info"]["version"].startswith("v1.37.")
    paths = doc["paths"]
    base = "/apis/apps/v1/namespaces/{namespace}/deployments"
    expected = {
        base: {"get": "list", "post": "post", "delete": "deletecollection"},
        base + "/{name}": {"get": "get", "put": "put", "patch": "patch", "delete": "delete"},
        base + "/{name}/status": {"get": "get", "put": "put", "patch": "patch"},
        base + "/{name}/scale": {"get": "get", "put": "put", "patch": "patch"},
        "/apis/apps/v1/deployments": {"get": "list"},
        "/apis/apps/v1/watch/namespaces/{namespace}/deployments": {"get": "watchlist"},
        "/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}": {"get": "watch"},
        "/apis/apps/v1/watch/deployments": {"get": "watchlist"},
    }
    for path, operations in expected.items():
        assert path in paths, path
        for method, action in operations.items():
            op = paths[path][method]
            assert op["x-kubernetes-action"] == action, (path, method)
            gvk = op["x-kubernetes-group-version-kind"]
            if path.endswith("/scale"):
                assert gvk == {"group": "autoscaling", "kind": "Scale", "version": "v1"}
            else:
                assert gvk == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert "/apis/apps/v1/" in paths  # getAPIResources
    assert paths[base]["get"]["operationId"] == "listAppsV1NamespacedDeployment"
    assert paths[base + "/{name}"]["patch"]["operationId"] == "patchAppsV1NamespacedDeployment"
    assert paths["/apis/apps/v1/deployments"]["get"]["operationId"] == "listAppsV1DeploymentForAllNamespaces"
    path_params = {p["name"]: p["in"] for p in paths[base + "/{name}"]["parameters"]}
    assert path_params == {"name": "path", "namespace": "path", "pretty": "query"}

    patch = paths[base + "/{name}"]["patch"]
    params = {p["name"]: p for p in patch["parameters"]}
    assert set(params) == {"dryRun", "fieldManager", "fieldValidation", "force"}
    assert all(p["in"] == "query" for p in params.values())
    assert params["force"]["schema"]["type"] == "boolean"
    assert list(patch["requestBody"]["content"]) == BUILTIN_PATCH_TYPES
    assert patch["requestBody"]["content"]["application/strategic-merge-patch+json"]["schema"] == {
        "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}
    post = paths[base]["post"]
    assert {p["name"] for p in post["parameters"]} == {"dryRun", "fieldManager", "fieldValidation"}
    assert post["requestBody"]["content"]["*/*"]["schema"]["$ref"].endswith("io.k8s.api.apps.v1.Deployment")
    assert {p["name"] for p in paths[base]["get"]["parameters"]} >= {
        "labelSelector", "fieldSelector", "watch", "sendInitialEvents", "resourceVersionMatch", "limit", "continue"}


async def test_core_document_covers_cluster_scoped_and_namespace_subresources(server: Server) -> None:
    doc = (await server.request("GET", "/openapi/v3/api/v1")).json()
    paths = doc["paths"]
    assert paths["/api/v1/namespaces"]["post"]["operationId"] == "createCoreV1Namespace"
    assert "delete" not in paths["/api/v1/namespaces"]  # namespaces have no deletecollection
    assert paths["/api/v1/namespaces/{name}/finalize"]["put"]["x-kubernetes-action"] == "put"
    assert "/api/v1/nodes/{name}/status" in paths
    assert paths["/api/v1/namespaces/{namespace}/pods/{name}"]["get"]["operationId"] == "readCoreV1NamespacedPod"
    assert "/api/v1/pods" in paths and "/api/v1/watch/pods" in paths


async def test_every_patch_operation_documents_field_validation(server: Server) -> None:
    """kubectl's verifier stops at the first PATCH operation of the kind (in map order): all must have it."""
    index = (await server.request("GET", "/openapi/v3")).json()["paths"]
    patches = 0
    for entry in index.values():
        doc = (await server.request("GET", entry["serverRelativeURL"])).json()
        for path in doc["paths"].values():
            if "patch" in path:
                patches += 1
                names = {p["name"] for p in path["patch"]["parameters"] if p["in"] == "query"}
                assert {"fieldValidation", "dryRun", "fieldManager", "force"} <= names
    assert patches >= 39  # every resource, plus status and scale


async def test_components_are_a_closed_openapi_v3_set(server: Server) -> None:
    doc = (await server.request("GET", "/openapi/v3/apis/apps/v1")).json()
    schemas = doc["components"]["schemas"]
    for name in ("io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.DeploymentList",
                 "io.k8s.api.core.v1.PodSpec", "io.k8s.api.core.v1.Container",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.api.autoscaling.v1.Scale",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.Patch", "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
                 "io.k8s.apimachinery.pkg.util.intstr.IntOrString"):
        assert name in schemas, name
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    for node in all_schemas(schemas):
        assert not isinstance(node.get("type"), list), node
    deployment_schema = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deployment_schema["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}]
    assert deployment_schema["type"] == "object"
    assert "enum" not in deployment_schema["properties"]["kind"]
    # OpenAPI 3.0 ignores siblings of $ref: a described reference is wrapped in allOf, as the real spec does.
    assert deployment_schema["properties"]["spec"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}]
    assert deployment_schema["properties"]["spec"]["description"]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-list-type"] == "map"
    assert containers["type"] == "array"
    ports = schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"]
    assert ports["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"]
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    # The closure is exactly what the apps/v1 paths reach: no unrelated kinds.
    assert "io.k8s.api.batch.v1.Job" not in schemas


async def test_hash_redirect_and_cache_headers(server: Server) -> None:
    url = (await server.request("GET", "/openapi/v3")).json()["paths"]["apis/batch/v1"]["serverRelativeURL"]
    good = await server.request("GET", url)
    assert good.status == 200
    assert good.header("cache-control") == "public, immutable"
    assert good.headers("cache-control") == ["public, immutable"]
    assert (good.header("expires") or "").endswith(" UTC")
    assert good.header("vary") == "Accept"
    stale = await server.request("GET", "/openapi/v3/apis/batch/v1?hash=0123ABC")
    assert stale.status == 301
    assert stale.header("location") == url
    plain = await server.request("GET", "/openapi/v3/apis/batch/v1")
    assert plain.status == 200 and plain.header("cache-control") == "no-cache, private"
    assert plain.body == good.body


async def test_unknown_group_version_and_unacceptable_types(server: Server) -> None:
    missing = await server.request("GET", "/openapi/v3/apis/nothing.example.com/v1")
    assert (missing.status, missing.body, missing.header("content-type")) == (404, b"", None)
    protobuf = await server.request(
        "GET", "/openapi/v3/api/v1", accept="application/com.github.proto-openapi.spec.v3@v1.0+protobuf")
    assert protobuf.status == 406
    star = await server.request("GET", "/openapi/v3/api/v1", accept="*/*")
    assert star.status == 200 and star.header("content-type") == "application/json"


# -- /openapi/v2 ------------------------------------------------------------------------------------------------------


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """The (number, value) pairs of a protobuf message: ints for varints, bytes for the rest."""
    out: list[tuple[int, Any]] = []
    pos = 0

    def varint() -> int:
        nonlocal pos
        shift = value = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while pos < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.append((number, varint()))
        elif wire == 1:
            out.append((number, data[pos:pos + 8]))
            pos += 8
        else:
            assert wire == 2, wire
            size = varint()
            out.append((number, data[pos:pos + size]))
            pos += size
    return out


def _field(data: bytes, number: int) -> Any:
    return next(v for n, v in _fields(data) if n == number)


def _named(data: bytes, number: int) -> dict[str, bytes]:
    """``repeated Named<X> = number`` as a dict (name = 1, value = 2)."""
    return {_field(item, 1).decode(): _field(item, 2) for n, item in _fields(data) if n == number}


async def test_v2_in_protobuf_holds_the_json_document(server: Server) -> None:
    """client-go asks only for gnostic's protobuf; both spellings get the one Go's mime parser accepts."""
    doc = (await server.request("GET", "/openapi/v2", accept="application/json")).json()
    for accept in ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
                   "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"):
        reply = await server.request("GET", "/openapi/v2", accept=accept)
        assert reply.status == 200
        assert reply.header("content-type") == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
        assert reply.header("etag") == f'"{hashlib.sha512(reply.body).hexdigest().upper()}"'
    pb = reply.body
    assert _field(pb, 1) == b"2.0"
    assert _field(_field(pb, 2), 1) == b"Kubernetes"
    paths = _named(_field(pb, 8), 2)
    assert list(paths) == list(doc["paths"])
    assert list(_named(_field(pb, 9), 1)) == list(doc["definitions"])
    # The PATCH (field 8) of deployments carries its GVK as an x- extension whose Any.yaml is JSON.
    patch = _field(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"], 8)
    extensions = _named(patch, 13)
    assert json.loads(_field(extensions["x-kubernetes-group-version-kind"], 2)) == {
        "group": "apps", "kind": "Deployment", "version": "v1"}
    unacceptable = await server.request("GET", "/openapi/v2", accept="text/html")
    assert unacceptable.status == 406


async def test_v2_in_json(server: Server) -> None:
    reply = await server.request("GET", "/openapi/v2", accept="application/json")
    assert reply.status == 200 and reply.header("content-type") == "application/json"
    doc = reply.json()
    assert doc["swagger"] == "2.0"
    definitions = doc["definitions"]
    for ref in refs(doc):
        assert ref.startswith("#/definitions/") and ref.removeprefix("#/definitions/") in definitions, ref
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["consumes"] == BUILTIN_PATCH_TYPES
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "description": definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["description"],
        "format": "int-or-string", "type": "string"}
    assert definitions["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"]["$ref"] == (
        "#/definitions/io.k8s.api.apps.v1.DeploymentSpec")


def test_schemas_load_lazily() -> None:
    """Building a cluster (registry, HTTP front, bootstrap objects) must not read the 1.37 schema file."""
    code = (
        "from kubeproof import Cluster\n"
        "from kubeproof.server import schema\n"
        "c = Cluster()\n"
        "print(schema.definitions.cache_info().currsize)\n"
        "c.stop()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


# -- fieldValidation: the directive --------------------------------------------------------------------------------


def test_directive_values() -> None:
    assert fieldvalidation.directive({}, "CreateOptions") == "Warn"
    assert fieldvalidation.directive({"fieldValidation": [""]}, "CreateOptions") == "Warn"
    for value in ("Ignore", "Warn", "Strict"):
        assert fieldvalidation.directive({"fieldValidation": [value]}, "PatchOptions") == value
    with pytest.raises(StatusError) as info:
        fieldvalidation.directive({"fieldValidation": ["strict"]}, "UpdateOptions")
    assert info.value.code == 422
    assert info.value.message == (
        'UpdateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: '
        '"", "Ignore", "Strict", "Warn"')


async def test_unsupported_directive_is_422_on_the_options_kind(server: Server) -> None:
    reply = await server.request("POST", "/apis/apps/v1/namespaces/default/deployments", deployment(),
                                 fieldValidation="Loose")
    assert reply.status == 422
    status = reply.json()
    assert status["reason"] == "Invalid"
    assert status["details"] == {"group": "meta.k8s.io", "kind": "CreateOptions", "causes": [
        {"reason": "FieldValueNotSupported", "field": "fieldValidation",
         "message": 'Unsupported value: "Loose": supported values: "", "Ignore", "Strict", "Warn"'}]}


# -- fieldValidation: create and update ----------------------------------------------------------------------------

INVALID_JSON = """
{
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "dupename",
        "name": "%s",
        "labels": {"app": "nginx"},
        "unknownMeta": "metaVal"
    },
    "spec": {
        "unknown1": "val1",
        "unknownDupe": "valDupe",
        "unknownDupe": "valDupe2",
        "paused": true,
        "paused": false,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {
                "containers": [{
                    "name":  "nginx",
                    "image": "nginx:latest",
                    "unknownNested": "val1",
                    "imagePullPolicy": "Always",
                    "imagePullPolicy": "Never"
                }]
            }
        }
    }
}
"""
JSON_PROBLEMS = [
    'duplicate field "metadata.name"',
    'unknown field "metadata.unknownMeta"',
    'unknown field "spec.unknown1"',
    'unknown field "spec.unknownDupe"',
    'duplicate field "spec.paused"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
]

INVALID_YAML = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: dupename
  name: %s
  unknownMeta: metaVal
  labels:
    app: nginx
spec:
  unknown1: val1
  unknownDupe: valDupe
  unknownDupe: valDupe2
  paused: true
  paused: false
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        unknownNested: val1
        imagePullPolicy: Always
        imagePullPolicy: Never"""
YAML_DUPLICATES = [
    'line 5: key "name" already set in map',
    'line 12: key "unknownDupe" already set in map',
    'line 14: key "paused" already set in map',
    'line 28: key "imagePullPolicy" already set in map',
]
YAML_UNKNOWN = [
    'unknown field "metadata.unknownMeta"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'unknown field "spec.unknown1"',
    'unknown field "spec.unknownDupe"',
]


async def test_post_strict_json(server: Server) -> None:
    body = (INVALID_JSON % "strict").encode()
    reply = await server.request("POST", "/apis/apps/v1/namespaces/default/deployments", body,
                                 fieldValidation="Strict")
    assert reply.status == 400, reply
    status = reply.json()
    assert status["reason"] == "BadRequest"
    assert status["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        + ", ".join(JSON_PROBLEMS))
    assert (await server.request("GET", "/apis/apps/v1/namespaces/default/deployments/strict")).status == 404


@pytest.mark.parametrize("params", [{"fieldValidation": "Warn"}, {}], ids=["warn", "default"])
async def test_post_warn_json(server: Server, params: dict[str, str]) -> None:
    body = (INVALID_JSON % "warn").encode()
    reply = await server.request("POST", "/apis/apps/v1/namespaces/default/deployments", body, **params)
    assert reply.status == 201, reply
    assert reply.warnings == JSON_PROBLEMS
    assert len(reply.headers("warning")) == len(JSON_PROBLEMS)  # one header line per warning
    assert reply.headers("warning")[2] == '299 - "unknown field \\"spec.unknown1\\""'
    stored = reply.json()
    assert "unknownMeta" not in stored["metadata"]
    assert "unknown1" not in stored["spec"] and "unknownDupe" not in stored["spec"]
    assert stored["spec"]["paused"] is False  # the last duplicate wins
    container = stored["spec"]["template"]["spec"]["containers"][0]
    assert "unknownNested" not in container and container["imagePullPolicy"] == "Never"


async def test_post_ignore_json(server: Server) -> None:
    body = (INVALID_JSON % "ignore").encode()
    reply = await server.request("POST", "/apis/apps/v1/namespaces/default/deployments", body,
                                 fieldValidation="Ignore")
    assert reply.status == 201, reply
    assert reply.headers("warning") == []
    assert "unknown1" not in reply.json()["spec"]  # still dropped: the Go struct has nowhere to put it


async def test_post_yaml(server: Server) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments"
    strict = await server.request("POST", path, (INVALID_YAML % "ystrict").encode(),
                                  content_type="application/yaml", fieldValidation="Strict")
    assert strict.status == 400, strict
    assert strict.json()["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: yaml: unmarshal errors:\n  '
        + "\n  ".join(YAML_DUPLICATES) + ", " + ", ".join(YAML_UNKNOWN))
    warn = await server.request("POST", path, (INVALID_YAML % "ywarn").encode(), content_type="application/yaml")
    assert warn.status == 201, warn
    assert warn.warnings == YAML_DUPLICATES + YAML_UNKNOWN


async def test_put_strict_and_warn(server: Server) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments"
    assert (await server.request("POST", path, deployment("put"))).status == 201
    body = (INVALID_JSON % "put").encode()
    strict = await server.request("PUT", path + "/put", body, fieldValidation="Strict")
    assert strict.status == 400
    assert strict.json()["message"].endswith("strict decoding error: " + ", ".join(JSON_PROBLEMS))
    warn = await server.request("PUT", path + "/put", body)
    assert warn.status == 200, warn
    assert warn.warnings == JSON_PROBLEMS
    assert "unknown1" not in warn.json()["spec"]


async def test_known_free_form_and_map_fields_pass(server: Server) -> None:
    body = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {"any.key/works": "x"}, "annotations": {"a": "b"},
                     "managedFields": [{"manager": "m", "operation": "Update", "apiVersion": "v1",
                                        "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:k": {}}}}]},
        "data": {"k": "v", "other": "w"}, "binaryData": {"b": "AAE="}, "immutable": False,
    }
    reply = await server.request("POST", "/api/v1/namespaces/default/configmaps", body, fieldValidation="Strict")
    assert reply.status == 201, reply
    assert reply.headers("warning") == []
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
               "spec": {"ports": [{"port": 80, "targetPort": "http"}], "selector": {"app": "x"}}}
    reply = await server.request("POST", "/api/v1/namespaces/default/services", service, fieldValidation="Strict")
    assert reply.status == 201, reply


async def test_several_unknown_fields_join_like_go() -> None:
    with pytest.raises(StatusError) as info:
        fieldvalidation.check_body("", "v1", "ConfigMap", {"metadata": {"name": "x"}, "a": 1, "b": 2}, "Strict")
    assert info.value.message == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "a", unknown field "b"')


async def test_custom_resources_without_schema() -> None:
    body = b'{"apiVersion": "example.com/v1alpha1", "kind": "Widget", "metadata": {"name": "w", "bogus": 1}, "spec": {"x": 1, "x": 2, "free": {"y": true}}}'
    obj = json.loads(body)
    cleaned, warnings = fieldvalidation.check_body("example.com", "v1alpha1", "Widget", obj, "Warn", raw=body)
    assert warnings == ['duplicate field "spec.x"', 'unknown field "metadata.bogus"']
    assert cleaned["spec"] == {"x": 2, "free": {"y": True}}
    assert cleaned["metadata"] == {"name": "w"}


# -- fieldValidation: patch -----------------------------------------------------------------------------------------

MERGE_PATCH = """
{
    "spec": {
        "unknown1": "val1",
        "unknownDupe": "valDupe",
        "unknownDupe": "valDupe2",
        "paused": true,
        "paused": false,
        "template": {
            "spec": {
                "containers": [{
                    "name": "nginx",
                    "image": "nginx:latest",
                    "unknownNested": "val1",
                    "imagePullPolicy": "Always",
                    "imagePullPolicy": "Never"
                }]
            }
        }
    }
}
"""
PATCH_PROBLEMS = [
    'duplicate field "spec.unknownDupe"',
    'duplicate field "spec.paused"',
    'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'unknown field "spec.unknown1"',
    'unknown field "spec.unknownDupe"',
]
JSON_PATCH = """[
    {"op": "add", "path": "/spec/unknown1", "value": "val1", "foo":"bar"},
    {"op": "add", "path": "/spec/unknown2", "path": "/spec/unknown3", "value": "val1"},
    {"op": "add", "path": "/spec/unknownDupe", "value": "valDupe"},
    {"op": "add", "path": "/spec/unknownDupe", "value": "valDupe2"},
    {"op": "add", "path": "/spec/paused", "value": true},
    {"op": "add", "path": "/spec/paused", "value": false},
    {"op": "add", "path": "/spec/template/spec/containers/0/unknownNested", "value": "val1"},
    {"op": "add", "path": "/spec/template/spec/containers/0/imagePullPolicy", "value": "Always"},
    {"op": "add", "path": "/spec/template/spec/containers/0/imagePullPolicy", "value": "Never"}
]"""
JSON_PATCH_PROBLEMS = [
    'json patch unknown field "[0].foo"',
    'json patch duplicate field "[1].path"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'unknown field "spec.unknown1"',
    'unknown field "spec.unknown3"',
    'unknown field "spec.unknownDupe"',
]


@pytest.mark.parametrize(("content_type", "body", "problems"), [
    ("application/merge-patch+json", MERGE_PATCH, PATCH_PROBLEMS),
    ("application/strategic-merge-patch+json", MERGE_PATCH, PATCH_PROBLEMS),
    ("application/json-patch+json", JSON_PATCH, JSON_PATCH_PROBLEMS),
], ids=["merge", "strategic", "json"])
async def test_patch_strict_warn_ignore(server: Server, content_type: str, body: str, problems: list[str]) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments"
    assert (await server.request("POST", path, deployment("p"))).status == 201
    before = (await server.request("GET", path + "/p")).json()

    strict = await server.request("PATCH", path + "/p", body.encode(), content_type=content_type,
                                  fieldValidation="Strict")
    assert strict.status == 422, strict
    status = strict.json()
    assert status["reason"] == "Invalid"
    detail = "strict decoding error: " + ", ".join(problems)
    assert status["message"].startswith(' "" is invalid: patch: Invalid value: "')
    assert status["message"].endswith('": ' + detail)
    [cause] = status["details"]["causes"]
    assert cause["field"] == "patch" and cause["reason"] == "FieldValueInvalid"
    assert cause["message"].endswith(detail)
    assert set(status["details"]) == {"causes"}
    assert (await server.request("GET", path + "/p")).json() == before  # nothing written

    warn = await server.request("PATCH", path + "/p", body.encode(), content_type=content_type)
    assert warn.status == 200, warn
    assert warn.warnings == problems
    patched = warn.json()
    assert "unknown1" not in patched["spec"] and patched["spec"]["paused"] is False
    assert "unknownNested" not in patched["spec"]["template"]["spec"]["containers"][0]

    ignore = await server.request("PATCH", path + "/p", body.encode(), content_type=content_type,
                                  fieldValidation="Ignore")
    assert ignore.status == 200 and ignore.headers("warning") == []


async def test_strategic_patch_value_is_the_go_map(server: Server) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments"
    assert (await server.request("POST", path, deployment("smp"))).status == 201
    reply = await server.request("PATCH", path + "/smp", {"spec": {"bogus": 1, "replicas": 2}},
                                 content_type="application/strategic-merge-patch+json", fieldValidation="Strict")
    assert reply.json()["message"] == (
        ' "" is invalid: patch: Invalid value: "map[spec:map[bogus:1 replicas:2]]": '
        'strict decoding error: unknown field "spec.bogus"')


async def test_merge_patch_value_is_the_patched_json(server: Server) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    created = await server.request("POST", path, {"metadata": {"name": "cm"}, "data": {"a": "<b>"}})
    assert created.status == 201
    reply = await server.request("PATCH", path + "/cm", {"zz": 1}, content_type="application/merge-patch+json",
                                 fieldValidation="Strict")
    message = reply.json()["message"]
    prefix = ' "" is invalid: patch: Invalid value: '
    quoted = message[len(prefix):message.index(': strict decoding error')]
    value = json.loads(quoted)  # Go's %q of the JSON is a valid JSON string here
    patched = json.loads(value)
    assert patched["zz"] == 1 and patched["data"] == {"a": "<b>"}
    assert "\\u003cb\\u003e" in value  # json.Marshal escapes HTML characters


def test_patch_keeps_what_the_stored_object_already_has() -> None:
    current = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "serverOwn": 1}
    patched = copy.deepcopy(current)
    patched["data"] = {"a": "b"}
    cleaned, warnings = fieldvalidation.check_patched("", "v1", "ConfigMap", patched, "Strict", current=current)
    assert warnings == [] and cleaned["serverOwn"] == 1


def test_warning_headers_escape_like_go() -> None:
    assert fieldvalidation.warning_headers(['unknown field "a\\b"', 'unknown field "a\\b"', "bad\ntext"]) == {
        "Warning": ['299 - "unknown field \\"a\\\\b\\""']}
    assert fieldvalidation.warning_headers([]) == {}


def test_go_map_repr() -> None:
    assert fieldvalidation.go_map_repr({"b": [1, "x", None, True], "a": {"c": 1.5, "d": 1e6}}) == (
        "map[a:map[c:1.5 d:1e+06] b:[1 x <nil> true]]")


def test_schema_for_every_served_builtin_kind() -> None:
    for rt in builtin_resources():
        assert schema.schema_for(rt.group, rt.version, rt.kind) is not None, rt.kind


@pytest.mark.parametrize(("body", "repeats"), [
    (b'{"a": 1, "a": 2}', True),
    (b'{"a": "x:y", "b": {"c": [{"d": 1}, {"d": 2, "d": 3}]}}', True),
    (b'{"a": "x:y", "b": {"c": [{"d": 1}, {"d": 2, "e": 3}]}}', False),
    (b'{"a\\":": 1, "b": "\\\\", "c": "\\"::"}', False),
    (b'{"k": {"k": {"k": 1}}}', False),
])
async def test_only_a_body_that_may_repeat_a_key_is_parsed_again(body: bytes, repeats: bool) -> None:
    # Colons inside strings (escaped quotes included) are not members; a repeated key anywhere is found.
    assert fieldvalidation.may_repeat_keys(body, json.loads(body)) is repeats
    assert fieldvalidation.has_duplicates(fieldvalidation.decode_with_duplicates(body)) is repeats
