"""The official ``kubernetes`` client (sync), typed APIs: create, get, list, watch, update, patch, delete."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from ._support import unique_name

pytestmark = pytest.mark.timeout(10)


def test_version_and_discovery(k8s_api_client: Any) -> None:
    info = client.VersionApi(k8s_api_client).get_code()
    assert info.major == "1"
    assert info.git_version.startswith("v1.")
    groups = {g.name for g in client.ApisApi(k8s_api_client).get_api_versions().groups}
    assert {"apps", "batch", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
            "rbac.authorization.k8s.io", "policy"} <= groups
    core_resources = {r.name for r in client.CoreV1Api(k8s_api_client).get_api_resources().resources}
    assert {"pods", "pods/status", "configmaps", "namespaces", "nodes"} <= core_resources


def test_configmap_create_get_list_watch_delete(k8s_api_client: Any, namespace: str) -> None:
    core = client.CoreV1Api(k8s_api_client)
    created = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings", labels={"app": "x"}),
                                      data={"mode": "fast"})
    )
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    start = created.metadata.resource_version

    got = core.read_namespaced_config_map("settings", namespace)
    assert got.data == {"mode": "fast"}
    assert got.metadata.namespace == namespace

    listed = core.list_namespaced_config_map(namespace, label_selector="app=x")
    assert [i.metadata.name for i in listed.items] == ["settings"]
    everywhere = core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={namespace}")
    # (with the namespace's own kube-root-ca.crt)
    assert [i.metadata.name for i in everywhere.items] == ["kube-root-ca.crt", "settings"]

    got.data["mode"] = "slow"
    replaced = core.replace_namespaced_config_map("settings", namespace, got)
    assert replaced.data == {"mode": "slow"}

    patched = core.patch_namespaced_config_map("settings", namespace, {"data": {"extra": "1"}})
    assert patched.data == {"mode": "slow", "extra": "1"}

    status = core.delete_namespaced_config_map("settings", namespace)
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "settings", "kind": "configmaps", "uid": created.metadata.uid},
    }

    events = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=start,
                          timeout_seconds=5, _request_timeout=8):
        events.append((event["type"], event["object"].data))
        if event["type"] == "DELETED":
            w.stop()
    assert events == [
        ("MODIFIED", {"mode": "slow"}),
        ("MODIFIED", {"mode": "slow", "extra": "1"}),
        ("DELETED", {"mode": "slow", "extra": "1"}),
    ]
    with pytest.raises(ApiException) as info:
        core.read_namespaced_config_map("settings", namespace)
    assert info.value.status == 404


def test_secret_data_round_trips(k8s_api_client: Any, namespace: str) -> None:
    core = client.CoreV1Api(k8s_api_client)
    encoded = base64.b64encode(b"s3cr3t").decode()
    core.create_namespaced_secret(namespace, {"metadata": {"name": "creds"}, "data": {"password": encoded}})
    secret = core.read_namespaced_secret("creds", namespace)
    assert secret.type == "Opaque"
    assert base64.b64decode(secret.data["password"]) == b"s3cr3t"
    listed = core.list_namespaced_secret(namespace, field_selector="type=Opaque")
    assert [s.metadata.name for s in listed.items] == ["creds"]


def test_deployment_generation_and_status_subresource(k8s_api_client: Any, namespace: str) -> None:
    apps = client.AppsV1Api(k8s_api_client)
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
        },
    }
    created = apps.create_namespaced_deployment(namespace, body)
    assert created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate"  # defaulted by the server

    scaled = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3}})
    assert scaled.spec.replicas == 3
    assert scaled.metadata.generation == 2
    labelled = apps.patch_namespaced_deployment("web", namespace, {"metadata": {"labels": {"tier": "front"}}})
    assert labelled.metadata.generation == 2  # metadata changes do not bump the generation

    # status goes through /status only; the main endpoint ignores it
    apps.patch_namespaced_deployment_status("web", namespace, {"status": {"observedGeneration": 2, "replicas": 3}})
    ignored = apps.patch_namespaced_deployment("web", namespace, {"status": {"replicas": 99}})
    assert ignored.status.replicas == 3
    assert ignored.status.observed_generation == 2

    listed = apps.list_namespaced_deployment(namespace)
    assert [d.metadata.name for d in listed.items] == ["web"]
    apps.delete_namespaced_deployment("web", namespace)
    with pytest.raises(ApiException) as info:
        apps.read_namespaced_deployment("web", namespace)
    assert info.value.status == 404


def test_pod_delete_returns_the_object(k8s_api_client: Any, namespace: str) -> None:
    core = client.CoreV1Api(k8s_api_client)
    pod = core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    )
    assert pod.status.phase == "Pending"
    assert pod.spec.containers[0].image_pull_policy == "Always"
    response = core.delete_namespaced_pod("p", namespace, _preload_content=False)
    assert response.status == 200
    deleted = json.loads(response.data)
    assert deleted["kind"] == "Pod"
    assert deleted["metadata"]["uid"] == pod.metadata.uid
    with pytest.raises(ApiException) as info:
        core.read_namespaced_pod("p", namespace)
    assert info.value.status == 404


def test_cluster_scoped_rbac_and_nodes(k8s_api_client: Any) -> None:
    rbac = client.RbacAuthorizationV1Api(k8s_api_client)
    core = client.CoreV1Api(k8s_api_client)
    role_name, node_name = unique_name("role"), unique_name("node")
    rbac.create_cluster_role({
        "metadata": {"name": role_name},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
    })
    role = rbac.read_cluster_role(role_name)
    assert role.rules[0].verbs == ["get", "list", "watch"]
    assert role.metadata.namespace is None
    rbac.delete_cluster_role(role_name)
    with pytest.raises(ApiException) as info:
        rbac.read_cluster_role(role_name)
    assert info.value.status == 404

    core.create_node({"metadata": {"name": node_name, "labels": {"zone": "a"}}})
    unschedulable = core.patch_node(node_name, {"spec": {"unschedulable": True}})
    assert unschedulable.spec.unschedulable is True
    nodes = core.list_node(field_selector="spec.unschedulable=true", label_selector="zone=a")
    assert node_name in [n.metadata.name for n in nodes.items]
    core.delete_node(node_name)
    with pytest.raises(ApiException) as info:
        core.read_node(node_name)
    assert info.value.status == 404


def test_delete_collection_dry_run_and_generate_name(k8s_api_client: Any, namespace: str) -> None:
    core = client.CoreV1Api(k8s_api_client)
    for name, group in (("a", "x"), ("b", "x"), ("c", "y")):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name, "labels": {"group": group}}})
    response = core.delete_collection_namespaced_config_map(namespace, label_selector="group=x",
                                                            _preload_content=False)
    assert response.status == 200
    deleted = json.loads(response.data)
    assert deleted["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in deleted["items"]] == ["a", "b"]
    assert [i.metadata.name for i in core.list_namespaced_config_map(namespace).items] == ["c", "kube-root-ca.crt"]

    dry = core.create_namespaced_config_map(namespace, {"metadata": {"name": "dry"}}, dry_run="All")
    assert dry.metadata.resource_version is None
    with pytest.raises(ApiException) as info:
        core.read_namespaced_config_map("dry", namespace)
    assert info.value.status == 404

    generated = core.create_namespaced_config_map(namespace, {"metadata": {"generateName": "gen-"}})
    assert generated.metadata.name.startswith("gen-")
    assert len(generated.metadata.name) == len("gen-") + 5
    assert core.read_namespaced_config_map(generated.metadata.name, namespace).metadata.uid == generated.metadata.uid
