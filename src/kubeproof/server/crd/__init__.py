"""CustomResourceDefinitions: the ``apiextensions.k8s.io/v1`` resource and the custom resources it serves.

``definition.py`` is the CRD kind (defaults, validation, deletion through the cleanup finalizer),
``serving.py`` registers the custom ResourceTypes as CRDs change, ``resource.py`` is the custom-resource
strategy and printer, ``structural.py`` the schema validation and defaulting, ``cel.py`` the
``x-kubernetes-validations`` rules and ``scale.py`` the scale subresource. The NamesAccepted/Established
conditions and the deletion of a CRD's objects are ``controllers/crd.py``.
"""

from __future__ import annotations

from kubeproof.server.crd.definition import GROUP, RESOURCE_KEY, CRDStrategy
from kubeproof.server.crd.serving import CRDServing
from kubeproof.server.registry.base import STANDARD_VERBS, ResourceType, Subresource
from kubeproof.server.registry.generic import Registry


def crd_resource_type() -> ResourceType:
    return ResourceType(
        group=GROUP,
        version="v1",
        kind="CustomResourceDefinition",
        plural="customresourcedefinitions",
        singular="customresourcedefinition",
        namespaced=False,
        strategy=CRDStrategy(),
        short_names=["crd", "crds"],
        categories=["api-extensions"],
        verbs=list(STANDARD_VERBS),
        subresources={"status": Subresource("status", ["get", "patch", "update"])},
    )


def serving_of(registry: Registry) -> CRDServing | None:
    serving = getattr(registry, "crd_serving", None)
    return serving if isinstance(serving, CRDServing) else None


def install(registry: Registry) -> CRDServing:
    """Serve CRDs on a registry (once); returns what keeps custom resources registered."""
    existing = serving_of(registry)
    if existing is not None:
        return existing
    registry.register(crd_resource_type())
    serving = CRDServing(registry)
    registry.crd_serving = serving  # type: ignore[attr-defined]
    return serving


__all__ = ["RESOURCE_KEY", "CRDServing", "crd_resource_type", "install", "serving_of"]
