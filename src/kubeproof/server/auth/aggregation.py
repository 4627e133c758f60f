"""ClusterRole aggregation (``pkg/controller/clusterroleaggregation``): a ClusterRole with an
``aggregationRule`` gets the union of the rules of every ClusterRole its selectors match."""

from __future__ import annotations

from typing import Any

from kubeproof.server.auth.rbac import CLUSTER_ROLES
from kubeproof.server.selectors import label_selector_from_dict
from kubeproof.server.store import Store


def aggregated_rules(store: Store, role: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The rules ``role`` should hold, or None when it does not aggregate."""
    rule = role.get("aggregationRule")
    if not isinstance(rule, dict):
        return None
    name = role["metadata"]["name"]
    roles, _ = store.list(CLUSTER_ROLES)
    roles = sorted(roles, key=lambda r: r["metadata"]["name"])
    rules: list[dict[str, Any]] = []
    for selector in rule.get("clusterRoleSelectors") or []:
        if not isinstance(selector, dict):
            continue
        try:
            matcher = label_selector_from_dict(selector)
        except Exception:
            continue  # an invalid selector matches nothing, as the controller skips it
        for other in roles:
            if other["metadata"]["name"] == name or not matcher.matches(other["metadata"].get("labels") or {}):
                continue
            for item in other.get("rules") or []:
                if item not in rules:
                    rules.append(item)
    return rules
