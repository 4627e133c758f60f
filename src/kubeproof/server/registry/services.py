"""What kube-apiserver does to a Service on create and update besides validation: defaults, ClusterIP
and NodePort allocation, and the type-change clean-up.

After ``pkg/apis/core/v1/defaults.go`` (``SetDefaults_Service``), ``pkg/registry/core/service/strategy.go``
(``patchAllocatedValues``, ``dropTypeDependentFields``) and ``pkg/registry/core/service/storage/alloc.go``
(``initIPFamilyFields``, ``allocClusterIPs``, ``initNodePorts``, ``updateNodePorts``). The cluster is
single-stack IPv4 with kubeadm's ranges: services from 10.96.0.0/12, node ports 30000-32767.

Allocations are derived from the stored Services (under the store lock), so an address or port is free
again as soon as its Service is deleted or stops using it, and a failed or dry-run write leaks nothing.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from kubeproof.server import errors
from kubeproof.server.store import Store
from kubeproof.server.validation.field import FieldError, go_string_slice, invalid, not_supported, required

Obj = dict[str, Any]

#: kubeadm's default ``--service-cluster-ip-range``.
SERVICE_CIDR = "10.96.0.0/12"
#: The default ``--service-node-port-range``.
NODE_PORT_RANGE = (30000, 32767)
#: The ``kubernetes`` Service's address: the first of the range.
KUBERNETES_SERVICE_IP = "10.96.0.1"

_FAMILIES = ["IPv4", "IPv6"]
_POLICIES = ["PreferDualStack", "RequireDualStack", "SingleStack"]


def _m(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _ports(spec: Obj) -> list[Obj]:
    return [p for p in _l(spec.get("ports")) if isinstance(p, dict)]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def service_type(spec: Obj) -> str:
    value = spec.get("type")
    return value if isinstance(value, str) and value else "ClusterIP"


def _needs_cluster_ip(spec: Obj) -> bool:
    return service_type(spec) != "ExternalName"


def _needs_node_port(spec: Obj) -> bool:
    return service_type(spec) in ("NodePort", "LoadBalancer")


def _externally_accessible(spec: Obj) -> bool:
    return _needs_node_port(spec) or (service_type(spec) == "ClusterIP" and bool(_l(spec.get("externalIPs"))))


def needs_health_check(spec: Obj) -> bool:
    """``apiservice.NeedsHealthCheck``: a LoadBalancer with externalTrafficPolicy Local."""
    return service_type(spec) == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def is_headless(spec: Obj) -> bool:
    ips = _l(spec.get("clusterIPs"))
    return (ips[:1] == ["None"]) if ips else spec.get("clusterIP") == "None"


# -- defaults and strategy -------------------------------------------------------------------------


def default_service(obj: Obj) -> None:
    """``SetDefaults_Service``: what decoding fills in on every create and update."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec.get("sessionAffinity") == "ClientIP":
        config = spec.setdefault("sessionAffinityConfig", {})
        if isinstance(config, dict):
            client_ip = config.setdefault("clientIP", {})
            if isinstance(client_ip, dict):
                client_ip.setdefault("timeoutSeconds", 10800)
    for port in _ports(spec):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, "") and "port" in port:
            port["targetPort"] = port["port"]
    if _needs_node_port(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if service_type(spec) != "ExternalName" and not spec.get("internalTrafficPolicy"):
        spec["internalTrafficPolicy"] = "Cluster"
    if service_type(spec) == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


def prepare_service_update(new: Obj, old: Obj) -> None:
    """``PrepareForUpdate``: keep what was allocated when the client left it out, then drop what the
    new type no longer uses (so ``kubectl patch -p '{"spec":{"type":"ClusterIP"}}'`` just works)."""
    default_service(new)
    spec, old_spec = _m(new.get("spec")), _m(old.get("spec"))
    _patch_allocated_values(spec, old_spec)
    _normalize_cluster_ips(spec, old_spec)
    _drop_type_dependent_fields(spec, old_spec)


def _patch_allocated_values(spec: Obj, old_spec: Obj) -> None:
    if _needs_cluster_ip(old_spec) and _needs_cluster_ip(spec):
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
        if not _l(spec.get("clusterIPs")) and _l(old_spec.get("clusterIPs")):
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if _needs_node_port(old_spec) and _needs_node_port(spec):
        old_ports = _ports(old_spec)
        used = {_int(p.get("nodePort")) for p in old_ports} & {_int(p.get("nodePort")) for p in _ports(spec)}
        by_name = {str(p.get("name") or ""): _int(p.get("nodePort")) for p in old_ports}
        for port in _ports(spec):
            if not _int(port.get("nodePort")):
                previous = by_name.get(str(port.get("name") or ""), 0)
                if previous and previous not in used:
                    port["nodePort"] = previous
    if (needs_health_check(old_spec) and needs_health_check(spec) and not _int(spec.get("healthCheckNodePort"))
            and _int(old_spec.get("healthCheckNodePort"))):
        spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]


def _normalize_cluster_ips(spec: Obj, old_spec: Obj | None) -> None:
    """``normalizeClusterIPs``: keep the singular and plural fields in step for old and new clients."""
    cluster_ip = spec.get("clusterIP") or ""
    ips = _l(spec.get("clusterIPs"))
    if old_spec is None:
        if cluster_ip and not ips:
            spec["clusterIPs"] = [cluster_ip]
        return
    old_ip, old_ips = old_spec.get("clusterIP") or "", _l(old_spec.get("clusterIPs"))
    if old_ips and not ips and old_ip == cluster_ip:
        spec["clusterIPs"] = ips = list(old_ips)
    if old_ip != cluster_ip:
        if old_ip and not cluster_ip and ips == old_ips:
            spec.pop("clusterIPs", None)
        if _l(spec.get("clusterIPs")) == old_ips:
            spec["clusterIPs"] = [cluster_ip] if cluster_ip else []


def _drop_type_dependent_fields(spec: Obj, old_spec: Obj) -> None:
    if _needs_cluster_ip(old_spec) and not _needs_cluster_ip(spec):
        if _l(spec.get("clusterIPs")) == _l(old_spec.get("clusterIPs")):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if spec.get("ipFamilies") == old_spec.get("ipFamilies"):
            spec.pop("ipFamilies", None)
        if spec.get("ipFamilyPolicy") == old_spec.get("ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    if _needs_node_port(old_spec) and not _needs_node_port(spec):
        old_node_ports = [_int(p.get("nodePort")) for p in _ports(old_spec)]
        if [_int(p.get("nodePort")) for p in _ports(spec)] == old_node_ports:
            for port in _ports(spec):
                port.pop("nodePort", None)
    if (needs_health_check(old_spec) and not needs_health_check(spec)
            and spec.get("healthCheckNodePort") == old_spec.get("healthCheckNodePort")):
        spec.pop("healthCheckNodePort", None)
    if service_type(old_spec) == "LoadBalancer" and service_type(spec) != "LoadBalancer":
        if spec.get("allocateLoadBalancerNodePorts") == old_spec.get("allocateLoadBalancerNodePorts"):
            spec.pop("allocateLoadBalancerNodePorts", None)
        if spec.get("loadBalancerClass") == old_spec.get("loadBalancerClass"):
            spec.pop("loadBalancerClass", None)
    if (_externally_accessible(old_spec) and not _externally_accessible(spec)
            and spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy")):
        spec.pop("externalTrafficPolicy", None)
    if service_type(spec) == "ExternalName":
        spec.pop("internalTrafficPolicy", None)


# -- allocation ------------------------------------------------------------------------------------


def _family(ip: str) -> str:
    try:
        return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"
    except ValueError:
        return "unknown"


def _ip_errors(ip: str) -> list[str]:
    """``validation.IsValidIP``."""
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ["must be a valid IP address (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    if str(parsed) != ip:
        return [f'must be in canonical form ("{parsed}")']
    return []


class ServiceAllocator:
    """ClusterIPs and NodePorts for Services, as ``Allocators`` in kube-apiserver's service storage."""

    def __init__(self, store: Store, *, cidr: str = SERVICE_CIDR,
                 node_ports: tuple[int, int] = NODE_PORT_RANGE, seed: int | None = None) -> None:
        self.store = store
        self.network = ipaddress.IPv4Network(cidr)
        self.node_ports = node_ports
        self.random = random.Random(seed)
        size = self.network.num_addresses - 2  # neither the network nor the broadcast address
        # KEP-3070: the first addresses (min(max(16, size/16), 256)) are kept for static requests;
        # dynamic allocation prefers the rest.
        self._static_band = min(max(16, size // 16), 256)
        self._size = size

    # -- views of what is in use -------------------------------------------------------------------

    def _others(self, exclude: tuple[str, str] | None) -> list[Obj]:
        services, _ = self.store.list("services")
        out = []
        for svc in services:
            meta = svc.get("metadata") or {}
            if exclude is not None and (meta.get("namespace"), meta.get("name")) == exclude:
                continue
            out.append(_m(svc.get("spec")))
        return out

    def used_ips(self, exclude: tuple[str, str] | None = None) -> set[str]:
        used: set[str] = set()
        for spec in self._others(exclude):
            for ip in _l(spec.get("clusterIPs")) or [spec.get("clusterIP")]:
                if isinstance(ip, str) and ip and ip != "None":
                    used.add(ip)
        return used

    def used_node_ports(self, exclude: tuple[str, str] | None = None) -> set[int]:
        used: set[int] = set()
        for spec in self._others(exclude):
            used.update(_int(p.get("nodePort")) for p in _ports(spec))
            used.add(_int(spec.get("healthCheckNodePort")))
        used.discard(0)
        return used

    # -- create and update -------------------------------------------------------------------------

    def allocate_create(self, obj: Obj) -> None:
        """``beginCreate``: normalise, default the IP family fields, then allocate IPs and ports."""
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        name = str((obj.get("metadata") or {}).get("name") or "")
        if service_type(spec) == "ExternalName":
            return
        _normalize_cluster_ips(spec, None)
        self._init_ip_family_fields(name, spec, None)
        if not is_headless(spec):
            used = self.used_ips()
            self._alloc_cluster_ip(name, spec, used)
        if _needs_node_port(spec):
            self._init_node_ports(name, spec, self.used_node_ports(), set())
        if needs_health_check(spec):
            self._alloc_health_check_port(name, spec, self.used_node_ports())

    def allocate_update(self, new: Obj, old: Obj) -> None:
        """``beginUpdate``: allocate what a type change needs (the rest is released by not being used)."""
        spec, old_spec = new.get("spec"), _m(old.get("spec"))
        if not isinstance(spec, dict):
            return
        meta = old.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        name = key[1]
        if service_type(spec) == "ExternalName":
            return
        self._init_ip_family_fields(name, spec, old_spec)
        if service_type(old_spec) == "ExternalName" and not is_headless(spec):
            self._alloc_cluster_ip(name, spec, self.used_ips(exclude=key))
        if _needs_node_port(spec):
            old_ports = {_int(p.get("nodePort")) for p in _ports(old_spec)} if _needs_node_port(old_spec) else set()
            self._init_node_ports(name, spec, self.used_node_ports(exclude=key), old_ports - {0})
        if needs_health_check(spec) and not needs_health_check(old_spec):
            self._alloc_health_check_port(name, spec, self.used_node_ports(exclude=key))

    # -- IP families -------------------------------------------------------------------------------

    def _init_ip_family_fields(self, name: str, spec: Obj, old_spec: Obj | None) -> None:
        if spec.get("ipFamilyPolicy") is None:
            if old_spec is not None and old_spec.get("ipFamilyPolicy") is not None:
                spec["ipFamilyPolicy"] = old_spec["ipFamilyPolicy"]
            elif spec.get("clusterIP") == "None" and not spec.get("selector"):
                spec["ipFamilyPolicy"] = "RequireDualStack"  # headless + selectorless defaults to dual
            else:
                spec["ipFamilyPolicy"] = "SingleStack"
        errs = self._validate_ip_fields(spec)
        if errs:
            raise errors.invalid("Service", "", name, errs)
        ips = [ip for ip in _l(spec.get("clusterIPs")) if isinstance(ip, str)]
        families = [f for f in _l(spec.get("ipFamilies")) if isinstance(f, str)]
        policy = spec["ipFamilyPolicy"]
        if policy == "SingleStack":
            if len(ips) == 2:
                errs.append(invalid("spec.ipFamilyPolicy", policy,
                                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs "
                                    "are specified"))
            if len(families) == 2:
                errs.append(invalid("spec.ipFamilyPolicy", policy,
                                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families "
                                    "are specified"))
        for i, ip in enumerate(ips):
            if ip == "None":
                break
            if i >= len(families):
                family = _family(ip)
                if family != "IPv4":
                    errs.append(invalid(f"spec.clusterIPs[{i}]", go_string_slice(ips),
                                        f"{family} is not configured on this cluster"))
                else:
                    families.append(family)
        if errs:
            raise errors.invalid("Service", "", name, errs)
        if spec.get("clusterIP") == "None" and not spec.get("selector"):
            if not families:
                families = ["IPv4"]
            if len(families) < 2 and policy != "SingleStack":
                families.append("IPv6" if families[0] == "IPv4" else "IPv4")
            spec["ipFamilies"] = families
            return
        if policy == "RequireDualStack":
            errs.append(invalid("spec.ipFamilyPolicy", policy,
                                "this cluster is not configured for dual-stack services"))
        for i, family in enumerate(families):
            if family != "IPv4":
                errs.append(invalid(f"spec.ipFamilies[{i}]", family, "not configured on this cluster"))
        if errs:
            raise errors.invalid("Service", "", name, errs)
        spec["ipFamilies"] = families or ["IPv4"]

    @staticmethod
    def _validate_ip_fields(spec: Obj) -> list[FieldError]:
        """The parts of ``ValidateServiceClusterIPsRelatedFields`` allocation relies on."""
        errs: list[FieldError] = []
        cluster_ip = spec.get("clusterIP")
        raw_ips = spec.get("clusterIPs")
        ips = [ip if isinstance(ip, str) else str(ip) for ip in _l(raw_ips)]
        if cluster_ip:
            if not ips:
                errs.append(required("spec.clusterIPs"))
            elif ips[0] != cluster_ip:
                errs.append(invalid("spec.clusterIPs", go_string_slice(ips), "first value must match `clusterIP`"))
        elif ips:
            errs.append(invalid("spec.clusterIPs", go_string_slice(ips),
                                "must be empty when `clusterIP` is not specified"))
        for i, family in enumerate(_l(spec.get("ipFamilies"))):
            if family not in _FAMILIES:
                errs.append(not_supported(f"spec.ipFamilies[{i}]", family, _FAMILIES))
        policy = spec.get("ipFamilyPolicy")
        if policy is not None and policy not in _POLICIES:
            errs.append(not_supported("spec.ipFamilyPolicy", policy, _POLICIES))
        bad = False
        for i, ip in enumerate(ips):
            if i == 0 and ip == "None":
                if len(ips) > 1:
                    bad = True
                    errs.append(invalid("spec.clusterIPs", go_string_slice(ips),
                                        "'None' must be the first and only value"))
                continue
            messages = _ip_errors(ip)
            bad = bad or bool(messages)
            errs.extend(invalid(f"spec.clusterIPs[{i}]", ip, m) for m in messages)
        if len(ips) > 2:
            errs.append(invalid("spec.clusterIPs", go_string_slice(ips), "may only hold up to 2 values"))
        if bad:
            return errs
        if len(ips) > 1 and len({_family(ip) for ip in ips}) != len(ips):
            errs.append(invalid("spec.clusterIPs", go_string_slice(ips),
                                "may specify no more than one IP for each IP family"))
        return errs

    # -- cluster IPs -------------------------------------------------------------------------------

    def _alloc_cluster_ip(self, name: str, spec: Obj, used: set[str]) -> None:
        ips = [ip for ip in _l(spec.get("clusterIPs")) if isinstance(ip, str)]
        wanted = ips[0] if ips else ""
        if not wanted:
            ip = self._next_ip(used)
            if ip is None:
                raise errors.internal_error("failed to allocate a serviceIP: range is full")
        else:
            ip = wanted
            problem = self._static_problem(ip, used)
            if problem:
                raise errors.invalid("Service", "", name, [
                    invalid("spec.clusterIPs", go_string_slice(ips), f"failed to allocate IP {ip}: {problem}")
                ])
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip, *ips[1:]]

    def _static_problem(self, ip: str, used: set[str]) -> str:
        address = ipaddress.ip_address(ip)
        if address.version != 4 or address not in self.network:
            # The MetaAllocator (ServiceCIDR objects, GA since 1.33) finds no range holding the address.
            return "the provided network does not match the current range"
        if address in (self.network.network_address, self.network.broadcast_address):
            return f"provided IP {ip} is not in the valid range"
        if ip in used:
            return "provided IP is already allocated"
        return ""

    def _next_ip(self, used: set[str]) -> str | None:
        """A random free address, from the dynamic band first (as ``allocateNextService`` does)."""
        first = int(self.network.network_address) + 1
        bands = [(self._static_band, self._size), (0, self._static_band)]
        for low, high in bands:
            if high <= low:
                continue
            span = high - low
            start = self.random.randrange(span)
            for step in range(span):
                candidate = str(ipaddress.IPv4Address(first + low + (start + step) % span))
                if candidate not in used:
                    return candidate
        return None

    # -- node ports --------------------------------------------------------------------------------

    def _port_problem(self, port: int, used: set[int]) -> str:
        low, high = self.node_ports
        if not low <= port <= high:
            return f"provided port is not in the valid range. The range of valid ports is {low}-{high}"
        if port in used:
            return "provided port is already allocated"
        return ""

    def _next_port(self, used: set[int]) -> int | None:
        low, high = self.node_ports
        size = high - low + 1
        # KEP-3668: dynamic node ports prefer the upper band, as IPs do.
        offset = min(max(16, size // 32), 128)
        for band_low, band_high in ((low + offset, high + 1), (low, low + offset)):
            span = band_high - band_low
            if span <= 0:
                continue
            start = self.random.randrange(span)
            for step in range(span):
                candidate = band_low + (start + step) % span
                if candidate not in used:
                    return candidate
        return None

    def _init_node_ports(self, name: str, spec: Obj, used: set[int], owned: set[int]) -> None:
        """``initNodePorts``/``updateNodePorts``: honour requests, give the same port number (TCP and UDP
        on one port) the same node port, and allocate the rest when the type asks for it."""
        allocate = service_type(spec) == "NodePort" or (
            service_type(spec) == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False
        )
        ports = _ports(spec)
        taken = set(used)
        by_port: dict[int, int] = {}
        for i, port in enumerate(ports):
            requested = _int(port.get("nodePort"))
            if not requested and not allocate:
                continue
            number = _int(port.get("port"))
            if not requested:
                requested = by_port.get(number) or next(
                    (_int(p.get("nodePort")) for p in ports if _int(p.get("port")) == number
                     and _int(p.get("nodePort"))), 0)
            if requested:
                if requested not in owned and requested not in by_port.values():
                    problem = self._port_problem(requested, taken)
                    if problem:
                        raise errors.invalid("Service", "", name, [
                            invalid(f"spec.ports[{i}].nodePort", requested, problem)
                        ])
                port["nodePort"] = requested
            else:
                fresh = self._next_port(taken)
                if fresh is None:
                    raise errors.internal_error("failed to allocate a nodePort: range is full")
                port["nodePort"] = fresh
            taken.add(port["nodePort"])
            by_port.setdefault(number, port["nodePort"])

    def _alloc_health_check_port(self, name: str, spec: Obj, used: set[int]) -> None:
        taken = used | {_int(p.get("nodePort")) for p in _ports(spec)}
        requested = _int(spec.get("healthCheckNodePort"))
        if requested:
            problem = self._port_problem(requested, taken)
            if problem:
                raise errors.internal_error(
                    f"failed to allocate requested HealthCheck NodePort {requested}: {problem}")
            return
        fresh = self._next_port(taken)
        if fresh is None:
            raise errors.internal_error("failed to allocate a HealthCheck NodePort 0: range is full")
        spec["healthCheckNodePort"] = fresh
