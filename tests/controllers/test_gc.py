"""The garbage collector: background, foreground and orphan propagation through ownerReferences.

Owners and dependents are ConfigMaps (any kind works the same way), a custom resource, and a whole
Deployment; deletions go through the official client and through ``kubectl delete --cascade``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.testing import consistently, eventually

from ._workloads import WORKLOAD_CONTROLLERS, configmap, owner_ref, unique


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(controllers=[*WORKLOAD_CONTROLLERS, "crd"]) as c:
        yield c


def _exists(core: client.CoreV1Api, namespace: str, name: str) -> Any:
    try:
        return core.read_namespaced_config_map(name, namespace)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _gone(core: client.CoreV1Api, namespace: str, *names: str) -> None:
    def check() -> None:
        left = [n for n in names if _exists(core, namespace, n) is not None]
        assert not left, f"still there: {left}"

    eventually(check)


def _family(core: client.CoreV1Api, namespace: str, children: int = 2,
            block: bool = False) -> tuple[str, list[str]]:
    owner = core.create_namespaced_config_map(namespace, configmap(unique("owner")))
    names = []
    for _ in range(children):
        dep = core.create_namespaced_config_map(namespace, configmap(unique("dep"), [owner_ref(owner, block=block)]))
        names.append(dep.metadata.name)
    return owner.metadata.name, names


def test_background_deletes_dependents(core: client.CoreV1Api, namespace: str) -> None:
    owner, deps = _family(core, namespace)
    core.delete_namespaced_config_map(owner, namespace, propagation_policy="Background")
    assert _exists(core, namespace, owner) is None  # the owner goes at once
    _gone(core, namespace, *deps)


def test_default_policy_of_configmaps_is_background(core: client.CoreV1Api, namespace: str) -> None:
    owner, deps = _family(core, namespace)
    core.delete_namespaced_config_map(owner, namespace)
    _gone(core, namespace, owner, *deps)


def test_foreground_waits_for_blocking_dependents(core: client.CoreV1Api, namespace: str) -> None:
    owner = core.create_namespaced_config_map(namespace, configmap(unique("owner")))
    held = configmap(unique("held"), [owner_ref(owner, block=True)])
    held["metadata"]["finalizers"] = ["example.com/hold"]
    held_name = core.create_namespaced_config_map(namespace, held).metadata.name
    free_name = core.create_namespaced_config_map(
        namespace, configmap(unique("free"), [owner_ref(owner, block=True)])).metadata.name
    core.delete_namespaced_config_map(owner.metadata.name, namespace, propagation_policy="Foreground")

    def owner_waits() -> None:
        live = _exists(core, namespace, owner.metadata.name)
        assert live is not None and live.metadata.deletion_timestamp is not None
        assert "foregroundDeletion" in (live.metadata.finalizers or [])
        dep = _exists(core, namespace, held_name)
        assert dep is not None and dep.metadata.deletion_timestamp is not None
        assert _exists(core, namespace, free_name) is None

    eventually(owner_waits)
    consistently(lambda: _exists(core, namespace, owner.metadata.name) is not None, duration=0.3)
    core.patch_namespaced_config_map(held_name, namespace, {"metadata": {"finalizers": None}})
    _gone(core, namespace, held_name, owner.metadata.name)


def test_foreground_does_not_wait_for_non_blocking_dependents(core: client.CoreV1Api, namespace: str) -> None:
    owner, deps = _family(core, namespace, block=False)
    core.delete_namespaced_config_map(owner, namespace, propagation_policy="Foreground")
    _gone(core, namespace, owner, *deps)


def test_orphan_keeps_dependents_without_the_reference(core: client.CoreV1Api, namespace: str) -> None:
    owner, deps = _family(core, namespace)
    core.delete_namespaced_config_map(owner, namespace, propagation_policy="Orphan")
    _gone(core, namespace, owner)
    for name in deps:
        dep = _exists(core, namespace, name)
        assert dep is not None and not dep.metadata.owner_references
        assert dep.metadata.deletion_timestamp is None


def test_orphan_dependents_flag(core: client.CoreV1Api, namespace: str) -> None:
    owner, deps = _family(core, namespace, children=1)
    core.delete_namespaced_config_map(owner, namespace, body=client.V1DeleteOptions(orphan_dependents=True))
    _gone(core, namespace, owner)
    dep = _exists(core, namespace, deps[0])
    assert dep is not None and not dep.metadata.owner_references


def test_dangling_owner_reference_is_collected(core: client.CoreV1Api, namespace: str) -> None:
    ghost = {"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": "5d2c7a4e-0000-4000-8000-000000000001"}
    name = core.create_namespaced_config_map(namespace, configmap(unique("dep"), [ghost])).metadata.name
    _gone(core, namespace, name)


def test_owner_with_another_uid_counts_as_gone(core: client.CoreV1Api, namespace: str) -> None:
    owner = core.create_namespaced_config_map(namespace, configmap(unique("owner")))
    ref = owner_ref(owner)
    ref["uid"] = "5d2c7a4e-0000-4000-8000-000000000002"  # same name, not the same object
    name = core.create_namespaced_config_map(namespace, configmap(unique("dep"), [ref])).metadata.name
    _gone(core, namespace, name)
    assert _exists(core, namespace, owner.metadata.name) is not None


def test_dependent_with_a_living_owner_only_loses_the_reference(core: client.CoreV1Api, namespace: str) -> None:
    first = core.create_namespaced_config_map(namespace, configmap(unique("owner")))
    second = core.create_namespaced_config_map(namespace, configmap(unique("owner")))
    name = core.create_namespaced_config_map(
        namespace, configmap(unique("dep"), [owner_ref(first), owner_ref(second)])).metadata.name
    core.delete_namespaced_config_map(first.metadata.name, namespace)

    def only_second() -> None:
        dep = _exists(core, namespace, name)
        assert dep is not None
        assert [r.uid for r in dep.metadata.owner_references or []] == [second.metadata.uid]

    eventually(only_second)
    core.delete_namespaced_config_map(second.metadata.name, namespace)
    _gone(core, namespace, name)


def test_cluster_scoped_owner_of_namespaced_dependent(cluster: Cluster, core: client.CoreV1Api,
                                                      namespace: str) -> None:
    owner_ns = core.create_namespace({"metadata": {"name": unique("owner-ns")}})
    ref = {"apiVersion": "v1", "kind": "Namespace", "name": owner_ns.metadata.name, "uid": owner_ns.metadata.uid}
    name = core.create_namespaced_config_map(namespace, configmap(unique("dep"), [ref])).metadata.name
    consistently(lambda: _exists(core, namespace, name) is not None, duration=0.3)
    core.delete_namespace(owner_ns.metadata.name)
    _gone(core, namespace, name)


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_kubectl_delete_cascade(cluster: Cluster, core: client.CoreV1Api, namespace: str, cascade: str) -> None:
    owner, deps = _family(core, namespace, block=True)
    cluster.kubectl("delete", "configmap", owner, "-n", namespace, f"--cascade={cascade}")
    _gone(core, namespace, owner)
    if cascade == "orphan":
        for name in deps:
            dep = _exists(core, namespace, name)
            assert dep is not None and not dep.metadata.owner_references
    else:
        _gone(core, namespace, *deps)


def test_kubectl_foreground_deletion_waits_for_dependents(cluster: Cluster, core: client.CoreV1Api,
                                                         namespace: str) -> None:
    """``kubectl delete --cascade=foreground`` returns once the owner is gone, after its dependents."""
    owner = core.create_namespaced_config_map(namespace, configmap(unique("owner")))
    deps = [core.create_namespaced_config_map(namespace, configmap(unique("dep"), [owner_ref(owner, block=True)]))
            .metadata.name for _ in range(3)]
    cluster.kubectl("delete", "configmap", owner.metadata.name, "-n", namespace, "--cascade=foreground",
                    "--wait=true", "--timeout=30s")
    assert _exists(core, namespace, owner.metadata.name) is None
    assert all(_exists(core, namespace, n) is None for n in deps)


def test_custom_resource_owner(cluster: Cluster, core: client.CoreV1Api, namespace: str) -> None:
    """Kinds registered after start (a CRD's resource) own dependents and are collected like built-ins."""
    group = f"{unique('g')}.example.com"
    api = cluster.api_client()
    try:
        ext = client.ApiextensionsV1Api(api)
        custom = client.CustomObjectsApi(api)
        ext.create_custom_resource_definition({
            "metadata": {"name": f"widgets.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}]},
        })

        def established() -> bool:
            crd = ext.read_custom_resource_definition(f"widgets.{group}")
            return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

        eventually(established)
        widget = eventually(lambda: custom.create_namespaced_custom_object(
            group, "v1", namespace, "widgets", {"apiVersion": f"{group}/v1", "kind": "Widget",
                                                "metadata": {"name": unique("w")}}),
            retry_on=(client.ApiException,))
        ref = {"apiVersion": f"{group}/v1", "kind": "Widget", "name": widget["metadata"]["name"],
               "uid": widget["metadata"]["uid"], "blockOwnerDeletion": True}
        dep = core.create_namespaced_config_map(namespace, configmap(unique("dep"), [ref])).metadata.name
        # A custom resource as a dependent of a ConfigMap, too.
        cm_owner = core.create_namespaced_config_map(namespace, configmap(unique("owner")))
        child = custom.create_namespaced_custom_object(
            group, "v1", namespace, "widgets",
            {"apiVersion": f"{group}/v1", "kind": "Widget",
             "metadata": {"name": unique("child"), "ownerReferences": [owner_ref(cm_owner)]}})
        consistently(lambda: _exists(core, namespace, dep) is not None, duration=0.3)
        custom.delete_namespaced_custom_object(group, "v1", namespace, "widgets", widget["metadata"]["name"],
                                               propagation_policy="Foreground")
        _gone(core, namespace, dep)
        core.delete_namespaced_config_map(cm_owner.metadata.name, namespace)

        def child_gone() -> None:
            names = [w["metadata"]["name"] for w in
                     custom.list_namespaced_custom_object(group, "v1", namespace, "widgets")["items"]]
            assert child["metadata"]["name"] not in names and widget["metadata"]["name"] not in names

        eventually(child_gone)
        ext.delete_custom_resource_definition(f"widgets.{group}")
    finally:
        api.close()
