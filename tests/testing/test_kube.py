"""The ``kube`` handle against the in-process embedded server: tracked writes, watch-based waits,
cleanup that waits, isolation helpers, and the text of their failures."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from kubernetes import client
from kubernetes.dynamic.exceptions import NotFoundError

from kubeproof import Cluster
from kubeproof.testing import (
    TEST_LABEL_KEY,
    CleanupError,
    EmbeddedOnly,
    Kube,
    KubeError,
    Ref,
    WaitTimeout,
    require,
    unique_name,
    wait_for,
    wait_for_condition,
    wait_for_jsonpath,
    wait_gone,
)
from kubeproof.testing.kube import Connection

HOLD = "kubeproof.dev/hold"


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def release(kube: Kube, obj: dict[str, Any]) -> None:
    """Drop the test finalizer, so the object can go."""
    kube.patch(obj, {"metadata": {"finalizers": None}})


# -- create / apply / get / delete -------------------------------------------------------------------------


def test_create_labels_and_places_objects_in_the_test_namespace(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("settings", mode="fast"))
    assert created["metadata"]["namespace"] == namespace
    assert created["metadata"]["labels"] == kube.test_label
    assert kube.test_label == {TEST_LABEL_KEY: kube.test_id}
    assert Ref.of(created) in kube.tracked
    assert kube.get("ConfigMap", "settings")["data"] == {"mode": "fast"}
    assert kube.get(created)["metadata"]["uid"] == created["metadata"]["uid"]
    assert [o["metadata"]["name"] for o in kube.list("configmaps", label_selector=kube.label_selector)] == [
        "settings"
    ]


def test_create_takes_yaml_and_keeps_existing_labels(kube: Kube, namespace: str) -> None:
    created = kube.create("""
apiVersion: v1
kind: ConfigMap
metadata:
  name: from-yaml
  labels: {team: a}
data: {k: v}
""")
    assert created["metadata"]["labels"] == {"team": "a", **kube.test_label}


def test_a_namespaced_object_needs_a_namespace(kube: Kube) -> None:
    with pytest.raises(KubeError, match="is namespaced: give it a namespace"):
        kube.create(configmap("nowhere"))


def test_apply_creates_then_updates(kube: Kube, namespace: str) -> None:
    first = kube.apply(configmap("app", color="blue"))
    second = kube.apply(configmap("app", color="green"))
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    assert second["data"] == {"color": "green"}
    assert kube.tracked.count(Ref.of(second)) == 1


def test_apply_is_server_side_apply_as_the_kubeproof_field_manager(kube: Kube, namespace: str) -> None:
    first = kube.apply(configmap("ssa", a="1", b="2"))
    managers = {(m["manager"], m["operation"]) for m in first["metadata"]["managedFields"]}
    assert managers == {("kubeproof", "Apply")}
    # a field the manifest no longer has is removed, as `kubectl apply --server-side` does (a merge
    # patch would have kept it)
    second = kube.apply(configmap("ssa", a="1"))
    assert second["data"] == {"a": "1"}


def test_apply_takes_over_fields_of_other_managers_unless_told_not_to(kube: Kube, namespace: str) -> None:
    from kubernetes.dynamic.exceptions import ConflictError

    kube.apply(configmap("shared", owner="kubeproof"))
    kube.dynamic.server_side_apply(kube.connection.resource("ConfigMap"), body=configmap("shared", owner="other"),
                                   namespace=namespace, field_manager="someone-else", force_conflicts=True)
    with pytest.raises(ConflictError) as info:
        kube.apply(configmap("shared", owner="kubeproof"), force=False)
    status = json.loads(info.value.body)
    assert status["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "someone-else"', "field": ".data.owner"}
    ]
    taken = kube.apply(configmap("shared", owner="kubeproof"))  # force: the test's manifest is the truth
    assert taken["data"] == {"owner": "kubeproof"}
    assert kube.apply(configmap("shared", owner="mine"), field_manager="someone-else")["data"] == {"owner": "mine"}


def test_apply_all_takes_several_documents(kube: Kube, namespace: str) -> None:
    applied = kube.apply_all("""
apiVersion: v1
kind: ConfigMap
metadata: {name: one}
---
apiVersion: v1
kind: Secret
metadata: {name: two}
stringData: {password: x}
""")
    assert [(o["kind"], o["metadata"]["name"]) for o in applied] == [("ConfigMap", "one"), ("Secret", "two")]
    with pytest.raises(KubeError, match="expected one YAML document, got 2"):
        kube.apply("kind: A\n---\nkind: B\n")


def test_apply_refuses_an_object_that_is_being_deleted(kube: Kube, namespace: str) -> None:
    held = kube.create({**configmap("reused"), "metadata": {"name": "reused", "finalizers": [HOLD]}})
    kube.delete(held, wait=False)
    with pytest.raises(KubeError) as info:
        kube.apply(configmap("reused"))
    message = str(info.value)
    assert f"ConfigMap {namespace}/reused exists and is being deleted" in message
    assert f"finalizers=['{HOLD}']" in message
    release(kube, held)
    kube.wait_gone(held)


def test_get_missing_raises_and_try_get_returns_none(kube: Kube, namespace: str) -> None:
    with pytest.raises(NotFoundError):
        kube.get("ConfigMap", "missing")
    assert kube.try_get("configmaps", "missing") is None
    assert kube.try_get("cm", "missing") is None
    assert not kube.exists("ConfigMap", "missing")
    with pytest.raises(KubeError, match="does not serve Gadget"):
        kube.get("Gadget", "x")


def test_delete_waits_until_the_object_is_gone(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("short-lived"))
    kube.delete(created)
    kube.assert_absent("ConfigMap", "short-lived")
    kube.delete(created)  # deleting what is gone is fine


def test_assert_absent_says_what_holds_the_object(kube: Kube, namespace: str) -> None:
    kube.assert_absent(configmap("never-made"))
    held = kube.create({**configmap("held"), "metadata": {"name": "held", "finalizers": [HOLD]}})
    with pytest.raises(AssertionError) as info:
        kube.assert_absent("ConfigMap", "held")
    assert f"expected ConfigMap {namespace}/held to be absent, but it exists" in str(info.value)
    assert "nothing has deleted it yet" in str(info.value)
    kube.delete(held, wait=False)
    with pytest.raises(AssertionError, match=rf"deletionTimestamp=.*finalizers=\['{HOLD}'\]"):
        kube.assert_absent(held)
    release(kube, held)


def test_cluster_scoped_objects_ignore_the_namespace(kube: Kube, namespace: str) -> None:
    name = unique_name("ns")
    created = kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert "namespace" not in created["metadata"]
    assert kube.get("Namespace", name)["metadata"]["name"] == name


# -- watch-based waits ---------------------------------------------------------------------------------


def test_wait_for_sees_a_state_that_has_already_passed(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("steps", step="0"))
    kube.patch(created, {"data": {"step": "1"}})
    kube.patch(created, {"data": {"step": "2"}})
    # The watch starts at the resourceVersion of `created`, so step 1 is seen although it is gone now.
    seen = wait_for(kube, created, lambda cm: cm["data"]["step"] == "1", timeout=5)
    assert seen["data"]["step"] == "1"
    assert kube.get(created)["data"]["step"] == "2"


def test_wait_for_follows_changes_made_while_it_waits(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("counter", n="0"))

    def bump() -> None:
        for n in range(1, 6):
            kube.patch(created, {"data": {"n": str(n)}})

    writer = threading.Thread(target=bump, name="writer")
    writer.start()
    seen = kube.wait_for(created, lambda cm: cm["data"]["n"] == "5", timeout=10)
    writer.join()
    assert seen["data"]["n"] == "5"


def test_wait_for_lists_again_when_its_resource_version_was_compacted(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("old", k="1"))
    kube.patch(created, {"data": {"k": "2"}})
    require(kube.connection.cluster is not None, "compacting the store needs the in-process embedded cluster")
    kube.embedded().store.compact()  # the watch from created's resourceVersion now gets 410 Expired
    assert kube.wait_for(created, lambda cm: cm["data"]["k"] == "2", timeout=5)["data"]["k"] == "2"
    assert any(o.what == "LIST" for o in kube.log.entries())


def test_wait_for_a_ref_starts_from_the_current_state(kube: Kube, namespace: str) -> None:
    kube.create(configmap("by-ref", k="v"))
    ref = Ref("v1", "ConfigMap", "by-ref", namespace)
    assert kube.wait_for(ref, lambda cm: cm["data"]["k"] == "v", timeout=5)["metadata"]["name"] == "by-ref"


def test_wait_for_timeout_says_what_it_saw(kube: Kube, namespace: str) -> None:
    created = kube.create(configmap("stuck", phase="Pending"))

    def phase_is_running(cm: dict[str, Any]) -> bool:
        assert cm["data"]["phase"] == "Running", f"phase is {cm['data']['phase']}"
        return True

    with pytest.raises(WaitTimeout) as info:
        kube.wait_for(created, phase_is_running, timeout=0.3)
    message = str(info.value)
    assert message.startswith(
        f"wait_for(phase_is_running): timed out after 0.3s waiting for ConfigMap {namespace}/stuck"
    )
    assert "states seen: 1" in message
    assert "condition said: phase is Pending" in message
    assert info.value.elapsed >= 0.3


def test_wait_gone_reports_what_holds_the_object(kube: Kube, namespace: str) -> None:
    held = kube.create({**configmap("finalized"), "metadata": {"name": "finalized", "finalizers": [HOLD]}})
    kube.delete(held, wait=False)
    with pytest.raises(WaitTimeout) as info:
        wait_gone(kube, held, timeout=0.3)
    message = str(info.value)
    assert message.startswith(f"wait_gone: timed out after 0.3s waiting for ConfigMap {namespace}/finalized")
    assert "still exists:" in message
    assert "deletionTimestamp=" in message and "deletionGracePeriodSeconds=0" in message
    assert f"finalizers=['{HOLD}'] (each must be removed by whoever added it)" in message
    release(kube, held)
    kube.wait_gone(held, timeout=5)


def test_wait_gone_reports_owner_references(kube: Kube, namespace: str) -> None:
    owner = kube.create(configmap("owner"))
    owned = kube.create({**configmap("owned"), "metadata": {
        "name": "owned",
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                             "uid": owner["metadata"]["uid"], "blockOwnerDeletion": True}],
    }})
    with pytest.raises(WaitTimeout) as info:
        kube.wait_gone(owned, timeout=0.2)
    assert "nothing has deleted it yet" in str(info.value)
    assert f"ownerReference ConfigMap/owner uid={owner['metadata']['uid']} blockOwnerDeletion" in str(info.value)


def test_wait_gone_counts_a_new_object_with_the_same_name_as_gone(kube: Kube, namespace: str) -> None:
    first = kube.create(configmap("phoenix"))
    kube.delete(first, wait=False)
    kube.create(configmap("phoenix"))
    kube.wait_gone(first, timeout=5)  # the uid it watches for has gone, whatever holds the name now


def widget_kind(kube: Kube) -> str:
    """A custom resource kind of this test's own (a unique group, a status subresource) that no controller
    reconciles, so only the test writes its status; returns its apiVersion."""
    group = f"{unique_name('g')}.example.com"
    crd = kube.create({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]},
    })
    kube.wait_for_condition(crd, "Established", timeout=10)
    return f"{group}/v1"


def test_wait_for_condition_honours_observed_generation(kube: Kube, namespace: str) -> None:
    api_version = widget_kind(kube)
    created = kube.create({"apiVersion": api_version, "kind": "Widget", "metadata": {"name": "web"},
                           "spec": {"size": 1}})
    status = kube.connection.resource("Widget", api_version).status

    def report(ready: str, generation: int) -> None:
        kube.dynamic.patch(status, name="web", namespace=namespace, content_type="application/merge-patch+json",
                           body={"status": {"observedGeneration": generation,
                                            "conditions": [{"type": "Available", "status": ready}]}})

    report("True", 1)
    assert wait_for_condition(kube, created, "Available", timeout=5)["status"]["observedGeneration"] == 1
    bumped = kube.patch(created, {"spec": {"size": 2}})
    assert bumped["metadata"]["generation"] == 2
    with pytest.raises(WaitTimeout) as info:  # Available is from generation 1: stale for the new spec
        kube.wait_for_condition(bumped, "Available", timeout=0.3)
    assert "Available is from generation 1, the object is at 2" in str(info.value)
    report("True", 2)
    assert kube.wait_for_condition(bumped, "Available", timeout=5)["status"]["observedGeneration"] == 2
    report("False", 2)
    assert kube.wait_for_condition(bumped, "Available", "False", timeout=5)


def test_wait_for_jsonpath(kube: Kube, namespace: str) -> None:
    api_version = widget_kind(kube)  # only the test writes its status: no kubelet races it
    widget = kube.create({"apiVersion": api_version, "kind": "Widget", "metadata": {"name": "w"}})
    kube.dynamic.patch(kube.connection.resource("Widget", api_version).status, name="w", namespace=namespace,
                       content_type="application/merge-patch+json", body={"status": {"phase": "Running"}})
    running = wait_for_jsonpath(kube, widget, "{.status.phase}", "Running", timeout=30)
    assert running["status"]["phase"] == "Running"
    with pytest.raises(WaitTimeout) as info:  # from the Running state on: nothing changes any more
        kube.wait_for_jsonpath(running, "{.status.phase}", "Succeeded", timeout=0.2)
    assert "{.status.phase} == 'Succeeded'" in str(info.value)
    assert "{.status.phase} is ['Running'], want 'Succeeded'" in str(info.value)


# -- cleanup ------------------------------------------------------------------------------------------


def test_cleanup_deletes_newest_first_and_waits(kube: Kube, namespace: str) -> None:
    with Kube(kube.connection, namespace=namespace) as inner:
        names = ["first", "second", "third"]
        for name in names:
            inner.create(configmap(name))
        report = inner.cleanup()
    assert report.ok
    assert [r.name for r in report.gone] == ["third", "second", "first"]
    # each delete was sent only once the previous object was gone
    steps = [(o.what, o.ref.name) for o in inner.log.entries() if o.what in ("DELETE", "GONE")]
    assert steps == [(what, name) for name in ["third", "second", "first"] for what in ("DELETE", "GONE")]
    if kube.connection.cluster is not None:  # and the server saw them go in that order
        deleted = [e.name for e in kube.embedded().timeline.entries(resource="configmaps", namespace=namespace)
                   if e.type == "DELETED"]
        assert deleted == ["third", "second", "first"]
    for name in names:
        kube.assert_absent("ConfigMap", name)


def test_cleanup_reports_what_is_stuck_and_why(kube: Kube, namespace: str) -> None:
    inner = Kube(kube.connection, namespace=namespace, cleanup_timeout=0.3)
    held = inner.create({**configmap("stuck"), "metadata": {"name": "stuck", "finalizers": [HOLD]}})
    inner.create(configmap("free"))
    report = inner.cleanup()
    assert not report.ok
    text = report.describe()
    assert text.startswith("cleanup: 1 object(s) still there after")
    assert f"ConfigMap {namespace}/stuck (uid {held['metadata']['uid']})" in text
    assert f"finalizers=['{HOLD}']" in text
    assert [r.name for r in report.gone] == ["free"]
    release(kube, held)
    kube.wait_gone(held)


def test_the_library_handle_raises_when_cleanup_is_stuck(kube: Kube, namespace: str) -> None:
    inner = Kube(kube.connection, namespace=namespace, cleanup_timeout=0.2)
    held = inner.create({**configmap("stuck"), "metadata": {"name": "stuck", "finalizers": [HOLD]}})
    with pytest.raises(CleanupError, match="finalizers="):
        inner.__exit__(None, None, None)  # what leaving `with Kube(...) as inner:` does
    release(kube, held)
    kube.wait_gone(held)


def test_deleting_a_namespace_removes_its_content(kube: Kube) -> None:
    ns = kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": unique_name("gone")}})
    name = ns["metadata"]["name"]
    cm = kube.create(configmap("inside"), namespace=name, track=False)
    kube.delete(ns, timeout=10)
    kube.assert_absent(cm)
    kube.assert_absent("Namespace", name)


def test_labelled_leftovers_finds_objects_made_outside_the_tracker(kube: Kube, namespace: str) -> None:
    core = client.CoreV1Api(kube.api_client)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="untracked", labels=kube.test_label))
    core.create_namespaced_config_map(namespace, body)
    found = {(r.kind, r.name) for r in kube.labelled_leftovers()}
    assert ("ConfigMap", "untracked") in found
    assert ("Namespace", namespace) in found


# -- clusters, backends, clients -------------------------------------------------------------------------


def test_kube_clusters_are_separate(kube_clusters: Any) -> None:
    east, west = kube_clusters(2)
    assert east.connection.kubeconfig != west.connection.kubeconfig
    ns = unique_name("shared")
    for side in (east, west):
        side.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    east.create(configmap("only-east"), namespace=ns)
    assert east.exists("ConfigMap", "only-east", namespace=ns)
    west.assert_absent("ConfigMap", "only-east", namespace=ns)


@pytest.mark.kube_fresh_cluster
def test_a_fresh_cluster_is_empty_and_private(kube: Kube, kube_backend: Any) -> None:
    assert kube.connection is not kube_backend.connection
    assert kube.connection.kubeconfig != kube_backend.connection.kubeconfig
    names = {ns["metadata"]["name"] for ns in kube.list("namespaces")}
    assert names == {"default", "kube-system", "kube-public", "kube-node-lease"}


def test_embedded_powers_are_refused_elsewhere_with_a_clear_error(kube: Kube, kube_backend: Any) -> None:
    assert kube.is_embedded is (kube_backend.name != "kubeconfig")
    other = Kube(Connection(kube.connection.kubeconfig))
    try:
        assert not other.is_embedded
        with pytest.raises(EmbeddedOnly, match="needs the in-process embedded cluster"):
            other.embedded()
    finally:
        other.connection.close()


def test_has_resource_and_require(kube: Kube) -> None:
    assert kube.has_resource("apps/v1", "Deployment")
    assert not kube.has_resource("example.com/v1", "Gadget")
    require(kube.has_resource("v1", "ConfigMap"), "needs ConfigMaps")  # does nothing
    with pytest.raises(pytest.skip.Exception, match="needs Gadgets"):
        require(kube.has_resource("example.com/v1", "Gadget"), "needs Gadgets")


async def test_async_client(kube: Kube, namespace: str) -> None:
    from kubernetes_asyncio import client as aclient

    kube.create(configmap("seen-async"))
    async with kube.async_client() as api:
        # the test's label: the namespace also gets kube-root-ca.crt, whenever its controller gets to it
        listed = await aclient.CoreV1Api(api).list_namespaced_config_map(namespace,
                                                                          label_selector=kube.label_selector)
    assert [cm.metadata.name for cm in listed.items] == ["seen-async"]
    api = await kube.async_client()
    try:
        assert (await aclient.CoreV1Api(api).read_namespace(namespace)).metadata.name == namespace
    finally:
        await api.close()


def test_kubectl(kube: Kube, namespace: str) -> None:
    import shutil

    require(shutil.which("kubectl"), "kubectl is not installed (scripts/setup.sh installs it)")
    kube.create(configmap("via-kubectl"))
    out = kube.kubectl("get", "configmaps", "-n", namespace, "-l", kube.label_selector, "-o", "name").stdout
    assert out.split() == ["configmap/via-kubectl"]
    with pytest.raises(KubeError, match="exited 1"):
        kube.kubectl("get", "configmap", "missing", "-n", namespace)


def test_the_library_works_without_pytest_fixtures() -> None:
    with Cluster() as cluster:
        with Kube.from_cluster(cluster) as kube:
            ns = kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": unique_name("lib")}})
            kube.namespace = ns["metadata"]["name"]
            kube.create(configmap("x"))
        # leaving the block deleted the configmap, then the namespace, and waited until both were gone
        # (the namespace's other content, made and removed by controllers, is not the handle's)
        ours = {"x", kube.namespace}
        deleted = [(e.resource, e.name) for e in cluster.timeline.entries()
                   if e.type == "DELETED" and e.name in ours]
        assert deleted == [("configmaps", "x"), ("namespaces", kube.namespace)]
