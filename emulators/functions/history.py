"""DTFx history events as the extension serializes them (Newtonsoft defaults: PascalCase, integer EventType).

Only the fields the SDK or this host read are filled; the rest keep DTFx's names with null values so the
JSON has the same shape the real host sends. Timestamps use 7 fractional digits and a ``Z`` so the SDK's
``current_utc_datetime`` is timezone-aware, as it is in Azure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Event = dict[str, Any]

EXECUTION_STARTED = 0
EXECUTION_COMPLETED = 1
EXECUTION_TERMINATED = 3
TASK_SCHEDULED = 4
TASK_COMPLETED = 5
TASK_FAILED = 6
SUB_CREATED = 7
SUB_COMPLETED = 8
SUB_FAILED = 9
TIMER_CREATED = 10
TIMER_FIRED = 11
ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13
EVENT_SENT = 14
EVENT_RAISED = 15
CONTINUE_AS_NEW = 16
EXECUTION_SUSPENDED = 19
EXECUTION_RESUMED = 20

EVENT_TYPE_NAMES = {
    0: "ExecutionStarted",
    1: "ExecutionCompleted",
    2: "ExecutionFailed",
    3: "ExecutionTerminated",
    4: "TaskScheduled",
    5: "TaskCompleted",
    6: "TaskFailed",
    7: "SubOrchestrationInstanceCreated",
    8: "SubOrchestrationInstanceCompleted",
    9: "SubOrchestrationInstanceFailed",
    10: "TimerCreated",
    11: "TimerFired",
    12: "OrchestratorStarted",
    13: "OrchestratorCompleted",
    14: "EventSent",
    15: "EventRaised",
    16: "ContinueAsNew",
    17: "GenericEvent",
    18: "HistoryState",
    19: "ExecutionSuspended",
    20: "ExecutionResumed",
}

# OrchestrationStatus as DTFx numbers it (ExecutionCompleted.OrchestrationStatus).
STATUS_CODES = {
    "Running": 0,
    "Completed": 1,
    "ContinuedAsNew": 2,
    "Failed": 3,
    "Canceled": 4,
    "Terminated": 5,
    "Pending": 6,
    "Suspended": 7,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def fmt_ts(dt: datetime) -> str:
    """ISO-8601 UTC with 7 fractional digits and ``Z`` (Newtonsoft's round-trip format for UTC DateTime)."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def fmt_status_ts(dt: datetime) -> str:
    """The management API's ``yyyy-MM-ddTHH:mm:ssZ`` timestamps."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> datetime:
    """Parse the timestamps we write and the ones the SDK writes (``fireAt``), always returning aware UTC."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1]
    elif t.endswith("+00:00"):
        t = t[:-6]
    if "." in t:
        head, frac = t.split(".", 1)
        t = f"{head}.{(frac + '000000')[:6]}"
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _base(event_type: int, ts: str, event_id: int = -1) -> Event:
    return {"EventType": event_type, "EventId": event_id, "IsPlayed": False, "Timestamp": ts}


def orchestrator_started(ts: str) -> Event:
    return _base(ORCHESTRATOR_STARTED, ts)


def orchestrator_completed(ts: str) -> Event:
    return _base(ORCHESTRATOR_COMPLETED, ts)


def execution_started(
    ts: str,
    instance_id: str,
    execution_id: str,
    name: str,
    input_json: str | None,
    parent: dict[str, Any] | None,
) -> Event:
    e = _base(EXECUTION_STARTED, ts)
    e.update(
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        Name=name,
        Version="",
        Input=input_json,
        Tags=None,
        ParentInstance=parent,
        Correlation=None,
        ScheduledStartTime=None,
        Generation=0,
    )
    return e


def execution_completed(ts: str, event_id: int, status: str, result: str | None) -> Event:
    e = _base(EXECUTION_COMPLETED, ts, event_id)
    e.update(OrchestrationStatus=STATUS_CODES[status], Result=result, FailureDetails=None)
    return e


def continue_as_new(ts: str, event_id: int, result: str | None) -> Event:
    e = _base(CONTINUE_AS_NEW, ts, event_id)
    e.update(OrchestrationStatus=STATUS_CODES["ContinuedAsNew"], Result=result, FailureDetails=None)
    return e


def execution_terminated(ts: str, reason: str | None) -> Event:
    e = _base(EXECUTION_TERMINATED, ts)
    e.update(Input=reason)
    return e


def task_scheduled(ts: str, event_id: int, name: str, input_json: str | None) -> Event:
    e = _base(TASK_SCHEDULED, ts, event_id)
    e.update(Name=name, Version="", Input=input_json, Tags=None)
    return e


def task_completed(ts: str, task_id: int, result: str | None) -> Event:
    e = _base(TASK_COMPLETED, ts)
    e.update(TaskScheduledId=task_id, Result=result)
    return e


def task_failed(ts: str, task_id: int, reason: str, details: str | None) -> Event:
    e = _base(TASK_FAILED, ts)
    e.update(TaskScheduledId=task_id, Reason=reason, Details=details, FailureDetails=None)
    return e


def sub_created(ts: str, event_id: int, name: str, instance_id: str, input_json: str | None) -> Event:
    e = _base(SUB_CREATED, ts, event_id)
    e.update(Name=name, Version="", InstanceId=instance_id, Input=input_json, Tags=None)
    return e


def sub_completed(ts: str, task_id: int, result: str | None) -> Event:
    e = _base(SUB_COMPLETED, ts)
    e.update(TaskScheduledId=task_id, Result=result)
    return e


def sub_failed(ts: str, task_id: int, reason: str, details: str | None) -> Event:
    e = _base(SUB_FAILED, ts)
    e.update(TaskScheduledId=task_id, Reason=reason, Details=details, FailureDetails=None)
    return e


def timer_created(ts: str, event_id: int, fire_at: str) -> Event:
    e = _base(TIMER_CREATED, ts, event_id)
    e.update(FireAt=fire_at)
    return e


def timer_fired(ts: str, timer_id: int, fire_at: str) -> Event:
    e = _base(TIMER_FIRED, ts)
    e.update(TimerId=timer_id, FireAt=fire_at)
    return e


def event_raised(ts: str, name: str, input_json: str | None) -> Event:
    e = _base(EVENT_RAISED, ts)
    e.update(Name=name, Input=input_json)
    return e


def execution_suspended(ts: str, reason: str | None) -> Event:
    e = _base(EXECUTION_SUSPENDED, ts)
    e.update(Reason=reason)
    return e


def execution_resumed(ts: str, reason: str | None) -> Event:
    e = _base(EXECUTION_RESUMED, ts)
    e.update(Reason=reason)
    return e
