"""Reads at old resource versions, and what a client sees once that history is compacted (410 Expired).

These tests compact the store of their module's cluster, so they live in a module of their own.
"""

from __future__ import annotations

from kubeproof import Cluster

from ._http import API, query, status_of

CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)


def test_exact_list_at_an_old_revision_then_410_after_compaction(cluster: Cluster, api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    created = api.create_configmap(ns, "old", {"k": "v1"})
    old_rv = created["metadata"]["resourceVersion"]
    assert api.patch(f"{path}/old", {"data": {"k": "v2"}}).status == 200
    api.create_configmap(ns, "later")

    then = api.get(path + query(resourceVersion=old_rv, resourceVersionMatch="Exact")).json()
    assert then["metadata"]["resourceVersion"] == old_rv
    assert [(i["metadata"]["name"], i["data"]) for i in then["items"]] == [("old", {"k": "v1"})]
    # limit with a resourceVersion and no match is also an exact read.
    paged = api.get(path + query(resourceVersion=old_rv, limit=10)).json()
    assert [i["data"] for i in paged["items"]] == [{"k": "v1"}]
    now = api.get(path + query(resourceVersion=old_rv, resourceVersionMatch="NotOlderThan")).json()
    assert sorted(i["metadata"]["name"] for i in now["items"]) == ["later", "old"]

    cluster.store.compact()
    response = api.get(path + query(resourceVersion=old_rv, resourceVersionMatch="Exact"))
    status = status_of(response, 410)
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "The resourceVersion for the provided list is too old.",
        "reason": "Expired",
        "code": 410,
    }
    # "Not older than" an old revision is still served, from now.
    assert api.get(path + query(resourceVersion=old_rv)).status == 200


def test_expired_continue_token_is_410_with_a_fresh_token(cluster: Cluster, api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("e1", "e2", "e3"):
        api.create_configmap(ns, name)
    token = api.get(path + query(limit=1)).json()["metadata"]["continue"]
    api.create_configmap(ns, "e4")  # history moves on past the token's revision...
    cluster.store.compact()  # ...and is dropped
    response = api.get(path + query(limit=1, **{"continue": token}))
    assert response.status == 410
    assert response.content_type == "application/json"
    status = response.json()
    fresh = status["metadata"]["continue"]
    assert fresh and fresh != token
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {"continue": fresh},
        "status": "Failure",
        "message": CONTINUE_EXPIRED,
        "reason": "Expired",
        "code": 410,
    }
    # The token in the 410 continues the list (inconsistently, at the current revision).
    rest = api.get(path + query(limit=5, **{"continue": fresh})).json()
    assert [i["metadata"]["name"] for i in rest["items"]] == ["e2", "e3", "e4"]


def test_watch_from_a_compacted_revision_is_an_error_event(cluster: Cluster, api: API, ns: str) -> None:
    created = api.create_configmap(ns, "w")
    old_rv = created["metadata"]["resourceVersion"]
    api.create_configmap(ns, "w2")
    cluster.store.compact()
    with api.watch(f"/api/v1/namespaces/{ns}/configmaps" + query(watch=1, resourceVersion=old_rv)) as watch:
        assert watch.status == 200  # the error arrives inside the stream, not as an HTTP status
        event = watch.next_event()
        assert event["type"] == "ERROR"
        obj = event["object"]
        assert obj["kind"] == "Status"
        assert obj["apiVersion"] == "v1"
        assert obj["status"] == "Failure"
        assert obj["reason"] == "Expired"
        assert obj["code"] == 410
        assert obj["message"].startswith(f"too old resource version: {old_rv} (")
        assert watch.read_to_end() == []  # and then the stream ends
