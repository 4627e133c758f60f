"""Each leak guard catches a deliberately leaking test (inner pytest sessions, in subprocesses)."""

from __future__ import annotations

import pytest

# Each case starts an inner pytest session in a subprocess (some with xdist workers and several clusters):
# on a loaded CI machine that takes minutes, not seconds. These are bounds on a hang, never waits.
TIMEOUT = 480
pytestmark = pytest.mark.timeout(TIMEOUT + 60)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=TIMEOUT)


LEAKY_THREAD = """
    import threading

    stop = threading.Event()

    def test_leaks_a_thread():
        threading.Thread(target=stop.wait, name="forever", daemon=True).start()

    def test_after():
        stop.set()  # let the leaked thread end, so this process exits cleanly
"""


def test_a_thread_still_running_after_the_test_fails_it(inner: pytest.Pytester) -> None:
    inner.makepyfile(LEAKY_THREAD)
    result = run(inner)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_leaks_a_thread*",
        "leak guard: *.py::test_leaks_a_thread left background work behind:",
        "- thread 'forever' target='Event.wait' daemon, started at *.py:* in "
        "test_leaks_a_thread is still running 1s after the test ended",
        "(--kube-leak-guard=warn or =off to relax this)",
    ])


def test_warn_mode_warns_and_off_mode_is_silent(inner: pytest.Pytester) -> None:
    inner.makepyfile(LEAKY_THREAD)
    warned = run(inner, "--kube-leak-guard=warn")
    warned.assert_outcomes(passed=2, warnings=1)
    warned.stdout.fnmatch_lines(["*KubeproofLeakWarning: leak guard: *test_leaks_a_thread left background work*"])
    quiet = run(inner, "--kube-leak-guard=off")
    quiet.assert_outcomes(passed=2)
    assert "leak guard" not in quiet.stdout.str()


def test_a_thread_that_finishes_within_the_grace_period_is_no_leak(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        import threading, time

        def test_slow_finisher():
            # The sleep is the behaviour under test: the thread outlives the test body by a little,
            # and the guard must join it rather than report it.
            threading.Thread(target=time.sleep, args=(0.05,), name="brief").start()
    """)
    run(inner).assert_outcomes(passed=1)


def test_threads_of_wider_scoped_fixtures_belong_to_no_test(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        import threading, pytest

        @pytest.fixture(scope="module")
        def server():
            stop = threading.Event()
            thread = threading.Thread(target=stop.wait, name="module-server")
            thread.start()
            yield
            stop.set()
            thread.join()

        def test_one(server):
            pass

        def test_two(server):
            pass
    """)
    run(inner).assert_outcomes(passed=2)


def test_a_pending_asyncio_task_fails_the_test(inner: pytest.Pytester) -> None:
    pytest.importorskip("pytest_asyncio")
    inner.makepyfile("""
        import asyncio

        async def forever():
            await asyncio.Event().wait()

        async def test_leaks_a_task():
            asyncio.create_task(forever(), name="orphan")

        async def test_awaits_its_task():
            task = asyncio.create_task(asyncio.sleep(0))
            await task
    """)
    result = run(inner)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_leaks_a_task*",
        "*- asyncio task still pending when the test returned: orphan (forever) waiting at "
        "*test_a_pending_asyncio_task*",
    ])
    assert "Task was destroyed but it is pending" not in result.stdout.str() + result.stderr.str()


def test_an_exception_in_a_thread_fails_the_test_that_started_it(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        import threading

        def explode():
            raise RuntimeError("kaboom in the background")

        def test_starts_a_failing_thread():
            thread = threading.Thread(target=explode, name="bomb")
            thread.start()
            thread.join()
    """)
    result = run(inner)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*- exception in thread 'bomb' target='explode', started at * started by "
        "test_an_exception_in_a_thread_fails_the_test_that_started_it.py::test_starts_a_failing_thread:",
        "*RuntimeError: kaboom in the background",
    ])


def test_an_exception_after_the_test_returned_names_that_test(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        import threading

        go = threading.Event()
        threads = []

        def explode_later():
            go.wait()
            raise RuntimeError("too late")

        def test_a_starts_it():
            thread = threading.Thread(target=explode_later, name="late")
            threads.append(thread)
            thread.start()

        def test_b_sets_it_off():
            go.set()
            threads[0].join()
    """)
    result = run(inner, "--kube-leak-guard=warn", "-W", "error::pytest.PytestUnhandledThreadExceptionWarning",
                 "-p", "no:threadexception")
    out = result.stdout.str()
    # test_a's leaked thread is reported as a warning at its teardown; the exception comes later, while
    # test_b runs, and is still charged to test_a
    assert "thread 'late' target='explode_later'" in out
    result.stdout.fnmatch_lines([
        "*exception in thread 'late' target='explode_later', started at * started by "
        "test_an_exception_after_the_test_returned_names_that_test.py::test_a_starts_it:",
        "*RuntimeError: too late",
        "*(raised after test test_an_exception_after_the_test_returned_names_that_test.py::test_a_starts_it "
        "had finished)",
    ])


def test_an_unraisable_exception_is_charged_to_the_test(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        class Broken:
            def __del__(self):
                raise ValueError("cannot clean up")

        def test_drops_a_broken_object():
            obj = Broken()
            del obj
    """)
    result = run(inner)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*- unraisable exception during test_an_unraisable_exception_is_charged_to_the_test.py::"
        "test_drops_a_broken_object: Exception ignored in*Broken*",
        "*ValueError: cannot clean up",
    ])


def test_labelled_objects_that_survive_teardown_fail_the_test(inner: pytest.Pytester) -> None:
    inner.makepyfile("""
        from kubernetes import client

        def test_makes_an_untracked_object(kube):
            client.CoreV1Api(kube.api_client).create_namespaced_config_map(
                "default", {"metadata": {"name": "stray", "labels": kube.test_label}})

        def test_tracked_objects_are_fine(kube, namespace):
            kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tidy"}})
    """)
    result = run(inner)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_makes_an_untracked_object*",
        "*- object labelled kubeproof.dev/test=test-makes-an-untracked-object-* survives teardown: "
        "ConfigMap default/stray (uid *); create it through kube.create/apply (tracked), or delete it in the test",
    ])


INNER_INI_LONG_GRACE = """
[pytest]
kube_leak_grace = 3
"""


def test_an_exception_after_the_last_test_of_the_session_is_attributed(inner: pytest.Pytester) -> None:
    # The last test's thread raises once the session is ending (a session-finish hook sets it off, after
    # that test's teardown and its leak check), and only after some work of its own (a child process):
    # no later test exists to surface it, and without the guard waiting for it at session end the run
    # would be over first. It is reported, named after the test that started the thread, and fails the run.
    inner.makeini(INNER_INI_LONG_GRACE)
    inner.makeconftest("""
        import pytest
        import leaky

        @pytest.hookimpl(tryfirst=True)
        def pytest_sessionfinish(session):
            leaky.go.set()
    """)
    inner.makepyfile(leaky="""
        import subprocess
        import threading

        go = threading.Event()

        def explode_at_the_end():
            go.wait()
            subprocess.run(["true"], check=True)
            raise RuntimeError("raised while the session ends")
    """)
    inner.makepyfile(test_last="""
        import threading
        import leaky

        def test_first():
            pass

        def test_last():
            threading.Thread(target=leaky.explode_at_the_end, name="parting-shot").start()
    """)
    result = run(inner)
    result.assert_outcomes(passed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_last*",
        "- thread 'parting-shot' target='explode_at_the_end', started at *test_last.py:* in test_last is "
        "still running 3s after the test ended",
        "*kubeproof leak guard: exceptions after their test finished*",
        "exception in thread 'parting-shot' target='explode_at_the_end', started at * started by "
        "test_last.py::test_last:",
        "*RuntimeError: raised while the session ends",
        "  (raised after test test_last.py::test_last had finished)",
    ])


def test_a_late_exception_after_the_last_test_only_warns_in_warn_mode(inner: pytest.Pytester) -> None:
    inner.makeconftest("""
        import pytest
        import leaky

        @pytest.hookimpl(tryfirst=True)
        def pytest_sessionfinish(session):
            leaky.go.set()
    """)
    inner.makepyfile(leaky="""
        import threading

        go = threading.Event()

        def explode_at_the_end():
            go.wait()
            raise RuntimeError("raised while the session ends")
    """)
    inner.makepyfile(test_last="""
        import threading
        import leaky

        def test_last():
            threading.Thread(target=leaky.explode_at_the_end, name="parting-shot").start()
    """)
    result = run(inner, "--kube-leak-guard=warn")
    result.assert_outcomes(passed=1, warnings=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([
        "*kubeproof leak guard: exceptions after their test finished*",
        "*started by test_last.py::test_last:",
        "*RuntimeError: raised while the session ends",
    ])
