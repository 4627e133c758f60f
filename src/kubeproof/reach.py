"""Reaching a pod or a Service of an embedded cluster: the embedded equivalent of ``kubectl port-forward``.

Pods of the embedded cluster have loopback IPs (127.x.y.z) that processes on this machine can connect
to directly, so there is nothing to forward: :func:`resolve` answers the address to dial.

- a pod: its pod IP and the port (a number as given, a name through the containers' ports);
- a Service: the Service port (by number or name) leads to a ready endpoint in its Endpoints, and the
  endpoint's port is the targetPort already resolved for that pod (named targetPorts included).

When nothing is reachable the error says why (no IP yet, no such port, no ready endpoint and which pods
are not ready), rather than handing back an address that will refuse connections.

``resolve`` reads objects through a getter, so it works on the in-process store
(``Cluster.port_forward``) and through the API (``kube.port_forward`` on a kubeproof server in a subprocess).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any

Obj = dict[str, Any]
#: ``get(kind, namespace, name)``: the object as JSON (camelCase keys), or None when it does not exist.
Getter = Callable[[str, str, str], "Obj | None"]

_KINDS = {
    "po": "Pod", "pod": "Pod", "pods": "Pod",
    "svc": "Service", "service": "Service", "services": "Service",
}


class Unreachable(RuntimeError):
    """The pod or Service has no address to connect to (yet); the message says why."""


def parse_target(target: Any, namespace: str | None) -> tuple[str, str, str]:
    """``(kind, namespace, name)`` from ``"pod/x"``, ``"svc/x"``, ``"x"`` (a pod, as kubectl reads it),
    a manifest dict, or an official-client model."""
    if isinstance(target, str):
        kind_text, sep, name = target.partition("/")
        if not sep:
            kind_text, name = "pod", target
        kind = _KINDS.get(kind_text.lower())
        if kind is None:
            raise ValueError(f"cannot reach {target!r}: only pods and services can be reached "
                             "(pod/NAME, svc/NAME or service/NAME)")
        return kind, namespace or "default", name
    if not isinstance(target, Mapping) and hasattr(target, "to_dict"):
        target = target.to_dict()
    if isinstance(target, Mapping):
        meta = target.get("metadata") or {}
        kind = str(target.get("kind") or "")
        if kind not in ("Pod", "Service"):
            raise ValueError(f"cannot reach a {kind or 'object without a kind'}: only pods and services can be reached")
        return kind, str(meta.get("namespace") or namespace or "default"), str(meta.get("name") or "")
    raise TypeError(f"cannot reach {target!r}: pass 'pod/NAME', 'svc/NAME' or the object")


def resolve(get: Getter, target: Any, port: int | str, namespace: str | None = None) -> tuple[str, int]:
    """The ``(host, port)`` to connect to for ``port`` of ``target``."""
    kind, ns, name = parse_target(target, namespace)
    if kind == "Pod":
        return _pod_address(get, ns, name, port)
    return _service_address(get, ns, name, port)


def _pod_address(get: Getter, namespace: str, name: str, port: int | str) -> tuple[str, int]:
    pod = get("Pod", namespace, name)
    if pod is None:
        raise Unreachable(f'pod "{name}" not found in namespace "{namespace}"')
    status = pod.get("status") or {}
    ip = status.get("podIP")
    if not ip:
        phase = status.get("phase") or "Pending"
        where = (pod.get("spec") or {}).get("nodeName")
        why = f"on node {where}" if where else "not scheduled to a node yet"
        raise Unreachable(f"pod {namespace}/{name} has no IP yet (phase {phase}, {why})")
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        raise Unreachable(f"pod {namespace}/{name} is terminating")
    if isinstance(port, int):
        return str(ip), port
    if port.isdigit():
        return str(ip), int(port)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if cport.get("name") == port:
                return str(ip), int(cport["containerPort"])
    raise Unreachable(f"pod {namespace}/{name} has no container port named {port!r}")


def _service_address(get: Getter, namespace: str, name: str, port: int | str) -> tuple[str, int]:
    svc = get("Service", namespace, name)
    if svc is None:
        raise Unreachable(f'service "{name}" not found in namespace "{namespace}"')
    spec = svc.get("spec") or {}
    if spec.get("type") == "ExternalName":
        raise Unreachable(f"service {namespace}/{name} is of type ExternalName ({spec.get('externalName')}): "
                          "it has no endpoints to reach")
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    wanted = int(port) if isinstance(port, str) and port.isdigit() else port
    svc_port = next((p for p in ports if (p.get("port") == wanted if isinstance(wanted, int)
                                          else p.get("name") == wanted)), None)
    if svc_port is None:
        offered = ", ".join(f"{p.get('name') or '<unnamed>'}:{p.get('port')}" for p in ports) or "none"
        raise Unreachable(f"service {namespace}/{name} does not have a service port {port} (its ports: {offered})")
    port_name = svc_port.get("name") or ""
    endpoints = get("Endpoints", namespace, name)
    if endpoints is None:
        why = "it has no selector, and nobody wrote its Endpoints" if not spec.get("selector") else (
            "its Endpoints do not exist (is the endpoints controller running?)")
        raise Unreachable(f"service {namespace}/{name} has no ready endpoints: {why}")
    not_ready: list[str] = []
    for subset in endpoints.get("subsets") or []:
        numbers = [p.get("port") for p in subset.get("ports") or [] if (p.get("name") or "") == port_name]
        for address in subset.get("addresses") or []:
            if numbers:
                return str(address["ip"]), int(numbers[0])
        not_ready.extend(_who(a) for a in subset.get("notReadyAddresses") or [])
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    if not_ready:
        why = f"{len(not_ready)} not ready ({', '.join(sorted(not_ready))})"
    elif selector:
        why = f"no running pod with an IP matches its selector {selector}"
    else:
        why = "it has no selector, and its Endpoints list no address"
    raise Unreachable(f"service {namespace}/{name} has no ready endpoints for port {port}: {why}")


def _who(address: Mapping[str, Any]) -> str:
    ref = address.get("targetRef") or {}
    return f"pod {ref['name']} at {address.get('ip')}" if ref.get("name") else str(address.get("ip"))


def store_getter(store: Any) -> Getter:
    """A getter over an embedded cluster's store."""
    resources = {"Pod": "pods", "Service": "services", "Endpoints": "endpoints"}

    def get(kind: str, namespace: str, name: str) -> Obj | None:
        obj: Obj | None = store.get(resources[kind], namespace, name)
        return obj

    return get


class KubectlPortForward:
    """``kubectl port-forward`` for a real cluster: started with a free local port, stopped by :meth:`stop`."""

    def __init__(self, argv: list[str], env: Mapping[str, str], timeout: float = 30.0) -> None:
        self.argv = argv
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=dict(env), start_new_session=True)
        found: list[tuple[str, int]] = []
        ready = threading.Event()

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                # "Forwarding from 127.0.0.1:41863 -> 8080"
                if not found and line.startswith("Forwarding from ") and "->" in line:
                    local = line.split()[2]
                    host, _, number = local.rpartition(":")
                    found.append((host.strip("[]"), int(number)))
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read, name="kubectl-port-forward", daemon=True)
        self._reader.start()
        ready.wait(timeout)
        if not found:
            self.stop()
            err = self.process.stderr.read() if self.process.stderr else ""
            raise Unreachable(f"{' '.join(argv)} did not start forwarding: {err.strip() or 'timed out'}")
        self.address = found[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self._reader.join(timeout=5)
