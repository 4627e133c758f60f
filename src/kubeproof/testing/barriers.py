"""Readiness barriers: wait until every reader that matters has seen an object, before depending on it.

A write is acknowledged once it is stored; readers (watch caches, informers, a second API server, another
cluster) see it later. A test that writes and at once asks another reader gets ``404`` or a stale object
(Kueue #3581/#6233: a Workload admitted before the ClusterQueue was seen Active). The barrier pattern,
Kueue's ``ExpectClusterQueuesToBeActive``: wait until *each* reader has observed the object, at the
resourceVersion written or a later one, and (optionally) in the state the test needs.

* :func:`wait_observed`: ``watchers`` independent watchers (each its own connection, listing from the
  watch cache with ``resourceVersion=0`` like an informer, then watching) and any ``observers`` the test
  has (callables returning the object as that reader holds it, e.g. a controller's informer cache) must
  each hold the object at ``resource_version`` or later;
* :func:`wait_observed_everywhere`: every cluster of a multi-cluster set holds each of the objects in a
  state ``condition`` accepts (resourceVersions of different clusters are not comparable, states are).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeproof.testing.waits import DEFAULT_TIMEOUT, WaitTimeout

if TYPE_CHECKING:
    from kubeproof.testing.kube import Kube, ObjLike, Ref

Condition = Callable[[dict[str, Any]], object]
#: A reader the test already has: returns the object as that reader holds it now, or ``None``.
Observer = Callable[[], Mapping[str, Any] | None]


def rv_at_least(have: str, want: str) -> bool:
    """Whether resourceVersion ``have`` is ``want`` or later. Kubernetes resourceVersions are decimal
    integers that grow (comparable since KEP-5504); anything else is only compared for equality."""
    if have.isdigit() and want.isdigit():
        return int(have) >= int(want)
    return have == want


@dataclass
class _Seen:
    who: str
    state: dict[str, Any] | None = None
    error: str = ""
    done: bool = False
    answered: bool = False  # the reader has answered at least once (a list, or the observer's call)

    def describe(self, want: str) -> str:
        if self.done:
            return f"{self.who}: observed it"
        if self.error:
            return f"{self.who}: {self.error}"
        if not self.answered:
            return f"{self.who}: no answer from the server yet"
        if self.state is None:
            return f"{self.who}: has not seen the object at all"
        rv = str((self.state.get("metadata") or {}).get("resourceVersion") or "?")
        return f"{self.who}: last saw resourceVersion {rv}, want {want} or later"


def _rv(obj: Mapping[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion") or "")


def _reached(state: Mapping[str, Any] | None, want: str, condition: Condition | None) -> bool:
    if state is None or not rv_at_least(_rv(state), want):
        return False
    if condition is None:
        return True
    try:
        return bool(condition(dict(state)))
    except AssertionError:
        return False


def _watch_one(kube: Kube, ref: Ref, want: str, condition: Condition | None, deadline: float,
               seen: _Seen, stop: threading.Event, workdir: Path) -> None:
    """One independent watcher: its own ApiClient (own connections), an informer-style list from the watch
    cache (``resourceVersion=0``), then a watch from that list until the object reaches ``want``."""
    from kubernetes import client, dynamic, watch

    api = client.ApiClient(kube.api_client.configuration)
    try:
        cache = workdir / "discovery.json"
        shared = kube.connection.discovery_cache
        if shared.exists():
            shutil.copyfile(shared, cache)  # the discovery the handle already did, not done again
        dyn = dynamic.DynamicClient(api, cache_file=str(cache))  # type: ignore[no-untyped-call]
        resource = dyn.resources.get(api_version=ref.api_version, kind=ref.kind)
        selector = f"metadata.name={ref.name}"
        while not stop.is_set() and not seen.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                listed = resource.get(namespace=ref.namespace, field_selector=selector, resource_version="0",
                                      _request_timeout=remaining).to_dict()
                items = listed.get("items") or []
                seen.state, seen.answered = (items[0] if items else None), True
                if _reached(seen.state, want, condition):
                    seen.done = True
                    return
                watcher = watch.Watch()  # type: ignore[no-untyped-call]
                stream = watcher.stream(  # type: ignore[no-untyped-call]
                    resource.get, namespace=ref.namespace, field_selector=selector, resource_version=_rv(listed),
                    serialize=False, timeout_seconds=max(1, math.ceil(remaining)),
                    _request_timeout=(10, max(remaining, 0.05)),
                )
                try:
                    for event in stream:
                        if stop.is_set():
                            return
                        if not isinstance(event, dict) or event.get("type") == "BOOKMARK":
                            continue
                        seen.state = None if event["type"] == "DELETED" else dict(event["raw_object"])
                        if _reached(seen.state, want, condition):
                            seen.done = True
                            return
                finally:
                    watcher.stop()  # type: ignore[no-untyped-call]
                    stream.close()
                seen.error = ""
            except Exception as exc:  # a broken stream, 410 Expired, a refused request: say so, list again
                seen.error = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
                stop.wait(0.05)  # the retry interval after an error, not a wait for state
    finally:
        api.close()  # type: ignore[no-untyped-call]


def wait_observed(kube: Kube, obj: ObjLike, *, watchers: int = 1, observers: Sequence[Observer] = (),
                  resource_version: str | None = None, condition: Condition | None = None,
                  timeout: float = DEFAULT_TIMEOUT) -> None:
    """Wait until ``watchers`` independent watchers and each of ``observers`` hold ``obj`` at
    ``resource_version`` (default: the object's own) or later, and, when given, in a state ``condition``
    accepts. On timeout the message says, per reader, what it saw last."""
    from kubeproof.testing.kube import KubeError, _meta
    from kubeproof.testing.kube import Ref as RefType

    if watchers < 0:
        raise ValueError("watchers must not be negative")
    ref = kube._ref(obj)
    kube._touch(ref)
    want = resource_version or ("" if isinstance(obj, RefType) else str(_meta(obj).get("resourceVersion") or ""))
    if not want:
        current = kube.get(ref)
        want = _rv(current)
    if not want:
        raise KubeError(f"wait_observed needs a resourceVersion for {ref}")
    began = time.monotonic()
    deadline = began + timeout
    stop = threading.Event()
    seen = [_Seen(f"watcher {i + 1} of {watchers}") for i in range(watchers)]
    workdir = Path(tempfile.mkdtemp(prefix="kubeproof-barrier-"))
    threads = [threading.Thread(target=_watch_one, name=f"kubeproof-barrier-{i + 1}", daemon=True,
                                args=(kube, ref, want, condition, deadline, s, stop, workdir / str(i)))
               for i, s in enumerate(seen)]
    for i in range(watchers):
        (workdir / str(i)).mkdir()
    observed = [_Seen(f"observer {i + 1} ({getattr(o, '__qualname__', o)!s})") for i, o in enumerate(observers)]
    for thread in threads:
        thread.start()
    try:
        while True:
            for probe, state in zip(observers, observed, strict=True):
                if not state.done:
                    try:
                        got = probe()
                        state.state, state.error = (dict(got) if got is not None else None), ""
                        state.answered = True
                        state.done = _reached(state.state, want, condition)
                    except Exception as exc:
                        state.error = f"{type(exc).__name__}: {exc}"
            pending = [t for t in threads if t.is_alive()]
            if all(s.done for s in seen + observed):
                break
            now = time.monotonic()
            if now >= deadline or (not pending and not observers):
                lines = [s.describe(want) for s in seen + observed]
                what = f" in a state {getattr(condition, '__name__', 'condition')} accepts" if condition else ""
                raise WaitTimeout(
                    f"wait_observed: timed out after {timeout:g}s waiting for {ref} at resourceVersion {want} "
                    f"or later{what} to be observed by {len(seen) + len(observed)} reader(s)\n"
                    + "\n".join(f"  {line}" for line in lines),
                    description=f"wait_observed {ref}", attempts=len(lines), elapsed=now - began,
                    last_value=[s.state for s in seen + observed],
                )
            if pending:
                pending[0].join(min(0.05, deadline - now) if observers else deadline - now)
            else:
                time.sleep(min(0.05, deadline - now))  # the poll interval of the test's own observers
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
        shutil.rmtree(workdir, ignore_errors=True)
    for state in seen:
        if state.state is not None:
            kube.log.record("OBSERVED", ref, state.state)


def _exists(obj: dict[str, Any]) -> bool:
    return True


def wait_observed_everywhere(kubes: Sequence[Kube], objs: ObjLike | Iterable[ObjLike], *,
                             condition: Condition | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Wait until every cluster in ``kubes`` holds each of ``objs`` (same kind, name and namespace) in a
    state ``condition`` accepts (default: it exists). The ``ExpectClusterQueuesToBeActive`` pattern:
    ``wait_observed_everywhere([manager, worker], queues, condition=is_active)``. The timeout is shared;
    the message names the cluster and object that were not ready, with what it held."""
    from kubeproof.testing.kube import Ref as RefType

    items: list[ObjLike] = [objs] if isinstance(objs, Mapping | RefType) else list(objs)
    began = time.monotonic()
    deadline = began + timeout
    for index, kube in enumerate(kubes):
        for obj in items:
            ref = RefType.of(obj)
            target = RefType(ref.api_version, ref.kind, ref.name, ref.namespace)  # its uid is the writer's
            remaining = max(0.0, deadline - time.monotonic())
            try:
                kube.wait_for(target, condition or _exists, timeout=remaining,
                              description=None if condition else "it exists")
            except WaitTimeout as exc:
                raise WaitTimeout(
                    f"wait_observed_everywhere: cluster {index + 1} of {len(kubes)} "
                    f"({kube.connection.kubeconfig}) has not observed {target} in time:\n{exc}",
                    description=exc.description, attempts=exc.attempts, elapsed=time.monotonic() - began,
                    last_value=exc.last_value,
                ) from None
