"""The built-in resources: names, scope, verbs, and one small strategy per kind.

Like ``pkg/registry/<group>/<kind>/strategy.go``: defaults on create, what an update keeps, the
selectable fields and graceful deletion. Validation comes from ``server/validation/kinds.py``.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any, ClassVar

from kubeproof.server.registry import events, services
from kubeproof.server.registry.base import STANDARD_VERBS, Obj, ResourceType, Strategy, Subresource
from kubeproof.server.validation import kinds
from kubeproof.server.validation.field import FieldError

STATUS_VERBS = ["get", "patch", "update"]


class KindStrategy(Strategy):
    """A strategy that validates through the per-kind validators."""

    resource_key: ClassVar[str] = ""

    def validate(self, obj: Obj) -> list[FieldError]:
        return kinds.validate_create(self.resource_key, obj)

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return kinds.validate_update(self.resource_key, new, old)


def _spec(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    return spec


def default_container(container: dict[str, Any]) -> None:
    image = str(container.get("image") or "")
    tag = image.rsplit("/", 1)[-1]
    if "@" in tag:
        pull = "IfNotPresent"
    elif ":" not in tag or tag.endswith(":latest"):
        pull = "Always"
    else:
        pull = "IfNotPresent"
    container.setdefault("imagePullPolicy", pull)
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def default_pod_spec(spec: dict[str, Any]) -> None:
    """``SetDefaults_PodSpec`` and friends (``pkg/apis/core/v1/defaults.go``)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    if spec.get("serviceAccount") and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    for group in ("containers", "initContainers"):
        for container in spec.get(group) or []:
            if isinstance(container, dict):
                default_container(container)


def default_requests_from_limits(spec: dict[str, Any]) -> None:
    """``SetDefaults_Pod``: a container's limits stand in for the requests it leaves out (pods only, not
    pod templates)."""
    for group in ("containers", "initContainers"):
        for container in spec.get(group) or []:
            resources = container.get("resources") if isinstance(container, dict) else None
            limits = resources.get("limits") if isinstance(resources, dict) else None
            if not isinstance(limits, dict) or not limits:
                continue
            assert isinstance(resources, dict)
            requests = resources.get("requests")
            if not isinstance(requests, dict):
                requests = resources["requests"] = {}
            for name, value in limits.items():
                requests.setdefault(name, value)


def default_pod_template(obj: Obj) -> None:
    template = _spec(obj).get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        pod_spec = template.get("spec")
        if isinstance(pod_spec, dict):
            default_pod_spec(pod_spec)


def _qos_class(spec: dict[str, Any]) -> str:
    requests_or_limits = False
    guaranteed = True
    for container in spec.get("containers") or []:
        resources = (container or {}).get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        if limits or requests:
            requests_or_limits = True
        for res in ("cpu", "memory"):
            if res not in limits or (res in requests and requests[res] != limits[res]):
                guaranteed = False
    if not requests_or_limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _apply_label_keys(term: Any, labels: dict[str, Any], keys_field: str, operator: str) -> None:
    """``applyLabelKeysToLabelSelector``: ``key In/NotIn (the pod's value)`` for each key the pod has."""
    selector = term.get("labelSelector") if isinstance(term, dict) else None
    keys = term.get(keys_field) if isinstance(term, dict) else None
    if not isinstance(selector, dict) or not keys:
        return  # a nil selector matches nothing: nothing to narrow
    for key in keys:
        if key in labels:
            expressions = selector.get("matchExpressions") or []
            selector["matchExpressions"] = [*expressions, {"key": key, "operator": operator, "values": [labels[key]]}]


def merge_label_keys(spec: dict[str, Any], labels: dict[str, Any]) -> None:
    """``podStrategy.PrepareForCreate``'s ``mutatePodAffinity`` and ``mutateTopologySpreadConstraints``
    (MatchLabelKeysInPodAffinity, MatchLabelKeysInPodTopologySpreadSelectorMerge): a new pod's
    ``matchLabelKeys`` and ``mismatchLabelKeys`` become expressions of the term's label selector, with the
    pod's own label values, so every reader (the scheduler included) sees one selector."""
    affinity = spec.get("affinity")
    affinity = affinity if isinstance(affinity, dict) else {}
    for kind in ("podAffinity", "podAntiAffinity"):
        terms = affinity.get(kind)
        terms = terms if isinstance(terms, dict) else {}
        preferred = terms.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        required = terms.get("requiredDuringSchedulingIgnoredDuringExecution") or []
        for term in [*(w.get("podAffinityTerm") for w in preferred if isinstance(w, dict)), *required]:
            _apply_label_keys(term, labels, "matchLabelKeys", "In")
            _apply_label_keys(term, labels, "mismatchLabelKeys", "NotIn")
    for constraint in spec.get("topologySpreadConstraints") or []:
        _apply_label_keys(constraint, labels, "matchLabelKeys", "In")


class PodStrategy(KindStrategy):
    resource_key = "pods"
    track_generation = True
    has_status = True
    return_deleted_object = True
    has_field_label_conversion = True
    selectable_fields = (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    )

    def prepare_for_create(self, obj: Obj) -> None:
        spec = _spec(obj)
        default_pod_spec(spec)
        default_requests_from_limits(spec)
        merge_label_keys(spec, (obj.get("metadata") or {}).get("labels") or {})
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(spec)}

    def field_values(self, obj: Obj) -> dict[str, str]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        ips = [str(ip.get("ip", "")) for ip in status.get("podIPs") or [] if isinstance(ip, dict)]
        return {
            "spec.nodeName": str(spec.get("nodeName") or ""),
            "spec.restartPolicy": str(spec.get("restartPolicy") or ""),
            "spec.schedulerName": str(spec.get("schedulerName") or ""),
            "spec.serviceAccountName": str(spec.get("serviceAccountName") or ""),
            "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
            "status.phase": str(status.get("phase") or ""),
            "status.podIP": str(status.get("podIP") or ""),
            "status.podIPs": ips[0] if ips else "",
            "status.nominatedNodeName": str(status.get("nominatedNodeName") or ""),
        }

    def graceful_delete_period(self, obj: Obj, requested: int | None) -> int | None:
        """``podStrategy.CheckGracefulDelete``: unscheduled or finished pods go at once."""
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        period = requested if requested is not None else int(spec.get("terminationGracePeriodSeconds", 30) or 0)
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        return 1 if period < 0 else period


class NamespaceStrategy(KindStrategy):
    resource_key = "namespaces"
    has_status = True
    return_deleted_object = True
    has_field_label_conversion = True
    selectable_fields = ("status.phase", "name")

    def prepare_for_create(self, obj: Obj) -> None:
        name = (obj.get("metadata") or {}).get("name") or ""
        spec = _spec(obj)
        finalizers = list(spec.get("finalizers") or [])
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")
        spec["finalizers"] = finalizers
        obj["status"] = {"phase": "Active"}
        meta = obj.setdefault("metadata", {})
        if name:
            labels = dict(meta.get("labels") or {})
            labels["kubernetes.io/metadata.name"] = name
            meta["labels"] = labels

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        # spec.finalizers change only through /finalize; status only through /status.
        new["spec"] = old.get("spec", {})
        super().prepare_for_update(new, old)
        name = (new.get("metadata") or {}).get("name")
        if name:
            labels = dict(new["metadata"].get("labels") or {})
            labels["kubernetes.io/metadata.name"] = name
            new["metadata"]["labels"] = labels

    def pending_finalizers(self, obj: Obj) -> bool:
        return super().pending_finalizers(obj) or bool((obj.get("spec") or {}).get("finalizers"))

    def may_delete_during_update(self, obj: Obj) -> bool:
        return not (obj.get("spec") or {}).get("finalizers")

    def mark_deleting(self, obj: Obj) -> None:
        status = dict(obj.get("status") or {})
        status["phase"] = "Terminating"
        obj["status"] = status

    def field_values(self, obj: Obj) -> dict[str, str]:
        return {
            "status.phase": str((obj.get("status") or {}).get("phase") or ""),
            "name": str((obj.get("metadata") or {}).get("name") or ""),
        }


class ServiceStrategy(KindStrategy):
    resource_key = "services"
    has_status = True
    return_deleted_object = True
    has_field_label_conversion = True
    selectable_fields = ("spec.clusterIP", "spec.type")

    def prepare_for_create(self, obj: Obj) -> None:
        # IP families, ClusterIPs and NodePorts come from the allocator (registry/services.py).
        services.default_service(obj)
        obj["status"] = {"loadBalancer": {}}

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        services.prepare_service_update(new, old)

    def field_values(self, obj: Obj) -> dict[str, str]:
        spec = obj.get("spec") or {}
        return {"spec.clusterIP": str(spec.get("clusterIP") or ""), "spec.type": str(spec.get("type") or "")}


class EndpointsStrategy(KindStrategy):
    """``SetDefaults_Endpoints``: ports default to TCP."""

    resource_key = "endpoints"

    def prepare_for_create(self, obj: Obj) -> None:
        _default_endpoint_ports(subset.get("ports") for subset in _dicts(obj.get("subsets")))

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        self.prepare_for_create(new)


class EndpointSliceStrategy(KindStrategy):
    """``SetDefaults_EndpointPort`` (discovery/v1): ports default to TCP and an empty name."""

    resource_key = "endpointslices.discovery.k8s.io"

    def prepare_for_create(self, obj: Obj) -> None:
        _default_endpoint_ports([obj.get("ports")], name=True)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        self.prepare_for_create(new)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _default_endpoint_ports(port_lists: Any, name: bool = False) -> None:
    for ports in port_lists:
        for port in _dicts(ports):
            if not port.get("protocol"):
                port["protocol"] = "TCP"
            if name and port.get("name") is None:
                port["name"] = ""


class SecretStrategy(KindStrategy):
    resource_key = "secrets"
    has_field_label_conversion = True
    selectable_fields = ("type",)

    def prepare_for_create(self, obj: Obj) -> None:
        obj.setdefault("type", "Opaque")
        _merge_string_data(obj)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        _merge_string_data(new)

    def field_values(self, obj: Obj) -> dict[str, str]:
        return {"type": str(obj.get("type") or "")}


def _merge_string_data(obj: Obj) -> None:
    """``Convert_v1_Secret_To_core_Secret``: write-only ``stringData`` overwrites ``data`` and is not stored."""
    string_data = obj.pop("stringData", None)
    if not isinstance(string_data, dict) or not string_data:
        return
    data = obj.get("data")
    if not isinstance(data, dict):
        data = obj["data"] = {}
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()


class NodeStrategy(KindStrategy):
    resource_key = "nodes"
    has_status = True
    has_field_label_conversion = True
    selectable_fields = ("spec.unschedulable",)

    def field_values(self, obj: Obj) -> dict[str, str]:
        return {"spec.unschedulable": "true" if (obj.get("spec") or {}).get("unschedulable") else "false"}


class EventStrategy(KindStrategy):
    resource_key = "events"
    has_field_label_conversion = True
    selectable_fields = (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    )

    def field_values(self, obj: Obj) -> dict[str, str]:
        involved = obj.get("involvedObject") or {}
        values = {f"involvedObject.{k}": str(involved.get(k) or "") for k in (
            "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")}
        values["reason"] = str(obj.get("reason") or "")
        values["reportingComponent"] = str(obj.get("reportingComponent") or "")
        # ToSelectableFields: an event of the new API has no source; it selects by its reporting controller.
        values["source"] = str((obj.get("source") or {}).get("component") or "") or values["reportingComponent"]
        values["type"] = str(obj.get("type") or "")
        return values


class EventsV1Strategy(KindStrategy):
    """events.k8s.io/v1 Events (registry/events.py): the new API's strict validation on the request's shape,
    storage and field selectors in core/v1 terms."""

    resource_key = "events.events.k8s.io"
    has_field_label_conversion = True
    selectable_fields = tuple(events.FIELD_LABELS)

    def field_values(self, obj: Obj) -> dict[str, str]:
        """Evaluated on the stored core/v1 object, as ``AddFieldLabelConversionsForEvent`` maps the labels."""
        core = EventStrategy().field_values(obj)
        return {label: core[core_label] for label, core_label in events.FIELD_LABELS.items()}

    def to_storage(self, obj: Obj) -> Obj:
        return events.to_core(obj)

    def from_storage(self, obj: Obj) -> Obj:
        return events.to_events_v1(obj)


RBAC_GROUP = "rbac.authorization.k8s.io"


def default_binding(obj: Obj) -> None:
    """``SetDefaults_RoleBinding``/``ClusterRoleBinding`` and ``SetDefaults_Subject`` (rbac/v1)."""
    ref = obj.get("roleRef")
    if isinstance(ref, dict) and not ref.get("apiGroup"):
        ref["apiGroup"] = RBAC_GROUP
    for subject in _dicts(obj.get("subjects")):
        if not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = RBAC_GROUP


class BindingStrategy(KindStrategy):
    def prepare_for_create(self, obj: Obj) -> None:
        default_binding(obj)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        default_binding(new)


class PVCStrategy(KindStrategy):
    resource_key = "persistentvolumeclaims"
    has_status = True
    return_deleted_object = True

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        _spec(obj).setdefault("volumeMode", "Filesystem")
        obj["status"] = {"phase": "Pending"}


class WorkloadStrategy(KindStrategy):
    """Deployments, ReplicaSets, StatefulSets, DaemonSets: generation tracks the spec, status is separate."""

    track_generation = True
    has_status = True

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        default_pod_template(obj)


class DeploymentStrategy(WorkloadStrategy):
    resource_key = "deployments.apps"

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        spec = _spec(obj)
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy.setdefault("type", "RollingUpdate")
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)


class ReplicaSetStrategy(WorkloadStrategy):
    resource_key = "replicasets.apps"

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        _spec(obj).setdefault("replicas", 1)


class StatefulSetStrategy(WorkloadStrategy):
    resource_key = "statefulsets.apps"

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        spec = _spec(obj)
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
        )


class DaemonSetStrategy(WorkloadStrategy):
    resource_key = "daemonsets.apps"

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        spec = _spec(obj)
        spec.setdefault(
            "updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
        )
        spec.setdefault("revisionHistoryLimit", 10)


class JobStrategy(WorkloadStrategy):
    resource_key = "jobs.batch"

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        spec = _spec(obj)
        meta = obj.setdefault("metadata", {})
        # SetDefaults_Job: both counts 1 only when both are unset (a work queue sets parallelism alone)
        if spec.get("completions") is None and spec.get("parallelism") is None:
            spec["completions"] = 1
        spec.setdefault("parallelism", 1)
        if spec.get("backoffLimit") is None:
            spec["backoffLimit"] = 2**31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
        meta.setdefault("labels", {})

    def finish_create(self, obj: Obj) -> None:
        """Generate the selector from the uid, as ``jobStrategy.PrepareForCreate`` does."""
        spec = _spec(obj)
        meta = obj["metadata"]
        if spec.get("manualSelector") or spec.get("selector"):
            return
        uid = meta["uid"]
        name = meta.get("name", "")
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        template = spec.setdefault("template", {})
        tmeta = template.setdefault("metadata", {})
        labels = dict(tmeta.get("labels") or {})
        labels.update(
            {
                "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": uid,
                "job-name": name,
            }
        )
        tmeta["labels"] = labels
        mlabels = dict(meta.get("labels") or {})
        for key in ("batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name", "controller-uid",
                    "job-name"):
            mlabels.setdefault(key, labels[key])
        meta["labels"] = mlabels


class CronJobStrategy(KindStrategy):
    resource_key = "cronjobs.batch"
    track_generation = True
    has_status = True

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        spec = _spec(obj)
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        job_template = spec.get("jobTemplate")
        if isinstance(job_template, dict):
            default_pod_template(job_template)


class PDBStrategy(KindStrategy):
    resource_key = "poddisruptionbudgets.policy"
    track_generation = True
    has_status = True


def _simple(key: str, base: type[KindStrategy] = KindStrategy, **attrs: Any) -> Strategy:
    cls = type(key.split(".")[0].title().replace("-", "") + "Strategy", (base,),
               {"resource_key": key, **attrs})
    strategy: Strategy = cls()
    return strategy


def _rt(
    group: str,
    kind: str,
    plural: str,
    namespaced: bool,
    strategy: Strategy,
    short: list[str] | None = None,
    categories: list[str] | None = None,
    subresources: list[Subresource] | None = None,
    verbs: list[str] | None = None,
) -> ResourceType:
    return ResourceType(
        group=group,
        version="v1",
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=namespaced,
        strategy=strategy,
        short_names=short or [],
        categories=categories or [],
        verbs=verbs or list(STANDARD_VERBS),
        subresources={s.name: s for s in subresources or []},
    )


def status() -> Subresource:
    return Subresource("status", STATUS_VERBS)


def scale() -> Subresource:
    return Subresource("scale", STATUS_VERBS, kind="Scale", group="autoscaling", version="v1")


def builtin_resources() -> list[ResourceType]:
    """Every built-in resource the embedded server serves, in discovery order."""
    rbac = "rbac.authorization.k8s.io"
    return [
        _rt("", "Pod", "pods", True, PodStrategy(), ["po"], ["all"], [status(), Subresource("log", ["get"])]),
        _rt("", "Service", "services", True, ServiceStrategy(), ["svc"], ["all"], [status()],
            verbs=["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]),
        _rt("", "Endpoints", "endpoints", True, EndpointsStrategy(), ["ep"]),
        _rt("", "ConfigMap", "configmaps", True, _simple("configmaps"), ["cm"]),
        _rt("", "Secret", "secrets", True, SecretStrategy()),
        _rt("", "ServiceAccount", "serviceaccounts", True,
            _simple("serviceaccounts", return_deleted_object=True), ["sa"]),
        _rt("", "Event", "events", True, EventStrategy(), ["ev"]),
        _rt("", "Node", "nodes", False, NodeStrategy(), ["no"], None, [status()]),
        _rt("", "Namespace", "namespaces", False, NamespaceStrategy(), ["ns"], None,
            [status(), Subresource("finalize", ["update"])],
            verbs=["create", "delete", "get", "list", "patch", "update", "watch"]),
        _rt("", "PersistentVolumeClaim", "persistentvolumeclaims", True, PVCStrategy(), ["pvc"], None,
            [status()]),
        _rt("apps", "Deployment", "deployments", True, DeploymentStrategy(), ["deploy"], ["all"],
            [status(), scale()]),
        _rt("apps", "ReplicaSet", "replicasets", True, ReplicaSetStrategy(), ["rs"], ["all"],
            [status(), scale()]),
        _rt("apps", "StatefulSet", "statefulsets", True, StatefulSetStrategy(), ["sts"], ["all"],
            [status(), scale()]),
        _rt("apps", "DaemonSet", "daemonsets", True, DaemonSetStrategy(), ["ds"], ["all"], [status()]),
        _rt("apps", "ControllerRevision", "controllerrevisions", True, _simple("controllerrevisions.apps")),
        _rt("batch", "Job", "jobs", True, JobStrategy(), None, ["all"], [status()]),
        _rt("batch", "CronJob", "cronjobs", True, CronJobStrategy(), ["cj"], ["all"], [status()]),
        _rt("coordination.k8s.io", "Lease", "leases", True, _simple("leases.coordination.k8s.io")),
        _rt("discovery.k8s.io", "EndpointSlice", "endpointslices", True, EndpointSliceStrategy()),
        replace(_rt("events.k8s.io", "Event", "events", True, EventsV1Strategy(), ["ev"]),
                stored_as=("", "v1", "Event", "events")),
        _rt(rbac, "Role", "roles", True, _simple(f"roles.{rbac}")),
        _rt(rbac, "RoleBinding", "rolebindings", True, _simple(f"rolebindings.{rbac}", base=BindingStrategy)),
        _rt(rbac, "ClusterRole", "clusterroles", False, _simple(f"clusterroles.{rbac}")),
        _rt(rbac, "ClusterRoleBinding", "clusterrolebindings", False,
            _simple(f"clusterrolebindings.{rbac}", base=BindingStrategy)),
        _rt("policy", "PodDisruptionBudget", "poddisruptionbudgets", True, PDBStrategy(), ["pdb"], None,
            [status()]),
    ]
