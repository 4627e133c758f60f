"""Custom resources: one ResourceType per served version of a CRD, with a schema-driven strategy.

After ``apiextensions-apiserver/pkg/registry/customresource/strategy.go``: generation counts spec changes
(every non-metadata change when there is no status subresource), status is reset on create and kept by
the main endpoint when the status subresource is on, PUT needs a resourceVersion, and validation is the
generic ObjectMeta check, the structural schema (``structural.py``) and the CEL rules (``cel.py``).
All served versions share one store key (``<plural>.<group>``); with conversion strategy None only
``apiVersion`` differs, and responses rewrite it to the version of the request (:meth:`convert_out`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, ClassVar

from kubeproof.server.crd import cel, structural
from kubeproof.server.printers.kinds import CUSTOM, NAME, Column, Printer
from kubeproof.server.registry.base import STANDARD_VERBS, Obj, ResourceType, Strategy, Subresource
from kubeproof.server.validation import names
from kubeproof.server.validation.field import FieldError
from kubeproof.server.validation.objectmeta import validate_object_meta, validate_object_meta_update

STATUS_VERBS = ["get", "patch", "update"]
_SERIALS = itertools.count(1)


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class CustomResourceStrategy(Strategy):
    allow_unconditional_update: ClassVar[bool] = False
    track_generation: ClassVar[bool] = True

    def __init__(self, crd: Obj, version: Obj) -> None:
        spec = _map(crd.get("spec"))
        self.group = str(spec.get("group") or "")
        self.version = str(version.get("name") or "")
        self.kind = str(_map(spec.get("names")).get("kind") or "")
        self.namespaced = spec.get("scope") == "Namespaced"
        self.schema: dict[str, Any] = _map(_map(version.get("schema")).get("openAPIV3Schema"))
        #: What the strict decoder keeps of a body (server/fieldvalidation.py): per cluster, as the CRD is.
        self.pruning_schema = structural.pruning_schema(self.schema)
        subresources = _map(version.get("subresources"))
        self.status_enabled = isinstance(subresources.get("status"), dict)
        # ``has_status`` is per CRD here, not per class.
        self.has_status = self.status_enabled  # type: ignore[misc]
        self.scale: dict[str, Any] | None = subresources.get("scale") if isinstance(
            subresources.get("scale"), dict) else None
        self.printer = printer(version)
        self.rules = cel.compile_rules(self.schema)
        #: Tells caches (the OpenAPI documents) that what is served changed.
        self.serial = next(_SERIALS)


    def spec_changed(self, new: Obj, old: Obj) -> bool:
        ignored = {"metadata", "kind", "apiVersion"}
        if self.status_enabled:
            ignored.add("status")
        keys = (set(new) | set(old)) - ignored
        return any(new.get(k) != old.get(k) for k in keys)

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        structural.apply_defaults(obj, self.schema)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        structural.apply_defaults(new, self.schema)

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_status_update(new, old)
        structural.apply_defaults(new, self.schema)

    def _validate_meta(self, obj: Obj) -> list[FieldError]:
        return validate_object_meta(obj.get("metadata"), namespaced=self.namespaced,
                                    name_fn=names.name_is_dns_subdomain, kube_finalizers=False)

    def validate(self, obj: Obj) -> list[FieldError]:
        errs = self._validate_meta(obj)
        errs += structural.validate(obj, self.schema)
        if not errs:
            errs += cel.evaluate(self.rules, obj, None)
        return errs

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        errs = self._validate_meta(new)
        errs += validate_object_meta_update(new.get("metadata"), old.get("metadata"), kube_finalizers=False)
        errs += structural.validate(new, self.schema)
        if not errs:
            errs += cel.evaluate(self.rules, new, old)
        return errs

    # -- versions ----------------------------------------------------------------------------------

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    def convert_out(self, obj: Any) -> Any:
        """Conversion strategy None: an object of another served version only changes its apiVersion."""
        if not isinstance(obj, dict):
            return obj
        if obj.get("kind") == self.kind and str(obj.get("apiVersion", "")).startswith(self.group + "/") \
                and obj.get("apiVersion") != self.api_version:
            return {**obj, "apiVersion": self.api_version}
        items = obj.get("items")
        if isinstance(items, list) and any(isinstance(i, dict) and i.get("kind") == self.kind for i in items):
            return {**obj, "items": [self.convert_out(i) for i in items]}
        rows = obj.get("rows")
        if obj.get("kind") == "Table" and isinstance(rows, list):
            return {**obj, "rows": [{**r, "object": self.convert_out(r.get("object"))} if isinstance(r, dict)
                                    else r for r in rows]}
        return obj

    def wrap_encoder(self, encode: Callable[[str, Obj], bytes]) -> Callable[[str, Obj], bytes]:
        def converted(event_type: str, obj: Obj) -> bytes:
            return encode(event_type, self.convert_out(obj))

        return converted


# -- printer columns ---------------------------------------------------------------------------------


def printer(version: Obj) -> Printer:
    """``tableconvertor.New``: Name, the additionalPrinterColumns, and Age unless a column is named so."""
    columns_spec = [c for c in version.get("additionalPrinterColumns") or [] if isinstance(c, dict)]
    if not columns_spec:
        return CUSTOM
    from kubeproof.server.printers.format import translate_timestamp_since

    columns: list[Column] = [NAME]
    paths: list[tuple[str, str, str]] = []
    for spec in columns_spec:
        columns.append(Column(str(spec.get("name") or ""), type=str(spec.get("type") or "string"),
                              format=str(spec.get("format") or ""), doc=str(spec.get("description") or ""),
                              priority=int(spec.get("priority") or 0)))
        paths.append((str(spec.get("jsonPath") or ""), str(spec.get("type") or "string"),
                      str(spec.get("format") or "")))

    def cells(obj: Obj, now: float) -> list[Any]:
        out: list[Any] = [(obj.get("metadata") or {}).get("name", "")]
        for path, typ, _fmt in paths:
            value = _jsonpath(path, obj)
            if value is None:
                out.append(None)
            elif typ == "date":
                out.append(translate_timestamp_since(value, now))
            elif typ == "integer" and isinstance(value, float) and value.is_integer():
                out.append(int(value))
            elif typ == "string" and not isinstance(value, str):
                out.append(_go_print(value))
            else:
                out.append(value)
        return out

    return Printer(tuple(columns), cells)


def _go_print(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _jsonpath(path: str, obj: Obj) -> Any:
    """The first value a column's jsonPath selects (``findResults``), or None."""
    from kubeproof.testing.jsonpath import JSONPathError, find

    try:
        found = find("{" + path + "}" if not path.startswith("{") else path, obj)
    except JSONPathError:
        return None
    if not found:
        return None
    if len(found) > 1:
        return ",".join(v if isinstance(v, str) else _go_print(v) for v in found)
    return found[0]


# -- resource types -------------------------------------------------------------------------------------


def resource_types(crd: Obj) -> list[ResourceType]:
    """One ResourceType per served version; the storage version comes last (so ``by_key`` names it)."""
    spec = _map(crd.get("spec"))
    names_ = _map(_map(crd.get("status")).get("acceptedNames")) or _map(spec.get("names"))
    if not names_.get("plural") or not names_.get("kind"):
        names_ = _map(spec.get("names"))
    out: list[ResourceType] = []
    versions = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served")]
    versions.sort(key=lambda v: bool(v.get("storage")))
    for version in versions:
        strategy = CustomResourceStrategy(crd, version)
        subresources: dict[str, Subresource] = {}
        if strategy.status_enabled:
            subresources["status"] = Subresource("status", list(STATUS_VERBS))
        if strategy.scale is not None:
            subresources["scale"] = Subresource("scale", list(STATUS_VERBS), kind="Scale", group="autoscaling",
                                                version="v1")
        kind = str(names_.get("kind"))
        out.append(ResourceType(
            group=str(spec.get("group")),
            version=str(version.get("name")),
            kind=kind,
            plural=str(names_.get("plural")),
            singular=str(names_.get("singular") or kind.lower()),
            namespaced=spec.get("scope") == "Namespaced",
            strategy=strategy,
            short_names=list(names_.get("shortNames") or []),
            categories=list(names_.get("categories") or []),
            verbs=list(STANDARD_VERBS),
            subresources=subresources,
            list_kind=str(names_.get("listKind") or kind + "List"),
            typed_list_items=True,
        ))
    return out
