"""A resource type and its strategy, in the shape of kube-apiserver's generic registry.

The store is generic; what differs between kinds lives in a small ``Strategy``: defaults on create,
what an update may change, validation, status rules, selectable fields and graceful deletion.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kubeproof.server.validation.field import FieldError

Obj = dict[str, Any]
#: For ``isinstance`` on hot paths: a tuple constant, where ``dict | list`` builds a union object at
#: every call (about 4 x slower).
JSON_CONTAINERS = (dict, list)
JSON_NUMBERS = (int, float)


class Strategy:
    """Defaults for any kind; subclasses override what their kind does differently."""

    #: ``metadata.generation`` starts at 1 and grows with every spec change.
    track_generation: ClassVar[bool] = False
    #: PUT without ``metadata.resourceVersion`` overwrites (true for built-ins, false for custom resources).
    allow_unconditional_update: ClassVar[bool] = True
    #: DELETE that removes at once answers with the object instead of a Success Status.
    return_deleted_object: ClassVar[bool] = False
    #: The ``status`` subresource exists and the main endpoint ignores status changes.
    has_status: ClassVar[bool] = False
    #: Extra selectable field names beyond metadata.name / metadata.namespace.
    selectable_fields: ClassVar[tuple[str, ...]] = ()
    #: Field selectors of this kind are converted with a per-kind function (so unknown ones read
    #: ``field label not supported: x`` rather than the generic message).
    has_field_label_conversion: ClassVar[bool] = False

    def prepare_for_create(self, obj: Obj) -> None:
        """Reset what a client may not set on create (status for kinds with a status subresource)."""
        if self.has_status:
            obj.pop("status", None)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        """Keep what the main endpoint may not change (status, when there is a status subresource)."""
        if self.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        """The status endpoint changes only status: everything else comes from the stored object."""
        status = new.get("status")
        new.clear()
        new.update({k: v for k, v in old.items() if k != "status"})
        if status is not None:
            new["status"] = status
        # Labels/annotations written through /status are ignored too, as kube-apiserver does.

    def spec_changed(self, new: Obj, old: Obj) -> bool:
        """Whether a change bumps ``metadata.generation``: anything outside metadata and status."""
        ignored = {"metadata", "status", "kind", "apiVersion"}
        keys = (set(new) | set(old)) - ignored
        return any(new.get(k) != old.get(k) for k in keys)

    def validate(self, obj: Obj) -> list[FieldError]:
        return []

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return self.validate(new)

    def field_values(self, obj: Obj) -> dict[str, str]:
        """Values of the kind-specific selectable fields (absent fields are ``""``)."""
        return {}

    def graceful_delete_period(self, obj: Obj, requested: int | None) -> int | None:
        """``CheckGracefulDelete``: None for kinds without graceful deletion, else the period in seconds."""
        return None

    def pending_finalizers(self, obj: Obj) -> bool:
        """Whether something still holds the object once it is being deleted."""
        return bool((obj.get("metadata") or {}).get("finalizers"))

    def may_delete_during_update(self, obj: Obj) -> bool:
        """Extra condition for removing an object when an update drops its last finalizer."""
        return True

    def mark_deleting(self, obj: Obj) -> None:
        """Changes the first DELETE makes besides deletionTimestamp (a namespace turns Terminating)."""

    def to_storage(self, obj: Obj) -> Obj:
        """The object as stored, for a resource that shares another's storage (``ResourceType.stored_as``)."""
        return obj

    def from_storage(self, obj: Obj) -> Obj:
        """A stored object as this resource shows it (the inverse of ``to_storage``)."""
        return obj

    def finish_create(self, obj: Obj) -> None:
        """Defaults that need the uid or name the registry assigned."""


@dataclass
class Subresource:
    name: str
    verbs: list[str]
    kind: str = ""
    group: str | None = None
    version: str | None = None


STANDARD_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass
class ResourceType:
    """One served resource: its names, scope, verbs and strategy."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    strategy: Strategy
    short_names: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    verbs: list[str] = field(default_factory=lambda: list(STANDARD_VERBS))
    subresources: dict[str, Subresource] = field(default_factory=dict)
    list_kind: str = ""
    #: Custom resources keep kind/apiVersion on list items; built-ins do not.
    typed_list_items: bool = False
    #: (group, version, kind, plural) of the resource whose storage this one shares, converting with
    #: ``strategy.to_storage``/``from_storage`` (events.k8s.io/v1 Events are stored as core/v1 Events);
    #: None: its own storage.
    stored_as: tuple[str, str, str, str] | None = None

    def __post_init__(self) -> None:
        if not self.list_kind:
            self.list_kind = self.kind + "List"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """The storage key of the resource: ``pods`` or ``deployments.apps``."""
        group, plural = (self.stored_as[0], self.stored_as[3]) if self.stored_as else (self.group, self.plural)
        return f"{plural}.{group}" if group else plural

    @property
    def storage_version_hash(self) -> str:
        group, version, kind = self.stored_as[:3] if self.stored_as else (self.group, self.version, self.kind)
        digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
        return base64.b64encode(digest[:8]).decode()
