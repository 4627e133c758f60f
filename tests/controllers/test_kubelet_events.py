"""The shared event recorder (controllers/events.py): client-go's Event shape and its aggregation."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from kubeproof import Cluster
from kubeproof.controllers.events import NORMAL, WARNING, record_event

from ._kubelet_support import unique


def test_repeated_event_bumps_count_and_last_timestamp(cluster: Cluster, k8s_api_client: Any,
                                                       namespace: str) -> None:
    core = client.CoreV1Api(k8s_api_client)
    cm = core.create_namespaced_config_map(namespace, {"metadata": {"name": unique("cm")}})
    stored = cluster.store.get("configmaps", namespace, cm.metadata.name)
    assert stored is not None
    first = record_event(cluster.registry, stored, WARNING, "Probing", "it hurts", "test-controller")
    second = record_event(cluster.registry, stored, WARNING, "Probing", "it hurts", "test-controller")
    other = record_event(cluster.registry, stored, NORMAL, "Probing", "better now", "test-controller")
    assert first is not None and second is not None and other is not None
    assert second["metadata"]["name"] == first["metadata"]["name"] != other["metadata"]["name"]

    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.uid={cm.metadata.uid}").items
    by_message = {e.message: e for e in events}
    assert set(by_message) == {"it hurts", "better now"}
    hurt = by_message["it hurts"]
    assert hurt.count == 2 and hurt.type == "Warning" and hurt.reason == "Probing"
    assert hurt.metadata.name.startswith(f"{cm.metadata.name}.")
    assert hurt.involved_object.kind == "ConfigMap" and hurt.involved_object.api_version == "v1"
    assert hurt.involved_object.namespace == namespace and hurt.involved_object.name == cm.metadata.name
    assert hurt.source.component == "test-controller" and hurt.reporting_component == "test-controller"
    assert hurt.first_timestamp is not None and hurt.last_timestamp >= hurt.first_timestamp


def test_cluster_scoped_object_events_go_to_default(cluster: Cluster, k8s_api_client: Any) -> None:
    node = cluster.store.get("nodes", "", "kubeproof-node-1")
    assert node is not None
    reason = unique("Checked")
    event = record_event(cluster.registry, node, NORMAL, reason, "looked at it", "test-controller")
    assert event is not None and event["metadata"]["namespace"] == "default"
    assert "namespace" not in event["involvedObject"]
    core = client.CoreV1Api(k8s_api_client)
    found = core.list_namespaced_event("default", field_selector=f"reason={reason}").items
    assert [e.involved_object.name for e in found] == ["kubeproof-node-1"]
