"""The root path index and how resource paths are decoded."""

from __future__ import annotations

from ._http import API, status_of


def test_root_lists_the_served_paths(api: API) -> None:
    response = api.get("/")
    assert response.status == 200, response
    assert response.content_type == "application/json"
    # responsewriters.WriteRawJSON: two-space indentation, no trailing newline.
    assert response.body.startswith(b'{\n  "paths": [\n    "/api",\n    "/api/v1",\n    "/apis",\n    "/apis/",\n')
    assert response.body.endswith(b'\n    "/version"\n  ]\n}')
    paths = response.json()["paths"]
    assert paths == sorted(paths)
    for path in ("/apis/apps", "/apis/apps/v1", "/apis/rbac.authorization.k8s.io/v1", "/healthz", "/livez",
                 "/readyz", "/openapi/v2", "/openapi/v3", "/openapi/v3/"):
        assert path in paths
    # Every listed path answers.
    for path in paths:
        assert api.get(path).status == 200, path


def test_root_needs_authentication(api: API) -> None:
    status = status_of(api.get("/", token="wrong"), 401)
    assert status["message"] == "Unauthorized"


def test_names_are_percent_decoded_once(api: API, ns: str) -> None:
    # "%2541" is "%41" once decoded: a name that does not exist (not "A").
    api.create_configmap(ns, "a")
    status = status_of(api.get(f"/api/v1/namespaces/{ns}/configmaps/%2541"), 404)
    assert status["message"] == 'configmaps "%41" not found'
    assert status["details"] == {"name": "%41", "kind": "configmaps"}
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps/%61").json()["metadata"]["name"] == "a"
    status = status_of(api.get(f"/api/v1/namespaces/{ns}/configmaps/b%25c"), 404)
    assert status["message"] == 'configmaps "b%c" not found'


def test_an_encoded_slash_splits_the_path(api: API, ns: str) -> None:
    # Go routes on the decoded URL.Path: "a%2Fb" is two segments, and configmaps have no "b" subresource.
    api.create_configmap(ns, "a")
    response = api.get(f"/api/v1/namespaces/{ns}/configmaps/a%2Fb")
    assert (response.status, response.body) == (404, b"404 page not found\n")
    assert api.get(f"/api/v1/namespaces/{ns}%2Fconfigmaps/a").json()["metadata"]["name"] == "a"
