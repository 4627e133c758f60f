"""The type errors Go's JSON decoder reports for a built-in object, from the kind's 1.37 schema.

kube-apiserver decodes a body into the versioned Go struct (``sigs.k8s.io/json``, a fork of
``encoding/json``); a JSON value of the wrong type fails as ``json: cannot unmarshal <json type> into Go
struct field <Struct>.<json path> of type <Go type>``, where ``Struct`` is the innermost struct, the path
lists the JSON field names from the root (no list indices, no map keys), and the Go type is the target's
``reflect.Type`` (``[]v1.Container``, ``map[string]string``, ``int32``). The decoder keeps going after
such an error and reports the first one in document order; errors of types with their own
``UnmarshalJSON`` (``IntOrString``, ``Quantity``, ``Time``) stop it at once and win. The handler wraps
the error as ``<Kind> in version "<version>" cannot be handled as a <Kind>: <error>`` (400 BadRequest).

The schemas say which JSON type each field takes, not the name of Go's named types, so the named types
that clients most often get wrong are listed in ``NAMED_TYPES``; other named string types read ``string``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeproof.server import errors, schema
from kubeproof.server.decoding import go_json_type
from kubeproof.server.registry.base import JSON_NUMBERS, Obj, ResourceType
from kubeproof.server.validation.field import FieldError

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
TIMES = ("io.k8s.apimachinery.pkg.apis.meta.v1.Time", "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime")
#: Types with an ``UnmarshalJSON`` that takes any JSON value.
ANY_JSON = (
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
    # A CRD schema's ``items``/``additionalProperties``/``dependencies``: schema, bool or array (UnmarshalJSON).
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
)
QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

#: (struct, JSON field) -> Go type, for fields of a named (non-struct) Go type.
NAMED_TYPES: dict[tuple[str, str], str] = {
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "uid"): "types.UID",
    ("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", "uid"): "types.UID",
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "operator"): "v1.LabelSelectorOperator",
    ("io.k8s.api.core.v1.Container", "imagePullPolicy"): "v1.PullPolicy",
    ("io.k8s.api.core.v1.Container", "terminationMessagePolicy"): "v1.TerminationMessagePolicy",
    ("io.k8s.api.core.v1.ContainerPort", "protocol"): "v1.Protocol",
    ("io.k8s.api.core.v1.ServicePort", "protocol"): "v1.Protocol",
    ("io.k8s.api.core.v1.ServiceSpec", "type"): "v1.ServiceType",
    ("io.k8s.api.core.v1.ServiceSpec", "sessionAffinity"): "v1.ServiceAffinity",
    ("io.k8s.api.core.v1.ServiceSpec", "externalTrafficPolicy"): "v1.ServiceExternalTrafficPolicy",
    ("io.k8s.api.core.v1.ServiceSpec", "internalTrafficPolicy"): "v1.ServiceInternalTrafficPolicy",
    ("io.k8s.api.core.v1.ServiceSpec", "ipFamilyPolicy"): "v1.IPFamilyPolicy",
    ("io.k8s.api.core.v1.ServiceSpec", "ipFamilies"): "[]v1.IPFamily",
    ("io.k8s.api.core.v1.PodSpec", "restartPolicy"): "v1.RestartPolicy",
    ("io.k8s.api.core.v1.PodSpec", "dnsPolicy"): "v1.DNSPolicy",
    ("io.k8s.api.core.v1.PodSpec", "preemptionPolicy"): "v1.PreemptionPolicy",
    ("io.k8s.api.core.v1.PodStatus", "phase"): "v1.PodPhase",
    ("io.k8s.api.core.v1.NamespaceSpec", "finalizers"): "[]v1.FinalizerName",
    ("io.k8s.api.core.v1.NamespaceStatus", "phase"): "v1.NamespacePhase",
    ("io.k8s.api.core.v1.Capabilities", "add"): "[]v1.Capability",
    ("io.k8s.api.core.v1.Capabilities", "drop"): "[]v1.Capability",
    ("io.k8s.api.core.v1.Secret", "type"): "v1.SecretType",
    ("io.k8s.api.core.v1.HTTPGetAction", "scheme"): "v1.URIScheme",
    ("io.k8s.api.core.v1.Toleration", "operator"): "v1.TolerationOperator",
    ("io.k8s.api.core.v1.Toleration", "effect"): "v1.TaintEffect",
    ("io.k8s.api.core.v1.NodeSelectorRequirement", "operator"): "v1.NodeSelectorOperator",
    ("io.k8s.api.core.v1.VolumeMount", "mountPropagation"): "v1.MountPropagationMode",
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "accessModes"): "[]v1.PersistentVolumeAccessMode",
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "volumeMode"): "v1.PersistentVolumeMode",
    ("io.k8s.api.core.v1.PodCondition", "type"): "v1.PodConditionType",
    ("io.k8s.api.core.v1.PodCondition", "status"): "v1.ConditionStatus",
    ("io.k8s.api.apps.v1.DeploymentStrategy", "type"): "v1.DeploymentStrategyType",
    ("io.k8s.api.apps.v1.DeploymentCondition", "type"): "v1.DeploymentConditionType",
    ("io.k8s.api.apps.v1.DeploymentCondition", "status"): "v1.ConditionStatus",
    ("io.k8s.api.apps.v1.StatefulSetSpec", "podManagementPolicy"): "v1.PodManagementPolicyType",
    ("io.k8s.api.apps.v1.StatefulSetUpdateStrategy", "type"): "v1.StatefulSetUpdateStrategyType",
    ("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", "type"): "v1.DaemonSetUpdateStrategyType",
    ("io.k8s.api.batch.v1.JobSpec", "completionMode"): "v1.CompletionMode",
    ("io.k8s.api.batch.v1.JobSpec", "podReplacementPolicy"): "v1.PodReplacementPolicy",
    ("io.k8s.api.batch.v1.CronJobSpec", "concurrencyPolicy"): "v1.ConcurrencyPolicy",
}


class _Abort(Exception):
    """An ``UnmarshalJSON`` error: the decoder stops here."""


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("type")
    if isinstance(raw, str):
        return {raw} - {"null"}
    if isinstance(raw, list):
        return {t for t in raw if isinstance(t, str) and t != "null"}
    return set()


def _ref(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(schema.REF_PREFIX):
        return ref[len(schema.REF_PREFIX):]
    return None


def _short(definition: str) -> str:
    """``io.k8s.api.core.v1.Container`` -> ``v1.Container`` (package name and type name)."""
    parts = definition.split(".")
    return ".".join(parts[-2:])


def go_type(node: dict[str, Any], owner: str = "") -> str:
    """The ``reflect.Type`` string of the Go field a schema node describes (``owner``: its definition)."""
    ref = _ref(node)
    if ref is not None:
        return _short(ref)
    types = _types(node)
    fmt = node.get("format")
    if "integer" in types:
        return fmt if fmt in INT_RANGES else "int"
    if "number" in types:
        return "float64"
    if "boolean" in types:
        return "bool"
    if "string" in types:
        return "[]uint8" if fmt == "byte" else "string"
    if "array" in types:
        items = node.get("items")
        return "[]" + (go_type(items, owner) if isinstance(items, dict) else "interface {}")
    if "object" in types:
        values = node.get("additionalProperties")
        if isinstance(values, dict):
            if _ref(values) == QUANTITY and owner.startswith("io.k8s.api.core.v1."):
                return "v1.ResourceList"
            return "map[string]" + go_type(values, owner)
    return "interface {}"


class _Decoder:
    def __init__(self) -> None:
        self.saved: str | None = None

    def save(self, value: Any, target: str, struct: str, path: list[str], shown: str = "") -> None:
        if self.saved is None:
            self.saved = _unmarshal_error(shown or go_json_type(value), target, struct, path)

    def value(self, node: dict[str, Any], value: Any, target: str, struct: str, path: list[str],
              owner: str) -> None:
        """Decode ``value`` into the Go type of ``node`` (``target``), inside field ``path`` of ``struct``."""
        if value is None:
            return  # null leaves the Go value at its zero value
        kind, ref = _shape(node)
        if ref is not None:
            self.definition(ref, value, struct, path)
        elif kind == "integer":
            self.integer(value, target, struct, path)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, JSON_NUMBERS):
                self.save(value, target, struct, path)
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.save(value, target, struct, path)
        elif kind == "string":
            if not isinstance(value, str):
                self.save(value, target, struct, path)
        elif kind == "array":
            if not isinstance(value, list):
                self.save(value, target, struct, path)
                return
            items = node.get("items")
            if isinstance(items, dict) and value:
                element = target[2:] if target.startswith("[]") else go_type(items, owner)
                for item in value:
                    self.value(items, item, element, struct, path, owner)
        elif kind == "object":
            if not isinstance(value, dict):
                self.save(value, target, struct, path)
                return
            values = node.get("additionalProperties")
            if isinstance(values, dict) and value:
                element = go_type(values, owner)
                if _shape(values) == ("string", None):
                    # map[string]string and the like, the common case (labels, annotations, data)
                    for item in value.values():
                        if item is not None and not isinstance(item, str):
                            self.save(item, element, struct, path)
                    return
                for item in value.values():
                    self.value(values, item, element, struct, path, owner)

    def integer(self, value: Any, target: str, struct: str, path: list[str]) -> None:
        if isinstance(value, bool) or not isinstance(value, JSON_NUMBERS):
            self.save(value, target, struct, path)
            return
        low, high = INT_RANGES.get(target, INT_RANGES["int64"])
        if isinstance(value, float) or not low <= value <= high:
            # strconv.ParseInt of the literal fails: the error quotes the number.
            self.save(value, target, struct, path, shown=f"number {value!r}")

    def definition(self, name: str, value: Any, struct: str, path: list[str]) -> None:
        if name in ANY_JSON:
            return
        if name == INT_OR_STRING:
            if isinstance(value, str):
                return
            decoder = _Decoder()
            decoder.integer(value, "int32", struct, path)
            if decoder.saved is not None:
                raise _Abort(decoder.saved)
            return
        if name == QUANTITY:
            from kubeproof.server.validation.kinds import parse_quantity

            if isinstance(value, dict | list | bool) or parse_quantity(value) is None:
                raise _Abort(QUANTITY_FORMAT)
            return
        if name in TIMES:
            if not isinstance(value, str):
                # Time.UnmarshalJSON decodes a string first.
                raise _Abort(_unmarshal_error(go_json_type(value), "string", struct, path))
            return
        node = schema.definitions().get(name)
        if node is None:
            return
        if "properties" not in node:
            self.value(node, value, go_type(node, name), struct, path, name)
            return
        if not isinstance(value, dict):
            self.save(value, _short(name), struct, path)
            return
        self.struct(name, node, value, path)

    def struct(self, name: str, node: dict[str, Any], value: Obj, path: list[str]) -> None:
        fields = _struct_fields(name, node)
        struct = name.rsplit(".", 1)[-1]
        for key, item in value.items():
            known = fields.get(key)
            if known is None:
                continue  # unknown fields are for field validation, not the decoder
            path.append(key)
            try:
                self.value(known[0], item, known[1], struct, path, name)
            finally:
                path.pop()


#: Per schema node (the process-wide 1.37 definitions, never freed): its JSON kind and $ref target.
_SHAPES: dict[int, tuple[str, str | None]] = {}
#: Per struct definition: JSON field -> (schema node, Go type).
_FIELDS: dict[str, dict[str, tuple[dict[str, Any], str]]] = {}


def _shape(node: dict[str, Any]) -> tuple[str, str | None]:
    shape = _SHAPES.get(id(node))
    if shape is None:
        types = _types(node)
        kind = next((k for k in ("integer", "number", "boolean", "string", "array", "object") if k in types), "")
        shape = _SHAPES[id(node)] = (kind, _ref(node))
    return shape


def _struct_fields(name: str, node: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    fields = _FIELDS.get(name)
    if fields is None:
        properties: dict[str, Any] = node.get("properties") or {}
        fields = _FIELDS[name] = {key: (field, NAMED_TYPES.get((name, key)) or go_type(field, name))
                                  for key, field in properties.items() if isinstance(field, dict)}
    return fields


def _unmarshal_error(shown: str, target: str, struct: str, path: list[str]) -> str:
    if not struct and not path:
        return f"json: cannot unmarshal {shown} into Go value of type {target}"
    return f"json: cannot unmarshal {shown} into Go struct field {struct}.{'.'.join(path)} of type {target}"


_UNKNOWN: Any = object()
#: Per built-in kind: its definition's name and schema node (None for kinds without one).
_ROOTS: dict[tuple[str, str, str], tuple[str, dict[str, Any]] | None] = {}


def type_error(group: str, version: str, kind: str, obj: Obj) -> str | None:
    """The decoder's error for ``obj`` as a ``group/version`` ``kind``, or None when it decodes."""
    root = _ROOTS.get((group, version, kind), _UNKNOWN)
    if root is _UNKNOWN:
        name = schema.definition_name(group, version, kind)
        root = _ROOTS[(group, version, kind)] = (name, schema.definitions()[name]) if name is not None else None
    if root is None:
        return None
    name, node = root
    decoder = _Decoder()
    try:
        decoder.struct(name, node, obj, [])
    except _Abort as exc:
        return str(exc)
    return decoder.saved


def check_types(rt: ResourceType, obj: Obj) -> None:
    """400 BadRequest as the apiserver answers a body that does not decode into the kind's Go struct."""
    if rt.typed_list_items:
        return  # custom resources are unstructured: their schema is checked by validation
    problem = type_error(rt.group, rt.version, rt.kind, obj)
    if problem is not None:
        raise errors.bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: {problem}')


# -- runtime.DefaultUnstructuredConverter.FromUnstructured (the strategic merge patcher) -----------------

_SCALAR_KINDS = {"int32": "int32", "int64": "int64", "int": "int", "float64": "float64", "bool": "bool",
                 "string": "string"}


def _source_kind(value: Any) -> str:
    """The Go kind of a value of the patched map (``util/json`` makes integral numbers int64)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int) or (isinstance(value, float) and value == int(value)):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "slice" if isinstance(value, list) else "map"


def _target_kind(node: dict[str, Any], go: str) -> str:
    """The ``reflect.Kind`` of a scalar field (named types have their underlying kind)."""
    types = _types(node)
    if "integer" in types:
        fmt = node.get("format")
        return fmt if fmt in INT_RANGES else "int"
    if "number" in types:
        return "float64"
    if "boolean" in types:
        return "bool"
    return _SCALAR_KINDS.get(go, "string")


class _Converter:
    """``fromUnstructured``: stops at the first value it cannot convert."""

    def value(self, node: dict[str, Any], value: Any, go: str, owner: str) -> None:
        if value is None:
            return
        ref = _ref(node)
        if ref is not None:
            self.definition(ref, value)
            return
        types = _types(node)
        source = _source_kind(value)
        if "array" in types:
            items = node.get("items")
            if isinstance(items, dict) and source == "string" and go == "[]uint8":
                return
            if source != "slice":
                raise _Abort(f"cannot restore slice from {source}")
            if isinstance(items, dict):
                element = go[2:] if go.startswith("[]") else go_type(items, owner)
                for item in value:
                    self.value(items, item, element, owner)
            return
        if "object" in types:
            if source != "map":
                raise _Abort(f"cannot restore map from {source}")
            values = node.get("additionalProperties")
            if isinstance(values, dict):
                for item in value.values():
                    self.value(values, item, go_type(values, owner), owner)
            return
        if "string" in types and node.get("format") == "byte":
            if source != "string":
                raise _Abort(f"cannot restore slice from {source}")
            return
        self.scalar(_target_kind(node, go), go, value, source)

    @staticmethod
    def scalar(kind: str, go: str, value: Any, source: str) -> None:
        if source == kind or (source == "int64" and kind in ("int32", "int", "float64")):
            return  # assignable, or a conversion JSON allows
        if source == "int64" and kind == "string":
            raise _Abort(f"cannot convert int64 to {go}")  # convertible in Go, refused for JSON
        if source == "float64" and kind in ("int32", "int64", "int"):
            raise _Abort(f"cannot convert float64 to {go}")
        raise _Abort(f"unrecognized type: {kind}")

    def definition(self, name: str, value: Any) -> None:
        if name in ANY_JSON:
            return
        if name in (INT_OR_STRING, QUANTITY, *TIMES):
            # A type with UnmarshalJSON: the value goes through JSON, errors come without a field.
            decoder = _Decoder()
            try:
                decoder.definition(name, value, "", [])
            except _Abort as exc:
                raise _Abort(str(exc)) from None
            return
        node = schema.definitions().get(name)
        if node is None:
            return
        if "properties" not in node:
            self.value(node, value, go_type(node, name), name)
            return
        source = _source_kind(value)
        if source != "map":
            raise _Abort(f"cannot restore struct from: {source}")
        self.struct(name, node, value)

    def struct(self, name: str, node: dict[str, Any], value: Obj) -> None:
        for key, field in (node.get("properties") or {}).items():
            if key in value and isinstance(field, dict):
                self.value(field, value[key], NAMED_TYPES.get((name, key)) or go_type(field, name), name)


def conversion_error(group: str, version: str, kind: str, obj: Obj) -> str | None:
    """``FromUnstructured``'s error for ``obj`` as a ``group/version`` ``kind``, or None when it converts."""
    name = schema.definition_name(group, version, kind)
    if name is None:
        return None
    try:
        _Converter().struct(name, schema.definitions()[name], obj)
    except _Abort as exc:
        return str(exc)
    return None


def check_patched_types(group: str, version: str, kind: str, patched: Obj, patch_value: Callable[[], str],
                        strategic: bool = False) -> None:
    """A patched object that does not decode: the patchers' ``errors.NewInvalid(schema.GroupKind{}, "", ...)``
    with the patched JSON (JSON and merge patches, decoded as JSON) or ``%+v`` of the patch (strategic merge,
    converted from unstructured) as the value."""
    if strategic:
        problem = conversion_error(group, version, kind, patched)
    else:
        problem = type_error(group, version, kind, patched)
    if problem is not None:
        raise errors.invalid("", "", "", [FieldError("FieldValueInvalid", "patch", patch_value(), problem)])
