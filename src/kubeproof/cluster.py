"""The in-process cluster: ``with kubeproof.Cluster() as c:`` starts an embedded API server.

The server runs on its own event loop in a background thread, so it serves sync and async callers
alike, and stops cleanly (open watches end, the port closes, temporary files go).
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
import yaml

from kubeproof import reach
from kubeproof.clock import Clock
from kubeproof.controllers import DEFAULT_CONTROLLERS, ControllerManager
from kubeproof.controllers.kubelet import KubeletController, KubeletSettings
from kubeproof.controllers.nodes import NodeSpec, ensure_nodes
from kubeproof.controllers.serviceaccount import ServiceAccountController
from kubeproof.faults import FaultInjector
from kubeproof.loops import close_loop, new_server_loop
from kubeproof.runtime import ImageMap, ProcessRuntime
from kubeproof.runtime.podenv import registry_lookup
from kubeproof.server.apiserver_endpoints import publish_kubernetes_service
from kubeproof.server.auth import ensure_bootstrap_policy
from kubeproof.server.auth import install as install_auth
from kubeproof.server.certs import make_certificates
from kubeproof.server.crd import install as install_crds
from kubeproof.server.http import APIServer
from kubeproof.server.registry.binding import install_binding
from kubeproof.server.registry.builtin import builtin_resources
from kubeproof.server.registry.generic import Registry
from kubeproof.server.registry.services import KUBERNETES_SERVICE_IP
from kubeproof.server.store import Store
from kubeproof.server.timeline import Timeline

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def find_tool(tool: str) -> str | None:
    """kubectl/helm: the ones setup installed beside this interpreter first, then PATH."""
    beside = Path(sys.executable).parent / tool
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(tool)


class ClusterError(RuntimeError):
    """The embedded cluster could not start or was used wrongly."""


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()

    async def main_loop(self) -> None:
        """uvicorn's tick loop, but woken at once by ``request_exit`` (its own polls every 100 ms, which
        would be most of the time a test spends stopping a cluster)."""
        self._exit = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            try:
                await asyncio.wait_for(self._exit.wait(), 0.1)
            except TimeoutError:
                pass

    def request_exit(self, loop: asyncio.AbstractEventLoop) -> None:
        self.should_exit = True
        exit_event = getattr(self, "_exit", None)
        if exit_event is not None:
            loop.call_soon_threadsafe(exit_event.set)

    def install_signal_handlers(self) -> None:
        """The owner of the cluster handles signals, not the server thread."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Close at once: stop listening and drop every connection (idle keep-alive TLS connections
        would otherwise hold uvicorn's graceful shutdown for its full timeout)."""
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        # Open watches and log follows end by themselves once Cluster.stop has told them to; waiting a
        # moment for them keeps uvicorn from logging each one as cancelled ("Exception in ASGI application").
        running = [task for task in self.server_state.tasks if not task.done()]
        if running:
            await asyncio.wait(running, timeout=1.0)


class Cluster:
    """An embedded Kubernetes API server with its kubeconfig and clients.

    ``tls=False`` serves plain HTTP. ``port=0`` picks a free port. ``kubeconfig`` chooses where the
    kubeconfig is written (default: a temporary directory removed on stop). ``controllers`` names the
    built-in controllers to run (default: all of ``kubeproof.controllers.DEFAULT_CONTROLLERS``); leave
    one out to test your own controller in its place. ``clock`` is the cluster's time (timestamps,
    grace periods, probe delays, schedules); a ``kubeproof.clock.ManualClock`` moves only when told.
    ``images`` maps container images to local commands (``{"fake-worker:1": "python -m app"}``): pods
    using them run as real processes (see docs/cluster-behaviour.md, "Process-backed pods").
    ``nodes`` is a node count, or a list of names or dicts with ``name``, ``labels``, ``taints``,
    ``unschedulable`` (default: one Ready node, ``kubeproof-node-1``); ``cluster.kubelet`` holds the
    simulated kubelet's timing (see docs/cluster-behaviour.md, "The simulated kubelet").
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        token: str | None = None,
        kubeconfig: str | os.PathLike[str] | None = None,
        name: str = "kubeproof",
        history_size: int = 10_000,
        history_seconds: float | None = 300.0,
        seed: int = 0,
        controllers: Iterable[str] | None = None,
        clock: Clock | None = None,
        images: Mapping[str, str | Sequence[str]] | None = None,
        nodes: int | Sequence[NodeSpec] | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.tls = tls
        self.token = token or secrets.token_urlsafe(24)
        self.name = name
        self.store = Store(history_size=history_size)
        self.history_seconds = history_seconds
        self.registry = Registry(self.store)
        #: The cluster's time; pass ``clock=ManualClock()`` to steer it from a test with ``advance()``.
        self.clock = self.registry.clock = clock or Clock()
        for rt in builtin_resources():
            self.registry.register(rt)
        install_auth(self.registry)  # access reviews, TokenRequest (server/auth)
        install_crds(self.registry)  # CustomResourceDefinitions and the resources they serve (server/crd)
        self.timeline = Timeline()
        self.store.listeners.append(self.timeline.record)
        self.faults = FaultInjector(seed=seed)
        self.registry.before_write.append(self.faults.before_write)
        self.api = APIServer(self.registry, token=self.token, watch_hooks=self.faults)
        install_binding(self.registry, self.api.create_handlers)  # pods/binding (the scheduler's write)
        self._workdir = Path(tempfile.mkdtemp(prefix="kubeproof-"))
        self._kubeconfig_path = Path(kubeconfig) if kubeconfig else self._workdir / "kubeconfig"
        #: Images run as real local processes (process-backed pods); other images are simulated.
        self.images = ImageMap(images)
        self.process_runtime = ProcessRuntime(self.images, registry_lookup(self.registry), self._workdir / "pods")
        self.api.pod_logs = self.process_runtime
        self.store.listeners.append(
            lambda event: self.process_runtime.on_store_event(event.resource, event.key[0], event.key[1]))
        self._thread: threading.Thread | None = None
        self._server: _Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._socket: socket.socket | None = None
        self.port = 0
        self._ca_pem = b""
        self._ca_key_pem = b""
        self._on_stop: list[Callable[[], None]] = []
        self._compactor_task: asyncio.Task[None] | None = None
        names = list(DEFAULT_CONTROLLERS) if controllers is None else list(controllers)
        unknown = [n for n in names if n not in DEFAULT_CONTROLLERS]
        if unknown:
            raise ClusterError(
                f"unknown controller(s) {', '.join(unknown)}; choose from {', '.join(DEFAULT_CONTROLLERS)}"
            )
        self.controllers = ControllerManager(self.registry, [DEFAULT_CONTROLLERS[n](self.registry) for n in names])
        #: Timing of simulated containers (``cluster.kubelet.startup_delay = 2`` etc.; docs/cluster-behaviour.md).
        self.kubelet = KubeletSettings()
        self.process_runtime.settings = self.kubelet  # its crash-loop back-off (replaced below with the kubelet's)
        for controller in self.controllers.controllers:
            if isinstance(controller, KubeletController):
                self.kubelet = self.process_runtime.settings = controller.settings
                controller.add_runtime(self.process_runtime)
        self._nodes = nodes
        self._bootstrap()

    # -- lifecycle -------------------------------------------------------------------------------

    def _bootstrap(self) -> None:
        ensure_bootstrap_policy(self.registry)  # the default RBAC roles and bindings
        ns_rt = self.registry.resource("namespaces")
        for ns in SYSTEM_NAMESPACES:
            self.registry.create(ns_rt, "", {"metadata": {"name": ns}})
        ensure_nodes(self.registry, self._nodes)  # Ready nodes (default: one, kubeproof-node-1)
        svc_rt = self.registry.resource("services")
        self.registry.create(
            svc_rt,
            "default",
            {
                "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
                "spec": {"clusterIP": KUBERNETES_SERVICE_IP,
                         "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
            },
        )

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self._kubeconfig_path

    @property
    def workdir(self) -> Path:
        return self._workdir

    @property
    def ca_pem(self) -> bytes:
        return self._ca_pem

    def start(self) -> Cluster:
        if self._thread is not None:
            return self
        # proto=IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets whose proto is
        # IPPROTO_TCP, and without it each response (headers and body are two writes) waits ~40 ms for
        # the client's delayed ACK on keep-alive connections.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError as exc:
            sock.close()
            raise ClusterError(
                f"cannot listen on {self.host}:{self.requested_port}: {exc.strerror}; "
                "choose another port (or 0 for any free port)"
            ) from None
        sock.listen(1024)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self.api.server_address = f"{self.host}:{self.port}"
        config_kwargs: dict[str, Any] = {}
        if self.tls:
            files = make_certificates(self._workdir / "pki", [self.host, "localhost", "127.0.0.1", "::1"])
            self._ca_pem = files.ca_pem
            self._ca_key_pem = files.ca_key_pem
            # client certificates signed by the cluster CA authenticate (CN user, O groups); optional
            config_kwargs = {"ssl_certfile": str(files.cert_path), "ssl_keyfile": str(files.key_path),
                             "ssl_ca_certs": str(files.ca_path), "ssl_cert_reqs": ssl.CERT_OPTIONAL}
        self.write_kubeconfig(self._kubeconfig_path)
        self._publish_self()
        from kubeproof.server.protocol import CoalescingHttpToolsProtocol  # imports uvicorn's protocols

        config = uvicorn.Config(
            self.api,
            lifespan="off",
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # nothing stands in front of it: no X-Forwarded-* to honour
            http=CoalescingHttpToolsProtocol,
            loop="asyncio",
            timeout_keep_alive=120,
            timeout_graceful_shutdown=2,
            backlog=1024,
            **config_kwargs,
        )
        ready = threading.Event()
        self._server = _Server(config, ready)
        failure: list[BaseException] = []

        def run() -> None:
            loop = new_server_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                if self.history_seconds:
                    self._compactor_task = loop.create_task(self._compactor(self.history_seconds))
                loop.call_soon(self.controllers.start)
                assert self._server is not None
                loop.run_until_complete(self._server.serve(sockets=[sock]))
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
            finally:
                close_loop(loop)

        self._thread = threading.Thread(target=run, name=f"kubeproof-{self.name}", daemon=True)
        self._thread.start()
        ready.wait(timeout=30)
        if failure:
            raise ClusterError(f"the embedded API server failed to start: {failure[0]}")
        if self.images:
            self.process_runtime.start()  # its thread belongs to the cluster, not to the first pod
        return self

    def _publish_self(self) -> None:
        """What kube-apiserver publishes once it serves: the ``kubernetes`` Service's endpoints, and
        the CA that goes into every namespace's ``kube-root-ca.crt``."""
        publish_kubernetes_service(self.registry, self.host, self.port)
        for controller in self.controllers.controllers:
            if isinstance(controller, ServiceAccountController) and self._ca_pem:
                controller.set_ca(self._ca_pem)

    async def _compactor(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(min(seconds, 30.0))
            self.store.compact_older_than(seconds)

    def stop(self) -> None:
        for hook in reversed(self._on_stop):
            hook()
        self._on_stop.clear()
        server, thread, loop = self._server, self._thread, self._loop
        if server is not None and thread is not None and loop is not None:
            server.request_exit(loop)
            for event in list(self.api.open_streams):
                loop.call_soon_threadsafe(event.set)
            thread.join(timeout=10)
        # After the controllers (the kubelet drives the runtime), before the workdir (pod directories) goes.
        self.process_runtime.shutdown()
        if self._socket is not None:
            self._socket.close()
        self._thread = self._server = self._loop = self._socket = None
        shutil.rmtree(self._workdir, ignore_errors=True)

    def on_stop(self, hook: Callable[[], None]) -> None:
        self._on_stop.append(hook)

    def call_in_loop(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the server's event loop (controllers and other loop-bound work)."""
        if self._loop is None:
            raise ClusterError("the cluster is not running; call start() first")
        self._loop.call_soon_threadsafe(fn)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise ClusterError("the cluster is not running; call start() first")
        return self._loop

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    async def __aenter__(self) -> Cluster:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await asyncio.to_thread(self.stop)

    # -- kubeconfig and clients ------------------------------------------------------------------

    def kubeconfig_dict(self) -> dict[str, Any]:
        cluster: dict[str, Any] = {"server": self.url}
        if self.tls:
            cluster["certificate-authority-data"] = base64.b64encode(self._ca_pem).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": self.name, "cluster": cluster}],
            "users": [{"name": f"{self.name}-admin", "user": {"token": self.token}}],
            "contexts": [{"name": self.name, "context": {"cluster": self.name, "user": f"{self.name}-admin",
                                                          "namespace": "default"}}],
            "current-context": self.name,
            "preferences": {},
        }

    def client_certificate(self, user: str, groups: Iterable[str] = ()) -> tuple[bytes, bytes]:
        """A client certificate (PEM cert, PEM key) signed by the cluster CA: it authenticates as ``user``
        (CN) in ``groups`` (O), as with kube-apiserver's ``--client-ca-file``. Needs ``tls=True``."""
        from kubeproof.server.auth.clientcerts import make_client_certificate

        if not self._ca_key_pem:
            raise ClusterError("client certificates need a started cluster with tls=True")
        return make_client_certificate(self._ca_pem, self._ca_key_pem, user, list(groups))

    def write_kubeconfig(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            yaml.safe_dump(self.kubeconfig_dict(), fh, sort_keys=False)
        return path

    def env(self) -> dict[str, str]:
        """Environment for kubectl/helm against this cluster, with caches private to it."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self._kubeconfig_path)
        env["KUBECACHEDIR"] = str(self._workdir / "kubecache")
        env["HELM_CACHE_HOME"] = str(self._workdir / "helm" / "cache")
        env["HELM_CONFIG_HOME"] = str(self._workdir / "helm" / "config")
        env["HELM_DATA_HOME"] = str(self._workdir / "helm" / "data")
        return env

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster; raises ``ClusterError`` with its output when it fails."""
        return self._run_tool("kubectl", args, input, check, timeout)

    def helm(self, *args: str, input: str | None = None, check: bool = True,
             timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return self._run_tool("helm", args, input, check, timeout)

    def _run_tool(self, tool: str, args: tuple[str, ...], input: str | None, check: bool,
                  timeout: float) -> subprocess.CompletedProcess[str]:
        binary = find_tool(tool)
        if binary is None:
            raise ClusterError(
                f"{tool} is not on PATH; run `bash scripts/setup.sh` (it installs {tool} into .venv/bin)"
            )
        proc = subprocess.run([binary, *args], input=input, capture_output=True, text=True, env=self.env(),
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise ClusterError(
                f"{tool} {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    def port_forward(self, target: Any, port: int | str, *, namespace: str = "default") -> tuple[str, int]:
        """The local ``(host, port)`` reaching ``port`` of a pod or Service (``"pod/x"``, ``"svc/x"`` or the
        object): the embedded ``kubectl port-forward``. Raises ``kubeproof.reach.Unreachable`` saying why
        when there is no address (no pod IP yet, no ready endpoint)."""
        return reach.resolve(reach.store_getter(self.store), target, port, namespace)

    def api_client(self) -> Any:
        """An official ``kubernetes`` client ``ApiClient`` configured for this cluster."""
        from kubernetes import client, config

        configuration = client.Configuration()
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(self._kubeconfig_path), client_configuration=configuration
        )
        return client.ApiClient(configuration)

    async def async_api_client(self) -> Any:
        """A ``kubernetes_asyncio`` ``ApiClient`` configured for this cluster (close it when done)."""
        from kubernetes_asyncio import client, config

        configuration = client.Configuration()
        await config.load_kube_config(config_file=str(self._kubeconfig_path), client_configuration=configuration)
        return client.ApiClient(configuration)
