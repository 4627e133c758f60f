"""Per-kind table columns and rows: ``pkg/printers/internalversion/printers.go`` for the served kinds.

kube-apiserver builds every Table with ``GenerateOptions{Wide: true}`` (``pkg/printers/storage``), so each
row here carries all cells, priority-1 ones included; kubectl hides those unless ``-o wide``. The objects
are the stored v1 JSON; where the Go printers read the internal type, the v1 -> internal conversion is
reproduced (``podIP`` vs ``podIPs``, the events.k8s.io field names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubeproof.server.printers.format import (
    NONE,
    UNSET,
    as_int,
    as_str,
    format_label_selector,
    format_labels,
    human_duration,
    int_or_string,
    items,
    join_host_port,
    mapping,
    parse_time,
    selector_string,
    translate_timestamp_since,
)
from kubeproof.server.registry import events

Obj = dict[str, Any]
#: A description: literal text, or (definition, property) looked up in the OpenAPI schemas.
Doc = str | tuple[str, str]
Cells = Callable[[Obj, float], list[Any]]
Conditions = Callable[[Obj], list[dict[str, str]]]

META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
CORE = "io.k8s.api.core.v1."
APPS = "io.k8s.api.apps.v1."
BATCH = "io.k8s.api.batch.v1."


@dataclass(frozen=True)
class Column:
    """``metav1.TableColumnDefinition``."""

    name: str
    type: str = "string"
    format: str = ""
    doc: Doc = ""
    priority: int = 0

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": describe(self.doc), "priority": self.priority}


@dataclass(frozen=True)
class Printer:
    """The columns of one kind, the cells of one object, and the row conditions (pods only)."""

    columns: tuple[Column, ...]
    cells: Cells
    conditions: Conditions | None = None
    #: ``rest.defaultTableConvertor`` (Name, Created At): an empty list has ``"rows": null``.
    default: bool = False


_DOCS: dict[tuple[str, str], str] = {}


def describe(doc: Doc) -> str:
    """The text of a column description (``SwaggerDoc()[field]`` = the schema's property description)."""
    if isinstance(doc, str):
        return doc
    if doc not in _DOCS:
        from kubeproof.server import schema

        definition = schema.definitions().get(doc[0]) or {}
        prop = mapping(mapping(definition.get("properties")).get(doc[1]))
        _DOCS[doc] = as_str(prop.get("description"))
    return _DOCS[doc]


NAME = Column("Name", format="name", doc=(META, "name"))
AGE = Column("Age", doc=(META, "creationTimestamp"))
CONTAINERS = Column("Containers", priority=1, doc="Names of each container in the template.")
IMAGES = Column("Images", priority=1, doc="Images referenced by each container in the template.")


def name_of(obj: Obj) -> str:
    return as_str(mapping(obj.get("metadata")).get("name"))


def meta_of(obj: Obj) -> dict[str, Any]:
    return mapping(obj.get("metadata"))


def age(obj: Obj, now: float) -> str:
    return translate_timestamp_since(meta_of(obj).get("creationTimestamp"), now)


def spec_of(obj: Obj) -> dict[str, Any]:
    return mapping(obj.get("spec"))


def status_of(obj: Obj) -> dict[str, Any]:
    return mapping(obj.get("status"))


def layout_container_cells(containers: Any) -> tuple[str, str]:
    """``layoutContainerCells``: names and images, comma-joined."""
    listed = items(containers)
    return ",".join(as_str(c.get("name")) for c in listed), ",".join(as_str(c.get("image")) for c in listed)


def template_containers(obj: Obj) -> Any:
    return mapping(mapping(spec_of(obj).get("template")).get("spec")).get("containers")


# -- pods -----------------------------------------------------------------------------------------

POD_COLUMNS = (
    NAME,
    Column("Ready", doc="The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", doc="The aggregate status of the containers in this pod."),
    Column("Restarts", doc="The number of times the containers in this pod have been restarted and when the last "
                           "container in this pod has restarted."),
    AGE,
    Column("IP", priority=1, doc=(CORE + "PodStatus", "podIP")),
    Column("Node", priority=1, doc=(CORE + "PodSpec", "nodeName")),
    Column("Nominated Node", priority=1, doc=(CORE + "PodStatus", "nominatedNodeName")),
    Column("Readiness Gates", priority=1, doc=(CORE + "PodSpec", "readinessGates")),
)

POD_SUCCESS = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                "message": "The pod has completed successfully."}]
POD_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]


def _restartable(container: Any) -> bool:
    """``podutil.IsRestartableInitContainer``: a sidecar (``restartPolicy: Always``)."""
    return isinstance(container, dict) and container.get("restartPolicy") == "Always"


def _later(current: float | None, candidate: Any) -> float | None:
    """``if lastRestartDate.Before(&terminatedDate) { lastRestartDate = terminatedDate }``."""
    at = parse_time(candidate)
    if at is None:
        return current
    return at if current is None or current < at else current


def _condition_true(conditions: Any, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in items(conditions))


def pod_cells(pod: Obj, now: float) -> list[Any]:
    """``printPod``: READY, the STATUS reason logic, RESTARTS with ``(5m ago)``."""
    spec, status, meta = spec_of(pod), status_of(pod), meta_of(pod)
    restarts = 0
    sidecar_restarts = 0
    total = len(items(spec.get("containers")))
    ready = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None

    phase = as_str(status.get("phase"))
    reason = as_str(status.get("reason")) or phase
    for condition in items(status.get("conditions")):
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = items(spec.get("initContainers"))
    init_containers = {as_str(c.get("name")): c for c in init_specs}
    total += sum(1 for c in init_specs if _restartable(c))

    initializing = False
    for index, container in enumerate(items(status.get("initContainerStatuses"))):
        restarts += as_int(container.get("restartCount"))
        last_terminated = mapping(container.get("lastState")).get("terminated")
        if isinstance(last_terminated, dict):
            last_restart = _later(last_restart, last_terminated.get("finishedAt"))
        sidecar = _restartable(init_containers.get(as_str(container.get("name"))))
        if sidecar:
            sidecar_restarts += as_int(container.get("restartCount"))
            if isinstance(last_terminated, dict):
                last_sidecar_restart = _later(last_sidecar_restart, last_terminated.get("finishedAt"))
        state = mapping(container.get("state"))
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if isinstance(terminated, dict) and as_int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and container.get("started") is True:
            if container.get("ready") is True:
                ready += 1
            continue
        if isinstance(terminated, dict):
            why = as_str(terminated.get("reason"))
            if not why:
                signal = as_int(terminated.get("signal"))
                reason = (f"Init:Signal:{signal}" if signal != 0
                          else f"Init:ExitCode:{as_int(terminated.get('exitCode'))}")
            else:
                reason = "Init:" + why
        elif isinstance(waiting, dict) and as_str(waiting.get("reason")) and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + as_str(waiting.get("reason"))
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _pod_initialized(status):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for container in reversed(items(status.get("containerStatuses"))):
            restarts += as_int(container.get("restartCount"))
            last_terminated = mapping(container.get("lastState")).get("terminated")
            if isinstance(last_terminated, dict):
                last_restart = _later(last_restart, last_terminated.get("finishedAt"))
            state = mapping(container.get("state"))
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if isinstance(waiting, dict) and as_str(waiting.get("reason")):
                reason = as_str(waiting.get("reason"))
            elif isinstance(terminated, dict) and as_str(terminated.get("reason")):
                reason = as_str(terminated.get("reason"))
            elif isinstance(terminated, dict):
                signal = as_int(terminated.get("signal"))
                reason = f"Signal:{signal}" if signal != 0 else f"ExitCode:{as_int(terminated.get('exitCode'))}"
            elif container.get("ready") is True and isinstance(state.get("running"), dict):
                has_running = True
                ready += 1
        # A pod whose last container completed but another still runs is Running (or NotReady).
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status.get("conditions"), "Ready") else "NotReady"

    deleting = meta.get("deletionTimestamp") is not None
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"

    node_name = as_str(spec.get("nodeName")) or NONE
    nominated = as_str(status.get("nominatedNodeName")) or NONE
    # Convert_v1_PodStatus_To_core_PodStatus: podIP wins over podIPs[0].
    pod_ip = as_str(status.get("podIP"))
    if not pod_ip:
        ips = items(status.get("podIPs"))
        pod_ip = as_str(ips[0].get("ip")) if ips else ""
    gates_cell = NONE
    gates = items(spec.get("readinessGates"))
    if gates:
        true_conditions = 0
        conditions = items(status.get("conditions"))
        for gate in gates:
            for condition in conditions:
                if condition.get("type") == gate.get("conditionType"):
                    if condition.get("status") == "True":
                        true_conditions += 1
                    break
        gates_cell = f"{true_conditions}/{len(gates)}"
    return [name_of(pod), f"{ready}/{total}", reason, restarts_cell, age(pod, now),
            pod_ip or NONE, node_name, nominated, gates_cell]


def _pod_initialized(status: dict[str, Any]) -> bool:
    """``isPodInitializedConditionTrue``: the first Initialized condition decides."""
    for condition in items(status.get("conditions")):
        if condition.get("type") == "Initialized":
            return condition.get("status") == "True"
    return False


def pod_conditions(pod: Obj) -> list[dict[str, str]]:
    phase = status_of(pod).get("phase")
    if phase == "Succeeded":
        return POD_SUCCESS
    if phase == "Failed":
        return POD_FAILED
    return []


# -- core -----------------------------------------------------------------------------------------

SERVICE_COLUMNS = (
    NAME,
    Column("Type", doc=(CORE + "ServiceSpec", "type")),
    Column("Cluster-IP", doc=(CORE + "ServiceSpec", "clusterIP")),
    Column("External-IP", doc=(CORE + "ServiceSpec", "externalIPs")),
    Column("Port(s)", doc=(CORE + "ServiceSpec", "ports")),
    AGE,
    Column("Selector", priority=1, doc=(CORE + "ServiceSpec", "selector")),
)


def _service_external_ip(spec: dict[str, Any], status: dict[str, Any]) -> str:
    """``getServiceExternalIP`` with ``wide`` (the server never clips the load-balancer list)."""
    external = [as_str(ip) for ip in spec.get("externalIPs") or [] if isinstance(ip, str)]
    kind = spec.get("type")
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else NONE
    if kind == "LoadBalancer":
        found = set()
        for ingress in items(mapping(status.get("loadBalancer")).get("ingress")):
            if ingress.get("ip"):
                found.add(as_str(ingress.get("ip")))
            elif ingress.get("hostname"):
                found.add(as_str(ingress.get("hostname")))
        lb = ",".join(sorted(found))
        if external:
            return ",".join(([*lb.split(",")] if lb else []) + external)
        return lb or "<pending>"
    if kind == "ExternalName":
        return as_str(spec.get("externalName"))
    return "<unknown>"


def service_cells(svc: Obj, now: float) -> list[Any]:
    spec, status = spec_of(svc), status_of(svc)
    cluster_ips = [ip for ip in spec.get("clusterIPs") or [] if isinstance(ip, str)]
    internal = cluster_ips[0] if cluster_ips else as_str(spec.get("clusterIP")) or NONE
    pieces = []
    for port in items(spec.get("ports")):
        protocol = as_str(port.get("protocol")) or "TCP"
        node_port = as_int(port.get("nodePort"))
        if node_port > 0:
            pieces.append(f"{as_int(port.get('port'))}:{node_port}/{protocol}")
        else:
            pieces.append(f"{as_int(port.get('port'))}/{protocol}")
    ports = ",".join(pieces) or NONE
    return [name_of(svc), as_str(spec.get("type")), internal, _service_external_ip(spec, status), ports,
            age(svc, now), format_labels(spec.get("selector"))]


ENDPOINTS_COLUMNS = (NAME, Column("Endpoints", doc=(CORE + "Endpoints", "subsets")), AGE)


def format_endpoints(endpoints: Obj) -> str:
    """``formatEndpoints`` with every port: at most three ``ip:port``, then ``+ N more...``."""
    subsets = items(endpoints.get("subsets"))
    if not subsets:
        return NONE
    listed: list[str] = []
    limit, more, count = 3, False, 0
    for subset in subsets:
        addresses = items(subset.get("addresses"))
        ports = items(subset.get("ports"))
        if not ports:
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                listed.append(as_str(address.get("ip")))
            continue
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                listed.append(join_host_port(as_str(address.get("ip")), as_int(port.get("port"))))
    text = ",".join(listed)
    return f"{text} + {count - limit} more..." if more else text


def endpoints_cells(obj: Obj, now: float) -> list[Any]:
    return [name_of(obj), format_endpoints(obj), age(obj, now)]


CONFIGMAP_COLUMNS = (NAME, Column("Data", doc=(CORE + "ConfigMap", "data")), AGE)


def configmap_cells(obj: Obj, now: float) -> list[Any]:
    return [name_of(obj), len(mapping(obj.get("data"))) + len(mapping(obj.get("binaryData"))), age(obj, now)]


SECRET_COLUMNS = (NAME, Column("Type", doc=(CORE + "Secret", "type")), Column("Data", doc=(CORE + "Secret", "data")),
                  AGE)


def secret_cells(obj: Obj, now: float) -> list[Any]:
    return [name_of(obj), as_str(obj.get("type")), len(mapping(obj.get("data"))), age(obj, now)]


SERVICE_ACCOUNT_COLUMNS = (NAME, Column("Secrets", doc=(CORE + "ServiceAccount", "secrets")), AGE)


def service_account_cells(obj: Obj, now: float) -> list[Any]:
    secrets = obj.get("secrets")
    return [name_of(obj), len(secrets) if isinstance(secrets, list) else 0, age(obj, now)]


NODE_COLUMNS = (
    NAME,
    Column("Status", doc="The status of the node"),
    Column("Roles", doc="The roles of the node"),
    AGE,
    Column("Version", doc=(CORE + "NodeSystemInfo", "kubeletVersion")),
    Column("Internal-IP", priority=1, doc=(CORE + "NodeStatus", "addresses")),
    Column("External-IP", priority=1, doc=(CORE + "NodeStatus", "addresses")),
    Column("OS-Image", priority=1, doc=(CORE + "NodeSystemInfo", "osImage")),
    Column("Kernel-Version", priority=1, doc=(CORE + "NodeSystemInfo", "kernelVersion")),
    Column("Container-Runtime", priority=1, doc=(CORE + "NodeSystemInfo", "containerRuntimeVersion")),
)


def node_cells(node: Obj, now: float) -> list[Any]:
    spec, status = spec_of(node), status_of(node)
    conditions = {as_str(c.get("type")): c for c in items(status.get("conditions"))}
    states: list[str] = []
    ready = conditions.get("Ready")
    if ready is not None:
        states.append("Ready" if ready.get("status") == "True" else "NotReady")
    if not states:
        states.append("Unknown")
    if spec.get("unschedulable") is True:
        states.append("SchedulingDisabled")
    roles: set[str] = set()
    for key, value in mapping(meta_of(node).get("labels")).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(as_str(value))
    info = mapping(status.get("nodeInfo"))

    def address(kind: str) -> str:
        for entry in items(status.get("addresses")):
            if entry.get("type") == kind:
                return as_str(entry.get("address"))
        return NONE

    return [name_of(node), ",".join(states), ",".join(sorted(roles)) or NONE, age(node, now),
            as_str(info.get("kubeletVersion")), address("InternalIP"), address("ExternalIP"),
            as_str(info.get("osImage")) or "<unknown>", as_str(info.get("kernelVersion")) or "<unknown>",
            as_str(info.get("containerRuntimeVersion")) or "<unknown>"]


NAMESPACE_COLUMNS = (NAME, Column("Status", doc="The status of the namespace"), AGE)


def namespace_cells(obj: Obj, now: float) -> list[Any]:
    return [name_of(obj), as_str(status_of(obj).get("phase")), age(obj, now)]


PVC_COLUMNS = (
    NAME,
    Column("Status", doc=(CORE + "PersistentVolumeClaimStatus", "phase")),
    Column("Volume", doc=(CORE + "PersistentVolumeClaimSpec", "volumeName")),
    Column("Capacity", doc=(CORE + "PersistentVolumeClaimStatus", "capacity")),
    Column("Access Modes", doc=(CORE + "PersistentVolumeClaimStatus", "accessModes")),
    Column("StorageClass", doc="StorageClass of the pvc"),
    Column("VolumeAttributesClass", doc="VolumeAttributesClass of the pvc"),
    AGE,
    Column("VolumeMode", priority=1, doc=(CORE + "PersistentVolumeClaimSpec", "volumeMode")),
)


def access_modes(modes: Any) -> str:
    """``helper.GetAccessModesAsString``."""
    have = set(modes) if isinstance(modes, list) else set()
    short = [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
    return ",".join(abbrev for mode, abbrev in short if mode in have)


def pvc_cells(pvc: Obj, now: float) -> list[Any]:
    spec, status, meta = spec_of(pvc), status_of(pvc), meta_of(pvc)
    phase = "Terminating" if meta.get("deletionTimestamp") is not None else as_str(status.get("phase"))
    capacity = modes = ""
    volume = as_str(spec.get("volumeName"))
    if volume:
        modes = access_modes(status.get("accessModes"))
        capacity = as_str(mapping(status.get("capacity")).get("storage"))
    # helper.GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName.
    annotations = mapping(meta.get("annotations"))
    if "volume.beta.kubernetes.io/storage-class" in annotations:
        storage_class = as_str(annotations["volume.beta.kubernetes.io/storage-class"])
    else:
        storage_class = as_str(spec.get("storageClassName"))
    vac = spec.get("volumeAttributesClassName")
    mode = spec.get("volumeMode")
    return [name_of(pvc), phase, volume, capacity, modes, storage_class,
            as_str(vac) if vac is not None else UNSET, age(pvc, now), as_str(mode) if mode is not None else UNSET]


EVENT_COLUMNS = (
    Column("Last Seen", doc=(CORE + "Event", "lastTimestamp")),
    Column("Type", doc=(CORE + "Event", "type")),
    Column("Reason", doc=(CORE + "Event", "reason")),
    Column("Object", doc=(CORE + "Event", "involvedObject")),
    Column("Subobject", priority=1, doc=(CORE + "ObjectReference", "fieldPath")),
    Column("Source", priority=1, doc=(CORE + "Event", "source")),
    Column("Message", doc=(CORE + "Event", "message")),
    Column("First Seen", priority=1, doc=(CORE + "Event", "firstTimestamp")),
    Column("Count", priority=1, doc=(CORE + "Event", "count")),
    Column("Name", priority=1, format="name", doc=(META, "name")),
)


def event_cells(event: Obj, now: float) -> list[Any]:
    """``printEvent`` on the internal ``core.Event``."""
    if event.get("apiVersion") == "events.k8s.io/v1":
        event = events.to_core(event)
    first_seen = translate_timestamp_since(event.get("firstTimestamp"), now)
    if parse_time(event.get("firstTimestamp")) is None:
        first_seen = translate_timestamp_since(event.get("eventTime"), now)
    last_seen = translate_timestamp_since(event.get("lastTimestamp"), now)
    if parse_time(event.get("lastTimestamp")) is None:
        last_seen = first_seen
    count = as_int(event.get("count"))
    series = event.get("series")
    if isinstance(series, dict):
        last_seen = translate_timestamp_since(series.get("lastObservedTime"), now)
        count = as_int(series.get("count"))
    elif count == 0:
        count = 1  # singleton events have no count in the new API
    involved = mapping(event.get("involvedObject"))
    kind = as_str(involved.get("kind")).lower()
    target = f"{kind}/{as_str(involved.get('name'))}" if involved.get("name") else kind
    source = mapping(event.get("source"))
    component = as_str(source.get("component")) or as_str(event.get("reportingComponent"))
    instance = as_str(source.get("host")) or as_str(event.get("reportingInstance"))
    source_cell = f"{component}, {instance}" if instance else component
    return [last_seen, as_str(event.get("type")), as_str(event.get("reason")), target,
            as_str(involved.get("fieldPath")), source_cell, as_str(event.get("message")).strip(), first_seen,
            count, name_of(event)]


# -- apps -----------------------------------------------------------------------------------------

DEPLOYMENT_COLUMNS = (
    NAME,
    Column("Ready", doc="Number of the pod with ready state"),
    Column("Up-to-date", doc=(APPS + "DeploymentStatus", "updatedReplicas")),
    Column("Available", doc=(APPS + "DeploymentStatus", "availableReplicas")),
    AGE,
    CONTAINERS,
    IMAGES,
    Column("Selector", priority=1, doc=(APPS + "DeploymentSpec", "selector")),
)


def _replicas(spec: dict[str, Any]) -> int:
    # The internal types hold the defaulted value (1) when the v1 pointer is nil.
    return as_int(spec["replicas"]) if spec.get("replicas") is not None else 1


def deployment_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = spec_of(obj), status_of(obj)
    selector = selector_string(spec.get("selector"))
    names, images = layout_container_cells(template_containers(obj))
    return [name_of(obj), f"{as_int(status.get('readyReplicas'))}/{_replicas(spec)}",
            as_int(status.get("updatedReplicas")), as_int(status.get("availableReplicas")), age(obj, now),
            names, images, "<invalid>" if selector is None else selector]


REPLICASET_COLUMNS = (
    NAME,
    Column("Desired", type="integer", doc=(APPS + "ReplicaSetSpec", "replicas")),
    Column("Current", type="integer", doc=(APPS + "ReplicaSetStatus", "replicas")),
    Column("Ready", type="integer", doc=(APPS + "ReplicaSetStatus", "readyReplicas")),
    AGE,
    CONTAINERS,
    IMAGES,
    Column("Selector", priority=1, doc=(APPS + "ReplicaSetSpec", "selector")),
)


def replicaset_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = spec_of(obj), status_of(obj)
    names, images = layout_container_cells(template_containers(obj))
    return [name_of(obj), _replicas(spec), as_int(status.get("replicas")), as_int(status.get("readyReplicas")),
            age(obj, now), names, images, format_label_selector(spec.get("selector"))]


STATEFULSET_COLUMNS = (NAME, Column("Ready", doc="Number of the pod with ready state"), AGE, CONTAINERS, IMAGES)


def statefulset_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = spec_of(obj), status_of(obj)
    names, images = layout_container_cells(template_containers(obj))
    return [name_of(obj), f"{as_int(status.get('readyReplicas'))}/{_replicas(spec)}", age(obj, now), names, images]


DAEMONSET_COLUMNS = (
    NAME,
    Column("Desired", type="integer", doc=(APPS + "DaemonSetStatus", "desiredNumberScheduled")),
    Column("Current", type="integer", doc=(APPS + "DaemonSetStatus", "currentNumberScheduled")),
    Column("Ready", type="integer", doc=(APPS + "DaemonSetStatus", "numberReady")),
    Column("Up-to-date", type="integer", doc=(APPS + "DaemonSetStatus", "updatedNumberScheduled")),
    Column("Available", type="integer", doc=(APPS + "DaemonSetStatus", "numberAvailable")),
    Column("Node Selector", doc=(CORE + "PodSpec", "nodeSelector")),
    AGE,
    CONTAINERS,
    IMAGES,
    Column("Selector", priority=1, doc=(APPS + "DaemonSetSpec", "selector")),
)


def daemonset_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = spec_of(obj), status_of(obj)
    names, images = layout_container_cells(template_containers(obj))
    node_selector = mapping(mapping(spec.get("template")).get("spec")).get("nodeSelector")
    return [name_of(obj), as_int(status.get("desiredNumberScheduled")), as_int(status.get("currentNumberScheduled")),
            as_int(status.get("numberReady")), as_int(status.get("updatedNumberScheduled")),
            as_int(status.get("numberAvailable")), format_labels(node_selector), age(obj, now), names, images,
            format_label_selector(spec.get("selector"))]


# -- batch ----------------------------------------------------------------------------------------

JOB_COLUMNS = (
    NAME,
    Column("Status", doc="Status of the job."),
    Column("Completions", doc=(BATCH + "JobStatus", "succeeded")),
    Column("Duration", doc="Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    Column("Selector", priority=1, doc=(BATCH + "JobSpec", "selector")),
)


def _job_condition(conditions: Any, kind: str) -> bool:
    """``hasJobCondition``: the first condition of that type decides."""
    for condition in items(conditions):
        if condition.get("type") == kind:
            return condition.get("status") == "True"
    return False


def job_cells(job: Obj, now: float) -> list[Any]:
    spec, status = spec_of(job), status_of(job)
    succeeded = as_int(status.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{as_int(spec['completions'])}"
    else:
        parallelism = as_int(spec.get("parallelism"))
        completions = f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"
    started, finished = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    if started is None:
        duration = ""
    elif finished is None:
        duration = human_duration(now - started)
    else:
        duration = human_duration(finished - started)
    conditions = status.get("conditions")
    if _job_condition(conditions, "Complete"):
        state = "Complete"
    elif _job_condition(conditions, "Failed"):
        state = "Failed"
    elif meta_of(job).get("deletionTimestamp") is not None:
        state = "Terminating"
    elif _job_condition(conditions, "Suspended"):
        state = "Suspended"
    elif _job_condition(conditions, "FailureTarget"):
        state = "FailureTarget"
    else:
        state = "Running"
    names, images = layout_container_cells(template_containers(job))
    return [name_of(job), state, completions, duration, age(job, now), names, images,
            format_label_selector(spec.get("selector"))]


CRONJOB_COLUMNS = (
    NAME,
    Column("Schedule", doc=(BATCH + "CronJobSpec", "schedule")),
    Column("Timezone", doc=(BATCH + "CronJobSpec", "timeZone")),
    Column("Suspend", type="boolean", doc=(BATCH + "CronJobSpec", "suspend")),
    Column("Active", type="integer", doc=(BATCH + "CronJobStatus", "active")),
    Column("Last Schedule", doc=(BATCH + "CronJobStatus", "lastScheduleTime")),
    AGE,
    CONTAINERS,
    IMAGES,
    Column("Selector", priority=1, doc=(BATCH + "JobSpec", "selector")),
)


def cronjob_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = spec_of(obj), status_of(obj)
    last = status.get("lastScheduleTime")
    last_cell = translate_timestamp_since(last, now) if last is not None else NONE
    zone = spec.get("timeZone")
    suspend = spec.get("suspend")
    suspend_cell = UNSET if suspend is None else ("True" if suspend is True else "False")
    job_spec = mapping(mapping(spec.get("jobTemplate")).get("spec"))
    pod_spec = mapping(mapping(job_spec.get("template")).get("spec"))
    names, images = layout_container_cells(pod_spec.get("containers"))
    active = status.get("active")
    return [name_of(obj), as_str(spec.get("schedule")), as_str(zone) if zone is not None else NONE, suspend_cell,
            len(active) if isinstance(active, list) else 0, last_cell, age(obj, now), names, images,
            format_label_selector(job_spec.get("selector"))]


# -- other groups ---------------------------------------------------------------------------------

LEASE_COLUMNS = (NAME, Column("Holder", doc=("io.k8s.api.coordination.v1.LeaseSpec", "holderIdentity")), AGE)


def lease_cells(obj: Obj, now: float) -> list[Any]:
    return [name_of(obj), as_str(spec_of(obj).get("holderIdentity")), age(obj, now)]


SLICE = "io.k8s.api.discovery.v1.EndpointSlice"
ENDPOINTSLICE_COLUMNS = (
    NAME,
    Column("AddressType", doc=(SLICE, "addressType")),
    Column("Ports", doc=(SLICE, "ports")),
    Column("Endpoints", doc=(SLICE, "endpoints")),
    AGE,
)


def _list_with_more(listed: list[str], more: bool, count: int, limit: int) -> str:
    """``listWithMoreString``."""
    text = ",".join(listed)
    if more:
        return f"{text} + {count - limit} more..."
    return text or UNSET


def endpointslice_cells(obj: Obj, now: float) -> list[Any]:
    limit = 3
    ports: list[str] = []
    more, count = False, 0
    for port in items(obj.get("ports")):
        if len(ports) < limit:
            if port.get("port") is not None:
                ports.append(str(as_int(port.get("port"))))
            elif port.get("name") is not None:
                ports.append(as_str(port.get("name")))
            else:
                ports.append("*")
        elif len(ports) == limit:
            more = True
        count += 1
    ports_cell = _list_with_more(ports, more, count, limit)
    addresses: list[str] = []
    more, count = False, 0
    for endpoint in items(obj.get("endpoints")):
        for address in endpoint.get("addresses") or []:
            if len(addresses) < limit:
                addresses.append(as_str(address))
            elif len(addresses) == limit:
                more = True
            count += 1
    return [name_of(obj), as_str(obj.get("addressType")), ports_cell, _list_with_more(addresses, more, count, limit),
            age(obj, now)]


def binding_columns(what: str, ref_doc: Doc) -> tuple[Column, ...]:
    return (
        NAME,
        Column("Role", doc=ref_doc),
        AGE,
        Column("Users", priority=1, doc=f"Users in the {what}"),
        Column("Groups", priority=1, doc=f"Groups in the {what}"),
        Column("ServiceAccounts", priority=1, doc=f"ServiceAccounts in the {what}"),
    )


def binding_cells(obj: Obj, now: float) -> list[Any]:
    """``printRoleBinding``/``printClusterRoleBinding`` with ``rbac.SubjectsStrings``."""
    ref = mapping(obj.get("roleRef"))
    users: list[str] = []
    groups: list[str] = []
    accounts: list[str] = []
    for subject in items(obj.get("subjects")):
        kind, name = subject.get("kind"), as_str(subject.get("name"))
        if kind == "ServiceAccount":
            accounts.append(f"{as_str(subject.get('namespace'))}/{name}")
        elif kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
    return [name_of(obj), f"{as_str(ref.get('kind'))}/{as_str(ref.get('name'))}", age(obj, now),
            ", ".join(users), ", ".join(groups), ", ".join(accounts)]


PDB_COLUMNS = (
    NAME,
    Column("Min Available", doc="The minimum number of pods that must be available."),
    Column("Max Unavailable", doc="The maximum number of pods that may be unavailable."),
    Column("Allowed Disruptions", type="integer", doc="Calculated number of pods that may be disrupted at this time."),
    AGE,
)


def pdb_cells(obj: Obj, now: float) -> list[Any]:
    spec = spec_of(obj)
    low, high = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [name_of(obj), "N/A" if low is None else int_or_string(low), "N/A" if high is None else int_or_string(high),
            as_int(status_of(obj).get("disruptionsAllowed")), age(obj, now)]


SCALE_COLUMNS = (
    Column("Name", doc=(META, "name")),
    Column("Desired", type="integer", doc=("io.k8s.api.autoscaling.v1.ScaleSpec", "replicas")),
    Column("Available", type="integer", doc=("io.k8s.api.autoscaling.v1.ScaleStatus", "replicas")),
    AGE,
)


def scale_cells(obj: Obj, now: float) -> list[Any]:
    return [name_of(obj), as_int(spec_of(obj).get("replicas")), as_int(status_of(obj).get("replicas")), age(obj, now)]


# -- the fallbacks --------------------------------------------------------------------------------

#: ``rest.defaultTableConvertor``: kinds without a printer (roles, cluster roles, ...).
DEFAULT_COLUMNS = (NAME, Column("Created At", type="date", doc=(META, "creationTimestamp")))


def default_cells(obj: Obj, now: float) -> list[Any]:
    from kubeproof.server.printers.format import rfc3339

    return [name_of(obj), rfc3339(meta_of(obj).get("creationTimestamp"))]


#: The custom-resource convertor without additionalPrinterColumns (``serveDefaultColumnsIfEmpty``).
CUSTOM_COLUMNS = (NAME, Column("Age", type="date", doc=(META, "creationTimestamp")))


def custom_cells(obj: Obj, now: float) -> list[Any]:
    created = meta_of(obj).get("creationTimestamp")
    return [name_of(obj), translate_timestamp_since(created, now) if created is not None else None]


DEFAULT = Printer(DEFAULT_COLUMNS, default_cells, default=True)
CUSTOM = Printer(CUSTOM_COLUMNS, custom_cells)

RBAC = "rbac.authorization.k8s.io"
#: (group, kind) of the object -> its printer.
PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Pod"): Printer(POD_COLUMNS, pod_cells, pod_conditions),
    ("", "Service"): Printer(SERVICE_COLUMNS, service_cells),
    ("", "Endpoints"): Printer(ENDPOINTS_COLUMNS, endpoints_cells),
    ("", "ConfigMap"): Printer(CONFIGMAP_COLUMNS, configmap_cells),
    ("", "Secret"): Printer(SECRET_COLUMNS, secret_cells),
    ("", "ServiceAccount"): Printer(SERVICE_ACCOUNT_COLUMNS, service_account_cells),
    ("", "Event"): Printer(EVENT_COLUMNS, event_cells),
    ("events.k8s.io", "Event"): Printer(EVENT_COLUMNS, event_cells),
    ("", "Node"): Printer(NODE_COLUMNS, node_cells),
    ("", "Namespace"): Printer(NAMESPACE_COLUMNS, namespace_cells),
    ("", "PersistentVolumeClaim"): Printer(PVC_COLUMNS, pvc_cells),
    ("apps", "Deployment"): Printer(DEPLOYMENT_COLUMNS, deployment_cells),
    ("apps", "ReplicaSet"): Printer(REPLICASET_COLUMNS, replicaset_cells),
    ("apps", "StatefulSet"): Printer(STATEFULSET_COLUMNS, statefulset_cells),
    ("apps", "DaemonSet"): Printer(DAEMONSET_COLUMNS, daemonset_cells),
    ("batch", "Job"): Printer(JOB_COLUMNS, job_cells),
    ("batch", "CronJob"): Printer(CRONJOB_COLUMNS, cronjob_cells),
    ("coordination.k8s.io", "Lease"): Printer(LEASE_COLUMNS, lease_cells),
    ("discovery.k8s.io", "EndpointSlice"): Printer(ENDPOINTSLICE_COLUMNS, endpointslice_cells),
    (RBAC, "RoleBinding"): Printer(binding_columns("roleBinding", ("io.k8s.api.rbac.v1.RoleBinding", "roleRef")),
                                   binding_cells),
    (RBAC, "ClusterRoleBinding"): Printer(
        binding_columns("clusterRoleBinding", ("io.k8s.api.rbac.v1.ClusterRoleBinding", "roleRef")), binding_cells),
    ("policy", "PodDisruptionBudget"): Printer(PDB_COLUMNS, pdb_cells),
    ("autoscaling", "Scale"): Printer(SCALE_COLUMNS, scale_cells),
}


def printer_for(group: str, kind: str, custom: bool = False) -> Printer:
    """The printer of a kind: its own, the custom-resource default, or Name + Created At."""
    found = PRINTERS.get((group, kind))
    if found is not None:
        return found
    return CUSTOM if custom else DEFAULT
