"""A container runtime that runs containers as real local processes (the process-backed pods).

Why one asyncio loop on a thread of its own: every container needs several concurrent waits (its exit,
two output pipes, up to three probe schedules, a grace period racing a SIGTERM). On one loop these are
cheap tasks with timeouts and cancellation, where threads would need one or more OS threads each and
hand-rolled cancellation. The loop is not the API server's, so a slow probe or a blocking write of a log
file never delays a request, and the runtime keeps one thread alive for ``PR_SET_PDEATHSIG`` (the kernel
signals a child when the *thread* that forked it ends). Callbacks (``on_change``, ``on_event``) run on
the runtime's thread; the kubelet hops to its own loop.

Timing is real time, not the cluster's clock: the processes run in real time, so their probes do too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import logging
import os
import secrets
import shutil
import signal
import threading
import time
from collections.abc import AsyncGenerator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from kubeproof.loops import close_loop
from kubeproof.runtime import probes
from kubeproof.runtime.images import ImageMap
from kubeproof.runtime.logs import LogOptions, LogWriter, read_entries
from kubeproof.runtime.podenv import (
    ConfigError,
    Lookup,
    container_env,
    env_name,
    expand,
    materialise_volumes,
    mount_root,
    references,
)
from kubeproof.runtime.reaper import Watchdog, death_signal_preexec, kill_group

Obj = dict[str, Any]
T = TypeVar("T")
log = logging.getLogger("kubeproof.runtime")


class EventSink(Protocol):
    """What kubelet would record as an Event of the pod (``field_path`` e.g. ``spec.containers{web}``)."""

    def __call__(self, type_: str, reason: str, message: str, field_path: str = "") -> None: ...


#: Kubelet never gives a container less than this to stop after SIGTERM (``minimumGracePeriodInSeconds``).
MIN_KILL_GRACE = 2.0
#: Kubelet's crash-loop back-off: 10 s doubling up to 5 minutes.
DEFAULT_BACKOFF = 10.0
MAX_BACKOFF = 300.0


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LogError(Exception):
    """The log cannot be served (the apiserver answers 400 with this message)."""


@dataclass
class _Container:
    spec: Obj
    init: bool
    entrypoint: list[str] | None  # None: the image is not mapped; the container is simulated in place
    state: Obj = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: Obj = field(default_factory=dict)
    restart_count: int = 0
    ready: bool = False
    started: bool = False
    container_id: str = ""
    proc: asyncio.subprocess.Process | None = None
    instances: int = 0  # log files written so far: <logs>/<n>.log for n < instances
    instance_of: dict[str, int] = field(default_factory=dict)  # containerID -> its log's instance number
    live_instance: int = -1  # the instance whose log is still being written, or -1
    waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=set)
    probe_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = ""

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    def status(self) -> Obj:
        from kubeproof.controllers.kubelet import image_id, normalized_image  # (it imports this module)

        image = str(self.spec.get("image", ""))
        out: Obj = {"name": self.name, "image": normalized_image(image),
                    "imageID": image_id(image) if self.container_id else "",
                    "state": self.state, "lastState": self.last_state, "ready": self.ready,
                    "restartCount": self.restart_count}
        if self.container_id:
            out["containerID"] = self.container_id
        if not self.init or self.spec.get("restartPolicy") == "Always":
            out["started"] = self.started
        return out

    def wake(self) -> None:
        for loop, event in list(self.waiters):
            with contextlib.suppress(RuntimeError):  # that loop is closed: its follower is gone
                loop.call_soon_threadsafe(event.set)


@dataclass
class _Pod:
    uid: str
    namespace: str
    name: str
    pod: Obj
    ip: str
    dir: Path
    on_change: Callable[[], None]
    on_event: EventSink | None
    init: list[_Container]
    containers: list[_Container]
    stop: asyncio.Event
    volumes: dict[str, Path] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    stopping: bool = False
    init_failed: bool = False

    def all(self) -> list[_Container]:
        return self.init + self.containers

    def find(self, name: str) -> _Container | None:
        return next((c for c in self.all() if c.name == name), None)


@dataclass
class PodRuntimeStatus:
    """What the runtime knows of a pod: its phase by kubelet's rules and its container statuses."""

    phase: str
    init_container_statuses: list[Obj]
    container_statuses: list[Obj]


class ProcessRuntime:
    """Runs the containers of process-backed pods. Thread-safe; its work runs on its own loop thread."""

    def __init__(self, images: ImageMap, lookup: Lookup, root: Path, *,
                 restart_backoff: float = DEFAULT_BACKOFF, max_backoff: float = MAX_BACKOFF,
                 extra_env: dict[str, str] | None = None) -> None:
        self.images = images
        self.lookup = lookup
        self.root = root
        self.restart_backoff = restart_backoff
        self.max_backoff = max_backoff
        #: Added to every container's environment (e.g. how to reach the embedded API server).
        self.extra_env = dict(extra_env or {})
        #: When set (the cluster sets its ``KubeletSettings``), its ``restart_backoff`` and
        #: ``max_restart_backoff`` override the constructor's, read at each restart.
        self.settings: Any = None
        self.watchdog = Watchdog()
        self._pods: dict[str, _Pod] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- which pods ------------------------------------------------------------------------------

    def handles(self, pod: Obj) -> bool:
        """A pod is process-backed when at least one of its containers' images is mapped."""
        spec = pod.get("spec") or {}
        return any(self.images.lookup(str(c.get("image", ""))) is not None
                   for c in (spec.get("initContainers") or []) + (spec.get("containers") or []))

    def has_pod(self, uid: str) -> bool:
        return uid in self._pods

    # -- loop ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the runtime's thread now (else the first process-backed pod starts it)."""
        self._ensure_loop()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError("the process runtime is shut down")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()
                    close_loop(loop)  # the probe loops of stopped pods may still be pending

                self._thread = threading.Thread(target=run, name="kubeproof-process-runtime", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())

    # -- the seam the kubelet calls --------------------------------------------------------------

    def start_pod(self, pod: Obj, pod_ip: str, on_change: Callable[[], None],
                  on_event: EventSink | None = None) -> None:
        """Start the pod's containers (init containers first, in order); ``on_change`` fires on every
        container state, readiness or restart change."""
        meta = pod.get("metadata") or {}
        uid = str(meta.get("uid", ""))
        if uid in self._pods or self._closed:  # closed: the cluster is stopping
            return
        spec = pod.get("spec") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        pod_dir = self.root / f"{ns}_{name}_{uid}"

        def build(containers: list[Obj], init: bool) -> list[_Container]:
            return [_Container(spec=c, init=init, entrypoint=self.images.lookup(str(c.get("image", ""))))
                    for c in containers]

        loop = self._ensure_loop()
        record = _Pod(uid=uid, namespace=ns, name=name, pod=pod, ip=pod_ip, dir=pod_dir, on_change=on_change,
                      on_event=on_event, init=build(spec.get("initContainers") or [], True),
                      containers=build(spec.get("containers") or [], False), stop=asyncio.Event())
        if record.init:
            for c in record.containers:
                c.state = {"waiting": {"reason": "PodInitializing"}}
        with self._lock:
            self._pods[uid] = record

        def begin() -> None:
            record.task = loop.create_task(self._run_pod(record), name=f"pod {ns}/{name}")
            record.task.add_done_callback(_log_failure)

        loop.call_soon_threadsafe(begin)

    def status(self, uid: str) -> PodRuntimeStatus | None:
        pod = self._pods.get(uid)
        if pod is None:
            return None
        return PodRuntimeStatus(self._phase(pod), [c.status() for c in pod.init],
                                [c.status() for c in pod.containers])

    def pids(self, uid: str) -> dict[str, int]:
        """Container name -> PID of its running process (tests check processes are really gone)."""
        pod = self._pods.get(uid)
        if pod is None:
            return {}
        return {c.name: c.proc.pid for c in pod.all() if c.proc is not None and c.proc.returncode is None}

    def stop_pod(self, uid: str, grace_seconds: float) -> concurrent.futures.Future[None]:
        """Stop every container: preStop hook, SIGTERM to its process group, SIGKILL when the grace period
        (at least 2 s, as kubelet) ends. The future resolves once all of them have exited."""
        if uid not in self._pods or self._loop is None or self._closed:
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return done
        return self._submit(self._stop_pod(self._pods[uid], grace_seconds))

    def remove_pod(self, uid: str) -> None:
        """Forget a stopped pod and remove its directory (volumes, logs)."""
        with self._lock:
            pod = self._pods.pop(uid, None)
        if pod is None:
            return
        if pod.task is not None and not pod.task.done() and self._loop is not None:
            self._submit(self._stop_pod(pod, 0)).result(timeout=30)
        shutil.rmtree(pod.dir, ignore_errors=True)

    def on_store_event(self, resource: str, namespace: str, name: str) -> None:
        """A ConfigMap or Secret changed: refresh the volumes that project it (kubelet's sync)."""
        kind = {"configmaps": "ConfigMap", "secrets": "Secret"}.get(resource)
        if kind is None or self._loop is None:
            return
        for pod in list(self._pods.values()):
            if pod.namespace == namespace and not pod.stopping and references(pod.pod, kind, name):
                self._loop.call_soon_threadsafe(self._refresh_volumes, pod)

    def shutdown(self) -> None:
        """Stop everything now (SIGTERM, then SIGKILL after half a second) and end the loop thread."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:
            async def stop_all() -> None:
                await asyncio.gather(*(self._stop_pod(p, 0.5, hooks=False) for p in list(self._pods.values())),
                                     return_exceptions=True)

            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(stop_all(), loop).result(timeout=15)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
        self.watchdog.close()
        for pod in list(self._pods.values()):
            shutil.rmtree(pod.dir, ignore_errors=True)
        self._pods.clear()

    # -- pod lifecycle ---------------------------------------------------------------------------

    def _changed(self, pod: _Pod) -> None:
        try:
            pod.on_change()
        except Exception:  # a broken callback must not stop the containers
            log.exception("on_change failed for pod %s/%s", pod.namespace, pod.name)

    def _event(self, pod: _Pod, type_: str, reason: str, message: str, c: _Container | None = None) -> None:
        if pod.on_event is None:
            return
        with contextlib.suppress(Exception):
            if c is None:
                pod.on_event(type_, reason, message)
            else:
                kind = "initContainers" if c.init else "containers"
                pod.on_event(type_, reason, message, f"spec.{kind}{{{c.name}}}")

    def _refresh_volumes(self, pod: _Pod) -> None:
        pod.dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(ConfigError, OSError):
            pod.volumes = materialise_volumes(pod.pod, pod.ip, pod.dir, self.root / "_shared", self.lookup)

    async def _run_pod(self, pod: _Pod) -> None:
        pod.dir.mkdir(parents=True, exist_ok=True)
        policy = (pod.pod.get("spec") or {}).get("restartPolicy", "Always")
        sidecars: list[asyncio.Task[None]] = []
        for c in pod.init:
            if c.spec.get("restartPolicy") == "Always":  # a sidecar: runs beside the others once started
                sidecars.append(asyncio.create_task(self._run_container(pod, c, "Always")))
                while not c.started and not pod.stopping:
                    await self._wait_stop(pod, 0.05)
                continue
            await self._run_container(pod, c, "Never" if policy == "Never" else "OnFailure")
            if pod.stopping:
                return
            if int((c.state.get("terminated") or {}).get("exitCode", 1)) != 0:
                pod.init_failed = True
                for other in pod.containers:
                    other.state = {"waiting": {"reason": "PodInitializing"}}
                self._changed(pod)
                return
        await asyncio.gather(*(self._run_container(pod, c, policy) for c in pod.containers), *sidecars)

    async def _wait_stop(self, pod: _Pod, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pod.stop.wait(), seconds)

    def _prepare(self, pod: _Pod, c: _Container) -> tuple[list[str], dict[str, str], str]:
        """argv, environment and working directory for the next start of ``c`` (ConfigError: not yet)."""
        pod.volumes = materialise_volumes(pod.pod, pod.ip, pod.dir, self.root / "_shared", self.lookup)
        root = pod.dir / "rootfs" / c.name
        mount_root(c.spec, root, pod.volumes)
        declared = container_env(pod.pod, c.spec, pod.ip, self.lookup)
        env = dict(os.environ)
        env.update(self.extra_env)
        env.update({"HOSTNAME": pod.name, "POD_NAME": pod.name, "POD_NAMESPACE": pod.namespace, "POD_IP": pod.ip,
                    "KUBEPROOF_POD_DIR": str(pod.dir), "KUBEPROOF_MOUNT_ROOT": str(root)})
        for vol, path in pod.volumes.items():
            env[env_name(vol)] = str(path)
        env.update(declared)
        # Kubernetes' rules: command replaces the image's entrypoint (the mapped command, whose own
        # arguments go with it); args replace the image's arguments (a mapping has none of its own).
        assert c.entrypoint is not None
        command = [expand(str(a), declared) for a in c.spec.get("command") or []]
        args = [expand(str(a), declared) for a in c.spec.get("args") or []]
        argv = (command or c.entrypoint) + args
        cwd = pod.dir
        if c.spec.get("workingDir"):
            cwd = root / str(c.spec["workingDir"]).lstrip("/")
            cwd.mkdir(parents=True, exist_ok=True)
        return argv, env, str(cwd)

    async def _spawn(self, argv: list[str], env: dict[str, str], cwd: str) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=cwd, env=env, start_new_session=True,
            preexec_fn=death_signal_preexec(),
        )
        self.watchdog.register(proc.pid)  # its own session: the process group id is its pid
        return proc

    async def _run_container(self, pod: _Pod, c: _Container, policy: str) -> None:
        while not pod.stopping:
            if c.entrypoint is None:
                await self._run_placeholder(pod, c)
                return
            try:
                argv, env, cwd = self._prepare(pod, c)
            except ConfigError as exc:
                c.state = {"waiting": {"reason": "CreateContainerConfigError", "message": str(exc)}}
                self._changed(pod)
                await self._wait_stop(pod, 1.0)
                continue
            except OSError as exc:  # a volume or working directory that cannot be laid out
                c.state = {"waiting": {"reason": "CreateContainerError", "message": str(exc)}}
                self._changed(pod)
                await self._wait_stop(pod, 1.0)
                continue
            c.env, c.cwd = env, cwd
            exit_code, reason, message, started_at = await self._run_once(pod, c, argv, env, cwd)
            terminated: Obj = {"exitCode": exit_code, "reason": reason, "startedAt": started_at,
                               "finishedAt": _now(), "containerID": c.container_id}
            if message:
                terminated["message"] = message
            c.state, c.ready, c.started = {"terminated": terminated}, False, False
            self._changed(pod)
            if pod.stopping or policy == "Never" or (policy == "OnFailure" and exit_code == 0):
                return
            # Kubelet restarts at once the first time, then backs off 10 s, 20 s, ... up to 5 minutes.
            first, most = self.restart_backoff, self.max_backoff
            if self.settings is not None:
                first, most = self.settings.restart_backoff, self.settings.max_restart_backoff
            delay = 0.0 if c.restart_count == 0 else min(first * 2 ** (c.restart_count - 1), most)
            if delay > 0:
                c.last_state = c.state
                c.state = {"waiting": {"reason": "CrashLoopBackOff", "message": (
                    f"back-off {_duration(delay)} restarting failed container={c.name} "
                    f"pod={pod.name}_{pod.namespace}({pod.uid})")}}
                self._changed(pod)
                self._event(pod, "Warning", "BackOff", "Back-off restarting failed container "
                            f"{c.name} in pod {pod.name}_{pod.namespace}({pod.uid})", c)
                await self._wait_stop(pod, delay)
                if pod.stopping:
                    c.state = c.last_state
                    self._changed(pod)
                    return
            c.last_state = {"terminated": terminated}
            c.restart_count += 1

    async def _run_placeholder(self, pod: _Pod, c: _Container) -> None:
        """An unmapped image in a process-backed pod: Running and Ready, with no process, until stopped.
        Its log exists and stays empty."""
        c.container_id = f"containerd://{secrets.token_hex(32)}"
        instance = c.instances
        c.instances += 1
        c.instance_of[c.container_id] = instance
        LogWriter(self._log_path(pod, c, instance), c.wake).close()
        c.live_instance = instance  # followers wait for its end, as for a running process
        started_at = _now()
        c.state, c.started, c.ready = {"running": {"startedAt": started_at}}, True, True
        self._changed(pod)
        if c.init and c.spec.get("restartPolicy") != "Always":
            c.state, c.ready = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started_at,
                                               "finishedAt": _now(), "containerID": c.container_id}}, False
            c.live_instance = -1
            self._changed(pod)
            return
        await pod.stop.wait()
        c.state, c.ready, c.started = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started_at,
                                                      "finishedAt": _now(),
                                                      "containerID": c.container_id}}, False, False
        c.live_instance = -1
        c.wake()
        self._changed(pod)

    async def _run_once(self, pod: _Pod, c: _Container, argv: list[str], env: dict[str, str],
                        cwd: str) -> tuple[int, str, str, str]:
        """Start the process, capture its output, probe it, wait for its end; (exitCode, reason, message,
        startedAt)."""
        if c.instances == 0:
            self._event(pod, "Normal", "Pulled", f'Container image "{c.spec.get("image", "")}" already present '
                        "on machine", c)
        instance = c.instances
        c.instances += 1
        c.live_instance = instance
        writer = LogWriter(self._log_path(pod, c, instance), c.wake)
        c.container_id = f"containerd://{secrets.token_hex(32)}"
        c.instance_of[c.container_id] = instance
        started_at = _now()
        try:
            proc = await self._spawn(argv, env, cwd)
        except OSError as exc:
            writer.close()
            c.live_instance = -1
            c.wake()
            what = "executable file not found in $PATH" if isinstance(exc, FileNotFoundError) else exc.strerror
            message = (f"failed to create containerd task: failed to create shim task: OCI runtime create "
                       f'failed: runc create failed: unable to start container process: exec: "{argv[0]}": {what}')
            self._event(pod, "Warning", "Failed", f"Error: {message}", c)
            return 128, "StartError", message, started_at
        c.proc = proc
        c.state = {"running": {"startedAt": started_at}}
        self._event(pod, "Normal", "Created", f"Created container: {c.name}", c)
        self._event(pod, "Normal", "Started", f"Started container {c.name}", c)
        readers = [asyncio.create_task(self._pump(proc.stdout, writer, "stdout")),
                   asyncio.create_task(self._pump(proc.stderr, writer, "stderr"))]
        self._start_probes(pod, c)
        self._changed(pod)
        rc = await proc.wait()
        for task in c.probe_tasks:
            task.cancel()
        c.probe_tasks = []
        # Like a container's PID 1: when the main process ends, everything it started goes with it.
        kill_group(proc.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*readers, return_exceptions=True), 2.0)
        for task in readers:
            task.cancel()
        self.watchdog.unregister(proc.pid)
        writer.close()
        c.live_instance = -1
        c.wake()
        exit_code = rc if rc >= 0 else 128 - rc
        return exit_code, "Completed" if exit_code == 0 else "Error", "", started_at

    @staticmethod
    async def _pump(stream: asyncio.StreamReader | None, writer: LogWriter, name: str) -> None:
        if stream is None:
            return
        while True:
            data = await stream.read(65536)
            if not data:
                writer.flush_partial(name)
                return
            writer.feed(name, data)

    def _log_path(self, pod: _Pod, c: _Container, instance: int) -> Path:
        return pod.dir / "logs" / c.name / f"{instance}.log"

    # -- probes ----------------------------------------------------------------------------------

    def _start_probes(self, pod: _Pod, c: _Container) -> None:
        spec = c.spec
        if c.init and spec.get("restartPolicy") != "Always":
            return  # init containers are not probed
        readiness, liveness, startup = spec.get("readinessProbe"), spec.get("livenessProbe"), spec.get("startupProbe")

        def after_start() -> None:
            c.started = True
            if readiness:
                c.probe_tasks.append(asyncio.create_task(self._probe_loop(pod, c, "Readiness", readiness)))
            else:
                c.ready = True
            if liveness:
                c.probe_tasks.append(asyncio.create_task(self._probe_loop(pod, c, "Liveness", liveness)))

        if startup:
            c.probe_tasks.append(asyncio.create_task(self._probe_loop(pod, c, "Startup", startup, after_start)))
        else:
            after_start()

    async def _exec_in(self, c: _Container, command: list[str], timeout: float) -> tuple[int, bytes]:
        """Run ``command`` in the container's context (its env and working directory), killed on timeout."""
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, cwd=c.cwd or None, env=c.env or None, start_new_session=True,
            preexec_fn=death_signal_preexec(),
        )
        self.watchdog.register(proc.pid)
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), timeout)
            return int(proc.returncode or 0), output
        finally:
            kill_group(proc.pid, signal.SIGKILL)
            if proc.returncode is None:
                await proc.wait()
            self.watchdog.unregister(proc.pid)

    async def _probe_loop(self, pod: _Pod, c: _Container, kind: str, probe: Obj,
                          on_success: Callable[[], None] | None = None) -> None:
        period = float(probe.get("periodSeconds") or 10)
        success_threshold = int(probe.get("successThreshold") or 1)
        failure_threshold = int(probe.get("failureThreshold") or 3)
        await asyncio.sleep(float(probe.get("initialDelaySeconds") or 0))

        async def run(command: list[str], timeout: float) -> tuple[int, bytes]:
            return await self._exec_in(c, command, timeout)

        successes = failures = 0
        while True:
            ok, message = await probes.check(probe, c.spec, pod.ip, run)
            successes, failures = (successes + 1, 0) if ok else (0, failures + 1)
            if not ok:
                self._event(pod, "Warning", "Unhealthy", f"{kind} probe failed: {message}", c)
            if kind == "Readiness":
                if ok and successes >= success_threshold and not c.ready:
                    c.ready = True
                    self._changed(pod)
                elif not ok and failures >= failure_threshold and c.ready:
                    c.ready = False
                    self._changed(pod)
            elif kind == "Startup" and ok:
                assert on_success is not None
                on_success()
                self._changed(pod)
                return
            elif not ok and failures >= failure_threshold:  # liveness or startup gave up: restart
                self._event(pod, "Normal", "Killing",
                            f"Container {c.name} failed {kind.lower()} probe, will be restarted", c)
                grace = probe.get("terminationGracePeriodSeconds")
                if grace is None:
                    grace = (pod.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
                c.ready = False
                self._changed(pod)
                # The kill runs on its own: it ends the process, whose exit cancels this loop.
                asyncio.get_running_loop().create_task(self._kill(pod, c, float(grace), hooks=True))
                return
            await asyncio.sleep(period)

    # -- stopping --------------------------------------------------------------------------------

    async def _kill(self, pod: _Pod, c: _Container, grace: float, hooks: bool) -> None:
        proc = c.proc
        if proc is None or proc.returncode is not None:
            return
        started = time.monotonic()
        # Kubelet runs the hook only when there is time for it (a force deletion has none).
        pre_stop = ((c.spec.get("lifecycle") or {}).get("preStop")) if hooks and grace > 0 else None
        if pre_stop:
            async def run(command: list[str], timeout: float) -> tuple[int, bytes]:
                return await self._exec_in(c, command, timeout)

            try:
                failure = await asyncio.wait_for(probes.run_handler(pre_stop, c.spec, pod.ip, run, grace),
                                                 max(grace, 0.001))
            except TimeoutError:
                failure = f"PreStopHook timed out after {grace:g}s"
            if failure:
                self._event(pod, "Warning", "FailedPreStopHook", f"PreStopHook failed: {failure}", c)
        remaining = grace - (time.monotonic() - started)
        if hooks:
            remaining = max(remaining, MIN_KILL_GRACE)
        if proc.returncode is None:
            kill_group(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), max(remaining, 0.001))
            except TimeoutError:
                kill_group(proc.pid, signal.SIGKILL)
                await proc.wait()

    async def _stop_pod(self, pod: _Pod, grace: float, hooks: bool = True) -> None:
        if not pod.stopping:
            pod.stopping = True
            pod.stop.set()
            for c in pod.all():
                if c.proc is not None and c.proc.returncode is None:
                    self._event(pod, "Normal", "Killing", f"Stopping container {c.name}", c)
        await asyncio.gather(*(self._kill(pod, c, grace, hooks) for c in pod.all()), return_exceptions=True)
        if pod.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pod.task
        for c in pod.all():
            if "running" in c.state or "waiting" in c.state:
                # Never started (or a back-off was cut short): report it as ended, as kubelet does.
                if "waiting" in c.state and c.last_state:
                    c.state = c.last_state
                elif "waiting" in c.state:
                    c.state = {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                                              "message": "The container could not be located when the pod "
                                                         "was terminated", "startedAt": None, "finishedAt": None}}
                c.ready = False
        self._changed(pod)

    # -- phase -----------------------------------------------------------------------------------

    def _phase(self, pod: _Pod) -> str:
        """Kubelet's ``getPhase``: the same function the simulated runtime's pods go through."""
        from kubeproof.controllers.kubelet import pod_phase

        policy = str((pod.pod.get("spec") or {}).get("restartPolicy", "Always"))
        return pod_phase(policy, [c.status() for c in pod.init], [c.status() for c in pod.containers],
                         stopping=pod.stopping, init_failed=pod.init_failed)

    # -- logs ------------------------------------------------------------------------------------

    def _log_target(self, uid: str, container: str, previous: bool) -> tuple[_Container, int]:
        """Kubelet's ``validateContainerLogStatus``: which instance's log, or its error message."""
        pod = self._pods.get(uid)
        c = pod.find(container) if pod is not None else None
        if pod is None or c is None:
            raise LogError(f'container "{container}" in pod "" is not available')
        last = c.last_state.get("terminated") or {}
        terminated = c.state.get("terminated") or {}
        if previous:
            if not last.get("containerID"):
                raise LogError(f'previous terminated container "{c.name}" in pod "{pod.name}" not found')
            cid = last["containerID"]
        elif "running" in c.state or terminated.get("containerID"):
            cid = c.container_id
        elif last.get("containerID"):
            cid = last["containerID"]
        elif terminated:
            raise LogError(f'container "{c.name}" in pod "{pod.name}" is terminated')
        else:
            reason = (c.state.get("waiting") or {}).get("reason", "ContainerCreating")
            raise LogError(f'container "{c.name}" in pod "{pod.name}" is waiting to start: {reason}')
        return c, c.instance_of[cid]

    def read_log(self, uid: str, container: str, options: LogOptions, previous: bool = False) -> bytes:
        """The log of the container's current (or previous) instance, filtered by ``options``."""
        c, instance = self._log_target(uid, container, previous)
        pod = self._pods[uid]
        entries, _ = read_entries(self._log_path(pod, c, instance), options)
        return _limit(b"".join(entries), options.limit_bytes)

    def follow_log(self, uid: str, container: str, options: LogOptions, previous: bool,
                   gone: asyncio.Event) -> AsyncGenerator[bytes, None]:
        """The log as it grows, until that container instance ends or ``gone`` is set (iterate on any
        loop). Raises ``LogError`` at once when there is no such log."""
        c, instance = self._log_target(uid, container, previous)
        path = self._log_path(self._pods[uid], c, instance)
        # Where the stream starts is fixed now, before the response's headers go out: a line written
        # after the client has them is in the stream (read lazily, ``tailLines=0`` could skip it).
        entries, offset = read_entries(path, options, 0)
        return self._follow(c, instance, path, options, gone, entries, offset)

    async def _follow(self, c: _Container, instance: int, path: Path, options: LogOptions, gone: asyncio.Event,
                      entries: list[bytes], offset: int) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        waiter = (loop, wake)
        c.waiters.add(waiter)
        budget = options.limit_bytes
        later = LogOptions(timestamps=options.timestamps, since=options.since)
        try:
            while True:
                for chunk in entries:
                    if budget is not None:
                        chunk = chunk[:budget]
                        budget -= len(chunk)
                    if chunk:
                        yield chunk
                    if budget is not None and budget <= 0:
                        return
                if gone.is_set():
                    return
                wake.clear()
                live = c.live_instance == instance
                entries, offset = read_entries(path, later, offset)
                if entries:
                    continue
                if not live:
                    return
                gone_task = asyncio.ensure_future(gone.wait())
                wake_task = asyncio.ensure_future(wake.wait())
                try:
                    await asyncio.wait({gone_task, wake_task}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    gone_task.cancel()
                    wake_task.cancel()
        finally:
            c.waiters.discard(waiter)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("pod task %s failed", task.get_name(), exc_info=task.exception())


def _limit(data: bytes, limit: int | None) -> bytes:
    return data if limit is None else data[:limit]


def _duration(seconds: float) -> str:
    """Go's ``time.Duration.String`` for whole seconds and minutes (``10s``, ``2m40s``, ``5m0s``)."""
    total = int(seconds)
    minutes, secs = divmod(total, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
