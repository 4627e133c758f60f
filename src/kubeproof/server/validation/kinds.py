"""Per-kind create and update validation, after kube-apiserver's strategies and ``pkg/apis/*/validation``.

Entry points:

* ``validate_create(resource_key, obj)`` runs what ``rest.BeforeCreate`` runs: the kind's own
  validation, then (only if that passed) the generic ObjectMeta check with path-segment names.
* ``validate_update(resource_key, new, old)`` runs what ``rest.BeforeUpdate`` runs: the generic
  checks (``validateCommonFields``) followed by the kind's update validation. Go reports some errors
  twice that way (the aggregate message drops the repeats, the causes keep them), and so does this.
* ``NAME_RULES`` maps each resource key to the ``ValidateNameFunc`` its kind uses.

Objects are the versioned JSON a client sends. kube-apiserver validates after defaulting, so fields
that defaulting always fills (protocol, restartPolicy, imagePullPolicy, sessionAffinity, ...) are
treated as their default when absent or empty: only a wrong value that a client wrote is reported.
Go iterates maps in random order; map keys are visited sorted here.

Sources (kubernetes/kubernetes): pkg/apis/core/validation/validation.go and events.go,
pkg/apis/apps/validation/validation.go, pkg/apis/batch/validation/validation.go,
pkg/apis/rbac/validation/validation.go, pkg/apis/policy/validation/validation.go,
pkg/apis/discovery/validation/validation.go, pkg/apis/coordination/validation/validation.go,
pkg/registry/*/strategy.go, staging/.../apiserver/pkg/registry/rest/{create,update}.go, and the
vendored github.com/robfig/cron/v3 parser for CronJob schedules.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import zoneinfo
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from kubeproof.server.validation import names
from kubeproof.server.validation.field import (
    FieldError,
    GoRaw,
    duplicate,
    forbidden,
    go_label_selector,
    go_quote,
    go_string_map,
    go_string_slice,
    invalid,
    not_found,
    not_supported,
    required,
    too_long,
    too_many,
)
from kubeproof.server.validation.objectmeta import (
    FIELD_IMMUTABLE,
    IS_NEGATIVE,
    common_checks_once,
    go_time,
    validate_annotations,
    validate_kube_finalizer_name,
    validate_label_name,
    validate_labels,
    validate_nonnegative,
    validate_object_meta,
    validate_object_meta_update,
)

Obj = dict[str, Any]
Errs = list[FieldError]

MAX_INT32 = 2**31 - 1
MAX_SECRET_SIZE = 1 * 1024 * 1024
RBAC_GROUP = "rbac.authorization.k8s.io"
PROTOCOLS = ["SCTP", "TCP", "UDP"]  # sets.List(supportedPortProtocols): sorted
NOT_POSITIVE = "must be greater than zero"


# --- small helpers -------------------------------------------------------------------------------


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _m(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _n(value: Any) -> int | None:
    """An integer field, or None when absent (or not an integer)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _blen(text: str) -> int:
    return len(text.encode("utf-8"))


def _prune(value: Any) -> Any:
    """Drop what omitempty drops (null, "", {}, []) so that absent and empty compare equal."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", {}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _go_field_name(key: str) -> str:
    return key[:1].upper() + key[1:]


def _diff(old: Obj, new: Obj, type_name: str) -> str:
    """A ``cmp.Diff``-shaped summary of the top-level fields that differ.

    Go prints cmp.Diff of its internal structs, whose layout (and deliberately randomised spacing)
    cannot be reproduced; only the first line of such messages is byte-exact.
    """
    old, new = _prune(old), _prune(new)
    lines = [f"  {type_name}{{"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            name = _go_field_name(key)
            if key in old:
                lines.append(f"- \t{name}: {json.dumps(old[key], sort_keys=True)},")
            if key in new:
                lines.append(f"+ \t{name}: {json.dumps(new[key], sort_keys=True)},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


def _dns_label(value: str, path: str) -> Errs:
    return [invalid(path, value, msg) for msg in names.is_dns1123_label(value)]


def _dns_subdomain(value: str, path: str) -> Errs:
    return [invalid(path, value, msg) for msg in names.is_dns1123_subdomain(value)]


def _qualified_name(value: str, path: str) -> Errs:
    return [invalid(path, value, msg) for msg in names.is_qualified_name(value)]


def _name_check(fn: names.NameFunc, value: str, path: str) -> Errs:
    return [invalid(path, value, msg) for msg in fn(value, False)]


def _immutable(new: Any, old: Any, path: str, shown: Any) -> Errs:
    return [invalid(path, shown, FIELD_IMMUTABLE)] if new != old else []


# --- quantities ----------------------------------------------------------------------------------

_QUANTITY_RE = re.compile(r"([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(value: Any) -> Decimal | None:
    """``resource.ParseQuantity`` as a number (None when it does not parse)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY_RE.fullmatch(_s(value))
    if not match:
        return None
    sign, digits, suffix = match.group(1), match.group(2), match.group(3) or ""
    try:
        number = Decimal(digits)
    except InvalidOperation:
        return None
    if sign == "-":
        number = -number
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    return number.scaleb(int(suffix[1:]))


def _quantity_text(value: Any) -> str:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else _s(value)


# --- label selectors -----------------------------------------------------------------------------

_SELECTOR_OPS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_label_selector(selector: Any, path: str) -> Errs:
    """``ValidateLabelSelector`` (label values in expressions checked too)."""
    if not isinstance(selector, dict):
        return []
    errs = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    for i, raw in enumerate(_l(selector.get("matchExpressions"))):
        expr, expr_path = _m(raw), f"{path}.matchExpressions[{i}]"
        operator, values = _s(expr.get("operator")), _l(expr.get("values"))
        if operator in ("In", "NotIn"):
            if not values:
                errs.append(
                    required(f"{expr_path}.values", "must be specified when `operator` is 'In' or 'NotIn'")
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.append(
                    forbidden(
                        f"{expr_path}.values",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    )
                )
        else:
            errs.append(invalid(f"{expr_path}.operator", operator, "not a valid selector operator"))
        errs.extend(validate_label_name(_s(expr.get("key")), f"{expr_path}.key"))
        for j, value in enumerate(values):
            text = _s(value)
            errs.extend(
                invalid(f"{expr_path}.values[{j}]", text, m) for m in names.is_valid_label_value(text)
            )
    return errs


class _Selector:
    """What ``metav1.LabelSelectorAsSelector`` returns: Nothing for nil, Everything for empty."""

    def __init__(self, selector: Obj | None) -> None:
        self.nothing = selector is None
        self.labels = {k: _s(v) for k, v in _m(_m(selector).get("matchLabels")).items()}
        self.exprs = [_m(e) for e in _l(_m(selector).get("matchExpressions"))]

    def empty(self) -> bool:
        return not self.nothing and not self.labels and not self.exprs

    def matches(self, labels: dict[str, Any]) -> bool:
        if self.nothing:
            return False
        if any(labels.get(k) != v for k, v in self.labels.items()):
            return False
        for expr in self.exprs:
            key, op, values = _s(expr.get("key")), _s(expr.get("operator")), _l(expr.get("values"))
            present = key in labels
            if (
                (op == "In" and not (present and labels[key] in values))
                or (op == "NotIn" and present and labels[key] in values)
                or (op == "Exists" and not present)
                or (op == "DoesNotExist" and present)
            ):
                return False
        return True


def selector_as_selector(selector: Any) -> _Selector | None:
    """None where ``LabelSelectorAsSelector`` returns an error."""
    if selector is None:
        return _Selector(None)
    sel = _m(selector)
    for key, value in _m(sel.get("matchLabels")).items():
        if names.is_qualified_name(key) or names.is_valid_label_value(_s(value)):
            return None
    for raw in _l(sel.get("matchExpressions")):
        expr = _m(raw)
        op, values = _s(expr.get("operator")), _l(expr.get("values"))
        if op not in _SELECTOR_OPS or names.is_qualified_name(_s(expr.get("key"))):
            return None
        if (op in ("In", "NotIn") and not values) or (op in ("Exists", "DoesNotExist") and values):
            return None
        if any(names.is_valid_label_value(_s(v)) for v in values):
            return None
    return _Selector(sel)


def _selector_value(selector: Any) -> GoRaw:
    return go_label_selector(selector if isinstance(selector, dict) else None)


# --- int-or-string -------------------------------------------------------------------------------


def _intstr(value: Any) -> tuple[str, Any]:
    if isinstance(value, int) and not isinstance(value, bool):
        return "int", value
    return "str", _s(value)


def _intstr_shown(value: Any) -> GoRaw:
    """An IntOrString bad value: Go prints its ``String()`` (unquoted)."""
    _, raw = _intstr(value)
    return GoRaw(str(raw))


def _percent(value: Any) -> int | None:
    kind, raw = _intstr(value)
    if kind != "str" or names.is_valid_percent(raw):
        return None
    return int(raw[:-1])


def _intstr_number(value: Any) -> int:
    """``getIntOrPercentValue``: the percent, or the int, or IntValue() of a string (0 unless numeric)."""
    pct = _percent(value)
    if pct is not None:
        return pct
    kind, raw = _intstr(value)
    if kind == "int":
        return int(raw)
    try:
        return int(raw)
    except ValueError:
        return 0


def validate_positive_int_or_percent(value: Any, path: str) -> Errs:
    kind, raw = _intstr(value)
    if kind == "str":
        return [invalid(path, _intstr_shown(value), msg) for msg in names.is_valid_percent(raw)]
    return validate_nonnegative(raw, path)


def is_not_more_than_100_percent(value: Any, path: str) -> Errs:
    pct = _percent(value)
    if pct is None or pct <= 100:
        return []
    return [invalid(path, _intstr_shown(value), "must not be greater than 100%")]


# --- pods ----------------------------------------------------------------------------------------

# Volume sources in the order validateVolumeSource checks them, with the path child Go uses when a
# second source is reported (two are Go's own spellings).
_VOLUME_SOURCES = [
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
]
# Each source's required string field (field.Required with no detail), where the check is simple.
_VOLUME_REQUIRED = {
    "hostPath": ["path"],
    "gitRepo": ["repository"],
    "secret": ["secretName"],
    "nfs": ["server", "path"],
    "configMap": ["name"],
    "persistentVolumeClaim": ["claimName"],
    "glusterfs": ["endpoints", "path"],
}


def _validate_volume_source(volume: Obj, path: str) -> Errs:
    errs: Errs = []
    count = 0
    for key, go_child in _VOLUME_SOURCES:
        if volume.get(key) is None:
            continue
        if count > 0:
            errs.append(forbidden(f"{path}.{go_child}", "may not specify more than 1 volume type"))
            continue
        count += 1
        source = _m(volume.get(key))
        for field_name in _VOLUME_REQUIRED.get(key, []):
            if not _s(source.get(field_name)):
                errs.append(required(f"{path}.{key}.{field_name}"))
                if key == "hostPath":
                    break
    if count == 0:
        errs.append(required(path, "must specify a volume type"))
    return errs


def _validate_volumes(volumes: Any, path: str) -> tuple[dict[str, Obj], Errs]:
    errs: Errs = []
    seen: set[str] = set()
    valid: dict[str, Obj] = {}
    for i, raw in enumerate(_l(volumes)):
        volume, idx = _m(raw), f"{path}[{i}]"
        name = _s(volume.get("name"))
        el = _validate_volume_source(volume, idx)
        if not name:
            el.append(required(f"{idx}.name"))
        else:
            el.extend(_dns_label(name, f"{idx}.name"))
        if name in seen:
            el.append(duplicate(f"{idx}.name", name))
        if not el:
            seen.add(name)
            valid[name] = volume
        else:
            errs.extend(el)
    return valid, errs


def _validate_container_ports(ports: Any, path: str) -> Errs:
    errs: Errs = []
    seen: set[str] = set()
    for i, raw in enumerate(_l(ports)):
        port, idx = _m(raw), f"{path}[{i}]"
        name = _s(port.get("name"))
        if name:
            msgs = names.is_valid_port_name(name)
            if msgs:
                errs.extend(invalid(f"{idx}.name", name, m) for m in msgs)
            elif name in seen:
                errs.append(duplicate(f"{idx}.name", name))
            else:
                seen.add(name)
        container_port = _n(port.get("containerPort")) or 0
        if container_port == 0:
            errs.append(required(f"{idx}.containerPort"))
        else:
            errs.extend(
                invalid(f"{idx}.containerPort", container_port, m)
                for m in names.is_valid_port_num(container_port)
            )
        host_port = _n(port.get("hostPort")) or 0
        if host_port != 0:
            errs.extend(invalid(f"{idx}.hostPort", host_port, m) for m in names.is_valid_port_num(host_port))
        protocol = _s(port.get("protocol"))
        if protocol and protocol not in PROTOCOLS:
            errs.append(not_supported(f"{idx}.protocol", protocol, PROTOCOLS))
    return errs


def _validate_env(env: Any, path: str) -> Errs:
    errs: Errs = []
    for i, raw in enumerate(_l(env)):
        var, idx = _m(raw), f"{path}[{i}]"
        name = _s(var.get("name"))
        if not name:
            errs.append(required(f"{idx}.name"))
        else:
            errs.extend(invalid(f"{idx}.name", name, m) for m in names.is_relaxed_env_var_name(name))
        value_from = var.get("valueFrom")
        if isinstance(value_from, dict):
            sources = [
                k
                for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
                if k in value_from
            ]
            if not sources:
                errs.append(
                    invalid(
                        f"{idx}.valueFrom",
                        "",
                        "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` "
                        "or `secretKeyRef`",
                    )
                )
            elif _s(var.get("value")):
                errs.append(invalid(f"{idx}.valueFrom", "", "may not be specified when `value` is not empty"))
            elif len(sources) > 1:
                errs.append(
                    invalid(f"{idx}.valueFrom", "", "may not have more than one field specified at a time")
                )
    return errs


def _validate_volume_mounts(mounts: Any, volumes: dict[str, Obj], path: str) -> Errs:
    errs: Errs = []
    mount_points: set[str] = set()
    for i, raw in enumerate(_l(mounts)):
        mount, idx = _m(raw), f"{path}[{i}]"
        name, mount_path = _s(mount.get("name")), _s(mount.get("mountPath"))
        if not name:
            errs.append(required(f"{idx}.name"))
        if name not in volumes:
            errs.append(not_found(f"{idx}.name", name))
        if not mount_path:
            errs.append(required(f"{idx}.mountPath"))
        if mount_path in mount_points:
            errs.append(invalid(f"{idx}.mountPath", mount_path, "must be unique"))
        mount_points.add(mount_path)
    return errs


_QOS_RESOURCES = ("cpu", "memory")


def _validate_resources(resources: Any, path: str) -> Errs:
    """Quantities must not be negative and requests must not exceed limits."""
    errs: Errs = []
    res = _m(resources)
    limits, requests = _m(res.get("limits")), _m(res.get("requests"))
    for section, values in (("limits", limits), ("requests", requests)):
        for name, raw in sorted(values.items()):
            quantity = parse_quantity(raw)
            if quantity is not None and quantity < 0:
                errs.append(invalid(f"{path}.{section}[{name}]", _quantity_text(raw), IS_NEGATIVE))
            if section == "requests" and name in limits:
                limit = parse_quantity(limits[name])
                if quantity is not None and limit is not None and quantity > limit:
                    errs.append(
                        invalid(
                            f"{path}.requests",
                            _quantity_text(raw),
                            f"must be less than or equal to {name} limit of {_quantity_text(limits[name])}",
                        )
                    )
    return errs


def _validate_container_common(container: Obj, volumes: dict[str, Obj], path: str) -> Errs:
    errs: Errs = []
    name = _s(container.get("name"))
    if not name:
        errs.append(required(f"{path}.name"))
    else:
        errs.extend(_dns_label(name, f"{path}.name"))
    if not _s(container.get("image")):
        errs.append(required(f"{path}.image"))
    policy = _s(container.get("terminationMessagePolicy"))
    if policy and policy not in ("File", "FallbackToLogsOnError"):
        errs.append(
            not_supported(f"{path}.terminationMessagePolicy", policy, ["File", "FallbackToLogsOnError"])
        )
    errs.extend(_validate_container_ports(container.get("ports"), f"{path}.ports"))
    errs.extend(_validate_env(container.get("env"), f"{path}.env"))
    errs.extend(_validate_volume_mounts(container.get("volumeMounts"), volumes, f"{path}.volumeMounts"))
    pull = _s(container.get("imagePullPolicy"))
    if pull and pull not in ("Always", "IfNotPresent", "Never"):
        errs.append(not_supported(f"{path}.imagePullPolicy", pull, ["Always", "IfNotPresent", "Never"]))
    errs.extend(_validate_resources(container.get("resources"), f"{path}.resources"))
    return errs


def _host_port_conflicts(containers: list[Obj], path: str, seen: set[str] | None = None) -> Errs:
    errs: Errs = []
    seen = set() if seen is None else seen
    for ci, container in enumerate(containers):
        for pi, raw in enumerate(_l(container.get("ports"))):
            port = _m(raw)
            host_port = _n(port.get("hostPort")) or 0
            if host_port == 0:
                continue
            key = f"{_s(port.get('protocol')) or 'TCP'}/{_s(port.get('hostIP'))}/{host_port}"
            if key in seen:
                errs.append(duplicate(f"{path}[{ci}].ports[{pi}].hostPort", key))
            else:
                seen.add(key)
    return errs


def _validate_containers(containers: Any, volumes: dict[str, Obj], path: str) -> Errs:
    items = [_m(c) for c in _l(containers)]
    if not items:
        return [required(path)]
    errs: Errs = []
    seen: set[str] = set()
    for i, container in enumerate(items):
        idx = f"{path}[{i}]"
        errs.extend(_validate_container_common(container, volumes, idx))
        name = _s(container.get("name"))
        if name in seen:
            errs.append(duplicate(f"{idx}.name", name))
        else:
            seen.add(name)
        if container.get("restartPolicy") is not None:
            errs.append(forbidden(f"{idx}.restartPolicy", "may not be set for non-init containers"))
    errs.extend(_host_port_conflicts(items, path))
    return errs


def _validate_init_containers(init: Any, regular: Any, volumes: dict[str, Obj], path: str) -> Errs:
    errs: Errs = []
    seen = {_s(_m(c).get("name")) for c in _l(regular)}
    for i, raw in enumerate(_l(init)):
        container, idx = _m(raw), f"{path}[{i}]"
        errs.extend(_validate_container_common(container, volumes, idx))
        restart = container.get("restartPolicy")
        restartable = restart == "Always"
        if restart is not None and not restartable:
            errs.append(not_supported(f"{idx}.restartPolicy", _s(restart), ["Always"]))
        name = _s(container.get("name"))
        if name in seen:
            errs.append(duplicate(f"{idx}.name", name))
        elif name:
            seen.add(name)
        errs.extend(_host_port_conflicts([container], path))
        if not restartable:
            for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(key) is not None:
                    errs.append(
                        forbidden(
                            f"{idx}.{key}", "may not be set for init containers without restartPolicy=Always"
                        )
                    )
    return errs


def validate_tolerations(tolerations: Any, path: str) -> Errs:
    errs: Errs = []
    for i, raw in enumerate(_l(tolerations)):
        tol, idx = _m(raw), f"{path}[{i}]"
        key, operator, value = _s(tol.get("key")), _s(tol.get("operator")), _s(tol.get("value"))
        effect = _s(tol.get("effect"))
        if key:
            errs.extend(validate_label_name(key, f"{idx}.key"))
        if not key and operator != "Exists":
            errs.append(
                invalid(
                    f"{idx}.operator",
                    operator,
                    "operator must be Exists when `key` is empty, "
                    'which means "match all values and all keys"',
                )
            )
        if tol.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(
                invalid(f"{idx}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
            )
        if operator in ("Equal", ""):
            msgs = names.is_valid_label_value(value)
            if msgs:
                errs.append(invalid(f"{idx}.operator", value, ";".join(msgs)))
        elif operator == "Exists":
            if value:
                errs.append(
                    invalid(f"{idx}.operator", value, "value must be empty when `operator` is 'Exists'")
                )
        else:
            errs.append(not_supported(f"{idx}.operator", operator, ["Equal", "Exists"]))
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.append(
                not_supported(f"{idx}.effect", effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"])
            )
    return errs


_RESTART_POLICIES = ["Always", "OnFailure", "Never"]
_DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]


def validate_pod_spec(spec: Any, path: str, *, is_pod: bool) -> Errs:
    """``ValidatePodSpec`` (the common subset: volumes, containers, policies, names, tolerations)."""
    spec = _m(spec)
    errs: Errs = []
    volumes, volume_errs = _validate_volumes(spec.get("volumes"), f"{path}.volumes")
    errs.extend(volume_errs)
    errs.extend(_validate_containers(spec.get("containers"), volumes, f"{path}.containers"))
    errs.extend(
        _validate_init_containers(
            spec.get("initContainers"), spec.get("containers"), volumes, f"{path}.initContainers"
        )
    )
    if spec.get("hostNetwork") is True:
        for ci, container in enumerate(_l(spec.get("containers"))):
            for pi, raw in enumerate(_l(_m(container).get("ports"))):
                port = _m(raw)
                host_port, container_port = _n(port.get("hostPort")) or 0, _n(port.get("containerPort")) or 0
                # A Pod's hostPort is defaulted to containerPort, so only a different explicit value is wrong.
                if host_port != 0 and host_port != container_port:
                    errs.append(
                        invalid(
                            f"{path}.containers[{ci}].ports[{pi}].hostPort",
                            host_port,
                            "must match `containerPort` when `hostNetwork` is true",
                        )
                    )
    restart = _s(spec.get("restartPolicy"))
    if restart and restart not in _RESTART_POLICIES:
        errs.append(not_supported(f"{path}.restartPolicy", restart, _RESTART_POLICIES))
    dns_policy = _s(spec.get("dnsPolicy"))
    if dns_policy and dns_policy not in _DNS_POLICIES:
        errs.append(not_supported(f"{path}.dnsPolicy", dns_policy, _DNS_POLICIES))
    errs.extend(validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector"))
    seen_gates: set[str] = set()
    for i, raw in enumerate(_l(spec.get("schedulingGates"))):
        gate = _s(_m(raw).get("name"))
        errs.extend(_qualified_name(gate, f"{path}.schedulingGates[{i}]"))
        if gate in seen_gates:
            errs.append(duplicate(f"{path}.schedulingGates[{i}]", gate))
        seen_gates.add(gate)
    for key, fn in (
        ("serviceAccountName", names.validate_service_account_name),
        ("nodeName", names.name_is_dns_subdomain),
    ):
        value = _s(spec.get(key))
        if value:
            errs.extend(_name_check(fn, value, f"{path}.{key}"))
    deadline = _n(spec.get("activeDeadlineSeconds"))
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        errs.append(
            invalid(f"{path}.activeDeadlineSeconds", deadline, names.inclusive_range_error(1, MAX_INT32))
        )
    for key in ("hostname", "subdomain"):
        value = _s(spec.get(key))
        if value:
            errs.extend(_dns_label(value, f"{path}.{key}"))
    errs.extend(validate_tolerations(spec.get("tolerations"), f"{path}.tolerations"))
    priority_class = _s(spec.get("priorityClassName"))
    if priority_class:
        errs.extend(_name_check(names.name_is_dns_subdomain, priority_class, f"{path}.priorityClassName"))
    return errs


def _validate_images_for_pod(containers: Any, path: str) -> Errs:
    errs: Errs = []
    for i, raw in enumerate(_l(containers)):
        image = _s(_m(raw).get("image"))
        if image != image.strip():
            errs.append(invalid(f"{path}[{i}].image", image, "must not have leading or trailing whitespace"))
    return errs


def validate_pod_template_spec(template: Any, path: str) -> Errs:
    """``ValidatePodTemplateSpec``: note labels are reported at ``<path>.labels``, as Go does."""
    template = _m(template)
    meta = _m(template.get("metadata"))
    spec = _m(template.get("spec"))
    errs = validate_labels(meta.get("labels"), f"{path}.labels")
    errs.extend(validate_annotations(meta.get("annotations"), f"{path}.annotations"))
    errs.extend(validate_pod_spec(spec, f"{path}.spec", is_pod=False))
    if _l(spec.get("ephemeralContainers")):
        errs.append(
            forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template")
        )
    return errs


def _validate_pod_metadata_and_spec(pod: Obj) -> Errs:
    spec = _m(pod.get("spec"))
    errs = validate_object_meta(pod.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(validate_pod_spec(spec, "spec", is_pod=True))
    errs.extend(_validate_images_for_pod(spec.get("containers"), "spec.containers"))
    errs.extend(_validate_images_for_pod(spec.get("initContainers"), "spec.initContainers"))
    return errs


def validate_pod_create(pod: Obj) -> Errs:
    errs = _validate_pod_metadata_and_spec(pod)
    spec = _m(pod.get("spec"))
    if _l(spec.get("ephemeralContainers")):
        errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
    if _s(spec.get("nodeName")) and _l(spec.get("schedulingGates")):
        errs.append(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))
    return errs


UPDATABLE_POD_SPEC_FIELDS = [
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
]
POD_UPDATE_FORBIDDEN = "pod updates may not change fields other than " + ",".join(UPDATABLE_POD_SPEC_FIELDS)


def _validate_container_updates(new: Any, old: Any, path: str) -> tuple[Errs, bool]:
    new_list, old_list = _l(new), _l(old)
    if len(new_list) != len(old_list):
        return [forbidden(path, "pod updates may not add or remove containers")], True
    errs: Errs = []
    for i, raw in enumerate(new_list):
        image = _s(_m(raw).get("image"))
        if not image:
            errs.append(required(f"{path}[{i}].image"))
        if image.strip() != image:
            errs.append(invalid(f"{path}[{i}].image", image, "must not have leading or trailing whitespace"))
    return errs, False


def _toleration_key(tol: Any) -> Any:
    clone = dict(_m(tol))
    clone.pop("tolerationSeconds", None)
    return _prune(clone)


# Fields kube-apiserver's defaulting fills in on every write. The registry may have stored them while
# the client's update leaves them out; Go defaults the new object before comparing, so an absent
# defaulted field is taken from the stored object here rather than reported as a change.
_POD_SPEC_DEFAULTED = (
    "dnsPolicy",
    "restartPolicy",
    "schedulerName",
    "securityContext",
    "terminationGracePeriodSeconds",
    "enableServiceLinks",
    "preemptionPolicy",
    "priority",
    "serviceAccount",
    "serviceAccountName",
)
_CONTAINER_DEFAULTED = ("imagePullPolicy", "terminationMessagePath", "terminationMessagePolicy", "resources")


def _with_stored_defaults(new: Obj, old: Obj, keys: tuple[str, ...]) -> Obj:
    out = dict(new)
    for key in keys:
        if out.get(key) is None and old.get(key) is not None:
            out[key] = old[key]
    return out


def _pod_spec_with_stored_defaults(new_spec: Obj, old_spec: Obj) -> Obj:
    out = _with_stored_defaults(new_spec, old_spec, _POD_SPEC_DEFAULTED)
    for key in ("containers", "initContainers"):
        new_list, old_list = _l(out.get(key)), _l(old_spec.get(key))
        if new_list and len(new_list) == len(old_list):
            filled = []
            for new_c, old_c in zip(new_list, old_list, strict=True):
                if not isinstance(new_c, dict):
                    filled.append(new_c)
                    continue
                container = _with_stored_defaults(new_c, _m(old_c), _CONTAINER_DEFAULTED)
                old_ports = _l(_m(old_c).get("ports"))
                new_ports = _l(container.get("ports"))
                if new_ports and len(new_ports) == len(old_ports):
                    container["ports"] = [
                        _with_stored_defaults(_m(np), _m(op), ("protocol",)) if isinstance(np, dict) else np
                        for np, op in zip(new_ports, old_ports, strict=True)
                    ]
                filled.append(container)
            out[key] = filled
    return out


def validate_pod_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_validate_pod_metadata_and_spec(new))
    old_spec = _m(old.get("spec"))
    new_spec = _pod_spec_with_stored_defaults(_m(new.get("spec")), old_spec)
    for key in ("containers", "initContainers"):
        container_errs, stop = _validate_container_updates(
            new_spec.get(key), old_spec.get(key), f"spec.{key}"
        )
        errs.extend(container_errs)
        if stop:
            return errs
    new_deadline, old_deadline = (
        _n(new_spec.get("activeDeadlineSeconds")),
        _n(old_spec.get("activeDeadlineSeconds")),
    )
    if new_deadline is not None:
        if not 0 <= new_deadline <= MAX_INT32:
            errs.append(
                invalid("spec.activeDeadlineSeconds", new_deadline, names.inclusive_range_error(0, MAX_INT32))
            )
            return errs
        if old_deadline is not None and old_deadline < new_deadline:
            errs.append(
                invalid(
                    "spec.activeDeadlineSeconds", new_deadline, "must be less than or equal to previous value"
                )
            )
            return errs
    elif old_deadline is not None:
        errs.append(
            invalid(
                "spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value"
            )
        )
    new_tolerations = [_toleration_key(t) for t in _l(new_spec.get("tolerations"))]
    for old_tol in _l(old_spec.get("tolerations")):
        if _toleration_key(old_tol) not in new_tolerations:
            errs.append(
                forbidden(
                    "spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"
                )
            )
            break
    else:
        errs.extend(validate_tolerations(new_spec.get("tolerations"), "spec.tolerations"))
    old_gates = {_s(_m(g).get("name")) for g in _l(old_spec.get("schedulingGates"))}
    new_gates = [_s(_m(g).get("name")) for g in _l(new_spec.get("schedulingGates"))]
    if new_gates:
        for i, gate in enumerate(new_gates):
            if gate not in old_gates:
                errs.append(
                    forbidden(
                        f"spec.schedulingGates[{i}].name",
                        f"only deletion is allowed, but found new scheduling gate '{gate}'",
                    )
                )
    if _prune(new_spec) == _prune(old_spec):
        return errs
    munged = copy.deepcopy(new_spec)
    for key in ("containers", "initContainers"):
        old_containers = _l(old_spec.get(key))
        for i, container in enumerate(_l(munged.get(key))):
            if isinstance(container, dict) and i < len(old_containers):
                container["image"] = _m(old_containers[i]).get("image")
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        munged.pop(key, None)
        if key in old_spec:
            munged[key] = old_spec[key]
    old_grace, new_grace = (
        old_spec.get("terminationGracePeriodSeconds"),
        munged.get("terminationGracePeriodSeconds"),
    )
    if isinstance(old_grace, int) and old_grace < 0 and new_grace == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if _prune(munged) != _prune(old_spec):
        errs.append(forbidden("spec", POD_UPDATE_FORBIDDEN + "\n" + _diff(old_spec, munged, "core.PodSpec")))
    return errs


# --- services ------------------------------------------------------------------------------------


def _service_cluster_ips(spec: Obj) -> list[str]:
    """ClusterIPs as the strategy normalises them (ClusterIP copied in when ClusterIPs is unset)."""
    ips = [_s(ip) for ip in _l(spec.get("clusterIPs"))]
    cluster_ip = _s(spec.get("clusterIP"))
    if not ips and cluster_ip:
        ips = [cluster_ip]
    return ips


def _is_headless(spec: Obj) -> bool:
    ips = _service_cluster_ips(spec)
    return len(ips) == 1 and ips[0] == "None"


def _service_type(spec: Obj) -> str:
    return _s(spec.get("type")) or "ClusterIP"


def go_service_port(protocol: str, port: int) -> GoRaw:
    """``%#v`` of the ``core.ServicePort{Protocol, Port}`` key Go reports duplicate ports with."""
    return GoRaw(
        'core.ServicePort{Name:"", Protocol:'
        + go_quote(protocol)
        + f", AppProtocol:(*string)(nil), Port:{port}, "
        + 'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'
    )


def _validate_service_port(port: Obj, require_name: bool, seen: set[str], path: str) -> Errs:
    errs: Errs = []
    name = _s(port.get("name"))
    if require_name and not name:
        errs.append(required(f"{path}.name"))
    elif name:
        errs.extend(_dns_label(name, f"{path}.name"))
        if name in seen:
            errs.append(duplicate(f"{path}.name", name))
        else:
            seen.add(name)
    number = _n(port.get("port")) or 0
    errs.extend(invalid(f"{path}.port", number, m) for m in names.is_valid_port_num(number))
    protocol = _s(port.get("protocol"))
    if protocol and protocol not in PROTOCOLS:
        errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    target = port.get("targetPort")
    if target is None or target == "" or target == 0:
        target = number  # defaulted to port
    kind, raw = _intstr(target)
    if kind == "int":
        errs.extend(invalid(f"{path}.targetPort", raw, m) for m in names.is_valid_port_num(raw))
    else:
        errs.extend(invalid(f"{path}.targetPort", raw, m) for m in names.is_valid_port_name(raw))
    app_protocol = port.get("appProtocol")
    if isinstance(app_protocol, str):
        errs.extend(_qualified_name(app_protocol, f"{path}.appProtocol"))
    return errs


_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def validate_service(svc: Obj) -> Errs:
    errs = validate_object_meta(svc.get("metadata"), namespaced=True, name_fn=names.name_is_dns1035_label)
    spec = _m(svc.get("spec"))
    svc_type = _service_type(spec)
    ports = [_m(p) for p in _l(spec.get("ports"))]
    headless = _is_headless(spec)
    if not ports and not headless and svc_type != "ExternalName":
        errs.append(required("spec.ports"))
    cluster_ips = _service_cluster_ips(spec)
    if svc_type in ("LoadBalancer", "NodePort") and headless:
        errs.append(
            invalid("spec.clusterIPs[0]", cluster_ips[0], f"may not be set to 'None' for {svc_type} services")
        )
    elif svc_type == "ExternalName":
        if cluster_ips:
            errs.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        if _l(spec.get("ipFamilies")):
            errs.append(forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
        cname = _s(spec.get("externalName")).removesuffix(".")
        if cname:
            errs.extend(_dns_subdomain(cname, "spec.externalName"))
        else:
            errs.append(required("spec.externalName"))
    seen: set[str] = set()
    for i, port in enumerate(ports):
        errs.extend(_validate_service_port(port, len(ports) > 1, seen, f"spec.ports[{i}]"))
    if spec.get("selector") is not None:
        errs.extend(validate_labels(spec.get("selector"), "spec.selector"))
    affinity = _s(spec.get("sessionAffinity"))
    if affinity and affinity not in ("ClientIP", "None"):
        errs.append(not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
    if affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        errs.append(forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"))
    if _s(spec.get("type")) and svc_type not in _SERVICE_TYPES:
        errs.append(not_supported("spec.type", svc_type, _SERVICE_TYPES))
    if svc_type == "ClusterIP":
        for i, port in enumerate(ports):
            if _n(port.get("nodePort")):
                errs.append(
                    forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
                )
    node_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        node_port = _n(port.get("nodePort")) or 0
        if node_port == 0:
            continue
        node_key = (_s(port.get("protocol")) or "TCP", node_port)
        if node_key in node_ports:
            errs.append(duplicate(f"spec.ports[{i}].nodePort", node_port))
        node_ports.add(node_key)
    port_keys: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        port_key = (_s(port.get("protocol")) or "TCP", _n(port.get("port")) or 0)
        if port_key in port_keys:
            errs.append(duplicate(f"spec.ports[{i}]", go_service_port(*port_key)))
        port_keys.add(port_key)
    if spec.get("allocateLoadBalancerNodePorts") is not None and svc_type != "LoadBalancer":
        errs.append(
            forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
        )
    if spec.get("loadBalancerClass") is not None:
        if svc_type == "LoadBalancer":
            errs.extend(_qualified_name(_s(spec.get("loadBalancerClass")), "spec.loadBalancerClass"))
        else:
            errs.append(forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"))
    external = svc_type in ("LoadBalancer", "NodePort") or (
        svc_type == "ClusterIP" and bool(_l(spec.get("externalIPs")))
    )
    etp = _s(spec.get("externalTrafficPolicy"))
    if not external:
        if etp:
            errs.append(
                invalid(
                    "spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"
                )
            )
    elif etp and etp not in ("Cluster", "Local"):
        errs.append(not_supported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]))
    itp = spec.get("internalTrafficPolicy")
    if isinstance(itp, str) and itp and itp not in ("Cluster", "Local"):
        errs.append(not_supported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]))
    distribution = spec.get("trafficDistribution")
    if isinstance(distribution, str) and distribution != "PreferClose":
        errs.append(not_supported("spec.trafficDistribution", distribution, ["PreferClose"]))
    return errs


def _service_after_strategy(new_spec: Obj, old_spec: Obj) -> Obj:
    """``PrepareForUpdate``: keep allocated IPs the client left out and sync clusterIP into clusterIPs."""
    spec = dict(new_spec)
    if _service_type(old_spec) != "ExternalName" and _service_type(spec) != "ExternalName":
        if not _s(spec.get("clusterIP")) and _s(old_spec.get("clusterIP")):
            spec["clusterIP"] = old_spec["clusterIP"]
        if not _l(spec.get("clusterIPs")) and _l(old_spec.get("clusterIPs")):
            spec["clusterIPs"] = old_spec["clusterIPs"]
    new_ip, old_ip = _s(spec.get("clusterIP")), _s(old_spec.get("clusterIP"))
    if new_ip != old_ip and _l(spec.get("clusterIPs")) == _l(old_spec.get("clusterIPs")):
        ips = list(_l(spec.get("clusterIPs")))
        if not new_ip:
            ips = []
        elif ips:
            ips[0] = new_ip
        else:
            ips = [new_ip]
        spec["clusterIPs"] = ips
    return spec


def validate_service_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    old_spec = _m(old.get("spec"))
    spec = _service_after_strategy(_m(new.get("spec")), old_spec)
    if "ExternalName" not in (_service_type(spec), _service_type(old_spec)) and not (
        _is_headless(spec) and _is_headless(old_spec)
    ):
        new_ips, old_ips = _service_cluster_ips(spec), _service_cluster_ips(old_spec)
        shown = go_string_slice(new_ips if new_ips else None)
        if len(old_ips) == len(new_ips):
            for i, ip in enumerate(old_ips):
                if ip != new_ips[i]:
                    errs.append(invalid(f"spec.clusterIPs[{i}]", shown, "may not change once set"))
        elif len(old_ips) > len(new_ips):
            if not new_ips:
                errs.append(invalid("spec.clusterIPs[0]", shown, "primary clusterIP can not be unset"))
            elif new_ips[0] != old_ips[0]:
                errs.append(invalid("spec.clusterIPs[0]", shown, "may not change once set"))
        elif old_ips and new_ips[0] != old_ips[0]:
            errs.append(invalid("spec.clusterIPs[0]", shown, "may not change once set"))
    both_lb = _service_type(old_spec) == "LoadBalancer" and _service_type(spec) == "LoadBalancer"
    if both_lb and spec.get("loadBalancerClass") != old_spec.get("loadBalancerClass"):
        errs.append(
            invalid("spec.loadBalancerClass", spec.get("loadBalancerClass"), "may not change once set")
        )
    patched = dict(new)
    patched["spec"] = spec
    errs.extend(validate_service(patched))
    return errs


# --- endpoints, configmaps, secrets, service accounts --------------------------------------------


def validate_endpoints(ep: Obj) -> Errs:
    errs = validate_object_meta(ep.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    for i, raw in enumerate(_l(ep.get("subsets"))):
        subset, idx = _m(raw), f"subsets[{i}]"
        if not _l(subset.get("addresses")) and not _l(subset.get("notReadyAddresses")):
            errs.append(required(idx, "must specify `addresses` or `notReadyAddresses`"))
        for key in ("addresses", "notReadyAddresses"):
            for j, addr_raw in enumerate(_l(subset.get(key))):
                addr = _m(addr_raw)
                hostname = _s(addr.get("hostname"))
                if hostname:
                    errs.extend(_dns_label(hostname, f"{idx}.{key}[{j}].hostname"))
                node_name = addr.get("nodeName")
                if isinstance(node_name, str):
                    errs.extend(
                        _name_check(names.name_is_dns_subdomain, node_name, f"{idx}.{key}[{j}].nodeName")
                    )
        ports = [_m(p) for p in _l(subset.get("ports"))]
        for j, port in enumerate(ports):
            ppath = f"{idx}.ports[{j}]"
            name = _s(port.get("name"))
            if len(ports) > 1 and not name:
                errs.append(required(f"{ppath}.name"))
            elif name:
                errs.extend(_dns_label(name, f"{ppath}.name"))
            number = _n(port.get("port")) or 0
            errs.extend(invalid(f"{ppath}.port", number, m) for m in names.is_valid_port_num(number))
            protocol = _s(port.get("protocol"))
            if protocol and protocol not in PROTOCOLS:
                errs.append(not_supported(f"{ppath}.protocol", protocol, PROTOCOLS))
            if isinstance(port.get("appProtocol"), str):
                errs.extend(_qualified_name(port["appProtocol"], f"{ppath}.appProtocol"))
    return errs


def _decoded_size(value: Any) -> int:
    try:
        return len(base64.b64decode(_s(value), validate=False))
    except (binascii.Error, ValueError):
        return _blen(_s(value))


def validate_configmap(cm: Obj) -> Errs:
    errs = validate_object_meta(cm.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    data, binary = _m(cm.get("data")), _m(cm.get("binaryData"))
    total = 0
    for key, value in sorted(data.items()):
        errs.extend(invalid(f"data[{key}]", key, m) for m in names.is_config_map_key(key))
        if key in binary:
            errs.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        total += _blen(_s(value))
    for key, value in sorted(binary.items()):
        errs.extend(invalid(f"binaryData[{key}]", key, m) for m in names.is_config_map_key(key))
        total += _decoded_size(value)
    if total > MAX_SECRET_SIZE:
        # Go passes field.NewPath(""): the error is about the whole object.
        errs.append(too_long("", MAX_SECRET_SIZE))
    return errs


IMMUTABLE_SET = "field is immutable when `immutable` is set"


def validate_configmap_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(forbidden("immutable", IMMUTABLE_SET))
        if _m(new.get("data")) != _m(old.get("data")):
            errs.append(forbidden("data", IMMUTABLE_SET))
        if _m(new.get("binaryData")) != _m(old.get("binaryData")):
            errs.append(forbidden("binaryData", IMMUTABLE_SET))
    errs.extend(validate_configmap(new))
    return errs


def _secret_data(secret: Obj) -> dict[str, int]:
    """Key -> decoded size; stringData is merged into data as the v1 conversion does."""
    sizes = {k: _decoded_size(v) for k, v in _m(secret.get("data")).items()}
    sizes.update({k: _blen(_s(v)) for k, v in _m(secret.get("stringData")).items()})
    return sizes


def validate_secret(secret: Obj) -> Errs:
    errs = validate_object_meta(secret.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    data = _secret_data(secret)
    for key in sorted(data):
        errs.extend(invalid(f"data[{key}]", key, m) for m in names.is_config_map_key(key))
    if sum(data.values()) > MAX_SECRET_SIZE:
        errs.append(too_long("data", MAX_SECRET_SIZE))
    secret_type = _s(secret.get("type"))
    annotations = _m(_m(secret.get("metadata")).get("annotations"))
    if secret_type == "kubernetes.io/service-account-token":
        if not _s(annotations.get("kubernetes.io/service-account.name")):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif secret_type == "kubernetes.io/dockercfg":
        if ".dockercfg" not in data:
            errs.append(required("data[.dockercfg]"))
    elif secret_type == "kubernetes.io/dockerconfigjson":
        if ".dockerconfigjson" not in data:
            errs.append(required("data[.dockerconfigjson]"))
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.append(required("data[username]"))
            errs.append(required("data[password]"))
    elif secret_type == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            errs.append(required("data[ssh-privatekey]"))
    elif secret_type == "kubernetes.io/tls":
        if "tls.crt" not in data:
            errs.append(required("data[tls.crt]"))
        if "tls.key" not in data:
            errs.append(required("data[tls.key]"))
    return errs


def validate_secret_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    new_type, old_type = _s(new.get("type")) or "Opaque", _s(old.get("type")) or "Opaque"
    errs.extend(_immutable(new_type, old_type, "type", new_type))
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(forbidden("immutable", IMMUTABLE_SET))
        if (
            _secret_data(new) != _secret_data(old)
            or _m(new.get("data")) != _m(old.get("data"))
            or new.get("stringData")
        ):
            errs.append(forbidden("data", IMMUTABLE_SET))
    errs.extend(validate_secret(new))
    return errs


def validate_service_account(sa: Obj) -> Errs:
    return validate_object_meta(
        sa.get("metadata"), namespaced=True, name_fn=names.validate_service_account_name
    )


# --- events --------------------------------------------------------------------------------------

# events.k8s.io/v1 field -> the internal core.Event field it converts to (errors use the latter).
_EVENTS_V1_FIELDS = {
    "regarding": "involvedObject",
    "note": "message",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}


def _internal_event(event: Obj) -> Obj:
    out = dict(event)
    for v1_name, internal_name in _EVENTS_V1_FIELDS.items():
        if v1_name in event:
            out[internal_name] = event[v1_name]
            out.pop(v1_name, None)
    return out


def _legacy_validate_event(event: Obj) -> Errs:
    errs: Errs = []
    namespace = _s(_m(event.get("metadata")).get("namespace"))
    involved_ns = _s(_m(event.get("involvedObject")).get("namespace"))
    mismatch = invalid("involvedObject.namespace", involved_ns, "does not match event.namespace")
    if not event.get("eventTime"):
        if not involved_ns:
            if namespace not in ("", "default"):
                errs.append(mismatch)
        elif namespace != involved_ns:
            errs.append(mismatch)
    else:
        if not involved_ns and namespace not in ("default", "kube-system"):
            errs.append(mismatch)
        controller = _s(event.get("reportingController"))
        if not controller:
            errs.append(required("reportingController"))
        errs.extend(_qualified_name(controller, "reportingController"))
        instance = _s(event.get("reportingInstance"))
        if not instance:
            errs.append(required("reportingInstance"))
        if len(instance.encode()) > 128:
            errs.append(invalid("reportingInstance", "", "can have at most 128 characters"))
        for key, limit in (("action", 128), ("reason", 128)):
            value = _s(event.get(key))
            if not value:
                errs.append(required(key))
            if _blen(value) > limit:
                errs.append(invalid(key, "", f"can have at most {limit} characters"))
        if _blen(_s(event.get("message"))) > 1024:
            errs.append(invalid("message", "", "can have at most 1024 characters"))
    errs.extend(invalid("namespace", namespace, m) for m in names.is_dns1123_subdomain(namespace))
    return errs


def _validate_event_series(event: Obj) -> Errs:
    series = event.get("series")
    if not isinstance(series, dict):
        return []
    errs: Errs = []
    if (_n(series.get("count")) or 0) < 2:
        errs.append(invalid("series.count", "", "should be at least 2"))
    if not series.get("lastObservedTime"):
        errs.append(required("series.lastObservedTime"))
    return errs


def validate_event_create(event: Obj, *, strict: bool) -> Errs:
    """``ValidateEventCreate``: core/v1 gets only the legacy checks; events.k8s.io/v1 the strict ones too."""
    event = _internal_event(event) if strict else event
    errs = _legacy_validate_event(event)
    if not strict:
        return errs
    errs.extend(
        validate_object_meta(event.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    )
    errs.extend(_validate_event_series(event))
    if not event.get("eventTime"):
        errs.append(required("eventTime"))
    event_type = _s(event.get("type"))
    if event_type not in ("Normal", "Warning"):
        errs.append(invalid("type", "", f"has invalid value: {event_type}"))
    for key in ("firstTimestamp", "lastTimestamp"):
        if event.get(key):
            errs.append(invalid(key, "", "needs to be unset"))
    if _n(event.get("count")):
        errs.append(invalid("count", "", "needs to be unset"))
    source = _m(event.get("source"))
    if _s(source.get("component")) or _s(source.get("host")):
        errs.append(invalid("source", "", "needs to be unset"))
    return errs


def validate_event_update(new: Obj, old: Obj, *, strict: bool) -> Errs:
    if strict:
        new, old = _internal_event(new), _internal_event(old)
    errs = _legacy_validate_event(new)
    if not strict:
        return errs
    errs.extend(validate_object_meta_update(new.get("metadata"), old.get("metadata")))
    if new.get("series") != old.get("series"):
        errs.extend(_validate_event_series(new))
    for key in (
        "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
        "reason", "type", "eventTime", "action", "related", "reportingController", "reportingInstance",
    ):  # fmt: skip
        new_value, old_value = new.get(key), old.get(key)
        if _prune(new_value) != _prune(old_value):
            shown: Any = new_value
            if key in ("firstTimestamp", "lastTimestamp", "eventTime"):
                shown = go_time(new_value)
            elif isinstance(new_value, dict | list):
                shown = GoRaw(json.dumps(new_value, sort_keys=True))
            elif new_value is None:
                shown = 0 if key == "count" else ""
            errs.append(invalid(key, shown, FIELD_IMMUTABLE))
    return errs


# --- nodes, namespaces, persistent volume claims -------------------------------------------------


def go_taint(taint: Obj) -> GoRaw:
    added = "(*v1.Time)(nil)" if not taint.get("timeAdded") else "(*v1.Time)(0xc000000000)"
    return GoRaw(
        "core.Taint{Key:"
        + go_quote(_s(taint.get("key")))
        + ", Value:"
        + go_quote(_s(taint.get("value")))
        + ", Effect:"
        + go_quote(_s(taint.get("effect")))
        + f", TimeAdded:{added}}}"
    )


def _validate_node_taints(taints: Any, path: str) -> Errs:
    errs: Errs = []
    unique: dict[str, set[str]] = {}
    for i, raw in enumerate(_l(taints)):
        taint, idx = _m(raw), f"{path}[{i}]"
        key, value, effect = _s(taint.get("key")), _s(taint.get("value")), _s(taint.get("effect"))
        errs.extend(validate_label_name(key, f"{idx}.key"))
        msgs = names.is_valid_label_value(value)
        if msgs:
            errs.append(invalid(f"{idx}.value", value, ";".join(msgs)))
        if not effect:
            errs.append(required(f"{idx}.effect"))
        elif effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.append(
                not_supported(f"{idx}.effect", effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"])
            )
        if key in unique.get(effect, set()):
            errs.append(
                FieldError(
                    "FieldValueDuplicate",
                    idx,
                    go_taint(taint),
                    "taints must be unique by key and effect pair",
                )
            )
            continue
        unique.setdefault(effect, set()).add(key)
    return errs


def validate_node(node: Obj) -> Errs:
    errs = validate_object_meta(node.get("metadata"), namespaced=False, name_fn=names.name_is_dns_subdomain)
    # Go validates spec.taints under the metadata path ("metadata.taints[0]..."): kept as it is.
    errs.extend(_validate_node_taints(_m(node.get("spec")).get("taints"), "metadata.taints"))
    return errs


def validate_node_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    new_spec, old_spec = _m(new.get("spec")), _m(old.get("spec"))
    old_cidrs, new_cidrs = _l(old_spec.get("podCIDRs")), _l(new_spec.get("podCIDRs"))
    cidr_msg = 'node updates may not change podCIDR except from "" to valid'
    if old_cidrs:
        if len(old_cidrs) != len(new_cidrs):
            errs.append(forbidden("spec.podCIDRs", cidr_msg))
        else:
            errs.extend(
                forbidden("spec.podCIDRs", cidr_msg)
                for a, b in zip(old_cidrs, new_cidrs, strict=True)
                if a != b
            )
    old_provider = _s(old_spec.get("providerID"))
    if old_provider and old_provider != _s(new_spec.get("providerID")):
        errs.append(
            forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')
        )
    errs.extend(_validate_node_taints(new_spec.get("taints"), "metadata.taints"))
    if _s(new_spec.get("externalID")) != _s(old_spec.get("externalID")):
        errs.append(forbidden("spec.externalID", "may not be updated"))
    return errs


def validate_namespace(ns: Obj) -> Errs:
    errs = validate_object_meta(ns.get("metadata"), namespaced=False, name_fn=names.validate_namespace_name)
    for finalizer in _l(_m(ns.get("spec")).get("finalizers")):
        errs.extend(_qualified_name(_s(finalizer), "spec.finalizers"))
        errs.extend(validate_kube_finalizer_name(_s(finalizer), "spec.finalizers"))
    return errs


_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]


def _validate_pvc_spec(spec: Obj, path: str) -> Errs:
    errs: Errs = []
    modes = [_s(m) for m in _l(spec.get("accessModes"))]
    if not modes:
        errs.append(required(f"{path}.accessModes", "at least 1 access mode is required"))
    if spec.get("selector") is not None:
        errs.extend(validate_label_selector(spec.get("selector"), f"{path}.selector"))
    found_rwop = found_other = False
    for mode in modes:
        if mode not in _ACCESS_MODES:
            errs.append(not_supported(f"{path}.accessModes", mode, _ACCESS_MODES))
        if mode == "ReadWriteOncePod":
            found_rwop = True
        elif mode in _ACCESS_MODES:
            found_other = True
    if found_rwop and found_other:
        errs.append(forbidden(f"{path}.accessModes", "may not use ReadWriteOncePod with other access modes"))
    requests = _m(_m(spec.get("resources")).get("requests"))
    storage_path = f"{path}.resources[storage]"
    if "storage" not in requests:
        errs.append(required(storage_path))
    else:
        quantity = parse_quantity(requests["storage"])
        if quantity is not None and quantity <= 0:
            errs.append(invalid(storage_path, _quantity_text(requests["storage"]), NOT_POSITIVE))
    class_name = spec.get("storageClassName")
    if isinstance(class_name, str) and class_name:
        errs.extend(_name_check(names.name_is_dns_subdomain, class_name, f"{path}.storageClassName"))
    volume_mode = spec.get("volumeMode")
    if isinstance(volume_mode, str) and volume_mode not in ("Block", "Filesystem"):
        errs.append(not_supported(f"{path}.volumeMode", volume_mode, ["Block", "Filesystem"]))
    return errs


def validate_pvc(pvc: Obj) -> Errs:
    errs = validate_object_meta(pvc.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_pvc_spec(_m(pvc.get("spec")), "spec"))
    return errs


PVC_SPEC_IMMUTABLE = (
    "spec is immutable after creation except resources.requests "
    "and volumeAttributesClassName for bound claims"
)


def validate_pvc_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(validate_pvc(new))
    new_spec, old_spec = copy.deepcopy(_m(new.get("spec"))), copy.deepcopy(_m(old.get("spec")))
    new_spec = _with_stored_defaults(new_spec, old_spec, ("volumeMode",))
    if not _s(old_spec.get("volumeName")):
        old_spec.pop("volumeName", None)
        if "volumeName" in new_spec:
            old_spec["volumeName"] = new_spec["volumeName"]
    bound = _s(_m(new.get("status")).get("phase")) == "Bound"
    old_requests = _m(_m(_m(old.get("spec")).get("resources")).get("requests"))
    if bound:
        new_requests = _m(_m(new_spec.get("resources")).get("requests"))
        if new_requests:
            new_requests["storage"] = old_requests.get("storage")
        if new_spec.get("volumeAttributesClassName") is not None:
            new_spec["volumeAttributesClassName"] = old_spec.get("volumeAttributesClassName")
    if _prune(new_spec) != _prune(old_spec):
        errs.append(
            forbidden(
                "spec",
                PVC_SPEC_IMMUTABLE + "\n" + _diff(old_spec, new_spec, "core.PersistentVolumeClaimSpec"),
            )
        )
    new_size = parse_quantity(_m(_m(_m(new.get("spec")).get("resources")).get("requests")).get("storage"))
    old_size = parse_quantity(old_requests.get("storage"))
    status_size = parse_quantity(_m(_m(old.get("status")).get("capacity")).get("storage")) or Decimal(0)
    if new_size is not None and old_size is not None and new_size < old_size and new_size <= status_size:
        errs.append(
            forbidden("spec.resources.requests.storage", "field can not be less than status.capacity")
        )
    new_mode = _m(new.get("spec")).get("volumeMode") or "Filesystem"
    old_mode = _m(old.get("spec")).get("volumeMode") or "Filesystem"
    errs.extend(_immutable(new_mode, old_mode, "volumeMode", new_mode))
    return errs


# --- apps ----------------------------------------------------------------------------------------


def _template_labels(template: Obj) -> dict[str, Any] | None:
    labels = _m(template.get("metadata")).get("labels")
    return labels if isinstance(labels, dict) else None


def _selector_mismatch(selector: _Selector, template: Obj, path: str) -> Errs:
    labels = _template_labels(template)
    if not selector.empty() and not selector.matches(labels or {}):
        return [invalid(path, go_string_map(labels), "`selector` does not match template `labels`")]
    return []


def _validate_pod_template_for_rs(template: Obj, selector: _Selector, path: str, kind: str) -> Errs:
    """``ValidatePodTemplateSpecForReplicaSet``."""
    errs = _selector_mismatch(selector, template, f"{path}.metadata.labels")
    errs.extend(validate_pod_template_spec(template, path))
    spec = _m(template.get("spec"))
    restart = _s(spec.get("restartPolicy")) or "Always"
    if restart != "Always":
        errs.append(not_supported(f"{path}.spec.restartPolicy", restart, ["Always"]))
    if spec.get("activeDeadlineSeconds") is not None:
        errs.append(
            forbidden(
                f"{path}.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {kind} is not Supported"
            )
        )
    return errs


def _validate_workload_selector(spec: Obj, path: str, what: str) -> tuple[Errs, _Selector | None]:
    errs: Errs = []
    selector = spec.get("selector")
    if selector is None:
        errs.append(required(f"{path}.selector"))
    else:
        errs.extend(validate_label_selector(selector, f"{path}.selector"))
        sel = _m(selector)
        if not _m(sel.get("matchLabels")) and not _l(sel.get("matchExpressions")):
            errs.append(
                invalid(
                    f"{path}.selector", _selector_value(selector), f"empty selector is invalid for {what}"
                )
            )
    return errs, selector_as_selector(selector)


def _go_deployment_strategy(strategy: Obj) -> GoRaw:
    rolling = (
        "(*apps.RollingUpdateDeployment)(nil)"
        if strategy.get("rollingUpdate") is None
        else ("(*apps.RollingUpdateDeployment)(0xc000000000)")
    )
    return GoRaw(
        f"apps.DeploymentStrategy{{Type:{go_quote(_s(strategy.get('type')))}, RollingUpdate:{rolling}}}"
    )


def _validate_deployment_strategy(strategy: Obj, path: str) -> Errs:
    errs: Errs = []
    strategy_type = _s(strategy.get("type")) or "RollingUpdate"
    if strategy_type == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.append(
                forbidden(f"{path}.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
            )
    elif strategy_type == "RollingUpdate":
        rolling = _m(strategy.get("rollingUpdate"))
        max_unavailable = rolling.get("maxUnavailable", "25%")
        max_surge = rolling.get("maxSurge", "25%")
        rpath = f"{path}.rollingUpdate"
        errs.extend(validate_positive_int_or_percent(max_unavailable, f"{rpath}.maxUnavailable"))
        errs.extend(validate_positive_int_or_percent(max_surge, f"{rpath}.maxSurge"))
        if _intstr_number(max_unavailable) == 0 and _intstr_number(max_surge) == 0:
            errs.append(
                invalid(
                    f"{rpath}.maxUnavailable",
                    _intstr_shown(max_unavailable),
                    "may not be 0 when `maxSurge` is 0",
                )
            )
        errs.extend(is_not_more_than_100_percent(max_unavailable, f"{rpath}.maxUnavailable"))
    else:
        errs.append(not_supported(path, _go_deployment_strategy(strategy), ["Recreate", "RollingUpdate"]))
    return errs


def _validate_deployment_spec(spec: Obj, path: str) -> Errs:
    errs = validate_nonnegative(_n(spec.get("replicas")) or 0, f"{path}.replicas")
    selector_errs, selector = _validate_workload_selector(spec, path, "deployment")
    errs.extend(selector_errs)
    if selector is None:
        errs.append(
            invalid(f"{path}.selector", _selector_value(spec.get("selector")), "invalid label selector")
        )
    else:
        errs.extend(
            _validate_pod_template_for_rs(
                _m(spec.get("template")), selector, f"{path}.template", "ReplicaSet"
            )
        )
    errs.extend(_validate_deployment_strategy(_m(spec.get("strategy")), f"{path}.strategy"))
    min_ready = _n(spec.get("minReadySeconds")) or 0
    errs.extend(validate_nonnegative(min_ready, f"{path}.minReadySeconds"))
    history = _n(spec.get("revisionHistoryLimit"))
    if history is not None:
        errs.extend(validate_nonnegative(history, f"{path}.revisionHistoryLimit"))
    deadline = _n(spec.get("progressDeadlineSeconds"))
    if deadline is not None:
        errs.extend(validate_nonnegative(deadline, f"{path}.progressDeadlineSeconds"))
        if deadline <= min_ready:
            errs.append(
                invalid(f"{path}.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
            )
    return errs


def validate_deployment(obj: Obj) -> Errs:
    errs = validate_object_meta(obj.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_deployment_spec(_m(obj.get("spec")), "spec"))
    return errs


def _selector_immutable(new: Obj, old: Obj) -> Errs:
    """The apps/v1 strategies' selector check (``ValidateImmutableField`` of the *LabelSelector)."""
    new_sel, old_sel = _m(new.get("spec")).get("selector"), _m(old.get("spec")).get("selector")
    if _prune(new_sel) != _prune(old_sel):
        return [invalid("spec.selector", _selector_value(new_sel), FIELD_IMMUTABLE)]
    return []


def validate_deployment_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_validate_deployment_spec(_m(new.get("spec")), "spec"))
    errs.extend(_selector_immutable(new, old))
    return errs


def _validate_replicaset_spec(spec: Obj, path: str) -> Errs:
    errs = validate_nonnegative(_n(spec.get("replicas")) or 0, f"{path}.replicas")
    errs.extend(validate_nonnegative(_n(spec.get("minReadySeconds")) or 0, f"{path}.minReadySeconds"))
    # "deployment" is what Go says for ReplicaSets too.
    selector_errs, selector = _validate_workload_selector(spec, path, "deployment")
    errs.extend(selector_errs)
    if selector is None:
        errs.append(
            invalid(f"{path}.selector", _selector_value(spec.get("selector")), "invalid label selector")
        )
    else:
        errs.extend(
            _validate_pod_template_for_rs(
                _m(spec.get("template")), selector, f"{path}.template", "ReplicaSet"
            )
        )
    return errs


def validate_replicaset(obj: Obj) -> Errs:
    errs = validate_object_meta(obj.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_replicaset_spec(_m(obj.get("spec")), "spec"))
    return errs


def validate_replicaset_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_validate_replicaset_spec(_m(new.get("spec")), "spec"))
    errs.extend(_selector_immutable(new, old))
    return errs


def _go_daemonset_strategy(strategy: Obj) -> GoRaw:
    rolling = (
        "(*apps.RollingUpdateDaemonSet)(nil)"
        if strategy.get("rollingUpdate") is None
        else ("(*apps.RollingUpdateDaemonSet)(0xc000000000)")
    )
    return GoRaw(
        f"apps.DaemonSetUpdateStrategy{{Type:{go_quote(_s(strategy.get('type')))}, RollingUpdate:{rolling}}}"
    )


def _validate_daemonset_spec(spec: Obj, path: str) -> Errs:
    errs = validate_label_selector(spec.get("selector"), f"{path}.selector")
    selector = selector_as_selector(spec.get("selector"))
    template = _m(spec.get("template"))
    labels = _template_labels(template)
    if selector is not None and not selector.matches(labels or {}):
        errs.append(
            invalid(
                f"{path}.template.metadata.labels",
                go_string_map(labels),
                "`selector` does not match template `labels`",
            )
        )
    sel = spec.get("selector")
    if isinstance(sel, dict) and not _m(sel.get("matchLabels")) and not _l(sel.get("matchExpressions")):
        errs.append(
            invalid(f"{path}.selector", _selector_value(sel), "empty selector is invalid for daemonset")
        )
    errs.extend(validate_pod_template_spec(template, f"{path}.template"))
    tspec = _m(template.get("spec"))
    restart = _s(tspec.get("restartPolicy")) or "Always"
    if restart != "Always":
        errs.append(not_supported(f"{path}.template.spec.restartPolicy", restart, ["Always"]))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(
            forbidden(
                f"{path}.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in DaemonSet is not Supported",
            )
        )
    errs.extend(validate_nonnegative(_n(spec.get("minReadySeconds")) or 0, f"{path}.minReadySeconds"))
    strategy = _m(spec.get("updateStrategy"))
    strategy_type = _s(strategy.get("type")) or "RollingUpdate"
    spath = f"{path}.updateStrategy"
    if strategy_type == "RollingUpdate":
        rolling = _m(strategy.get("rollingUpdate"))
        max_unavailable, max_surge = rolling.get("maxUnavailable", 1), rolling.get("maxSurge", 0)
        rpath = f"{spath}.rollingUpdate"
        errs.extend(validate_positive_int_or_percent(max_unavailable, f"{rpath}.maxUnavailable"))
        errs.extend(validate_positive_int_or_percent(max_surge, f"{rpath}.maxSurge"))
        errs.extend(is_not_more_than_100_percent(max_unavailable, f"{rpath}.maxUnavailable"))
        errs.extend(is_not_more_than_100_percent(max_surge, f"{rpath}.maxSurge"))
        has_unavailable, has_surge = _intstr_number(max_unavailable) != 0, _intstr_number(max_surge) != 0
        if has_unavailable and has_surge:
            errs.append(
                invalid(
                    f"{rpath}.maxSurge",
                    _intstr_shown(max_surge),
                    "may not be set when maxUnavailable is non-zero",
                )
            )
        elif not has_unavailable and not has_surge:
            errs.append(required(f"{rpath}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    elif strategy_type != "OnDelete":
        errs.append(not_supported(spath, _go_daemonset_strategy(strategy), ["RollingUpdate", "OnDelete"]))
    history = _n(spec.get("revisionHistoryLimit"))
    if history is not None:
        errs.extend(validate_nonnegative(history, f"{path}.revisionHistoryLimit"))
    return errs


def validate_daemonset(obj: Obj) -> Errs:
    errs = validate_object_meta(obj.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_daemonset_spec(_m(obj.get("spec")), "spec"))
    return errs


def validate_daemonset_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_validate_daemonset_spec(_m(new.get("spec")), "spec"))
    errs.extend(_selector_immutable(new, old))
    return errs


def _validate_statefulset_spec(spec: Obj, path: str) -> Errs:
    errs: Errs = []
    policy = _s(spec.get("podManagementPolicy"))
    if policy and policy not in ("OrderedReady", "Parallel"):
        errs.append(invalid(f"{path}.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"))
    strategy = _m(spec.get("updateStrategy"))
    strategy_type = _s(strategy.get("type")) or "RollingUpdate"
    if strategy_type == "OnDelete":
        if strategy.get("rollingUpdate") is not None:
            errs.append(
                invalid(
                    f"{path}.updateStrategy.rollingUpdate",
                    GoRaw("&apps.RollingUpdateStatefulSetStrategy{...}"),
                    "only allowed for updateStrategy 'RollingUpdate'",
                )
            )
    elif strategy_type == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if isinstance(rolling, dict):
            rpath = f"{path}.updateStrategy.rollingUpdate"
            errs.extend(validate_nonnegative(_n(rolling.get("partition")) or 0, f"{rpath}.partition"))
            if rolling.get("maxUnavailable") is not None:
                max_unavailable = rolling["maxUnavailable"]
                errs.extend(validate_positive_int_or_percent(max_unavailable, f"{rpath}.maxUnavailable"))
                if _intstr_number(max_unavailable) == 0:
                    errs.append(
                        invalid(f"{rpath}.maxUnavailable", _intstr_shown(max_unavailable), "cannot be 0")
                    )
                errs.extend(is_not_more_than_100_percent(max_unavailable, f"{rpath}.maxUnavailable"))
    else:
        errs.append(
            invalid(
                f"{path}.updateStrategy",
                GoRaw(
                    f"apps.StatefulSetUpdateStrategy{{Type:{go_quote(strategy_type)}, "
                    "RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}"
                ),
                "must be 'RollingUpdate' or 'OnDelete'",
            )
        )
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(retention, dict):
        for key in ("whenDeleted", "whenScaled"):
            value = _s(retention.get(key)) or "Retain"
            if value not in ("Retain", "Delete"):
                errs.append(
                    not_supported(
                        f"{path}.persistentVolumeClaimRetentionPolicy.{key}", value, ["Retain", "Delete"]
                    )
                )
    errs.extend(validate_nonnegative(_n(spec.get("replicas")) or 0, f"{path}.replicas"))
    errs.extend(validate_nonnegative(_n(spec.get("minReadySeconds")) or 0, f"{path}.minReadySeconds"))
    ordinals = spec.get("ordinals")
    if isinstance(ordinals, dict):
        errs.extend(validate_nonnegative(_n(ordinals.get("start")) or 0, f"{path}.ordinals.start"))
    selector_errs, selector = _validate_workload_selector(spec, path, "statefulset")
    errs.extend(selector_errs)
    template = _m(spec.get("template"))
    if selector is None:
        errs.append(invalid(f"{path}.selector", _selector_value(spec.get("selector")), ""))
    else:
        # ValidatePodTemplateSpecForStatefulSet: labels and annotations only (Go leaves the pod spec out).
        errs.extend(_selector_mismatch(selector, template, f"{path}.template.metadata.labels"))
        meta = _m(template.get("metadata"))
        errs.extend(validate_labels(meta.get("labels"), f"{path}.template.labels"))
        errs.extend(validate_annotations(meta.get("annotations"), f"{path}.template.annotations"))
    tspec = _m(template.get("spec"))
    restart = _s(tspec.get("restartPolicy")) or "Always"
    if restart != "Always":
        errs.append(not_supported(f"{path}.template.spec.restartPolicy", restart, ["Always"]))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(
            forbidden(
                f"{path}.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in StatefulSet is not Supported",
            )
        )
    return errs


def validate_statefulset(obj: Obj) -> Errs:
    errs = validate_object_meta(obj.get("metadata"), namespaced=True, name_fn=names.name_is_dns_label)
    errs.extend(_validate_statefulset_spec(_m(obj.get("spec")), "spec"))
    return errs


STATEFULSET_SPEC_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)


def validate_statefulset_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_validate_statefulset_spec(_m(new.get("spec")), "spec"))
    mutable = (
        "replicas",
        "template",
        "updateStrategy",
        "minReadySeconds",
        "ordinals",
        "persistentVolumeClaimRetentionPolicy",
    )
    new_spec = _with_stored_defaults(
        _m(new.get("spec")), _m(old.get("spec")), ("podManagementPolicy", "revisionHistoryLimit")
    )
    new_rest = {k: v for k, v in new_spec.items() if k not in mutable}
    old_rest = {k: v for k, v in _m(old.get("spec")).items() if k not in mutable}
    if _prune(new_rest) != _prune(old_rest):
        errs.append(forbidden("spec", STATEFULSET_SPEC_FORBIDDEN))
    return errs


# --- batch ---------------------------------------------------------------------------------------

_JOB_UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")
_JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")


def _job_after_generation(job: Obj) -> Obj:
    """The Job strategy's ``generateSelector`` (unless ``manualSelector``), so validation sees its result."""
    spec = _m(job.get("spec"))
    if spec.get("manualSelector") is True:
        return job
    meta = _m(job.get("metadata"))
    uid, name = _s(meta.get("uid")), _s(meta.get("name"))
    out = copy.deepcopy(job)
    out_spec = out.setdefault("spec", {})
    template = out_spec.setdefault("template", {})
    if not isinstance(template, dict):
        return job
    tmeta = template.setdefault("metadata", {})
    labels = tmeta.get("labels")
    labels = dict(labels) if isinstance(labels, dict) else {}
    for key in _JOB_NAME_LABELS:
        labels.setdefault(key, name)
    for key in _JOB_UID_LABELS:
        labels.setdefault(key, uid)
    tmeta["labels"] = labels
    selector = out_spec.get("selector")
    selector = dict(selector) if isinstance(selector, dict) else {}
    match_labels = dict(_m(selector.get("matchLabels")))
    match_labels.setdefault(_JOB_UID_LABELS[0], uid)
    selector["matchLabels"] = match_labels
    out_spec["selector"] = selector
    return out


def _validate_job_spec_common(spec: Obj, path: str) -> Errs:
    """``validateJobSpec``."""
    errs: Errs = []
    for key in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ):
        value = _n(spec.get(key))
        if value is not None:
            errs.extend(validate_nonnegative(value, f"{path}.{key}"))
    mode = spec.get("completionMode")
    if isinstance(mode, str):
        if mode not in ("NonIndexed", "Indexed"):
            errs.append(not_supported(f"{path}.completionMode", mode, ["NonIndexed", "Indexed"]))
        if mode == "Indexed" and spec.get("completions") is None:
            errs.append(required(f"{path}.completions", "when completion mode is Indexed"))
    template = _m(spec.get("template"))
    errs.extend(validate_pod_template_spec(template, f"{path}.template"))
    restart = _s(_m(template.get("spec")).get("restartPolicy"))
    restart_path = f"{path}.template.spec.restartPolicy"
    if restart in ("Always", ""):
        errs.append(required(restart_path, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        errs.append(not_supported(restart_path, restart, ["OnFailure", "Never"]))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        errs.append(
            invalid(restart_path, restart, 'only "Never" is supported when podFailurePolicy is specified')
        )
    return errs


def _validate_job_spec(spec: Obj, path: str) -> Errs:
    """``ValidateJobSpec``."""
    errs = _validate_job_spec_common(spec, path)
    selector = spec.get("selector")
    if selector is None:
        errs.append(required(f"{path}.selector"))
    else:
        errs.extend(validate_label_selector(selector, f"{path}.selector"))
    matcher = selector_as_selector(selector)
    if matcher is not None:
        labels = _template_labels(_m(spec.get("template")))
        if not matcher.matches(labels or {}):
            errs.append(
                invalid(
                    f"{path}.template.metadata.labels",
                    go_string_map(labels),
                    "`selector` does not match template `labels`",
                )
            )
    return errs


def _validate_generated_selector(job: Obj) -> Errs:
    spec = _m(job.get("spec"))
    if spec.get("manualSelector") is True or spec.get("selector") is None:
        return []
    meta = _m(job.get("metadata"))
    expected = {k: _s(meta.get("uid")) for k in _JOB_UID_LABELS} | {
        k: _s(meta.get("name")) for k in _JOB_NAME_LABELS
    }
    matcher = selector_as_selector(spec.get("selector"))
    if matcher is not None and not matcher.matches(expected):
        return [
            invalid("spec.selector", _selector_value(spec.get("selector")), "`selector` not auto-generated")
        ]
    return []


def validate_job(job: Obj) -> Errs:
    job = _job_after_generation(job)
    meta = _m(job.get("metadata"))
    errs = validate_object_meta(meta, namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_generated_selector(job))
    spec = _m(job.get("spec"))
    errs.extend(_validate_job_spec(spec, "spec"))
    completions = _n(spec.get("completions"))
    if spec.get("completionMode") == "Indexed" and completions is not None and completions > 0:
        hostname = f"{_s(meta.get('name'))}-{completions - 1}"
        if names.is_dns1123_label(hostname):
            errs.append(
                invalid(
                    "metadata.name",
                    _s(meta.get("name")),
                    f"will not able to create pod with invalid DNS label: {hostname}",
                )
            )
    return errs


def _go_int_ptr(value: Any) -> Any:
    return value if _n(value) is not None else None


def validate_job_update(new: Obj, old: Obj) -> Errs:
    new, old = _job_after_generation(new), _job_after_generation(old)
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    new_spec, old_spec = _m(new.get("spec")), _m(old.get("spec"))
    errs.extend(_validate_job_spec(new_spec, "spec"))
    errs.extend(
        _immutable(
            new_spec.get("completions"),
            old_spec.get("completions"),
            "spec.completions",
            _go_int_ptr(new_spec.get("completions")),
        )
    )
    errs.extend(_selector_immutable(new, old))
    new_template, old_template = (
        copy.deepcopy(_m(new_spec.get("template"))),
        copy.deepcopy(_m(old_spec.get("template"))),
    )
    new_template["spec"] = _pod_spec_with_stored_defaults(
        _m(new_template.get("spec")), _m(old_template.get("spec"))
    )
    if new_spec.get("suspend") is True and not _m(old.get("status")).get("startTime"):
        # AllowMutableSchedulingDirectives: a suspended Job that never started may change these.
        for meta_key in ("labels", "annotations"):
            _m(old_template.setdefault("metadata", {})).pop(meta_key, None)
            _m(new_template.setdefault("metadata", {})).pop(meta_key, None)
        for spec_key in ("nodeSelector", "tolerations", "schedulingGates", "affinity"):
            _m(old_template.setdefault("spec", {})).pop(spec_key, None)
            _m(new_template.setdefault("spec", {})).pop(spec_key, None)
    if _prune(new_template) != _prune(old_template):
        # Go prints the whole core.PodTemplateSpec with %#v; only the rest of the message is exact.
        errs.append(invalid("spec.template", GoRaw("core.PodTemplateSpec{...}"), FIELD_IMMUTABLE))
    for key in ("completionMode", "backoffLimitPerIndex", "managedBy"):
        new_value, old_value = new_spec.get(key), old_spec.get(key)
        errs.extend(_immutable(new_value, old_value, f"spec.{key}", new_value))
    return errs


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_CRON_BOUNDS = {
    "minute": (0, 59, None),
    "hour": (0, 23, None),
    "dom": (1, 31, None),
    "month": (1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    "dow": (0, 6, {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}),
}
_CRON_FIELDS = ("minute", "hour", "dom", "month", "dow")


class _CronError(Exception):
    pass


def _go_atoi(expr: str) -> int:
    if re.fullmatch(r"[+-]?\d+", expr):
        value = int(expr)
        if -(2**63) <= value < 2**63:
            return value
        raise _CronError(
            f"failed to parse int from {expr}: strconv.Atoi: parsing {go_quote(expr)}: value out of range"
        )
    raise _CronError(
        f"failed to parse int from {expr}: strconv.Atoi: parsing {go_quote(expr)}: invalid syntax"
    )


def _must_parse_int(expr: str) -> int:
    value = _go_atoi(expr)
    if value < 0:
        raise _CronError(f"negative number ({value}) not allowed: {expr}")
    return value


def _parse_int_or_name(expr: str, names_map: dict[str, int] | None) -> int:
    if names_map is not None and expr.lower() in names_map:
        return names_map[expr.lower()]
    return _must_parse_int(expr)


def _cron_range(expr: str, lo: int, hi: int, names_map: dict[str, int] | None) -> None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = lo, hi
    else:
        start = _parse_int_or_name(low_and_high[0], names_map)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _parse_int_or_name(low_and_high[1], names_map)
        else:
            raise _CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _must_parse_int(range_and_step[1])
        if single:
            end = hi
    else:
        raise _CronError(f"too many slashes: {expr}")
    if start < lo:
        raise _CronError(f"beginning of range ({start}) below minimum ({lo}): {expr}")
    if end > hi:
        raise _CronError(f"end of range ({end}) above maximum ({hi}): {expr}")
    if start > end:
        raise _CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise _CronError(f"step of range should be a positive number: {expr}")


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def _go_parse_duration(text: str) -> None:
    """``time.ParseDuration``: raises with Go's error text when the duration is not valid."""
    orig, rest = text, text
    bad = f"time: invalid duration {go_quote(orig)}"
    if rest[:1] in ("-", "+"):
        rest = rest[1:]
    if rest == "0":
        return
    if not rest:
        raise _CronError(bad)
    while rest:
        match = re.match(r"(\d*)(\.\d*)?", rest)
        assert match is not None
        if not match.group(1) and (not match.group(2) or match.group(2) == "."):
            raise _CronError(bad)
        rest = rest[match.end() :]
        unit_match = re.match(r"[^\d.]*", rest)
        unit = unit_match.group(0) if unit_match else ""
        if not unit:
            raise _CronError(f"time: missing unit in duration {go_quote(orig)}")
        if unit not in _DURATION_UNITS:
            raise _CronError(f"time: unknown unit {go_quote(unit)} in duration {go_quote(orig)}")
        rest = rest[len(unit) :]


def parse_cron_standard(spec: str) -> str | None:
    """robfig/cron/v3 ``ParseStandard``: the error text, or None when the schedule parses."""
    try:
        if not spec:
            raise _CronError("empty spec string")
        if spec.startswith(("TZ=", "CRON_TZ=")):
            space, eq = spec.find(" "), spec.find("=")
            location = spec[eq + 1 : space] if space >= 0 else spec[eq + 1 :]
            if not _time_zone_exists(location):
                raise _CronError(f"provided bad location {location}: unknown time zone {location}")
            spec = spec[space:].strip() if space >= 0 else ""
        if spec.startswith("@"):
            if spec in ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"):
                return None
            if spec.startswith("@every "):
                try:
                    _go_parse_duration(spec[len("@every ") :])
                except _CronError as err:
                    raise _CronError(f"failed to parse duration {spec}: {err}") from None
                return None
            raise _CronError(f"unrecognized descriptor: {spec}")
        fields = spec.split()
        if len(fields) != 5:
            raise _CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
        for text, field_name in zip(fields, _CRON_FIELDS, strict=True):
            lo, hi, names_map = _CRON_BOUNDS[field_name]
            for expr in (part for part in text.split(",") if part):
                _cron_range(expr, lo, hi, names_map)
    except _CronError as err:
        return str(err)
    return None


def _time_zone_exists(name: str) -> bool:
    if not name or name == "Local":
        return name == "Local"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return name == "UTC"
    return True


_TZ_PART_RE = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")


def _validate_time_zone(time_zone: Any, path: str) -> Errs:
    if not isinstance(time_zone, str):
        return []
    if not time_zone:
        return [invalid(path, time_zone, "timeZone must be nil or non-empty string")]
    for part in time_zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TZ_PART_RE.fullmatch(part):
            return [invalid(path, time_zone, f"unknown time zone {time_zone}")]
    errs: Errs = []
    if time_zone.lower() == "local":
        errs.append(
            invalid(
                path,
                time_zone,
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
            )
        )
    elif not _time_zone_exists(time_zone):
        errs.append(invalid(path, time_zone, f"unknown time zone {time_zone}"))
    return errs


def _validate_cronjob_spec(spec: Obj, old_spec: Obj | None, path: str) -> Errs:
    errs: Errs = []
    schedule = _s(spec.get("schedule"))
    if not schedule:
        errs.append(required(f"{path}.schedule"))
    else:
        problem = parse_cron_standard(schedule)
        if problem is not None:
            errs.append(invalid(f"{path}.schedule", schedule, problem))
        allow_tz = old_spec is not None and "TZ" in _s(old_spec.get("schedule"))
        if allow_tz and "TZ" in schedule and spec.get("timeZone") is not None:
            errs.append(
                invalid(
                    f"{path}.schedule",
                    schedule,
                    "cannot use both timeZone field and TZ or CRON_TZ in schedule",
                )
            )
        elif not allow_tz and "TZ" in schedule:
            errs.append(
                invalid(
                    f"{path}.schedule",
                    schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                )
            )
    deadline = _n(spec.get("startingDeadlineSeconds"))
    if deadline is not None:
        errs.extend(validate_nonnegative(deadline, f"{path}.startingDeadlineSeconds"))
    if old_spec is None or old_spec.get("timeZone") != spec.get("timeZone"):
        errs.extend(_validate_time_zone(spec.get("timeZone"), f"{path}.timeZone"))
    policy = _s(spec.get("concurrencyPolicy"))
    if policy and policy not in ("Allow", "Forbid", "Replace"):
        errs.append(not_supported(f"{path}.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]))
    template_path = f"{path}.jobTemplate"
    job_spec = _m(_m(spec.get("jobTemplate")).get("spec"))
    errs.extend(_validate_job_spec_common(job_spec, f"{template_path}.spec"))
    if job_spec.get("selector") is not None:
        errs.append(
            invalid(
                f"{template_path}.spec.selector",
                _selector_value(job_spec.get("selector")),
                "`selector` will be auto-generated",
            )
        )
    if job_spec.get("manualSelector") is True:
        errs.append(not_supported(f"{template_path}.spec.manualSelector", True, ["nil", "false"]))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = _n(spec.get(key))
        if value is not None:
            errs.extend(validate_nonnegative(value, f"{path}.{key}"))
    return errs


def validate_cronjob(obj: Obj) -> Errs:
    meta = _m(obj.get("metadata"))
    errs = validate_object_meta(meta, namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_cronjob_spec(_m(obj.get("spec")), None, "spec"))
    name = _s(meta.get("name"))
    # The controller appends an 11-character suffix and Job names stop at 63.
    if _blen(name) > names.DNS1035_LABEL_MAX - 11:
        errs.append(invalid("metadata.name", name, "must be no more than 52 characters"))
    return errs


def validate_cronjob_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_validate_cronjob_spec(_m(new.get("spec")), _m(old.get("spec")), "spec"))
    return errs


# --- coordination, discovery ---------------------------------------------------------------------


def _validate_lease_spec(spec: Obj) -> Errs:
    errs: Errs = []
    duration = _n(spec.get("leaseDurationSeconds"))
    if duration is not None and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = _n(spec.get("leaseTransitions"))
    if transitions is not None and transitions < 0:
        errs.append(invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    return errs


def validate_lease(obj: Obj) -> Errs:
    # Leases use apimachinery's ValidateObjectMeta directly: no kube finalizer-name check.
    errs = validate_object_meta(
        obj.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain, kube_finalizers=False
    )
    errs.extend(_validate_lease_spec(_m(obj.get("spec"))))
    return errs


def validate_lease_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), kube_finalizers=False)
    errs.extend(_validate_lease_spec(_m(new.get("spec"))))
    return errs


_ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"]


def validate_endpointslice(obj: Obj) -> Errs:
    errs = validate_object_meta(obj.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    address_type = _s(obj.get("addressType"))
    if not address_type:
        errs.append(required("addressType"))
    elif address_type not in _ADDRESS_TYPES:
        errs.append(not_supported("addressType", address_type, _ADDRESS_TYPES))
    endpoints = _l(obj.get("endpoints"))
    if len(endpoints) > 1000:
        errs.append(too_many("endpoints", len(endpoints), 1000))
    else:
        for i, raw in enumerate(endpoints):
            endpoint, idx = _m(raw), f"endpoints[{i}]"
            addresses = _l(endpoint.get("addresses"))
            if not addresses:
                errs.append(required(f"{idx}.addresses", "must contain at least 1 address"))
            elif len(addresses) > 100:
                errs.append(too_many(f"{idx}.addresses", len(addresses), 100))
            node_name = endpoint.get("nodeName")
            if isinstance(node_name, str):
                errs.extend(_name_check(names.name_is_dns_subdomain, node_name, f"{idx}.nodeName"))
            topology = _m(endpoint.get("deprecatedTopology"))
            if len(topology) > 16:
                errs.append(too_many(f"{idx}.deprecatedTopology", len(topology), 16))
            errs.extend(validate_labels(topology, f"{idx}.deprecatedTopology"))
            hostname = endpoint.get("hostname")
            if isinstance(hostname, str):
                errs.extend(_dns_label(hostname, f"{idx}.hostname"))
    ports = _l(obj.get("ports"))
    if len(ports) > 20000:
        errs.append(too_many("ports", len(ports), 20000))
        return errs
    seen: set[str] = set()
    for i, raw in enumerate(ports):
        port, idx = _m(raw), f"ports[{i}]"
        name = _s(port.get("name"))
        if name:
            errs.extend(_dns_label(name, f"{idx}.name"))
        if name in seen:
            errs.append(duplicate(f"{idx}.name", name))
        else:
            seen.add(name)
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol not in PROTOCOLS:
            errs.append(not_supported(f"{idx}.protocol", protocol, PROTOCOLS))
        if isinstance(port.get("appProtocol"), str):
            errs.extend(_qualified_name(port["appProtocol"], f"{idx}.appProtocol"))
    return errs


def validate_endpointslice_update(new: Obj, old: Obj) -> Errs:
    errs = validate_endpointslice(new)
    new_type, old_type = _s(new.get("addressType")), _s(old.get("addressType"))
    errs.extend(_immutable(new_type, old_type, "addressType", new_type))
    return errs


# --- rbac ----------------------------------------------------------------------------------------


def _validate_policy_rule(rule: Obj, namespaced: bool, path: str) -> Errs:
    errs: Errs = []
    if not _l(rule.get("verbs")):
        errs.append(required(f"{path}.verbs", "verbs must contain at least one value"))
    urls = [_s(u) for u in _l(rule.get("nonResourceURLs"))]
    if urls:
        if namespaced:
            errs.append(
                invalid(
                    f"{path}.nonResourceURLs",
                    go_string_slice(urls),
                    "namespaced rules cannot apply to non-resource URLs",
                )
            )
        if _l(rule.get("apiGroups")) or _l(rule.get("resources")) or _l(rule.get("resourceNames")):
            errs.append(
                invalid(
                    f"{path}.nonResourceURLs",
                    go_string_slice(urls),
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            )
        return errs
    if not _l(rule.get("apiGroups")):
        errs.append(required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
    if not _l(rule.get("resources")):
        errs.append(required(f"{path}.resources", "resource rules must supply at least one resource"))
    return errs


def validate_role(obj: Obj, *, cluster: bool) -> Errs:
    errs = validate_object_meta(obj.get("metadata"), namespaced=not cluster, name_fn=names.validate_rbac_name)
    for i, rule in enumerate(_l(obj.get("rules"))):
        errs.extend(_validate_policy_rule(_m(rule), not cluster, f"rules[{i}]"))
    aggregation = obj.get("aggregationRule")
    if cluster and isinstance(aggregation, dict):
        selectors = _l(aggregation.get("clusterRoleSelectors"))
        if not selectors:
            errs.append(
                required(
                    "aggregationRule.clusterRoleSelectors",
                    "at least one clusterRoleSelector required if aggregationRule is non-nil",
                )
            )
        for i, selector in enumerate(selectors):
            errs.extend(validate_label_selector(selector, f"aggregationRule.clusterRoleSelectors[{i}]"))
    return errs


def go_role_ref(ref: Obj) -> GoRaw:
    return GoRaw(
        "rbac.RoleRef{APIGroup:"
        + go_quote(_s(ref.get("apiGroup")))
        + ", Kind:"
        + go_quote(_s(ref.get("kind")))
        + ", Name:"
        + go_quote(_s(ref.get("name")))
        + "}"
    )


def _validate_subject(subject: Obj, namespaced: bool, path: str) -> Errs:
    errs: Errs = []
    name, kind, api_group = _s(subject.get("name")), _s(subject.get("kind")), _s(subject.get("apiGroup"))
    if not name:
        errs.append(required(f"{path}.name"))
    if kind == "ServiceAccount":
        if name:
            errs.extend(_name_check(names.validate_service_account_name, name, f"{path}.name"))
        if api_group:
            errs.append(not_supported(f"{path}.apiGroup", api_group, [""]))
        if not namespaced and not _s(subject.get("namespace")):
            errs.append(required(f"{path}.namespace"))
    elif kind in ("User", "Group"):
        if api_group != RBAC_GROUP:
            errs.append(not_supported(f"{path}.apiGroup", api_group, [RBAC_GROUP]))
    else:
        errs.append(not_supported(f"{path}.kind", kind, ["ServiceAccount", "User", "Group"]))
    return errs


def validate_binding(obj: Obj, *, cluster: bool) -> Errs:
    errs = validate_object_meta(obj.get("metadata"), namespaced=not cluster, name_fn=names.validate_rbac_name)
    ref = _m(obj.get("roleRef"))
    if _s(ref.get("apiGroup")) != RBAC_GROUP:
        errs.append(not_supported("roleRef.apiGroup", _s(ref.get("apiGroup")), [RBAC_GROUP]))
    kinds = ["ClusterRole"] if cluster else ["Role", "ClusterRole"]
    if _s(ref.get("kind")) not in kinds:
        errs.append(not_supported("roleRef.kind", _s(ref.get("kind")), kinds))
    ref_name = _s(ref.get("name"))
    if not ref_name:
        errs.append(required("roleRef.name"))
    else:
        errs.extend(_name_check(names.validate_rbac_name, ref_name, "roleRef.name"))
    for i, subject in enumerate(_l(obj.get("subjects"))):
        errs.extend(_validate_subject(_m(subject), not cluster, f"subjects[{i}]"))
    return errs


def validate_binding_update(new: Obj, old: Obj, *, cluster: bool) -> Errs:
    errs = validate_binding(new, cluster=cluster)
    errs.extend(validate_object_meta_update(new.get("metadata"), old.get("metadata")))
    new_ref, old_ref = _m(new.get("roleRef")), _m(old.get("roleRef"))
    if any(_s(new_ref.get(k)) != _s(old_ref.get(k)) for k in ("apiGroup", "kind", "name")):
        errs.append(invalid("roleRef", go_role_ref(new_ref), "cannot change roleRef"))
    return errs


# --- policy --------------------------------------------------------------------------------------


def _go_intstr_ptr(value: Any) -> str:
    return "(*intstr.IntOrString)(nil)" if value is None else "(*intstr.IntOrString)(0xc000000000)"


def validate_pdb(obj: Obj) -> Errs:
    """``ValidatePodDisruptionBudget``: the spec only (metadata gets the generic registry check)."""
    spec = _m(obj.get("spec"))
    errs: Errs = []
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    if min_available is not None and max_unavailable is not None:
        policy = spec.get("unhealthyPodEvictionPolicy")
        shown = GoRaw(
            f"policy.PodDisruptionBudgetSpec{{MinAvailable:{_go_intstr_ptr(min_available)}, "
            f"Selector:(*v1.LabelSelector)({'nil' if spec.get('selector') is None else '0xc000000000'}), "
            f"MaxUnavailable:{_go_intstr_ptr(max_unavailable)}, "
            "UnhealthyPodEvictionPolicy:(*policy.UnhealthyPodEvictionPolicyType)"
            f"({'nil' if policy is None else '0xc000000000'})}}"
        )
        errs.append(invalid("spec", shown, "minAvailable and maxUnavailable cannot be both set"))
    for key, value in (("minAvailable", min_available), ("maxUnavailable", max_unavailable)):
        if value is not None:
            errs.extend(validate_positive_int_or_percent(value, f"spec.{key}"))
            errs.extend(is_not_more_than_100_percent(value, f"spec.{key}"))
    errs.extend(validate_label_selector(spec.get("selector"), "spec.selector"))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if isinstance(policy, str) and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        errs.append(
            not_supported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"])
        )
    return errs


# --- the registry table --------------------------------------------------------------------------

#: resource key -> kind
KINDS: dict[str, str] = {
    "pods": "Pod",
    "services": "Service",
    "endpoints": "Endpoints",
    "configmaps": "ConfigMap",
    "secrets": "Secret",
    "serviceaccounts": "ServiceAccount",
    "events": "Event",
    "nodes": "Node",
    "namespaces": "Namespace",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "deployments.apps": "Deployment",
    "replicasets.apps": "ReplicaSet",
    "statefulsets.apps": "StatefulSet",
    "daemonsets.apps": "DaemonSet",
    "jobs.batch": "Job",
    "cronjobs.batch": "CronJob",
    "leases.coordination.k8s.io": "Lease",
    "endpointslices.discovery.k8s.io": "EndpointSlice",
    "events.events.k8s.io": "Event",
    "roles.rbac.authorization.k8s.io": "Role",
    "rolebindings.rbac.authorization.k8s.io": "RoleBinding",
    "clusterroles.rbac.authorization.k8s.io": "ClusterRole",
    "clusterrolebindings.rbac.authorization.k8s.io": "ClusterRoleBinding",
    "poddisruptionbudgets.policy": "PodDisruptionBudget",
}

CLUSTER_SCOPED = frozenset(
    {
        "nodes",
        "namespaces",
        "clusterroles.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io",
    }
)

#: resource key -> the ValidateNameFunc its kind validates metadata.name (and generateName) with.
#: Events (core/v1) and PodDisruptionBudgets have no name rule of their own: only the generic
#: registry's path-segment check applies. CronJob names also stop at 52 bytes on create (a separate
#: error, reported after the spec's). StatefulSet names are DNS-1123 labels (apps validation).
NAME_RULES: dict[str, Callable[[str, bool], list[str]]] = {
    "pods": names.name_is_dns_subdomain,
    "services": names.name_is_dns1035_label,
    "endpoints": names.name_is_dns_subdomain,
    "configmaps": names.name_is_dns_subdomain,
    "secrets": names.name_is_dns_subdomain,
    "serviceaccounts": names.validate_service_account_name,
    "events": names.validate_path_segment_name,
    "nodes": names.name_is_dns_subdomain,
    "namespaces": names.validate_namespace_name,
    "persistentvolumeclaims": names.name_is_dns_subdomain,
    "deployments.apps": names.name_is_dns_subdomain,
    "replicasets.apps": names.name_is_dns_subdomain,
    "statefulsets.apps": names.name_is_dns_label,
    "daemonsets.apps": names.name_is_dns_subdomain,
    "jobs.batch": names.name_is_dns_subdomain,
    "cronjobs.batch": names.name_is_dns_subdomain,
    "leases.coordination.k8s.io": names.name_is_dns_subdomain,
    "endpointslices.discovery.k8s.io": names.name_is_dns_subdomain,
    "events.events.k8s.io": names.name_is_dns_subdomain,
    "roles.rbac.authorization.k8s.io": names.validate_rbac_name,
    "rolebindings.rbac.authorization.k8s.io": names.validate_rbac_name,
    "clusterroles.rbac.authorization.k8s.io": names.validate_rbac_name,
    "clusterrolebindings.rbac.authorization.k8s.io": names.validate_rbac_name,
    "poddisruptionbudgets.policy": names.validate_path_segment_name,
}

_CREATE: dict[str, Callable[[Obj], Errs]] = {
    "pods": validate_pod_create,
    "services": validate_service,
    "endpoints": validate_endpoints,
    "configmaps": validate_configmap,
    "secrets": validate_secret,
    "serviceaccounts": validate_service_account,
    "events": lambda o: validate_event_create(o, strict=False),
    "nodes": validate_node,
    "namespaces": validate_namespace,
    "persistentvolumeclaims": validate_pvc,
    "deployments.apps": validate_deployment,
    "replicasets.apps": validate_replicaset,
    "statefulsets.apps": validate_statefulset,
    "daemonsets.apps": validate_daemonset,
    "jobs.batch": validate_job,
    "cronjobs.batch": validate_cronjob,
    "leases.coordination.k8s.io": validate_lease,
    "endpointslices.discovery.k8s.io": validate_endpointslice,
    "events.events.k8s.io": lambda o: validate_event_create(o, strict=True),
    "roles.rbac.authorization.k8s.io": lambda o: validate_role(o, cluster=False),
    "rolebindings.rbac.authorization.k8s.io": lambda o: validate_binding(o, cluster=False),
    "clusterroles.rbac.authorization.k8s.io": lambda o: validate_role(o, cluster=True),
    "clusterrolebindings.rbac.authorization.k8s.io": lambda o: validate_binding(o, cluster=True),
    "poddisruptionbudgets.policy": validate_pdb,
}


def _meta_update_then(create: Callable[[Obj], Errs]) -> Callable[[Obj, Obj], Errs]:
    """``ValidateObjectMetaUpdate`` followed by the create validation of the new object."""

    def validate(new: Obj, old: Obj) -> Errs:
        return validate_object_meta_update(new.get("metadata"), old.get("metadata")) + create(new)

    return validate


def _create_then_meta_update(create: Callable[[Obj], Errs]) -> Callable[[Obj, Obj], Errs]:
    """RBAC roles: the create validation first, then ``ValidateObjectMetaUpdate``."""

    def validate(new: Obj, old: Obj) -> Errs:
        return create(new) + validate_object_meta_update(new.get("metadata"), old.get("metadata"))

    return validate


_UPDATE: dict[str, Callable[[Obj, Obj], Errs]] = {
    "pods": validate_pod_update,
    "services": validate_service_update,
    "endpoints": _meta_update_then(validate_endpoints),
    "configmaps": validate_configmap_update,
    "secrets": validate_secret_update,
    "serviceaccounts": _meta_update_then(validate_service_account),
    "events": lambda n, o: validate_event_update(n, o, strict=False),
    "nodes": validate_node_update,
    "namespaces": lambda n, o: validate_object_meta_update(n.get("metadata"), o.get("metadata")),
    "persistentvolumeclaims": validate_pvc_update,
    "deployments.apps": validate_deployment_update,
    "replicasets.apps": validate_replicaset_update,
    "statefulsets.apps": validate_statefulset_update,
    "daemonsets.apps": validate_daemonset_update,
    "jobs.batch": validate_job_update,
    "cronjobs.batch": validate_cronjob_update,
    "leases.coordination.k8s.io": validate_lease_update,
    "endpointslices.discovery.k8s.io": validate_endpointslice_update,
    "events.events.k8s.io": lambda n, o: validate_event_update(n, o, strict=True),
    "roles.rbac.authorization.k8s.io": _create_then_meta_update(lambda o: validate_role(o, cluster=False)),
    "rolebindings.rbac.authorization.k8s.io": lambda n, o: validate_binding_update(n, o, cluster=False),
    "clusterroles.rbac.authorization.k8s.io": _create_then_meta_update(
        lambda o: validate_role(o, cluster=True)
    ),
    "clusterrolebindings.rbac.authorization.k8s.io": lambda n, o: validate_binding_update(n, o, cluster=True),
    "poddisruptionbudgets.policy": lambda n, o: validate_pdb(n),
}


def _namespaced(resource_key: str) -> bool:
    return resource_key not in CLUSTER_SCOPED


def validate_create(resource_key: str, obj: dict[str, Any]) -> list[FieldError]:
    """What kube-apiserver's ``rest.BeforeCreate`` reports for a new object of this resource.

    The kind's validation runs first; only when it passes does the generic ObjectMeta check (names
    as path segments) run, as in Go. Unknown resources get only the generic check.
    """
    with common_checks_once():
        validator = _CREATE.get(resource_key)
        if validator is not None:
            errs = validator(obj)
            if errs:
                return errs
        return validate_object_meta(
            obj.get("metadata"),
            namespaced=_namespaced(resource_key),
            name_fn=names.validate_path_segment_name,
            kube_finalizers=False,
        )


def _with_kept_system_fields(new: Obj, old: Obj) -> Obj:
    """What the store and ``rest.BeforeUpdate`` copy from the stored object before validating.

    An unset resourceVersion (unconditional update), an unset uid or generation, and the
    creation/deletion timestamps and deletion grace period: an update can never change those, so
    a client that leaves them out is not told they changed.
    """
    new_meta, old_meta = _m(new.get("metadata")), _m(old.get("metadata"))
    meta = dict(new_meta)
    for key in ("resourceVersion", "uid"):
        if not _s(meta.get(key)) and _s(old_meta.get(key)):
            meta[key] = old_meta[key]
    if meta.get("generation") is None and old_meta.get("generation") is not None:
        meta["generation"] = old_meta["generation"]
    for key in ("creationTimestamp", "deletionTimestamp"):
        if old_meta.get(key):
            meta[key] = old_meta[key]
    old_grace = old_meta.get("deletionGracePeriodSeconds")
    if meta.get("deletionGracePeriodSeconds") is None and old_grace is not None:
        meta["deletionGracePeriodSeconds"] = old_grace
    if meta == new_meta:
        return new
    out = dict(new)
    out["metadata"] = meta
    return out


def validate_update(resource_key: str, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """What kube-apiserver's ``rest.BeforeUpdate`` reports for replacing ``old`` with ``new``.

    ``validateCommonFields`` (the generic create check of the new metadata plus the generic update
    check) comes first, then the kind's update validation. The system fields the store keeps
    (see ``_with_kept_system_fields``) are filled in from ``old`` first, as kube-apiserver does.
    """
    new = _with_kept_system_fields(new, old)
    errs = validate_object_meta(
        new.get("metadata"),
        namespaced=_namespaced(resource_key),
        name_fn=names.validate_path_segment_name,
        kube_finalizers=False,
    )
    errs.extend(validate_object_meta_update(new.get("metadata"), old.get("metadata"), kube_finalizers=False))
    validator = _UPDATE.get(resource_key)
    if validator is not None:
        errs.extend(validator(new, old))
    return errs


__all__ = [
    "CLUSTER_SCOPED",
    "KINDS",
    "NAME_RULES",
    "parse_cron_standard",
    "parse_quantity",
    "validate_create",
    "validate_update",
]
