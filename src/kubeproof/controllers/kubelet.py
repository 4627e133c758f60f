"""The simulated kubelet: runs the pods bound to the cluster's nodes and reports their status.

What it does, after kubelet's ``syncPod``/``syncTerminatingPod`` and the status manager:

- a pod bound to one of the cluster's nodes gets a loopback pod IP (``127.x.y.z``, never ``127.0.0.1``,
  distinct among live pods; a recreated pod gets a new one unless it asks for reuse), ``hostIP``
  ``127.0.0.1``, ``startTime``; its containers go through a **container runtime** (below) and the kubelet
  writes ``status`` from what the runtime reports: phase, the five conditions with kubelet's reasons,
  ``initContainerStatuses``/``containerStatuses``;
- a pod being deleted gracefully (``deletionTimestamp`` set, ``deletionGracePeriodSeconds`` > 0) is stopped
  through the runtime (preStop hook, then SIGTERM, then SIGKILL once the grace period ends), reported with
  its containers terminated and its terminal phase, and then deleted with ``gracePeriodSeconds=0`` and a
  uid precondition, exactly as kubelet's status manager does;
- a pod removed from the API (force deletion) is killed at once.

The runtime seam
----------------
Container execution goes through a ``ContainerRuntime`` (the protocol below). ``KubeletController``
asks ``runtime_for(pod)``: the first runtime added with ``add_runtime`` whose ``handles(pod)`` is true
(the cluster adds its ``ProcessRuntime`` for images mapped to local commands), else the built-in
``SimulatedRuntime``, which moves containers through their states on the cluster clock.

Timing (simulated containers) comes from ``KubeletSettings`` (``cluster.kubelet``) and per pod from
``kubeproof.dev/...`` annotations; see docs/cluster-behaviour.md, "The simulated kubelet".
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubeproof.clock import Clock, Timer
from kubeproof.controllers.base import Controller
from kubeproof.controllers.events import NORMAL, WARNING, record_event
from kubeproof.runtime.process import PodRuntimeStatus
from kubeproof.server import errors
from kubeproof.server.options import DeleteOptions
from kubeproof.server.registry.generic import Registry, deep_copy, now_rfc3339
from kubeproof.server.store import Event

log = logging.getLogger("kubeproof.controllers.kubelet")

Obj = dict[str, Any]

#: The address every simulated node reports (its pods' ``hostIP``).
NODE_IP = "127.0.0.1"
#: The kubelet version nodes report (``kubectl get nodes`` VERSION).
KUBELET_VERSION = "v1.37.0"

ANNOTATION_PREFIX = "kubeproof.dev/"
#: Per-pod annotations (values in seconds unless said otherwise); see ``KubeletSettings`` for defaults.
STARTUP_DELAY = ANNOTATION_PREFIX + "startup-delay"
READINESS_DELAY = ANNOTATION_PREFIX + "readiness-delay"
TERMINATION_DELAY = ANNOTATION_PREFIX + "termination-delay"
PRESTOP_DELAY = ANNOTATION_PREFIX + "prestop-delay"
RUN_SECONDS = ANNOTATION_PREFIX + "run-seconds"
EXIT_CODE = ANNOTATION_PREFIX + "exit-code"  # an integer
READY = ANNOTATION_PREFIX + "ready"  # "false": containers never turn ready (readiness probe failing)
REUSE_IP = ANNOTATION_PREFIX + "reuse-ip"  # "true": take the IP of the previous pod of this namespace/name


class EventSink(Protocol):
    """What the kubelet records as an Event of the pod (``field_path`` e.g. ``spec.containers{web}``)."""

    def __call__(self, type_: str, reason: str, message: str, field_path: str = "") -> None: ...


class ContainerRuntime(Protocol):
    """How the kubelet runs a pod's containers. Implementations: ``SimulatedRuntime`` (here) and
    ``kubeproof.runtime.ProcessRuntime`` (real local processes for mapped images).

    Every method is called on the API server's loop and must not block it. Callbacks may be called from
    any thread; the kubelet hops to its own loop.
    """

    def handles(self, pod: Obj) -> bool:
        """Whether this runtime runs ``pod`` (the simulated runtime runs everything)."""
        ...

    def start_pod(self, pod: Obj, pod_ip: str, on_change: Callable[[], None],
                  on_event: EventSink | None = None) -> None:
        """Start the pod's containers: init containers first, in order, then the others, honouring
        ``restartPolicy``. Call ``on_change()`` on every state, readiness or restart-count change, and
        ``on_event(type, reason, message)`` for what kubelet records (Pulled, Created, Started, Killing...)."""
        ...

    def status(self, uid: str) -> PodRuntimeStatus | None:
        """The pod's phase by kubelet's ``getPhase`` and its container statuses (v1 ``ContainerStatus``
        dicts: name, state running/waiting/terminated with exitCode, lastState, ready, restartCount,
        image, imageID, containerID, started); None for a pod it does not know."""
        ...

    def stop_pod(self, uid: str, grace_seconds: float) -> concurrent.futures.Future[None]:
        """Stop every container: preStop hook, SIGTERM, SIGKILL once ``grace_seconds`` have passed. The
        future resolves once all have stopped (its status then shows them terminated)."""
        ...

    def remove_pod(self, uid: str) -> None:
        """Forget a stopped pod and free what it held (directories, logs)."""
        ...


@dataclass
class KubeletSettings:
    """Cluster-wide timing of simulated containers (``cluster.kubelet``), in seconds of cluster time.
    Per-pod annotations override each (``kubeproof.dev/startup-delay`` etc.)."""

    #: From the pod's binding to its containers running (image pull and container creation).
    startup_delay: float = 0.0
    #: From a container running to it being ready, added to its readiness probe's ``initialDelaySeconds``.
    readiness_delay: float = 0.0
    #: How long a container takes to exit after SIGTERM; capped by the pod's grace period (then SIGKILL).
    termination_delay: float = 0.0
    #: How long a ``preStop`` hook runs (only for containers that declare one).
    prestop_delay: float = 0.0
    #: How long the containers of a pod with ``restartPolicy`` Never or OnFailure run before they exit
    #: (a Job's work). ``restartPolicy: Always`` containers run until stopped unless the pod sets
    #: ``kubeproof.dev/run-seconds``.
    run_time: float = 1.0
    #: How long an init container runs before it completes.
    init_run_time: float = 0.0
    #: The exit code of containers that finish by themselves (``kubeproof.dev/exit-code`` per pod).
    exit_code: int = 0
    #: First crash-loop back-off (doubling up to ``max_restart_backoff``); the first restart is immediate.
    restart_backoff: float = 10.0
    max_restart_backoff: float = 300.0
    #: A recreated pod (same namespace and name) gets the IP its predecessor had, when free (per pod:
    #: ``kubeproof.dev/reuse-ip: "true"``).
    reuse_ips: bool = False


def pod_annotation_seconds(pod: Obj, name: str, default: float) -> float:
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(name)
    if value is None:
        return default
    try:
        return max(0.0, float(str(value).strip().removesuffix("s")))
    except ValueError:
        return default


def _annotation(pod: Obj, name: str) -> str | None:
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(name)
    return None if value is None else str(value)


# -- the simulated runtime -------------------------------------------------------------------------


def normalized_image(image: str) -> str:
    """The reference containerd reports: ``nginx`` -> ``docker.io/library/nginx:latest``."""
    name, digest = image, ""
    if "@" in name:
        name, digest = name.split("@", 1)
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not digest:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif not ("." in first or ":" in first or first == "localhost"):
        name = "docker.io/" + name
    return name + (f"@{digest}" if digest else "")


def image_id(image: str) -> str:
    repo = normalized_image(image).split("@", 1)[0]
    tagless = repo.rsplit(":", 1)[0] if ":" in repo.rsplit("/", 1)[-1] else repo
    return f"{tagless}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


@dataclass
class _SimContainer:
    spec: Obj
    init: bool
    state: Obj
    last_state: Obj = field(default_factory=dict)
    restart_count: int = 0
    ready: bool = False
    started: bool = False
    container_id: str = ""
    crashes: int = 0

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def sidecar(self) -> bool:
        return self.init and self.spec.get("restartPolicy") == "Always"

    def status(self) -> Obj:
        image = str(self.spec.get("image", ""))
        out: Obj = {"name": self.name, "state": self.state, "lastState": self.last_state, "ready": self.ready,
                    "restartCount": self.restart_count, "image": normalized_image(image),
                    "imageID": image_id(image) if self.container_id else ""}
        if self.container_id:
            out["containerID"] = self.container_id
        if not self.init or self.sidecar:
            out["started"] = self.started
        return out


@dataclass
class _SimPod:
    uid: str
    pod: Obj
    ip: str
    on_change: Callable[[], None]
    on_event: EventSink | None
    init: list[_SimContainer]
    containers: list[_SimContainer]
    timers: list[Timer] = field(default_factory=list)
    stopping: bool = False
    init_failed: bool = False
    stopped: concurrent.futures.Future[None] | None = None

    def all(self) -> list[_SimContainer]:
        return self.init + self.containers


def pod_phase(restart_policy: str, init: list[Obj], containers: list[Obj], *, stopping: bool = False,
              init_failed: bool = False) -> str:
    """Kubelet's ``getPhase`` over v1 container statuses; ``stopping``: the pod is being deleted, so
    once nothing runs it is terminal (kubelet moves deleted pods to Succeeded/Failed since 1.27)."""
    if init_failed:
        return "Failed"
    for c in init:
        if c.get("started") is not None:  # a sidecar (restartable init container)
            continue
        terminated = (c.get("state") or {}).get("terminated")
        if terminated is None or terminated.get("exitCode") != 0:
            return "Failed" if stopping else "Pending"
    running = waiting = succeeded = failed = 0
    for c in containers:
        state = c.get("state") or {}
        if "running" in state:
            running += 1
        elif "terminated" in state:
            if state["terminated"].get("exitCode") == 0:
                succeeded += 1
            else:
                failed += 1
        elif (c.get("lastState") or {}).get("terminated") is not None:
            running += 1  # restarting after a crash still counts as running
        else:
            waiting += 1
    if stopping and running == 0:
        return "Succeeded" if waiting == 0 and failed == 0 and succeeded > 0 else "Failed"
    if waiting > 0:
        return "Pending"
    if running > 0:
        return "Running"
    if restart_policy == "Always":
        return "Running"
    if failed > 0:
        return "Failed" if restart_policy == "Never" else "Running"
    return "Succeeded"


class SimulatedRuntime:
    """Containers that exist only as states, moved along on the cluster clock (so a ``ManualClock``
    steers them). Thread-safe: clock timers may fire on a test's thread (``ManualClock.advance``)."""

    def __init__(self, clock: Clock, settings: KubeletSettings) -> None:
        self.clock = clock
        self.settings = settings
        #: The loop wall-clock timers run on (the API server's; set by the kubelet when it starts).
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pods: dict[str, _SimPod] = {}
        self._lock = threading.RLock()

    def handles(self, pod: Obj) -> bool:
        return True

    # -- helpers ---------------------------------------------------------------------------------

    def _now(self) -> str:
        return now_rfc3339(self.clock.now())

    def _after(self, pod: _SimPod, delay: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` (under the lock, then tell the kubelet) after ``delay`` seconds of cluster time."""

        def fire() -> None:
            with self._lock:
                if self._pods.get(pod.uid) is not pod:
                    return
                fn()
            self._changed(pod)

        if delay <= 0:
            with self._lock:
                fn()
            return
        pod.timers.append(self.clock.call_later(delay, fire, loop=self.loop))

    def _changed(self, pod: _SimPod) -> None:
        try:
            pod.on_change()
        except Exception:
            log.exception("on_change failed for pod %s", pod.uid)

    def _event(self, pod: _SimPod, type_: str, reason: str, message: str, c: _SimContainer) -> None:
        if pod.on_event is None:
            return
        kind = "initContainers" if c.init else "containers"
        try:
            pod.on_event(type_, reason, message, f"spec.{kind}{{{c.name}}}")
        except Exception:
            log.exception("recording %s for pod %s failed", reason, pod.uid)

    def _seconds(self, pod: _SimPod, annotation: str, default: float) -> float:
        return pod_annotation_seconds(pod.pod, annotation, default)

    def _exit_code(self, pod: _SimPod) -> int:
        value = _annotation(pod.pod, EXIT_CODE)
        try:
            return int(value) if value is not None else self.settings.exit_code
        except ValueError:
            return self.settings.exit_code

    def _run_seconds(self, pod: _SimPod) -> float | None:
        policy = (pod.pod.get("spec") or {}).get("restartPolicy", "Always")
        default = None if policy == "Always" else self.settings.run_time
        if _annotation(pod.pod, RUN_SECONDS) is None:
            return default
        return self._seconds(pod, RUN_SECONDS, default or 0.0)

    # -- the runtime seam ------------------------------------------------------------------------

    def start_pod(self, pod: Obj, pod_ip: str, on_change: Callable[[], None],
                  on_event: EventSink | None = None) -> None:
        meta = pod.get("metadata") or {}
        uid = str(meta.get("uid", ""))
        spec = pod.get("spec") or {}
        with self._lock:
            if uid in self._pods:
                return
            init = [_SimContainer(c, True, {"waiting": {"reason": "PodInitializing"}})
                    for c in spec.get("initContainers") or []]
            waiting = "PodInitializing" if init else "ContainerCreating"
            containers = [_SimContainer(c, False, {"waiting": {"reason": waiting}})
                          for c in spec.get("containers") or []]
            sim = _SimPod(uid, pod, pod_ip, on_change, on_event, init, containers)
            self._pods[uid] = sim
            startup = self._seconds(sim, STARTUP_DELAY, self.settings.startup_delay)
            self._after(sim, startup, lambda: self._next_init(sim, 0))

    def _start_container(self, pod: _SimPod, c: _SimContainer) -> None:
        image = str(c.spec.get("image", ""))
        if c.restart_count == 0 and not c.container_id:
            if c.spec.get("imagePullPolicy") == "Always":
                self._event(pod, NORMAL, "Pulling", f'Pulling image "{image}"', c)
                self._event(pod, NORMAL, "Pulled", f'Successfully pulled image "{image}" in 0s (0s including '
                                                   f'waiting). Image size: 0 bytes.', c)
            else:
                self._event(pod, NORMAL, "Pulled", f'Container image "{image}" already present on machine', c)
        c.container_id = f"containerd://{secrets.token_hex(32)}"
        self._event(pod, NORMAL, "Created", f"Created container: {c.name}", c)
        c.state = {"running": {"startedAt": self._now()}}
        self._event(pod, NORMAL, "Started", f"Started container {c.name}", c)

    def _next_init(self, pod: _SimPod, index: int) -> None:
        """Run init container ``index`` (they run one after the other), then the app containers."""
        if pod.stopping:
            return
        if index >= len(pod.init):
            for c in pod.containers:
                self._run(pod, c)
            return
        c = pod.init[index]
        self._start_container(pod, c)
        if c.sidecar:
            c.started = True
            c.ready = True
            self._next_init(pod, index + 1)
            return
        run = self._seconds(pod, ANNOTATION_PREFIX + "init-run-seconds", self.settings.init_run_time)

        def done() -> None:
            c.state = {"terminated": {"exitCode": 0, "reason": "Completed",
                                      "startedAt": c.state.get("running", {}).get("startedAt", self._now()),
                                      "finishedAt": self._now(), "containerID": c.container_id}}
            self._next_init(pod, index + 1)

        self._after(pod, run, done)

    def _run(self, pod: _SimPod, c: _SimContainer) -> None:
        if pod.stopping:
            return
        self._start_container(pod, c)
        c.started = True
        probe = c.spec.get("readinessProbe") or {}
        ready_after = self._seconds(pod, READINESS_DELAY, self.settings.readiness_delay)
        if probe:
            ready_after += float(probe.get("initialDelaySeconds") or 0)
        instance = c.container_id

        def ready() -> None:
            if c.container_id == instance and "running" in c.state:
                c.ready = True

        self._after(pod, ready_after, ready)
        run = self._run_seconds(pod)
        if run is not None:
            self._after(pod, run, lambda: self._exit(pod, c, instance))

    def _exit(self, pod: _SimPod, c: _SimContainer, instance: str) -> None:
        if pod.stopping or c.container_id != instance or "running" not in c.state:
            return
        code = self._exit_code(pod)
        c.state = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                  "startedAt": c.state["running"]["startedAt"], "finishedAt": self._now(),
                                  "containerID": c.container_id}}
        c.ready = False
        policy = (pod.pod.get("spec") or {}).get("restartPolicy", "Always")
        if policy == "Always" or (policy == "OnFailure" and code != 0):
            self._restart(pod, c)

    def _restart(self, pod: _SimPod, c: _SimContainer) -> None:
        """Kubelet's crash-loop back-off: restart at once the first time, then after 10 s, 20 s, ..."""
        backoff = 0.0 if c.crashes == 0 else min(self.settings.restart_backoff * 2 ** (c.crashes - 1),
                                                  self.settings.max_restart_backoff)
        c.crashes += 1
        terminated = c.state

        def again() -> None:
            if pod.stopping:
                return
            c.last_state = terminated
            c.restart_count += 1
            self._run(pod, c)

        if backoff > 0:
            meta = pod.pod.get("metadata") or {}
            c.last_state = terminated
            c.state = {"waiting": {"reason": "CrashLoopBackOff", "message": (
                f"back-off {int(backoff)}s restarting failed container={c.name} "
                f"pod={meta.get('name')}_{meta.get('namespace')}({pod.uid})")}}
            self._event(pod, WARNING, "BackOff", "Back-off restarting failed container "
                                                 f"{c.name} in pod {meta.get('name')}_{meta.get('namespace')}"
                                                 f"({pod.uid})", c)
        self._after(pod, backoff, again)

    def status(self, uid: str) -> PodRuntimeStatus | None:
        with self._lock:
            pod = self._pods.get(uid)
            if pod is None:
                return None
            init = [deep_copy(c.status()) for c in pod.init]
            containers = [deep_copy(c.status()) for c in pod.containers]
            policy = str((pod.pod.get("spec") or {}).get("restartPolicy", "Always"))
            return PodRuntimeStatus(pod_phase(policy, init, containers, stopping=pod.stopping,
                                              init_failed=pod.init_failed), init, containers)

    def stop_pod(self, uid: str, grace_seconds: float) -> concurrent.futures.Future[None]:
        with self._lock:
            pod = self._pods.get(uid)
            if pod is None:
                done: concurrent.futures.Future[None] = concurrent.futures.Future()
                done.set_result(None)
                return done
            if pod.stopped is not None:
                return pod.stopped
            pod.stopping = True
            future: concurrent.futures.Future[None] = concurrent.futures.Future()
            pod.stopped = future
            for timer in pod.timers:
                timer.cancel()
            pod.timers.clear()
            running = [c for c in pod.all() if "running" in c.state]
            waiting = [c for c in pod.all() if "waiting" in c.state]
            term = self._seconds(pod, TERMINATION_DELAY, self.settings.termination_delay)
            prestop = self._seconds(pod, PRESTOP_DELAY, self.settings.prestop_delay)
            for c in waiting:
                # Never started, or between restarts: nothing to kill.
                if c.last_state.get("terminated"):
                    c.state = c.last_state
                    c.last_state = {}
            for c in running:
                self._event(pod, NORMAL, "Killing", f"Stopping container {c.name}", c)
                hook = prestop if (c.spec.get("lifecycle") or {}).get("preStop") else 0.0
                needed = hook + term
                killed = needed > grace_seconds
                self._after(pod, min(needed, max(0.0, grace_seconds)),
                            lambda c=c, killed=killed: self._terminated(pod, c, killed))  # type: ignore[misc]
            if not running:
                future.set_result(None)
        if running and not future.done():
            self._changed(pod)
        self._maybe_stopped(pod)
        return future

    def _terminated(self, pod: _SimPod, c: _SimContainer, killed: bool) -> None:
        if "running" not in c.state:
            return
        code = 137 if killed else 0
        c.state = {"terminated": {"exitCode": code, "reason": "Error" if killed else "Completed",
                                  "startedAt": c.state["running"]["startedAt"], "finishedAt": self._now(),
                                  "containerID": c.container_id}}
        c.ready = False
        if pod.stopped is not None and not pod.stopped.done() and not any("running" in x.state for x in pod.all()):
            pod.stopped.set_result(None)

    def _maybe_stopped(self, pod: _SimPod) -> None:
        with self._lock:
            if pod.stopped is not None and not pod.stopped.done() and not any(
                    "running" in x.state for x in pod.all()):
                pod.stopped.set_result(None)

    def remove_pod(self, uid: str) -> None:
        with self._lock:
            pod = self._pods.pop(uid, None)
            if pod is None:
                return
            for timer in pod.timers:
                timer.cancel()
            if pod.stopped is not None and not pod.stopped.done():
                pod.stopped.set_result(None)

    def pods(self) -> list[str]:
        with self._lock:
            return list(self._pods)


# -- pod IPs ---------------------------------------------------------------------------------------


class PodIPAllocator:
    """Loopback pod IPs in 127.1.0.1-127.254.255.254, handed out upwards from a random point, each live pod a
    distinct one, never reused by a different
    pod until the range wraps (so a recreated pod gets a new IP unless it asks for its old one)."""

    def __init__(self) -> None:
        # A random start per cluster: two clusters on one host (pytest-xdist workers) must not hand the
        # same address to process-backed pods, which really bind it.
        self._next = secrets.randbelow(254 * 256 * 254)
        self.in_use: set[str] = set()
        self._last: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _ip(n: int) -> str:
        # 254 * 256 * 254 addresses in 127.1.0.1 - 127.254.255.254; fourth octet skips 0 and 255.
        d = n % 254 + 1
        c = (n // 254) % 256
        b = (n // (254 * 256)) % 254 + 1
        return f"127.{b}.{c}.{d}"

    def allocate(self, namespace: str, name: str, reuse: bool = False) -> str:
        with self._lock:
            previous = self._last.get((namespace, name))
            if reuse and previous is not None and previous not in self.in_use:
                self.in_use.add(previous)
                return previous
            for _ in range(254 * 256 * 254):
                ip = self._ip(self._next)
                self._next += 1
                if ip not in self.in_use:
                    self.in_use.add(ip)
                    return ip
            raise RuntimeError("no free loopback pod IP")

    def claim(self, ip: str) -> None:
        with self._lock:
            self.in_use.add(ip)

    def release(self, namespace: str, name: str, ip: str) -> None:
        with self._lock:
            self.in_use.discard(ip)
            self._last[(namespace, name)] = ip


# -- the kubelet -----------------------------------------------------------------------------------


@dataclass
class _Tracked:
    uid: str
    runtime: ContainerRuntime
    ip: str
    node: str
    start_time: str
    stopping: concurrent.futures.Future[None] | None = None


def _condition(type_: str, ok: bool, now: str, reason: str = "", message: str = "") -> Obj:
    cond: Obj = {"type": type_, "status": "True" if ok else "False", "lastProbeTime": None,
                 "lastTransitionTime": now}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def pod_conditions(phase: str, init: list[Obj], containers: list[Obj], now: str, *,
                   sandbox: bool = True) -> list[Obj]:
    """The conditions kubelet's status manager writes (``pkg/kubelet/status/generate.go``)."""
    completed = phase == "Succeeded"
    unfinished_init = [c["name"] for c in init
                       if c.get("started") is None and ((c.get("state") or {}).get("terminated") or {}).get(
                           "exitCode") != 0]
    unfinished_init += [c["name"] for c in init if c.get("started") is not None and not c.get("started")]
    unready = [c["name"] for c in containers if not c.get("ready")]
    if completed:
        initialized = _condition("Initialized", True, now, "PodCompleted")
        ready = _condition("Ready", False, now, "PodCompleted")
        containers_ready = _condition("ContainersReady", False, now, "PodCompleted")
    else:
        if unfinished_init:
            initialized = _condition("Initialized", False, now, "ContainersNotInitialized",
                                     f"containers with incomplete status: [{' '.join(unfinished_init)}]")
        else:
            initialized = _condition("Initialized", True, now)
        if unready or phase == "Failed":
            if phase == "Failed" and not unready:
                unready = [c["name"] for c in containers]
            message = f"containers with unready status: [{' '.join(unready)}]"
            ready = _condition("Ready", False, now, "ContainersNotReady", message)
            containers_ready = _condition("ContainersReady", False, now, "ContainersNotReady", message)
        else:
            ready = _condition("Ready", True, now)
            containers_ready = _condition("ContainersReady", True, now)
    return [
        _condition("PodReadyToStartContainers", sandbox and phase not in ("Succeeded", "Failed"), now),
        initialized,
        ready,
        containers_ready,
        _condition("PodScheduled", True, now),
    ]


def _merge_conditions(old: list[Obj], new: list[Obj]) -> list[Obj]:
    """Keep a condition's ``lastTransitionTime`` while its status stays the same."""
    before = {c.get("type"): c for c in old}
    out = []
    for cond in new:
        prev = before.get(cond["type"])
        if prev is not None and prev.get("status") == cond["status"]:
            cond = dict(cond, lastTransitionTime=prev.get("lastTransitionTime") or cond["lastTransitionTime"])
        out.append(cond)
    # Conditions others own (readiness gates, DisruptionTarget...) stay.
    mine = {c["type"] for c in new}
    out.extend(c for c in old if c.get("type") not in mine)
    return out


class KubeletController(Controller):
    """Runs the pods bound to the cluster's nodes (one simulated kubelet for all of them)."""

    name = "kubelet"

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        self.settings = KubeletSettings()
        self.simulated = SimulatedRuntime(registry.clock, self.settings)
        self.runtimes: list[ContainerRuntime] = []
        self.ips = PodIPAllocator()
        self._tracked: dict[tuple[str, str], _Tracked] = {}
        self._lock = threading.Lock()

    # -- wiring ----------------------------------------------------------------------------------

    def add_runtime(self, runtime: ContainerRuntime) -> None:
        """Prefer ``runtime`` for the pods it ``handles`` (the simulated runtime takes the rest)."""
        self.runtimes.append(runtime)

    def runtime_for(self, pod: Obj) -> ContainerRuntime:
        for runtime in self.runtimes:
            if runtime.handles(pod):
                return runtime
        return self.simulated

    def pod_ip(self, namespace: str, name: str) -> str | None:
        tracked = self._tracked.get((namespace, name))
        return tracked.ip if tracked else None

    # -- controller ------------------------------------------------------------------------------

    async def run(self) -> None:
        self.simulated.loop = asyncio.get_running_loop()
        await super().run()

    def initial_keys(self) -> list[Hashable]:
        items, _ = self.registry.store.list("pods")
        for pod in items:
            ip = (pod.get("status") or {}).get("podIP")
            if ip:
                self.ips.claim(str(ip))
        return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in items
                if (p.get("spec") or {}).get("nodeName")]

    def watches(self) -> frozenset[str] | None:
        return frozenset({"pods"})

    def keys_for(self, event: Event) -> list[Hashable]:
        if event.resource != "pods":
            return []
        if event.type == "DELETED" or (event.obj.get("spec") or {}).get("nodeName") or event.key in self._tracked:
            return [event.key]
        return []

    def _is_our_node(self, name: str) -> bool:
        return bool(name) and self.registry.store.get("nodes", "", name) is not None

    def reconcile(self, key: Hashable) -> bool:
        assert isinstance(key, tuple)
        namespace, name = str(key[0]), str(key[1])
        pod = self.registry.store.get("pods", namespace, name)
        tracked = self._tracked.get((namespace, name))
        if tracked is not None and (pod is None or pod["metadata"]["uid"] != tracked.uid):
            self._kill(namespace, name, tracked)  # removed from the API (force deletion) or replaced
            tracked = None
        if pod is None:
            return False
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        if not self._is_our_node(node):
            return False
        meta = pod["metadata"]
        phase = (pod.get("status") or {}).get("phase")
        if meta.get("deletionTimestamp"):
            if tracked is None:
                self._finish_deletion(pod)
                return False
            self._terminate(namespace, name, pod, tracked)
            return False
        if tracked is None:
            if phase in ("Succeeded", "Failed"):
                return False  # it ran to completion before this kubelet started
            tracked = self._start(namespace, name, pod, node)
        self._sync_status(pod, tracked)
        return False

    # -- lifecycle -------------------------------------------------------------------------------

    def _start(self, namespace: str, name: str, pod: Obj, node: str) -> _Tracked:
        reuse = self.settings.reuse_ips or (_annotation(pod, REUSE_IP) or "").lower() == "true"
        existing_ip = (pod.get("status") or {}).get("podIP")
        if (pod.get("spec") or {}).get("hostNetwork"):
            ip = NODE_IP  # a host-network pod shares the node's address
        else:
            ip = str(existing_ip) if existing_ip else self.ips.allocate(namespace, name, reuse)
        runtime = self.runtime_for(pod)
        tracked = _Tracked(str(pod["metadata"]["uid"]), runtime, ip, node, now_rfc3339(self.clock.now()))
        self._tracked[(namespace, name)] = tracked
        key = (namespace, name)

        def on_event(type_: str, reason: str, message: str, field_path: str = "") -> None:
            current = self.registry.store.get("pods", namespace, name) or pod
            record_event(self.registry, current, type_, reason, message, "kubelet", host=node,
                         field_path=field_path)

        runtime.start_pod(pod, ip, lambda: self.enqueue(key), on_event)
        return tracked

    def _terminate(self, namespace: str, name: str, pod: Obj, tracked: _Tracked) -> None:
        key = (namespace, name)
        if tracked.stopping is None:
            grace = float(pod["metadata"].get("deletionGracePeriodSeconds") or 0)
            tracked.stopping = tracked.runtime.stop_pod(tracked.uid, grace)
            tracked.stopping.add_done_callback(lambda _: self.enqueue(key))
        if not tracked.stopping.done():
            self._sync_status(pod, tracked)
            return
        self._sync_status(pod, tracked)
        current = self.registry.store.get("pods", namespace, name)
        if current is not None:
            self._finish_deletion(current)
        self._forget(namespace, name, tracked)

    def _finish_deletion(self, pod: Obj) -> None:
        """The status manager's final DELETE: grace 0 with a uid precondition."""
        meta = pod["metadata"]
        try:
            self.registry.delete(self.registry.resource("pods"), meta["namespace"], meta["name"],
                                 DeleteOptions(grace_period_seconds=0, precondition_uid=meta["uid"]))
        except errors.StatusError as exc:
            if exc.code not in (404, 409):
                raise

    def _kill(self, namespace: str, name: str, tracked: _Tracked) -> None:
        runtime = tracked.runtime
        uid = tracked.uid
        future = tracked.stopping or runtime.stop_pod(uid, 0)
        self._forget(namespace, name, tracked, remove=False)

        def remove(_: object) -> None:
            if runtime is self.simulated:
                runtime.remove_pod(uid)
            elif self._loop is not None and not self._loop.is_closed():
                # Off the loop: removing may wait for a process to exit.
                self._loop.call_soon_threadsafe(self._loop.run_in_executor, None, runtime.remove_pod, uid)

        future.add_done_callback(remove)

    def _forget(self, namespace: str, name: str, tracked: _Tracked, remove: bool = True) -> None:
        if self._tracked.get((namespace, name)) is tracked:
            del self._tracked[(namespace, name)]
        if tracked.ip != NODE_IP:
            self.ips.release(namespace, name, tracked.ip)
        if not remove:
            return
        if tracked.runtime is self.simulated:
            self.simulated.remove_pod(tracked.uid)
        elif self._loop is not None:
            try:
                self._loop.run_in_executor(None, tracked.runtime.remove_pod, tracked.uid)
            except RuntimeError:
                # The interpreter or loop is shutting down; the runtime's own shutdown reaps the pod.
                pass

    # -- status ----------------------------------------------------------------------------------

    def _sync_status(self, pod: Obj, tracked: _Tracked) -> None:
        report = tracked.runtime.status(tracked.uid)
        if report is None:
            return
        now = now_rfc3339(self.clock.now())
        containers = report.container_statuses
        if (_annotation(pod, READY) or "").lower() == "false":
            for c in containers:
                c["ready"] = False
        phase = report.phase
        old = pod.get("status") or {}
        status: Obj = dict(old)
        status["phase"] = phase
        status["hostIP"] = NODE_IP
        status["hostIPs"] = [{"ip": NODE_IP}]
        status["podIP"] = tracked.ip
        status["podIPs"] = [{"ip": tracked.ip}]
        status["startTime"] = old.get("startTime") or tracked.start_time
        generation = pod["metadata"].get("generation")
        conditions = pod_conditions(phase, report.init_container_statuses, containers, now)
        if generation is not None:
            status["observedGeneration"] = generation
            for cond in conditions:
                cond["observedGeneration"] = generation
        status["conditions"] = _merge_conditions(list(old.get("conditions") or []), conditions)
        if report.init_container_statuses:
            status["initContainerStatuses"] = report.init_container_statuses
        status["containerStatuses"] = containers
        if status == old:
            return
        updated = deep_copy(pod)
        updated["status"] = status
        try:
            self.registry.update(self.registry.resource("pods"), pod["metadata"]["namespace"],
                                 pod["metadata"]["name"], updated, subresource="status")
        except errors.StatusError as exc:
            if exc.code == 409:
                self.enqueue((pod["metadata"]["namespace"], pod["metadata"]["name"]))
            elif exc.code != 404:
                raise


__all__ = [
    "ContainerRuntime",
    "EventSink",
    "KubeletController",
    "KubeletSettings",
    "PodIPAllocator",
    "SimulatedRuntime",
    "pod_conditions",
    "pod_phase",
]
