"""The kubeproof pytest plugin (entry point ``pytest11: kubeproof``).

Fixtures: ``kube`` (a :class:`~kubeproof.testing.Kube` for the test), ``namespace`` (alias
``kube_namespace``), ``kube_clusters`` (a factory of extra clusters), ``kube_backend`` (the
session's cluster source). Marker: ``@pytest.mark.kube_fresh_cluster`` (a new embedded cluster for this
test alone). Options: ``--kube-backend``, ``--kubeconfig``, ``--kube-context``, ``--kube-contexts``,
``--kube-leak-guard`` (also as ini keys ``kube_*`` and environment variables ``KUBEPROOF_*``). On failure,
the report gets a section with the API events of the objects the test touched.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from kubeproof.testing.backends import (
    BACKENDS,
    LEAK_GUARD_MODES,
    Backend,
    BackendError,
    InProcessBackend,
    KubeconfigBackend,
    Settings,
    make_backend,
)
from kubeproof.testing.kube import Connection, Kube
from kubeproof.testing.leaks import KubeproofLeakWarning, LeakError, LeakGuard, describe, guard_coroutine, report
from kubeproof.testing.names import label_value_for, unique_name

SETTINGS = pytest.StashKey[Settings]()
GUARD = pytest.StashKey[LeakGuard]()
KUBES = pytest.StashKey[list[Kube]]()

_INI_HELP = {
    "kube_backend": f"where tests get their cluster: {', '.join(BACKENDS)} (default inprocess)",
    "kube_kubeconfig": "kubeconfig for the kubeconfig backend",
    "kube_context": "kubeconfig context for the kubeconfig backend",
    "kube_contexts": "comma-separated kubeconfig contexts kube_clusters hands out on the kubeconfig backend",
    "kube_leak_guard": f"what leaks do: {', '.join(LEAK_GUARD_MODES)} (default fail)",
    "kube_leak_grace": "seconds background work gets to finish after a test before it counts as leaked (2)",
    "kube_cleanup_timeout": "seconds teardown waits in all for a test's objects to be gone (30)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kubeproof", "kubeproof: Kubernetes tests that do not flake")
    group.addoption("--kube-backend", dest="kube_backend", choices=BACKENDS, default=None,
                    help="inprocess (default): an embedded cluster per worker; subprocess: `kubeproof serve` "
                         "per worker; kubeconfig: the cluster of --kubeconfig/--kube-context. "
                         "Env: KUBEPROOF_BACKEND.")
    group.addoption("--kubeconfig", dest="kube_kubeconfig", default=None,
                    help="kubeconfig of the cluster to test against (implies --kube-backend=kubeconfig). "
                         "Env: KUBEPROOF_KUBECONFIG.")
    group.addoption("--kube-context", dest="kube_context", default=None,
                    help="context in that kubeconfig. Env: KUBEPROOF_CONTEXT.")
    group.addoption("--kube-contexts", dest="kube_contexts", default=None,
                    help="comma-separated contexts of --kubeconfig that the kube_clusters fixture hands out, "
                         "one per cluster, on the kubeconfig backend. Env: KUBEPROOF_CONTEXTS.")
    group.addoption("--kube-leak-guard", dest="kube_leak_guard", choices=LEAK_GUARD_MODES, default=None,
                    help="leaked threads, tasks, thread exceptions and labelled objects: fail (default), warn "
                         "or off. Env: KUBEPROOF_LEAK_GUARD.")
    for key, text in _INI_HELP.items():
        parser.addini(key, text, default="")


@pytest.hookimpl(trylast=True)  # after pytest's own thread/unraisable hooks, so the guard wraps them
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kube_fresh_cluster: give this test a new embedded cluster of its own (embedded backends)"
    )
    try:
        settings = Settings.resolve(option=lambda dest: config.getoption(dest, None),
                                    ini=lambda key: config.getini(key))
    except BackendError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SETTINGS] = settings
    if settings.leak_guard != "off":
        guard = LeakGuard(grace=settings.leak_grace)
        guard.install()
        config.stash[GUARD] = guard


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(GUARD, None)
    if guard is not None:
        guard.uninstall()


def _settings(config: pytest.Config) -> Settings:
    return config.stash[SETTINGS]


# -- leak guard hooks ---------------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    guard = item.config.stash.get(GUARD, None)
    if guard is not None:
        guard.begin(item.nodeid)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Generator[
        None, Any, Any]:
    guard = request.config.stash.get(GUARD, None)
    wide = guard is not None and fixturedef.scope != "function"
    if wide:
        assert guard is not None
        guard.wide_scope_depth += 1
    try:
        return (yield)
    finally:
        if wide:
            assert guard is not None
            guard.wide_scope_depth -= 1


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    guard = item.config.stash.get(GUARD, None)
    original = getattr(item, "obj", None)
    if guard is not None and original is not None and inspect.iscoroutinefunction(original):
        item.obj = guard_coroutine(original, guard, item.nodeid)  # type: ignore[attr-defined]
        try:
            return (yield)
        finally:
            item.obj = original  # type: ignore[attr-defined]
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    guard = item.config.stash.get(GUARD, None)
    try:
        result = yield
    except BaseException:
        # Teardown already failed (a fixture, or cleanup): that error stands, and leaks become a warning.
        if guard is not None:
            problems = guard.check(item.nodeid)
            if problems and _settings(item.config).leak_guard != "off":
                warnings.warn(KubeproofLeakWarning(describe(problems, item.nodeid)), stacklevel=1)
        raise
    if guard is not None:
        _report(guard.check(item.nodeid), item.config, item.nodeid)
    return result


def _report(problems: list[str], config: pytest.Config, test_id: str) -> None:
    try:
        report(problems, _settings(config).leak_guard, test_id)
    except LeakError as exc:
        pytest.fail(str(exc), pytrace=False)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    guard = config.stash.get(GUARD, None)
    late = guard.take_late() if guard is not None else []
    if late:
        terminalreporter.section("kubeproof leak guard: exceptions after their test finished", red=True)
        for text in late:
            terminalreporter.line(text)


@pytest.hookimpl(trylast=True)  # after other plugins' and conftests' session-end work, which may set threads off
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    guard = session.config.stash.get(GUARD, None)
    if guard is not None:
        guard.finish_session()
    if guard is not None and guard.has_late() and _settings(session.config).leak_guard == "fail":
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- failure diagnostics ------------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
        None, pytest.TestReport, pytest.TestReport]:
    rep = yield
    kubes: list[Kube] = item.stash.get(KUBES, [])
    if rep.failed:
        for index, kube in enumerate(kubes):
            title = "kubeproof: API events" + (f" (cluster {index + 1})" if index else "")
            try:
                rep.sections.append((title, kube.diagnostics()))
            except Exception as exc:  # diagnostics must never hide the failure itself
                rep.sections.append((title, f"(could not collect: {type(exc).__name__}: {exc})"))
    return rep


# -- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kube_backend(pytestconfig: pytest.Config) -> Iterator[Backend]:
    """The session's cluster source, started once per process (so once per xdist worker)."""
    backend = make_backend(_settings(pytestconfig))
    try:
        backend.start()
    except BackendError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture(scope="session")
def _kube_connection(kube_backend: Backend) -> Connection:
    assert kube_backend.connection is not None
    return kube_backend.connection


def _finish(request: pytest.FixtureRequest, kube: Kube) -> None:
    """Teardown of one handle: delete and await what it tracked, then look for labelled leftovers."""
    settings = _settings(request.config)
    result = kube.cleanup()
    leftovers = kube.labelled_leftovers() if settings.leak_guard != "off" else []
    if not result.ok:
        pytest.fail(result.describe(), pytrace=False)
    if leftovers:
        _report([f"object labelled {kube.label_selector} survives teardown: {ref} (uid {ref.uid}); create it "
                "through kube.create/apply (tracked), or delete it in the test" for ref in leftovers],
                request.config, request.node.nodeid)


@pytest.fixture
def kube(request: pytest.FixtureRequest, kube_backend: Backend) -> Iterator[Kube]:
    """A cluster handle for this test: tracked create/apply/delete, waits, a test label, diagnostics.

    With ``@pytest.mark.kube_fresh_cluster`` it is a new embedded cluster for this test alone."""
    settings = _settings(request.config)
    fresh: Backend | None = None
    if request.node.get_closest_marker("kube_fresh_cluster") is not None:
        if not kube_backend.can_make_fresh:
            pytest.skip(f"kube_fresh_cluster needs an embedded backend; this run uses {kube_backend.name}")
        fresh = kube_backend.fresh()
        connection = fresh.start()
    else:
        connection = request.getfixturevalue("_kube_connection")
    handle = Kube(connection, test_id=label_value_for(request.node.nodeid),
                  cleanup_timeout=settings.cleanup_timeout)
    request.node.stash.setdefault(KUBES, []).append(handle)
    try:
        yield handle
        _finish(request, handle)
    finally:
        if fresh is not None:
            fresh.stop()


@pytest.fixture
def kube_namespace(kube: Kube) -> str:
    """A namespace for this test alone (a unique name); ``kube`` creates into it by default. Teardown
    deletes it after everything created in it, and waits until it is gone."""
    name = unique_name("test")
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    kube.namespace = name
    return name


@pytest.fixture
def namespace(kube_namespace: str) -> str:
    """Same as ``kube_namespace``."""
    return kube_namespace


@pytest.fixture
def kube_clusters(request: pytest.FixtureRequest, kube_backend: Backend) -> Iterator[Callable[..., list[Kube]]]:
    """A factory of extra clusters: ``east, west = kube_clusters(2)``, each with its own ``Kube``; all are
    cleaned up (and, when made for the test, stopped) at teardown.

    * ``inprocess``: new in-process ``Cluster`` objects (keyword arguments go to ``Cluster``);
    * ``subprocess``: new ``kubeproof serve`` processes (a test passing keyword arguments is skipped);
    * ``kubeconfig``: the contexts of ``--kube-contexts`` (``kube_contexts``, ``KUBEPROOF_CONTEXTS``), in
      order, on the same kubeconfig; asking for more clusters than are listed skips the test, saying so.
    """
    settings = _settings(request.config)
    started: list[tuple[Backend, Kube]] = []
    handed_out = 0

    def make(count: int = 1, **cluster_kwargs: Any) -> list[Kube]:
        nonlocal handed_out
        made = []
        for _ in range(count):
            backend = _extra_cluster(kube_backend, settings, handed_out, cluster_kwargs)
            handed_out += 1
            try:
                connection = backend.start()
            except BackendError as exc:
                pytest.fail(str(exc), pytrace=False)
            handle = Kube(connection, test_id=label_value_for(request.node.nodeid),
                          cleanup_timeout=settings.cleanup_timeout)
            started.append((backend, handle))
            request.node.stash.setdefault(KUBES, []).append(handle)
            made.append(handle)
        return made

    try:
        yield make
        failures = [h.cleanup() for _, h in started]
        problems = [r.describe() for r in failures if not r.ok]
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)
    finally:
        for backend, _ in reversed(started):
            backend.stop()


def _extra_cluster(session: Backend, settings: Settings, index: int, cluster_kwargs: dict[str, Any]) -> Backend:
    """The source of the ``index``-th cluster a ``kube_clusters`` factory hands out."""
    if isinstance(session, InProcessBackend):
        return InProcessBackend(**cluster_kwargs)
    if cluster_kwargs:
        pytest.skip(f"kube_clusters(**{cluster_kwargs!r}): Cluster arguments need the inprocess backend; "
                    f"this run uses {session.name}")
    if session.can_make_fresh:
        return session.fresh()
    contexts = settings.contexts
    if index >= len(contexts):
        pytest.skip(f"kube_clusters needs {index + 1} cluster(s) on the {session.name} backend, but "
                    f"--kube-contexts names {len(contexts)}"
                    + (f" ({', '.join(contexts)})" if contexts else "")
                    + "; list one kubeconfig context per cluster, comma-separated")
    return KubeconfigBackend(settings.kubeconfig, contexts[index])
