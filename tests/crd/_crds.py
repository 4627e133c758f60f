"""CRD manifests and helpers shared by the CRD tests."""

from __future__ import annotations

import uuid
from typing import Any

from kubeproof import Cluster
from kubeproof.testing import eventually

CRD_GROUP_VERSION = "apiextensions.k8s.io/v1"


def unique_group() -> str:
    return f"t{uuid.uuid4().hex[:8]}.example.com"


def widget_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["color"],
                "properties": {
                    "replicas": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
                    "color": {"type": "string", "enum": ["red", "blue"]},
                    "size": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$", "default": "small"},
                    "tags": {"type": "array", "maxItems": 3, "x-kubernetes-list-type": "set",
                             "items": {"type": "string"}},
                    "ports": {"type": "array", "x-kubernetes-list-type": "map",
                              "x-kubernetes-list-map-keys": ["name"],
                              "items": {"type": "object", "required": ["name"],
                                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
                    "when": {"type": "string", "format": "date-time"},
                    "port": {"x-kubernetes-int-or-string": True},
                    "note": {"type": "string", "nullable": True, "minLength": 2},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "selector": {"type": "string"},
                },
            },
            "status": {"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "phase": {"type": "string"},
                "selector": {"type": "string"},
            }},
        },
    }


def widget_crd(group: str, *, scope: str = "Namespaced", plural: str = "widgets", kind: str = "Widget",
               versions: list[dict[str, Any]] | None = None, short_names: list[str] | None = None) -> dict[str, Any]:
    if versions is None:
        versions = [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": widget_schema()},
            "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                     "statusReplicasPath": ".status.replicas",
                                                     "labelSelectorPath": ".status.selector"}},
            "additionalPrinterColumns": [
                {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            ],
        }]
    return {
        "apiVersion": CRD_GROUP_VERSION, "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": scope,
                 "names": {"plural": plural, "singular": kind.lower(), "kind": kind,
                           "shortNames": short_names or []},
                 "versions": versions},
    }


def create_crd(cluster: Cluster, crd: dict[str, Any]) -> dict[str, Any]:
    """Create a CRD through the API and wait until it is Established (as ``kubectl wait`` would)."""
    from kubernetes import client

    api = client.ApiextensionsV1Api(cluster.api_client())
    try:
        created: dict[str, Any] = api.api_client.sanitize_for_serialization(
            api.create_custom_resource_definition(crd))
        name = crd["metadata"]["name"]

        def established() -> dict[str, Any]:
            got = api.api_client.sanitize_for_serialization(api.read_custom_resource_definition(name))
            conditions = {c["type"]: c for c in (got.get("status") or {}).get("conditions") or []}
            assert conditions.get("Established", {}).get("status") == "True", conditions
            return got  # type: ignore[no-any-return]

        eventually(established, description=f"CRD {name} Established")
        return created
    finally:
        api.api_client.close()


def delete_crd(cluster: Cluster, name: str) -> None:
    """Delete a CRD (ignore a missing one) and wait until it is gone."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    api = client.ApiextensionsV1Api(cluster.api_client())
    try:
        try:
            api.delete_custom_resource_definition(name)
        except ApiException as exc:
            if exc.status != 404:
                raise

        def gone() -> None:
            try:
                api.read_custom_resource_definition(name)
            except ApiException as exc:
                assert exc.status == 404
                return
            raise AssertionError(f"CRD {name} still there")

        eventually(gone, description=f"CRD {name} deleted")
    finally:
        api.api_client.close()
