"""The cluster handle tests use: ``Kube``, one per test, over a ``Connection`` shared by a session.

Everything goes through the Kubernetes API (the official client and its dynamic client), so the same test
runs against the embedded server and against a real cluster. The handle:

* creates objects with the test's label (``kube.test_label``) and in its namespace, and tracks them;
* deletes what it tracked in reverse order at the end and waits until each object is really gone,
  reporting what holds the ones that are not (finalizers, ownerReferences, deletionTimestamp);
* waits on objects through watches that start at the resourceVersion they were seen at;
* keeps a log of every object state it saw, for the failure report of a test on a real cluster.

Without pytest: ``with Kube.from_kubeconfig(path) as kube: ...`` or ``with Kube.from_cluster(cluster) as kube:``.
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import yaml

from kubeproof import reach
from kubeproof.reach import KubectlPortForward
from kubeproof.testing import jsonpath
from kubeproof.testing.names import TEST_LABEL_KEY, label_value_for
from kubeproof.testing.waits import DEFAULT_TIMEOUT, WaitTimeout

if TYPE_CHECKING:
    from kubeproof.cluster import Cluster

#: How long teardown waits, in all, for the tracked objects to be gone.
DEFAULT_CLEANUP_TIMEOUT = 30.0
#: The field manager ``Kube.apply`` applies as (server-side apply).
FIELD_MANAGER = "kubeproof"


class KubeError(RuntimeError):
    """The toolkit was used wrongly, or the cluster refused something in a way the test cannot go on from."""


class EmbeddedOnly(KubeError):
    """A power of the embedded server (timeline, faults) was asked for on another backend."""


class CleanupError(AssertionError):
    """Teardown could not make every tracked object go away in time; the message says what holds each."""


@dataclass(frozen=True)
class Ref:
    """Which object: apiVersion, kind, name, namespace (``None`` for cluster-scoped), and optionally its uid."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None
    uid: str | None = None

    @classmethod
    def of(cls, obj: ObjLike) -> Ref:
        if isinstance(obj, Ref):
            return obj
        meta = obj.get("metadata") or {}
        api_version, kind, name = obj.get("apiVersion"), obj.get("kind"), meta.get("name")
        if not api_version or not kind or not name:
            raise KubeError(f"an object needs apiVersion, kind and metadata.name; got {_brief(obj)}")
        return cls(str(api_version), str(kind), str(name), meta.get("namespace") or None, meta.get("uid") or None)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity without the uid: the same name in the same place."""
        return (self.api_version, self.kind, self.namespace or "", self.name)

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


ObjLike = Mapping[str, Any] | Ref
Objects = list[dict[str, Any]]
Refs = list[Ref]


def _brief(obj: Any, limit: int = 200) -> str:
    text = repr(obj)
    return text if len(text) <= limit else text[:limit] + "..."


def _meta(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict((obj or {}).get("metadata") or {})


def holders(obj: Mapping[str, Any]) -> list[str]:
    """What keeps an object from going away, one line each: deletion state, finalizers, owners, and for a
    namespace the conditions its controller reports (content remaining, finalizers remaining)."""
    meta = _meta(obj)
    lines: list[str] = []
    if meta.get("deletionTimestamp"):
        grace = meta.get("deletionGracePeriodSeconds")
        lines.append(f"deletionTimestamp={meta['deletionTimestamp']}"
                     + (f" deletionGracePeriodSeconds={grace}" if grace is not None else ""))
    else:
        lines.append("not being deleted (no deletionTimestamp): nothing has deleted it yet")
    if meta.get("finalizers"):
        lines.append(f"finalizers={list(meta['finalizers'])} (each must be removed by whoever added it)")
    spec_finalizers = (obj.get("spec") or {}).get("finalizers") if obj.get("kind") == "Namespace" else None
    if spec_finalizers:
        lines.append(f"spec.finalizers={list(spec_finalizers)} (the namespace controller removes these)")
    for owner in meta.get("ownerReferences") or []:
        lines.append(f"ownerReference {owner.get('kind')}/{owner.get('name')} uid={owner.get('uid')}"
                     + (" blockOwnerDeletion" if owner.get("blockOwnerDeletion") else ""))
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if obj.get("kind") == "Namespace" and cond.get("status") == "True":
            lines.append(f"condition {cond.get('type')}: {cond.get('message')}")
    return lines


# -- the log of what the toolkit observed -----------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    time: float
    what: str  # CREATE, APPLY, PATCH, DELETE, GET, ADDED, MODIFIED, DELETED, GONE, ...
    ref: Ref
    resource_version: str
    deletion_timestamp: str | None
    finalizers: tuple[str, ...]

    def describe(self) -> str:
        extra = f" deletionTimestamp={self.deletion_timestamp}" if self.deletion_timestamp else ""
        extra += f" finalizers={list(self.finalizers)}" if self.finalizers else ""
        rv = f" rv={self.resource_version}" if self.resource_version else ""
        return f"{self.what:<8} {self.ref}{rv}{extra}"


class EventLog:
    """Every object state the toolkit saw (its own writes, reads and watch events), in order."""

    def __init__(self, capacity: int = 5000) -> None:
        self._entries: list[Observation] = []
        self._capacity = capacity
        self._lock = threading.Lock()

    def record(self, what: str, ref: Ref, obj: Mapping[str, Any] | None = None) -> None:
        meta = _meta(obj)
        entry = Observation(time.time(), what, ref, str(meta.get("resourceVersion") or ""),
                            meta.get("deletionTimestamp"), tuple(meta.get("finalizers") or ()))
        with self._lock:
            self._entries.append(entry)
            del self._entries[: -self._capacity]

    def entries(self) -> list[Observation]:
        with self._lock:
            return list(self._entries)


# -- the connection: one API server, shared by the tests of a session ----------------------------------------


class Connection:
    """One API server reached through a kubeconfig: the official client, its dynamic client, and kubectl.

    ``cluster`` is set when the server is an in-process embedded ``Cluster`` (its timeline and faults are
    then reachable through :meth:`Kube.embedded`).
    """

    def __init__(self, kubeconfig: str | os.PathLike[str], context: str | None = None, *,
                 cluster: Cluster | None = None, embedded: bool = False) -> None:
        self.kubeconfig = Path(kubeconfig)
        self.context = context or None
        self.cluster = cluster
        #: True for any kubeproof server (in-process or a subprocess): it serves a fresh cluster per run.
        self.embedded = embedded or cluster is not None
        self._workdir = Path(tempfile.mkdtemp(prefix="kubeproof-conn-"))
        self._api_client: Any = None
        self._dynamic: Any = None
        self._resources: dict[tuple[str | None, str], Any] = {}
        self._lock = threading.Lock()

    @property
    def api_client(self) -> Any:
        """The official ``kubernetes`` ``ApiClient`` (created on first use, closed by :meth:`close`)."""
        with self._lock:
            if self._api_client is None:
                from kubernetes import client, config

                configuration = client.Configuration()
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=str(self.kubeconfig), context=self.context, client_configuration=configuration
                )
                self._api_client = client.ApiClient(configuration)
            return self._api_client

    @property
    def dynamic(self) -> Any:
        """The official client's ``DynamicClient``, with a discovery cache private to this connection."""
        api = self.api_client
        with self._lock:
            if self._dynamic is None:
                from kubernetes import dynamic

                self._dynamic = dynamic.DynamicClient(  # type: ignore[no-untyped-call]
                    api, cache_file=str(self.discovery_cache)
                )
            return self._dynamic

    @property
    def discovery_cache(self) -> Path:
        """Where the dynamic client keeps this connection's discovery (a file other clients may copy)."""
        return self._workdir / "discovery.json"

    def resource(self, kind: str, api_version: str | None = None) -> Any:
        """The dynamic client's resource for a kind (``ConfigMap``), plural (``configmaps``) or short name
        (``cm``); ``api_version`` picks among groups serving the same kind (the core group wins otherwise)."""
        cache_key = (api_version, kind)
        found = self._resources.get(cache_key)
        if found is not None:
            return found
        from kubernetes.dynamic.resource import Resource

        dyn = self.dynamic
        query: dict[str, Any] = {"api_version": api_version} if api_version else {}
        candidates: list[Any] = []
        for attr in ("kind", "name", "short_names"):
            value: Any = [kind] if attr == "short_names" else kind
            candidates = [r for r in dyn.resources.search(**query, **{attr: value})
                          if isinstance(r, Resource) and r.name and "/" not in r.name]
            if candidates:
                break
        if not candidates:
            where = f" in {api_version}" if api_version else ""
            raise KubeError(f"the server does not serve {kind}{where}; "
                            "use kube.has_resource() with require() to skip tests that need it")
        candidates.sort(key=lambda r: (r.group != "", r.group, r.api_version))
        self._resources[cache_key] = candidates[0]
        return candidates[0]

    def has_resource(self, api_version: str, kind: str) -> bool:
        try:
            self.resource(kind, api_version)
        except KubeError:
            return False
        return True

    def listable_resources(self) -> list[Any]:
        """Every top-level resource the server lists (one per group and plural)."""
        from kubernetes.dynamic.resource import Resource

        seen: dict[tuple[str, str], Any] = {}
        for r in self.dynamic.resources.search():
            if isinstance(r, Resource) and r.name and "/" not in r.name and "list" in (r.verbs or []):
                seen.setdefault((r.group, r.name), r)
        return list(seen.values())

    def async_client(self) -> AsyncClient:
        return AsyncClient(self)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this server (its own kubeconfig and context, a private discovery cache)."""
        from kubeproof.cluster import find_tool

        # the kubectl setup installed beside this interpreter first: the version the project tests with
        binary = find_tool("kubectl")
        if binary is None:
            raise KubeError("kubectl is neither beside this Python nor on PATH (scripts/setup.sh installs it "
                            "into .venv/bin)")
        context = ["--context", self.context] if self.context else []
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig), KUBECACHEDIR=str(self._workdir / "kubecache"))
        proc = subprocess.run([binary, *context, *args], input=input, capture_output=True, text=True, env=env,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise KubeError(f"kubectl {' '.join(args)} exited {proc.returncode}\n"
                            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def close(self) -> None:
        with self._lock:
            if self._api_client is not None:
                self._api_client.close()
            self._api_client = self._dynamic = None
            self._resources.clear()
        shutil.rmtree(self._workdir, ignore_errors=True)


class AsyncClient:
    """``kube.async_client()``: a ``kubernetes_asyncio`` ``ApiClient`` for the same server.

    ``async with kube.async_client() as api:`` closes it at the end; ``api = await kube.async_client()``
    hands it over (close it with ``await api.close()``).
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._client: Any = None

    async def _make(self) -> Any:
        from kubernetes_asyncio import client, config

        configuration = client.Configuration()
        await config.load_kube_config(config_file=str(self._connection.kubeconfig), context=self._connection.context,
                                      client_configuration=configuration)
        return client.ApiClient(configuration)

    def __await__(self) -> Any:
        return self._make().__await__()

    async def __aenter__(self) -> Any:
        self._client = await self._make()
        return self._client

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


# -- the per-test handle ---------------------------------------------------------------------------------------


@dataclass
class _Tracked:
    ref: Ref
    note: str = ""


@dataclass
class CleanupReport:
    """What teardown did: objects it saw go, and the ones still there with what holds them."""

    gone: list[Ref] = field(default_factory=list)
    stuck: list[tuple[Ref, list[str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.stuck and not self.errors

    def describe(self) -> str:
        lines = [f"cleanup: {len(self.stuck)} object(s) still there after {self.elapsed:.1f}s "
                 f"({len(self.gone)} went away):"]
        for ref, why in self.stuck:
            lines.append(f"  {ref} (uid {ref.uid or '?'})")
            lines.extend(f"    {line}" for line in why)
        lines.extend(f"  error: {e}" for e in self.errors)
        return "\n".join(lines)


class Kube:
    """A cluster handle for one test: clients, tracked create/apply/delete, watch-based waits.

    Errors from the API are the official client's (``kubernetes.dynamic.exceptions.NotFoundError``,
    ``ConflictError``, ... all ``ApiException``).
    """

    def __init__(self, connection: Connection, *, test_id: str | None = None, namespace: str | None = None,
                 cleanup_timeout: float = DEFAULT_CLEANUP_TIMEOUT, owns_connection: bool = False) -> None:
        self.connection = connection
        self.test_id = test_id or label_value_for("kube")
        self.namespace = namespace
        self.cleanup_timeout = cleanup_timeout
        self.log = EventLog()
        self.started = time.time()
        self._owns_connection = owns_connection
        self._tracked: list[_Tracked] = []
        self._touched_objects: set[Ref] = set()
        self._lock = threading.Lock()
        self._forwards: list[KubectlPortForward] = []

    # -- construction without pytest -------------------------------------------------------------------

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str | os.PathLike[str], context: str | None = None,
                        **kwargs: Any) -> Kube:
        return cls(Connection(kubeconfig, context), owns_connection=True, **kwargs)

    @classmethod
    def from_cluster(cls, cluster: Cluster, **kwargs: Any) -> Kube:
        return cls(Connection(cluster.kubeconfig, cluster=cluster), owns_connection=True, **kwargs)

    def __enter__(self) -> Kube:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            report = self.cleanup()
            if not report.ok and exc is None:
                raise CleanupError(report.describe())
        finally:
            if self._owns_connection:
                self.connection.close()

    # -- clients ---------------------------------------------------------------------------------------

    @property
    def api_client(self) -> Any:
        """The official client's ``ApiClient``: ``kubernetes.client.CoreV1Api(kube.api_client)``."""
        return self.connection.api_client

    @property
    def dynamic(self) -> Any:
        return self.connection.dynamic

    def async_client(self) -> AsyncClient:
        """A ``kubernetes_asyncio`` client: ``async with kube.async_client() as api: ...``."""
        return self.connection.async_client()

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster; ``-n`` defaults to nothing (pass it, or use ``kube.namespace``)."""
        return self.connection.kubectl(*args, input=input, check=check, timeout=timeout)

    @property
    def is_embedded(self) -> bool:
        """True on a kubeproof server (in-process or subprocess), False on a real cluster."""
        return self.connection.embedded

    def embedded(self) -> Cluster:
        """The in-process embedded ``Cluster`` (timeline, faults); a clear error on any other backend."""
        if self.connection.cluster is None:
            raise EmbeddedOnly(
                "this needs the in-process embedded cluster (--kube-backend=inprocess); the test runs against "
                f"{self.connection.kubeconfig}. Guard it with require(kube.connection.cluster is not None, ...)"
            )
        return self.connection.cluster

    def has_resource(self, api_version: str, kind: str) -> bool:
        """Whether the server serves ``kind`` in ``api_version``; pair with ``require()`` to skip cleanly."""
        return self.connection.has_resource(api_version, kind)

    def port_forward(self, target: ObjLike | str, port: int | str, *, namespace: str | None = None,
                     timeout: float = DEFAULT_TIMEOUT) -> tuple[str, int]:
        """A local ``(host, port)`` reaching ``port`` of a pod or Service (``"pod/x"``, ``"svc/x"`` or the
        object). Embedded: the pod's own loopback address, no forwarding (``kubeproof.reach``); a real
        cluster: ``kubectl port-forward`` on a free local port, stopped at cleanup. Raises
        ``kubeproof.reach.Unreachable`` saying why when nothing is ready to answer."""
        kind, ns, name = reach.parse_target(target, namespace or self.namespace)
        if self.connection.cluster is not None:
            return self.connection.cluster.port_forward(target, port, namespace=ns)
        if self.is_embedded:
            def get(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
                return self.try_get(kind, name, namespace=namespace, api_version="v1")

            return reach.resolve(get, target, port, ns)
        from kubeproof.cluster import find_tool

        binary = find_tool("kubectl")
        if binary is None:
            raise KubeError("kubectl is neither beside this Python nor on PATH (scripts/setup.sh installs it "
                            "into .venv/bin)")
        context = ["--context", self.connection.context] if self.connection.context else []
        resource = "pod" if kind == "Pod" else "svc"
        argv = [binary, *context, "-n", ns, "port-forward", f"{resource}/{name}", f":{port}",
                "--address", "127.0.0.1"]
        env = dict(os.environ, KUBECONFIG=str(self.connection.kubeconfig))
        forward = reach.KubectlPortForward(argv, env, timeout=timeout)
        self._forwards.append(forward)
        return forward.address

    # -- isolation -------------------------------------------------------------------------------------

    @property
    def test_label(self) -> dict[str, str]:
        """``{"kubeproof.dev/test": "<id>"}``: on everything the toolkit creates for this test."""
        return {TEST_LABEL_KEY: self.test_id}

    @property
    def label_selector(self) -> str:
        return f"{TEST_LABEL_KEY}={self.test_id}"

    # -- objects ---------------------------------------------------------------------------------------

    def _resource_for(self, ref: Ref) -> Any:
        return self.connection.resource(ref.kind, ref.api_version)

    def _touch(self, ref: Ref) -> None:
        with self._lock:
            self._touched_objects.add(Ref(ref.api_version, ref.kind, ref.name, ref.namespace))

    def _prepare(self, obj: Mapping[str, Any] | str, namespace: str | None) -> tuple[dict[str, Any], Any]:
        body = _load_one(obj) if isinstance(obj, str) else copy.deepcopy(dict(obj))
        resource = self.connection.resource(str(body.get("kind") or ""), str(body.get("apiVersion") or "") or None)
        meta = body.setdefault("metadata", {})
        labels = meta.get("labels") or {}
        meta["labels"] = {**labels, **self.test_label}
        if resource.namespaced:
            meta["namespace"] = namespace or meta.get("namespace") or self.namespace
            if not meta["namespace"]:
                raise KubeError(f"{body.get('kind')} {meta.get('name')} is namespaced: give it a namespace "
                                "(metadata.namespace, namespace=, or the `namespace` fixture)")
        else:
            meta.pop("namespace", None)
        return body, resource

    def _ref(self, obj: ObjLike, namespace: str | None = None) -> Ref:
        ref = Ref.of(obj)
        if ref.namespace is None and (namespace or self.namespace) and self._resource_for(ref).namespaced:
            ref = Ref(ref.api_version, ref.kind, ref.name, namespace or self.namespace, ref.uid)
        return ref

    def track(self, obj: ObjLike) -> Ref:
        """Have teardown delete ``obj`` and wait until it is gone (create/apply do this themselves)."""
        ref = self._ref(obj)
        with self._lock:
            for item in self._tracked:
                if item.ref.key == ref.key:
                    item.ref = ref
                    break
            else:
                self._tracked.append(_Tracked(ref))
        self._touch(ref)
        return ref

    @property
    def tracked(self) -> Refs:
        with self._lock:
            return [t.ref for t in self._tracked]

    def create(self, obj: Mapping[str, Any] | str, *, namespace: str | None = None,
               track: bool = True) -> dict[str, Any]:
        """Create ``obj`` (a dict or one YAML document) with the test label, in the test namespace by default."""
        body, resource = self._prepare(obj, namespace)
        created: dict[str, Any] = self.dynamic.create(resource, body=body,
                                                      namespace=body["metadata"].get("namespace")).to_dict()
        ref = Ref.of(created)
        self.log.record("CREATE", ref, created)
        if track:
            self.track(created)
        else:
            self._touch(ref)
        return created

    def apply(self, manifest: Mapping[str, Any] | str, *, namespace: str | None = None, track: bool = True,
              field_manager: str = FIELD_MANAGER, force: bool = True) -> dict[str, Any]:
        """Server-side apply ``manifest`` (``kubectl apply --server-side``) as ``field_manager``, and track it.

        The object is created when missing; otherwise the fields this manager applied before and left out
        now are removed, and fields other managers own are taken over (``force``, as a test's manifest is
        the truth) or, with ``force=False``, refused with the server's 409 conflict.
        An object of that name that is being deleted is an error that says so (``wait_gone`` it first, or
        use a ``unique_name``), not a silent update of an object about to vanish.
        """
        body, resource = self._prepare(manifest, namespace)
        body["metadata"].pop("managedFields", None)  # the server refuses an apply body that carries them
        ns = body["metadata"].get("namespace")
        name = body["metadata"].get("name")
        if not name:
            raise KubeError(f"apply needs metadata.name; got {_brief(body)}")
        current = self._get_current(resource, name, ns)
        if current is not None:
            _refuse_dying(current)
        result: dict[str, Any] = self.dynamic.server_side_apply(
            resource, body=body, name=name, namespace=ns, field_manager=field_manager, force_conflicts=force,
        ).to_dict()
        _refuse_dying(result)  # deleted between the read and the apply
        ref = Ref.of(result)
        self.log.record("APPLY", ref, result)
        if track:
            self.track(result)
        else:
            self._touch(ref)
        return result

    def _get_current(self, resource: Any, name: str, namespace: str | None) -> dict[str, Any] | None:
        from kubernetes.dynamic.exceptions import NotFoundError

        try:
            return dict(self.dynamic.get(resource, name=name, namespace=namespace).to_dict())
        except NotFoundError:
            return None

    def apply_all(self, manifests: str | Iterable[Mapping[str, Any]], *,
                  namespace: str | None = None) -> Objects:
        """:meth:`apply` each document of a multi-document YAML string (or each dict), in order."""
        docs = _load_all(manifests) if isinstance(manifests, str) else [dict(m) for m in manifests]
        return [self.apply(doc, namespace=namespace) for doc in docs]

    def get(self, obj: ObjLike | str, name: str | None = None, *, namespace: str | None = None,
            api_version: str | None = None) -> dict[str, Any]:
        """The current object: ``kube.get(obj)`` or ``kube.get("ConfigMap", "name")``. Raises NotFoundError."""
        ref = self._resolve(obj, name, namespace, api_version)
        current: dict[str, Any] = self.dynamic.get(self._resource_for(ref), name=ref.name,
                                                   namespace=ref.namespace).to_dict()
        self.log.record("GET", ref, current)
        self._touch(ref)
        return current

    def try_get(self, obj: ObjLike | str, name: str | None = None, *, namespace: str | None = None,
                api_version: str | None = None) -> dict[str, Any] | None:
        """:meth:`get`, or ``None`` when the object does not exist."""
        from kubernetes.dynamic.exceptions import NotFoundError

        try:
            return self.get(obj, name, namespace=namespace, api_version=api_version)
        except NotFoundError:
            return None

    def list(self, kind: str, *, api_version: str | None = None, namespace: str | None = None,
             label_selector: str | None = None, all_namespaces: bool = False) -> Objects:
        """Objects of a kind (in the test namespace by default for namespaced kinds)."""
        resource = self.connection.resource(kind, api_version)
        ns = None if all_namespaces or not resource.namespaced else (namespace or self.namespace)
        result = self.dynamic.get(resource, namespace=ns, label_selector=label_selector).to_dict()
        items: Objects = result.get("items") or []
        for item in items:
            item.setdefault("apiVersion", resource.group_version)
            item.setdefault("kind", resource.kind)
        return items

    def patch(self, obj: ObjLike, patch: Mapping[str, Any] | Sequence[Any], *, kind: str = "merge") -> dict[str, Any]:
        """Patch ``obj``: ``kind`` is ``merge`` (JSON merge patch), ``json`` (JSON patch) or ``strategic``."""
        content_type = {"merge": "application/merge-patch+json", "json": "application/json-patch+json",
                        "strategic": "application/strategic-merge-patch+json"}[kind]
        ref = self._ref(obj)
        result: dict[str, Any] = self.dynamic.patch(self._resource_for(ref), body=patch, name=ref.name,
                                                    namespace=ref.namespace, content_type=content_type).to_dict()
        self.log.record("PATCH", ref, result)
        self._touch(ref)
        return result

    def delete(self, obj: ObjLike | str, name: str | None = None, *, namespace: str | None = None,
               api_version: str | None = None, wait: bool = True, timeout: float = DEFAULT_TIMEOUT,
               propagation_policy: str = "Background") -> None:
        """Delete an object (no error if it is already gone) and, unless ``wait=False``, wait until it is."""
        ref = self._resolve(obj, name, namespace, api_version)
        self._delete(ref, propagation_policy)
        if wait:
            self.wait_gone(ref, timeout=timeout)

    def _delete(self, ref: Ref, propagation_policy: str = "Background") -> dict[str, Any] | None:
        from kubernetes.dynamic.exceptions import NotFoundError

        body: dict[str, Any] = {"propagationPolicy": propagation_policy}
        if ref.uid:
            body["preconditions"] = {"uid": ref.uid}
        try:
            result = self.dynamic.delete(self._resource_for(ref), name=ref.name, namespace=ref.namespace,
                                         body=body).to_dict()
        except NotFoundError:
            self.log.record("GONE", ref)
            return None
        except Exception as exc:  # a uid precondition failing means that object is gone, replaced by another
            if getattr(exc, "status", None) == 409 and ref.uid:
                self.log.record("GONE", ref)
                return None
            raise
        self.log.record("DELETE", ref, result if result.get("metadata") else None)
        self._touch(ref)
        return dict(result)

    def _resolve(self, obj: ObjLike | str, name: str | None, namespace: str | None,
                 api_version: str | None) -> Ref:
        if isinstance(obj, str):
            if not name:
                raise KubeError(f"name the {obj}: kube.get({obj!r}, 'name')")
            resource = self.connection.resource(obj, api_version)
            ns = (namespace or self.namespace) if resource.namespaced else None
            if resource.namespaced and not ns:
                raise KubeError(f"{resource.kind} {name} is namespaced: pass namespace=")
            return Ref(resource.group_version, resource.kind, name, ns)
        return self._ref(obj, namespace)

    def exists(self, obj: ObjLike | str, name: str | None = None, *, namespace: str | None = None,
               api_version: str | None = None) -> bool:
        return self.try_get(obj, name, namespace=namespace, api_version=api_version) is not None

    def assert_absent(self, obj: ObjLike | str, name: str | None = None, *, namespace: str | None = None,
                      api_version: str | None = None) -> None:
        """Fail, saying what the object is and what holds it, if it exists."""
        ref = self._resolve(obj, name, namespace, api_version)
        current = self.try_get(ref)
        if current is not None:
            found = Ref.of(current)
            raise AssertionError(f"expected {ref} to be absent, but it exists (uid {found.uid}, resourceVersion "
                                 f"{_meta(current).get('resourceVersion')}): " + "; ".join(holders(current)))

    # -- watch-based waits -------------------------------------------------------------------------------

    def _list_one(self, ref: Ref) -> tuple[dict[str, Any] | None, str]:
        resource = self._resource_for(ref)
        result = self.dynamic.get(resource, namespace=ref.namespace,
                                  field_selector=f"metadata.name={ref.name}").to_dict()
        items = result.get("items") or []
        obj = items[0] if items else None
        if obj is not None:
            obj.setdefault("apiVersion", resource.group_version)
            obj.setdefault("kind", resource.kind)
        self.log.record("LIST", ref, obj)
        return obj, str(_meta(result).get("resourceVersion") or "")

    def _events(self, ref: Ref, resource_version: str, seconds: float) -> Iterator[tuple[str, dict[str, Any]]]:
        """A watch on one object from ``resource_version`` for at most ``seconds`` (it may end earlier)."""
        from kubernetes import watch

        resource = self._resource_for(ref)
        watcher = watch.Watch()  # type: ignore[no-untyped-call]
        stream = watcher.stream(  # type: ignore[no-untyped-call]
            resource.get, namespace=ref.namespace, field_selector=f"metadata.name={ref.name}",
            resource_version=resource_version, serialize=False,
            timeout_seconds=max(1, math.ceil(seconds)), _request_timeout=(10, max(seconds, 0.05)),
        )
        try:
            for event in stream:
                if isinstance(event, dict):  # blank keep-alive lines come through as None
                    yield str(event["type"]), dict(event["raw_object"])
        finally:
            watcher.stop()  # type: ignore[no-untyped-call]
            stream.close()

    def _follow(self, start: ObjLike, check: Callable[[dict[str, Any] | None], bool], *, timeout: float,
                what: str, explain: Callable[[dict[str, Any] | None], str]) -> dict[str, Any] | None:
        """Follow one object from the state given (or a fresh list) until ``check(state)`` holds; ``state`` is
        ``None`` while the object does not exist. Raises ``WaitTimeout`` saying what was seen last."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        ref = self._ref(start)
        self._touch(ref)
        began = time.monotonic()
        deadline = began + timeout
        state: dict[str, Any] | None
        given_rv = "" if isinstance(start, Ref) else str(_meta(start).get("resourceVersion") or "")
        if given_rv:
            state, rv = dict(start), given_rv  # type: ignore[arg-type]
        else:
            state, rv = self._list_one(ref)
        seen = 1
        while True:
            if check(state):
                return state
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                for type_, obj in self._events(ref, rv, remaining):
                    if type_ == "BOOKMARK":
                        rv = str(_meta(obj).get("resourceVersion") or rv)
                        continue
                    seen += 1
                    rv = str(_meta(obj).get("resourceVersion") or rv)
                    state = None if type_ == "DELETED" else obj
                    self.log.record(type_, ref, obj)
                    if check(state) or time.monotonic() >= deadline:
                        break
            except ApiException as exc:
                if exc.status != 410:
                    raise
                state, rv = self._list_one(ref)  # our resourceVersion was compacted away: list again
            except (urllib3.exceptions.HTTPError, OSError):
                pass  # the stream timed out or broke; watch again from the last resourceVersion
        elapsed = time.monotonic() - began
        message = (f"{what}: timed out after {timeout:g}s waiting for {ref}\n"
                   f"  states seen: {seen}, elapsed {elapsed:.2f}s\n  last state: {explain(state)}")
        raise WaitTimeout(message, description=f"{what} {ref}", attempts=seen, elapsed=elapsed, last_value=state)

    def wait_for(self, obj: ObjLike, condition: Callable[[dict[str, Any]], object], *,
                 timeout: float = DEFAULT_TIMEOUT, description: str | None = None) -> dict[str, Any]:
        """Watch ``obj`` until ``condition(object)`` is true, and return that state of the object.

        Starts at the resourceVersion of ``obj`` when it has one, so each later state is checked in order
        (a state that passes by quickly still counts); with a ``Ref``, at a fresh list.
        ``condition`` may raise ``AssertionError`` to mean "not yet".
        """
        last_error: list[str] = []
        name = description or getattr(condition, "__name__", "condition")

        def check(state: dict[str, Any] | None) -> bool:
            if state is None:
                return False
            try:
                return bool(condition(state))
            except AssertionError as exc:
                last_error[:] = [str(exc)]
                return False

        def explain(state: dict[str, Any] | None) -> str:
            if state is None:
                return "the object does not exist"
            why = f"; condition said: {last_error[0]}" if last_error else ""
            body = {k: v for k, v in state.items() if k not in ("apiVersion", "kind", "metadata")}
            return (f"resourceVersion {_meta(state).get('resourceVersion')}, {name} is false{why}\n"
                    f"  {_brief(body, 600)}")

        result = self._follow(obj, check, timeout=timeout, what=f"wait_for({name})", explain=explain)
        assert result is not None
        return result

    def wait_gone(self, obj: ObjLike, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until ``obj`` no longer exists (or exists only as a new object with another uid).

        On timeout the message says what holds it: deletionTimestamp and grace period, finalizers,
        ownerReferences, and for a namespace the content its controller reports as remaining.
        """
        ref = self._ref(obj)
        uid = ref.uid

        def check(state: dict[str, Any] | None) -> bool:
            return state is None or bool(uid and _meta(state).get("uid") != uid)

        def explain(state: dict[str, Any] | None) -> str:
            assert state is not None
            return "still exists:\n" + "\n".join(f"    {line}" for line in holders(state))

        self._follow(obj, check, timeout=timeout, what="wait_gone", explain=explain)
        self.log.record("GONE", ref)

    def wait_for_condition(self, obj: ObjLike, type_: str, status: str = "True", *,
                           timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Wait until ``status.conditions`` has ``type_`` at ``status``, reported for the current generation
        (a condition's ``observedGeneration``, or ``status.observedGeneration``, must have caught up with
        ``metadata.generation`` when present: an old Ready does not count for a new spec)."""

        def condition(state: dict[str, Any]) -> bool:
            generation = _meta(state).get("generation")
            st = state.get("status") or {}
            for cond in st.get("conditions") or []:
                if cond.get("type") != type_:
                    continue
                observed = cond.get("observedGeneration", st.get("observedGeneration"))
                if generation is not None and observed is not None and observed < generation:
                    raise AssertionError(f"{type_} is from generation {observed}, the object is at {generation}")
                return str(cond.get("status")) == status
            return False

        return self.wait_for(obj, condition, timeout=timeout, description=f"condition {type_}={status}")

    def wait_for_jsonpath(self, obj: ObjLike, path: str, value: Any, *,
                          timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Wait until the kubectl-style JSONPath ``path`` selects ``value`` (``"{.status.phase}"``, ``"Running"``).
        See :mod:`kubeproof.testing.jsonpath` for the supported syntax."""
        jsonpath.find(path, {})  # reject a bad path before watching

        def condition(state: dict[str, Any]) -> bool:
            if jsonpath.matches(path, state, value):
                return True
            raise AssertionError(f"{path} is {jsonpath.find(path, state)!r}, want {value!r}")

        return self.wait_for(obj, condition, timeout=timeout, description=f"{path} == {value!r}")

    def wait_observed(self, obj: ObjLike, *, watchers: int = 1, observers: Sequence[Callable[[], Any]] = (),
                      resource_version: str | None = None,
                      condition: Callable[[dict[str, Any]], object] | None = None,
                      timeout: float = DEFAULT_TIMEOUT) -> None:
        """A readiness barrier: wait until ``watchers`` independent watchers (and each of ``observers``) hold
        ``obj`` at its resourceVersion or later. See :func:`kubeproof.testing.barriers.wait_observed`."""
        from kubeproof.testing.barriers import wait_observed

        wait_observed(self, obj, watchers=watchers, observers=observers, resource_version=resource_version,
                      condition=condition, timeout=timeout)

    # -- cleanup, leaks, diagnostics ----------------------------------------------------------------------

    def cleanup(self, timeout: float | None = None) -> CleanupReport:
        """Delete every tracked object, newest first, waiting for each to be gone before the next; bounded by
        ``timeout`` in all (default ``cleanup_timeout``). Objects that do not go are reported, not hidden."""
        budget = self.cleanup_timeout if timeout is None else timeout
        report = CleanupReport()
        while self._forwards:
            self._forwards.pop().stop()
        began = time.monotonic()
        deadline = began + budget
        with self._lock:
            tracked = [t.ref for t in reversed(self._tracked)]
            self._tracked.clear()
        for ref in tracked:
            try:
                self._delete(ref)
                self.wait_gone(ref, timeout=max(0.0, deadline - time.monotonic()))
                report.gone.append(ref)
            except WaitTimeout as exc:
                state = exc.last_value
                report.stuck.append((ref, holders(state) if isinstance(state, Mapping) else [str(exc)]))
            except Exception as exc:
                report.errors.append(f"{ref}: {type(exc).__name__}: {exc}")
        report.elapsed = time.monotonic() - began
        return report

    def labelled_leftovers(self) -> Refs:
        """Objects on the server still carrying this test's label (what the test leaked)."""
        found: Refs = []
        for resource in self.connection.listable_resources():
            if resource.kind == "Event":
                continue
            try:
                result = self.dynamic.get(resource, label_selector=self.label_selector).to_dict()
            except Exception:  # a kind the server lists in discovery but refuses to list: not ours to judge
                continue
            for item in result.get("items") or []:
                meta = _meta(item)
                found.append(Ref(resource.group_version, resource.kind, str(meta.get("name")),
                                 meta.get("namespace") or None, meta.get("uid") or None))
        return found

    def touched(self) -> Refs:
        with self._lock:
            return sorted(self._touched_objects, key=str)

    def diagnostics(self, limit: int = 200) -> str:
        """The API events of the objects this test touched: the server's timeline on the in-process
        embedded cluster, else the toolkit's own log of the states it saw."""
        touched = self.touched()
        if self.connection.cluster is not None:
            namespaces = {r.namespace for r in touched if r.namespace}
            namespaces |= {r.name for r in touched if r.kind == "Namespace"}
            names = {(r.namespace or "", r.name) for r in touched}
            entries = [e for e in self.connection.cluster.timeline.entries(since=self.started)
                       if e.namespace in namespaces or (e.namespace, e.name) in names]
            header = f"API timeline of the embedded cluster ({len(entries)} events touching this test's objects)"
            lines = [e.describe() for e in entries]
        else:
            observations = self.log.entries()
            header = f"what the toolkit saw ({len(observations)} observations; server: {self.connection.kubeconfig})"
            lines = [o.describe() for o in observations]
        if len(lines) > limit:
            lines = [f"... {len(lines) - limit} earlier events left out", *lines[-limit:]]
        return "\n".join([header, *lines]) if lines else header + "\n(none)"


def _refuse_dying(obj: Mapping[str, Any]) -> None:
    if _meta(obj).get("deletionTimestamp"):
        raise KubeError(f"{Ref.of(obj)} exists and is being deleted; wait for it to go (kube.wait_gone) "
                        "or use a unique_name(). " + "; ".join(holders(obj)))


def _load_one(text: str) -> dict[str, Any]:
    docs = _load_all(text)
    if len(docs) != 1:
        raise KubeError(f"expected one YAML document, got {len(docs)}; use apply_all() for several")
    return docs[0]


def _load_all(text: str) -> Objects:
    docs = [d for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        if not isinstance(doc, dict):
            raise KubeError(f"a manifest must be a mapping, got {_brief(doc)}")
    return docs
