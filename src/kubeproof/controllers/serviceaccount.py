"""ServiceAccounts and the root CA in every namespace.

Two of kube-controller-manager's loops, which act on the same trigger (a namespace and what it holds):
- ``pkg/controller/serviceaccount/serviceaccounts_controller.go``: the ``default`` ServiceAccount exists in
  every active namespace and comes back when deleted;
- ``pkg/controller/certificates/rootcacertpublisher/publisher.go``: the ``kube-root-ca.crt`` ConfigMap
  holds the cluster CA (``ca.crt``), comes back when deleted and is put right when edited.

The CA is the cluster's (``Cluster.ca_pem``), handed in with :meth:`ServiceAccountController.set_ca`
once the cluster has made its certificates; until then (or on a plain-HTTP cluster, which has no CA)
only the ServiceAccounts are managed.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kubeproof.controllers.base import Controller
from kubeproof.server import errors
from kubeproof.server.store import Event

Obj = dict[str, Any]

DEFAULT_ACCOUNT = "default"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such "
    "as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters."
)


class ServiceAccountController(Controller):
    name = "serviceaccount"

    def __init__(self, registry: Any) -> None:
        super().__init__(registry)
        self.ca_pem: bytes | None = None

    def set_ca(self, ca_pem: bytes) -> None:
        """Publish ``ca_pem`` as ``kube-root-ca.crt`` in every namespace (again, if it changed)."""
        self.ca_pem = ca_pem
        for key in self.initial_keys():
            self.enqueue(key)

    def initial_keys(self) -> list[Hashable]:
        namespaces, _ = self.registry.store.list("namespaces")
        return [ns["metadata"]["name"] for ns in namespaces]

    def watches(self) -> frozenset[str] | None:
        return frozenset({"namespaces", "serviceaccounts", "configmaps"})

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource == "namespaces":
            return [] if event.type == "DELETED" else [event.key[1]]
        name = event.key[1]
        if event.resource == "serviceaccounts" and name == DEFAULT_ACCOUNT and event.type == "DELETED":
            return [event.key[0]]
        if event.resource == "configmaps" and name == ROOT_CA_CONFIGMAP:
            return [event.key[0]]
        return []

    def reconcile(self, key: Hashable) -> bool:
        namespace = str(key)
        store = self.registry.store
        ns = store.get("namespaces", "", namespace)
        if ns is None or (ns.get("status") or {}).get("phase") != "Active":
            return False
        if store.get("serviceaccounts", namespace, DEFAULT_ACCOUNT) is None:
            self._write(lambda: self.registry.create(
                self.registry.resource("serviceaccounts"), namespace,
                {"metadata": {"name": DEFAULT_ACCOUNT, "namespace": namespace}}))
        if self.ca_pem is not None:
            self._publish_ca(namespace, self.ca_pem.decode())
        return False

    def _publish_ca(self, namespace: str, ca: str) -> None:
        rt = self.registry.resource("configmaps")
        current = self.registry.store.get("configmaps", namespace, ROOT_CA_CONFIGMAP)
        data = {"ca.crt": ca}
        annotations = {"kubernetes.io/description": ROOT_CA_DESCRIPTION}
        if current is None:
            self._write(lambda: self.registry.create(rt, namespace, {
                "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": namespace, "annotations": annotations},
                "data": data,
            }))
            return
        meta = current.get("metadata") or {}
        have = meta.get("annotations") or {}
        if current.get("data") == data and not current.get("binaryData") and all(
                have.get(k) == v for k, v in annotations.items()):
            return
        updated = dict(current)
        updated["data"] = data
        updated.pop("binaryData", None)
        updated["metadata"] = dict(meta, annotations={**have, **annotations})
        self._write(lambda: self.registry.update(rt, namespace, ROOT_CA_CONFIGMAP, updated))

    def _write(self, write: Any) -> None:
        try:
            write()
        except errors.StatusError as exc:
            # 403/404: the namespace started terminating; 409: someone else wrote first (their event
            # brings us back if it needs more).
            if exc.code not in (403, 404, 409):
                raise
