"""core/v1 and events.k8s.io/v1 Events are one resource in two shapes (registry/events.py).

kube-apiserver stores both as core/v1 Events and converts on the way in and out, so an Event written
through either API is read, listed, watched, selected and deleted through the other.
"""

from __future__ import annotations

from typing import Any

from ._http import API, query, status_of, unique

CORE = "/api/v1/namespaces/{ns}/events"
NEW = "/apis/events.k8s.io/v1/namespaces/{ns}/events"


def new_api_event(ns: str, name: str, regarding: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
        "regarding": {"kind": "Pod", "name": regarding, "namespace": ns},
        "related": {"kind": "Node", "name": "node-1"},
        "reason": "Started", "note": "Started container web", "type": "Normal", "action": "Start",
        "reportingController": "example.com/ctl", "reportingInstance": "ctl-1",
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "series": {"count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"},
    }


def core_event(ns: str, name: str, involved: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
        "involvedObject": {"kind": "Pod", "name": involved, "namespace": ns},
        "reason": "Pulled", "message": "Image pulled", "type": "Normal", "count": 3,
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:02:00Z",
        "source": {"component": "kubelet", "host": "node-1"},
    }


def without_meta(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "metadata"}


def test_an_event_of_the_new_api_reads_as_a_core_event(api: API, ns: str) -> None:
    name = unique("ev")
    created = api.post(NEW.format(ns=ns), new_api_event(ns, name))
    assert created.status == 201, created
    as_core = api.get(f"{CORE.format(ns=ns)}/{name}")
    assert as_core.status == 200, as_core
    core = as_core.json()
    assert without_meta(core) == {
        "apiVersion": "v1", "kind": "Event",
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": ns},
        "related": {"kind": "Node", "name": "node-1"},
        "reason": "Started", "message": "Started container web", "type": "Normal", "action": "Start",
        "reportingComponent": "example.com/ctl", "reportingInstance": "ctl-1",
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "series": {"count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"},
    }
    # One object: same uid and resourceVersion; the managedFields keep the writer's apiVersion.
    assert core["metadata"] == created.json()["metadata"]
    assert core["metadata"]["managedFields"][0]["apiVersion"] == "events.k8s.io/v1"
    again = api.get(f"{NEW.format(ns=ns)}/{name}")
    assert again.json() == created.json()


def test_a_core_event_reads_with_the_deprecated_fields_of_the_new_api(api: API, ns: str) -> None:
    name = unique("ev")
    created = api.post(CORE.format(ns=ns), core_event(ns, name))
    assert created.status == 201, created
    new = api.get(f"{NEW.format(ns=ns)}/{name}").json()
    assert without_meta(new) == {
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "regarding": {"kind": "Pod", "name": "web", "namespace": ns},
        "reason": "Pulled", "note": "Image pulled", "type": "Normal", "deprecatedCount": 3,
        "deprecatedFirstTimestamp": "2026-01-01T00:00:00Z", "deprecatedLastTimestamp": "2026-01-01T00:02:00Z",
        "deprecatedSource": {"component": "kubelet", "host": "node-1"},
    }
    assert new["metadata"]["resourceVersion"] == created.json()["metadata"]["resourceVersion"]


def test_lists_of_both_apis_hold_the_same_events(api: API, ns: str) -> None:
    core_name, new_name = unique("core"), unique("new")
    assert api.post(CORE.format(ns=ns), core_event(ns, core_name)).status == 201
    assert api.post(NEW.format(ns=ns), new_api_event(ns, new_name)).status == 201
    core_list = api.get(CORE.format(ns=ns)).json()
    new_list = api.get(NEW.format(ns=ns)).json()
    assert sorted(i["metadata"]["name"] for i in core_list["items"]) == sorted([core_name, new_name])
    assert sorted(i["metadata"]["name"] for i in new_list["items"]) == sorted([core_name, new_name])
    assert {"message"} <= set(next(i for i in core_list["items"] if i["metadata"]["name"] == new_name))
    assert {"note"} <= set(next(i for i in new_list["items"] if i["metadata"]["name"] == core_name))


def test_a_name_is_taken_in_both_apis(api: API, ns: str) -> None:
    name = unique("ev")
    assert api.post(CORE.format(ns=ns), core_event(ns, name)).status == 201
    status = status_of(api.post(NEW.format(ns=ns), new_api_event(ns, name)), 409)
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == f'events.events.k8s.io "{name}" already exists'


def test_a_watch_of_one_api_sees_writes_through_the_other(api: API, ns: str) -> None:
    start = api.get(NEW.format(ns=ns)).json()["metadata"]["resourceVersion"]
    name = unique("ev")
    with api.watch(NEW.format(ns=ns) + query(watch=True, resourceVersion=start)) as watch:
        created = api.post(CORE.format(ns=ns), core_event(ns, name)).json()
        added = watch.next_event()
        assert added["type"] == "ADDED"
        assert added["object"]["apiVersion"] == "events.k8s.io/v1"
        assert added["object"]["note"] == "Image pulled"
        assert added["object"]["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
        assert api.delete(f"{CORE.format(ns=ns)}/{name}").status == 200
        deleted = watch.next_event()
        assert deleted["type"] == "DELETED"
        assert deleted["object"]["regarding"]["name"] == "web"
        assert "involvedObject" not in deleted["object"]


def test_a_patch_through_the_new_api_changes_the_core_event(api: API, ns: str) -> None:
    name = unique("ev")
    assert api.post(CORE.format(ns=ns), core_event(ns, name)).status == 201
    patched = api.patch(f"{NEW.format(ns=ns)}/{name}", {"metadata": {"labels": {"seen": "yes"}}})
    assert patched.status == 200, patched
    assert patched.json()["note"] == "Image pulled"
    core = api.get(f"{CORE.format(ns=ns)}/{name}").json()
    assert core["metadata"]["labels"] == {"seen": "yes"}
    assert core["message"] == "Image pulled"
    assert core["metadata"]["resourceVersion"] == patched.json()["metadata"]["resourceVersion"]


def test_field_selectors_of_the_new_api_use_its_names(api: API, ns: str) -> None:
    mine, other = unique("mine"), unique("other")
    assert api.post(NEW.format(ns=ns), new_api_event(ns, mine, regarding="mine")).status == 201
    assert api.post(CORE.format(ns=ns), core_event(ns, other, involved="other")).status == 201

    def names(path: str, selector: str) -> list[str]:
        response = api.get(path + query(fieldSelector=selector))
        assert response.status == 200, response
        return [i["metadata"]["name"] for i in response.json()["items"]]

    assert names(NEW.format(ns=ns), "regarding.name=mine") == [mine]
    assert names(NEW.format(ns=ns), "reportingController=example.com/ctl") == [mine]
    assert names(CORE.format(ns=ns), "involvedObject.name=other") == [other]
    assert names(CORE.format(ns=ns), "reportingComponent=example.com/ctl") == [mine]
    # The core label "source" falls back to the reporting controller for events of the new API.
    assert sorted(names(CORE.format(ns=ns), "source!=nothing")) == sorted([mine, other])
    assert names(CORE.format(ns=ns), "source=example.com/ctl") == [mine]
    status = status_of(api.get(NEW.format(ns=ns) + query(fieldSelector="involvedObject.name=mine")), 400)
    assert status["message"] == "field label not supported: involvedObject.name"


def test_discovery_gives_both_the_storage_version_hash_of_core_events(api: API) -> None:
    def hash_of(path: str) -> str:
        resources = api.get(path).json()["resources"]
        return next(r["storageVersionHash"] for r in resources if r["name"] == "events")

    assert hash_of("/api/v1") == hash_of("/apis/events.k8s.io/v1") == "r2yiGXH7wu8="
