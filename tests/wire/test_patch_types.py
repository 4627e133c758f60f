"""A patch whose result does not decode into the kind's Go struct is refused, and nothing is stored."""

from __future__ import annotations

import json

import pytest

from ._http import API, status_of


@pytest.mark.parametrize(("patch_type", "body"), [
    ("application/merge-patch+json", {"immutable": "yes"}),
    ("application/json-patch+json", [{"op": "add", "path": "/immutable", "value": "yes"}]),
])
def test_json_and_merge_patches_quote_the_patched_object(api: API, ns: str, patch_type: str, body: object) -> None:
    created = api.create_configmap(ns, "cfg", {"k": "<v>"})
    status = status_of(api.patch(f"/api/v1/namespaces/{ns}/configmaps/cfg", body, patch_type), 422)
    meta = created["metadata"]
    # json.Marshal of the patched document: sorted keys, HTML characters escaped.
    patched = (
        '{"apiVersion":"v1","data":{"k":"\\u003cv\\u003e"},"immutable":"yes","kind":"ConfigMap","metadata":'
        f'{{"creationTimestamp":"{meta["creationTimestamp"]}","managedFields":'
        + json.dumps(meta["managedFields"], separators=(",", ":"), sort_keys=True)
        + f',"name":"cfg","namespace":"{ns}","resourceVersion":"{meta["resourceVersion"]}","uid":"{meta["uid"]}"}}}}'
    )
    why = "json: cannot unmarshal string into Go struct field ConfigMap.immutable of type bool"
    assert status["reason"] == "Invalid"
    assert status["message"] == ' "" is invalid: patch: Invalid value: ' + json.dumps(patched) + f": {why}"
    assert status["details"] == {"causes": [{"reason": "FieldValueInvalid", "field": "patch",
                                             "message": "Invalid value: " + json.dumps(patched) + f": {why}"}]}
    assert "immutable" not in api.get(f"/api/v1/namespaces/{ns}/configmaps/cfg").json()


@pytest.mark.parametrize(("patch", "why"), [
    ({"immutable": "yes"}, "unrecognized type: bool"),
    ({"immutable": 1}, "unrecognized type: bool"),
    ({"data": {"k": 5}}, "cannot convert int64 to string"),
    ({"data": "x"}, "cannot restore map from string"),
    ({"metadata": {"labels": ["a"]}}, "cannot restore map from slice"),
])
def test_strategic_merge_patch_converts_from_unstructured(api: API, ns: str, patch: dict[str, object],
                                                           why: str) -> None:
    """The strategic merge patcher converts the patched map to the Go struct (FromUnstructured), whose errors
    name Go kinds, and quotes the patch as ``%+v`` of its map."""
    api.create_configmap(ns, "cfg")
    status = status_of(api.patch(f"/api/v1/namespaces/{ns}/configmaps/cfg", patch,
                                 "application/strategic-merge-patch+json"), 422)
    value = {
        '{"immutable": "yes"}': "map[immutable:yes]", '{"immutable": 1}': "map[immutable:1]",
        '{"data": {"k": 5}}': "map[data:map[k:5]]", '{"data": "x"}': "map[data:x]",
        '{"metadata": {"labels": ["a"]}}': "map[metadata:map[labels:[a]]]",
    }[json.dumps(patch)]
    assert status["message"] == f' "" is invalid: patch: Invalid value: "{value}": {why}'
    stored = api.get(f"/api/v1/namespaces/{ns}/configmaps/cfg").json()
    assert stored["data"] == {"k": "v"} and "immutable" not in stored


def test_strategic_merge_patch_deep_in_a_deployment(api: API, ns: str) -> None:
    body = {"metadata": {"name": "d"}, "spec": {
        "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    assert api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", body).status == 201
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}}}}
    status = status_of(api.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/d", patch,
                                 "application/strategic-merge-patch+json"), 422)
    assert status["message"] == (
        ' "" is invalid: patch: Invalid value: "map[spec:map[template:map[spec:map[containers:[map[name:c '
        'ports:[map[containerPort:80]]]]]]]]": unrecognized type: int32'
    )
