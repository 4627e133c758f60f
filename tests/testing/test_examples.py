"""The naive versions of the patterns in examples/, run in inner pytest sessions: each fails, false-passes
or is caught, where the robust version in examples/ passes. (The leak guard's catches are in
test_leaks.py; the readiness barrier's failures in test_barriers.py.)"""

from __future__ import annotations

import pytest

# Each case starts an inner pytest session in a subprocess (some with xdist workers and several clusters):
# on a loaded CI machine that takes minutes, not seconds. These are bounds on a hang, never waits.
TIMEOUT = 480
pytestmark = pytest.mark.timeout(TIMEOUT + 60)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=TIMEOUT)


def test_reusing_a_name_before_the_old_object_is_gone_is_a_409(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        from kubeproof.testing import unique_name

        def role(name):
            return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": name, "finalizers": ["example.com/cleanup"]}, "rules": []}

        def test_naive(kube):
            name = unique_name("reader")
            first = kube.create(role(name))
            kube.delete(first, wait=False)  # like a client that only issues the delete
            try:
                kube.create(role(name))  # the finalizer is still there: 409
            finally:
                kube.patch(first, {"metadata": {"finalizers": None}})

        def test_robust(kube):
            name = unique_name("reader")
            first = kube.create(role(name))
            kube.delete(first, wait=False)
            kube.patch(first, {"metadata": {"finalizers": None}})  # the controller's cleanup
            kube.wait_gone(first)
            kube.patch(kube.create(role(name)), {"metadata": {"finalizers": None}})
    """)
    result = run(inner)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*_ test_naive _*",
        "E * kubernetes.dynamic.exceptions.ConflictError: 409*",
        "*object is being deleted: clusterroles.rbac.authorization.k8s.io \\\"reader-*\\\" already exists*",
        "FAILED *::test_naive*",
    ])


def test_fixed_names_and_cluster_wide_selectors_collide(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        from kubeproof.testing import unique_name

        def role(name):
            return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": name, "labels": {"app": "web"}}, "rules": []}

        def test_earlier_leaves_an_object(kube):
            # made outside the toolkit, unlabelled, not cleaned up: what an earlier test or run leaves behind
            kube.create(role("reader"), track=False)

        def test_naive_fixed_name(kube):
            kube.create(role("reader"))

        def test_naive_cluster_wide_selector(kube):
            kube.create(role(unique_name("reader")))
            assert len(kube.list("ClusterRole", label_selector="app=web")) == 1

        def test_robust(kube):
            kube.create(role(unique_name("reader")))
            assert len(kube.list("ClusterRole", label_selector=f"app=web,{kube.label_selector}")) == 1
    """)
    result = run(inner, "--kube-leak-guard=off")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines([
        "*_ test_naive_fixed_name _*",
        "E * kubernetes.dynamic.exceptions.ConflictError: 409*",
        "*_ test_naive_cluster_wide_selector _*",
        "E       AssertionError: assert 2 == 1",
        "FAILED *::test_naive_fixed_name*",
        "FAILED *::test_naive_cluster_wide_selector*",
    ])


def test_returning_early_false_passes_where_require_skips(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        from kubeproof.testing import require

        def test_naive(kube):
            if not kube.has_resource("example.com/v1", "Gadget"):
                return  # reported as passed: nothing was tested
            raise AssertionError("unreachable on this server")

        def test_robust(kube):
            require(kube.has_resource("example.com/v1", "Gadget"), "this cluster does not serve example.com/v1 Gadget")
            raise AssertionError("unreachable on this server")
    """)
    result = run(inner, "-rs", "-v")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*::test_naive PASSED*",
        "*::test_robust SKIPPED*",
        "SKIPPED * this cluster does not serve example.com/v1 Gadget",
    ])
