"""Table output: the printers of ``pkg/printers/internalversion/printers.go`` and the ``as=Table`` wire format.

The unit tests feed the printers typical objects and compare with what kube-apiserver 1.37 prints; the
HTTP tests check negotiation, ``includeObject``, PartialObjectMetadata and the one-row Tables of a watch.
"""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from kubeproof import Cluster
from kubeproof.server.printers import PRINTERS, human_duration, printer_for, translate_timestamp_since
from kubeproof.server.printers.format import format_label_selector, format_labels, rfc3339

pytestmark = pytest.mark.timeout(60)

NOW = 1_800_000_000.0
KUBECTL_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
                  "g=meta.k8s.io,application/json")


def ts(seconds_ago: float) -> str:
    return datetime.fromtimestamp(NOW - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def names(group: str, kind: str, wide: bool = True) -> list[str]:
    return [c.name for c in printer_for(group, kind).columns if wide or c.priority == 0]


def row(group: str, kind: str, obj: dict[str, Any]) -> list[Any]:
    return printer_for(group, kind).cells(obj, NOW)


# -- HumanDuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "<invalid>"),
    (-2, "<invalid>"),
    (-1.9, "0s"),  # up to two seconds of clock skew reads as now
    (-1, "0s"),
    (0, "0s"),
    (5, "5s"),
    (119.9, "119s"),
    (120, "2m"),
    (121, "2m1s"),
    (9 * 60 + 59, "9m59s"),
    (10 * 60, "10m"),
    (10 * 60 + 59, "10m"),
    (3 * 3600 - 1, "179m"),
    (3 * 3600, "3h"),
    (3 * 3600 + 30 * 60, "3h30m"),
    (8 * 3600 - 1, "7h59m"),
    (8 * 3600, "8h"),
    (47 * 3600 + 3599, "47h"),
    (48 * 3600, "2d"),
    (2 * 86400 + 3 * 3600, "2d3h"),
    (8 * 86400 - 1, "7d23h"),
    (8 * 86400, "8d"),
    (2 * 365 * 86400 - 1, "729d"),
    (2 * 365 * 86400, "2y"),
    (2 * 365 * 86400 + 5 * 86400, "2y5d"),
    (8 * 365 * 86400 - 1, "7y364d"),
    (8 * 365 * 86400, "8y"),
    (20 * 365 * 86400, "20y"),
])
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_timestamps() -> None:
    assert translate_timestamp_since(None, NOW) == "<unknown>"
    assert translate_timestamp_since("", NOW) == "<unknown>"
    assert translate_timestamp_since("0001-01-01T00:00:00Z", NOW) == "<unknown>"
    assert translate_timestamp_since(ts(300), NOW) == "5m"
    assert translate_timestamp_since(ts(300).replace("Z", ".123456Z"), NOW) == "4m59s"  # MicroTime
    assert translate_timestamp_since(ts(-60), NOW) == "<invalid>"
    assert rfc3339(None) == "0001-01-01T00:00:00Z"
    assert rfc3339("2024-05-06T07:08:09Z") == "2024-05-06T07:08:09Z"
    assert rfc3339("2024-05-06T09:08:09+02:00") == "2024-05-06T07:08:09Z"


def test_label_formatting() -> None:
    assert format_labels(None) == "<none>"
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"
    assert format_label_selector(None) == "<none>"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchLabels": {"app": "web", "a": "b"}}) == "a=b,app=web"
    selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]},
                                     {"key": "env", "operator": "DoesNotExist"}]}
    assert format_label_selector(selector) == "!env,tier in (a,b)"
    assert format_label_selector({"matchExpressions": [{"key": "x", "operator": "Bogus"}]}) == "<error>"


# -- columns -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "kind", "columns"), [
    ("", "Pod", ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]),
    ("", "Service", ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]),
    ("", "Endpoints", ["Name", "Endpoints", "Age"]),
    ("", "ConfigMap", ["Name", "Data", "Age"]),
    ("", "Secret", ["Name", "Type", "Data", "Age"]),
    ("", "ServiceAccount", ["Name", "Secrets", "Age"]),
    ("", "Event", ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen",
                   "Count", "Name"]),
    ("events.k8s.io", "Event", ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message",
                                "First Seen", "Count", "Name"]),
    ("", "Node", ["Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image",
                  "Kernel-Version", "Container-Runtime"]),
    ("", "Namespace", ["Name", "Status", "Age"]),
    ("", "PersistentVolumeClaim", ["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
                                   "VolumeAttributesClass", "Age", "VolumeMode"]),
    ("apps", "Deployment", ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"]),
    ("apps", "ReplicaSet", ["Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"]),
    ("apps", "StatefulSet", ["Name", "Ready", "Age", "Containers", "Images"]),
    ("apps", "DaemonSet", ["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age",
                           "Containers", "Images", "Selector"]),
    ("batch", "Job", ["Name", "Status", "Completions", "Duration", "Age", "Containers", "Images", "Selector"]),
    ("batch", "CronJob", ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "Containers",
                          "Images", "Selector"]),
    ("coordination.k8s.io", "Lease", ["Name", "Holder", "Age"]),
    ("discovery.k8s.io", "EndpointSlice", ["Name", "AddressType", "Ports", "Endpoints", "Age"]),
    ("rbac.authorization.k8s.io", "RoleBinding", ["Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"]),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", ["Name", "Role", "Age", "Users", "Groups",
                                                         "ServiceAccounts"]),
    ("rbac.authorization.k8s.io", "Role", ["Name", "Created At"]),
    ("rbac.authorization.k8s.io", "ClusterRole", ["Name", "Created At"]),
    ("policy", "PodDisruptionBudget", ["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"]),
])
def test_column_names(group: str, kind: str, columns: list[str]) -> None:
    assert names(group, kind) == columns


def test_column_types_formats_and_priorities() -> None:
    pod = [c.definition() for c in printer_for("", "Pod").columns]
    assert pod[0] == {"name": "Name", "type": "string", "format": "name", "priority": 0,
                      "description": pod[0]["description"]}
    assert pod[0]["description"].startswith("Name must be unique within a namespace.")
    assert [c["priority"] for c in pod] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert pod[3]["type"] == "string"  # RESTARTS is a string: "3 (5m ago)"
    assert pod[4]["description"].startswith("CreationTimestamp is a timestamp")
    assert names("", "Pod", wide=False) == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert names("apps", "Deployment", wide=False) == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    assert names("", "Event", wide=False) == ["Last Seen", "Type", "Reason", "Object", "Message"]
    default = [c.definition() for c in printer_for("rbac.authorization.k8s.io", "Role").columns]
    assert [(c["name"], c["type"], c["format"]) for c in default] == [("Name", "string", "name"),
                                                                       ("Created At", "date", "")]
    rs = {c.name: c.type for c in printer_for("apps", "ReplicaSet").columns}
    assert rs["Desired"] == rs["Current"] == rs["Ready"] == "integer"
    assert {c.name: c.type for c in printer_for("batch", "CronJob").columns}["Suspend"] == "boolean"
    for (group, kind), printer in PRINTERS.items():
        for column in printer.columns:
            assert column.definition()["description"], (group, kind, column.name)


def test_custom_resources_get_name_and_age() -> None:
    printer = printer_for("example.com", "Widget", custom=True)
    assert [(c.name, c.type) for c in printer.columns] == [("Name", "string"), ("Age", "date")]
    assert printer.cells({"metadata": {"name": "w", "creationTimestamp": ts(90)}}, NOW) == ["w", "90s"]


# -- rows ----------------------------------------------------------------------------------------


def pod(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "creationTimestamp": ts(300)},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}, "status": {"phase": "Pending", **status}}


def running(name: str = "app", restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {"name": name, "ready": True, "restartCount": restarts, "state": {"running": {"startedAt": ts(60)}},
            **extra}


def test_pod_rows() -> None:
    assert row("", "Pod", pod()) == ["web", "0/1", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"]
    creating = pod(containerStatuses=[{"name": "app", "ready": False, "restartCount": 0,
                                       "state": {"waiting": {"reason": "ContainerCreating"}}}])
    assert row("", "Pod", creating)[1:4] == ["0/1", "ContainerCreating", "0"]
    up = pod(phase="Running", podIP="10.0.0.5", podIPs=[{"ip": "10.0.0.5"}], containerStatuses=[running()])
    up["spec"]["nodeName"] = "node-1"
    assert row("", "Pod", up) == ["web", "1/1", "Running", "0", "5m", "10.0.0.5", "node-1", "<none>", "<none>"]
    crash = pod(phase="Running", containerStatuses=[{
        "name": "app", "ready": False, "restartCount": 5,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ts(300)}}}])
    assert row("", "Pod", crash)[1:4] == ["0/1", "CrashLoopBackOff", "5 (5m ago)"]
    done = pod(phase="Succeeded", containerStatuses=[{"name": "app", "ready": False, "restartCount": 0,
                                                      "state": {"terminated": {"exitCode": 0,
                                                                               "reason": "Completed"}}}])
    assert row("", "Pod", done)[1:3] == ["0/1", "Completed"]
    conditions = printer_for("", "Pod").conditions
    assert conditions is not None
    assert conditions(done) == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                 "message": "The pod has completed successfully."}]
    killed = pod(phase="Failed", containerStatuses=[{"name": "app", "state": {"terminated": {"exitCode": 137,
                                                                                              "signal": 9}}}])
    assert row("", "Pod", killed)[2] == "Signal:9"
    evicted = pod(phase="Failed", reason="Evicted")
    assert row("", "Pod", evicted)[2] == "Evicted"
    deleting = pod(phase="Running", containerStatuses=[running()])
    deleting["metadata"]["deletionTimestamp"] = ts(1)
    assert row("", "Pod", deleting)[2] == "Terminating"
    lost = pod(phase="Running", reason="NodeLost")
    lost["metadata"]["deletionTimestamp"] = ts(1)
    assert row("", "Pod", lost)[2] == "Unknown"
    gated = pod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}])
    assert row("", "Pod", gated)[2] == "SchedulingGated"


def test_pod_completed_container_next_to_a_running_one() -> None:
    both = pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}], containerStatuses=[
        running("a"), {"name": "b", "ready": False, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}])
    both["spec"]["containers"].append({"name": "b", "image": "busybox"})
    assert row("", "Pod", both)[1:3] == ["1/2", "Running"]
    both["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    assert row("", "Pod", both)[1:3] == ["1/2", "NotReady"]


def test_pod_init_containers() -> None:
    base = pod(initContainerStatuses=[{"name": "init", "restartCount": 0, "state": {"waiting": {
        "reason": "PodInitializing"}}}])
    base["spec"]["initContainers"] = [{"name": "init", "image": "busybox"}]
    assert row("", "Pod", base)[2] == "Init:0/1"
    failing = pod(initContainerStatuses=[{"name": "init", "restartCount": 2, "state": {"terminated": {
        "exitCode": 1, "reason": "Error"}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(30)}}}])
    failing["spec"]["initContainers"] = [{"name": "init", "image": "busybox"}]
    assert row("", "Pod", failing)[2:4] == ["Init:Error", "2 (30s ago)"]
    crashing = pod(initContainerStatuses=[{"name": "init", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}])
    crashing["spec"]["initContainers"] = [{"name": "init", "image": "busybox"}]
    assert row("", "Pod", crashing)[2] == "Init:CrashLoopBackOff"
    sidecar = pod(phase="Running", conditions=[{"type": "Initialized", "status": "True"}],
                  initContainerStatuses=[{"name": "proxy", "ready": True, "started": True, "restartCount": 1,
                                          "state": {"running": {}}}],
                  containerStatuses=[running()])
    sidecar["spec"]["initContainers"] = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    assert row("", "Pod", sidecar)[1:4] == ["2/2", "Running", "1"]


def test_pod_readiness_gates_and_nominated_node() -> None:
    gated = pod(phase="Running", nominatedNodeName="node-2", conditions=[
        {"type": "example.com/lb", "status": "True"}, {"type": "example.com/dns", "status": "False"}])
    gated["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"},
                                       {"conditionType": "example.com/absent"}]
    assert row("", "Pod", gated)[-2:] == ["node-2", "1/3"]


def test_core_rows() -> None:
    svc = {"metadata": {"name": "web", "creationTimestamp": ts(60)},
           "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                    "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                    "selector": {"app": "web"}}}
    assert row("", "Service", svc) == ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "60s", "app=web"]
    node_port = {"metadata": {"name": "np"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.11",
                                                      "ports": [{"port": 80, "nodePort": 30080}]}}
    assert row("", "Service", node_port)[1:5] == ["NodePort", "10.96.0.11", "<none>", "80:30080/TCP"]
    lb: dict[str, Any] = {"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.12"}}
    assert row("", "Service", lb)[3:5] == ["<pending>", "<none>"]
    lb["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]}}
    assert row("", "Service", lb)[3] == "203.0.113.9,lb.example.com"
    headless = {"metadata": {"name": "h"}, "spec": {"type": "ClusterIP", "clusterIP": "None"}}
    assert row("", "Service", headless)[2] == "None"
    external = {"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "db.example.com"}}
    assert row("", "Service", external)[1:4] == ["ExternalName", "<none>", "db.example.com"]

    cm = {"metadata": {"name": "settings", "creationTimestamp": ts(7200)}, "data": {"a": "1", "b": "2"},
          "binaryData": {"c": "AA=="}}
    assert row("", "ConfigMap", cm) == ["settings", 3, "120m"]
    assert row("", "Secret", {"metadata": {"name": "s"}, "type": "kubernetes.io/tls",
                              "data": {"tls.crt": "", "tls.key": ""}}) == ["s", "kubernetes.io/tls", 2, "<unknown>"]
    assert row("", "ServiceAccount", {"metadata": {"name": "default"}}) == ["default", 0, "<unknown>"]
    assert row("", "Namespace", {"metadata": {"name": "dev", "creationTimestamp": ts(3 * 86400)},
                                 "status": {"phase": "Terminating"}}) == ["dev", "Terminating", "3d"]
    ep = {"metadata": {"name": "web"}, "subsets": [
        {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}]}
    assert row("", "Endpoints", ep)[1] == "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."
    assert row("", "Endpoints", {"metadata": {"name": "none"}})[1] == "<none>"
    v6 = {"metadata": {"name": "v6"}, "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]}
    assert row("", "Endpoints", v6)[1] == "[fd00::1]:80"


def test_node_and_pvc_rows() -> None:
    node = {"metadata": {"name": "n1", "creationTimestamp": ts(86400 * 10),
                         "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker"}},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}],
                       "nodeInfo": {"kubeletVersion": "v1.37.0", "osImage": "Debian"}}}
    assert row("", "Node", node) == ["n1", "Ready,SchedulingDisabled", "control-plane,worker", "10d", "v1.37.0",
                                     "172.18.0.2", "<none>", "Debian", "<unknown>", "<unknown>"]
    assert row("", "Node", {"metadata": {"name": "n2"}})[1:3] == ["Unknown", "<none>"]
    pvc: dict[str, Any] = {"metadata": {"name": "data"},
                           "spec": {"volumeMode": "Filesystem", "storageClassName": "standard"},
                           "status": {"phase": "Pending"}}
    assert row("", "PersistentVolumeClaim", pvc) == ["data", "Pending", "", "", "", "standard", "<unset>",
                                                     "<unknown>", "Filesystem"]
    pvc["spec"]["volumeName"] = "pv-1"
    pvc["status"] = {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany",
                                                                                        "ReadWriteOnce"]}
    assert row("", "PersistentVolumeClaim", pvc)[1:5] == ["Bound", "pv-1", "1Gi", "RWO,RWX"]


def test_event_rows() -> None:
    event = {"metadata": {"name": "web.17a", "creationTimestamp": ts(60)}, "type": "Warning", "reason": "BackOff",
             "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
             "source": {"component": "kubelet", "host": "node-1"}, "message": "Back-off restarting\n",
             "firstTimestamp": ts(600), "lastTimestamp": ts(30), "count": 4}
    assert row("", "Event", event) == ["30s", "Warning", "BackOff", "pod/web", "spec.containers{app}",
                                       "kubelet, node-1", "Back-off restarting", "10m", 4, "web.17a"]
    new_api = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e2"},
               "eventTime": ts(90).replace("Z", ".000000Z"), "reportingController": "example.com/ctl",
               "reportingInstance": "ctl-1", "type": "Normal", "reason": "Synced", "note": "done",
               "regarding": {"kind": "Deployment", "name": "web"}}
    assert row("events.k8s.io", "Event", new_api) == ["90s", "Normal", "Synced", "deployment/web", "",
                                                      "example.com/ctl, ctl-1", "done", "90s", 1, "e2"]
    series = dict(new_api, series={"count": 7, "lastObservedTime": ts(5).replace("Z", ".000000Z")})
    assert row("events.k8s.io", "Event", series)[0] == "5s"
    assert row("events.k8s.io", "Event", series)[8] == 7


def test_workload_rows() -> None:
    template = {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}, {"name": "log", "image": "fluent"}]}}
    deploy = {"metadata": {"name": "web", "creationTimestamp": ts(30)},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template},
              "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    assert row("apps", "Deployment", deploy) == ["web", "2/3", 3, 2, "30s", "app,log", "nginx:1.27,fluent", "app=web"]
    rs = {"metadata": {"name": "web-5d"}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                                                   "template": template},
          "status": {"replicas": 3, "readyReplicas": 1}}
    assert row("apps", "ReplicaSet", rs)[:4] == ["web-5d", 3, 3, 1]
    sts = {"metadata": {"name": "db"}, "spec": {"replicas": 2, "template": template}, "status": {"readyReplicas": 2}}
    assert row("apps", "StatefulSet", sts)[:2] == ["db", "2/2"]
    ds = {"metadata": {"name": "agent"}, "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {
        "spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{"name": "a", "image": "agent"}]}}},
          "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                     "updatedNumberScheduled": 3, "numberAvailable": 2}}
    assert row("apps", "DaemonSet", ds) == ["agent", 3, 3, 2, 3, 2, "kubernetes.io/os=linux", "<unknown>", "a",
                                            "agent", "app=agent"]


def test_job_rows() -> None:
    job: dict[str, Any] = {"metadata": {"name": "pi", "creationTimestamp": ts(100)},
           "spec": {"completions": 3, "parallelism": 1, "selector": {"matchLabels": {"job": "pi"}},
                    "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}},
           "status": {"succeeded": 1, "startTime": ts(90)}}
    assert row("batch", "Job", job) == ["pi", "Running", "1/3", "90s", "100s", "pi", "perl", "job=pi"]
    job["status"] = {"succeeded": 3, "startTime": ts(90), "completionTime": ts(20),
                     "conditions": [{"type": "Complete", "status": "True"}]}
    assert row("batch", "Job", job)[1:4] == ["Complete", "3/3", "70s"]
    job["spec"].pop("completions")
    job["spec"]["parallelism"] = 4
    job["status"] = {"conditions": [{"type": "Suspended", "status": "True"}]}
    assert row("batch", "Job", job)[1:4] == ["Suspended", "0/1 of 4", ""]
    job["status"] = {"conditions": [{"type": "Failed", "status": "True"}]}
    assert row("batch", "Job", job)[1] == "Failed"
    job_template = {"spec": {"template": {"spec": {"containers": [{"name": "t", "image": "busybox"}]}}}}
    cron: dict[str, Any] = {
        "metadata": {"name": "tick"},
        "spec": {"schedule": "*/5 * * * *", "suspend": False, "jobTemplate": job_template},
        "status": {"active": [{"name": "tick-1"}], "lastScheduleTime": ts(120)},
    }
    assert row("batch", "CronJob", cron) == ["tick", "*/5 * * * *", "<none>", "False", 1, "2m", "<unknown>", "t",
                                             "busybox", "<none>"]
    cron["spec"]["timeZone"] = "Etc/UTC"
    del cron["spec"]["suspend"]
    del cron["status"]
    assert row("batch", "CronJob", cron)[2:6] == ["Etc/UTC", "<unset>", 0, "<none>"]


def test_other_group_rows() -> None:
    lease = {"metadata": {"name": "leader"}, "spec": {"holderIdentity": "ctl-1_abc"}}
    assert row("coordination.k8s.io", "Lease", lease) == ["leader", "ctl-1_abc", "<unknown>"]
    sl = {"metadata": {"name": "web-x"}, "addressType": "IPv4",
          "ports": [{"port": 80}, {"name": "https"}, {}, {"port": 9090}],
          "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3", "10.0.0.4"]}]}
    assert row("discovery.k8s.io", "EndpointSlice", sl)[1:4] == [
        "IPv4", "80,https,* + 1 more...", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more..."]
    assert row("discovery.k8s.io", "EndpointSlice", {"metadata": {"name": "e"}})[2:4] == ["<unset>", "<unset>"]
    rb = {"metadata": {"name": "rb"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
          "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "devs"},
                       {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"},
                       {"kind": "User", "name": "bob"}]}
    assert row("rbac.authorization.k8s.io", "RoleBinding", rb) == ["rb", "ClusterRole/view", "<unknown>",
                                                                   "alice, bob", "devs", "ci/bot"]
    role = {"metadata": {"name": "r", "creationTimestamp": "2024-01-02T03:04:05Z"}}
    assert row("rbac.authorization.k8s.io", "Role", role) == ["r", "2024-01-02T03:04:05Z"]
    pdb = {"metadata": {"name": "p"}, "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}}
    assert row("policy", "PodDisruptionBudget", pdb) == ["p", "50%", "N/A", 1, "<unknown>"]
    pdb["spec"] = {"maxUnavailable": 1}
    assert row("policy", "PodDisruptionBudget", pdb)[1:3] == ["N/A", "1"]


# -- over HTTP -----------------------------------------------------------------------------------


class Client:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def request(self, method: str, path: str, body: Any = None, accept: str | None = None,
                ) -> tuple[int, str, bytes]:
        headers = {"Authorization": f"Bearer {self.cluster.token}"}
        if accept is not None:
            headers["Accept"] = accept
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(self.cluster.host, self.cluster.port, timeout=10)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheader("content-type") or "", response.read()
        finally:
            conn.close()

    def get(self, path: str, accept: str | None = KUBECTL_ACCEPT) -> tuple[int, Any]:
        code, ctype, body = self.request("GET", path, accept=accept)
        assert ctype == "application/json", (code, ctype, body)
        assert body.endswith(b"\n")
        return code, json.loads(body)

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        code, _, data = self.request("POST", path, body)
        assert code == 201, data
        return json.loads(data)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def plain() -> Iterator[Cluster]:
    with Cluster(tls=False) as c:
        yield c


@pytest.fixture(scope="module")
def client(plain: Cluster) -> Client:
    return Client(plain)


@pytest.fixture
def ns(client: Client) -> str:
    name = f"tbl-{uuid.uuid4().hex[:8]}"
    client.create("/api/v1/namespaces", {"metadata": {"name": name}})
    return name


def test_list_as_table(client: Client, ns: str) -> None:
    created = client.create(f"/api/v1/namespaces/{ns}/configmaps",
                            {"metadata": {"name": "a", "labels": {"x": "y"}}, "data": {"k": "v"}})
    code, table = client.get(f"/api/v1/namespaces/{ns}/configmaps?limit=500")
    assert code == 200
    assert list(table) == ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert set(table["metadata"]) == {"resourceVersion"}
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert list(table["columnDefinitions"][0]) == ["name", "type", "format", "description", "priority"]
    [only] = table["rows"]
    assert list(only) == ["cells", "object"]
    assert only["cells"][:2] == ["a", 1]
    assert only["cells"][2].endswith("s")
    assert only["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                              "metadata": created["metadata"]}


def test_get_as_table_and_include_object(client: Client, ns: str) -> None:
    created = client.create(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "b"}, "data": {}})
    path = f"/api/v1/namespaces/{ns}/configmaps/b"
    code, table = client.get(path)
    assert code == 200
    assert table["metadata"] == {"resourceVersion": created["metadata"]["resourceVersion"]}
    assert table["rows"][0]["cells"][:2] == ["b", 0]
    _, none = client.get(path + "?includeObject=None")
    assert none["rows"][0]["object"] is None
    _, whole = client.get(path + "?includeObject=Object")
    assert whole["rows"][0]["object"]["kind"] == "ConfigMap"
    assert whole["rows"][0]["object"]["apiVersion"] == "v1"
    assert whole["rows"][0]["object"]["metadata"] == created["metadata"]
    _, listed = client.get(f"/api/v1/namespaces/{ns}/configmaps?includeObject=Object")
    assert listed["rows"][0]["object"]["kind"] == "ConfigMap"  # list items regain kind in rows
    _, meta = client.get(path + "?includeObject=Metadata")
    assert meta["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    code, status = client.get(path + "?includeObject=x")
    assert code == 400
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": "Unable to convert to Table as requested: includeObject: Invalid value: \"x\": "
                                 "must be 'Metadata', 'Object', 'None', or empty",
                      "reason": "BadRequest", "code": 400}
    code, status = client.get(f"/api/v1/namespaces/{ns}/configmaps/missing?includeObject=x")
    assert code == 404  # the object is read before the table options are checked
    code, plain = client.get(path + "?includeObject=x", accept="application/json")
    assert code == 200 and plain["kind"] == "ConfigMap"  # no Table, no table options


def test_negotiation(client: Client, ns: str) -> None:
    client.create(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c"}})
    path = f"/api/v1/namespaces/{ns}/configmaps"
    _, beta = client.get(path, accept="application/json;as=Table;v=v1beta1;g=meta.k8s.io")
    assert beta["kind"] == "Table" and beta["apiVersion"] == "meta.k8s.io/v1beta1"
    assert beta["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"
    _, fallback = client.get(path, accept="application/json;as=Foo;v=v1;g=meta.k8s.io, application/json")
    assert fallback["kind"] == "ConfigMapList"
    _, other_group = client.get(path, accept="application/json;as=Table;v=v1;g=example.com,application/json")
    assert other_group["kind"] == "ConfigMapList"
    code, status = client.get(path, accept="application/json;as=Foo;v=v1;g=meta.k8s.io")
    assert code == 406 and status["reason"] == "NotAcceptable"
    code, status = client.get(path, accept="application/json;as=Table;v=v2;g=meta.k8s.io")
    assert code == 406
    code, raw, body = client.request("GET", path, accept="application/yaml;as=Table;v=v1;g=meta.k8s.io")
    assert code == 200 and raw == "application/yaml" and b"kind: Table" in body
    # Writes do not convert: the Table clause is skipped.
    code, _, body = client.request("POST", path, {"metadata": {"name": "d"}}, accept=KUBECTL_ACCEPT)
    assert code == 201 and json.loads(body)["kind"] == "ConfigMap"


def test_partial_object_metadata(client: Client, ns: str) -> None:
    created = client.create(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "e"}})
    path = f"/api/v1/namespaces/{ns}/configmaps"
    one = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json"
    many = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
    _, partial = client.get(f"{path}/e", accept=one)
    assert partial == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                       "metadata": created["metadata"]}
    _, listed = client.get(path, accept=many)
    assert listed["kind"] == "PartialObjectMetadataList"
    assert listed["items"] == [partial]
    code, status = client.get(path, accept=one)
    assert code == 406
    assert status["message"] == ("you requested PartialObjectMetadata, but the requested object is a list "
                                 "(*core.ConfigMapList)")
    code, status = client.get(f"{path}/e", accept=many)
    assert code == 406
    assert status["message"] == ("you requested PartialObjectMetadataList, but the requested object is not a "
                                 "list (*core.ConfigMap)")
    code, status = client.get("/apis/apps/v1/namespaces/default/deployments", accept=one)
    assert status["message"].endswith("(*apps.DeploymentList)")


def test_default_table_for_kinds_without_a_printer(client: Client, ns: str) -> None:
    path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles"
    _, empty = client.get(path)
    assert [c["name"] for c in empty["columnDefinitions"]] == ["Name", "Created At"]
    assert empty["rows"] is None  # rest.defaultTableConvertor appends to a nil slice
    _, empty_cms = client.get(f"/api/v1/namespaces/{ns}/secrets")
    assert empty_cms["rows"] == []
    role = client.create(path, {"metadata": {"name": "r"}, "rules": []})
    _, table = client.get(path)
    assert table["rows"][0]["cells"] == ["r", role["metadata"]["creationTimestamp"]]


class Stream:
    def __init__(self, client: Client, path: str, accept: str = KUBECTL_ACCEPT) -> None:
        cluster = client.cluster
        self.conn = http.client.HTTPConnection(cluster.host, cluster.port, timeout=10)
        self.conn.request("GET", path, headers={"Authorization": f"Bearer {cluster.token}", "Accept": accept})
        self.response = self.conn.getresponse()

    def event(self) -> dict[str, Any]:
        line = self.response.readline()
        assert line.endswith(b"\n"), line
        return json.loads(line)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.conn.close()


def test_watch_sends_one_row_tables(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    _, listed = client.get(path)
    stream = Stream(client, f"{path}?watch=1&resourceVersion={listed['metadata']['resourceVersion']}")
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("content-type") == "application/json"
        client.create(path, {"metadata": {"name": "w1"}, "data": {"a": "1"}})
        first = stream.event()
        assert first["type"] == "ADDED"
        table = first["object"]
        assert table["kind"] == "Table"
        assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
        assert table["columnDefinitions"] == listed["columnDefinitions"]  # kubectl compares them
        assert [r["cells"][:2] for r in table["rows"]] == [["w1", 1]]
        assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
        client.create(path, {"metadata": {"name": "w2"}})
        second = stream.event()
        assert second["object"]["columnDefinitions"] is None
        assert "columnDefinitions" in second["object"]
        assert [r["cells"][:2] for r in second["object"]["rows"]] == [["w2", 0]]
        assert second["object"]["metadata"]["resourceVersion"] == second["object"]["rows"][0]["object"][
            "metadata"]["resourceVersion"]
    finally:
        stream.close()


def test_watch_list_with_tables_ends_its_initial_events_with_a_table_bookmark(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    client.create(path, {"metadata": {"name": "i1"}})
    query = ("?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
             "&includeObject=None")
    stream = Stream(client, path + query)
    try:
        assert stream.response.status == 200  # never 422: the Table transform is served for watch-list
        added = stream.event()
        assert added["type"] == "ADDED"
        assert added["object"]["columnDefinitions"] is not None
        assert added["object"]["rows"][0]["object"] is None
        bookmark = stream.event()
        assert bookmark["type"] == "BOOKMARK"
        assert bookmark["object"]["kind"] == "Table"
        assert bookmark["object"]["columnDefinitions"] is None
        [bookmark_row] = bookmark["object"]["rows"]
        assert bookmark_row["object"]["kind"] == "PartialObjectMetadata"  # even with includeObject=None
        assert bookmark_row["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert bookmark_row["object"]["metadata"]["resourceVersion"] == bookmark["object"]["metadata"][
            "resourceVersion"]
        client.create(path, {"metadata": {"name": "i2"}})
        later = stream.event()
        assert later["type"] == "ADDED" and later["object"]["rows"][0]["cells"][0] == "i2"
        assert later["object"]["rows"][0]["object"] is None
    finally:
        stream.close()


def test_watch_validates_table_options_before_streaming(client: Client, ns: str) -> None:
    code, status = client.get(f"/api/v1/namespaces/{ns}/configmaps?watch=1&includeObject=Nope")
    assert code == 400
    assert status["message"].startswith("Unable to convert to Table as requested: includeObject: Invalid value")


def test_watch_as_partial_object_metadata(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    _, listed = client.get(path, accept="application/json")
    accept = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json"
    stream = Stream(client, f"{path}?watch=1&resourceVersion={listed['metadata']['resourceVersion']}", accept)
    try:
        created = client.create(path, {"metadata": {"name": "p1"}, "data": {"secret": "x"}})
        event = stream.event()
        assert event == {"type": "ADDED", "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                     "metadata": created["metadata"]}}
    finally:
        stream.close()


def test_pod_table_over_http(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/pods"
    # A scheduler nobody runs: the pod stays Pending, unbound, with no IP.
    client.create(path, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}],
                                                           "schedulerName": "unscheduled"}})
    _, table = client.get(f"{path}/p")
    [only] = table["rows"]
    assert only["cells"][:4] == ["p", "0/1", "Pending", "0"]
    assert only["cells"][5:] == ["<none>", "<none>", "<none>", "<none>"]
    assert "conditions" not in only
