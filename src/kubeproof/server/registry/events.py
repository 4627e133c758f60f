"""events.k8s.io/v1 Events: the same objects as core/v1 Events, in another shape.

kube-apiserver stores both in one place (``AddCohabitatingResources`` in
``pkg/kubeapiserver/default_storage_factory_builder.go``), encoded as core/v1, and converts on the way in
and out (``pkg/apis/events/v1/conversion.go``). So an Event written through one API is read, listed and
watched through the other, with one resourceVersion sequence, and both report the storage version hash
of core/v1. ``EventsV1Strategy`` (registry/builtin.py) does the same with these conversions: requests see
events.k8s.io/v1, the store holds core/v1.
"""

from __future__ import annotations

from kubeproof.server.registry.base import Obj

#: events.k8s.io/v1 field -> core/v1 field (``Convert_v1_Event_To_core_Event``); the rest keep their names.
V1_TO_CORE = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
CORE_TO_V1 = {core: v1 for v1, core in V1_TO_CORE.items()}

#: The field selector labels events.k8s.io/v1 accepts (``AddFieldLabelConversionsForEvent`` in
#: ``pkg/apis/events/v1``) -> the core label they are evaluated as.
FIELD_LABELS = {
    **{f"regarding.{k}": f"involvedObject.{k}"
       for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
    "reason": "reason",
    "reportingController": "reportingComponent",
    "type": "type",
}


def _renamed(obj: Obj, names: dict[str, str], api_version: str) -> Obj:
    out: Obj = {}
    for key, value in obj.items():
        out[names.get(key, key)] = value
    out["apiVersion"] = api_version
    return out


def to_core(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event as the core/v1 Event it is stored as."""
    return _renamed(event, V1_TO_CORE, "v1")


def to_events_v1(event: Obj) -> Obj:
    """A stored core/v1 Event as events.k8s.io/v1 shows it; anything else (a watch's Status or BOOKMARK)
    passes unchanged."""
    if event.get("kind") != "Event" or event.get("apiVersion") != "v1":
        return event
    return _renamed(event, CORE_TO_V1, "events.k8s.io/v1")
