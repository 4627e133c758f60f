"""helm 4 (default flags) against the embedded API server: install, upgrade, history, rollback, uninstall.

Helm 4 applies every object with server-side apply (``fieldManager=helm``) and keeps its releases as
``v1`` Secrets of type ``helm.sh/release.v1`` named ``sh.helm.release.v1.<release>.v<revision>``, labelled
``owner=helm``, ``name``, ``status`` and ``version``, written through the typed (protobuf) client
(helm ``pkg/storage/driver/secrets.go``; /work/shared/reference/k8s-api-fidelity.md §0.5, §11).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubeproof import Cluster

pytestmark = pytest.mark.timeout(240)

RELEASE = "demo"


def get(cluster: Cluster, ns: str, what: str) -> dict[str, Any] | None:
    proc = cluster.kubectl("get", what, "-n", ns, "-o", "json", "--show-managed-fields", check=False)
    if proc.returncode != 0:
        assert "NotFound" in proc.stderr, proc.stderr
        return None
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def releases(cluster: Cluster, ns: str) -> list[dict[str, Any]]:
    proc = cluster.kubectl("get", "secrets", "-n", ns, "-l", "owner=helm", "-o", "json")
    items: list[dict[str, Any]] = json.loads(proc.stdout)["items"]
    return sorted(items, key=lambda s: int(s["metadata"]["labels"]["version"]))


def release_states(cluster: Cluster, ns: str) -> list[tuple[str, str, str]]:
    """(name, version, status) of each release record, after checking its type and owner labels."""
    out = []
    for secret in releases(cluster, ns):
        labels = secret["metadata"]["labels"]
        assert secret["type"] == "helm.sh/release.v1"
        assert labels["owner"] == "helm" and labels["name"] == RELEASE
        out.append((secret["metadata"]["name"], labels["version"], labels["status"]))
    return out


def appliers(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]]


def test_install_upgrade_history_rollback_uninstall(cluster: Cluster, namespace: str, chart: Path) -> None:
    ns = namespace
    proc = cluster.helm("install", RELEASE, str(chart), "-n", ns)
    assert "STATUS: deployed" in proc.stdout and "REVISION: 1" in proc.stdout

    web = get(cluster, ns, f"deployment/{RELEASE}-web")
    assert web is not None and web["spec"]["replicas"] == 1
    assert appliers(web) == [("helm", "Apply")]
    assert web["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"  # helm adds it when applying
    assert web["metadata"]["annotations"]["meta.helm.sh/release-name"] == RELEASE
    svc = get(cluster, ns, f"service/{RELEASE}-svc")
    assert svc is not None and svc["spec"]["clusterIP"] and appliers(svc) == [("helm", "Apply")]
    config = get(cluster, ns, f"configmap/{RELEASE}-config")
    assert config is not None and config["data"] == {"greeting": "hello"}
    secret = get(cluster, ns, f"secret/{RELEASE}-secret")
    assert secret is not None and secret["data"] == {"password": "czNjcmV0"}  # stringData, stored as data
    hook = get(cluster, ns, f"job/{RELEASE}-hook")  # helm waited for the pre-install Job before installing
    assert hook is not None and hook["status"].get("succeeded") == 1
    assert [c["type"] for c in hook["status"]["conditions"] if c["status"] == "True"] == ["SuccessCriteriaMet",
                                                                                         "Complete"]
    assert release_states(cluster, ns) == [(f"sh.helm.release.v1.{RELEASE}.v1", "1", "deployed")]

    proc = cluster.helm("upgrade", RELEASE, str(chart), "-n", ns, "--set", "replicas=2", "--set", "greeting=hi")
    assert "REVISION: 2" in proc.stdout
    web = get(cluster, ns, f"deployment/{RELEASE}-web")
    assert web is not None and web["spec"]["replicas"] == 2 and web["metadata"]["generation"] == 2
    config = get(cluster, ns, f"configmap/{RELEASE}-config")
    assert config is not None and config["data"] == {"greeting": "hi"}
    assert release_states(cluster, ns) == [
        (f"sh.helm.release.v1.{RELEASE}.v1", "1", "superseded"),
        (f"sh.helm.release.v1.{RELEASE}.v2", "2", "deployed"),
    ]

    history = json.loads(cluster.helm("history", RELEASE, "-n", ns, "-o", "json").stdout)
    assert [(h["revision"], h["status"], h["description"]) for h in history] == [
        (1, "superseded", "Install complete"),
        (2, "deployed", "Upgrade complete"),
    ]

    proc = cluster.helm("rollback", RELEASE, "1", "-n", ns)
    assert "Rollback was a success" in proc.stdout
    web = get(cluster, ns, f"deployment/{RELEASE}-web")
    assert web is not None and web["spec"]["replicas"] == 1
    config = get(cluster, ns, f"configmap/{RELEASE}-config")
    assert config is not None and config["data"] == {"greeting": "hello"}
    history = json.loads(cluster.helm("history", RELEASE, "-n", ns, "-o", "json").stdout)
    assert [(h["revision"], h["status"], h["description"]) for h in history][-1] == (3, "deployed", "Rollback to 1")
    assert [state[2] for state in release_states(cluster, ns)] == ["superseded", "superseded", "deployed"]

    proc = cluster.helm("uninstall", RELEASE, "-n", ns)
    assert f'release "{RELEASE}" uninstalled' in proc.stdout
    for what in (f"deployment/{RELEASE}-web", f"service/{RELEASE}-svc", f"configmap/{RELEASE}-config",
                 f"secret/{RELEASE}-secret", f"configmap/{RELEASE}-extra"):
        assert get(cluster, ns, what) is None, what
    assert releases(cluster, ns) == []
    proc = cluster.helm("status", RELEASE, "-n", ns, check=False)
    assert proc.returncode == 1 and "release: not found" in proc.stderr


def test_upgrade_install_and_a_resource_dropped_from_the_chart(cluster: Cluster, namespace: str,
                                                                chart: Path) -> None:
    ns = namespace
    proc = cluster.helm("upgrade", "--install", RELEASE, str(chart), "-n", ns)
    assert "REVISION: 1" in proc.stdout
    assert get(cluster, ns, f"configmap/{RELEASE}-extra") is not None
    cluster.helm("upgrade", RELEASE, str(chart), "-n", ns, "--set", "extra=false")
    assert get(cluster, ns, f"configmap/{RELEASE}-extra") is None  # helm deletes what left the chart
    listed = json.loads(cluster.helm("list", "-n", ns, "-o", "json").stdout)
    assert [(r["name"], r["revision"], r["status"]) for r in listed] == [(RELEASE, "2", "deployed")]


def test_upgrade_conflicts_with_another_manager_unless_forced(cluster: Cluster, namespace: str,
                                                               chart: Path) -> None:
    """Helm 4 applies with ``force=false``: a field another manager changed is a conflict, reported with
    the apiserver's message; ``--force-conflicts`` takes it back."""
    ns = namespace
    cluster.helm("install", RELEASE, str(chart), "-n", ns)
    cluster.kubectl("patch", f"deployment/{RELEASE}-web", "-n", ns, "--type=merge", "--field-manager=ops",
                    "-p", '{"spec":{"replicas":5}}')
    proc = cluster.helm("upgrade", RELEASE, str(chart), "-n", ns, "--set", "replicas=3", check=False)
    assert proc.returncode == 1
    assert ('Apply failed with 1 conflict: conflict with "ops" using apps/v1: .spec.replicas'
            in proc.stderr), proc.stderr
    web = get(cluster, ns, f"deployment/{RELEASE}-web")
    assert web is not None and web["spec"]["replicas"] == 5
    cluster.helm("upgrade", RELEASE, str(chart), "-n", ns, "--set", "replicas=3", "--force-conflicts")
    web = get(cluster, ns, f"deployment/{RELEASE}-web")
    assert web is not None and web["spec"]["replicas"] == 3
    assert appliers(web) == [("helm", "Apply")]


def test_client_side_apply_mode(cluster: Cluster, namespace: str, chart: Path) -> None:
    """``--server-side=false``: helm creates and patches (3-way merge); the writes are ``Update`` entries."""
    ns = namespace
    cluster.helm("install", RELEASE, str(chart), "-n", ns, "--server-side=false")
    cluster.helm("upgrade", RELEASE, str(chart), "-n", ns, "--server-side=false", "--set", "replicas=2")
    web = get(cluster, ns, f"deployment/{RELEASE}-web")
    assert web is not None and web["spec"]["replicas"] == 2
    assert appliers(web) == [("helm", "Update")]
