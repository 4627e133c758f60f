"""The Job controller: run pods until ``completions`` succeed or ``backoffLimit`` failures are reached.

After ``pkg/controller/job/job_controller.go`` (1.37) and ``indexed_job_utils.go``: pods carry the
``batch.kubernetes.io/job-tracking`` finalizer until a finished pod has been counted (through
``status.uncountedTerminatedPods``, so none is counted twice); ``parallelism`` bounds the active pods;
a failed pod is replaced after the controller's exponential back-off (10 s, doubling, at most 6 min, in
cluster time); terminating pods count as failed and are replaced per podReplacementPolicy. The outcome
is first ``SuccessCriteriaMet``/``FailureTarget``, then, once no pod is left running,
``Complete``/``Failed`` with ``completionTime``, as the controller does since the terminal condition is
delayed until pods are gone. ``activeDeadlineSeconds`` fails the Job with ``DeadlineExceeded``;
``suspend`` deletes the active pods and sets ``Suspended=True`` (``JobSuspended``); resuming sets it False
(``JobResumed``) and restarts ``startTime``.

``completionMode: Indexed``: each index below ``completions`` must succeed once. A pod for index ``i`` is
named ``<job>-<i>-<random>``, carries the ``batch.kubernetes.io/job-completion-index`` annotation and
label, the ``JOB_COMPLETION_INDEX`` variable (from that label) in every container and hostname
``<job>-<i>``; the lowest pending indexes are started first; succeeded indexes are kept in
``status.completedIndexes`` ("0-2,5") and ``succeeded`` counts indexes, not pods; a duplicate pod of an
index, or one beyond ``completions``, is deleted.

``successPolicy`` (``success_policy.go``, Indexed Jobs): the Job succeeds (reason ``SuccessPolicy``) once a
rule's indexes or count have succeeded; its remaining pods are deleted.

``backoffLimitPerIndex`` (Indexed Jobs): failures are counted per index (pod annotations), each index backs
off on its own, an index past its limit (or matched by a ``FailIndex`` rule) goes to ``failedIndexes``;
the Job fails on ``maxFailedIndexes`` or once every index has succeeded or failed.

``podFailurePolicy`` (``pod_failure_policy.go``): the first rule whose ``onExitCodes`` or
``onPodConditions`` matches a failed pod decides: ``FailJob`` fails the Job (reason ``PodFailurePolicy``,
kube's message), ``Ignore`` leaves the failure out of the count towards ``backoffLimit``, ``Count`` counts
it as usual.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from kubeproof.controllers import workloadutil as util
from kubeproof.server import errors
from kubeproof.server.registry.generic import deep_copy, now_rfc3339
from kubeproof.server.store import Event

Obj = dict[str, Any]
RESOURCE = "jobs.batch"
COMPONENT = "job-controller"
TRACKING = "batch.kubernetes.io/job-tracking"
INDEX = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
IGNORED_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
MAX_FAILED_REASON = "MaxFailedIndexesExceeded"
MAX_FAILED_MESSAGE = "Job has exceeded the specified maximal number of failed indexes"
FAILED_INDEXES_REASON, FAILED_INDEXES_MESSAGE = "FailedIndexes", "Job has failed indexes"
MAX_GENERATED_NAME = 58  # names.MaxGeneratedNameLength: 63 less the 5 random characters
BACKOFF_BASE = 10.0
BACKOFF_MAX = 360.0

SUCCESS_REASON, SUCCESS_MESSAGE = "CompletionsReached", "Reached expected number of succeeded pods"
BACKOFF_REASON, BACKOFF_MESSAGE = "BackoffLimitExceeded", "Job has reached the specified backoff limit"
DEADLINE_REASON, DEADLINE_MESSAGE = "DeadlineExceeded", "Job was active longer than specified deadline"
POLICY_REASON = "PodFailurePolicy"
SUCCESS_POLICY_REASON = "SuccessPolicy"


def completion_index(pod: Obj) -> int | None:
    """``getCompletionIndex``: the pod's index annotation, or None when missing or not a number >= 0."""
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(INDEX)
    if not isinstance(value, str) or not re.fullmatch(r"[+-]?[0-9]+", value):
        return None  # strconv.Atoi's syntax: an optional sign and ASCII digits
    index = int(value)
    return index if index >= 0 else None


def parse_indexes(text: Any, completions: int) -> set[int]:
    """``succeededIndexesFromString``: ``"1,3-5"`` as a set, ignoring what is corrupt or not below
    ``completions``."""
    out: set[int] = set()
    for part in str(text or "").split(","):
        first, _, last = part.partition("-")
        try:
            low = int(first)
            high = int(last) if last else low
        except ValueError:
            continue
        if low >= completions:
            break
        out.update(range(low, min(high, completions - 1) + 1))
    return out


def format_indexes(indexes: set[int]) -> str:
    """``orderedIntervals.String``: runs of three or more as ``a-b``, a pair as ``a,b``."""
    parts: list[str] = []
    ordered = sorted(indexes)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        first, last = ordered[i], ordered[j]
        parts.append(str(first) if first == last else f"{first},{last}" if last == first + 1 else f"{first}-{last}")
        i = j + 1
    return ",".join(parts)


def first_pending(active: list[Obj], done: set[int], count: int, completions: int) -> list[int]:
    """``firstPendingIndexes``: the lowest ``count`` indexes neither running nor succeeded."""
    taken = done | {ix for p in active if (ix := completion_index(p)) is not None}
    out: list[int] = []
    candidate = 0
    while candidate < completions and len(out) < count:
        if candidate not in taken:
            out.append(candidate)
        candidate += 1
    return out


def _exit_code_match(status: Obj, requirement: Obj) -> Obj | None:
    """``matchOnExitCodes``: the first terminated container (then init container) with a non-zero exit
    code that the requirement's operator accepts."""
    name = requirement.get("containerName")
    values = requirement.get("values") or []
    for group in ("containerStatuses", "initContainerStatuses"):
        for container in status.get(group) or []:
            terminated = (container.get("state") or {}).get("terminated")
            if not terminated or (name is not None and name != container.get("name")):
                continue
            code = terminated.get("exitCode")
            if not code:
                continue
            operator = requirement.get("operator")
            if (operator == "In" and code in values) or (operator == "NotIn" and code not in values):
                return dict(container, exitCode=code)
    return None


def _condition_match(status: Obj, patterns: list[Obj]) -> Obj | None:
    for cond in status.get("conditions") or []:
        for pattern in patterns:
            if cond.get("type") == pattern.get("type") and cond.get("status") == pattern.get("status"):
                return dict(cond)
    return None


def match_pod_failure_policy(job: Obj, pod: Obj) -> tuple[str | None, bool, str | None]:
    """``matchPodFailurePolicy``: (the FailJob message, whether the failure counts towards backoffLimit, the
    matched action)."""
    policy = (job.get("spec") or {}).get("podFailurePolicy")
    if not isinstance(policy, dict):
        return None, True, None
    status = pod.get("status") or {}
    meta = pod["metadata"]
    for index, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            matched = _exit_code_match(status, rule["onExitCodes"])
            detail = (f"Container {matched['name']} for pod {meta['namespace']}/{meta['name']} failed with exit "
                      f"code {matched['exitCode']} matching {action} rule at index {index}") if matched else ""
        elif rule.get("onPodConditions") is not None:
            matched = _condition_match(status, rule["onPodConditions"])
            detail = (f"Pod {meta['namespace']}/{meta['name']} has condition {matched['type']} matching {action} "
                      f"rule at index {index}") if matched else ""
        else:
            continue
        if matched is None:
            continue
        if action == "Ignore":
            return None, False, action
        if action == "FailJob":
            return detail, True, action
        return None, True, action  # Count, and FailIndex (it counts too; the index fails: see _sync)
    return None, True, None


def match_success_policy(policy: Any, completions: int, done: set[int]) -> str | None:
    """``matchSuccessPolicy``: ``Matched rules at index N`` for the first rule the succeeded indexes meet
    (all of its ``succeededIndexes``, or ``succeededCount`` of them, or ``succeededCount`` indexes at all)."""
    if not isinstance(policy, dict) or not done:
        return None
    for index, rule in enumerate(policy.get("rules") or []):
        count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            required = parse_indexes(rule["succeededIndexes"], completions)
            if not required:
                continue  # a rule that does not parse matches nothing
            contains = len(required & done)
            if contains == len(required) or (count is not None and contains >= int(count)):
                return f"Matched rules at index {index}"
        elif count is not None and len(done) >= int(count):
            return f"Matched rules at index {index}"
    return None


def _ensure_condition(conditions: list[Obj], type_: str, status: str, reason: str, message: str,
                      now: float) -> bool:
    """``ensureJobConditionStatus``: set an existing condition to ``status`` (or add it when it should be
    True); True when something changed."""
    stamp = now_rfc3339(now)
    cond = _condition(conditions, type_, status=None)
    if cond is None:
        if status != "True":
            return False
        conditions.append({"type": type_, "status": status, "lastProbeTime": stamp, "lastTransitionTime": stamp,
                           "reason": reason, "message": message})
        return True
    if cond.get("status") == status:
        return False
    cond.update(status=status, reason=reason, message=message, lastProbeTime=stamp, lastTransitionTime=stamp)
    return True


def _condition(conditions: list[Obj], type_: str, status: str | None = "True") -> Obj | None:
    """The condition of ``type_`` (with ``status``; None: whatever its status)."""
    return next((c for c in conditions if c.get("type") == type_ and status in (None, c.get("status"))), None)


def _count(pod: Obj, annotation: str) -> int:
    """An index failure-count annotation (0 when missing or not a number)."""
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(annotation)
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else 0


def _index_counts(job: Obj, pods: list[Obj], index: int) -> tuple[int, int]:
    """``getNewIndexFailureCounts``: the failure and ignored-failure counts a new pod of ``index`` starts
    with, from the index's latest failed pod (its counts, plus its own failure)."""
    latest: Obj | None = None
    for pod in pods:
        if completion_index(pod) == index and (pod.get("status") or {}).get("phase") == "Failed" and (
                latest is None or (_count(pod, FAILURE_COUNT), _count(pod, IGNORED_COUNT))
                > (_count(latest, FAILURE_COUNT), _count(latest, IGNORED_COUNT))):
            latest = pod
    if latest is None:
        return 0, 0
    failures, ignored = _count(latest, FAILURE_COUNT), _count(latest, IGNORED_COUNT)
    _, counts, _ = match_pod_failure_policy(job, latest)
    return (failures + 1, ignored) if counts else (failures, ignored + 1)


def _backoff_left(last_failure: float | None, failures: int, now: float) -> float:
    """The controller's back-off before a replacement: 10 s after the last failure, doubling with each
    failure, at most 6 min."""
    if failures == 0 or last_failure is None:
        return 0.0
    delay = min(BACKOFF_BASE * float(1 << min(failures - 1, 16)), BACKOFF_MAX)
    return max(0.0, last_failure + delay - now)


def finish_time(pod: Obj) -> float | None:
    """``getFinishedTime``: when a pod ended, which is where its back-off starts (not when the controller
    saw it): its ``Ready=False`` transition, else the latest ``finishedAt`` of its containers (and
    sidecars) once all have one, else its deletion time less the grace period, else its creation."""
    status, meta = pod.get("status") or {}, pod.get("metadata") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            went_down = util.parse_time(condition.get("lastTransitionTime"))
            if condition.get("status") == "False" and went_down is not None:
                return went_down
            break
    sidecars = {c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []
                if c.get("restartPolicy") == "Always"}
    statuses = [*(status.get("containerStatuses") or []),
                *(c for c in status.get("initContainerStatuses") or [] if c.get("name") in sidecars)]
    ends = [util.parse_time(((c.get("state") or {}).get("terminated") or {}).get("finishedAt")) for c in statuses]
    if ends and all(end is not None for end in ends):
        return max(end for end in ends if end is not None)
    deleted = util.parse_time(meta.get("deletionTimestamp"))
    if deleted is not None:
        return deleted - int(meta.get("deletionGracePeriodSeconds") or 0)
    return util.parse_time(meta.get("creationTimestamp"))


def _created(pod: Obj) -> float:
    return util.parse_time((pod.get("metadata") or {}).get("creationTimestamp")) or 0.0


def finished(job: Obj) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or []
    return _condition(conditions, "Complete") is not None or _condition(conditions, "Failed") is not None


def _failed(pod: Obj, job: Obj) -> bool:
    """``isPodFailed``: phase Failed, or terminating without having succeeded (unless only failed pods
    are replaced, or a podFailurePolicy decides)."""
    phase = (pod.get("status") or {}).get("phase")
    spec = job.get("spec") or {}
    if phase == "Failed":
        return True
    if spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy"):
        return False
    return bool(pod["metadata"].get("deletionTimestamp")) and phase != "Succeeded"


class JobController(util.OwnerKeyedController):
    name = "job"
    resource = RESOURCE
    owner_kind = "Job"

    def __init__(self, registry: Any) -> None:
        super().__init__(registry)
        #: job uid -> cluster time of the last failure seen (for the back-off before a replacement).
        self._last_failure: dict[str, float] = {}
        #: When each index of an Indexed Job with backoffLimitPerIndex last failed, by (job uid, index).
        self._index_failures: dict[tuple[str, int], float] = {}

    def keys_for(self, event: Event) -> list[Hashable]:
        namespace = event.key[0]
        if event.resource == RESOURCE:
            keys: list[Hashable] = [event.key]
            if event.type == "DELETED":  # its pods lose the tracking finalizer (syncOrphanPod)
                uid = event.obj["metadata"].get("uid")
                keys.extend(("orphan", namespace, p["metadata"]["name"])
                            for p in self.registry.store.list("pods", namespace)[0]
                            if (util.controller_ref(p) or {}).get("uid") == uid)
            return keys
        if event.resource != "pods":
            return []
        keys = self.owner_keys(event)
        if event.type != "DELETED" and TRACKING in (event.obj["metadata"].get("finalizers") or []):
            ref = util.controller_ref(event.obj)
            job = self.registry.store.get(RESOURCE, namespace, str(ref.get("name"))) if ref else None
            if ref is None or job is None or job["metadata"].get("uid") != ref.get("uid") or finished(job):
                keys.append(("orphan", namespace, event.key[1]))
        return keys

    def reconcile(self, key: Hashable) -> bool:
        assert isinstance(key, tuple)
        if len(key) == 3:
            self._sync_orphan_pod(str(key[1]), str(key[2]))
            return False
        return super().reconcile(key)

    def _sync_orphan_pod(self, namespace: str, name: str) -> None:
        """A pod whose Job is gone, finished or not its controller any more loses the tracking finalizer."""
        pod = self.registry.store.get("pods", namespace, name)
        if pod is None or TRACKING not in (pod["metadata"].get("finalizers") or []):
            return
        ref = util.controller_ref(pod)
        if ref is not None:
            if ref.get("kind") != "Job" or ref.get("apiVersion") != "batch/v1":
                return
            job = self.registry.store.get(RESOURCE, namespace, str(ref.get("name")))
            if job is not None and job["metadata"].get("uid") == ref.get("uid") and not finished(job):
                return  # still owned by a running Job
        new = deep_copy(pod)
        new["metadata"]["finalizers"] = [f for f in new["metadata"]["finalizers"] if f != TRACKING]
        try:
            self.registry.update(self.registry.resource("pods"), namespace, name, new)
        except errors.StatusError as exc:
            if exc.code == 409:
                self.enqueue_after(("orphan", namespace, name), 0.05)
            elif exc.code != 404:
                raise

    def _pods(self, job: Obj) -> list[Obj]:
        uid = job["metadata"]["uid"]
        return [p for p in self.registry.store.list("pods", job["metadata"]["namespace"])[0]
                if (util.controller_ref(p) or {}).get("uid") == uid]

    def _sync(self, job: Obj) -> None:
        meta, spec = job["metadata"], job.get("spec") or {}
        key = (meta["namespace"], meta["name"])
        now = self.clock.now()
        pods = self._pods(job)
        status: Obj = deep_copy(job.get("status") or {})
        conditions: list[Obj] = status.get("conditions") or []
        if finished(job):
            self._untrack(job, pods, status)  # late pods still lose their finalizer
            self._last_failure.pop(meta["uid"], None)  # no replacement will wait for a back-off any more
            for entry in [k for k in self._index_failures if k[0] == meta["uid"]]:
                del self._index_failures[entry]
            return
        indexed = spec.get("completionMode") == "Indexed" and spec.get("completions") is not None
        completions_n = int(spec.get("completions") or 0)
        done_indexes = parse_indexes(status.get("completedIndexes"), completions_n) if indexed else set()
        per_index = indexed and spec.get("backoffLimitPerIndex") is not None
        failed_indexes = parse_indexes(status.get("failedIndexes"), completions_n) if per_index else set()
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        counted_uids = set(uncounted.get("succeeded") or []) | set(uncounted.get("failed") or [])
        # 1. Record finished pods that still hold the tracking finalizer as uncounted (an Indexed Job records
        # a success by its index instead: the index is enough not to count it twice).
        last_failure: float | None = None  # when the newest newly counted failure ended
        released: set[str] = set()
        for pod in pods:
            if TRACKING not in (pod["metadata"].get("finalizers") or []) or pod["metadata"]["uid"] in counted_uids:
                continue
            phase = (pod.get("status") or {}).get("phase")
            if phase == "Succeeded" and indexed:
                index = completion_index(pod)
                if index is not None and index < completions_n:
                    done_indexes.add(index)
                released.add(pod["metadata"]["uid"])
            elif phase == "Succeeded":
                uncounted.setdefault("succeeded", []).append(pod["metadata"]["uid"])
            elif _failed(pod, job):
                _, counts, action = match_pod_failure_policy(job, pod)
                index = completion_index(pod)
                ended = finish_time(pod) or now
                if per_index and index is not None and index < completions_n:
                    index_key = (meta["uid"], index)
                    self._index_failures[index_key] = max(ended, self._index_failures.get(index_key, ended))
                    # isIndexFailed: a FailIndex rule, or one failure more than backoffLimitPerIndex allows
                    if action == "FailIndex" or (counts and _count(pod, FAILURE_COUNT) >= int(
                            spec["backoffLimitPerIndex"])):
                        failed_indexes.add(index)
                if counts:
                    uncounted.setdefault("failed", []).append(pod["metadata"]["uid"])
                    last_failure = max(last_failure or ended, ended)
                else:
                    released.add(pod["metadata"]["uid"])  # an Ignore rule: never counted, only released
        if last_failure is not None:
            self._last_failure[meta["uid"]] = max(last_failure, self._last_failure.get(meta["uid"], last_failure))
        if indexed:
            status["completedIndexes"] = format_indexes(done_indexes)
            status["succeeded"] = len(done_indexes)
            if not status["completedIndexes"]:
                del status["completedIndexes"]  # omitempty
            if not status["succeeded"]:
                del status["succeeded"]
        if per_index:
            status["failedIndexes"] = format_indexes(failed_indexes)  # a pointer in Go: "" is written too
        old_status = job.get("status") or {}
        if any(status.get(k) != old_status.get(k) for k in ("uncountedTerminatedPods", "completedIndexes",
                                                              "succeeded", "failedIndexes")):
            job = util.update_status(self.registry, RESOURCE, job, status)
        # 2. Remove the finalizers of what is recorded; 3. move it into the counters.
        self._untrack(job, pods, status, released)
        job = self.registry.store.get(RESOURCE, meta["namespace"], meta["name"]) or job
        status = deep_copy(job.get("status") or {})
        conditions = status.get("conditions") or []
        pods = self._pods(job)
        active = [p for p in pods if util.is_active(p)]
        terminating = [p for p in pods if p["metadata"].get("deletionTimestamp")
                       and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        succeeded = int(status.get("succeeded") or 0)
        failed = int(status.get("failed") or 0)
        if per_index:
            failed_indexes = parse_indexes(status.get("failedIndexes"), completions_n)
        completions = spec.get("completions")
        parallelism = int(spec.get("parallelism", 1))
        backoff_limit = int(spec.get("backoffLimit", 6))
        if not status.get("startTime") and not spec.get("suspend"):
            status["startTime"] = now_rfc3339(now)
        started = util.parse_time(status.get("startTime"))
        # The outcome, first as the interim condition.
        target = _condition(conditions, "SuccessCriteriaMet") or _condition(conditions, "FailureTarget")
        if target is None:
            deadline = spec.get("activeDeadlineSeconds")
            fail_job = self._fail_job_message(job, pods)
            if fail_job is not None:
                target = self._set(conditions, "FailureTarget", POLICY_REASON, fail_job, now)
            elif failed > backoff_limit:
                target = self._set(conditions, "FailureTarget", BACKOFF_REASON, BACKOFF_MESSAGE, now)
            elif deadline is not None and started is not None and now - started >= int(deadline):
                target = self._set(conditions, "FailureTarget", DEADLINE_REASON, DEADLINE_MESSAGE, now)
            elif per_index and spec.get("maxFailedIndexes") is not None and \
                    len(failed_indexes) > int(spec["maxFailedIndexes"]):
                target = self._set(conditions, "FailureTarget", MAX_FAILED_REASON, MAX_FAILED_MESSAGE, now)
            elif per_index and failed_indexes and len(failed_indexes) + succeeded >= completions_n:
                target = self._set(conditions, "FailureTarget", FAILED_INDEXES_REASON, FAILED_INDEXES_MESSAGE, now)
            elif indexed and (matched := match_success_policy(spec.get("successPolicy"), completions_n,
                                                             done_indexes)) is not None:
                target = self._set(conditions, "SuccessCriteriaMet", SUCCESS_POLICY_REASON, matched, now)
            elif (completions is not None and succeeded >= int(completions)) or \
                    (completions is None and succeeded > 0 and not active):
                target = self._set(conditions, "SuccessCriteriaMet", SUCCESS_REASON, SUCCESS_MESSAGE, now)
            elif deadline is not None and started is not None:
                self.enqueue_after(key, started + int(deadline) - now)
        if target is not None:
            for pod in active:
                self._delete_pod(job, pod)
            pods = self._pods(job)
            if not any(TRACKING in (p["metadata"].get("finalizers") or []) for p in pods) and \
                    not any(util.is_active(p) for p in pods):
                final = "Complete" if target["type"] == "SuccessCriteriaMet" else "Failed"
                self._set(conditions, final, target["reason"], target["message"], now)
                if final == "Complete":
                    status["completionTime"] = now_rfc3339(now)
                    util.record_event(self.registry, job, "Normal", "Completed", "Job completed", COMPONENT)
                else:
                    util.record_event(self.registry, job, "Warning", target["reason"], target["message"],
                                      COMPONENT)
            active = []
        elif spec.get("suspend"):
            for pod in active:
                self._delete_pod(job, pod)
            active = []
            if _ensure_condition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", now):
                util.record_event(self.registry, job, "Normal", "Suspended", "Job suspended", COMPONENT)
        else:
            if _ensure_condition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now):
                util.record_event(self.registry, job, "Normal", "Resumed", "Job resumed", COMPONENT)
                # activeDeadlineSeconds counts the time a Job is continuously active
                status["startTime"] = now_rfc3339(now)
            want = parallelism if completions is None else min(parallelism, int(completions) - succeeded
                                                                - len(failed_indexes if per_index else ()))
            if completions is None and succeeded > 0:
                want = 0  # a work queue: no new pods once one succeeded
            if indexed:
                active = self._drop_duplicate_indexes(job, active, completions_n)
            replacing = terminating if spec.get("podReplacementPolicy") == "Failed" else []
            diff = max(0, want) - len(active) - len(replacing)
            if diff > 0 and per_index:
                # each index backs off on its own failures (getPodCreationInfoForIndependentIndexes)
                for index in first_pending(active + replacing, done_indexes | failed_indexes, diff, completions_n):
                    failures, ignored = _index_counts(job, pods, index)
                    wait = _backoff_left(self._index_failures.get((meta["uid"], index)), failures, now)
                    if wait > 0:
                        self.enqueue_after(key, wait)
                    else:
                        self._create_pod(job, index, {FAILURE_COUNT: str(failures),
                                                      **({IGNORED_COUNT: str(ignored)} if ignored else {})})
            elif diff > 0:
                wait = self._backoff_remaining(job, failed, now)
                if wait > 0:
                    self.enqueue_after(key, wait)
                elif indexed:
                    for index in first_pending(active + replacing, done_indexes, diff, completions_n):
                        self._create_pod(job, index)
                else:
                    for _ in range(diff):
                        self._create_pod(job)
            elif diff < 0:
                for pod in sorted(active, key=lambda p: util.is_ready(p))[:-diff]:
                    self._delete_pod(job, pod)
            active = [p for p in self._pods(job) if util.is_active(p)]
        status["active"] = len(active)
        status["ready"] = sum(1 for p in active if util.is_ready(p))
        status["terminating"] = len([p for p in self._pods(job) if p["metadata"].get("deletionTimestamp")
                                     and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")])
        if conditions:
            status["conditions"] = conditions
        if not status["active"]:
            del status["active"]  # omitempty
        current = self.registry.store.get(RESOURCE, meta["namespace"], meta["name"])
        if current is not None:
            util.update_status(self.registry, RESOURCE, current, status)

    def _set(self, conditions: list[Obj], type_: str, reason: str, message: str, now: float) -> Obj:
        stamp = now_rfc3339(now)
        cond = {"type": type_, "status": "True", "lastProbeTime": stamp, "lastTransitionTime": stamp,
                "reason": reason, "message": message}
        conditions.append(cond)
        return cond

    def _backoff_remaining(self, job: Obj, failed: int, now: float) -> float:
        return _backoff_left(self._last_failure.get(job["metadata"]["uid"]), failed, now)

    @staticmethod
    def _fail_job_message(job: Obj, pods: list[Obj]) -> str | None:
        """``getFailJobMessage``: the first failed pod that matches a FailJob rule of the podFailurePolicy."""
        if not (job.get("spec") or {}).get("podFailurePolicy"):
            return None
        for pod in pods:
            if (pod.get("status") or {}).get("phase") == "Failed":
                message, _, action = match_pod_failure_policy(job, pod)
                if action == "FailJob":
                    return message
        return None

    def _drop_duplicate_indexes(self, job: Obj, active: list[Obj], completions: int) -> list[Obj]:
        """``appendDuplicatedIndexPodsForRemoval``: one active pod per index below ``completions`` stays
        (the most advanced: ready, then older); the rest, and pods without a valid index, are deleted."""
        by_index: dict[int, list[Obj]] = {}
        keep: list[Obj] = []
        for pod in active:
            index = completion_index(pod)
            if index is None or index >= completions:
                self._delete_pod(job, pod)
            else:
                by_index.setdefault(index, []).append(pod)
        for pods in by_index.values():
            pods.sort(key=lambda p: (util.is_ready(p), -_created(p)))
            for extra in pods[:-1]:
                self._delete_pod(job, extra)
            keep.append(pods[-1])
        return keep

    def _untrack(self, job: Obj, pods: list[Obj], status: Obj, released: set[str] | None = None) -> None:
        """Drop the tracking finalizer of counted (or orphaned-by-completion) pods, then count them.
        ``released``: pods already counted otherwise (an Indexed Job's successes, by index)."""
        uncounted = status.get("uncountedTerminatedPods") or {}
        recorded = set(uncounted.get("succeeded") or []) | set(uncounted.get("failed") or []) | (released or set())
        done = finished(job)
        pods_rt = self.registry.resource("pods")
        for pod in pods:
            finalizers = pod["metadata"].get("finalizers") or []
            if TRACKING not in finalizers:
                continue
            if pod["metadata"]["uid"] not in recorded and not (done and not util.is_active(pod)):
                continue
            new = deep_copy(pod)
            new["metadata"]["finalizers"] = [f for f in finalizers if f != TRACKING]
            try:
                self.registry.update(pods_rt, pod["metadata"]["namespace"], pod["metadata"]["name"], new)
            except errors.StatusError as exc:
                if exc.code != 404:
                    raise
        if not (set(uncounted.get("succeeded") or []) | set(uncounted.get("failed") or [])):
            return
        still = {p["metadata"]["uid"] for p in self._pods(job) if TRACKING in (p["metadata"].get("finalizers") or [])}
        moved = deep_copy(status)
        unc = moved.setdefault("uncountedTerminatedPods", {})
        for field in ("succeeded", "failed"):
            uids = unc.get(field) or []
            gone = [u for u in uids if u not in still]
            if gone:
                moved[field] = int(moved.get(field) or 0) + len(gone)
                left = [u for u in uids if u in still]
                if left:
                    unc[field] = left
                else:
                    unc.pop(field, None)
        current = self.registry.store.get(RESOURCE, job["metadata"]["namespace"], job["metadata"]["name"])
        if current is not None:
            current_status = deep_copy(current.get("status") or {})
            current_status.update({k: moved[k] for k in ("succeeded", "failed", "uncountedTerminatedPods")
                                   if k in moved})
            util.update_status(self.registry, RESOURCE, current, current_status)

    def _create_pod(self, job: Obj, index: int | None = None, annotations: dict[str, str] | None = None) -> None:
        name = job["metadata"]["name"]
        generate_name = f"{name}-"
        if index is not None:
            suffix = f"-{index}-"
            generate_name = name + suffix
            if len(generate_name) > MAX_GENERATED_NAME:
                generate_name = generate_name[:MAX_GENERATED_NAME - len(suffix)] + suffix
        pod = util.pod_from_template(job, (job.get("spec") or {}).get("template") or {}, generate_name=generate_name)
        if index is not None:
            meta, spec = pod["metadata"], pod["spec"]
            meta.setdefault("annotations", {})[INDEX] = str(index)
            meta["annotations"].update(annotations or {})
            meta.setdefault("labels", {})[INDEX] = str(index)
            spec["hostname"] = f"{name}-{index}"
            for group in ("initContainers", "containers"):
                for container in spec.get(group) or []:
                    env = container.setdefault("env", [])
                    if not any(isinstance(v, dict) and v.get("name") == INDEX_ENV for v in env):
                        env.append({"name": INDEX_ENV, "valueFrom": {"fieldRef": {
                            "fieldPath": f"metadata.labels['{INDEX}']"}}})
        pod["metadata"]["finalizers"] = [*(pod["metadata"].get("finalizers") or []), TRACKING]
        util.create_pod(self.registry, job, pod, COMPONENT)

    def _delete_pod(self, job: Obj, pod: Obj) -> None:
        util.delete_pod(self.registry, job, pod, COMPONENT)
