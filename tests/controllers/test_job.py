"""The Job controller end to end, with the scheduler and the simulated kubelet running the pods."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.clock import ManualClock
from kubeproof.controllers.job import finish_time, format_indexes, match_success_policy, parse_indexes
from kubeproof.testing import consistently, eventually

from ._workloads import unique

TRACKING = "batch.kubernetes.io/job-tracking"
INDEX = "batch.kubernetes.io/job-completion-index"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster() as c:
        c.kubelet.run_time = 0.2  # a simulated container's work, in seconds
        yield c


def _job(name: str, annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    template: dict[str, Any] = {"spec": {"restartPolicy": "Never",
                                         "containers": [{"name": "work", "image": "example/worker:1"}]}}
    if annotations:
        template["metadata"] = {"annotations": annotations}
    return {"metadata": {"name": name}, "spec": {"template": template, **spec}}


def _active(batch: client.BatchV1Api, namespace: str, name: str) -> int:
    status = batch.read_namespaced_job(name, namespace).status  # None until the controller's first sync
    return (status.active or 0) if status else 0


def _conditions(job: Any) -> dict[str, Any]:
    return {c.type: c for c in job.status.conditions or [] if c.status == "True"}


def test_job_completes_and_kubectl_wait_returns(cluster: Cluster, api: Any, namespace: str) -> None:
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("job")
    batch.create_namespaced_job(namespace, _job(name, completions=3, parallelism=2))
    cluster.kubectl("wait", "--for=condition=complete", f"job/{name}", "-n", namespace, "--timeout=60s")
    job = batch.read_namespaced_job(name, namespace)
    conds = _conditions(job)
    assert (conds["Complete"].reason, conds["Complete"].message) == \
        ("CompletionsReached", "Reached expected number of succeeded pods")
    assert "SuccessCriteriaMet" in conds
    assert job.status.succeeded == 3 and not job.status.active and not job.status.failed
    assert job.status.completion_time is not None and job.status.start_time is not None
    assert job.status.uncounted_terminated_pods is not None
    assert not (job.status.uncounted_terminated_pods.succeeded or job.status.uncounted_terminated_pods.failed)
    pods = core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
    assert len(pods) == 3 and all(p.status.phase == "Succeeded" for p in pods)
    assert all(TRACKING not in (p.metadata.finalizers or []) for p in pods)
    assert all(p.metadata.generate_name == f"{name}-" for p in pods)
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items
    reasons = {e.reason for e in events}
    assert {"SuccessfulCreate", "Completed"} <= reasons


def test_parallelism_bounds_active_pods(cluster: Cluster, api: Any, namespace: str) -> None:
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("job")
    # Containers that run until the test lets them: a long run time per pod.
    batch.create_namespaced_job(namespace, _job(name, {"kubeproof.dev/run-seconds": "3600"},
                                                completions=5, parallelism=2))

    def two_active() -> None:
        assert _active(batch, namespace, name) == 2
        assert len(core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items) == 2

    eventually(two_active)
    batch.patch_namespaced_job(name, namespace, {"spec": {"parallelism": 3}})
    eventually(lambda: _active(batch, namespace, name) == 3)
    batch.delete_namespaced_job(name, namespace, propagation_policy="Background")
    eventually(lambda: not core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items)


def test_backoff_limit_fails_the_job(cluster: Cluster, api: Any, namespace: str) -> None:
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("job")
    batch.create_namespaced_job(namespace, _job(name, {"kubeproof.dev/exit-code": "1"}, backoffLimit=0))
    cluster.kubectl("wait", "--for=condition=failed", f"job/{name}", "-n", namespace, "--timeout=60s")
    job = batch.read_namespaced_job(name, namespace)
    conds = _conditions(job)
    assert (conds["Failed"].reason, conds["Failed"].message) == \
        ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert "FailureTarget" in conds and "Complete" not in conds
    assert job.status.failed == 1 and not job.status.succeeded and job.status.completion_time is None
    pods = core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
    assert len(pods) == 1 and pods[0].status.phase == "Failed"


def test_delete_without_policy_orphans_pods(cluster: Cluster, api: Any, namespace: str) -> None:
    """batch/v1 keeps the pods of a Job deleted without a propagation policy (kept for compatibility)."""
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("job")
    batch.create_namespaced_job(namespace, _job(name, {"kubeproof.dev/run-seconds": "3600"}))
    eventually(lambda: _active(batch, namespace, name) == 1)
    _, _, headers = batch.delete_namespaced_job_with_http_info(name, namespace)
    assert headers.get("Warning") == (
        '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background '
        'to remove them or set propagationPolicy=Orphan to suppress this warning"')

    def orphaned() -> None:
        assert name not in {j.metadata.name for j in batch.list_namespaced_job(namespace).items}
        [pod] = core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
        assert not pod.metadata.owner_references
        assert TRACKING not in (pod.metadata.finalizers or [])
        assert pod.metadata.deletion_timestamp is None

    eventually(orphaned)


def test_kubectl_delete_job_cascades(cluster: Cluster, api: Any, namespace: str) -> None:
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("job")
    batch.create_namespaced_job(namespace, _job(name, {"kubeproof.dev/run-seconds": "3600"}))
    eventually(lambda: _active(batch, namespace, name) == 1)
    cluster.kubectl("delete", f"job/{name}", "-n", namespace, "--cascade=foreground", "--timeout=60s")
    eventually(lambda: not core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items)


def test_indexed_job_runs_each_index_once(cluster: Cluster, api: Any, namespace: str) -> None:
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("indexed")
    batch.create_namespaced_job(namespace, _job(name, completions=4, parallelism=2, completionMode="Indexed"))
    cluster.kubectl("wait", "--for=condition=complete", f"job/{name}", "-n", namespace, "--timeout=60s")
    job = batch.read_namespaced_job(name, namespace)
    assert job.status.completed_indexes == "0-3"
    assert job.status.succeeded == 4 and not job.status.failed and not job.status.active
    pods = core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
    indexes = sorted(int(p.metadata.annotations[INDEX]) for p in pods)
    assert indexes == [0, 1, 2, 3]  # each index ran once: the simulated containers all succeed
    for pod in pods:
        index = pod.metadata.annotations[INDEX]
        assert pod.metadata.labels[INDEX] == index
        assert pod.metadata.generate_name == f"{name}-{index}-" and pod.metadata.name.startswith(f"{name}-{index}-")
        assert pod.spec.hostname == f"{name}-{index}"
        (env,) = [e for e in pod.spec.containers[0].env if e.name == "JOB_COMPLETION_INDEX"]
        assert env.value_from.field_ref.field_path == f"metadata.labels['{INDEX}']"
        assert TRACKING not in (pod.metadata.finalizers or [])


def test_indexed_job_processes_read_their_index(tmp_path: Path) -> None:
    """Process-backed pods get JOB_COMPLETION_INDEX from the downward API, as a worker of an Indexed Job
    would read it to pick its shard."""
    code = ("import os, pathlib, sys; index = os.environ['JOB_COMPLETION_INDEX']; "
            "pathlib.Path(sys.argv[1], 'shard-' + index).write_text(index)")
    with Cluster(images={"py:*": [sys.executable]}) as cluster:
        api = cluster.api_client()
        try:
            batch = client.BatchV1Api(api)
            job = _job("shards", completions=3, parallelism=3, completionMode="Indexed")
            job["spec"]["template"]["spec"]["containers"] = [
                {"name": "work", "image": "py:3", "args": ["-c", code, str(tmp_path)]}]
            batch.create_namespaced_job("default", job)
            cluster.kubectl("wait", "--for=condition=complete", "job/shards", "--timeout=60s")
            assert batch.read_namespaced_job("shards", "default").status.completed_indexes == "0-2"
        finally:
            api.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shard-0", "shard-1", "shard-2"]
    assert [(tmp_path / f"shard-{i}").read_text() for i in range(3)] == ["0", "1", "2"]


@pytest.mark.parametrize(("text", "completions", "indexes", "formatted"), [
    ("", 5, set(), ""),
    ("0-2,5,7,8", 8, {0, 1, 2, 5, 7}, "0-2,5,7"),
    ("1-9", 5, {1, 2, 3, 4}, "1-4"),
    ("0,1,3", 4, {0, 1, 3}, "0,1,3"),
    ("x,2", 4, {2}, "2"),
])
def test_completed_indexes_text(text: str, completions: int, indexes: set[int], formatted: str) -> None:
    """``succeededIndexesFromString`` and ``orderedIntervals.String``: the wire form of completedIndexes."""
    assert parse_indexes(text, completions) == indexes
    assert format_indexes(indexes) == formatted


def test_pod_failure_policy_fail_job_on_an_exit_code(cluster: Cluster, api: Any, namespace: str) -> None:
    """A FailJob rule ends the Job at the first matching failure, with kube's reason and message, whatever
    the backoffLimit."""
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("policy")
    policy = {"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {"action": "FailJob", "onExitCodes": {"containerName": "work", "operator": "In", "values": [42]}},
    ]}
    batch.create_namespaced_job(namespace, _job(name, {"kubeproof.dev/exit-code": "42"}, backoffLimit=6,
                                                podFailurePolicy=policy))
    cluster.kubectl("wait", "--for=condition=failed", f"job/{name}", "-n", namespace, "--timeout=60s")
    job = batch.read_namespaced_job(name, namespace)
    (pod,) = core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
    message = (f"Container work for pod {namespace}/{pod.metadata.name} failed with exit code 42 matching FailJob "
               "rule at index 1")
    conds = _conditions(job)
    assert (conds["Failed"].reason, conds["Failed"].message) == ("PodFailurePolicy", message)
    assert (conds["FailureTarget"].reason, conds["FailureTarget"].message) == ("PodFailurePolicy", message)
    assert job.status.failed == 1  # one pod, not backoffLimit + 1
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name},reason=PodFailurePolicy")
    assert [(e.type, e.message) for e in events.items] == [("Warning", message)]


def test_pod_failure_policy_ignore_does_not_count(cluster: Cluster, api: Any, namespace: str) -> None:
    """Failures an Ignore rule matches leave `failed` and the backoffLimit alone: the Job keeps replacing
    the pods instead of failing at backoffLimit 0."""
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("ignored")
    policy = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "NotIn", "values": [0, 1]}}]}
    batch.create_namespaced_job(namespace, _job(name, {"kubeproof.dev/exit-code": "3"}, backoffLimit=0,
                                                podFailurePolicy=policy))

    def failed_pods() -> list[Any]:
        pods = core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
        done = [p for p in pods if p.status.phase == "Failed" and TRACKING not in (p.metadata.finalizers or [])]
        assert len(done) >= 2, [(p.metadata.name, p.status.phase) for p in pods]
        return done

    eventually(failed_pods, timeout=30)
    job = batch.read_namespaced_job(name, namespace)
    assert not job.status.failed
    assert "Failed" not in _conditions(job) and "FailureTarget" not in _conditions(job)


def test_suspend_and_resume(cluster: Cluster, api: Any, namespace: str) -> None:
    """A Job created suspended runs nothing and says so in ``Suspended``; resuming flips the condition, starts
    the clock (``startTime``) and the pods."""
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("held")
    batch.create_namespaced_job(namespace, _job(name, completions=1, suspend=True))

    def suspended() -> Any:
        job = batch.read_namespaced_job(name, namespace)
        cond = next((c for c in (job.status.conditions if job.status else None) or [] if c.type == "Suspended"), None)
        assert cond is not None and cond.status == "True", job.status
        return job, cond

    job, cond = eventually(suspended)
    assert (cond.reason, cond.message) == ("JobSuspended", "Job suspended")
    assert job.status.start_time is None
    assert core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items == []

    batch.patch_namespaced_job(name, namespace, {"spec": {"suspend": False}})
    cluster.kubectl("wait", "--for=condition=complete", f"job/{name}", "-n", namespace, "--timeout=60s")
    job = batch.read_namespaced_job(name, namespace)
    (cond,) = [c for c in job.status.conditions if c.type == "Suspended"]
    assert (cond.status, cond.reason, cond.message) == ("False", "JobResumed", "Job resumed")
    assert job.status.start_time is not None and job.status.succeeded == 1
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}")
    # (timestamps have whole seconds: the order of events within one second is not observable)
    assert {"Suspended", "Resumed", "Completed"} <= {e.reason for e in events.items}


def test_success_policy_ends_an_indexed_job_when_the_leader_succeeds() -> None:
    """The leader/worker shape: index 0 finishes, the workers would run until stopped; a successPolicy on
    index 0 completes the Job (reason SuccessPolicy) and the workers are stopped."""
    # The workers wait for a signal that only their deletion sends (SIGTERM): they never end by themselves,
    # which is the behaviour under test, not a wait for something.
    code = ("import os, signal, sys; index = os.environ['JOB_COMPLETION_INDEX']; "
            "sys.exit(0) if index == '0' else signal.pause()")
    with Cluster(images={"py:*": [sys.executable]}) as cluster:
        api = cluster.api_client()
        try:
            batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
            job = _job("leader", completions=3, parallelism=3, completionMode="Indexed",
                       successPolicy={"rules": [{"succeededIndexes": "0"}]})
            job["spec"]["template"]["spec"]["containers"] = [{"name": "work", "image": "py:3", "args": ["-c", code]}]
            batch.create_namespaced_job("default", job)
            cluster.kubectl("wait", "--for=condition=complete", "job/leader", "--timeout=60s")
            done = batch.read_namespaced_job("leader", "default")
            conds = _conditions(done)
            for type_ in ("SuccessCriteriaMet", "Complete"):
                assert (conds[type_].reason, conds[type_].message) == ("SuccessPolicy", "Matched rules at index 0")
            assert done.status.completed_indexes == "0" and done.status.succeeded == 1
            assert not done.status.active
            pods = core.list_namespaced_pod("default", label_selector="job-name=leader").items
            assert all(p.status.phase in ("Succeeded", "Failed") for p in pods), [p.status.phase for p in pods]
        finally:
            api.close()


@pytest.mark.parametrize(("rules", "done", "matched"), [
    ([{"succeededIndexes": "0-2"}], {0, 1}, None),
    ([{"succeededIndexes": "0-2"}], {0, 1, 2}, "Matched rules at index 0"),
    ([{"succeededIndexes": "0-4", "succeededCount": 2}], {3, 9}, None),
    ([{"succeededIndexes": "0-4", "succeededCount": 2}], {3, 4}, "Matched rules at index 0"),
    ([{"succeededIndexes": "x"}, {"succeededCount": 2}], {5, 6}, "Matched rules at index 1"),
])
def test_success_policy_rules(rules: list[dict[str, Any]], done: set[int], matched: str | None) -> None:
    assert match_success_policy({"rules": rules}, 10, done) == matched


def _failed_indexed(batch: client.BatchV1Api, cluster: Cluster, namespace: str, name: str) -> Any:
    cluster.kubectl("wait", "--for=condition=failed", f"job/{name}", "-n", namespace, "--timeout=60s")
    return batch.read_namespaced_job(name, namespace)


def test_backoff_limit_per_index_fails_indexes_not_the_whole_job_at_once(cluster: Cluster, api: Any,
                                                                         namespace: str) -> None:
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("perindex")
    batch.create_namespaced_job(namespace, _job(name, {"kubeproof.dev/exit-code": "1"}, completions=3, parallelism=3,
                                                completionMode="Indexed", backoffLimitPerIndex=0))
    job = _failed_indexed(batch, cluster, namespace, name)
    conds = _conditions(job)
    assert (conds["Failed"].reason, conds["Failed"].message) == ("FailedIndexes", "Job has failed indexes")
    assert job.status.failed_indexes == "0-2" and job.status.failed == 3 and not job.status.completed_indexes
    assert job.spec.backoff_limit == 2**31 - 1  # defaulted so: the per-index limit is the one that applies
    pods = core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
    assert sorted(p.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] for p in pods) == ["0"] * 3


def test_max_failed_indexes_ends_the_job_early(cluster: Cluster, api: Any, namespace: str) -> None:
    """As kube's e2e test does: with maxFailedIndexes 0, the first failed index fails the Job."""
    batch = client.BatchV1Api(api)
    name = unique("maxfailed")
    batch.create_namespaced_job(namespace, _job(name, {"kubeproof.dev/exit-code": "1"}, completions=4, parallelism=1,
                                                completionMode="Indexed", backoffLimitPerIndex=0, maxFailedIndexes=0))
    job = _failed_indexed(batch, cluster, namespace, name)
    conds = _conditions(job)
    assert (conds["FailureTarget"].reason, conds["Failed"].reason) == ("MaxFailedIndexesExceeded",) * 2
    assert conds["Failed"].message == "Job has exceeded the specified maximal number of failed indexes"
    assert job.status.failed_indexes == "0" and job.status.failed == 1


def test_fail_index_rule(cluster: Cluster, api: Any, namespace: str) -> None:
    """A FailIndex rule of the podFailurePolicy fails the index at once, whatever backoffLimitPerIndex says."""
    batch = client.BatchV1Api(api)
    name = unique("failindex")
    policy = {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [42]}}]}
    batch.create_namespaced_job(namespace, _job(name, {"kubeproof.dev/exit-code": "42"}, completions=1,
                                                completionMode="Indexed", backoffLimitPerIndex=5,
                                                podFailurePolicy=policy))
    job = _failed_indexed(batch, cluster, namespace, name)
    assert job.status.failed_indexes == "0" and job.status.failed == 1
    assert _conditions(job)["Failed"].reason == "FailedIndexes"


def test_an_index_is_retried_after_its_back_off() -> None:
    """backoffLimitPerIndex 1: the index's second pod comes after 10 s of cluster time and carries the
    failure count of the first; its failure fails the index."""
    clock = ManualClock()
    with Cluster(clock=clock) as cluster:
        api = cluster.api_client()
        try:
            batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
            batch.create_namespaced_job("default", _job(
                "retry", {"kubeproof.dev/exit-code": "1", "kubeproof.dev/run-seconds": "1"}, completions=1,
                completionMode="Indexed", backoffLimitPerIndex=1))

            def pods(phase: str, count: int) -> list[Any]:
                items = core.list_namespaced_pod("default", label_selector="job-name=retry").items
                assert len(items) == count and all(p.status.phase == phase for p in items), \
                    [(p.metadata.name, p.status.phase) for p in items]
                return items

            eventually(lambda: pods("Running", 1))
            clock.advance(1)
            eventually(lambda: pods("Failed", 1))
            clock.advance(9)
            consistently(lambda: pods("Failed", 1), duration=0.3)  # still backing off
            clock.advance(1)
            second = eventually(lambda: [p for p in core.list_namespaced_pod(
                "default", label_selector="job-name=retry").items if p.status.phase == "Running"], matcher=bool)
            assert second[0].metadata.annotations["batch.kubernetes.io/job-index-failure-count"] == "1"
            clock.advance(1)
            job = eventually(lambda: _with_failed_indexes(batch.read_namespaced_job("retry", "default")))
            assert job.status.failed == 2
        finally:
            api.close()


def _with_failed_indexes(job: Any) -> Any:
    assert job.status.failed_indexes == "0", job.status
    return job


def test_work_queue_job_keeps_completions_unset(api: Any, namespace: str) -> None:
    """SetDefaults_Job: completions and parallelism default to 1 only when both are unset."""
    batch = client.BatchV1Api(api)
    queue = batch.create_namespaced_job(namespace, _job(unique("queue"), parallelism=2, suspend=True))
    assert (queue.spec.completions, queue.spec.parallelism, queue.spec.backoff_limit) == (None, 2, 6)
    single = batch.create_namespaced_job(namespace, _job(unique("single"), suspend=True))
    assert (single.spec.completions, single.spec.parallelism) == (1, 1)


def test_a_failure_counts_from_when_the_pod_ended_not_from_when_it_was_seen() -> None:
    """``getFinishedTime``: the back-off starts at the pod's end, whenever the controller gets to it."""
    def stamp(second: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))

    def ended(second: int) -> dict[str, Any]:
        return {"state": {"terminated": {"finishedAt": stamp(second)}}}

    pod: dict[str, Any] = {"metadata": {"creationTimestamp": stamp(100)},
                           "status": {"containerStatuses": [ended(130), ended(150)]}}
    assert finish_time(pod) == 150  # the last container to end
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False", "lastTransitionTime": stamp(160)}]
    assert finish_time(pod) == 160  # the Ready=False transition comes first
    pod["status"] = {"containerStatuses": [ended(130), {"state": {"running": {}}}]}
    assert finish_time(pod) == 100  # not all ended: no deletion either, so the creation
    pod["metadata"].update(deletionTimestamp=stamp(200), deletionGracePeriodSeconds=30)
    assert finish_time(pod) == 170
