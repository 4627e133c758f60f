"""The Kubernetes 1.37 schemas of every built-in type, as data.

They come from the ``kubernetes-validate`` package (JSON Schema definitions generated from the official
OpenAPI spec, with the ``x-kubernetes-*`` extensions kept: group-version-kind, patch merge keys and
strategies, list types and map keys). OpenAPI documents, field validation and strategic merge patch all
read them through this module.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import orjson

SCHEMA_VERSION = "v1.37.0"
REF_PREFIX = "#/$defs/"

Schema = dict[str, Any]


def _package_dir(name: str) -> Path:
    """Where an installed package's files are, without importing it: importing ``kubernetes_validate``
    (which only holds the data here) pulls in jsonschema, about 120 ms at a process's first create."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the package {name!r} is not installed; run scripts/setup.sh")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def definitions() -> dict[str, Schema]:
    """All definitions by name, e.g. ``io.k8s.api.apps.v1.Deployment``."""
    path = _package_dir("kubernetes_validate") / "kubernetes-json-schema" / f"{SCHEMA_VERSION}-local"
    defs: dict[str, Schema] = orjson.loads((path / "_definitions.json").read_bytes())["$defs"]
    return defs


@functools.cache
def _by_gvk() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            index[(gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))] = name
    return index


def definition_name(group: str, version: str, kind: str) -> str | None:
    """The definition name of a built-in kind, or None if the schemas do not know it."""
    return _by_gvk().get((group, version, kind))


def schema_for(group: str, version: str, kind: str) -> Schema | None:
    name = definition_name(group, version, kind)
    return definitions()[name] if name else None


def resolve(schema: Schema | None) -> Schema | None:
    """Follow a ``$ref`` (once; definitions do not chain refs)."""
    if schema is None:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        return definitions().get(ref[len(REF_PREFIX):])
    return schema


def property_schema(schema: Schema | None, name: str) -> Schema | None:
    """The schema of field ``name`` of an object schema (resolved), or None when unknown."""
    schema = resolve(schema)
    if schema is None:
        return None
    prop = (schema.get("properties") or {}).get(name)
    if prop is None:
        additional = schema.get("additionalProperties")
        return resolve(additional) if isinstance(additional, dict) else None
    return resolve(prop) if "$ref" in prop else prop


def items_schema(schema: Schema | None) -> Schema | None:
    """The element schema of an array schema (resolved)."""
    if schema is None:
        return None
    items = schema.get("items")
    return resolve(items) if isinstance(items, dict) else None
