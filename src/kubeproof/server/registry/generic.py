"""The generic registry: create, get, list, update, delete for every resource through one store.

The counterpart of kube-apiserver's ``registry/generic/registry/store.go`` plus the parts of
``registry/rest`` (BeforeCreate, BeforeUpdate, BeforeDelete) and the NamespaceLifecycle admission that
every write passes. Per-kind behaviour comes from the resource's ``Strategy``.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import copy
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from kubeproof.clock import Clock
from kubeproof.server import errors
from kubeproof.server.options import DeleteOptions, ListOptions, parse_rv
from kubeproof.server.registry.base import Obj, ResourceType
from kubeproof.server.registry.services import ServiceAllocator
from kubeproof.server.selectors import check_field_labels
from kubeproof.server.store import RevisionCompacted, Store

NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
MAX_GENERATED_PREFIX = 58
MAX_NAME_ATTEMPTS = 8
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
#: Resources whose DELETE without a propagation policy orphans the dependents (see ``_gc_finalizers``).
ORPHAN_BY_DEFAULT = ("jobs.batch", "replicationcontrollers")
#: The Warning a DELETE of a Job without a propagation policy gets.
JOB_ORPHAN_WARNING = (
    "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove "
    "them or set propagationPolicy=Orphan to suppress this warning"
)
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)


#: Records who wrote what: called with (live object or None on create, new object) once the strategy has
#: prepared the new object, under the store lock; it sets ``metadata.managedFields``.
ManageFields = Callable[[Obj | None, Obj], None]


_last_stamp: tuple[int, str] = (-1, "")


def now_rfc3339(at: float | None = None) -> str:
    # A write asks for the time several times and a busy second has thousands of writes: format once.
    global _last_stamp
    second = math.floor(time.time() if at is None else at)
    stamp = _last_stamp  # one read: other threads format too
    if stamp[0] != second:
        stamp = _last_stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return stamp[1]


#: uids need to be unique, not secret: a generator seeded from the OS, private (a test that seeds the
#: ``random`` module does not repeat them) and reseeded in a forked child, spares a system call per create.
_uid_random = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _uid_random.seed(os.urandom(32)))


def new_uid() -> str:
    """A random (version 4) UUID as text, without building a ``uuid.UUID`` object on every create."""
    bits = _uid_random.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def deep_copy(obj: Obj) -> Obj:
    return orjson.loads(orjson.dumps(obj))  # type: ignore[no-any-return]


def meta_of(obj: Obj) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


@dataclass
class ListResult:
    items: list[Obj]
    resource_version: int
    continue_token: str = ""
    remaining: int | None = None


@dataclass
class DeleteResult:
    obj: Obj
    deleted: bool  # removed from the store (False: still there, terminating)


def encode_continue(rv: int, start: str) -> str:
    token = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start})
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


_RAW_URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def decode_continue(token: str) -> tuple[int, str]:
    """``storage.DecodeContinue``: 400 ``invalid continue token: ...`` on anything malformed."""
    def bad(why: str) -> errors.StatusError:
        return errors.bad_request(f"invalid continue token: {why}")

    # Go's base64.RawURLEncoding: no padding, and any byte outside the URL alphabet is an error
    # (Python's decoder would silently skip it).
    illegal = next((i for i, ch in enumerate(token) if ch not in _RAW_URL_ALPHABET), None)
    if illegal is None and len(token) % 4 == 1:
        illegal = len(token) - 1
    if illegal is not None:
        raise bad(f"continue key is not valid: illegal base64 data at input byte {illegal}")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise bad(f"continue key is not valid: {exc}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad(f"continue key is not valid: {exc}") from None
    if not isinstance(data, dict) or data.get("v") != "meta.k8s.io/v1":
        raise bad("continue key is not valid: server does not recognize this encoded version")
    rv, start = data.get("rv"), data.get("start")
    if not isinstance(rv, int) or rv <= 0:
        raise bad("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    if not isinstance(start, str) or not start:
        raise bad("continue key is not valid: encoded start key empty")
    return rv, start


def storage_key(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace") or ""
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


class Registry:
    """All served resources and the generic operations on them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_key: dict[str, ResourceType] = {}
        self.by_path: dict[tuple[str, str, str], ResourceType] = {}
        #: Called before every write (verb, resource, namespace, name); may raise a StatusError.
        #: The fault injector hooks in here.
        self.before_write: list[Callable[[str, ResourceType, str, str], None]] = []
        #: Mutating admission on create (resource, namespace, object), after NamespaceLifecycle; may change
        #: the object or raise a StatusError. ServiceAccount admission hooks in here (server/auth).
        self.admit_create: list[Callable[[ResourceType, str, Obj], None]] = []
        #: Checks of an update (resource, namespace, name, new object, stored object) once the stored object
        #: is read, before preconditions and validation; may raise a StatusError. The RBAC escalation check
        #: hooks in here (server/auth/escalation.py).
        self.admit_update: list[Callable[[ResourceType, str, str, Obj, Obj], None]] = []
        #: Adds the ``orphan``/``foregroundDeletion`` finalizers on delete: only when a GC controller runs.
        self.gc_enabled = False
        #: The cluster's time (a ManualClock lets a test steer timestamps, grace periods and schedules).
        self.clock: Clock = Clock()
        #: ClusterIP and NodePort allocation for Services (server/registry/services.py).
        self.services = ServiceAllocator(store)

    # -- resource types --------------------------------------------------------------------------

    def register(self, rt: ResourceType) -> None:
        # by_key names the resource that owns a storage key, not one that borrows it (stored_as).
        if rt.stored_as is None or rt.key not in self.by_key:
            self.by_key[rt.key] = rt
        self.by_path[(rt.group, rt.version, rt.plural)] = rt

    def unregister(self, rt: ResourceType) -> None:
        if self.by_key.get(rt.key) is rt:
            del self.by_key[rt.key]
        if self.by_path.get((rt.group, rt.version, rt.plural)) is rt:
            del self.by_path[(rt.group, rt.version, rt.plural)]

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self.by_path.get((group, version, plural))

    def resource(self, key: str) -> ResourceType:
        return self.by_key[key]

    @staticmethod
    def from_storage(rt: ResourceType, obj: Obj) -> Obj:
        """A stored object as ``rt`` shows it (another shape only for a resource with ``stored_as``)."""
        return rt.strategy.from_storage(obj) if rt.stored_as is not None else obj

    @staticmethod
    def to_storage(rt: ResourceType, obj: Obj) -> Obj:
        return rt.strategy.to_storage(obj) if rt.stored_as is not None else obj

    # -- helpers ---------------------------------------------------------------------------------

    def _check_write(self, verb: str, rt: ResourceType, namespace: str, name: str) -> None:
        for hook in self.before_write:
            hook(verb, rt, namespace, name)

    def _admit_namespace(self, rt: ResourceType, namespace: str, name: str) -> None:
        """NamespaceLifecycle: no new content in a missing or terminating namespace."""
        if not rt.namespaced:
            return
        ns = self.store.get("namespaces", "", namespace)
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if (ns.get("status") or {}).get("phase") == "Terminating":
            raise errors.forbidden(
                rt.plural,
                rt.group,
                name,
                f"unable to create new content in namespace {namespace} because it is being terminated",
                [
                    {
                        "reason": "NamespaceTerminating",
                        "message": f"namespace {namespace} is being terminated",
                        "field": "metadata.namespace",
                    }
                ],
            )

    def _prepare_namespace(self, rt: ResourceType, obj: Obj, namespace: str) -> None:
        meta = meta_of(obj)
        if rt.namespaced:
            body_ns = meta.get("namespace")
            if not body_ns:
                meta["namespace"] = namespace
            elif body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
        else:
            meta.pop("namespace", None)

    # -- create ----------------------------------------------------------------------------------

    def create(
        self,
        rt: ResourceType,
        namespace: str,
        obj: Obj,
        *,
        dry_run: bool = False,
        manage: ManageFields | None = None,
    ) -> Obj:
        with self.store.lock:
            obj = deep_copy(obj)
            obj["kind"], obj["apiVersion"] = rt.kind, rt.api_version
            self._prepare_namespace(rt, obj, namespace)
            meta = meta_of(obj)
            name = meta.get("name") or ""
            self._admit_namespace(rt, namespace, name)
            for admit in self.admit_create:
                admit(rt, namespace, obj)
            self._check_write("create", rt, namespace, name)
            for field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                          "selfLink"):
                meta.pop(field, None)
            meta["uid"] = new_uid()
            meta["creationTimestamp"] = now_rfc3339(self.clock.now())
            rv_sent = meta.pop("resourceVersion", None)
            generate = not name and meta.get("generateName")
            if generate:
                meta["name"] = self._generated_name(str(meta["generateName"]))
            rt.strategy.prepare_for_create(obj)
            if rt.strategy.track_generation:
                meta["generation"] = 1
            if manage is not None:
                manage(None, obj)  # managedFields of the writer (server/managedfields.py)
            if rt.kind == "Service" and rt.group == "":
                self._assign_cluster_ip(obj)
            rt.strategy.finish_create(obj)
            errs = rt.strategy.validate(obj)
            if errs:
                raise errors.invalid(rt.kind, rt.group, meta.get("name") or "", errs)
            if rv_sent:
                raise errors.internal("resourceVersion should not be set on objects to be created")
            for attempt in range(MAX_NAME_ATTEMPTS if generate else 1):
                if attempt:
                    meta["name"] = self._generated_name(str(meta["generateName"]))
                existing = self.store.get(rt.key, meta.get("namespace") or "", meta["name"])
                if existing is None:
                    break
            else:
                if generate:
                    raise errors.generate_name_conflict(rt.plural, rt.group, meta["name"])
            if existing is not None:
                deleting = bool((existing.get("metadata") or {}).get("deletionTimestamp"))
                raise errors.already_exists(rt.plural, rt.group, meta["name"], terminating=deleting)
            if dry_run:
                return obj
            stored = self.store.create(rt.key, self.to_storage(rt, obj))
            assert stored is not None
            return self.from_storage(rt, stored)

    def _generated_name(self, prefix: str) -> str:
        return prefix[:MAX_GENERATED_PREFIX] + "".join(random.choices(NAME_ALPHABET, k=5))

    def _assign_cluster_ip(self, obj: Obj) -> None:
        self.services.allocate_create(obj)

    # -- get and list ----------------------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        obj = self.store.get(rt.key, namespace if rt.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return self.from_storage(rt, obj)

    def matcher(self, rt: ResourceType, opts: ListOptions) -> Callable[[Obj], bool]:
        """A predicate for the list/watch selectors (``storage.SelectionPredicate``)."""
        supported = ["metadata.name"]
        if rt.namespaced:
            supported.append("metadata.namespace")
        supported.extend(rt.strategy.selectable_fields)
        if rt.key == "pods":
            supported.append("spec.host")
        check_field_labels(opts.field_selector, supported, rt.strategy.has_field_label_conversion)
        labels, fields = opts.label_selector, opts.field_selector
        if labels.empty and fields.empty:
            return lambda obj: True
        strategy = rt.strategy
        label_match = labels.compile()
        if fields.empty:
            def match_labels(obj: Obj) -> bool:
                return label_match((obj.get("metadata") or {}).get("labels") or {})

            return match_labels

        def match(obj: Obj) -> bool:
            meta = obj.get("metadata") or {}
            if not label_match(meta.get("labels") or {}):
                return False
            values = strategy.field_values(obj)
            values["metadata.name"] = meta.get("name") or ""
            values["metadata.namespace"] = meta.get("namespace") or ""
            if "spec.nodeName" in values:
                values["spec.host"] = values["spec.nodeName"]
            return fields.matches(values)

        return match

    def list(self, rt: ResourceType, namespace: str | None, opts: ListOptions) -> ListResult:
        match = self.matcher(rt, opts)
        ns = namespace if rt.namespaced else None
        start = ""
        if opts.continue_token:
            rv, start = decode_continue(opts.continue_token)
            try:
                items = self.store.list_at(rt.key, rv, ns)
            except RevisionCompacted:
                current = self.store.revision
                err = errors.expired(CONTINUE_EXPIRED)
                err.list_continue = encode_continue(current, start)
                raise err from None
        else:
            rv, items = self._list_state(rt, ns, opts)
        if start:
            items = [o for o in items if storage_key(o) > start.rstrip("\x00")]
        matched: list[Obj] = []
        limit = opts.limit
        token, remaining = "", None
        for index, obj in enumerate(items):
            if not match(obj):
                continue
            if limit and len(matched) == limit:
                token = encode_continue(rv, storage_key(matched[-1]) + "\x00")
                if opts.label_selector.empty and opts.field_selector.empty:
                    remaining = len(items) - index
                break
            matched.append(obj)
        if rt.stored_as is not None:
            matched = [self.from_storage(rt, obj) for obj in matched]
        return ListResult(matched, rv, token, remaining)

    def _list_state(self, rt: ResourceType, ns: str | None, opts: ListOptions) -> tuple[int, builtins.list[Obj]]:
        """The items a list without ``continue`` reads, per the resourceVersion semantics table."""
        rv_text, match = opts.resource_version, opts.resource_version_match
        if rv_text in ("", "0"):
            items, rv = self.store.list(rt.key, ns)
            return rv, items
        requested = parse_rv(rv_text)
        current = self.store.revision
        exact = match == "Exact" or (match == "" and opts.limit > 0)
        if requested > current:
            raise errors.too_large_resource_version(requested, current)
        if exact:
            try:
                return requested, self.store.list_at(rt.key, requested, ns)
            except RevisionCompacted:
                raise errors.expired("The resourceVersion for the provided list is too old.") from None
        items, rv = self.store.list(rt.key, ns)
        return rv, items

    # -- update ----------------------------------------------------------------------------------

    def update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        obj: Obj,
        *,
        subresource: str = "",
        dry_run: bool = False,
        manage: ManageFields | None = None,
    ) -> Obj:
        with self.store.lock:
            obj = deep_copy(obj)
            obj["kind"], obj["apiVersion"] = rt.kind, rt.api_version
            ns = namespace if rt.namespaced else ""
            meta = meta_of(obj)
            body_name = meta.get("name")
            if body_name and body_name != name:
                raise errors.bad_request(
                    f"the name of the object ({body_name}) does not match the name on the URL ({name})"
                )
            meta["name"] = name
            self._prepare_namespace(rt, obj, namespace)
            old = self.store.get(rt.key, ns, name)
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            old = self.from_storage(rt, old)
            self._check_write("update", rt, ns, name)
            for admit in self.admit_update:
                admit(rt, ns, name, obj, old)
            old_meta = old["metadata"]
            sent_rv = meta.get("resourceVersion")
            if not sent_rv:
                if not rt.strategy.allow_unconditional_update:
                    from kubeproof.server.validation.field import invalid as invalid_field

                    raise errors.invalid(
                        rt.plural, rt.group, name,
                        [invalid_field("metadata.resourceVersion", 0, "must be specified for an update")],
                    )
            elif sent_rv != old_meta.get("resourceVersion"):
                raise errors.stale_update(rt.plural, rt.group, name)
            meta["resourceVersion"] = old_meta.get("resourceVersion")
            if not meta.get("uid"):
                meta["uid"] = old_meta.get("uid")
            meta["creationTimestamp"] = old_meta.get("creationTimestamp")
            for field in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                if field in old_meta:
                    meta[field] = old_meta[field]
                else:
                    meta.pop(field, None)
            if "generation" in old_meta:
                meta["generation"] = old_meta["generation"]
            else:
                meta.pop("generation", None)
            if subresource == "status":
                rt.strategy.prepare_for_status_update(obj, old)
            elif subresource == "finalize":
                finalizers = (obj.get("spec") or {}).get("finalizers")
                obj.clear()
                obj.update(deep_copy(old))
                obj["spec"] = dict(obj.get("spec") or {})
                obj["spec"]["finalizers"] = finalizers or []
            else:
                rt.strategy.prepare_for_update(obj, old)
                if rt.kind == "Service" and rt.group == "":
                    self.services.allocate_update(obj, old)
                if rt.strategy.track_generation and rt.strategy.spec_changed(obj, old):
                    meta_of(obj)["generation"] = int(old_meta.get("generation") or 0) + 1
            if manage is not None:
                manage(old, obj)  # managedFields of the writer (server/managedfields.py)
            errs = rt.strategy.validate_update(obj, old)
            if errs:
                raise errors.invalid(rt.kind, rt.group, name, errs)
            if obj == old:
                return old  # no-op updates write nothing and send no event (etcd3 GuaranteedUpdate)
            if dry_run:
                return obj
            if self._should_delete_during_update(rt, obj, old):
                deleted = self.store.delete(rt.key, ns, name)
                assert deleted is not None
                return obj
            stored = self.store.update(rt.key, self.to_storage(rt, obj))
            assert stored is not None
            return self.from_storage(rt, stored)

    def _should_delete_during_update(self, rt: ResourceType, new: Obj, old: Obj) -> bool:
        """``ShouldDeleteDuringUpdate``: the last finalizer of a deleting object was just removed."""
        new_meta, old_meta = new.get("metadata") or {}, old.get("metadata") or {}
        if new_meta.get("finalizers") or not old_meta.get("finalizers"):
            return False
        if not old_meta.get("deletionTimestamp"):
            return False
        if (old_meta.get("deletionGracePeriodSeconds") or 0) > 0:
            return False
        return rt.strategy.may_delete_during_update(new)

    # -- delete ----------------------------------------------------------------------------------

    def delete(self, rt: ResourceType, namespace: str, name: str, opts: DeleteOptions) -> DeleteResult:
        result = self._delete(rt, namespace, name, opts)
        if rt.stored_as is not None:
            result.obj = self.from_storage(rt, result.obj)
        return result

    def _delete(self, rt: ResourceType, namespace: str, name: str, opts: DeleteOptions) -> DeleteResult:
        """``delete`` on stored objects: the strategy hooks here only read metadata."""
        with self.store.lock:
            ns = namespace if rt.namespaced else ""
            obj = self.store.get(rt.key, ns, name)
            if obj is None:
                raise errors.not_found(rt.plural, rt.group, name)
            if rt.key == "namespaces" and name in IMMORTAL_NAMESPACES:
                raise errors.forbidden("namespaces", "", name, "this namespace may not be deleted")
            self._check_write("delete", rt, ns, name)
            self._check_preconditions(rt, obj, opts)
            new = deep_copy(obj)
            meta = new["metadata"]
            now = self.clock.now()
            strategy = rt.strategy
            already = bool(meta.get("deletionTimestamp"))
            graceful = False
            if already:
                current = meta.get("deletionGracePeriodSeconds")
                shorter = opts.grace_period_seconds
                if current and shorter is not None and shorter < current:
                    # Only a shorter grace period may be set on an object already being deleted.
                    period: int | None = shorter
                    meta["deletionTimestamp"] = now_rfc3339(now + shorter)
                    meta["deletionGracePeriodSeconds"] = period
                    graceful = True
                elif current:
                    return DeleteResult(obj, False)
            else:
                period = strategy.graceful_delete_period(new, opts.grace_period_seconds)
                if period is not None:
                    graceful = True
                    meta["deletionTimestamp"] = now_rfc3339(now + period)
                    meta["deletionGracePeriodSeconds"] = period
                    if meta.get("generation"):
                        meta["generation"] = int(meta["generation"]) + 1
            # Also on an object already being deleted: a second DELETE may switch its propagation.
            self._gc_finalizers(meta, opts, rt)
            pending = strategy.pending_finalizers(new)
            if graceful and (meta.get("deletionGracePeriodSeconds") or 0) > 0:
                return self._write_deleting(rt, new, opts)
            if pending:
                if not meta.get("deletionTimestamp"):
                    if meta.get("generation"):
                        meta["generation"] = int(meta["generation"]) + 1
                    meta["deletionTimestamp"] = now_rfc3339(now)
                meta["deletionGracePeriodSeconds"] = 0
                strategy.mark_deleting(new)
                if new == obj:
                    return DeleteResult(obj, False)
                return self._write_deleting(rt, new, opts)
            if opts.dry_run:
                return DeleteResult(new, True)
            if graceful:
                # Graceful kinds show the deletionTimestamp to watchers before the object goes.
                stored = self.store.update(rt.key, new)
                assert stored is not None
            deleted = self.store.delete(rt.key, ns, name)
            assert deleted is not None
            return DeleteResult(deleted, True)

    def _write_deleting(self, rt: ResourceType, new: Obj, opts: DeleteOptions) -> DeleteResult:
        if opts.dry_run:
            return DeleteResult(new, False)
        stored = self.store.update(rt.key, new)
        assert stored is not None
        return DeleteResult(stored, False)

    def _gc_finalizers(self, meta: dict[str, Any], opts: DeleteOptions, rt: ResourceType | None = None) -> None:
        """``deletionFinalizersForGarbageCollection``: orphan/foreground finalizers per the options."""
        if not self.gc_enabled:
            return
        policy = opts.propagation_policy
        if policy is None and opts.orphan_dependents is not None:
            policy = "Orphan" if opts.orphan_dependents else "Background"
        finalizers = list(meta.get("finalizers") or [])
        if (policy is None and rt is not None and rt.key in ORPHAN_BY_DEFAULT
                and not {"orphan", "foregroundDeletion"} & set(finalizers)):
            # DefaultGarbageCollectionPolicy: batch/v1 Jobs and v1 ReplicationControllers orphan by
            # default (kept for backwards compatibility); every other kind deletes in the background.
            policy = "Orphan"
        if policy == "Orphan":
            finalizers = [f for f in finalizers if f != "foregroundDeletion"]
            if "orphan" not in finalizers:
                finalizers.append("orphan")
        elif policy == "Foreground":
            finalizers = [f for f in finalizers if f != "orphan"]
            if "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
        elif policy == "Background":
            finalizers = [f for f in finalizers if f not in ("orphan", "foregroundDeletion")]
        if finalizers:
            meta["finalizers"] = finalizers
        else:
            meta.pop("finalizers", None)

    def _check_preconditions(self, rt: ResourceType, obj: Obj, opts: DeleteOptions) -> None:
        meta = obj["metadata"]
        qualified_kind = rt.kind  # BeforeDelete names the Kind here, not the resource
        if opts.precondition_uid is not None and opts.precondition_uid != meta.get("uid"):
            raise errors.conflict(
                qualified_kind, rt.group, meta["name"],
                f"the UID in the precondition ({opts.precondition_uid}) does not match the UID in record "
                f"({meta.get('uid')}). The object might have been deleted and then recreated",
            )
        if opts.precondition_rv is not None and opts.precondition_rv != meta.get("resourceVersion"):
            raise errors.conflict(
                qualified_kind, rt.group, meta["name"],
                f"the ResourceVersion in the precondition ({opts.precondition_rv}) does not match the "
                f"ResourceVersion in record ({meta.get('resourceVersion')}). The object might have been modified",
            )

    def delete_collection(
        self, rt: ResourceType, namespace: str | None, list_opts: ListOptions, opts: DeleteOptions
    ) -> ListResult:
        """The list that was deleted: its resourceVersion and continue token are the listing's."""
        result = self.list(rt, namespace, list_opts)
        deleted: builtins.list[Obj] = []
        for obj in result.items:
            meta = obj["metadata"]
            try:
                self.delete(rt, meta.get("namespace") or "", meta["name"], copy.copy(opts))
            except errors.StatusError as exc:
                if exc.code != 404:
                    raise
                continue
            deleted.append(obj)
        result.items = deleted
        return result

    def success_status(self, rt: ResourceType, obj: Obj) -> Obj:
        """``finalizeDelete`` for stores that do not return the deleted object."""
        meta = obj.get("metadata") or {}
        details: dict[str, Any] = {"name": meta.get("name"), "group": rt.group, "kind": rt.plural,
                                   "uid": meta.get("uid")}
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {k: v for k, v in details.items() if v}}
