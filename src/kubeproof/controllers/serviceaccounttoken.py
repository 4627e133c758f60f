"""Legacy ServiceAccount token Secrets: a Secret of type ``kubernetes.io/service-account-token`` that
names an existing ServiceAccount gets ``token``, ``namespace`` and ``ca.crt``, as kube-controller-manager's
tokens controller (``pkg/controller/serviceaccount/tokens_controller.go``) fills them.

Differences: a Secret whose ServiceAccount does not exist (yet) is left alone rather than deleted, and
``ca.crt`` is copied from the namespace's ``kube-root-ca.crt`` ConfigMap when it is there.
"""

from __future__ import annotations

import base64
from collections.abc import Hashable

from kubeproof.controllers.base import Controller
from kubeproof.server import errors
from kubeproof.server.auth.tokens import issuer_for
from kubeproof.server.registry.generic import deep_copy
from kubeproof.server.store import Event

TOKEN_TYPE = "kubernetes.io/service-account-token"
NAME_ANNOTATION = "kubernetes.io/service-account.name"
UID_ANNOTATION = "kubernetes.io/service-account.uid"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class ServiceAccountTokenController(Controller):
    name = "serviceaccount-token"

    def initial_keys(self) -> list[Hashable]:
        items, _ = self.registry.store.list("secrets")
        return [(s["metadata"]["namespace"], s["metadata"]["name"]) for s in items if s.get("type") == TOKEN_TYPE]

    def watches(self) -> frozenset[str] | None:
        return frozenset({"secrets", "serviceaccounts"})

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == "secrets" and event.type != "DELETED" and event.obj.get("type") == TOKEN_TYPE:
            return [event.key]
        if event.resource == "serviceaccounts" and event.type == "ADDED":
            # a Secret may have been made before its account
            items, _ = self.registry.store.list("secrets", event.key[0])
            return [(event.key[0], s["metadata"]["name"]) for s in items if s.get("type") == TOKEN_TYPE and
                    (s["metadata"].get("annotations") or {}).get(NAME_ANNOTATION) == event.key[1]]
        return []

    def reconcile(self, key: Hashable) -> bool:
        assert isinstance(key, tuple)
        namespace, name = str(key[0]), str(key[1])
        store = self.registry.store
        secret = store.get("secrets", namespace, name)
        if secret is None or secret.get("type") != TOKEN_TYPE or secret["metadata"].get("deletionTimestamp"):
            return False
        annotations = secret["metadata"].get("annotations") or {}
        sa = store.get("serviceaccounts", namespace, str(annotations.get(NAME_ANNOTATION) or ""))
        if sa is None:
            return False
        sa_uid = sa["metadata"].get("uid", "")
        if annotations.get(UID_ANNOTATION) not in (None, "", sa_uid):
            return False  # bound to an earlier account of that name
        data = dict(secret.get("data") or {})
        if data.get("token"):
            return False
        token = issuer_for(self.registry).issue_legacy(namespace, sa["metadata"]["name"], sa_uid, name)
        data["token"] = _b64(token)
        data["namespace"] = _b64(namespace)
        root_ca = store.get("configmaps", namespace, "kube-root-ca.crt")
        ca = ((root_ca or {}).get("data") or {}).get("ca.crt")
        if ca:
            data["ca.crt"] = _b64(str(ca))
        updated = deep_copy(secret)
        updated["data"] = data
        updated["metadata"].setdefault("annotations", {})[UID_ANNOTATION] = sa_uid
        try:
            self.registry.update(self.registry.resource("secrets"), namespace, name, updated)
        except errors.StatusError as exc:
            if exc.code == 409:
                self.enqueue(key)
            elif exc.code != 404:
                raise
        return False
