"""DaemonSets end to end: one pod per eligible node (nodeSelector, taints), following nodes that come
and go, rolling updates that ``kubectl rollout status`` waits for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._kubelet_support import is_ready
from ._workloads import unique

NODES = [
    {"name": "ssd-1", "labels": {"disk": "ssd"}},
    {"name": "ssd-2", "labels": {"disk": "ssd"}},
    {"name": "hdd-1", "labels": {"disk": "hdd"}},
    {"name": "tainted", "labels": {"disk": "ssd"}, "taints": [{"key": "dedicated", "value": "db",
                                                                "effect": "NoSchedule"}]},
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(nodes=NODES) as c:
        yield c


def _ds(name: str, image: str = "example/agent:1", **pod_spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "agent", "image": image}], **pod_spec}}}}


def _placement(core: client.CoreV1Api, namespace: str, name: str) -> dict[str, str]:
    return {p.spec.node_name or "": p.spec.containers[0].image
            for p in core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
            if not p.metadata.deletion_timestamp}


def test_one_pod_per_untainted_node(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("agent")
    apps.create_namespaced_daemon_set(namespace, _ds(name))
    cluster.kubectl("rollout", "status", f"daemonset/{name}", "-n", namespace, "--timeout=60s")
    assert sorted(_placement(core, namespace, name)) == ["hdd-1", "ssd-1", "ssd-2"]
    st = apps.read_namespaced_daemon_set(name, namespace).status
    assert (st.desired_number_scheduled, st.current_number_scheduled, st.number_ready, st.number_available,
            st.updated_number_scheduled, st.number_misscheduled) == (3, 3, 3, 3, 3, 0)
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
    tolerated = {t.key for t in pods[0].spec.tolerations}
    assert {"node.kubernetes.io/not-ready", "node.kubernetes.io/unschedulable"} <= tolerated
    assert pods[0].metadata.owner_references[0].kind == "DaemonSet"


def test_node_selector_and_tolerations(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("agent")
    apps.create_namespaced_daemon_set(namespace, _ds(
        name, nodeSelector={"disk": "ssd"},
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}]))
    cluster.kubectl("rollout", "status", f"daemonset/{name}", "-n", namespace, "--timeout=60s")
    assert sorted(_placement(core, namespace, name)) == ["ssd-1", "ssd-2", "tainted"]


def test_rolling_update_and_new_nodes(cluster: Cluster, api: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("agent")
    apps.create_namespaced_daemon_set(namespace, _ds(name, nodeSelector={"pool": name}))
    node_names = [unique("node") for _ in range(2)]
    for node in node_names:
        core.create_node({"metadata": {"name": node, "labels": {"pool": name}}})
    try:
        cluster.kubectl("rollout", "status", f"daemonset/{name}", "-n", namespace, "--timeout=60s")
        eventually(lambda: sorted(_placement(core, namespace, name)) == sorted(node_names))
        cluster.kubectl("set", "image", f"daemonset/{name}", "agent=example/agent:2", "-n", namespace)
        cluster.kubectl("rollout", "status", f"daemonset/{name}", "-n", namespace, "--timeout=60s")
        eventually(lambda: _placement(core, namespace, name) == {n: "example/agent:2" for n in node_names})
        core.patch_node(node_names[0], {"metadata": {"labels": {"pool": None}}})
        eventually(lambda: sorted(_placement(core, namespace, name)) == [node_names[1]])
    finally:
        for node in node_names:
            core.delete_node(node)


def test_rollout_history_and_undo(cluster: Cluster, api: Any, namespace: str) -> None:
    """Each template is a ControllerRevision: ``kubectl rollout history`` lists them with their change-cause,
    ``kubectl rollout undo`` brings the previous template back (which becomes the newest revision)."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("agent")
    body = _ds(name, nodeSelector={"disk": "hdd"})
    body["metadata"]["annotations"] = {"kubernetes.io/change-cause": "first"}
    apps.create_namespaced_daemon_set(namespace, body)
    cluster.kubectl("rollout", "status", f"daemonset/{name}", "-n", namespace, "--timeout=60s")
    cluster.kubectl("annotate", f"daemonset/{name}", "-n", namespace, "kubernetes.io/change-cause=second",
                    "--overwrite")
    cluster.kubectl("set", "image", f"daemonset/{name}", "agent=example/agent:2", "-n", namespace)
    cluster.kubectl("rollout", "status", f"daemonset/{name}", "-n", namespace, "--timeout=60s")
    eventually(lambda: _placement(core, namespace, name) == {"hdd-1": "example/agent:2"})

    def history() -> list[list[str]]:
        out = cluster.kubectl("rollout", "history", f"daemonset/{name}", "-n", namespace).stdout
        return [line.split() for line in out.strip().splitlines()[1:]]

    assert history() == [["REVISION", "CHANGE-CAUSE"], ["1", "first"], ["2", "second"]]
    revisions = client.AppsV1Api(api).list_namespaced_controller_revision(namespace, label_selector=f"app={name}")
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
    live_hash = pods[0].metadata.labels["controller-revision-hash"]
    assert f"{name}-{live_hash}" in {r.metadata.name for r in revisions.items}

    undo = cluster.kubectl("rollout", "undo", f"daemonset/{name}", "-n", namespace)
    assert undo.stdout.strip() == f"daemonset.apps/{name} rolled back"
    cluster.kubectl("rollout", "status", f"daemonset/{name}", "-n", namespace, "--timeout=60s")
    eventually(lambda: _placement(core, namespace, name) == {"hdd-1": "example/agent:1"})
    assert apps.read_namespaced_daemon_set(name, namespace).spec.template.spec.containers[0].image == \
        "example/agent:1"
    wanted = [["REVISION", "CHANGE-CAUSE"], ["2", "second"], ["3", "first"]]
    assert eventually(history, matcher=lambda rows: rows == wanted) == wanted


def test_max_surge_starts_the_new_pod_beside_the_old_one(cluster: Cluster, api: Any, namespace: str) -> None:
    """With ``maxSurge: 1`` and ``maxUnavailable: 0`` a node runs its old and new pod side by side until the
    new one is available; the old one only goes then."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = unique("agent")
    body = _ds(name, nodeSelector={"disk": "hdd"})
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    apps.create_namespaced_daemon_set(namespace, body)
    cluster.kubectl("rollout", "status", f"daemonset/{name}", "-n", namespace, "--timeout=60s")
    # the new pods take a second to become Ready: long enough to see both side by side
    apps.patch_namespaced_daemon_set(name, namespace, {"spec": {"template": {
        "metadata": {"annotations": {"kubeproof.dev/readiness-delay": "1"}},
        "spec": {"containers": [{"name": "agent", "image": "example/agent:2"}]}}}})

    def side_by_side() -> None:
        pods = [p for p in core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
                if not p.metadata.deletion_timestamp]
        images = sorted((p.spec.containers[0].image, is_ready(p)) for p in pods)
        assert images == [("example/agent:1", True), ("example/agent:2", False)], images
        assert {p.spec.node_name for p in pods} == {"hdd-1"}

    eventually(side_by_side)
    cluster.kubectl("rollout", "status", f"daemonset/{name}", "-n", namespace, "--timeout=60s")
    eventually(lambda: _placement(core, namespace, name) == {"hdd-1": "example/agent:2"})
    status = apps.read_namespaced_daemon_set(name, namespace).status
    assert (status.desired_number_scheduled, status.updated_number_scheduled, status.number_available) == (1, 1, 1)
