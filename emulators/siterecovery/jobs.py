"""ASR jobs: the unit every mutating operation becomes.

A job is a list of tasks with simulated durations. Its state is computed from the simulated
clock when read, so nothing runs in the background; the store *settles* a job (applies its
effect on the protected item or plan) the first time a request sees it finished.

A stalled job (``jobStall`` fault) has no end while the fault holds it: its task ends at ``math.inf`` until
the fault is removed, and the tasks after it with it.

ASR spells the cancelled job state ``Cancelled``; ARM's operation-status resource (what the
SDK's poller reads) must say ``Canceled`` or the poller never stops — see :func:`operation_status`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from emulators.siterecovery.clock import SimClock, iso
from emulators.siterecovery.faults import JobStallFault

Outcome = Literal["InProgress", "Succeeded", "Failed", "Cancelled"]

# Placeholder ASR shows for "no current job" (see the ReplicationProtectedItems_Get example).
NO_JOB_START = "1753-01-01T01:01:01Z"


@dataclass(frozen=True)
class TaskPlan:
    name: str
    friendly_name: str
    seconds: float


@dataclass(frozen=True)
class JobError:
    code: str
    message: str
    possible_causes: str
    recommended_action: str
    task_index: int


@dataclass(eq=False)
class Job:
    """One ASR job (``replicationJobs/{name}``)."""

    name: str
    vault_id: str
    scenario: str
    friendly_name: str
    target_object_id: str
    target_object_name: str
    target_instance_type: str
    resource_id: str
    tasks: list[TaskPlan]
    start: float
    result: Literal["resource", "none"]
    affected: dict[str, str] = field(default_factory=dict)
    error: JobError | None = None
    on_success: Callable[[float], None] | None = None
    on_failure: Callable[[float], None] | None = None
    settled: Outcome = "InProgress"
    cancelled_at: float | None = None
    activity_id: str = ""
    stall: JobStallFault | None = None  # the fault that holds the job in task ``stall_task``
    stall_task: int = 0
    released_at: float | None = None  # when that fault was removed

    @property
    def id(self) -> str:
        return f"{self.vault_id}/replicationJobs/{self.name}"

    def task_bounds(self) -> list[tuple[float, float]]:
        bounds = []
        t = self.start
        for index, task in enumerate(self.tasks):
            end = t + task.seconds
            if self.stall is not None and index == self.stall_task:
                end = math.inf if self.released_at is None else max(end, self.released_at)
            bounds.append((t, end))
            t = end
        return bounds

    def release(self, now: float) -> None:
        """The fault that stalled the job is gone: its task ends now (or when it was planned to), the rest follow."""
        if self.stall is not None and self.released_at is None:
            self.released_at = now

    @property
    def end(self) -> float:
        """When the job reaches its terminal state (the failing task's end, or the last task's)."""
        if self.cancelled_at is not None:
            return self.cancelled_at
        bounds = self.task_bounds()
        if self.error is not None:
            return bounds[self.error.task_index][1]
        return bounds[-1][1] if bounds else self.start

    def outcome_at(self, now: float) -> Outcome:
        if now < self.end:
            return "InProgress"
        if self.cancelled_at is not None:
            return "Cancelled"
        return "Failed" if self.error is not None else "Succeeded"

    def settle(self, now: float) -> bool:
        """Apply the job's effect once it is over; True if this call settled it."""
        if self.settled != "InProgress":
            return False
        outcome = self.outcome_at(now)
        if outcome == "InProgress":
            return False
        self.settled = outcome
        callback = self.on_success if outcome == "Succeeded" else self.on_failure
        if callback is not None:
            callback(self.end)
        return True


def _task_view(job: Job, index: int, bounds: tuple[float, float], now: float, clock: SimClock) -> dict[str, Any]:
    task = job.tasks[index]
    start, end = bounds
    errors: list[dict[str, Any]] = []
    failed_at = job.error.task_index if job.error is not None else None
    if failed_at is not None and index > failed_at and now >= job.end:
        state, desc = "Skipped", "Skipped"
    elif job.cancelled_at is not None and now >= job.cancelled_at and end > job.cancelled_at:
        state, desc = "Cancelled", "Cancelled"
    elif now < start:
        state, desc = "NotStarted", "NotStarted"
    elif now < end:
        state, desc = "InProgress", "InProgress"
    elif failed_at == index:
        state, desc = "Failed", "Failed"
        errors = [_error_view(job, clock)]
    else:
        state, desc = "Succeeded", "Completed"
    view: dict[str, Any] = {
        "taskId": f"{job.name}-{index}",
        "name": task.name,
        "startTime": iso(clock.at(start)) if math.isfinite(start) else NO_JOB_START,
        "endTime": iso(clock.at(end)) if state in ("Succeeded", "Failed") else NO_JOB_START,
        "allowedActions": [],
        "friendlyName": task.friendly_name,
        "state": state,
        "stateDescription": desc,
        "taskType": "TaskDetails",
        "customDetails": {"instanceType": "ManualActionTaskDetails"},
        "errors": errors,
    }
    return view


def _error_view(job: Job, clock: SimClock) -> dict[str, Any]:
    assert job.error is not None
    err = job.error
    return {
        "serviceErrorDetails": {
            "code": err.code,
            "message": err.message,
            "possibleCauses": err.possible_causes,
            "recommendedAction": err.recommended_action,
            "activityId": job.activity_id,
        },
        "providerErrorDetails": {
            "errorCode": int(err.code) if err.code.isdigit() else 0,
            "errorMessage": err.message,
            "errorId": job.activity_id,
            "possibleCauses": err.possible_causes,
            "recommendedAction": err.recommended_action,
        },
        "errorLevel": "Error",
        "creationTime": iso(clock.at(job.end)),
        "taskId": f"{job.name}-{err.task_index}",
    }


_STATE_DESCRIPTION = {
    "InProgress": "InProgress",
    "Succeeded": "Completed",
    "Failed": "Failed",
    "Cancelled": "Cancelled",
}


def job_view(job: Job, now: float, clock: SimClock) -> dict[str, Any]:
    """``Job`` resource JSON, shaped like the ReplicationJobs_Get example."""
    outcome = job.outcome_at(now)
    tasks = [_task_view(job, i, b, now, clock) for i, b in enumerate(job.task_bounds())]
    return {
        "id": job.id,
        "name": job.name,
        "type": "Microsoft.RecoveryServices/vaults/replicationJobs",
        "properties": {
            "activityId": job.activity_id,
            "scenarioName": job.scenario,
            "friendlyName": job.friendly_name,
            "state": outcome,
            "stateDescription": _STATE_DESCRIPTION[outcome],
            "tasks": tasks,
            "errors": [_error_view(job, clock)] if outcome == "Failed" else [],
            "startTime": iso(clock.at(job.start)),
            "endTime": iso(clock.at(job.end)) if outcome != "InProgress" else NO_JOB_START,
            "allowedActions": ["Cancel"] if outcome == "InProgress" else [],
            "targetObjectId": job.target_object_id,
            "targetObjectName": job.target_object_name,
            "targetInstanceType": job.target_instance_type,
            "customDetails": {"instanceType": "AsrJobDetails", "affectedObjectDetails": dict(job.affected)},
        },
    }


OPERATION_STATUS = {"InProgress": "InProgress", "Succeeded": "Succeeded", "Failed": "Failed", "Cancelled": "Canceled"}


def operation_status(job: Job, now: float, clock: SimClock) -> dict[str, Any]:
    """``replicationOperationStatus/{job}`` body: what ``AzureAsyncOperationPolling`` reads."""
    outcome = job.outcome_at(now)
    body: dict[str, Any] = {
        "id": f"{job.vault_id}/replicationOperationStatus/{job.name}",
        "name": job.name,
        "status": OPERATION_STATUS[outcome],
        "startTime": iso(clock.at(job.start)),
    }
    if outcome != "InProgress":
        body["endTime"] = iso(clock.at(job.end))
    if outcome == "Failed" and job.error is not None:
        body["error"] = {"code": job.error.code, "message": job.error.message}
    if outcome == "Cancelled":
        body["error"] = {"code": "OperationCancelled", "message": "The job was cancelled."}
    return body
