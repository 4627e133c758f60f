"""The pytest plugin end to end: backends and their settings, failure diagnostics, cleanup at teardown,
xdist. Each case runs an inner pytest session in a subprocess (pytester)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubeproof.testing import BackendError, Kube, Settings

# Each case starts an inner pytest session in a subprocess (some with xdist workers and several clusters):
# on a loaded CI machine that takes minutes, not seconds. These are bounds on a hang, never waits.
TIMEOUT = 480
pytestmark = pytest.mark.timeout(TIMEOUT + 60)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=TIMEOUT)


# -- settings ----------------------------------------------------------------------------------------------


def test_settings_default_to_the_in_process_backend_with_the_leak_guard_failing() -> None:
    settings = Settings.resolve(env={})
    assert (settings.backend, settings.leak_guard, settings.kubeconfig) == ("inprocess", "fail", None)


def test_settings_precedence_is_command_line_then_environment_then_ini() -> None:
    ini = {"kube_backend": "subprocess", "kube_leak_guard": "warn", "kube_leak_grace": "0.5"}.get
    env = {"KUBEPROOF_BACKEND": "inprocess", "KUBEPROOF_LEAK_GUARD": "off"}
    cli = {"kube_leak_guard": "fail"}.get
    settings = Settings.resolve(option=cli, ini=ini, env=env)
    assert (settings.backend, settings.leak_guard, settings.leak_grace) == ("inprocess", "fail", 0.5)
    assert Settings.resolve(ini=ini, env={}).backend == "subprocess"


def test_a_kubeconfig_alone_selects_the_kubeconfig_backend() -> None:
    settings = Settings.resolve(env={"KUBEPROOF_KUBECONFIG": "/tmp/kc", "KUBEPROOF_CONTEXT": "prod"})
    assert (settings.backend, settings.kubeconfig, settings.context) == ("kubeconfig", "/tmp/kc", "prod")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(BackendError, match="unknown kube backend 'cloud'; choose from inprocess, subprocess"):
        Settings.resolve(env={"KUBEPROOF_BACKEND": "cloud"})
    with pytest.raises(BackendError, match="unknown leak guard mode 'loud'"):
        Settings.resolve(env={"KUBEPROOF_LEAK_GUARD": "loud"})
    with pytest.raises(BackendError, match="leak_grace must be a number of seconds"):
        Settings.resolve(env={"KUBEPROOF_LEAK_GRACE": "soon"})


def test_a_bad_ini_setting_is_a_usage_error(inner: pytest.Pytester) -> None:
    inner.makeini("[pytest]\nkube_backend = cloud\n")
    inner.makepyfile("def test_nothing(): pass")
    result = run(inner)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown kube backend 'cloud'*"])


# -- diagnostics and cleanup ---------------------------------------------------------------------------------


def test_a_failing_test_reports_the_api_timeline_of_its_objects(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        def test_fails(kube, namespace):
            cm = kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "evidence"}})
            kube.patch(cm, {"data": {"k": "v"}})
            kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
                        namespace="default", track=False)
            assert False, "boom"

        def test_passes(kube, namespace):
            kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "quiet"}})
    """)
    result = run(inner, "--kube-leak-guard=off")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert out.count("kubeproof: API events") == 1
    result.stdout.fnmatch_lines([
        "*kubeproof: API events*",
        "API timeline of the embedded cluster (* events touching this test's objects)",
        "ADDED    namespaces test-*",
        "ADDED    configmaps test-*/evidence rv=*",
        "MODIFIED configmaps test-*/evidence rv=*",
        "ADDED    configmaps default/x rv=*",
    ])
    assert "quiet" not in out


def test_teardown_waits_for_cleanup_and_reports_what_is_stuck(inner: pytest.Pytester) -> None:
    inner.makeini(INNER_INI_SHORT_CLEANUP)
    inner.makepyfile("""
        def test_leaves_a_finalizer(kube, namespace):
            kube.create({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "held", "finalizers": ["example.com/never"]}})
    """)
    result = run(inner)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_leaves_a_finalizer*",
        "cleanup: 2 object(s) still there after *s (0 went away):",
        "  ConfigMap test-*/held (uid *)",
        "    deletionTimestamp=* deletionGracePeriodSeconds=0",
        "    finalizers=['example.com/never'] (each must be removed by whoever added it)",
        "  Namespace test-* (uid *)",
        "    deletionTimestamp=*",
        "*condition NamespaceFinalizersRemaining: *example.com/never*",
    ])


INNER_INI_SHORT_CLEANUP = """
[pytest]
kube_leak_grace = 1
kube_cleanup_timeout = 0.5
"""


# -- backends -------------------------------------------------------------------------------------------


BACKEND_TESTS = """
    import pytest
    from kubeproof.testing import EmbeddedOnly

    def test_works(kube, namespace):
        cm = kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "1"}})
        kube.patch(cm, {"data": {"k": "2"}})
        assert kube.wait_for(cm, lambda o: o["data"]["k"] == "2", timeout=10)["data"]["k"] == "2"

    def test_embedded_powers(kube):
        assert kube.is_embedded is EMBEDDED
        if kube.connection.cluster is None:
            with pytest.raises(EmbeddedOnly):
                kube.embedded()

    @pytest.mark.kube_fresh_cluster
    def test_fresh(kube):
        assert {ns["metadata"]["name"] for ns in kube.list("namespaces")} >= {"default"}

    def test_fails(kube, namespace):
        kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "evidence"}})
        assert False
"""


def test_the_subprocess_backend(inner: pytest.Pytester) -> None:
    inner.makepyfile(BACKEND_TESTS.replace("EMBEDDED", "True"))
    result = run(inner, "--kube-backend=subprocess", "-rs")
    result.assert_outcomes(passed=3, failed=1)
    # no in-process timeline there: the report shows what the toolkit itself saw
    result.stdout.fnmatch_lines([
        "*kubeproof: API events*",
        "what the toolkit saw (* observations; server: *kubeconfig)",
        "CREATE   Namespace test-* rv=*",
        "CREATE   ConfigMap test-*/evidence rv=*",
    ])


def test_the_kubeconfig_backend_with_xdist(inner: pytest.Pytester, kube_clusters: Any) -> None:
    pytest.importorskip("xdist")
    (remote,) = kube_clusters(1)
    inner.makepyfile(BACKEND_TESTS.replace("EMBEDDED", "False") + """
    import os

    @pytest.mark.parametrize("n", range(4))
    def test_names_carry_the_worker(kube, namespace, n):
        assert namespace.startswith("test-" + os.environ["PYTEST_XDIST_WORKER"] + "-")
""")
    result = run(inner, f"--kubeconfig={remote.connection.kubeconfig}", "-n", "2", "-rs")
    result.assert_outcomes(passed=6, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*kube_fresh_cluster needs an embedded backend; this run uses kubeconfig*"])
    # everything the inner tests made on the shared cluster is gone again
    names = [ns["metadata"]["name"] for ns in remote.list("namespaces")]
    assert [name for name in names if name.startswith("test-")] == []


def test_one_embedded_cluster_per_xdist_worker(inner: pytest.Pytester, tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    inner.makepyfile(f"""
        import json, os, pytest

        @pytest.mark.parametrize("n", range(6))
        def test_record(kube, n):
            record = {{"worker": os.environ["PYTEST_XDIST_WORKER"], "url": kube.embedded().url}}
            with open({str(tmp_path / "seen.jsonl")!r}, "a") as fh:
                fh.write(json.dumps(record) + "\\n")
    """)
    result = run(inner, "-n", "2")
    result.assert_outcomes(passed=6)
    seen = [json.loads(line) for line in (tmp_path / "seen.jsonl").read_text().splitlines()]
    urls_by_worker: dict[str, set[str]] = {}
    for record in seen:
        urls_by_worker.setdefault(record["worker"], set()).add(record["url"])
    assert all(len(urls) == 1 for urls in urls_by_worker.values()), urls_by_worker
    all_urls = [url for urls in urls_by_worker.values() for url in urls]
    assert len(all_urls) == len(set(all_urls))


def test_the_plugin_is_registered(inner: pytest.Pytester) -> None:
    result = run(inner, "--help")
    result.stdout.fnmatch_lines(["*--kube-backend=*", "*--kubeconfig=*", "*--kube-context=*",
                                 "*--kube-leak-guard=*"])


def test_kube_is_a_real_handle(kube: Kube) -> None:
    assert isinstance(kube, Kube)
    assert kube.test_id.startswith("test-kube-is-a-real-handle-")


# -- kube_clusters on every backend ---------------------------------------------------------------------


CLUSTERS_TESTS = """
    from kubeproof.testing import unique_name

    def test_two_clusters(kube_clusters):
        east, west = kube_clusters(2)
        assert east.connection.kubeconfig != west.connection.kubeconfig or (
            east.connection.context != west.connection.context)
        ns = unique_name("shared")
        for side in (east, west):
            side.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        east.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "only-east"}}, namespace=ns)
        assert east.exists("ConfigMap", "only-east", namespace=ns)
        west.assert_absent("ConfigMap", "only-east", namespace=ns)
"""


def test_kube_clusters_on_the_subprocess_backend(inner: pytest.Pytester) -> None:
    inner.makepyfile(CLUSTERS_TESTS + """
    def test_cluster_arguments_need_the_inprocess_backend(kube_clusters):
        kube_clusters(1, controllers=[])
""")
    result = run(inner, "--kube-backend=subprocess", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*kube_clusters(**{'controllers': []}): Cluster arguments need the inprocess backend; "
        "this run uses subprocess*",
    ])


def two_context_kubeconfig(path: Path, east: Kube, west: Kube) -> Path:
    """One kubeconfig with a context per cluster, named east and west."""
    import yaml

    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [],
                              "current-context": "east"}
    for name, kube in (("east", east), ("west", west)):
        config = yaml.safe_load(kube.connection.kubeconfig.read_text())
        merged["clusters"].append({"name": name, "cluster": config["clusters"][0]["cluster"]})
        merged["users"].append({"name": name, "user": config["users"][0]["user"]})
        merged["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    path.write_text(yaml.safe_dump(merged))
    return path


def test_kube_clusters_on_the_kubeconfig_backend_uses_the_listed_contexts(
        inner: pytest.Pytester, kube_clusters: Any, tmp_path: Path) -> None:
    east, west = kube_clusters(2)
    kubeconfig = two_context_kubeconfig(tmp_path / "kubeconfig", east, west)
    inner.makepyfile(CLUSTERS_TESTS)
    result = run(inner, f"--kubeconfig={kubeconfig}", "--kube-contexts=east,west")
    result.assert_outcomes(passed=1)
    # and without enough contexts listed the test is skipped, saying what is missing
    short = run(inner, f"--kubeconfig={kubeconfig}", "--kube-contexts=east", "-rs")
    short.assert_outcomes(skipped=1)
    short.stdout.fnmatch_lines([
        "*kube_clusters needs 2 cluster(s) on the kubeconfig backend, but --kube-contexts names 1 (east); "
        "list one kubeconfig context per cluster, comma-separated*",
    ])
    for side in (east, west):
        assert [n for n in (ns["metadata"]["name"] for ns in side.list("namespaces")) if n.startswith("shared-")] == []
