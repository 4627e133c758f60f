"""Fills aggregated ClusterRoles (``admin``, ``edit``, ``view`` and users' own) from the ClusterRoles
their ``aggregationRule`` selects, as kube-controller-manager's clusterrole-aggregation controller."""

from __future__ import annotations

from collections.abc import Hashable

from kubeproof.controllers.base import Controller
from kubeproof.server import errors
from kubeproof.server.auth.aggregation import aggregated_rules
from kubeproof.server.auth.rbac import CLUSTER_ROLES
from kubeproof.server.registry.generic import deep_copy
from kubeproof.server.store import Event


class ClusterRoleAggregationController(Controller):
    name = "clusterrole-aggregation"

    def _aggregating(self) -> list[Hashable]:
        roles, _ = self.registry.store.list(CLUSTER_ROLES)
        return [r["metadata"]["name"] for r in roles if isinstance(r.get("aggregationRule"), dict)]

    def initial_keys(self) -> list[Hashable]:
        return self._aggregating()

    def watches(self) -> frozenset[str] | None:
        return frozenset({CLUSTER_ROLES})

    def keys_for(self, event: Event) -> list[Hashable]:
        # any ClusterRole change may add or remove rules of any aggregating role
        return self._aggregating() if event.resource == CLUSTER_ROLES else []

    def reconcile(self, key: Hashable) -> bool:
        role = self.registry.store.get(CLUSTER_ROLES, "", str(key))
        if role is None:
            return False
        rules = aggregated_rules(self.registry.store, role)
        if rules is None or rules == (role.get("rules") or []):
            return False
        updated = deep_copy(role)
        updated["rules"] = rules
        try:
            self.registry.update(self.registry.resource(CLUSTER_ROLES), "", str(key), updated)
        except errors.StatusError as exc:
            if exc.code == 409:
                self.enqueue(key)  # changed under us: try again with the new version
            elif exc.code != 404:
                raise
        return False
