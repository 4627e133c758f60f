"""Server-side apply and managedFields: the field sets, merge rules, ownership, conflicts, and the wire.

Expected values come from the sources the implementation follows, cited per test:

* [SMD] sigs.k8s.io/structured-merge-diff: ``fieldpath/serialize.go`` (FieldsV1 with ``"."``),
  ``fieldpath/serialize-pe.go`` (``f:``/``k:``/``v:``/``i:``), ``fieldpath/element.go`` (order, ``String``),
  ``typed/tofieldset.go``, ``typed/merge.go`` (list order), ``typed/remove.go``, ``merge/update.go``
  (Apply: merge, prune, conflicts; Update).
* [MF] k8s.io/apimachinery ``pkg/util/managedfields/internal``: ``conflict.go`` (messages: an applier is
  printed by name, an updater "using <apiVersion>"), ``managedfields.go`` (identifiers, entry order),
  ``stripmeta.go``, ``managedfieldsupdater.go`` (times), ``fieldmanager.go`` (``[{}]`` resets),
  ``skipnonapplied.go`` (``before-first-apply``), ``structuredmerge.go`` (400/500 errors).
* [PATCH] apiserver ``handlers/patch.go`` / ``handlers/rest.go``: options, ``checkName``, 201 on create.
* [REF] /work/shared/reference/k8s-api-fidelity.md §1.4, §4.1, §4.6.
"""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from kubeproof import Cluster
from kubeproof.clock import ManualClock
from kubeproof.controllers import DEFAULT_CONTROLLERS
from kubeproof.server import managedfields as mf
from kubeproof.server.registry.builtin import builtin_resources

pytestmark = pytest.mark.timeout(60)

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
RESOURCES = {rt.key: rt for rt in builtin_resources()}


# -- a raw client ------------------------------------------------------------------------------------


class Api:
    """Plain HTTP requests with the bearer token; bodies are bytes (sent as is) or JSON-encoded."""

    def __init__(self, cluster: Cluster) -> None:
        self.host, self.port, self.token = cluster.host, cluster.port, cluster.token

    def call(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        sent = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type, **(headers or {})}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, json.loads(raw) if raw else None

    def apply(self, path: str, body: Any, manager: str | None = "test", **params: str) -> tuple[int, Any]:
        query = {"fieldManager": manager, **params} if manager is not None else dict(params)
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        data = yaml.safe_dump(body).encode() if isinstance(body, dict) else body
        return self.call("PATCH", f"{path}?{qs}" if qs else path, data, APPLY)


# The managedFields and merge checks below expect exactly the writers each test makes: the workload
# controllers would add their own (the Deployment's revision annotation, status writes by
# kube-controller-manager), as in a real cluster, so they are left out. They are tested in tests/controllers.
_WORKLOAD_CONTROLLERS = {"replicaset", "deployment", "job", "cronjob", "statefulset", "daemonset"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # A ManualClock: managedFields times move only when a test advances it.
    with Cluster(tls=False, controllers=[n for n in DEFAULT_CONTROLLERS if n not in _WORKLOAD_CONTROLLERS],
                 clock=ManualClock()) as c:
        yield c


@pytest.fixture(scope="module")
def api(cluster: Cluster) -> Api:
    return Api(cluster)


@pytest.fixture
def ns(api: Api) -> Iterator[str]:
    name = f"apply-{uuid.uuid4().hex[:8]}"
    code, _ = api.call("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert code == 201
    yield name
    api.call("DELETE", f"/api/v1/namespaces/{name}")


def deployment(name: str = "web", replicas: int = 2, **spec: Any) -> dict[str, Any]:
    containers = spec.pop("containers", [{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}])
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}},
            **spec,
        },
    }


def entries(obj: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(e.get("manager", ""), e["operation"], e.get("subresource")) for e in obj["metadata"]["managedFields"]]


def entry(obj: dict[str, Any], manager: str, operation: str = "Apply") -> dict[str, Any]:
    found = [e for e in obj["metadata"]["managedFields"] if e["manager"] == manager and e["operation"] == operation]
    assert len(found) == 1, obj["metadata"]["managedFields"]
    result: dict[str, Any] = found[0]
    return result


def dep_path(ns: str, name: str = "web") -> str:
    return f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"


# -- field sets and their encoding (no server) --------------------------------------------------------


def test_fieldsv1_of_a_deployment_with_containers_keyed_by_name() -> None:
    """[SMD] tofieldset.go + serialize.go: declared struct fields are not members (no ``"."``), list items
    and undeclared map keys are; map-list keys sorted by name; defaulted key fields (``protocol``) included."""
    config = deployment(containers=[
        {"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
         "env": [{"name": "A", "value": "1"}]},
        {"name": "sidecar", "image": "busybox"},
    ])
    fm = mf.FieldManager(RESOURCES["deployments.apps"])
    fields = fm.field_set(config).difference(mf.STRIP_SET)
    expected = {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {
                    'k:{"name":"nginx"}': {
                        ".": {},
                        "f:env": {'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}}},
                        "f:image": {},
                        "f:name": {},
                        "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
                    },
                    'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}},
                }},
            },
        },
    }
    assert json.dumps(fields.to_fields_v1()) == json.dumps(expected)  # same keys, same (sorted) order
    assert mf.FieldSet.from_fields_v1(expected) == fields


def test_path_elements_serialize_as_go_does() -> None:
    """[SMD] serialize-pe.go (jsoniter, standard-library config: HTML-safe) and element.go ``String``."""
    key = ("k", (("containerPort", mf.canon(80)), ("protocol", mf.canon("TCP"))))
    assert mf.pe_serialize(key) == 'k:{"containerPort":80,"protocol":"TCP"}'
    assert mf.pe_string(key) == '[containerPort=80,protocol="TCP"]'
    assert mf.pe_serialize(("v", mf.canon("a<b&c"))) == 'v:"a\\u003cb\\u0026c"'
    assert mf.pe_string(("v", mf.canon("x"))) == '[="x"]'
    assert mf.pe_serialize(("i", 3)) == "i:3"
    assert mf.pe_parse('k:{"protocol":"TCP","containerPort":80}') == key  # fields sorted by name
    with pytest.raises(mf.UnknownPathElement):
        mf.pe_parse("z:1")
    path = (("f", "spec"), ("f", "containers"), ("k", (("name", mf.canon("nginx")),)), ("f", "image"))
    assert mf.path_string(path) == '.spec.containers[name="nginx"].image'


def test_fieldset_order_and_operations() -> None:
    """[SMD] element.go ``Compare``: field names < keys < values < indexes; values: numbers < strings <
    booleans; set.go ``RecursiveDifference`` drops whole subtrees."""
    s = mf.FieldSet()
    for pe in [("i", 0), ("v", mf.canon(True)), ("v", mf.canon("a")), ("v", mf.canon(2)), ("f", "b"), ("f", "a"),
               ("k", (("name", mf.canon("x")),))]:
        s.insert((pe,))
    assert list(s.to_fields_v1()) == ["f:a", "f:b", 'k:{"name":"x"}', "v:2", 'v:"a"', "v:true", "i:0"]
    spec = mf.FieldSet.of((("f", "spec"), ("f", "replicas")), (("f", "spec"), ("f", "paused")), (("f", "status"),))
    assert spec.recursive_difference(mf.FieldSet.of((("f", "spec"),))) == mf.FieldSet.of((("f", "status"),))
    assert spec.difference(mf.FieldSet.of((("f", "spec"),))) == spec  # "spec" itself is not a member
    assert spec.has((("f", "spec"), ("f", "paused")))
    assert not spec.has((("f", "spec"),))


def test_merge_lists_by_type() -> None:
    """[SMD] merge.go: list-type map merges by keys (applied order for shared items, live-only items keep
    their place), set merges as a set, atomic is replaced; maps merge key by key."""
    fm = mf.FieldManager(RESOURCES["deployments.apps"])
    live = deployment(containers=[{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}])
    live["metadata"]["finalizers"] = ["x", "y"]
    live["spec"]["template"]["spec"]["containers"][0]["args"] = ["--one", "--two"]
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "finalizers": ["z", "x"]},
              "spec": {"template": {"spec": {"containers": [
                  {"name": "c", "image": "c:1"}, {"name": "a", "image": "a:2", "args": ["--three"]}]}}}}
    merged = mf.merge(live, config, fm.root)
    assert [c["name"] for c in merged["spec"]["template"]["spec"]["containers"]] == ["c", "a", "b"]
    a = merged["spec"]["template"]["spec"]["containers"][1]
    assert a == {"name": "a", "image": "a:2", "args": ["--three"]}  # atomic list replaced
    assert merged["metadata"]["finalizers"] == ["z", "x", "y"]  # a set: union, applied order first
    assert merged["metadata"]["labels"] == {"app": "web"} and merged["spec"]["replicas"] == 2  # kept


def test_conflict_messages() -> None:
    """[MF] conflict.go: one conflict inline; several grouped by manager (sorted), one ``- path`` a line;
    an updater is printed with its apiVersion (and subresource), an applier by name only."""
    updater = mf.manager_identifier("kubectl", "Update", "apps/v1")
    scaler = mf.manager_identifier("kubectl", "Update", "apps/v1", "scale")
    applier = mf.manager_identifier("helm", "Apply", "apps/v1")
    replicas = (("f", "spec"), ("f", "replicas"))
    paused = (("f", "spec"), ("f", "paused"))
    message, causes = mf.conflict_status([(updater, replicas)])
    assert message == 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas'
    assert causes == [{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl" using apps/v1',
                       "field": ".spec.replicas"}]
    message, _ = mf.conflict_status([(updater, paused), (updater, replicas), (applier, replicas)])
    assert message == ('Apply failed with 3 conflicts: conflicts with "helm":\n- .spec.replicas\n'
                       'conflicts with "kubectl" using apps/v1:\n- .spec.paused\n- .spec.replicas')
    assert mf.print_manager(scaler) == '"kubectl" with subresource "scale" using apps/v1'
    assert applier == '{"manager":"helm","operation":"Apply"}'  # appliers keep one entry across versions


def test_entries_sort_apply_first_then_oldest() -> None:
    """[MF] managedfields.go ``sortEncodedManagedFields``: operation, then time, then manager."""
    one = mf.FieldSet.of((("f", "a"),))
    managers = {
        mf.manager_identifier("z", "Update", "v1"): mf.VersionedSet(one, "v1", False),
        mf.manager_identifier("a", "Update", "v1"): mf.VersionedSet(one, "v1", False),
        mf.manager_identifier("m", "Apply", "v1"): mf.VersionedSet(one, "v1", True),
    }
    times: mf.Times = {mf.manager_identifier("z", "Update", "v1"): "2024-01-01T00:00:00Z",
             mf.manager_identifier("a", "Update", "v1"): "2025-01-01T00:00:00Z"}
    encoded = mf.encode_managed_fields(managers, times)
    assert [(e["manager"], e["operation"]) for e in encoded] == [("m", "Apply"), ("z", "Update"), ("a", "Update")]
    assert list(encoded[1]) == ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]
    decoded, decoded_times = mf.decode_managed_fields(encoded)
    assert decoded.keys() == managers.keys() and decoded_times[mf.manager_identifier("z", "Update", "v1")]


# -- apply over HTTP -----------------------------------------------------------------------------------


def test_apply_creates_then_merges(api: Api, ns: str) -> None:
    """[PATCH] a missing object is created (201); then the configuration merges into it (200)."""
    code, created = api.apply(dep_path(ns), deployment())
    assert code == 201, created
    assert created["metadata"]["uid"] and created["spec"]["replicas"] == 2
    assert entries(created) == [("test", "Apply", None)]
    applied = entry(created, "test")
    assert applied["apiVersion"] == "apps/v1" and applied["fieldsType"] == "FieldsV1"
    assert list(applied) == ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]
    # A field nobody applied (set by another writer) survives a re-apply.
    code, _ = api.call("PATCH", dep_path(ns) + "?fieldManager=labeler",
                       {"metadata": {"annotations": {"team": "a"}}}, MERGE)
    assert code == 200
    code, updated = api.apply(dep_path(ns), deployment(replicas=3))
    assert code == 200, updated
    assert updated["spec"]["replicas"] == 3
    assert updated["metadata"]["annotations"] == {"team": "a"}
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert entries(updated) == [("test", "Apply", None), ("labeler", "Update", None)]


def test_fields_dropped_from_the_configuration_are_removed(api: Api, ns: str) -> None:
    """[SMD] update.go prune: what this applier applied last time and left out now goes, unless another
    manager owns it; fields it never applied stay."""
    config = deployment(containers=[{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                                    {"name": "sidecar", "image": "busybox"}])
    config["metadata"]["labels"]["tier"] = "front"
    assert api.apply(dep_path(ns), config)[0] == 201
    # Another applier co-owns the "tier" label (same value: no conflict).
    other = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"tier": "front"}}}
    code, shared = api.apply(dep_path(ns), other, manager="other")
    assert code == 200, shared
    assert entry(shared, "other")["fieldsV1"] == {"f:metadata": {"f:labels": {"f:tier": {}}}}

    smaller = deployment(containers=[{"name": "nginx", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}]}])
    del smaller["metadata"]["labels"]  # drops "app" (only ours) and "tier" (shared)
    code, pruned = api.apply(dep_path(ns), smaller)
    assert code == 200, pruned
    assert pruned["metadata"]["labels"] == {"tier": "front"}
    containers = pruned["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["nginx"]
    assert "ports" not in containers[0]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}]
    assert containers[0]["imagePullPolicy"] == "IfNotPresent"  # defaulted, owned by nobody: kept
    fields = entry(pruned, "test")["fieldsV1"]
    assert "f:metadata" not in fields
    assert set(fields["f:spec"]["f:template"]["f:spec"]["f:containers"]) == {'k:{"name":"nginx"}'}


def test_conflict_with_an_updater_then_force(api: Api, ns: str) -> None:
    """[MF] conflict.go / [REF] §1.4: 409 Conflict, one FieldManagerConflict cause per field, no name or
    kind in details; ``force=true`` takes the field over and the updater's entry loses it."""
    assert api.apply(dep_path(ns), deployment())[0] == 201
    code, scaled = api.call("PATCH", dep_path(ns) + "?fieldManager=kubectl", {"spec": {"replicas": 5}}, MERGE)
    assert code == 200 and entries(scaled) == [("test", "Apply", None), ("kubectl", "Update", None)]
    code, status = api.apply(dep_path(ns), deployment(replicas=3))
    assert code == 409
    assert status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas',
        "reason": "Conflict",
        "details": {"causes": [{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl" using apps/v1',
                                "field": ".spec.replicas"}]},
        "code": 409,
    }
    assert api.call("GET", dep_path(ns))[1]["spec"]["replicas"] == 5  # nothing written
    code, forced = api.apply(dep_path(ns), deployment(replicas=3), force="true")
    assert code == 200, forced
    assert forced["spec"]["replicas"] == 3
    assert entries(forced) == [("test", "Apply", None)]  # the updater owned only replicas


def test_several_conflicts_with_an_applier(api: Api, ns: str) -> None:
    """[MF] conflict.go: several conflicts are listed under their manager; an applier has no "using"."""
    assert api.apply(dep_path(ns), deployment(), manager="helm")[0] == 201
    changed = deployment(replicas=4, containers=[{"name": "nginx", "image": "nginx:2"}])
    code, status = api.apply(dep_path(ns), changed, manager="argo")
    assert code == 409, status
    assert status["message"] == ('Apply failed with 2 conflicts: conflicts with "helm":\n- .spec.replicas\n'
                                 '- .spec.template.spec.containers[name="nginx"].image')
    assert [c["field"] for c in status["details"]["causes"]] == [
        ".spec.replicas", '.spec.template.spec.containers[name="nginx"].image']
    # The same values as the other applier: shared ownership, no conflict.
    code, shared = api.apply(dep_path(ns), deployment(), manager="argo")
    assert code == 200, shared
    assert {e[0] for e in entries(shared)} == {"helm", "argo"}


def test_update_entries_per_manager(cluster: Cluster, api: Api, ns: str) -> None:
    """[MF] managedfieldsupdater.go / [REF] §4.1: POST, PUT and PATCH record ``Update`` entries, one per
    (manager, operation, apiVersion), manager = fieldManager or the User-Agent up to its first ``/``; a
    write that changes nothing keeps the time (and writes nothing)."""
    path = f"/api/v1/namespaces/{ns}/configmaps"
    code, cm = api.call("POST", path, {"metadata": {"name": "c", "labels": {"a": "1"}}, "data": {"k": "v"}},
                        headers={"User-Agent": "OpenAPI-Generator/31.0.0/python"})
    assert code == 201
    assert entries(cm) == [("OpenAPI-Generator", "Update", None)]
    created = entry(cm, "OpenAPI-Generator", "Update")
    assert created["fieldsV1"] == {"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}}
    code, patched = api.call("PATCH", f"{path}/c?fieldManager=editor", {"data": {"k2": "v2"}}, MERGE)
    assert code == 200
    assert entries(patched) == [("OpenAPI-Generator", "Update", None), ("editor", "Update", None)]
    assert entry(patched, "editor", "Update")["fieldsV1"] == {"f:data": {"f:k2": {}}}
    stamp, rv = entry(patched, "editor", "Update")["time"], patched["metadata"]["resourceVersion"]
    assert isinstance(cluster.clock, ManualClock)
    cluster.clock.advance(2)  # so that a rewritten time would differ
    code, same = api.call("PATCH", f"{path}/c?fieldManager=editor", {"data": {"k2": "v2"}}, MERGE)
    assert code == 200
    assert entry(same, "editor", "Update")["time"] == stamp and same["metadata"]["resourceVersion"] == rv
    # A PUT by the same manager merges into its entry; the other manager loses the field it rewrote.
    body = {k: v for k, v in same.items() if k != "status"}
    body["data"] = {"k": "changed", "k2": "v2"}
    code, put = api.call("PUT", f"{path}/c?fieldManager=editor", body)
    assert code == 200
    assert entry(put, "editor", "Update")["fieldsV1"] == {"f:data": {"f:k": {}, "f:k2": {}}}
    # (it keeps "data" itself, now a member without children: ``{}``)
    assert entry(put, "OpenAPI-Generator", "Update")["fieldsV1"] == {
        "f:data": {}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}}
    assert entry(put, "editor", "Update")["time"] >= stamp


def test_created_deployment_update_entry_follows_go_types(api: Api, ns: str) -> None:
    """[SMD] compare.go: on create, value-struct fields (``spec``, ``template``, ``strategy``) are not
    "added" (no ``"."``), pointers and maps are (``rollingUpdate``, ``labels``); defaults are owned."""
    code, created = api.call("POST", f"/apis/apps/v1/namespaces/{ns}/deployments?fieldManager=kubectl-create",
                             deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}))
    assert code == 201, created
    fields = entry(created, "kubectl-create", "Update")["fieldsV1"]
    assert fields["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    spec = fields["f:spec"]
    assert "." not in spec and "." not in spec["f:template"] and "." not in spec["f:strategy"]
    # (maxUnavailable is a default: the creator owns it too, as with kube-apiserver's defaulting)
    assert spec["f:strategy"]["f:rollingUpdate"] == {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}}
    container = spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    assert "." not in spec["f:template"]["f:spec"]["f:containers"]
    assert container["."] == {} and "f:imagePullPolicy" in container
    assert container["f:ports"]['k:{"containerPort":80,"protocol":"TCP"}'] == {
        ".": {}, "f:containerPort": {}, "f:protocol": {}}


def test_managed_fields_reset_and_before_first_apply(api: Api, ns: str) -> None:
    """[MF] fieldmanager.go: ``managedFields: [{}]`` clears them; skipnonapplied.go: writes to an untracked
    object stay untracked, and the first apply gives its existing fields to ``before-first-apply``."""
    path = f"/api/v1/namespaces/{ns}/configmaps/c"
    api.call("POST", f"/api/v1/namespaces/{ns}/configmaps?fieldManager=maker", {"metadata": {"name": "c"},
                                                                                  "data": {"a": "1"}})
    code, cleared = api.call("PATCH", path, {"metadata": {"managedFields": [{}]}}, MERGE)
    assert code == 200 and "managedFields" not in cleared["metadata"]
    code, untracked = api.call("PATCH", path + "?fieldManager=editor", {"data": {"b": "2"}}, MERGE)
    assert code == 200 and "managedFields" not in untracked["metadata"]
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "9"}}
    code, status = api.apply(path, config)
    assert code == 409
    assert status["message"] == ('Apply failed with 1 conflict: conflict with "before-first-apply" using v1: '
                                 ".data.a")
    code, applied = api.apply(path, config, force="true")
    assert code == 200
    assert entries(applied) == [("test", "Apply", None), ("before-first-apply", "Update", None)]
    assert entry(applied, "before-first-apply", "Update")["fieldsV1"] == {"f:data": {".": {}, "f:b": {}}}


def test_apply_to_status_changes_only_status(api: Api, ns: str) -> None:
    """[REF] §4.6: apply to ``/status`` writes status only; the entry names the subresource; spec and
    labels are reset fields there (``deploymentStatusStrategy.GetResetFields``), so not owned."""
    assert api.apply(dep_path(ns), deployment())[0] == 201
    config = deployment(replicas=9)
    config["status"] = {"replicas": 2, "readyReplicas": 1}
    code, obj = api.apply(dep_path(ns) + "/status", config, manager="controller")
    assert code == 200, obj
    assert obj["status"]["readyReplicas"] == 1 and obj["spec"]["replicas"] == 2
    status_entry = entry(obj, "controller")
    assert status_entry["subresource"] == "status"
    assert status_entry["fieldsV1"] == {"f:status": {"f:readyReplicas": {}, "f:replicas": {}}}
    # ... and status in a main-resource apply is ignored, not owned.
    code, main = api.apply(dep_path(ns), {**deployment(), "status": {"replicas": 7}})
    assert code == 200 and main["status"]["replicas"] == 2
    assert "f:status" not in entry(main, "test")["fieldsV1"]
    # Apply to the status of a missing object: 404 (no create through a subresource).
    code, status = api.apply(dep_path(ns, "nothere") + "/status", deployment("nothere"), manager="controller")
    assert code == 404 and status["reason"] == "NotFound"


def test_dry_run_writes_nothing(api: Api, ns: str) -> None:
    """[REF] §4.9: ``dryRun=All`` answers what would happen and persists nothing."""
    code, obj = api.apply(dep_path(ns), deployment(), dryRun="All")
    assert code == 201 and obj["metadata"]["managedFields"]
    assert api.call("GET", dep_path(ns))[0] == 404
    assert api.apply(dep_path(ns), deployment())[0] == 201
    code, obj = api.apply(dep_path(ns), deployment(replicas=7), dryRun="All")
    assert code == 200 and obj["spec"]["replicas"] == 7
    assert api.call("GET", dep_path(ns))[1]["spec"]["replicas"] == 2


def test_apply_request_errors(api: Api, ns: str) -> None:
    """[PATCH] / [MF] structuredmerge.go, versioncheck.go: the errors of a bad apply request."""
    code, status = api.apply(dep_path(ns), deployment(), manager=None)
    assert code == 422
    assert status["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
                                 "for apply patch")
    assert status["details"] == {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
        {"reason": "FieldValueRequired", "message": "Required value: is required for apply patch",
         "field": "fieldManager"}]}
    code, status = api.apply(dep_path(ns, "other"), deployment())
    assert code == 400
    assert status["message"] == "the name of the object (web) does not match the name on the URL (other)"
    code, status = api.apply(dep_path(ns), {**deployment(), "apiVersion": "apps/v1beta1"})
    assert code == 400 and status["message"] == "invalid object type: apps/v1beta1, Kind=Deployment"
    code, status = api.apply(dep_path(ns), {"metadata": {"name": "web"}})
    assert code == 400 and status["message"] == "invalid object type: /, Kind="
    with_fields = deployment()
    with_fields["metadata"]["managedFields"] = []
    code, status = api.apply(dep_path(ns), with_fields)
    assert code == 400 and status["message"] == "metadata.managedFields must be nil"
    code, status = api.apply(dep_path(ns), b"- a\n- b\n")
    assert code == 400 and status["message"].startswith("error decoding YAML: ")
    code, status = api.apply(dep_path(ns), b"apiVersion: v1\nkind: ConfigMap\nkind: ConfigMap\n",
                             fieldValidation="Strict")
    assert code == 400
    assert status["message"] == ("error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal "
                                 'errors:\n  line 3: key "kind" already set in map')
    unknown = deployment()
    unknown["spec"]["foo"] = 1
    code, status = api.apply(dep_path(ns), unknown)
    assert code == 500  # as kube-apiserver 1.37 answers (kubernetes/kubernetes#139253)
    assert status["message"] == ("failed to create typed patch object (/web; apps/v1, Kind=Deployment): "
                                 ".spec.foo: field not declared in schema")
    duplicate = deployment(containers=[{"name": "a", "image": "x"}, {"name": "a", "image": "y"}])
    code, status = api.apply(dep_path(ns), duplicate)
    assert code == 500
    assert status["message"].endswith('.spec.template.spec.containers: duplicate entries for key [name="a"]')
    code, status = api.call("PATCH", dep_path(ns) + "?force=true", {"spec": {}}, MERGE)
    assert code == 422 and status["message"] == ('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not '
                                                 "be specified for non-apply patch")
    code, status = api.call("PATCH", dep_path(ns), {}, "application/json")
    assert code == 415
    assert status["message"] == ("the body of the request was in an unknown format - accepted media types include: "
                                 "application/json-patch+json, application/merge-patch+json, "
                                 "application/strategic-merge-patch+json, application/apply-patch+yaml")
    assert api.call("GET", dep_path(ns))[0] == 404  # none of these created anything


def test_apply_accepts_json_and_sets(api: Api, ns: str) -> None:
    """[PATCH] the body may be JSON; [SMD] a set (``finalizers``) is owned item by item (``v:``)."""
    path = f"/api/v1/namespaces/{ns}/configmaps/s"
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "s", "finalizers": ["example.com/a"]}}
    code, obj = api.apply(path, json.dumps(body).encode())
    assert code == 201, obj
    assert entry(obj, "test")["fieldsV1"] == {"f:metadata": {"f:finalizers": {'v:"example.com/a"': {}}}}
    body["metadata"]["finalizers"] = ["example.com/b"]
    code, obj = api.apply(path, json.dumps(body).encode(), manager="second")
    assert code == 200 and obj["metadata"]["finalizers"] == ["example.com/a", "example.com/b"]
    body["metadata"]["finalizers"] = []
    code, obj = api.apply(path, json.dumps(body).encode())
    assert code == 200 and obj["metadata"]["finalizers"] == ["example.com/b"]


def test_lightkube_apply(cluster: Cluster, ns: str) -> None:
    """lightkube ``Client.apply`` (apply-patch with ``fieldManager`` and ``force``)."""
    import lightkube
    from lightkube.core.exceptions import ApiError
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import ConfigMap

    client = lightkube.Client(config=lightkube.KubeConfig.from_file(cluster.kubeconfig))
    try:
        cm = ConfigMap(metadata=ObjectMeta(name="lk", namespace=ns), data={"a": "1"})
        created = client.apply(cm, field_manager="lightkube")
        assert created.data == {"a": "1"}
        assert created.metadata is not None
        assert [(e.manager, e.operation) for e in created.metadata.managedFields or []] == [("lightkube", "Apply")]
        again = client.apply(ConfigMap(metadata=ObjectMeta(name="lk", namespace=ns), data={"b": "2"}),
                             field_manager="lightkube")
        assert again.data == {"b": "2"}  # "a" was lightkube's and left the configuration
        with pytest.raises(ApiError) as caught:
            client.apply(ConfigMap(metadata=ObjectMeta(name="lk", namespace=ns), data={"b": "3"}),
                         field_manager="other")
        assert caught.value.status.code == 409
        assert caught.value.status.message == 'Apply failed with 1 conflict: conflict with "lightkube": .data.b'
        forced = client.apply(ConfigMap(metadata=ObjectMeta(name="lk", namespace=ns), data={"b": "3"}),
                              field_manager="other", force=True)
        assert forced.data == {"b": "3"}
    finally:
        client.close()
