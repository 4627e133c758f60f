"""No request reaches a handler without authentication and authorization: every route the server has
(discovery, every resource and verb, subresources, OpenAPI, version, health) answers 401 without
credentials or with a bad token, and 403 (with the apiserver's message) to a ServiceAccount that no
binding grants anything, except what the default bindings give every authenticated user."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kubeproof import Cluster
from kubeproof.server.registry.base import ResourceType

from ._support import unique

PUBLIC = ("/healthz", "/livez", "/readyz", "/version")
#: system:discovery and system:public-info-viewer (bound to system:authenticated)
DISCOVERY_PREFIXES = ("/api", "/apis", "/openapi")
SELF_REVIEWS = {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"}
METHODS = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
           "delete": "DELETE", "deletecollection": "DELETE"}


def non_resource_paths(cluster: Cluster) -> list[str]:
    paths = ["/healthz", "/livez", "/readyz", "/healthz/ping", "/version", "/api", "/api/v1", "/apis",
             "/openapi/v2", "/openapi/v3", "/openapi/v3/api/v1", "/openapi/v3/apis/apps/v1", "/nothing/here",
             "/metrics", "/"]
    for rt in cluster.registry.by_path.values():
        if rt.group:
            paths += [f"/apis/{rt.group}", f"/apis/{rt.group}/{rt.version}"]
    return sorted(set(paths))


def resource_requests(cluster: Cluster, ns: str) -> list[tuple[str, str, str, str, ResourceType]]:
    """(method, path, verb, subresource, resource type) for every verb of every served resource."""
    out: list[tuple[str, str, str, str, ResourceType]] = []
    for rt in cluster.registry.by_path.values():
        prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
        collection = f"{prefix}/namespaces/{ns}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
        for verb in rt.verbs:
            path = collection if verb in ("list", "watch", "create", "deletecollection") else f"{collection}/x"
            if verb == "watch":
                path += "?watch=true"
            out.append((METHODS[verb], path, verb, "", rt))
        if rt.namespaced and "list" in rt.verbs:
            out.append(("GET", f"{prefix}/{rt.plural}", "list", "", rt))  # across all namespaces
        for sub in rt.subresources.values():
            for verb in sub.verbs:
                out.append((METHODS[verb], f"{collection}/x/{sub.name}", verb, sub.name, rt))
    return out


@pytest.fixture(scope="module")
def http(cluster: Cluster) -> Iterator[httpx.Client]:
    ca = cluster.workdir / "route-ca.crt"
    ca.write_bytes(cluster.ca_pem)
    context = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(base_url=cluster.url, verify=context, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def nobody_token(cluster: Cluster) -> str:
    """A ServiceAccount that no binding names (it has only what every authenticated user has)."""
    ns = unique("routes")
    cluster.kubectl("create", "namespace", ns)
    cluster.kubectl("create", "serviceaccount", "nobody", "-n", ns)
    return cluster.kubectl("create", "token", "nobody", "-n", ns).stdout.strip()


def _send(http: httpx.Client, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    if method == "PATCH":
        headers["Content-Type"] = "application/merge-patch+json"
    elif body is not None:
        headers["Content-Type"] = "application/json"
    return http.request(method, path, headers=headers, content=body)


def _assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_every_route_needs_credentials(cluster: Cluster, http: httpx.Client) -> None:
    routes = [("GET", p) for p in non_resource_paths(cluster)]
    routes += [(m, p) for m, p, *_ in resource_requests(cluster, "default")]
    assert len(routes) > 200
    for method, path in routes:
        for token in (None, "not-a-token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
            response = _send(http, method, path, token)
            assert response.status_code == 401, f"{method} {path} with {token!r}: {response.status_code}"
            _assert_unauthorized(response)


def test_every_route_is_authorized(cluster: Cluster, http: httpx.Client, nobody_token: str) -> None:
    ns = "default"
    user = json.loads(_send(http, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                            nobody_token).text)["status"]["userInfo"]["username"]
    assert user.startswith("system:serviceaccount:")
    checked = 0
    for path in non_resource_paths(cluster):
        response = _send(http, "GET", path, nobody_token)
        public = path in PUBLIC or any(path == p or path.startswith(p + "/") for p in DISCOVERY_PREFIXES)
        if public:
            assert response.status_code != 403, f"GET {path}: {response.text}"
        else:
            assert response.status_code == 403, f"GET {path}: {response.status_code}"
            assert response.json()["message"] == f'forbidden: User "{user}" cannot get path "{path}"'
        checked += 1
    for method, path, verb, sub, rt in resource_requests(cluster, ns):
        response = _send(http, method, path, nobody_token)
        if rt.plural in SELF_REVIEWS and verb == "create":
            # authorized: the empty body then fails validation (SSAR) or succeeds
            assert response.status_code in (201, 400, 422), f"{method} {path}: {response.text}"
            continue
        assert response.status_code == 403, f"{method} {path}: {response.status_code} {response.text}"
        namespaced = rt.namespaced and f"/namespaces/{ns}/" in path
        resource = f"{rt.plural}/{sub}" if sub else rt.plural
        where = f'in the namespace "{ns}"' if namespaced else "at the cluster scope"
        if rt.plural == "namespaces" and "/namespaces/x" in path:
            where = 'in the namespace "x"'  # RequestInfo reads /namespaces/{name} as the namespace too
        qualified = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
        name = path.split("?")[0].split("/")[-2 if sub else -1] if verb not in (
            "list", "watch", "create", "deletecollection") or sub else ""
        subject = f'{qualified} "{name}"' if name else qualified
        status: dict[str, Any] = response.json()
        assert status["message"] == (f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
                                     f'in API group "{rt.group}" {where}'), f"{method} {path}"
        assert status["reason"] == "Forbidden" and status["code"] == 403
        checked += 1
    assert checked > 200


def test_anonymous_when_enabled_sees_only_public_info(cluster: Cluster, http: httpx.Client) -> None:
    cluster.api.allow_anonymous = True
    try:
        for path in PUBLIC:
            assert _send(http, "GET", path, None).status_code == 200
        response = _send(http, "GET", "/api/v1/pods", None)
        assert response.status_code == 403
        assert response.json()["message"] == ('pods is forbidden: User "system:anonymous" cannot list resource '
                                              '"pods" in API group "" at the cluster scope')
        response = _send(http, "GET", "/apis", None)
        assert response.json()["message"] == 'forbidden: User "system:anonymous" cannot get path "/apis"'
        # a bad token is still refused, anonymous or not
        _assert_unauthorized(_send(http, "GET", "/version", "bad"))
    finally:
        cluster.api.allow_anonymous = False
    _assert_unauthorized(_send(http, "GET", "/version", None))
