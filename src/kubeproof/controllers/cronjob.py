"""The CronJob controller: Jobs on a cron schedule, in cluster time.

After ``pkg/controller/cronjob/cronjob_controllerv2.go``: the most recent unmet schedule time since
``lastScheduleTime`` (or creation, bounded by ``startingDeadlineSeconds``) gets a Job named
``<cronjob>-<minutes since the epoch>`` with the ``batch.kubernetes.io/cronjob-scheduled-timestamp``
annotation, unless ``suspend`` is set, the deadline passed, or ``concurrencyPolicy`` says otherwise
(Forbid skips while a Job runs, Replace deletes the running ones). ``status.active``,
``lastScheduleTime`` and ``lastSuccessfulTime`` follow the Jobs; finished Jobs beyond the history limits
are deleted. The next run is a delayed requeue on the cluster clock, so a test with
``ManualClock.advance()`` drives the schedule.

Schedules are parsed by ``cronsim`` (PyPI): a small, dependency-free, maintained parser with Vixie cron
semantics (day-of-month OR day-of-week, as robfig/cron which Kubernetes uses) and time zone support. The
``@hourly``-style macros of robfig/cron are expanded here, since cronsim reads five fields only.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from cronsim import CronSim, CronSimError

from kubeproof.controllers import workloadutil as util
from kubeproof.controllers.job import finished
from kubeproof.server import errors
from kubeproof.server.options import DeleteOptions
from kubeproof.server.registry.generic import deep_copy, now_rfc3339

Obj = dict[str, Any]
RESOURCE = "cronjobs.batch"
JOBS = "jobs.batch"
COMPONENT = "cronjob-controller"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
#: More unmet start times than this and the controller only starts the latest, with a warning.
MAX_MISSED = 100
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def parse_schedule(schedule: str, time_zone: str | None) -> tuple[str, dt.tzinfo]:
    """The five-field expression and time zone of a schedule (``TZ=``/``CRON_TZ=`` prefixes allowed)."""
    text = schedule.strip()
    tz_name = time_zone or "UTC"
    if text.startswith(("TZ=", "CRON_TZ=")):
        prefix, _, text = text.partition(" ")
        tz_name = prefix.split("=", 1)[1]
    expr = MACROS.get(text.strip(), text.strip())
    try:
        tz: dt.tzinfo = dt.UTC if tz_name == "UTC" else zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz_name}") from exc
    CronSim(expr, dt.datetime.now(tz))  # validates
    return expr, tz


def next_after(expr: str, tz: dt.tzinfo, after: float) -> float:
    """The first schedule time strictly after ``after`` (seconds since the epoch)."""
    start = dt.datetime.fromtimestamp(after, tz)
    return next(iter(CronSim(expr, start))).timestamp()


def _job_ref(job: Obj) -> Obj:
    meta = job["metadata"]
    return {"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"], "namespace": meta["namespace"],
            "uid": meta["uid"], "resourceVersion": meta.get("resourceVersion")}


def _finished_type(job: Obj) -> str | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond["type"])
    return None


class CronJobController(util.OwnerKeyedController):
    name = "cronjob"
    resource = RESOURCE
    owner_kind = "CronJob"
    child_resources = (JOBS,)

    def _sync(self, cj: Obj) -> None:
        meta, spec = cj["metadata"], cj.get("spec") or {}
        namespace, key = meta["namespace"], (meta["namespace"], meta["name"])
        now = self.clock.now()
        jobs = [j for j in self.registry.store.list(JOBS, namespace)[0]
                if (util.controller_ref(j) or {}).get("uid") == meta["uid"]]
        status: Obj = deep_copy(cj.get("status") or {})
        active_names = {r.get("name") for r in status.get("active") or []}
        # Follow the Jobs: finished ones leave ``active``, the newest success sets lastSuccessfulTime.
        for job in jobs:
            outcome = _finished_type(job)
            if outcome and job["metadata"]["name"] in active_names:
                util.record_event(self.registry, cj, "Normal", "SawCompletedJob",
                                  f"Saw completed job: {job['metadata']['name']}, condition: {outcome}", COMPONENT)
            if outcome == "Complete":
                done = util.parse_time((job.get("status") or {}).get("completionTime"))
                last = util.parse_time(status.get("lastSuccessfulTime"))
                if done is not None and (last is None or done > last):
                    status["lastSuccessfulTime"] = now_rfc3339(done)
        active = [j for j in jobs if not finished(j) and not j["metadata"].get("deletionTimestamp")]
        self._write_status(cj, status, active)
        self._cleanup(cj, jobs)
        if meta.get("deletionTimestamp") or spec.get("suspend"):
            return
        try:
            expr, tz = parse_schedule(str(spec.get("schedule") or ""), spec.get("timeZone"))
        except (CronSimError, ValueError) as exc:
            util.record_event(self.registry, cj, "Warning", "UnparseableSchedule",
                              f"unparseable schedule: {spec.get('schedule')!r} : {exc}", COMPONENT)
            return
        earliest = util.parse_time(status.get("lastScheduleTime")) or util.parse_time(meta.get("creationTimestamp"))
        earliest = now if earliest is None else earliest
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and now - int(deadline) > earliest:
            earliest = now - int(deadline)
        scheduled: float | None = None
        missed = 0
        t = next_after(expr, tz, earliest)
        while t <= now:
            scheduled, missed = t, missed + 1
            t = next_after(expr, tz, t)
        self.enqueue_after(key, t - now)  # the next schedule time
        if scheduled is None:
            return
        if missed > MAX_MISSED:
            util.record_event(self.registry, cj, "Warning", "TooManyMissedTimes",
                              "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or "
                              "check clock skew", COMPONENT)
        if deadline is not None and scheduled + int(deadline) < now:
            util.record_event(self.registry, cj, "Warning", "MissSchedule",
                              f"Missed scheduled time to start a job: {now_rfc3339(scheduled)}", COMPONENT)
            return
        policy = spec.get("concurrencyPolicy", "Allow")
        if policy == "Forbid" and active:
            util.record_event(self.registry, cj, "Normal", "JobAlreadyActive",
                              "Not starting job because prior execution is running and concurrency policy is "
                              "Forbid", COMPONENT)
            return
        if policy == "Replace":
            for job in active:
                self._delete_job(cj, job)
            active = []
        created = self._create_job(cj, scheduled, tz)
        if created is None:
            return
        current = self.registry.store.get(RESOURCE, namespace, meta["name"])
        if current is None:
            return
        status = deep_copy(current.get("status") or {})
        status["lastScheduleTime"] = now_rfc3339(scheduled)
        self._write_status(current, status, [*active, created])

    def _write_status(self, cj: Obj, status: Obj, active: list[Obj]) -> None:
        refs = sorted((_job_ref(j) for j in active), key=lambda r: r["name"])
        old_refs = {r.get("uid"): r for r in status.get("active") or []}
        # Keep the references as first written (their resourceVersion does not follow the Job).
        refs = [old_refs.get(r["uid"], r) for r in refs]
        if refs:
            status["active"] = refs
        else:
            status.pop("active", None)
        current = self.registry.store.get(RESOURCE, cj["metadata"]["namespace"], cj["metadata"]["name"])
        if current is not None:
            util.update_status(self.registry, RESOURCE, current, status)

    def _create_job(self, cj: Obj, scheduled: float, tz: dt.tzinfo) -> Obj | None:
        meta, template = cj["metadata"], (cj.get("spec") or {}).get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        name = f"{meta['name']}-{int(scheduled // 60)}"
        annotations = dict(tmeta.get("annotations") or {})
        annotations[SCHEDULED_ANNOTATION] = dt.datetime.fromtimestamp(scheduled, tz).isoformat().replace(
            "+00:00", "Z")
        job: Obj = {
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": meta["namespace"], "labels": dict(tmeta.get("labels") or {}),
                         "annotations": annotations, "ownerReferences": [util.owner_ref_to(cj)]},
            "spec": deep_copy(template.get("spec") or {}),
        }
        if not job["metadata"]["labels"]:
            del job["metadata"]["labels"]
        try:
            created = self.registry.create(self.registry.resource(JOBS), meta["namespace"], job)
        except errors.StatusError as exc:
            if exc.code == 409:
                existing = self.registry.store.get(JOBS, meta["namespace"], name)
                if existing is not None and (util.controller_ref(existing) or {}).get("uid") == meta["uid"]:
                    return existing if not finished(existing) else None
                return None
            util.record_event(self.registry, cj, "Warning", "FailedCreate", f"Error creating job: {exc.message}",
                              COMPONENT)
            if exc.code in (403, 422):
                return None
            raise
        util.record_event(self.registry, cj, "Normal", "SuccessfulCreate", f"Created job {name}", COMPONENT)
        return created

    def _delete_job(self, cj: Obj, job: Obj) -> None:
        try:
            self.registry.delete(self.registry.resource(JOBS), job["metadata"]["namespace"], job["metadata"]["name"],
                                 DeleteOptions(propagation_policy="Background",
                                               precondition_uid=job["metadata"]["uid"]))
        except errors.StatusError as exc:
            if exc.code in (404, 409):
                return
            raise
        util.record_event(self.registry, cj, "Normal", "SuccessfulDelete", f"Deleted job {job['metadata']['name']}",
                          COMPONENT)

    def _cleanup(self, cj: Obj, jobs: list[Obj]) -> None:
        """``cleanupFinishedJobs``: keep the newest finished Jobs within the history limits."""
        spec = cj.get("spec") or {}
        for outcome, field in (("Complete", "successfulJobsHistoryLimit"), ("Failed", "failedJobsHistoryLimit")):
            limit = spec.get(field)
            if limit is None:
                continue
            done = sorted((j for j in jobs if _finished_type(j) == outcome and not j["metadata"].get(
                "deletionTimestamp")), key=lambda j: (
                util.parse_time((j.get("status") or {}).get("startTime")) or 0.0, j["metadata"]["name"]))
            for job in done[:max(0, len(done) - int(limit))]:
                self._delete_job(cj, job)
