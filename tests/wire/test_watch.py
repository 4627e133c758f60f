"""Watch streams on the wire: framing, event types, resource versions, WatchList, bookmarks, selectors."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kubeproof import Cluster
from kubeproof.faults import WatchDelayRule

from ._http import API, Watch, iter_chunks, parse_raw_response, query, raw_exchange, status_of

INITIAL_EVENTS_END = "k8s.io/initial-events-end"
WATCH_LIST = {"watch": 1, "sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan",
              "allowWatchBookmarks": "true"}


def _rv(obj: dict[str, Any]) -> int:
    return int(obj["metadata"]["resourceVersion"])


def _is_end_bookmark(event: dict[str, Any]) -> bool:
    annotations = event["object"]["metadata"].get("annotations") or {}
    return event["type"] == "BOOKMARK" and annotations.get(INITIAL_EVENTS_END) == "true"


def test_watch_stream_framing(cluster: Cluster, api: API, ns: str) -> None:
    """Chunked, ``application/json``, one JSON event per line, ending when timeoutSeconds runs out."""
    created = api.create_configmap(ns, "framed")
    request = (
        f"GET /api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion=0&timeoutSeconds=1 HTTP/1.1\r\n"
        f"Host: kubeproof\r\nAuthorization: Bearer {cluster.token}\r\nConnection: close\r\n\r\n"
    ).encode()
    status, headers, body = parse_raw_response(raw_exchange(cluster.host, cluster.port, request))
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    payload = b"".join(iter_chunks(body))
    assert body.endswith(b"0\r\n\r\n")  # the final chunk: the server ended the stream cleanly
    lines = payload.split(b"\n")
    assert lines[-1] == b""
    events = [json.loads(line) for line in lines[:-1]]
    assert [e["type"] for e in events] == ["ADDED"]
    assert events[0]["object"] == created


def test_added_modified_deleted_with_resource_versions(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    start_rv = api.get(path).json()["metadata"]["resourceVersion"]
    with api.watch(path + query(watch=1, resourceVersion=start_rv)) as watch:
        assert watch.status == 200
        assert watch.headers["content-type"] == "application/json"
        created = api.create_configmap(ns, "life")
        added = watch.next_event()
        assert added["type"] == "ADDED"
        assert added["object"]["kind"] == "ConfigMap"
        assert added["object"]["apiVersion"] == "v1"
        assert added["object"] == created

        updated = api.patch(f"{path}/life", {"data": {"k": "v2"}}).json()
        modified = watch.next_event()
        assert modified["type"] == "MODIFIED"
        assert modified["object"] == updated
        assert _rv(updated) > _rv(created)

        assert api.delete(f"{path}/life").status == 200
        deleted = watch.next_event()
        assert deleted["type"] == "DELETED"
        assert deleted["object"]["kind"] == "ConfigMap"
        assert deleted["object"]["apiVersion"] == "v1"
        assert deleted["object"]["data"] == {"k": "v2"}  # the last state...
        assert _rv(deleted["object"]) > _rv(updated)  # ...at the revision of the deletion


def test_watch_from_a_revision_replays_later_changes(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    first = api.create_configmap(ns, "one")
    second = api.create_configmap(ns, "two")
    with api.watch(path + query(watch=1, resourceVersion=first["metadata"]["resourceVersion"])) as watch:
        event = watch.next_event()
        assert event == {"type": "ADDED", "object": second}


def test_watch_list_sends_state_then_end_bookmark_then_live_events(cluster: Cluster, api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    existing = [api.create_configmap(ns, name) for name in ("wl-a", "wl-b", "wl-c")]
    with api.watch(path + query(**WATCH_LIST)) as watch:
        assert watch.status == 200
        events = watch.events_until(lambda e: e["type"] == "BOOKMARK")
        assert [e["type"] for e in events] == ["ADDED", "ADDED", "ADDED", "BOOKMARK"]
        assert [e["object"] for e in events[:3]] == existing
        bookmark = events[-1]["object"]
        assert bookmark == {
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": bookmark["metadata"]["resourceVersion"],
                         "annotations": {INITIAL_EVENTS_END: "true"}},
        }
        assert int(bookmark["metadata"]["resourceVersion"]) >= max(_rv(o) for o in existing)

        later = api.create_configmap(ns, "wl-d")
        live = watch.next_event()
        assert live == {"type": "ADDED", "object": later}
        assert _rv(later) > int(bookmark["metadata"]["resourceVersion"])


def test_watch_list_of_an_empty_collection_sends_just_the_bookmark(api: API, ns: str) -> None:
    with api.watch(f"/api/v1/namespaces/{ns}/secrets" + query(**WATCH_LIST)) as watch:
        event = watch.next_event()
        assert _is_end_bookmark(event), event
        assert event["object"]["kind"] == "Secret"


def test_watch_list_of_one_object_by_field_selector(api: API, ns: str) -> None:
    """What ``kubectl wait`` sends."""
    wanted = api.create_configmap(ns, "wanted")
    api.create_configmap(ns, "other")
    path = f"/api/v1/namespaces/{ns}/configmaps" + query(fieldSelector="metadata.name=wanted", resourceVersion="",
                                                         timeoutSeconds=30, **WATCH_LIST)
    with api.watch(path) as watch:
        events = watch.events_until(_is_end_bookmark)
        assert [e["object"]["metadata"].get("name") for e in events[:-1]] == ["wanted"]
        assert events[0]["object"] == wanted
        api.patch(f"/api/v1/namespaces/{ns}/configmaps/other", {"data": {"k": "x"}})
        api.patch(f"/api/v1/namespaces/{ns}/configmaps/wanted", {"data": {"k": "y"}})
        event = watch.next_event()
        assert event["type"] == "MODIFIED"
        assert event["object"]["metadata"]["name"] == "wanted"


def test_legacy_watch_from_zero_with_bookmarks_ends_its_burst_with_the_marker(api: API, ns: str) -> None:
    """With the WatchList gate on, ``resourceVersion=0`` defaults to sendInitialEvents=true."""
    api.create_configmap(ns, "legacy")
    with api.watch(f"/api/v1/namespaces/{ns}/configmaps" + query(watch=1, resourceVersion=0,
                                                                  allowWatchBookmarks="true")) as watch:
        events = watch.events_until(lambda e: e["type"] == "BOOKMARK")
        assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
        assert _is_end_bookmark(events[-1])


def test_watch_with_send_initial_events_false_starts_at_now(api: API, ns: str) -> None:
    api.create_configmap(ns, "before")
    params = dict(WATCH_LIST, sendInitialEvents="false")
    with api.watch(f"/api/v1/namespaces/{ns}/configmaps" + query(**params)) as watch:
        after = api.create_configmap(ns, "after")
        assert watch.next_event() == {"type": "ADDED", "object": after}


WATCH_422 = [
    ({"resourceVersionMatch": "NotOlderThan"},
     ["resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents "
      "is provided"]),
    ({"sendInitialEvents": "true"},
     ["resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"]),
    ({"sendInitialEvents": "true", "resourceVersionMatch": "Exact"},
     ["resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
      'resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"']),
    ({"resourceVersionMatch": "Exact"},
     ["resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents "
      "is provided",
      'resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"']),
]


@pytest.mark.parametrize(("params", "errors"), WATCH_422)
def test_bad_watch_list_combinations_are_422_before_the_stream(
    api: API, ns: str, params: dict[str, str], errors: list[str]
) -> None:
    response = api.get(f"/api/v1/namespaces/{ns}/configmaps" + query(watch=1, **params))
    status = status_of(response, 422)
    joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    assert status["message"] == f'ListOptions.meta.k8s.io "" is invalid: {joined}'
    assert status["reason"] == "Invalid"
    details: Any = status["details"]
    assert details["group"] == "meta.k8s.io"
    assert details["kind"] == "ListOptions"
    assert [c["field"] for c in details["causes"]] == ["resourceVersionMatch"] * len(errors)


def test_the_exact_forbidden_message(api: API, ns: str) -> None:
    response = api.get(f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersionMatch=NotOlderThan")
    assert status_of(response, 422)["message"] == (
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is '
        "forbidden for watch unless sendInitialEvents is provided"
    )


def test_timeout_ends_the_stream_with_a_bookmark(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = api.get(path).json()["metadata"]["resourceVersion"]
    with api.watch(path + query(watch=1, resourceVersion=rv, allowWatchBookmarks="true", timeoutSeconds=1)) as w:
        lines = w.read_to_end()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["type"] == "BOOKMARK"
    assert int(event["object"]["metadata"]["resourceVersion"]) >= int(rv)  # every bookmark carries one
    assert set(event["object"]) == {"kind", "apiVersion", "metadata"}


def test_periodic_bookmarks_between_events_until_the_timeout(api: API, ns: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Bookmarks keep coming while events flow, and the stream still ends at timeoutSeconds."""
    from kubeproof.server.watch import WatchStream

    monkeypatch.setattr(WatchStream, "bookmark_interval", 0.1)
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = api.get(path).json()["metadata"]["resourceVersion"]
    with api.watch(path + query(watch=1, resourceVersion=rv, allowWatchBookmarks="true", timeoutSeconds=3)) as w:
        assert w.next_event()["type"] == "BOOKMARK"
        created = api.create_configmap(ns, "between")
        events = w.events_until(lambda e: e["type"] == "ADDED")
        assert events[-1]["object"]["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
        assert w.next_event()["type"] == "BOOKMARK"  # bookmarks resume after the event
        rest = [json.loads(line) for line in w.read_to_end()]  # ends at the timeout
    assert {e["type"] for e in rest} <= {"BOOKMARK"}
    assert int(rest[-1]["object"]["metadata"]["resourceVersion"]) >= int(created["metadata"]["resourceVersion"])


def test_timeout_without_bookmarks_just_ends(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = api.get(path).json()["metadata"]["resourceVersion"]
    with api.watch(path + query(watch=1, resourceVersion=rv, timeoutSeconds=1)) as watch:
        assert watch.read_to_end() == []


def test_label_selector_transitions(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    api.create_configmap(ns, "sel", labels={"tier": "web"})
    with api.watch(path + query(labelSelector="tier=web", **WATCH_LIST)) as watch:
        initial = watch.events_until(_is_end_bookmark)
        assert [e["type"] for e in initial] == ["ADDED", "BOOKMARK"]

        before = api.get(f"{path}/sel").json()
        moved = api.patch(f"{path}/sel", {"metadata": {"labels": {"tier": "db"}}}).json()
        gone = watch.next_event()
        assert gone["type"] == "DELETED"  # stopped matching
        assert gone["object"]["metadata"]["labels"] == {"tier": "web"}  # the previous content...
        assert gone["object"]["metadata"]["resourceVersion"] == moved["metadata"]["resourceVersion"]  # ...at its RV
        assert gone["object"]["data"] == before["data"]

        back = api.patch(f"{path}/sel", {"metadata": {"labels": {"tier": "web"}}}).json()
        returned = watch.next_event()
        assert returned == {"type": "ADDED", "object": back}  # started matching again

        api.create_configmap(ns, "unrelated", labels={"tier": "db"})
        changed = api.patch(f"{path}/sel", {"data": {"k": "again"}}).json()
        assert watch.next_event() == {"type": "MODIFIED", "object": changed}  # nothing for the other one


def test_watch_of_a_named_item(api: API, ns: str) -> None:
    api.create_configmap(ns, "named")
    api.create_configmap(ns, "other")
    rv = api.get(f"/api/v1/namespaces/{ns}/configmaps").json()["metadata"]["resourceVersion"]
    with api.watch(f"/api/v1/namespaces/{ns}/configmaps/named" + query(watch=1, resourceVersion=rv)) as watch:
        api.patch(f"/api/v1/namespaces/{ns}/configmaps/other", {"data": {"k": "1"}})
        updated = api.patch(f"/api/v1/namespaces/{ns}/configmaps/named", {"data": {"k": "2"}}).json()
        assert watch.next_event() == {"type": "MODIFIED", "object": updated}
    response = api.get(f"/api/v1/namespaces/{ns}/configmaps/named" + query(watch=1, fieldSelector="metadata.name=x"))
    assert status_of(response, 400)["message"] == "fieldSelector metadata.name doesn't match requested name"


def test_watch_across_namespaces_sees_every_namespace(api: API, ns: str) -> None:
    rv = api.get("/api/v1/configmaps").json()["metadata"]["resourceVersion"]
    with api.watch("/api/v1/configmaps" + query(watch=1, resourceVersion=rv,
                                                 fieldSelector=f"metadata.namespace={ns}")) as watch:
        created = api.create_configmap(ns, "anywhere")
        assert watch.next_event() == {"type": "ADDED", "object": created}


def test_legacy_watch_path_prefix(api: API, ns: str) -> None:
    rv = api.get(f"/api/v1/namespaces/{ns}/configmaps").json()["metadata"]["resourceVersion"]
    with api.watch(f"/api/v1/watch/namespaces/{ns}/configmaps" + query(resourceVersion=rv)) as watch:
        assert watch.status == 200
        created = api.create_configmap(ns, "prefixed")
        assert watch.next_event() == {"type": "ADDED", "object": created}


def test_stopping_a_cluster_ends_open_watches_without_errors() -> None:
    """Cluster.stop tells open watches to end and waits for them: none is cancelled mid-stream, which
    uvicorn would log as "Exception in ASGI application" (on its own logger, which does not propagate)."""
    own = Cluster(tls=False, controllers=[])
    own.start()
    api = API(own.host, own.port, own.token)
    watches = [api.watch("/api/v1/namespaces" + query(watch=True)) for _ in range(50)]
    logged: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = logged.append  # type: ignore[method-assign]
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(handler)
    try:
        for watch in watches:
            assert watch.next_event()["type"] == "ADDED"  # the stream is open and serving
        own.stop()
        assert [r.getMessage() for r in logged] == []
        for watch in watches:
            watch.read_to_end()  # the server ended each stream
    finally:
        uvicorn_log.removeHandler(handler)
        for watch in watches:
            watch.close()
        own.stop()


def test_a_reader_that_falls_behind_gets_every_event_in_order(api: API, ns: str) -> None:
    """A watcher that stops reading fills its socket and then the server's write buffer, so events for it
    are held and written by its own stream task once it drains, while the other watchers of the same
    events keep being written at once: both see every event, in order, exactly once."""
    path = f"/api/v1/namespaces/{ns}/configmaps"
    start_rv = api.get(path).json()["metadata"]["resourceVersion"]
    url = path + query(watch=1, resourceVersion=start_rv)
    with api.watch(url) as slow, api.watch(url) as fast:
        payload = "x" * 200_000
        # 8 MB: more than the socket buffers between the server and a reader that reads nothing take
        # (a small SO_RCVBUF would not do: on loopback's 64 KB MSS it stalls TCP's window updates).
        names = [f"big-{i:02d}" for i in range(40)]
        for name in names:
            api.create_configmap(ns, name, {"payload": payload})
            assert fast.next_event()["object"]["metadata"]["name"] == name
        seen = [slow.next_event() for _ in names]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in seen] == [("ADDED", n) for n in names]
    assert all(e["object"]["data"]["payload"] == payload for e in seen)


@pytest.fixture()
def faulty() -> Iterator[tuple[Cluster, API]]:
    """A cluster of its own, so its fault rules reach no other test."""
    own = Cluster(tls=False, controllers=[])
    own.start()
    try:
        api = API(own.host, own.port, own.token)
        api.create_namespace("faults")
        yield own, api
    finally:
        own.stop()


FAULTS_CONFIGMAPS = "/api/v1/namespaces/faults/configmaps"


def _idle_watch(api: API, first: str) -> Watch:
    """A watch of the ``faults`` namespace's ConfigMaps that has delivered ``first``: open, live, idle."""
    rv = api.get(FAULTS_CONFIGMAPS).json()["metadata"]["resourceVersion"]
    watch = api.watch(FAULTS_CONFIGMAPS + query(watch=1, resourceVersion=rv))
    api.create_configmap("faults", first)
    assert watch.next_event()["object"]["metadata"]["name"] == first
    return watch


def test_an_injected_watch_delay_holds_events_and_keeps_their_order(faulty: tuple[Cluster, API]) -> None:
    """With a delay rule, events leave only through the stream's own task, each after its delay, in order
    (an idle stream's events are otherwise written at once, without asking the hooks)."""
    own, api = faulty
    with _idle_watch(api, "before") as w:
        own.faults.watch_delays.append(WatchDelayRule(min_seconds=0.3, max_seconds=0.3, resources=("configmaps",)))
        started = time.monotonic()
        for name in ("one", "two", "three"):
            api.create_configmap("faults", name)
        names = [w.next_event()["object"]["metadata"]["name"] for _ in range(3)]
        held = time.monotonic() - started
    assert names == ["one", "two", "three"]
    assert held >= 0.3  # a lower bound only: the delay cannot be skipped


def test_the_bookmark_at_the_timeout_never_passes_an_event_still_held(faulty: tuple[Cluster, API]) -> None:
    """An event still held when the stream times out is not sent, so the closing bookmark stays at the
    last event sent, and a watch resumed from it gets the held one."""
    own, api = faulty
    path = FAULTS_CONFIGMAPS
    rv = api.get(path).json()["metadata"]["resourceVersion"]
    own.faults.watch_delays.append(WatchDelayRule(min_seconds=1.5, max_seconds=1.5, resources=("configmaps",)))
    with api.watch(path + query(watch=1, resourceVersion=rv, allowWatchBookmarks="true", timeoutSeconds=1)) as w:
        first = api.create_configmap("faults", "first")  # held 1.5 s, past the 1 s timeout
        second = api.create_configmap("faults", "second")  # buffered behind it
        events = [json.loads(line) for line in w.read_to_end()]
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events] == [("ADDED", "first"),
                                                                                    ("BOOKMARK", None)]
    assert _rv(events[1]["object"]) == _rv(first)
    own.faults.clear()
    with api.watch(path + query(watch=1, resourceVersion=_rv(events[1]["object"]))) as resumed:
        event = resumed.next_event()
    assert event["object"]["metadata"]["name"] == "second"
    assert _rv(event["object"]) == _rv(second)


def test_a_dropped_stream_ends(faulty: tuple[Cluster, API]) -> None:
    own, api = faulty
    with _idle_watch(api, "seen") as w:
        own.faults.watch_drop_probability = 1.0
        api.create_configmap("faults", "last")  # wakes the stream, which then checks the hook and ends
        rest = [json.loads(line) for line in w.read_to_end()]
    assert [e["object"]["metadata"]["name"] for e in rest] == ["last"]
