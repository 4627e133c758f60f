"""The RBAC authorizer, as ``plugin/pkg/auth/authorizer/rbac`` evaluates it.

``visit_rules_for`` walks ClusterRoleBindings, then (for a namespaced request) the namespace's
RoleBindings, resolving each roleRef; a rule allows when verb, API group, resource (with the
``*/subresource`` form), and resourceNames match, or for a non-resource request when verb and URL
(with a trailing ``*`` prefix match) do. Members of ``system:masters`` are allowed before RBAC runs,
as kube-apiserver's privileged-group authorizer does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kubeproof.server import errors
from kubeproof.server.auth.requestinfo import Attributes
from kubeproof.server.auth.user import SYSTEM_MASTERS, UserInfo, service_account_username
from kubeproof.server.store import Store

RBAC = "rbac.authorization.k8s.io"
ROLES = f"roles.{RBAC}"
CLUSTER_ROLES = f"clusterroles.{RBAC}"
ROLE_BINDINGS = f"rolebindings.{RBAC}"
CLUSTER_ROLE_BINDINGS = f"clusterrolebindings.{RBAC}"

Rule = dict[str, Any]


def rule_strings(rule: Rule, key: str) -> list[str]:
    """The strings of one list field of a PolicyRule (anything else in it is ignored)."""
    value = rule.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def url_matches(pattern: str, path: str) -> bool:
    """A non-resource URL of a rule against a path: equal, or a prefix ending in ``*`` (``*`` alone: all)."""
    return pattern == path or (pattern.endswith("*") and path.startswith(pattern.rstrip("*")))


def verb_matches(rule: Rule, verb: str) -> bool:
    return any(v == "*" or v == verb for v in rule_strings(rule, "verbs"))


def api_group_matches(rule: Rule, group: str) -> bool:
    return any(g == "*" or g == group for g in rule_strings(rule, "apiGroups"))


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    for res in rule_strings(rule, "resources"):
        if res == "*" or res == combined:
            return True
        # "*/scale" matches the scale subresource of every resource
        if subresource and len(res) == len(subresource) + 2 and res.startswith("*/") and res.endswith(subresource):
            return True
    return False


def resource_name_matches(rule: Rule, name: str) -> bool:
    names = rule_strings(rule, "resourceNames")
    return not names or name in names


def non_resource_url_matches(rule: Rule, path: str) -> bool:
    return any(url_matches(url, path) for url in rule_strings(rule, "nonResourceURLs"))


def rule_allows(attrs: Attributes, rule: Rule) -> bool:
    if attrs.resource_request:
        combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return (verb_matches(rule, attrs.verb) and api_group_matches(rule, attrs.api_group)
                and resource_matches(rule, combined, attrs.subresource)
                and resource_name_matches(rule, attrs.name))
    return verb_matches(rule, attrs.verb) and non_resource_url_matches(rule, attrs.path)


def applies_to_user(user: UserInfo, subject: dict[str, Any], namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        # a subject without a namespace means the binding's own namespace
        sa_namespace = subject.get("namespace") or namespace
        return bool(sa_namespace) and user.name == service_account_username(sa_namespace, str(name))
    return False


def describe_subject(subject: dict[str, Any], binding_namespace: str) -> str:
    kind, name = str(subject.get("kind", "")), str(subject.get("name", ""))
    if kind == "ServiceAccount":
        return f"{kind} {errors.quote(name + '/' + (subject.get('namespace') or binding_namespace))}"
    return f"{kind} {errors.quote(name)}"


@dataclass
class Source:
    """Which binding granted a rule (``clusterRoleBindingDescriber`` / ``roleBindingDescriber``)."""

    binding: dict[str, Any]
    subject: dict[str, Any]

    def __str__(self) -> str:
        meta = self.binding.get("metadata") or {}
        ref = self.binding.get("roleRef") or {}
        ns = meta.get("namespace") or ""
        name = meta.get("name", "")
        prefix = f"RoleBinding {errors.quote(name + '/' + ns)}" if ns else f"ClusterRoleBinding {errors.quote(name)}"
        return f"{prefix} of {ref.get('kind', '')} {errors.quote(str(ref.get('name', '')))} to " + \
            describe_subject(self.subject, ns)


Visitor = Callable[[Source | None, Rule | None, str | None], bool]


@dataclass
class RuleResolver:
    """``DefaultRuleResolver`` over the store's roles and bindings.

    The authorizer's resolver reads informer listers, whose NotFound names the singular resource
    (``role.rbac.authorization.k8s.io``); the one the RBAC storages use for escalation checks reads the
    registry, whose NotFound names the plural (``roles.rbac.authorization.k8s.io``): ``registry_getter``."""

    store: Store
    registry_getter: bool = False

    def role_reference_rules(self, ref: dict[str, Any], namespace: str) -> tuple[list[Rule], str | None]:
        kind, name = ref.get("kind"), str(ref.get("name", ""))
        plural = "s" if self.registry_getter else ""
        if kind == "Role":
            role = self.store.get(ROLES, namespace, name)
            if role is None:
                return [], f"role{plural}.{RBAC} {errors.quote(name)} not found"
        elif kind == "ClusterRole":
            role = self.store.get(CLUSTER_ROLES, "", name)
            if role is None:
                return [], f"clusterrole{plural}.{RBAC} {errors.quote(name)} not found"
        else:
            return [], f"unsupported role reference kind: {errors.quote(str(kind))}"
        rules = role.get("rules")
        return ([r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []), None

    def visit_rules_for(self, user: UserInfo, namespace: str, visitor: Visitor) -> None:
        def bindings(resource: str, ns: str | None) -> Iterator[dict[str, Any]]:
            items, _ = self.store.list(resource, ns)
            yield from items

        for binding in bindings(CLUSTER_ROLE_BINDINGS, None):
            if not self._visit_binding(binding, user, "", visitor):
                return
        if namespace:
            for binding in bindings(ROLE_BINDINGS, namespace):
                if not self._visit_binding(binding, user, namespace, visitor):
                    return

    def _visit_binding(self, binding: dict[str, Any], user: UserInfo, namespace: str, visitor: Visitor) -> bool:
        subjects = binding.get("subjects")
        subject = next((s for s in subjects if isinstance(s, dict) and applies_to_user(user, s, namespace)), None) \
            if isinstance(subjects, list) else None
        if subject is None:
            return True
        rules, err = self.role_reference_rules(binding.get("roleRef") or {}, namespace)
        if err is not None:
            return visitor(None, None, err)
        source = Source(binding, subject)
        return all(visitor(source, rule, None) for rule in rules)

    def rules_for(self, user: UserInfo, namespace: str) -> tuple[list[Rule], list[str]]:
        """``RulesFor``: every rule that applies to the user in the namespace, and resolution errors."""
        rules: list[Rule] = []
        errs: list[str] = []

        def visit(source: Source | None, rule: Rule | None, err: str | None) -> bool:
            if rule is not None:
                rules.append(rule)
            if err is not None:
                errs.append(err)
            return True

        self.visit_rules_for(user, namespace, visit)
        return rules, errs


@dataclass
class Decision:
    allowed: bool
    reason: str = ""
    errors: list[str] = field(default_factory=list)


def aggregate_errors(errs: list[str]) -> str:
    """``utilerrors.NewAggregate(errs).Error()``: one message, or ``[a, b]``."""
    unique = list(dict.fromkeys(errs))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


class Authorizer:
    """The union kube-apiserver runs: the ``system:masters`` privileged group, then RBAC."""

    def __init__(self, store: Store) -> None:
        self.resolver = RuleResolver(store)
        self.registry_resolver = RuleResolver(store, registry_getter=True)

    @staticmethod
    def privileged(user: UserInfo) -> bool:
        """The privileged-group authorizer allows everything its members ask, whatever the request."""
        return SYSTEM_MASTERS in user.groups

    def authorize(self, attrs: Attributes) -> Decision:
        if self.privileged(attrs.user):
            return Decision(True)
        allowed: list[str] = []
        errs: list[str] = []

        def visit(source: Source | None, rule: Rule | None, err: str | None) -> bool:
            if err is not None:
                errs.append(err)
            if rule is not None and source is not None and rule_allows(attrs, rule):
                allowed.append(f"RBAC: allowed by {source}")
                return False
            return True

        self.resolver.visit_rules_for(attrs.user, attrs.namespace, visit)
        if allowed:
            return Decision(True, allowed[0])
        return Decision(False, f"RBAC: {aggregate_errors(errs)}" if errs else "", errs)


def _go_sanitize(text: str) -> str:
    """The HTML escaping ``responsewriters.Forbidden`` applies to its message."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def forbidden_message(attrs: Attributes) -> str:
    """``responsewriters.forbiddenMessage``."""
    user = errors.quote(attrs.user.name)
    if not attrs.resource_request:
        return f"User {user} cannot {attrs.verb} path {errors.quote(attrs.path)}"
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    where = (f"in the namespace {errors.quote(attrs.namespace)}" if attrs.namespace else "at the cluster scope")
    return (f"User {user} cannot {attrs.verb} resource {errors.quote(resource)} in API group "
            f"{errors.quote(attrs.api_group)} {where}")


def forbidden(attrs: Attributes, reason: str) -> errors.StatusError:
    """``responsewriters.Forbidden``: a 403 Status for the attributes, with the authorizer's reason."""
    msg = _go_sanitize(forbidden_message(attrs))
    why = f"{msg}: {reason}" if reason else msg
    resource = attrs.resource if attrs.resource_request else ""
    group = attrs.api_group if attrs.resource_request else ""
    exc = errors.forbidden(resource, group, attrs.name, why)
    exc.headers["X-Content-Type-Options"] = "nosniff"
    return exc
