"""Discovery documents: ``/version``, ``/api``, ``/apis``, per-group-version resource lists, aggregated v2.

Shapes follow ``apiserver/pkg/endpoints/discovery`` and ``k8s.io/api/apidiscovery/v2``. Everything is
derived from the registry at request time, so a resource that is registered later (a CRD) shows up at once.
"""

from __future__ import annotations

import platform
from collections import OrderedDict
from typing import Any

from kubeproof.server.registry.base import ResourceType
from kubeproof.server.registry.generic import Registry

KUBE_VERSION = {"major": "1", "minor": "37"}
GIT_VERSION = "v1.37.0"
AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

# Preferred order of groups in /apis, as kube-apiserver lists them.
GROUP_ORDER = [
    "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
    "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
    "storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
    "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
]


def version_info() -> dict[str, str]:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return {
        "major": KUBE_VERSION["major"],
        "minor": KUBE_VERSION["minor"],
        "emulationMajor": KUBE_VERSION["major"],
        "emulationMinor": KUBE_VERSION["minor"],
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "36",
        "gitVersion": GIT_VERSION,
        "gitCommit": "kubeproof",
        "gitTreeState": "clean",
        "buildDate": "2026-11-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": f"linux/{arch}",
    }


def _groups(registry: Registry) -> OrderedDict[str, OrderedDict[str, list[ResourceType]]]:
    groups: OrderedDict[str, OrderedDict[str, list[ResourceType]]] = OrderedDict()
    for rt in registry.by_path.values():
        groups.setdefault(rt.group, OrderedDict()).setdefault(rt.version, []).append(rt)
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    return OrderedDict(sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def _versions_sorted(versions: list[str]) -> list[str]:
    """Kube-aware version priority: GA before beta before alpha, higher numbers first."""
    import re

    def key(v: str) -> tuple[int, int, int]:
        m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", v)
        if not m:
            return (3, 0, 0)
        level = {"": 0, "beta": 1, "alpha": 2}[m.group(2) or ""]
        return (level, -int(m.group(1)), -int(m.group(3) or 0))

    return sorted(versions, key=key)


#: The non-resource paths served, as kube-apiserver lists them at ``/`` (health checks with their ``log``
#: and ``ping`` checks; the server answers every ``/healthz/...`` with ``ok``).
ROOT_PATHS = [
    "/api", "/api/v1", "/apis", "/apis/", "/healthz", "/healthz/log", "/healthz/ping", "/livez", "/livez/log",
    "/livez/ping", "/openapi/v2", "/openapi/v3", "/openapi/v3/", "/readyz", "/readyz/log", "/readyz/ping", "/version",
]


def root_paths(registry: Registry) -> dict[str, list[str]]:
    """``metav1.RootPaths`` of the ``IndexLister`` at ``/``: every listed path, sorted as Go sorts strings."""
    paths = set(ROOT_PATHS)
    for group, versions in _groups(registry).items():
        if group:
            paths.add(f"/apis/{group}")
            paths.update(f"/apis/{group}/{version}" for version in versions)
    return {"paths": sorted(paths, key=lambda p: p.encode())}


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group_doc(name: str, versions: list[str]) -> dict[str, Any]:
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in _versions_sorted(versions)]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    groups = [_group_doc(g, list(vs)) for g, vs in _groups(registry).items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    versions = _groups(registry).get(group)
    if not group or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group, list(versions))}


def api_resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    rts = _groups(registry).get(group, OrderedDict()).get(version)
    if not rts:
        return None
    resources: list[dict[str, Any]] = []
    for rt in sorted(rts, key=lambda r: r.plural):
        entry: dict[str, Any] = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        entry["storageVersionHash"] = rt.storage_version_hash
        resources.append(entry)
        for sub in rt.subresources.values():
            sub_entry: dict[str, Any] = {
                "name": f"{rt.plural}/{sub.name}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": sub.kind or rt.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group is not None:
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version
            resources.append(sub_entry)
    doc: dict[str, Any] = {"kind": "APIResourceList"}
    if group:
        doc["apiVersion"] = "v1"
    doc["groupVersion"] = f"{group}/{version}" if group else version
    doc["resources"] = resources
    return doc


def _aggregated_resource(rt: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    if rt.subresources:
        entry["subresources"] = [
            {
                "subresource": sub.name,
                "responseKind": {
                    "group": rt.group if sub.group is None else sub.group,
                    "version": rt.version if sub.version is None else sub.version,
                    "kind": sub.kind or rt.kind,
                },
                "verbs": list(sub.verbs),
            }
            for sub in rt.subresources.values()
        ]
    return entry


def aggregated(registry: Registry, core: bool) -> dict[str, Any]:
    """``APIGroupDiscoveryList`` for ``/api`` (core=True) or ``/apis``."""
    items = []
    for group, versions in _groups(registry).items():
        if (group == "") != core:
            continue
        vs = []
        for version in _versions_sorted(list(versions)):
            rts = sorted(versions[version], key=lambda r: r.plural)
            vs.append({"version": version, "resources": [_aggregated_resource(r) for r in rts],
                       "freshness": "Current"})
        items.append({"metadata": {"name": group}, "versions": vs})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}
