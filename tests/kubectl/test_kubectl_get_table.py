"""``kubectl get`` prints the server's Table: the columns of kube-apiserver 1.37, not NAME/AGE.

kubectl sends ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`` on get, list and watch and
prints what comes back; ``-o wide`` shows the priority-1 columns, ``-A`` and ``--show-labels`` read the
rows' PartialObjectMetadata. Waits follow kubectl's output, never a sleep.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from kubeproof import Cluster

from ._support import KUBECTL, Process

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def kube() -> Iterator[Cluster]:
    if not KUBECTL.exists():
        pytest.skip("kubectl is not in the virtualenv; run `bash scripts/setup.sh`")
    # No workload controllers: the tables are checked against objects nobody else writes to.
    with Cluster(controllers=["namespace"]) as c:
        yield c


@pytest.fixture
def ns(kube: Cluster) -> Iterator[str]:
    name = f"tbl-{uuid.uuid4().hex[:8]}"
    kube.kubectl("create", "namespace", name)
    yield name
    kube.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


def create(kube: Cluster, body: dict[str, Any]) -> None:
    # --validate=false keeps these tests about printing, not about client-side schema validation.
    kube.kubectl("create", "-f", "-", "--validate=false", input=json.dumps(body))


def table(text: str) -> list[list[str]]:
    """kubectl's table output split into cells (no cell here contains spaces)."""
    return [line.split() for line in text.splitlines() if line.strip()]


def deployment(ns: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27"},
                                                          {"name": "log", "image": "fluent-bit:3"}]}}}}


def test_get_pods_shows_ready_status_restarts(kube: Cluster, ns: str) -> None:
    create(kube, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": ns},
                  # A scheduler nobody runs: the pod stays Pending and the test writes its status.
                  "spec": {"containers": [{"name": "c", "image": "nginx"}], "schedulerName": "unscheduled"}})
    rows = table(kube.kubectl("get", "pods", "-n", ns).stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert rows[1][:4] == ["app", "0/1", "Pending", "0"]
    status = {"status": {"phase": "Running", "podIP": "10.244.0.7", "podIPs": [{"ip": "10.244.0.7"}],
                         "conditions": [{"type": "Ready", "status": "True"}],
                         "containerStatuses": [{"name": "c", "image": "nginx", "imageID": "", "ready": True,
                                                "restartCount": 2, "started": True,
                                                "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}},
                                                "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                                                             "finishedAt": "2024-01-01T00:00:00Z"}}}]}}
    kube.kubectl("patch", "pod", "app", "-n", ns, "--subresource=status", "--type=merge", "-p", json.dumps(status))
    rows = table(kube.kubectl("get", "pods", "-n", ns).stdout)
    assert rows[1][:4] == ["app", "1/1", "Running", "2"]
    assert rows[1][4].startswith("(") and rows[1][5] == "ago)"  # "2 (<age> ago)"
    wide = table(kube.kubectl("get", "pod", "app", "-n", ns, "-o", "wide").stdout)
    assert wide[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS",
                       "GATES"]
    assert wide[1][-4:] == ["10.244.0.7", "<none>", "<none>", "<none>"]


def test_get_deployments_wide(kube: Cluster, ns: str) -> None:
    create(kube, deployment(ns, "web"))
    rows = table(kube.kubectl("get", "deploy", "-n", ns).stdout)
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert rows[1][:4] == ["web", "0/3", "0", "0"]
    wide = table(kube.kubectl("get", "deploy", "-n", ns, "-o", "wide").stdout)
    assert wide[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1][5:] == ["web,log", "nginx:1.27,fluent-bit:3", "app=web"]


def test_get_namespaces_shows_status(kube: Cluster, ns: str) -> None:
    rows = table(kube.kubectl("get", "ns").stdout)
    assert rows[0] == ["NAME", "STATUS", "AGE"]
    assert [ns, "Active"] in [r[:2] for r in rows[1:]]
    assert ["kube-system", "Active"] in [r[:2] for r in rows[1:]]


def test_get_configmaps_all_namespaces_and_labels(kube: Cluster, ns: str) -> None:
    create(kube, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": ns,
                                                                        "labels": {"tier": "web", "app": "x"}},
                  "data": {"a": "1", "b": "2"}})
    rows = table(kube.kubectl("get", "cm", "-A").stdout)
    assert rows[0] == ["NAMESPACE", "NAME", "DATA", "AGE"]
    assert [ns, "conf", "2"] in [r[:3] for r in rows[1:]]
    labelled = table(kube.kubectl("get", "cm", "-n", ns, "--show-labels").stdout)
    assert labelled[0] == ["NAME", "DATA", "AGE", "LABELS"]
    assert labelled[1][0] == "conf" and labelled[1][-1] == "app=x,tier=web"


def test_get_watch_prints_a_later_change(kube: Cluster, ns: str) -> None:
    create(kube, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first", "namespace": ns},
                  "data": {"a": "1"}})
    watching = Process([KUBECTL, "get", "cm", "-n", ns, "-w"], env=kube.env())
    try:
        assert watching.stdout.wait_for(lambda line: line.startswith("NAME")).split() == ["NAME", "DATA", "AGE"]
        assert watching.stdout.wait_for("first").split()[:2] == ["first", "1"]
        kube.kubectl("patch", "cm", "first", "-n", ns, "--type=merge", "-p", '{"data":{"b":"2"}}')
        assert watching.stdout.wait_for(lambda line: line.split()[:2] == ["first", "2"])
        create(kube, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "second", "namespace": ns}})
        assert watching.stdout.wait_for("second").split()[:2] == ["second", "0"]
        assert watching.running()
        # The headers were printed once: the watch's first Table repeats the list's columns.
        assert sum(line.startswith("NAME") for line in watching.stdout.seen) == 1
    finally:
        watching.kill()


def test_get_all(kube: Cluster, ns: str) -> None:
    create(kube, deployment(ns, "api"))
    create(kube, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": ns},
                  "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    create(kube, {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": ns},
                  "spec": {"template": {"spec": {"restartPolicy": "Never",
                                                 "containers": [{"name": "c", "image": "busybox"}]}}}})
    out = kube.kubectl("get", "all", "-n", ns).stdout
    blocks = [table(block) for block in out.strip().split("\n\n")]
    by_header = {tuple(block[0]): block[1:] for block in blocks}
    service = by_header[("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE")]
    assert service[0][0] == "service/api" and service[0][1] == "ClusterIP" and service[0][4] == "80/TCP"
    deploy = by_header[("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE")]
    assert deploy[0][:2] == ["deployment.apps/api", "0/3"]
    job = by_header[("NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE")]
    assert job[0][:3] == ["job.batch/once", "Running", "0/1"]


def test_get_other_kinds(kube: Cluster, ns: str) -> None:
    kube.kubectl("create", "secret", "generic", "creds", "-n", ns, "--from-literal=user=u", "--from-literal=pw=p")
    kube.kubectl("create", "serviceaccount", "bot", "-n", ns)
    kube.kubectl("create", "role", "reader", "-n", ns, "--verb=get", "--resource=pods")
    kube.kubectl("create", "rolebinding", "read", "-n", ns, "--role=reader", "--user=alice",
                 f"--serviceaccount={ns}:bot")
    kube.kubectl("create", "cronjob", "tick", "-n", ns, "--image=busybox", "--schedule=*/5 * * * *")
    secrets = table(kube.kubectl("get", "secret", "creds", "-n", ns).stdout)
    assert secrets == [["NAME", "TYPE", "DATA", "AGE"], ["creds", "Opaque", "2", secrets[1][3]]]
    assert table(kube.kubectl("get", "sa", "bot", "-n", ns).stdout)[0] == ["NAME", "SECRETS", "AGE"]
    roles = table(kube.kubectl("get", "roles", "-n", ns).stdout)
    assert roles[0] == ["NAME", "CREATED", "AT"]
    assert roles[1][0] == "reader" and roles[1][1].endswith("Z")
    bindings = table(kube.kubectl("get", "rolebindings", "-n", ns, "-o", "wide").stdout)
    assert bindings[0] == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert bindings[1][:2] == ["read", "Role/reader"] and bindings[1][3:] == ["alice", f"{ns}/bot"]
    cron = table(kube.kubectl("get", "cronjobs", "-n", ns).stdout)
    assert cron[0] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]
    # The schedule "*/5 * * * *" splits into five cells here.
    assert cron[1][:6] == ["tick", "*/5", "*", "*", "*", "*"]
    assert cron[1][6:10] == ["<none>", "False", "0", "<none>"]
