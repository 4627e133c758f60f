"""Status errors on the wire: code, body bytes, Content-Type, exactly as kube-apiserver writes them."""

from __future__ import annotations

import pytest

from kubeproof import Cluster

from ._http import API, status_of, unique

DNS1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


# -- 404 -----------------------------------------------------------------------------------------


def test_not_found_is_an_exact_status(api: API, ns: str) -> None:
    response = api.get(f"/api/v1/namespaces/{ns}/configmaps/x")
    status_of(response, 404)
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "x" not found',
        "reason": "NotFound",
        "details": {"name": "x", "kind": "configmaps"},
        "code": 404,
    }


def test_not_found_for_a_group_resource_names_the_group(api: API, ns: str) -> None:
    status = status_of(api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web"), 404)
    assert status["message"] == 'deployments.apps "web" not found'
    assert status["reason"] == "NotFound"
    assert status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}


def test_create_in_a_missing_namespace_is_404_for_the_namespace(api: API) -> None:
    missing = unique("gone")
    status = status_of(api.post(f"/api/v1/namespaces/{missing}/configmaps", {"metadata": {"name": "x"}}), 404)
    assert status["message"] == f'namespaces "{missing}" not found'
    assert status["details"] == {"name": missing, "kind": "namespaces"}


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/api/v2",
        "/api/v1/widgets",
        "/api/v1/namespaces/default/widgets",
        "/apis/example.com/v1",
        "/apis/example.com",
        "/apis/apps/v9",
        "/apis/apps/v1/widgets",
        "/api/v1/configmaps/x",  # a namespaced item outside /namespaces/{ns}
        "/api/v1/namespaces/default/configmaps/x/y/z",
        "/api/v1/namespaces/default/configmaps/x/status",  # configmaps have no status subresource
        "//",
    ],
)
def test_unknown_paths_are_go_plain_text_404(api: API, path: str) -> None:
    response = api.get(path)
    assert response.status == 404
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.body == b"404 page not found\n"


# -- 409 -----------------------------------------------------------------------------------------


def test_already_exists(api: API, ns: str) -> None:
    api.create_configmap(ns, "dup")
    status = status_of(api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "dup"}}), 409)
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'configmaps "dup" already exists'
    assert status["details"] == {"name": "dup", "kind": "configmaps"}


def test_already_exists_while_being_deleted_says_so(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    api.create_configmap(ns, "held", finalizers=["example.com/hold"])
    deleted = api.delete(f"{path}/held")
    assert deleted.status == 200, deleted
    assert deleted.json()["metadata"]["deletionTimestamp"]
    status = status_of(api.post(path, {"metadata": {"name": "held"}}), 409)
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'object is being deleted: configmaps "held" already exists'
    assert status["details"] == {"name": "held", "kind": "configmaps"}
    released = api.patch(f"{path}/held", {"metadata": {"finalizers": None}})
    assert released.status == 200, released
    assert api.get(f"{path}/held").status == 404


def test_stale_update_is_a_conflict(api: API, ns: str) -> None:
    created = api.create_configmap(ns, "cm")
    path = f"/api/v1/namespaces/{ns}/configmaps/cm"
    assert api.patch(path, {"data": {"k": "2"}}).status == 200
    stale = {"metadata": {"name": "cm", "resourceVersion": created["metadata"]["resourceVersion"]}}
    status = status_of(api.put(path, stale), 409)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; please apply your '
        "changes to the latest version and try again"
    )
    assert status["details"] == {"name": "cm", "kind": "configmaps"}


def test_delete_preconditions_conflict_names_the_kind(api: API, ns: str) -> None:
    created = api.create_configmap(ns, "pre")
    uid, rv = created["metadata"]["uid"], created["metadata"]["resourceVersion"]
    path = f"/api/v1/namespaces/{ns}/configmaps/pre"

    status = status_of(api.delete(path, {"preconditions": {"uid": "other-uid"}}), 409)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        f'Operation cannot be fulfilled on ConfigMap "pre": the UID in the precondition (other-uid) does not '
        f"match the UID in record ({uid}). The object might have been deleted and then recreated"
    )
    assert status["details"] == {"name": "pre", "kind": "ConfigMap"}

    status = status_of(api.delete(path, {"preconditions": {"resourceVersion": "1"}}), 409)
    assert status["message"] == (
        f'Operation cannot be fulfilled on ConfigMap "pre": the ResourceVersion in the precondition (1) does '
        f"not match the ResourceVersion in record ({rv}). The object might have been modified"
    )

    ok = api.delete(path, {"preconditions": {"uid": uid, "resourceVersion": rv}})
    assert ok.status == 200, ok
    assert ok.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "pre", "kind": "configmaps", "uid": uid},
    }


# -- 422 -----------------------------------------------------------------------------------------


def test_invalid_name_is_422_with_causes(api: API, ns: str) -> None:
    response = api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "Bad_Name"}})
    status = status_of(response, 422)
    assert status["reason"] == "Invalid"
    assert status["message"] == f'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ' \
                                f"{DNS1123_SUBDOMAIN}"
    assert status["details"] == {
        "name": "Bad_Name",
        "kind": "ConfigMap",
        "causes": [
            {"reason": "FieldValueInvalid", "message": f'Invalid value: "Bad_Name": {DNS1123_SUBDOMAIN}',
             "field": "metadata.name"}
        ],
    }


def test_missing_name_is_422_required(api: API, ns: str) -> None:
    status = status_of(api.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {}}), 422)
    assert status["message"] == 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName ' \
                                "is required"
    assert status["details"] == {
        "kind": "ConfigMap",
        "causes": [{"reason": "FieldValueRequired", "message": "Required value: name or generateName is required",
                    "field": "metadata.name"}],
    }


def test_several_invalid_fields_are_listed_in_brackets(api: API, ns: str) -> None:
    body = {"metadata": {"name": "web"}, "spec": {}}
    status = status_of(api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", body), 422)
    message = str(status["message"])
    assert message.startswith('Deployment.apps "web" is invalid: [')
    assert message.endswith("]")
    causes = status["details"]["causes"]  # type: ignore[index]
    assert len(causes) > 1
    assert {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"} in causes
    assert status["details"]["group"] == "apps"  # type: ignore[index]
    assert status["details"]["kind"] == "Deployment"  # type: ignore[index]


def test_dry_run_with_a_bad_value_is_422(api: API, ns: str) -> None:
    response = api.post(f"/api/v1/namespaces/{ns}/configmaps?dryRun=Some", {"metadata": {"name": "x"}})
    status = status_of(response, 422)
    assert status["message"] == 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "Some": ' \
                                'supported values: "All"'
    assert status["details"]["group"] == "meta.k8s.io"  # type: ignore[index]
    assert status["details"]["kind"] == "CreateOptions"  # type: ignore[index]


# -- 400 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "selector",
    ["a===b", "a in (b", "!", "a=(b)", "a==b==c", "k=" + "v" * 64, "-bad=x"],
)
def test_bad_label_selector_is_400(api: API, ns: str, selector: str) -> None:
    from urllib.parse import quote

    response = api.get(f"/api/v1/namespaces/{ns}/configmaps?labelSelector={quote(selector)}")
    status = status_of(response, 400)
    assert status["reason"] == "BadRequest"
    assert status["message"]
    assert "details" not in status


def test_unknown_field_selector_is_400(api: API, ns: str) -> None:
    status = status_of(api.get(f"/api/v1/namespaces/{ns}/configmaps?fieldSelector=spec.foo%3Dx"), 400)
    assert status["message"] == '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"'
    status = status_of(api.get(f"/api/v1/namespaces/{ns}/pods?fieldSelector=spec.foo%3Dx"), 400)
    assert status["message"] == "field label not supported: spec.foo"


def test_body_namespace_must_match_the_url(api: API, ns: str) -> None:
    body = {"metadata": {"name": "x", "namespace": "elsewhere"}}
    status = status_of(api.post(f"/api/v1/namespaces/{ns}/configmaps", body), 400)
    assert status["message"] == "the namespace of the provided object does not match the namespace sent on the " \
                                "request"


def test_body_name_must_match_the_url(api: API, ns: str) -> None:
    api.create_configmap(ns, "a")
    status = status_of(api.put(f"/api/v1/namespaces/{ns}/configmaps/a", {"metadata": {"name": "b"}}), 400)
    assert status["message"] == "the name of the object (b) does not match the name on the URL (a)"


# -- 401 -----------------------------------------------------------------------------------------

UNAUTHORIZED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


@pytest.mark.parametrize("token", [None, "wrong", ""])
@pytest.mark.parametrize("path", ["/api/v1/namespaces", "/apis", "/api/v1/namespaces/default/configmaps/x", "/nope"])
def test_requests_without_the_token_are_401(api: API, token: str | None, path: str) -> None:
    response = api.get(path, token=token)
    assert status_of(response, 401) == UNAUTHORIZED


def test_a_good_token_is_accepted(cluster: Cluster, api: API) -> None:
    assert api.get("/api/v1/namespaces", headers={"Authorization": f"bearer {cluster.token}"}).status == 200


# -- 405, 406, 415 -------------------------------------------------------------------------------


def test_not_acceptable(api: API) -> None:
    status = status_of(api.get("/api/v1/namespaces/default", headers={"Accept": "text/html"}), 406)
    assert status["reason"] == "NotAcceptable"
    assert status["message"] == "only the following media types are accepted: application/json, application/yaml, " \
                                "application/vnd.kubernetes.protobuf"


def test_accept_with_json_anywhere_is_served_as_json(api: API) -> None:
    accept = "application/vnd.kubernetes.protobuf;q=0.5, text/html, application/json;q=0.1"
    response = api.get("/api/v1/namespaces/default", headers={"Accept": accept})
    assert response.status == 200
    assert response.content_type == "application/json"


def test_unsupported_body_media_type(api: API, ns: str) -> None:
    response = api.post(f"/api/v1/namespaces/{ns}/configmaps", b"x: y", content_type="text/plain")
    status = status_of(response, 415)
    assert status["reason"] == "UnsupportedMediaType"
    assert status["message"] == (
        "the body of the request was in an unknown format - accepted media types include: application/json, "
        "application/yaml, application/vnd.kubernetes.protobuf"
    )


def test_unsupported_patch_type(api: API, ns: str) -> None:
    api.create_configmap(ns, "p")
    response = api.patch(f"/api/v1/namespaces/{ns}/configmaps/p", {"data": {}}, patch_type="application/json")
    status = status_of(response, 415)
    assert status["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, "
        "application/apply-patch+yaml"
    )


def test_update_of_a_collection_is_405(api: API, ns: str) -> None:
    status = status_of(api.put(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "x"}}), 405)
    assert status["reason"] == "MethodNotAllowed"
