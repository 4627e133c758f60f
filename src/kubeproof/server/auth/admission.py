"""The ServiceAccount admission plugin (``plugin/pkg/admission/serviceaccount``), the part tests meet:
a pod without ``serviceAccountName`` runs as ``default``, and a pod naming a ServiceAccount that does
not exist is refused with the plugin's 403.

Differences from kube-apiserver: the apiserver retries a missing ``default`` account for about a
second (the controller makes it right after the namespace); the embedded server cannot wait inside a
write, so a missing ``default`` is let through. The projected token volume (``kube-api-access-*``) is
not added: nothing in the embedded cluster mounts volumes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeproof.server import errors
from kubeproof.server.registry.base import ResourceType
from kubeproof.server.registry.generic import Registry

DEFAULT_SERVICE_ACCOUNT = "default"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"


def service_account_admission(registry: Registry) -> Callable[[ResourceType, str, dict[str, Any]], None]:
    def admit(rt: ResourceType, namespace: str, obj: dict[str, Any]) -> None:
        if rt.key != "pods":
            return
        meta = obj.get("metadata") or {}
        spec = obj.get("spec")
        if not isinstance(spec, dict) or MIRROR_POD_ANNOTATION in (meta.get("annotations") or {}):
            return
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT
        if not isinstance(name, str):
            return  # validation reports the type
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name  # the deprecated field mirrors it on v1 objects
        if name != DEFAULT_SERVICE_ACCOUNT and registry.store.get("serviceaccounts", namespace, name) is None:
            raise errors.forbidden(
                "pods", "", str(meta.get("name") or ""),
                f"error looking up service account {namespace}/{name}: serviceaccount {errors.quote(name)} not found",
            )

    return admit
