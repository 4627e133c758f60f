"""OpenAPI documents: ``/openapi/v3`` (index and per-group-version) and ``/openapi/v2``.

What kube-apiserver serves, built from the registry at request time (so resources registered later
appear) and from the Kubernetes 1.37 definitions in :mod:`kubeproof.server.schema`:

* ``GET /openapi/v3``: ``{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=<HEX>"}, ...}}``
  where the hash is the upper-case hex SHA-512 of the group-version document (kube-openapi
  ``handler3.computeETag``). The aggregator serves it through ``http.ServeContent`` without a content
  type, so Go sniffs ``text/plain; charset=utf-8``.
* ``GET /openapi/v3/api/v1``, ``/openapi/v3/apis/{group}/{version}`` (and the discovery paths ``api``,
  ``apis``, ``apis/{group}``, ``version`` the real index lists too): OpenAPI 3.0 documents with every
  resource path and operation (``x-kubernetes-action``, ``x-kubernetes-group-version-kind``, the query
  parameters kubectl's field-validation verifier looks for) and ``components.schemas`` holding the
  transitive closure of the definitions they use. A ``hash`` that does not match answers 301 to the
  current one; a matching hash adds ``Cache-Control: public, immutable`` (``handler3.HandleGroupVersion``).
  An unknown group-version is a bare 404 (``kube-aggregator``'s ``specProxier.handleGroupVersion``).
* ``GET /openapi/v2``: Swagger 2.0, as JSON or as gnostic's protobuf (``server/openapi_v2pb.py``), the only
  form client-go asks for. kubectl reads it for kinds whose v3 document has no PATCH operation (the review
  APIs): its field-validation check falls back to v2 and validates on the client with the v2 schemas.

Documents are cached per registry and rebuilt when the set of served resources changes. The schema file
is loaded on the first request that needs it, never at server start.
"""

from __future__ import annotations

import hashlib
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

import orjson

from kubeproof.server.patch import BUILTIN_PATCH_TYPES, CUSTOM_PATCH_TYPES
from kubeproof.server.registry.base import ResourceType
from kubeproof.server.registry.generic import Registry

Schema = dict[str, Any]
Response = tuple[int, bytes, str, dict[str, str]]

V3_REF = "#/components/schemas/"
V2_REF = "#/definitions/"
JSON_SCHEMA_REF = "#/$defs/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
STATUS = META + "Status"
DELETE_OPTIONS = META + "DeleteOptions"
PATCH = META + "Patch"
WATCH_EVENT = META + "WatchEvent"
OBJECT_META = META + "ObjectMeta"
LIST_META = META + "ListMeta"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"

V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
V2_PROTOBUF_NEW = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

#: Response media types of every operation (CBOR is not served, so it is not listed).
RESPONSE_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
STREAM_TYPES = ["application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"]

_DESCRIPTIONS = {
    INT_OR_STRING: (
        "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and "
        "unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON "
        "field that can accept a name or number."
    ),
    QUANTITY: (
        "Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling "
        "in JSON and YAML, in addition to String() and AsInt64() accessors.\n\nThe serialization format is:\n\n"
        "``` <quantity>        ::= <signedNumber><suffix>\n```\n\nExamples: `1`, `500m`, `2Gi`, `1.5`, `100M`."
    ),
}

# -- query and path parameters ------------------------------------------------------------------------

_PARAMS: dict[str, tuple[str, str, str]] = {
    # name: (in, type, description)
    "name": ("path", "string", "name of the {kind}"),
    "namespace": ("path", "string", "object name and auth scope, such as for teams and projects"),
    "pretty": (
        "query", "string",
        "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a "
        "browser or command-line HTTP tool (curl and wget).",
    ),
    "allowWatchBookmarks": (
        "query", "boolean",
        "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement "
        "bookmarks may ignore this flag and bookmarks are sent at the server's discretion.",
    ),
    "continue": (
        "query", "string",
        "The continue option should be set when retrieving more results from the server. Its value comes from "
        "the previous list result with identical query parameters (except for the value of continue).",
    ),
    "fieldSelector": (
        "query", "string",
        "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
    ),
    "labelSelector": (
        "query", "string",
        "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
    ),
    "limit": (
        "query", "integer",
        "limit is a maximum number of responses to return for a list call. If more items exist, the server "
        "will set the `continue` field on the list metadata to a value that can be used with the same initial "
        "query to retrieve the next set of results.",
    ),
    "resourceVersion": (
        "query", "string",
        "resourceVersion sets a constraint on what resource versions a request may be served from. "
        "Defaults to unset",
    ),
    "resourceVersionMatch": (
        "query", "string",
        "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly "
        "recommended that resourceVersionMatch be set for list calls where resourceVersion is set. "
        "Defaults to unset",
    ),
    "sendInitialEvents": (
        "query", "boolean",
        "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will "
        "begin with synthetic events to produce the current state of objects in the collection, followed by a "
        "bookmark event annotated with \"k8s.io/initial-events-end\": \"true\".",
    ),
    "timeoutSeconds": (
        "query", "integer",
        "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity "
        "or inactivity.",
    ),
    "watch": (
        "query", "boolean",
        "Watch for changes to the described resources and return them as a stream of add, update, and remove "
        "notifications. Specify resourceVersion.",
    ),
    "dryRun": (
        "query", "string",
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized "
        "dryRun directive will result in an error response and no further processing of the request. Valid "
        "values are: - All: all dry run stages will be processed",
    ),
    "fieldManager": (
        "query", "string",
        "fieldManager is a name associated with the actor or entity that is making these changes. The value "
        "must be less than or 128 characters long, and only contain printable characters, as defined by "
        "https://golang.org/pkg/unicode/#IsPrint.",
    ),
    "fieldValidation": (
        "query", "string",
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) "
        "containing unknown or duplicate fields. Valid values are: - Ignore: unknown fields are silently "
        "dropped from the object, and all but the last duplicate field are ignored. - Warn: a warning is "
        "sent via the standard warning response header for each unknown field that is dropped from the "
        "object, and for each duplicate field that is encountered. This is the default in v1.23+ - Strict: "
        "the request fails with a BadRequest error if any unknown fields would be dropped from the object, "
        "or if any duplicate fields are present.",
    ),
    "force": (
        "query", "boolean",
        "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned "
        "by other people. Force flag must be unset for non-apply patch requests.",
    ),
    "gracePeriodSeconds": (
        "query", "integer",
        "The duration in seconds before the object should be deleted. Value must be non-negative integer. "
        "The value zero indicates delete immediately. If this value is nil, the default grace period for the "
        "specified type will be used. Defaults to a per object value if not specified. zero means delete "
        "immediately.",
    ),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (
        "query", "boolean",
        "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow "
        "fails with a corrupt object error. The default value is false, and the user must opt in to enable it",
    ),
    "orphanDependents": (
        "query", "boolean",
        "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the "
        "dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from "
        "the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
    ),
    "propagationPolicy": (
        "query", "string",
        "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be "
        "set, but not both. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the "
        "garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that "
        "deletes all dependents in the foreground.",
    ),
}
_PATCH_FIELD_MANAGER = (
    _PARAMS["fieldManager"][2] + " This field is required for apply requests (application/apply-patch) but "
    "optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch)."
)

LIST_PARAMS = [
    "allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
    "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch",
]
WRITE_PARAMS = ["dryRun", "fieldManager", "fieldValidation"]
PATCH_PARAMS = ["dryRun", "fieldManager", "fieldValidation", "force"]
DELETE_PARAMS = [
    "dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential", "orphanDependents",
    "propagationPolicy",
]
DELETE_COLLECTION_PARAMS = sorted(
    {*DELETE_PARAMS, "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
     "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds"},
    key=str.lower,
)


# -- the shape of the documents, independent of the OpenAPI version -----------------------------------


@dataclass
class Operation:
    method: str
    op_id: str
    description: str
    action: str
    gvk: dict[str, str]
    tag: str
    params: list[str] = field(default_factory=list)
    body: str | None = None
    body_types: list[str] = field(default_factory=list)
    body_required: bool = True
    #: status code → (description, response definition or None)
    responses: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    streaming: bool = False
    kind: str = ""


@dataclass
class PathItem:
    path: str
    params: list[str]
    ops: list[Operation]
    kind: str = ""


@dataclass
class GroupVersionSpec:
    paths: list[PathItem]
    roots: set[str]


def _friendly_group(group: str) -> str:
    """``rbac.authorization.k8s.io`` → ``RbacAuthorization``; core → ``Core`` (as the operation ids read)."""
    if not group:
        return "Core"
    name = group.removesuffix(".k8s.io")
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", ".").split(".") if part)


def _tag(group: str, version: str) -> str:
    friendly = _friendly_group(group)
    return friendly[:1].lower() + friendly[1:] + "_" + version


def _prefix(group: str, version: str) -> str:
    return f"/api/{version}" if not group else f"/apis/{group}/{version}"


def gv_key(group: str, version: str) -> str:
    """The key of a group-version in the ``/openapi/v3`` index: ``api/v1`` or ``apis/apps/v1``."""
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _schema_module() -> Any:
    from kubeproof.server import schema

    return schema


def _kind_definition(group: str, version: str, kind: str) -> str:
    """The definition name describing a kind (built-in), or the synthetic name of a custom kind."""
    name: str | None = _schema_module().definition_name(group, version, kind)
    if name:
        return name
    return custom_definition_name(group, version, kind)


def custom_definition_name(group: str, version: str, kind: str) -> str:
    """Custom resources are named by reversed group, as the apiserver names CRD schemas."""
    reversed_group = ".".join(reversed(group.split("."))) if group else "core"
    return f"{reversed_group}.{version}.{kind}"


def _responses(ok: str | None, *codes: tuple[str, str]) -> dict[str, tuple[str, str | None]]:
    result: dict[str, tuple[str, str | None]] = {}
    for code, description in codes:
        result[code] = (description, ok)
    result["401"] = ("Unauthorized", None)
    return result


def _patch_types(rt: ResourceType) -> list[str]:
    """The patch media types the endpoint accepts (the same lists the HTTP front enforces)."""
    return list(CUSTOM_PATCH_TYPES if rt.typed_list_items else BUILTIN_PATCH_TYPES)


def _resource_paths(rt: ResourceType) -> tuple[list[PathItem], set[str]]:
    group, version, kind, plural = rt.group, rt.version, rt.kind, rt.plural
    prefix = _prefix(group, version)
    gv_camel = _friendly_group(group) + version[:1].upper() + version[1:]
    tag = _tag(group, version)
    gvk = {"group": group, "kind": kind, "version": version}
    obj = _kind_definition(group, version, kind)
    lst = _kind_definition(group, version, rt.list_kind)
    roots = {obj, lst}
    ns = "Namespaced" if rt.namespaced else ""
    verbs = set(rt.verbs)

    def op(method: str, op_id: str, description: str, action: str, **extra: Any) -> Operation:
        return Operation(method, op_id, description, action, dict(gvk), tag, kind=kind, **extra)

    collection_ops: list[Operation] = []
    if "list" in verbs:
        collection_ops.append(op(
            "get", f"list{gv_camel}{ns}{kind}", f"list or watch objects of kind {kind}", "list",
            params=LIST_PARAMS, responses=_responses(lst, ("200", "OK")), streaming=True,
        ))
    if "create" in verbs:
        collection_ops.append(op(
            "post", f"create{gv_camel}{ns}{kind}", f"create {_article(kind)} {kind}", "post",
            params=WRITE_PARAMS, body=obj, body_types=["*/*"],
            responses=_responses(obj, ("200", "OK"), ("201", "Created"), ("202", "Accepted")),
        ))
    if "deletecollection" in verbs:
        collection_ops.append(op(
            "delete", f"delete{gv_camel}Collection{ns}{kind}", f"delete collection of {kind}", "deletecollection",
            params=DELETE_COLLECTION_PARAMS, body=DELETE_OPTIONS, body_types=["*/*"], body_required=False,
            responses=_responses(STATUS, ("200", "OK")),
        ))
    item_ops: list[Operation] = []
    if "get" in verbs:
        item_ops.append(op(
            "get", f"read{gv_camel}{ns}{kind}", f"read the specified {kind}", "get",
            responses=_responses(obj, ("200", "OK")),
        ))
    if "update" in verbs:
        item_ops.append(op(
            "put", f"replace{gv_camel}{ns}{kind}", f"replace the specified {kind}", "put",
            params=WRITE_PARAMS, body=obj, body_types=["*/*"],
            responses=_responses(obj, ("200", "OK"), ("201", "Created")),
        ))
    if "patch" in verbs:
        item_ops.append(op(
            "patch", f"patch{gv_camel}{ns}{kind}", f"partially update the specified {kind}", "patch",
            params=PATCH_PARAMS, body=PATCH, body_types=_patch_types(rt),
            responses=_responses(obj, ("200", "OK"), ("201", "Created")),
        ))
    if "delete" in verbs:
        item_ops.append(op(
            "delete", f"delete{gv_camel}{ns}{kind}", f"delete {_article(kind)} {kind}", "delete",
            params=DELETE_PARAMS, body=DELETE_OPTIONS, body_types=["*/*"], body_required=False,
            responses=_responses(STATUS, ("200", "OK"), ("202", "Accepted")),
        ))
    if "delete" in verbs or "deletecollection" in verbs:
        roots |= {STATUS, DELETE_OPTIONS}
    if "patch" in verbs:
        roots.add(PATCH)

    base = f"{prefix}/namespaces/{{namespace}}/{plural}" if rt.namespaced else f"{prefix}/{plural}"
    scope_params = ["namespace"] if rt.namespaced else []
    paths: list[PathItem] = []
    if collection_ops:
        paths.append(PathItem(base, [*scope_params, "pretty"], collection_ops, kind))
    if item_ops:
        paths.append(PathItem(f"{base}/{{name}}", ["name", *scope_params, "pretty"], item_ops, kind))
    if "watch" in verbs:
        roots.add(WATCH_EVENT)
        watch_base = (f"{prefix}/watch/namespaces/{{namespace}}/{plural}" if rt.namespaced
                      else f"{prefix}/watch/{plural}")
        paths.append(PathItem(watch_base, [*LIST_PARAMS, *scope_params, "pretty"], [op(
            "get", f"watch{gv_camel}{ns}{kind}List",
            f"watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list "
            "operation instead.", "watchlist", responses=_responses(WATCH_EVENT, ("200", "OK")), streaming=True,
        )], kind))
        paths.append(PathItem(f"{watch_base}/{{name}}", [*LIST_PARAMS, "name", *scope_params, "pretty"], [op(
            "get", f"watch{gv_camel}{ns}{kind}",
            f"watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with a list "
            "operation instead, filtered to a single item with the 'fieldSelector' parameter.", "watch",
            responses=_responses(WATCH_EVENT, ("200", "OK")), streaming=True,
        )], kind))
        if rt.namespaced:
            paths.append(PathItem(f"{prefix}/watch/{plural}", [*LIST_PARAMS, "pretty"], [op(
                "get", f"watch{gv_camel}{kind}ListForAllNamespaces",
                f"watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a "
                "list operation instead.", "watchlist", responses=_responses(WATCH_EVENT, ("200", "OK")),
                streaming=True,
            )], kind))
    if rt.namespaced and "list" in verbs:
        paths.append(PathItem(f"{prefix}/{plural}", [*LIST_PARAMS, "pretty"], [op(
            "get", f"list{gv_camel}{kind}ForAllNamespaces", f"list or watch objects of kind {kind}", "list",
            responses=_responses(lst, ("200", "OK")), streaming=True,
        )], kind))

    for sub_name, sub in sorted(rt.subresources.items()):
        sub_gvk = dict(gvk)
        sub_obj = obj
        if sub.kind:
            sub_gvk = {"group": sub.group if sub.group is not None else group, "kind": sub.kind,
                       "version": sub.version or version}
            sub_obj = _kind_definition(sub_gvk["group"], sub_gvk["version"], sub.kind)
        roots.add(sub_obj)
        label = sub_name[:1].upper() + sub_name[1:]
        sub_ops: list[Operation] = []
        sub_verbs = set(sub.verbs)

        def sub_op(method: str, verb_word: str, description: str, action: str, *, label: str = label,
                   sub_gvk: dict[str, str] = sub_gvk, **extra: Any) -> Operation:
            return Operation(method, f"{verb_word}{gv_camel}{ns}{kind}{label}", description, action,
                             dict(sub_gvk), tag, kind=sub_gvk["kind"], **extra)

        if "get" in sub_verbs:
            sub_ops.append(sub_op("get", "read", f"read {sub_name} of the specified {kind}", "get",
                                  responses=_responses(sub_obj, ("200", "OK"))))
        if "update" in sub_verbs:
            sub_ops.append(sub_op("put", "replace", f"replace {sub_name} of the specified {kind}", "put",
                                  params=WRITE_PARAMS, body=sub_obj, body_types=["*/*"],
                                  responses=_responses(sub_obj, ("200", "OK"), ("201", "Created"))))
        if "patch" in sub_verbs:
            roots.add(PATCH)
            sub_ops.append(sub_op("patch", "patch", f"partially update {sub_name} of the specified {kind}", "patch",
                                  params=PATCH_PARAMS, body=PATCH, body_types=_patch_types(rt),
                                  responses=_responses(sub_obj, ("200", "OK"), ("201", "Created"))))
        if sub_ops:
            paths.append(PathItem(f"{base}/{{name}}/{sub_name}", ["name", *scope_params, "pretty"], sub_ops, kind))
    return paths, roots


def _article(kind: str) -> str:
    return "an" if kind[:1] in "AEIOU" else "a"


def _group_version_spec(resources: list[ResourceType]) -> GroupVersionSpec:
    rt0 = resources[0]
    resource_list = META + "APIResourceList"
    root_op = Operation(
        "get", f"get{_friendly_group(rt0.group)}{rt0.version[:1].upper()}{rt0.version[1:]}APIResources",
        "get available resources", "", {}, _tag(rt0.group, rt0.version),
        responses=_responses(resource_list, ("200", "OK")),
    )
    paths = [PathItem(_prefix(rt0.group, rt0.version) + "/", [], [root_op])]
    roots = {resource_list}
    for rt in sorted(resources, key=lambda r: r.plural):
        more, more_roots = _resource_paths(rt)
        paths.extend(more)
        roots |= more_roots
    return GroupVersionSpec(paths, roots)


def _discovery_spec(key: str) -> GroupVersionSpec:
    """The documents of the non-resource paths the real index lists: ``api``, ``apis``, ``apis/<g>``, ``version``."""
    if key == "api":
        name, op_id, description, tag, path = META + "APIVersions", "getCoreAPIVersions", \
            "get available API versions", "core", "/api/"
    elif key == "apis":
        name, op_id, description, tag, path = META + "APIGroupList", "getAPIVersions", \
            "get available API versions", "apis", "/apis/"
    elif key == "version":
        name, op_id, description, tag, path = "io.k8s.apimachinery.pkg.version.Info", "getCodeVersion", \
            "get the version information for this server", "version", "/version/"
    else:
        group = key.removeprefix("apis/")
        friendly = _friendly_group(group)
        name, op_id, description, tag, path = META + "APIGroup", f"get{friendly}APIGroup", \
            "get information of a group", friendly[:1].lower() + friendly[1:], f"/apis/{group}/"
    op = Operation("get", op_id, description, "", {}, tag, responses=_responses(name, ("200", "OK")))
    if key == "version":
        op.responses = {"200": ("OK", name), "401": ("Unauthorized", None)}
    return GroupVersionSpec([PathItem(path, [], [op])], {name})


# -- schema conversion -------------------------------------------------------------------------------------


def _convert(schema: Any, v3: bool) -> Any:
    """JSON-Schema form (kubernetes-validate) → OpenAPI: refs re-pointed, ``["x", "null"]`` types collapsed."""
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    out: Schema = {}
    for key, value in schema.items():
        if key == "$ref":
            continue
        if key == "type":
            types = [value] if isinstance(value, str) else [t for t in value if t != "null"]
            if len(types) == 1:
                out["type"] = types[0]
            elif types:
                out["type"] = types
        elif key == "properties":
            out["properties"] = {name: _convert(sub, v3) for name, sub in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = _convert(value, v3)
        elif key in ("allOf", "oneOf", "anyOf") and isinstance(value, list):
            out[key] = [_convert(sub, v3) for sub in value]
        else:
            out[key] = value
    if isinstance(ref, str) and ref.startswith(JSON_SCHEMA_REF):
        target = (V3_REF if v3 else V2_REF) + ref[len(JSON_SCHEMA_REF):]
        if not out:
            return {"$ref": target}
        if v3:
            # OpenAPI 3.0 ignores siblings of $ref: the generated specs wrap the ref in allOf instead.
            return {"allOf": [{"$ref": target}], **out}
        return {"$ref": target, **out}
    return out


_converted: dict[tuple[str, bool], Schema] = {}


def converted_definition(name: str, v3: bool = True) -> Schema:
    """One definition in OpenAPI form (cached: the conversion does not depend on the registry)."""
    key = (name, v3)
    found = _converted.get(key)
    if found is not None:
        return found
    source = _schema_module().definitions().get(name)
    if source is None:
        return {}
    result: Schema = _convert(source, v3)
    if name == INT_OR_STRING:
        result = {"description": _DESCRIPTIONS[name], "format": "int-or-string"}
        if v3:
            result["oneOf"] = [{"type": "integer"}, {"type": "string"}]
        else:
            result["type"] = "string"
    elif name == QUANTITY:
        result = {"description": _DESCRIPTIONS[name]}
        if v3:
            result["oneOf"] = [{"type": "string"}, {"type": "number"}]
        else:
            result["type"] = "string"
    if result.get("x-kubernetes-group-version-kind"):
        # kubernetes-validate pins apiVersion/kind with an enum; the published specs do not.
        props = result.get("properties") or {}
        for prop in ("apiVersion", "kind"):
            if isinstance(props.get(prop), dict) and "enum" in props[prop]:
                props[prop] = {k: v for k, v in props[prop].items() if k != "enum"}
    _converted[key] = result
    return result


_direct_refs: dict[str, frozenset[str]] = {}


def _refs_of(name: str) -> frozenset[str]:
    found = _direct_refs.get(name)
    if found is not None:
        return found
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(JSON_SCHEMA_REF):
                refs.add(ref[len(JSON_SCHEMA_REF):])
            for key, value in node.items():
                if key != "$ref":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(_schema_module().definitions().get(name))
    _direct_refs[name] = frozenset(refs)
    return _direct_refs[name]


def closure(roots: Iterable[str]) -> list[str]:
    """Every definition reachable from ``roots`` through ``$ref`` (sorted)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_refs_of(name) - seen)
    return sorted(seen)


def _custom_schemas(resources: list[ResourceType], v3: bool) -> dict[str, Schema]:
    """Permissive schemas for kinds the built-in definitions do not know (custom resources)."""
    out: dict[str, Schema] = {}
    ref = V3_REF if v3 else V2_REF
    known = _schema_module().definitions()
    for rt in resources:
        for kind in (rt.kind, rt.list_kind):
            name = _kind_definition(rt.group, rt.version, kind)
            if name in known:
                continue
            gvk = [{"group": rt.group, "kind": kind, "version": rt.version}]
            if kind == rt.list_kind:
                item = _kind_definition(rt.group, rt.version, rt.kind)
                props: Schema = {
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                    "items": {"type": "array", "items": {"$ref": ref + item}},
                    "metadata": {"$ref": ref + LIST_META} if not v3 else {"allOf": [{"$ref": ref + LIST_META}]},
                }
                out[name] = {"description": f"{kind} is a list of {rt.kind}", "type": "object",
                             "properties": props, "required": ["items"], "x-kubernetes-group-version-kind": gvk}
            else:
                meta = {"$ref": ref + OBJECT_META} if not v3 else {"allOf": [{"$ref": ref + OBJECT_META}]}
                out[name] = {"type": "object", "properties": {
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": meta,
                }, "x-kubernetes-preserve-unknown-fields": True, "x-kubernetes-group-version-kind": gvk}
                crd_schema = getattr(rt.strategy, "schema", None)  # a CRD's openAPIV3Schema (server/crd)
                if isinstance(crd_schema, dict) and crd_schema.get("properties"):
                    published = dict(crd_schema)
                    published["properties"] = {**crd_schema["properties"], **out[name]["properties"]}
                    published["x-kubernetes-group-version-kind"] = gvk
                    out[name] = published
    return out


def _components(spec: GroupVersionSpec, resources: list[ResourceType], v3: bool) -> dict[str, Schema]:
    known = _schema_module().definitions()
    custom = _custom_schemas(resources, v3)
    roots = {r for r in spec.roots if r in known}
    if custom:
        roots |= {OBJECT_META, LIST_META}
    schemas = {name: converted_definition(name, v3) for name in closure(roots)}
    schemas.update(custom)
    return dict(sorted(schemas.items()))


# -- rendering -------------------------------------------------------------------------------------------------


def _param_v3(name: str, kind: str, patch: bool) -> Schema:
    where, typ, description = _PARAMS[name]
    if name == "fieldManager" and patch:
        description = _PATCH_FIELD_MANAGER
    param: Schema = {"description": description.replace("{kind}", kind), "in": where, "name": name}
    if where == "path":
        param["required"] = True
    param["schema"] = {"type": typ, "uniqueItems": True}
    return param


def _param_v2(name: str, kind: str, patch: bool) -> Schema:
    where, typ, description = _PARAMS[name]
    if name == "fieldManager" and patch:
        description = _PATCH_FIELD_MANAGER
    param: Schema = {"description": description.replace("{kind}", kind), "in": where, "name": name,
                     "type": typ, "uniqueItems": True}
    if where == "path":
        param["required"] = True
    return param


def _render_v3_op(op: Operation) -> Schema:
    out: Schema = {"description": op.description, "operationId": op.op_id}
    if op.params:
        out["parameters"] = [_param_v3(p, op.kind, op.method == "patch") for p in op.params]
    if op.body:
        body: Schema = {"content": {t: {"schema": {"$ref": V3_REF + op.body}} for t in op.body_types}}
        if op.body_required:
            body["required"] = True
        out["requestBody"] = body
    responses: Schema = {}
    for code, (description, definition) in op.responses.items():
        response: Schema = {}
        if definition:
            types = RESPONSE_TYPES + (STREAM_TYPES if op.streaming else [])
            if op.action == "" and op.op_id == "getCodeVersion":
                types = ["application/json"]
            response["content"] = {t: {"schema": {"$ref": V3_REF + definition}} for t in sorted(types)}
        response["description"] = description
        responses[code] = response
    out["responses"] = responses
    out["tags"] = [op.tag]
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.gvk:
        out["x-kubernetes-group-version-kind"] = op.gvk
    return out


def _render_v2_op(op: Operation) -> Schema:
    out: Schema = {"description": op.description, "operationId": op.op_id}
    if op.body:
        out["consumes"] = list(op.body_types)
    params: list[Schema] = []
    if op.body:
        body: Schema = {"in": "body", "name": "body", "schema": {"$ref": V2_REF + op.body}}
        if op.body_required:
            body["required"] = True
        params.append(body)
    params.extend(_param_v2(p, op.kind, op.method == "patch") for p in op.params)
    if params:
        out["parameters"] = params
    produces = RESPONSE_TYPES + (STREAM_TYPES if op.streaming else [])
    out["produces"] = produces if op.op_id != "getCodeVersion" else ["application/json"]
    responses: Schema = {}
    for code, (description, definition) in op.responses.items():
        response: Schema = {"description": description}
        if definition:
            response["schema"] = {"$ref": V2_REF + definition}
        responses[code] = response
    out["responses"] = responses
    out["schemes"] = ["https"]
    out["tags"] = [op.tag]
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.gvk:
        out["x-kubernetes-group-version-kind"] = op.gvk
    return out


def _render_paths(spec: GroupVersionSpec, v3: bool) -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for item in spec.paths:
        rendered: Schema = {}
        for op in item.ops:
            rendered[op.method] = _render_v3_op(op) if v3 else _render_v2_op(op)
        if item.params:
            render = _param_v3 if v3 else _param_v2
            rendered["parameters"] = [render(p, item.kind, False) for p in item.params]
        paths[item.path] = dict(sorted(rendered.items()))
    return dict(sorted(paths.items()))


def _info() -> Schema:
    from kubeproof.server.discovery import version_info

    return {"title": "Kubernetes", "version": version_info()["gitVersion"]}


_SECURITY_SCHEME = {
    "BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization",
                    "type": "apiKey"},
}


def build_v3(spec: GroupVersionSpec, resources: list[ResourceType]) -> Schema:
    return {
        "openapi": "3.0.0",
        "info": _info(),
        "paths": _render_paths(spec, True),
        "components": {"schemas": _components(spec, resources, True), "securitySchemes": _SECURITY_SCHEME},
        "security": [{"BearerToken": []}],
    }


def build_v2(resources: list[ResourceType]) -> Schema:
    paths: dict[str, Schema] = {}
    definitions: dict[str, Schema] = {}
    for _, group_resources in _by_group_version(resources).items():
        spec = _group_version_spec(group_resources)
        paths.update(_render_paths(spec, False))
        definitions.update(_components(spec, group_resources, False))
    for key in ("api", "apis", "version"):
        spec = _discovery_spec(key)
        paths.update(_render_paths(spec, False))
        definitions.update(_components(spec, [], False))
    return {
        "swagger": "2.0",
        "info": _info(),
        "paths": dict(sorted(paths.items())),
        "definitions": dict(sorted(definitions.items())),
        "securityDefinitions": _SECURITY_SCHEME,
        "security": [{"BearerToken": []}],
    }


# -- caching and serving -----------------------------------------------------------------------------------


def _by_group_version(resources: Iterable[ResourceType]) -> dict[str, list[ResourceType]]:
    groups: dict[str, list[ResourceType]] = {}
    for rt in resources:
        groups.setdefault(gv_key(rt.group, rt.version), []).append(rt)
    return groups


def registry_key(resources: list[ResourceType]) -> tuple[Any, ...]:
    """What the documents depend on: a cheap fingerprint of the served resources."""
    return tuple(sorted(
        (rt.group, rt.version, rt.plural, rt.kind, rt.list_kind, rt.namespaced, tuple(rt.verbs),
         rt.typed_list_items, getattr(rt.strategy, "serial", 0),  # a CRD change makes a new strategy
         tuple(sorted((n, tuple(s.verbs), s.kind, s.group, s.version) for n, s in rt.subresources.items())))
        for rt in resources
    ))


@dataclass
class _Document:
    body: bytes
    etag: str


@dataclass
class _Cache:
    key: tuple[Any, ...]
    last_modified: float
    docs: dict[str, _Document] = field(default_factory=dict)
    index: bytes | None = None
    v2: bytes | None = None
    v2_protobuf: bytes | None = None


_caches: weakref.WeakKeyDictionary[Registry, _Cache] = weakref.WeakKeyDictionary()


def _state(registry: Registry) -> tuple[_Cache, list[ResourceType]]:
    resources = list(registry.by_path.values())
    key = registry_key(resources)
    cache = _caches.get(registry)
    if cache is None or cache.key != key:
        cache = _Cache(key, time.time())
        _caches[registry] = cache
    return cache, resources


def _paths(resources: list[ResourceType]) -> dict[str, list[ResourceType]]:
    """Index key → resources; the discovery keys map to no resources."""
    by_gv = _by_group_version(resources)
    keys: dict[str, list[ResourceType]] = {"api": [], "apis": [], "version": []}
    for rt in resources:
        if rt.group:
            keys[f"apis/{rt.group}"] = []
    keys.update(by_gv)
    return keys


def _document(cache: _Cache, key: str, resources: list[ResourceType]) -> _Document:
    doc = cache.docs.get(key)
    if doc is None:
        spec = _group_version_spec(resources) if resources else _discovery_spec(key)
        body = orjson.dumps(build_v3(spec, resources))
        doc = cache.docs[key] = _Document(body, hashlib.sha512(body).hexdigest().upper())
    return doc


def server_relative_url(key: str, etag: str) -> str:
    """``handler3.constructServerRelativeURL``: ``path.Join("/openapi/v3", gv)`` plus ``?hash=``."""
    return "/openapi/v3/" + quote(key, safe="/") + "?hash=" + etag


def index(registry: Registry) -> bytes:
    cache, resources = _state(registry)
    if cache.index is None:
        paths = {
            key: {"serverRelativeURL": server_relative_url(key, _document(cache, key, group).etag)}
            for key, group in sorted(_paths(resources).items())
        }
        cache.index = orjson.dumps({"paths": paths})
    return cache.index


def group_version_document(registry: Registry, key: str) -> tuple[bytes, str] | None:
    """The v3 document (JSON bytes) and its hash for an index key, or None when it is not served."""
    cache, resources = _state(registry)
    paths = _paths(resources)
    if key not in paths:
        return None
    doc = _document(cache, key, paths[key])
    return doc.body, doc.etag


def swagger(registry: Registry) -> bytes:
    cache, resources = _state(registry)
    if cache.v2 is None:
        cache.v2 = orjson.dumps(build_v2(resources))
    return cache.v2


def swagger_protobuf(registry: Registry) -> bytes:
    """The Swagger document as gnostic's protobuf, the only form client-go asks for (server/openapi_v2pb.py)."""
    from kubeproof.server import openapi_v2pb

    cache, _ = _state(registry)
    if cache.v2_protobuf is None:
        cache.v2_protobuf = openapi_v2pb.document(orjson.loads(swagger(registry)))
    return cache.v2_protobuf


def _accept_clauses(accept: str) -> list[tuple[str, str]]:
    """``goautoneg.ParseAccept``: (type, subtype) pairs ordered by q (stable), q=0 dropped."""
    clauses: list[tuple[float, int, str, str]] = []
    for position, part in enumerate((accept or "*/*").split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0]
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        kind, _, sub = media.partition("/")
        clauses.append((-q, position, kind.strip().lower(), (sub or "*").strip().lower()))
    clauses.sort()
    return [(kind, sub) for _, _, kind, sub in clauses]


def _negotiate(accept: str, offered: list[str]) -> str | None:
    for kind, sub in _accept_clauses(accept):
        for media in offered:
            m_kind, _, m_sub = media.partition("/")
            if kind in (m_kind, "*") and sub in (m_sub, "*"):
                return media
    return None


def _http_date(at: float) -> str:
    return formatdate(at, usegmt=True)


def _expires(at: float) -> str:
    """Go's ``time.Now().AddDate(1, 0, 0).Format(time.RFC1123)`` on a UTC host."""
    now = datetime.fromtimestamp(at, UTC)
    try:
        later = now.replace(year=now.year + 1)
    except ValueError:  # Feb 29: AddDate normalises to Mar 1
        later = now.replace(year=now.year + 1, month=3, day=1)
    return later.strftime("%a, %d %b %Y %H:%M:%S UTC")


def document(registry: Registry, path: str, query: dict[str, list[str]], accept: str) -> Response | None:
    """The response (status, body, content type, headers) for an OpenAPI path, or None for Go's plain 404."""
    if path == "/openapi/v3":
        cache, _ = _state(registry)
        body = index(registry)
        return 200, body, "text/plain; charset=utf-8", {
            "Accept-Ranges": "bytes", "Last-Modified": _http_date(cache.last_modified),
        }
    if path.startswith("/openapi/v3/"):
        key = path[len("/openapi/v3/"):]
        found = group_version_document(registry, key)
        if found is None:
            return 404, b"", "", {}  # the aggregator's bare WriteHeader(404)
        if _negotiate(accept, ["application/json"]) is None:
            # handler3 writes a bare 406 when nothing it serves is acceptable (protobuf is not implemented).
            return 406, b"", "", {"Vary": "Accept"}
        body, etag = found
        cache, _ = _state(registry)
        headers = {"Vary": "Accept", "Etag": f'"{etag}"', "Accept-Ranges": "bytes",
                   "Last-Modified": _http_date(cache.last_modified)}
        wanted = (query.get("hash") or [""])[0]
        if wanted:
            if wanted != etag:
                location = server_relative_url(key, etag)
                return 301, f'<a href="{location}">Moved Permanently</a>.\n\n'.encode(), \
                    "text/html; charset=utf-8", {"Vary": "Accept", "Etag": f'"{etag}"', "Location": location}
            headers["Cache-Control"] = "public, immutable"
            headers["Expires"] = _expires(time.time())
        return 200, body, "application/json", headers
    if path == "/openapi/v2":
        media = _negotiate(accept, ["application/json", V2_PROTOBUF, V2_PROTOBUF_NEW])
        if media is None:
            return 406, b"", "", {}
        if media == "application/json":
            body = swagger(registry)
        else:  # kube-openapi answers both protobuf spellings with the one Go's mime parser accepts
            body, media = swagger_protobuf(registry), V2_PROTOBUF_NEW
        etag = hashlib.sha512(body).hexdigest().upper()
        cache, _ = _state(registry)
        return 200, body, media, {
            "Etag": f'"{etag}"', "Accept-Ranges": "bytes", "Last-Modified": _http_date(cache.last_modified),
        }
    return None
