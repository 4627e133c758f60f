"""CronJobs on a ManualClock: Jobs appear only when the test moves cluster time past a schedule time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kubeproof import Cluster
from kubeproof.clock import ManualClock
from kubeproof.testing import consistently, eventually

from ._workloads import unique

#: 2026-01-01T00:00:30Z: half a minute past a schedule boundary, so "every N minutes" is predictable.
START = 1767225630.0


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(start=START)


@pytest.fixture(scope="module")
def cluster(clock: ManualClock) -> Iterator[Cluster]:
    with Cluster(clock=clock) as c:
        yield c


def _cronjob(name: str, schedule: str = "*/5 * * * *", run_seconds: str = "1", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {
        "schedule": schedule, **spec,
        "jobTemplate": {"metadata": {"labels": {"cron": name}}, "spec": {"backoffLimit": 0, "template": {
            "metadata": {"annotations": {"kubeproof.dev/run-seconds": run_seconds}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "example/cron:1"}]}}}}}}


def _jobs(batch: client.BatchV1Api, namespace: str, name: str) -> list[Any]:
    return sorted(batch.list_namespaced_job(namespace, label_selector=f"cron={name}").items,
                  key=lambda j: j.metadata.name)


def test_schedule_creates_jobs_only_when_time_passes(clock: ManualClock, api: Any, namespace: str) -> None:
    batch = client.BatchV1Api(api)
    name = unique("cron")
    cj = batch.create_namespaced_cron_job(namespace, _cronjob(name, run_seconds="3600"))
    consistently(lambda: not _jobs(batch, namespace, name), duration=0.3)
    clock.advance(300)  # exactly one schedule time passes
    [job] = eventually(lambda: _jobs(batch, namespace, name), matcher=lambda jobs: len(jobs) == 1)
    scheduled = batch.read_namespaced_cron_job(name, namespace).status.last_schedule_time
    assert scheduled is not None and scheduled.second == 0 and scheduled.minute % 5 == 0
    assert job.metadata.name == f"{name}-{int(scheduled.timestamp() // 60)}"
    assert job.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
    [ref] = job.metadata.owner_references
    assert (ref.kind, ref.uid, ref.controller) == ("CronJob", cj.metadata.uid, True)
    eventually(lambda: [r.name for r in batch.read_namespaced_cron_job(name, namespace).status.active or []]
               == [job.metadata.name])
    clock.advance(300)  # Allow: a second Job while the first still runs
    eventually(lambda: _jobs(batch, namespace, name), matcher=lambda jobs: len(jobs) == 2)
    batch.delete_namespaced_cron_job(name, namespace, propagation_policy="Background")


def test_forbid_skips_while_a_job_runs(clock: ManualClock, api: Any, namespace: str) -> None:
    batch = client.BatchV1Api(api)
    name = unique("cron")
    batch.create_namespaced_cron_job(namespace, _cronjob(name, run_seconds="3600", concurrencyPolicy="Forbid"))
    clock.advance(300)
    eventually(lambda: _jobs(batch, namespace, name), matcher=lambda jobs: len(jobs) == 1)
    clock.advance(300)
    consistently(lambda: len(_jobs(batch, namespace, name)) == 1, duration=0.3)
    batch.delete_namespaced_cron_job(name, namespace, propagation_policy="Background")


def test_replace_deletes_the_running_job(clock: ManualClock, api: Any, namespace: str) -> None:
    batch = client.BatchV1Api(api)
    name = unique("cron")
    batch.create_namespaced_cron_job(namespace, _cronjob(name, run_seconds="3600", concurrencyPolicy="Replace"))
    clock.advance(300)
    [first] = eventually(lambda: _jobs(batch, namespace, name), matcher=lambda jobs: len(jobs) == 1)
    clock.advance(300)

    def replaced() -> None:
        live = [j for j in _jobs(batch, namespace, name) if not j.metadata.deletion_timestamp]
        assert len(live) == 1 and live[0].metadata.name != first.metadata.name

    eventually(replaced)
    batch.delete_namespaced_cron_job(name, namespace, propagation_policy="Background")


def test_suspend(clock: ManualClock, api: Any, namespace: str) -> None:
    batch = client.BatchV1Api(api)
    name = unique("cron")
    batch.create_namespaced_cron_job(namespace, _cronjob(name, suspend=True))
    clock.advance(600)
    consistently(lambda: not _jobs(batch, namespace, name), duration=0.3)
    batch.patch_namespaced_cron_job(name, namespace, {"spec": {"suspend": False}})
    # The missed time within the last schedule period is still started, as the controller does.
    eventually(lambda: _jobs(batch, namespace, name), matcher=lambda jobs: len(jobs) == 1)
    batch.delete_namespaced_cron_job(name, namespace, propagation_policy="Background")


def test_completed_jobs_and_history_limit(clock: ManualClock, api: Any, namespace: str) -> None:
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = unique("cron")
    batch.create_namespaced_cron_job(namespace, _cronjob(name, schedule="* * * * *",
                                                         successfulJobsHistoryLimit=2))

    def completed(count: int) -> None:
        jobs = _jobs(batch, namespace, name)
        done = [j for j in jobs if any(c.type == "Complete" and c.status == "True"
                                       for c in (j.status.conditions if j.status else None) or [])]
        assert len(done) >= count, [j.metadata.name for j in jobs]

    for run in range(1, 5):
        clock.advance(60)

        def finished(run: int = run) -> None:
            clock.advance(1)  # the simulated container's work, in cluster time
            completed(min(run, 2))
            status = batch.read_namespaced_cron_job(name, namespace).status
            assert status is not None and not status.active and status.last_successful_time is not None

        eventually(finished)
    eventually(lambda: len(_jobs(batch, namespace, name)) == 2)
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items
    reasons = {e.reason for e in events}
    assert {"SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"} <= reasons
    batch.delete_namespaced_cron_job(name, namespace, propagation_policy="Background")


def test_schedule_parsing() -> None:
    from cronsim import CronSimError

    from kubeproof.controllers.cronjob import parse_schedule

    with pytest.raises(CronSimError):
        parse_schedule("61 * * * *", None)
    expr, _ = parse_schedule("@hourly", None)
    assert expr == "0 * * * *"
    _, tz = parse_schedule("CRON_TZ=Europe/Paris 0 9 * * *", None)
    assert str(tz) == "Europe/Paris"
