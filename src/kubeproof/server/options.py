"""Query and body options: ListOptions (list and watch) and DeleteOptions, validated as kube-apiserver does.

Sources: ``apimachinery/pkg/apis/meta/internalversion/validation/validation.go``,
``apimachinery/pkg/apis/meta/internalversion/defaults.go`` and ``apiserver/pkg/endpoints/handlers/get.go``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeproof.server import errors
from kubeproof.server.decoding import go_json_type
from kubeproof.server.selectors import FieldSelector, LabelSelector, parse_field_selector, parse_label_selector
from kubeproof.server.validation.field import FieldError, forbidden, not_supported
from kubeproof.server.validation.field import invalid as invalid_field

Query = Mapping[str, list[str]]


def first(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def parse_bool(query: Query, name: str) -> bool | None:
    value = first(query, name)
    if value is None:
        return None
    if value in ("true", "1", "True", "TRUE", "t", "T"):
        return True
    if value in ("false", "0", "False", "FALSE", "f", "F", ""):
        return False
    raise errors.bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def parse_int(query: Query, name: str) -> int | None:
    value = first(query, name)
    if value is None or value == "":
        return None
    # Go's strconv.ParseInt(value, 10, 64): optional sign and ASCII digits only, and it must fit in int64.
    digits = value[1:] if value[:1] in ("+", "-") else value
    if not (digits.isascii() and digits.isdigit()):
        raise errors.bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax')
    number = int(value, 10) if len(digits.lstrip("0")) <= 19 else 2**63  # (and no huge int parsing)
    if not -(2**63) <= number < 2**63:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{value}": value out of range')
    return number


def parse_rv(value: str) -> int:
    """A resourceVersion the client sent; 400 when it is not one this server issued."""
    # strconv.ParseUint(value, 10, 64): ASCII digits only (no sign, spaces or "_"), below 2**64.
    if not (value.isascii() and value.isdigit()) or int(value) >= 2**64:
        raise errors.bad_request(f"invalid resource version: {value}")
    return int(value)


@dataclass
class ListOptions:
    label_selector: LabelSelector
    field_selector: FieldSelector
    watch: bool = False
    resource_version: str = ""
    resource_version_match: str = ""
    limit: int = 0
    continue_token: str = ""
    timeout_seconds: int | None = None
    allow_bookmarks: bool = False
    send_initial_events: bool | None = None
    raw_label: str = ""
    raw_field: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def single_name(self) -> str | None:
        return self.field_selector.single_name()


def parse_list_options(query: Query, *, watch: bool, name: str = "") -> ListOptions:
    raw_label = first(query, "labelSelector") or ""
    raw_field = first(query, "fieldSelector") or ""
    label_selector = parse_label_selector(raw_label)
    field_selector = parse_field_selector(raw_field)
    if name:
        # A list or watch of a named item is a field-selector request for that name (handlers/get.go).
        selected = field_selector.single_name()
        if not field_selector.empty and selected != name:
            raise errors.bad_request("fieldSelector metadata.name doesn't match requested name")
        field_selector = parse_field_selector(f"metadata.name={name}")
        raw_field = f"metadata.name={name}"
    limit = parse_int(query, "limit") or 0
    opts = ListOptions(
        label_selector=label_selector,
        field_selector=field_selector,
        watch=watch,
        resource_version=first(query, "resourceVersion") or "",
        resource_version_match=first(query, "resourceVersionMatch") or "",
        limit=max(limit, 0),
        continue_token=first(query, "continue") or "",
        timeout_seconds=parse_int(query, "timeoutSeconds"),
        allow_bookmarks=bool(parse_bool(query, "allowWatchBookmarks")),
        send_initial_events=parse_bool(query, "sendInitialEvents"),
        raw_label=raw_label,
        raw_field=raw_field,
    )
    if watch:
        _default_watch_list(opts)
    validate_list_options(opts)
    return opts


def _default_watch_list(opts: ListOptions) -> None:
    """With the WatchList gate on, a legacy watch from "" or "0" is a watch-list (internalversion/defaults.go)."""
    if (
        opts.send_initial_events is None
        and opts.resource_version_match == ""
        and opts.resource_version in ("", "0")
    ):
        opts.send_initial_events = True
        opts.resource_version_match = "NotOlderThan"


def validate_list_options(opts: ListOptions) -> None:
    """``ValidateListOptions`` with the WatchList gate on."""
    errs: list[FieldError] = []
    match = opts.resource_version_match
    rvm = "resourceVersionMatch"
    if opts.watch:
        if opts.send_initial_events is not None and match != "NotOlderThan":
            errs.append(forbidden(rvm, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
        if match:
            if opts.send_initial_events is None:
                errs.append(
                    forbidden(rvm, "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
                )
            if match != "NotOlderThan":
                errs.append(not_supported(rvm, match, ["NotOlderThan"]))
            if opts.continue_token:
                errs.append(forbidden(rvm, "resourceVersionMatch is forbidden when continue is provided"))
    else:
        if match:
            if opts.resource_version == "":
                errs.append(forbidden(rvm, "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            if opts.continue_token:
                errs.append(forbidden(rvm, "resourceVersionMatch is forbidden when continue is provided"))
            if match not in ("Exact", "NotOlderThan"):
                errs.append(not_supported(rvm, match, ["Exact", "NotOlderThan", ""]))
            if match == "Exact" and opts.resource_version == "0":
                errs.append(forbidden(rvm, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
        if opts.send_initial_events is not None:
            errs.append(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
    if errs:
        raise errors.invalid_options("ListOptions", errs)
    if opts.continue_token and opts.resource_version not in ("", "0") and not opts.watch:
        raise errors.bad_request("specifying resource version is not allowed when using continue")


@dataclass
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None
    dry_run: bool = False


PROPAGATION = ["Foreground", "Background", "Orphan"]


def parse_dry_run(values: list[str] | None, kind: str) -> bool:
    if not values:
        return False
    errs = [not_supported("dryRun", v, ["All"]) for v in values if v != "All"]
    if errs:
        raise errors.invalid_options(kind, errs)
    return True


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: The JSON types Go's decoder accepts for the DeleteOptions fields this server reads.
_DELETE_OPTION_TYPES: dict[str, tuple[Any, str]] = {
    "gracePeriodSeconds": (_is_int, "int64"),
    "propagationPolicy": (lambda v: isinstance(v, str), "v1.DeletionPropagation"),
    "orphanDependents": (lambda v: isinstance(v, bool), "bool"),
    "preconditions": (lambda v: isinstance(v, dict), "v1.Preconditions"),
    "dryRun": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "[]string"),
}


def parse_delete_options(body: Any, query: Query) -> DeleteOptions:
    """Options from the JSON body, or, only when the body is empty, from the query (handlers/delete.go)."""
    if body is not None and not isinstance(body, Mapping):
        raise errors.bad_request(
            "the object provided is unrecognized (must be of type DeleteOptions): couldn't get version/kind; "
            f"json parse error: json: cannot unmarshal {go_json_type(body)} into Go value of type struct "
            '{ APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
        )
    if body:
        for key, (ok, go_type) in _DELETE_OPTION_TYPES.items():
            value = body.get(key)
            if value is not None and not ok(value):
                raise errors.bad_request(
                    f"json: cannot unmarshal {go_json_type(value)} into Go struct field DeleteOptions.{key} "
                    f"of type {go_type}"
                )
        grace = body.get("gracePeriodSeconds")
        policy = body.get("propagationPolicy")
        orphan = body.get("orphanDependents")
        pre = body.get("preconditions") or {}
        dry = body.get("dryRun")
        opts = DeleteOptions(
            grace_period_seconds=grace,
            propagation_policy=policy,
            orphan_dependents=orphan,
            precondition_uid=pre.get("uid") if isinstance(pre, dict) else None,
            precondition_rv=pre.get("resourceVersion") if isinstance(pre, dict) else None,
            dry_run=parse_dry_run(list(dry) if isinstance(dry, list) else None, "DeleteOptions"),
        )
    else:
        opts = DeleteOptions(
            grace_period_seconds=parse_int(query, "gracePeriodSeconds"),
            propagation_policy=first(query, "propagationPolicy"),
            orphan_dependents=parse_bool(query, "orphanDependents"),
            dry_run=parse_dry_run(list(query.get("dryRun", [])), "DeleteOptions"),
        )
    errs: list[FieldError] = []
    if opts.propagation_policy is not None and opts.propagation_policy not in PROPAGATION:
        errs.append(not_supported("propagationPolicy", opts.propagation_policy, [*PROPAGATION, "nil"]))
    if opts.orphan_dependents is not None and opts.propagation_policy is not None:
        errs.append(
            invalid_field(
                "propagationPolicy",
                opts.propagation_policy,
                "orphanDependents and deletionPropagation cannot be both set",
            )
        )
    if errs:
        raise errors.invalid_options("DeleteOptions", errs)
    if opts.grace_period_seconds is not None and opts.grace_period_seconds < 0:
        opts.grace_period_seconds = 1
    return opts


def default_watch_timeout(min_request_timeout: int = 1800) -> int:
    """The apiserver's random watch timeout when the client sets none: between min and twice min."""
    return int(min_request_timeout * (1 + random.random()))
