"""Probes and lifecycle handlers, really performed: httpGet, tcpSocket, exec (and preStop ``sleep``).

Each check returns ``(ok, message)``; the message is what kubelet puts in its ``Unhealthy`` event.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

Obj = dict[str, Any]
#: Runs a command in the container's context (env, cwd, process group, reaper); returns its exit code.
ExecRunner = Callable[[list[str], float], Awaitable[tuple[int, bytes]]]

USER_AGENT = "kube-probe/1.37"


def resolve_port(port: Any, container: Obj) -> int:
    """An IntOrString port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            return int(declared.get("containerPort", 0))
    raise ValueError(f"couldn't find port: {port} in {container.get('name', '')}")


async def http_get(action: Obj, container: Obj, pod_ip: str, timeout: float) -> tuple[bool, str]:
    host = action.get("host") or pod_ip
    try:
        port = resolve_port(action.get("port"), container)
    except ValueError as exc:
        return False, str(exc)
    path = action.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    scheme = str(action.get("scheme") or "HTTP").lower()
    url = f"{scheme}://{host}:{port}{path}"
    context: ssl.SSLContext | None = None
    if scheme == "https":
        # Kubelet does not verify probe certificates.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    headers = {"Host": f"{host}:{port}", "User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"}
    for header in action.get("httpHeaders") or []:
        headers[str(header.get("name", ""))] = str(header.get("value", ""))
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"

    async def attempt() -> tuple[bool, str]:
        reader, writer = await asyncio.open_connection(host, port, ssl=context)
        try:
            writer.write(request.encode("latin-1"))
            await writer.drain()
            status_line = await reader.readline()
        finally:
            writer.close()
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            return False, f'Get "{url}": malformed HTTP response {status_line!r}'
        code = int(parts[1])
        if 200 <= code < 400:
            return True, ""
        return False, f"HTTP probe failed with statuscode: {code}"

    try:
        return await asyncio.wait_for(attempt(), timeout)
    except TimeoutError:
        return False, (f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting '
                       "headers)")
    except OSError as exc:
        return False, f'Get "{url}": dial tcp {host}:{port}: connect: {_errno_text(exc)}'


async def tcp_socket(action: Obj, container: Obj, pod_ip: str, timeout: float) -> tuple[bool, str]:
    host = action.get("host") or pod_ip
    try:
        port = resolve_port(action.get("port"), container)
    except ValueError as exc:
        return False, str(exc)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return False, f"dial tcp {host}:{port}: i/o timeout"
    except OSError as exc:
        return False, f"dial tcp {host}:{port}: connect: {_errno_text(exc)}"
    writer.close()
    return True, ""


async def exec_action(action: Obj, run: ExecRunner, timeout: float) -> tuple[bool, str]:
    command = [str(a) for a in action.get("command") or []]
    if not command:
        return False, "exec probe has no command"
    try:
        code, output = await run(command, timeout)
    except TimeoutError:
        return False, f"command {command!r} timed out"
    except OSError as exc:
        return False, f'exec: "{command[0]}": {_errno_text(exc)}'
    if code == 0:
        return True, ""
    text = output.decode(errors="replace").strip()
    return False, text if text else f"command {command!r} exited with {code}"


async def check(probe: Obj, container: Obj, pod_ip: str, run: ExecRunner) -> tuple[bool, str]:
    """One probe attempt with its ``timeoutSeconds`` (default 1)."""
    timeout = float(probe.get("timeoutSeconds") or 1)
    if "httpGet" in probe:
        return await http_get(probe["httpGet"], container, pod_ip, timeout)
    if "tcpSocket" in probe:
        return await tcp_socket(probe["tcpSocket"], container, pod_ip, timeout)
    if "exec" in probe:
        return await exec_action(probe["exec"], run, timeout)
    # grpc probes are not implemented: count as success rather than killing a healthy process.
    return True, ""


async def run_handler(handler: Obj, container: Obj, pod_ip: str, run: ExecRunner, budget: float) -> str:
    """A lifecycle hook (preStop/postStart); returns "" or the failure message. ``budget`` bounds it."""
    if "sleep" in handler:
        await asyncio.sleep(min(budget, float((handler["sleep"] or {}).get("seconds", 0))))
        return ""
    if "exec" in handler:
        ok, message = await exec_action(handler["exec"], run, budget)
    elif "httpGet" in handler:
        ok, message = await http_get(handler["httpGet"], container, pod_ip, budget)
    elif "tcpSocket" in handler:
        ok, message = await tcp_socket(handler["tcpSocket"], container, pod_ip, budget)
    else:
        return ""
    return "" if ok else message


def _errno_text(exc: OSError) -> str:
    """Go's wording for a socket error (``connection refused``), from the errno when there is one."""
    if exc.errno:
        return os.strerror(exc.errno).lower()
    return str(exc).lower()
