"""RBAC privilege-escalation prevention, as kube-apiserver's ``policybased`` role and binding storages do it.

A user may create or update a Role or ClusterRole only with rules they already hold (``ConfirmNoEscalation``
over ``Covers``), unless they are in ``system:masters`` or may ``escalate`` that resource; a ClusterRole
with an ``aggregationRule`` needs ``*`` on everything. A user may bind a role only if they hold all of its
rules or may ``bind`` it. Writes that only touch the fields the garbage collector changes
(``IsOnlyMutatingGCFields``) pass. The server's own writes (controllers, bootstrap) carry no requesting user
and pass, as the apiserver's privileged loopback client does.

Sources: ``pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased/storage.go``,
``pkg/registry/rbac/escalation_check.go``, ``pkg/registry/rbac/validation/rule.go`` and
``policy_compact.go``, ``k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeproof.server import errors
from kubeproof.server.auth.rbac import (
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    RBAC,
    ROLE_BINDINGS,
    ROLES,
    Authorizer,
    Rule,
    aggregate_errors,
    rule_strings,
    url_matches,
)
from kubeproof.server.auth.requestinfo import Attributes
from kubeproof.server.auth.user import UserInfo, requesting_user
from kubeproof.server.registry.base import Obj, ResourceType
from kubeproof.server.registry.generic import deep_copy

#: ``fullAuthority``: what a ClusterRole's aggregationRule requires.
FULL_AUTHORITY: list[Rule] = [
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
    {"nonResourceURLs": ["*"], "verbs": ["*"]},
]
AGGREGATION_NEEDS_ADMIN = "must have cluster-admin privileges to use the aggregationRule"


# -- policy_comparator.go -------------------------------------------------------------------------------


def breakdown_rule(rule: Rule) -> list[Rule]:
    """``BreakdownRule``: one rule per (group, resource, verb[, name]), then per (URL, verb)."""
    out: list[Rule] = []
    names = rule_strings(rule, "resourceNames")
    verbs = rule_strings(rule, "verbs")
    for group in rule_strings(rule, "apiGroups"):
        for resource in rule_strings(rule, "resources"):
            for verb in verbs:
                if names:
                    out.extend({"apiGroups": [group], "resources": [resource], "verbs": [verb],
                                "resourceNames": [name]} for name in names)
                else:
                    out.append({"apiGroups": [group], "resources": [resource], "verbs": [verb]})
    for url in rule_strings(rule, "nonResourceURLs"):
        out.extend({"nonResourceURLs": [url], "verbs": [verb]} for verb in verbs)
    return out


def _has_all(owned: list[str], wanted: list[str]) -> bool:
    return set(wanted) <= set(owned)


def _resources_cover(owned: list[str], wanted: list[str]) -> bool:
    if "*" in owned or _has_all(owned, wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path:
            return False
        if "*/" + path.split("/", 1)[1] not in owned:
            return False
    return True


def _urls_cover(owned: list[str], wanted: list[str]) -> bool:
    return all(any(url_matches(o, path) for o in owned) for path in wanted)


def rule_covers(owner: Rule, sub: Rule) -> bool:
    owner_verbs, owner_groups = rule_strings(owner, "verbs"), rule_strings(owner, "apiGroups")
    owner_names, sub_names = rule_strings(owner, "resourceNames"), rule_strings(sub, "resourceNames")
    verbs = "*" in owner_verbs or _has_all(owner_verbs, rule_strings(sub, "verbs"))
    groups = "*" in owner_groups or _has_all(owner_groups, rule_strings(sub, "apiGroups"))
    resources = _resources_cover(rule_strings(owner, "resources"), rule_strings(sub, "resources"))
    urls = _urls_cover(rule_strings(owner, "nonResourceURLs"), rule_strings(sub, "nonResourceURLs"))
    names = not owner_names if not sub_names else (not owner_names or _has_all(owner_names, sub_names))
    return verbs and groups and resources and names and urls


def covers(owner_rules: list[Rule], servant_rules: list[Rule]) -> tuple[bool, list[Rule]]:
    """``Covers``: whether the owner's rules allow everything the servant's do, and what they miss."""
    missing = [sub for rule in servant_rules for sub in breakdown_rule(rule)
               if not any(rule_covers(owner, sub) for owner in owner_rules)]
    return not missing, missing


# -- policy_compact.go and the message ---------------------------------------------------------------------


def compact_rules(rules: list[Rule]) -> list[Rule]:
    """``CompactRules``: simple rules (one group, one resource, verbs only) of one resource merge their verbs."""
    compacted: list[Rule] = []
    simple: dict[tuple[str, str], Rule] = {}
    for rule in rules:
        groups, resources = rule_strings(rule, "apiGroups"), rule_strings(rule, "resources")
        is_simple = (not rule.get("resourceNames") and not rule.get("nonResourceURLs")
                     and len(groups) == 1 and len(resources) == 1)
        if not is_simple:
            compacted.append(rule)
            continue
        key = (groups[0], resources[0])
        if key in simple:
            simple[key]["verbs"] = [*rule_strings(simple[key], "verbs"), *rule_strings(rule, "verbs")]
        else:
            simple[key] = deep_copy(rule)
    return compacted + list(simple.values())


def _go_quoted_list(values: list[str]) -> str:
    """Go's ``%q`` of a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join(errors.quote(v) for v in values) + "]"


def compact_string(rule: Rule) -> str:
    """``rbacv1helpers.CompactString``."""
    parts = [f"{label}:{_go_quoted_list(rule_strings(rule, key))}"
             for label, key in (("APIGroups", "apiGroups"), ("Resources", "resources"),
                                ("NonResourceURLs", "nonResourceURLs"), ("ResourceNames", "resourceNames"),
                                ("Verbs", "verbs"))
             if rule_strings(rule, key)]
    return "{" + ", ".join(parts) + "}"


def no_escalation_error(authorizer: Authorizer, user: UserInfo, namespace: str, rules: list[Rule]) -> str | None:
    """``ConfirmNoEscalation``: None when the user's own rules in ``namespace`` cover ``rules``, else the
    message."""
    owned, resolution_errors = authorizer.registry_resolver.rules_for(user, namespace)
    ok, missing = covers(owned, rules)
    if ok:
        return None
    descriptions = sorted({compact_string(rule) for rule in compact_rules(missing)})
    message = (f"user {errors.quote(user.name)} (groups={_go_quoted_list(list(user.groups))}) is attempting to "
               "grant RBAC permissions not currently held:\n" + "\n".join(descriptions))
    if resolution_errors:
        message += f"; resolution errors: [{aggregate_errors(resolution_errors)}]"
    return message


# -- the storages' checks ----------------------------------------------------------------------------------


def is_only_mutating_gc_fields(new: Obj, old: Obj) -> bool:
    """``IsOnlyMutatingGCFields``: equal once ownerReferences, finalizers, selfLink and managedFields are
    taken from the old object."""
    copied = deep_copy(new)
    meta = copied.setdefault("metadata", {})
    old_meta = old.get("metadata") or {}
    for key in ("ownerReferences", "finalizers", "selfLink", "managedFields"):
        if key in old_meta:
            meta[key] = deep_copy(old_meta[key])
        else:
            meta.pop(key, None)
    return bool(copied == old)


class EscalationGuard:
    """The registry hooks: ``check_create`` (an ``admit_create``) and ``check_update`` (an ``admit_update``)."""

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer
        self._checks: dict[str, Callable[[UserInfo, str, Obj, Obj | None, str], None]] = {
            ROLES: self._role, CLUSTER_ROLES: self._role,
            ROLE_BINDINGS: self._binding, CLUSTER_ROLE_BINDINGS: self._binding,
        }

    def _authorized(self, user: UserInfo, verb: str, resource: str, name: str, namespace: str,
                    group: str = RBAC) -> bool:
        attrs = Attributes(user=user, verb=verb, resource_request=True, api_group=group, api_version="*",
                           namespace=namespace, resource=resource, name=name)
        return self.authorizer.authorize(attrs).allowed

    def check_create(self, rt: ResourceType, namespace: str, obj: Obj) -> None:
        self._check(rt, namespace, obj, None, url_name="")

    def check_update(self, rt: ResourceType, namespace: str, name: str, new: Obj, old: Obj) -> None:
        self._check(rt, namespace, new, old, url_name=name)

    def _check(self, rt: ResourceType, namespace: str, obj: Obj, old: Obj | None, url_name: str) -> None:
        check = self._checks.get(rt.key)
        user = requesting_user.get()
        if check is None or user is None or self.authorizer.privileged(user):
            return  # EscalationAllowed
        check(user, namespace if rt.namespaced else "", obj, old, url_name)

    def _role(self, user: UserInfo, namespace: str, obj: Obj, old: Obj | None, url_name: str) -> None:
        resource = "roles" if namespace else "clusterroles"
        if self._authorized(user, "escalate", resource, url_name, namespace):
            return  # RoleEscalationAuthorized
        if old is not None and is_only_mutating_gc_fields(obj, old):
            return
        name = str((obj.get("metadata") or {}).get("name") or "")
        rules = obj.get("rules")
        problem = no_escalation_error(self.authorizer, user, namespace,
                                      [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else [])
        if problem is not None:
            raise errors.forbidden(resource, RBAC, name, problem)
        if resource == "clusterroles" and (_aggregates(obj) or (old is not None and _aggregates(old))) and \
                no_escalation_error(self.authorizer, user, namespace, FULL_AUTHORITY) is not None:
            raise errors.forbidden(resource, RBAC, name, AGGREGATION_NEEDS_ADMIN)

    def _binding(self, user: UserInfo, namespace: str, obj: Obj, old: Obj | None, url_name: str) -> None:
        resource = "rolebindings" if namespace else "clusterrolebindings"
        if old is not None and is_only_mutating_gc_fields(obj, old):
            return
        ref = obj.get("roleRef")
        if not isinstance(ref, dict):
            ref = {}
        kind, ref_name = ref.get("kind"), str(ref.get("name") or "")
        if kind in ("Role", "ClusterRole") and self._authorized(
                user, "bind", "roles" if kind == "Role" else "clusterroles", ref_name, namespace,
                group=str(ref.get("apiGroup") or RBAC)):  # empty: defaulted to the RBAC group
            return  # BindingAuthorized
        rules, missing = self.authorizer.registry_resolver.role_reference_rules(ref, namespace)
        if missing is not None:
            raise _role_reference_error(kind, ref_name)
        name = str((obj.get("metadata") or {}).get("name") or "")
        problem = no_escalation_error(self.authorizer, user, namespace, rules)
        if problem is not None:
            raise errors.forbidden(resource, RBAC, name, problem)


def _aggregates(role: Obj) -> bool:
    rule = role.get("aggregationRule")
    return isinstance(rule, dict) and bool(rule.get("clusterRoleSelectors"))


def _role_reference_error(kind: Any, name: str) -> errors.StatusError:
    """``GetRoleReferenceRules`` through the registry: the getter's NotFound (or the kind's error)."""
    if kind == "Role":
        return errors.not_found("roles", RBAC, name)
    if kind == "ClusterRole":
        return errors.not_found("clusterroles", RBAC, name)
    return errors.internal(f"unsupported role reference kind: {errors.quote(str(kind))}")
