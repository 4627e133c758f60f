"""``as=Table`` and ``as=PartialObjectMetadata[List]`` responses, as ``handlers/response.go`` builds them.

kubectl asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` on get, list and watch; the server answers
with a ``meta.k8s.io`` Table whose columns come from the kind's printer (``server/printers``). Each row's
``object`` follows ``?includeObject=``: ``Metadata`` (the default) a PartialObjectMetadata, ``Object`` the
whole object, ``None`` nothing. On a watch every event carries a one-row Table; only the first event has
``columnDefinitions`` (``watchEmbeddedEncoder`` sets ``NoHeaders`` after it), later ones ``null``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubeproof.server import errors
from kubeproof.server.negotiation import Negotiated
from kubeproof.server.options import Query, first
from kubeproof.server.printers.kinds import Printer, printer_for
from kubeproof.server.registry.base import Obj, ResourceType
from kubeproof.server.validation.field import invalid
from kubeproof.server.watch import INITIAL_EVENTS_END, encode_event

META_GROUP = "meta.k8s.io"
TABLE = "Table"
PARTIAL = "PartialObjectMetadata"
PARTIAL_LIST = "PartialObjectMetadataList"

#: The ``(as, g, v)`` conversions of every resource endpoint (``RequestScope.AllowsConversion``).
TRANSFORMS: frozenset[tuple[str, str, str]] = frozenset(
    (kind, META_GROUP, version) for kind in (TABLE, PARTIAL, PARTIAL_LIST) for version in ("v1", "v1beta1")
)

INCLUDE_METADATA, INCLUDE_OBJECT, INCLUDE_NONE = "Metadata", "Object", "None"

Encoder = Callable[[str, Obj], bytes]


def include_object(query: Query) -> str:
    """``TableOptions.includeObject`` after ``ValidateTableOptions`` (400 for an unknown value)."""
    value = first(query, "includeObject") or ""
    if value not in ("", INCLUDE_METADATA, INCLUDE_NONE, INCLUDE_OBJECT):
        error = invalid("includeObject", value, "must be 'Metadata', 'Object', 'None', or empty")
        raise errors.bad_request(f"Unable to convert to Table as requested: {error}")
    return value or INCLUDE_METADATA


def group_version(negotiated: Negotiated) -> str:
    return f"{negotiated.group}/{negotiated.version}"


def internal_type(rt: ResourceType, is_list: bool = False) -> str:
    """What Go's ``%T`` prints for the object the handler holds (the internal type of the resource)."""
    if rt.typed_list_items:
        return "*unstructured.UnstructuredList" if is_list else "*unstructured.Unstructured"
    package = "core" if rt.group in ("", "events.k8s.io") else rt.group.split(".")[0]
    return f"*{package}.{rt.kind}{'List' if is_list else ''}"


def printer_of(rt: ResourceType, obj: Obj | None = None) -> Printer:
    """The printer for what is printed: the object's own kind (a subresource may answer with another)."""
    kind, group = rt.kind, rt.group
    custom = getattr(rt.strategy, "printer", None)
    if isinstance(custom, Printer) and (obj is None or obj.get("kind") in (None, rt.kind)):
        return custom  # a CRD's additionalPrinterColumns (server/crd/resource.py)
    if obj is not None and isinstance(obj.get("kind"), str) and isinstance(obj.get("apiVersion"), str):
        api_version: str = obj["apiVersion"]
        kind = obj["kind"]
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return printer_for(group, kind, custom=rt.typed_list_items)


def partial_object_metadata(obj: Obj, gv: str) -> Obj:
    """``meta.AsPartialObjectMetadata``: kind, apiVersion and the whole ``metadata``."""
    metadata = obj.get("metadata")
    return {"kind": PARTIAL, "apiVersion": gv, "metadata": metadata if isinstance(metadata, dict) else {}}


def typed(rt: ResourceType, obj: Obj) -> Obj:
    """The object as its versioned encoding carries it: ``kind`` and ``apiVersion`` first."""
    if "kind" in obj and "apiVersion" in obj:
        return obj
    return {"kind": rt.kind, "apiVersion": rt.api_version, **obj}


def row_object(rt: ResourceType, obj: Obj, include: str, gv: str) -> Obj | None:
    if include == INCLUDE_OBJECT:
        return typed(rt, obj)
    if include == INCLUDE_NONE:
        return None
    return partial_object_metadata(obj, gv)


def build_table(
    rt: ResourceType,
    objects: list[Obj],
    metadata: dict[str, Any],
    *,
    include: str,
    gv: str,
    single: bool,
    no_headers: bool = False,
    now: float | None = None,
    force_partial: bool = False,
) -> Obj:
    """``ConvertToTable`` + ``asTable``: one row per object, cells from the kind's printer."""
    at = time.time() if now is None else now
    printer = printer_of(rt, objects[0] if single and objects else None)
    rows: list[dict[str, Any]] | None = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, at)}
        if printer.conditions is not None and (conditions := printer.conditions(obj)):
            row["conditions"] = conditions
        row["object"] = partial_object_metadata(obj, gv) if force_partial else row_object(rt, obj, include, gv)
        assert rows is not None
        rows.append(row)
    if printer.default and not objects:
        rows = None  # the default convertor appends to a nil slice
    columns = None if no_headers else [column.definition() for column in printer.columns]
    return {"kind": TABLE, "apiVersion": gv, "metadata": metadata, "columnDefinitions": columns, "rows": rows}


def _object_meta(obj: Obj) -> dict[str, Any]:
    """A single object's Table metadata: its resourceVersion."""
    metadata = obj.get("metadata")
    rv = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
    return {"resourceVersion": rv} if rv else {}


def not_acceptable(message: str) -> errors.StatusError:
    """``errNotAcceptable`` of ``handlers/response.go`` (no details)."""
    return errors.StatusError(406, "NotAcceptable", message)


def transform_object(rt: ResourceType, obj: Obj, negotiated: Negotiated, query: Query) -> Obj:
    """The answer to a get: the object, its Table, or its PartialObjectMetadata."""
    transform = negotiated.transform
    if not transform:
        return obj
    gv = group_version(negotiated)
    if transform == TABLE:
        include = include_object(query)
        return build_table(rt, [obj], _object_meta(obj), include=include, gv=gv, single=True)
    if transform == PARTIAL:
        return partial_object_metadata(obj, gv)
    raise not_acceptable(
        f"you requested {PARTIAL_LIST}, but the requested object is not a list ({internal_type(rt)})"
    )


def transform_list(rt: ResourceType, objects: list[Obj], metadata: dict[str, Any], negotiated: Negotiated,
                   query: Query) -> Obj | None:
    """The answer to a list in the negotiated form; None when the plain list is wanted."""
    transform = negotiated.transform
    if not transform:
        return None
    gv = group_version(negotiated)
    if transform == TABLE:
        include = include_object(query)
        return build_table(rt, objects, metadata, include=include, gv=gv, single=False)
    if transform == PARTIAL_LIST:
        partials = [partial_object_metadata(obj, gv) for obj in objects]
        return {"kind": PARTIAL_LIST, "apiVersion": gv, "metadata": metadata, "items": partials or None}
    raise not_acceptable(
        f"you requested {PARTIAL}, but the requested object is a list ({internal_type(rt, is_list=True)})"
    )


class TableWatchEncoder:
    """``watchEmbeddedEncoder`` for ``as=Table``: each event a one-row Table, headers on the first only.

    The initial-events-end BOOKMARK of a watch-list stream becomes a one-row Table too, its row object a
    PartialObjectMetadata whatever ``includeObject`` says, so the ``k8s.io/initial-events-end`` annotation
    reaches the client (kube-apiserver 1.34+).
    """

    def __init__(self, rt: ResourceType, include: str, gv: str) -> None:
        self.rt = rt
        self.include = include
        self.gv = gv
        self.no_headers = False

    def __call__(self, event_type: str, obj: Obj) -> bytes:
        if obj.get("kind") == "Status" and event_type == "ERROR":
            out = obj  # doTransformObject leaves a Status alone
        else:
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            end_marker = event_type == "BOOKMARK" and annotations.get(INITIAL_EVENTS_END) == "true"
            out = build_table(self.rt, [obj], _object_meta(obj), include=self.include, gv=self.gv, single=True,
                              no_headers=self.no_headers, force_partial=end_marker)
        self.no_headers = True
        return encode_event(event_type, out)


class PartialWatchEncoder:
    """``as=PartialObjectMetadata`` on a watch: every object (bookmarks too) reduced to its metadata."""

    def __init__(self, gv: str) -> None:
        self.gv = gv

    def __call__(self, event_type: str, obj: Obj) -> bytes:
        if obj.get("kind") == "Status" and event_type == "ERROR":
            return encode_event(event_type, obj)
        return encode_event(event_type, partial_object_metadata(obj, self.gv))


def watch_encoder(rt: ResourceType, negotiated: Negotiated, query: Query) -> Encoder:
    """The event encoder of a watch in the negotiated form.

    Table options are validated here, before the stream starts, as ``serveWatchHandler`` does.
    """
    transform = negotiated.transform
    if transform == TABLE:
        return TableWatchEncoder(rt, include_object(query), group_version(negotiated))
    if transform == PARTIAL:
        return PartialWatchEncoder(group_version(negotiated))
    # No transform, or PartialObjectMetadataList (the transform fails per event and kube-apiserver
    # sends the object unchanged).
    return encode_event
