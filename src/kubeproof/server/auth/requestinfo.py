"""``RequestInfoFactory.NewRequestInfo`` (``k8s.io/apiserver/pkg/endpoints/request/requestinfo.go``).

Authorization attributes come from the path, method and query alone, before any routing: a request
for a resource the server does not serve is still authorized first (so a user without rights gets 403,
not 404, exactly as kube-apiserver answers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubeproof.server.auth.user import UserInfo

API_PREFIXES = ("api", "apis")
SPECIAL_VERBS = ("proxy", "watch")
NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass
class Attributes:
    """``authorizer.AttributesRecord``: who does what to which resource (or non-resource path)."""

    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def _exact_name(field_selector: str) -> str:
    """``fields.Selector.RequiresExactMatch("metadata.name")`` for the common selector forms."""
    for term in field_selector.split(","):
        for op in ("==", "="):
            key, sep, value = term.partition(op)
            if sep and key.strip() == "metadata.name" and not key.endswith("!"):
                return value.strip()
    return ""


def _valid_path_segment(name: str) -> bool:
    return name not in (".", "..") and "/" not in name and "%" not in name


def request_attributes(user: UserInfo, method: str, path: str, query: Mapping[str, list[str]]) -> Attributes:
    verb = method.lower()
    attrs = Attributes(user=user, verb=verb, resource_request=False, path=path)
    stripped = path.strip("/")
    parts = stripped.split("/") if stripped else []
    if len(parts) < 3 or parts[0] not in API_PREFIXES:
        return attrs
    prefix, parts = parts[0], parts[1:]
    if prefix != "api":
        if len(parts) < 3:
            return attrs
        attrs.api_group, parts = parts[0], parts[1:]
    attrs.resource_request = True
    attrs.api_version, parts = parts[0], parts[1:]
    if parts[0] in SPECIAL_VERBS:
        if len(parts) < 2:
            # kube-apiserver fails the request info here; the request then 404s as an unknown path.
            attrs.resource_request = False
            attrs.verb = verb
            return attrs
        attrs.verb, parts = parts[0], parts[1:]
    else:
        attrs.verb = METHOD_VERBS.get(method, "")
    if parts[0] == "namespaces" and len(parts) > 1:
        attrs.namespace = parts[1]
        if len(parts) > 2 and parts[2] not in NAMESPACE_SUBRESOURCES:
            parts = parts[2:]
    if len(parts) >= 3 and attrs.verb != "proxy":
        attrs.subresource = parts[2]
    if len(parts) >= 2:
        attrs.name = parts[1]
    attrs.resource = parts[0]
    if not attrs.name and attrs.verb == "get":
        # Go's bool parameter conversion: present and not "0"/"false" means true (even "watch=").
        watch = query.get("watch")
        attrs.verb = "watch" if watch and watch[0].lower() not in ("false", "0") else "list"
        selector = (query.get("fieldSelector") or [""])[0]
        name = _exact_name(selector) if selector else ""
        if name and _valid_path_segment(name):
            attrs.name = name
    if not attrs.name and attrs.verb == "delete":
        attrs.verb = "deletecollection"
    return attrs
