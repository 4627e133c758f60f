"""DELETE on a collection answers with the list it deleted, stamped with the listing's resourceVersion."""

from __future__ import annotations

from ._http import API


def test_deletecollection_list_has_a_resource_version(api: API, ns: str) -> None:
    for name in ("a", "b", "c"):
        api.create_configmap(ns, name, labels={"group": "x" if name != "c" else "y"})
    before = int(api.get(f"/api/v1/namespaces/{ns}/configmaps").json()["metadata"]["resourceVersion"])
    response = api.delete(f"/api/v1/namespaces/{ns}/configmaps?labelSelector=group%3Dx")
    assert response.status == 200, response
    body = response.json()
    assert body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1"
    assert [item["metadata"]["name"] for item in body["items"]] == ["a", "b"]
    # The list was taken before the deletions: its revision is the one the listing saw.
    assert body["metadata"] == {"resourceVersion": str(before)}
    remaining = api.get(f"/api/v1/namespaces/{ns}/configmaps").json()
    assert [item["metadata"]["name"] for item in remaining["items"]] == ["c"]
    assert int(remaining["metadata"]["resourceVersion"]) == before + 2
