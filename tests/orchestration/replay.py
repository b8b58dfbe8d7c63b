"""Drive an orchestrator through the Durable SDK's own replay, with a history built here event by event.

The orchestrator is the registered one (the blueprint's user function, i.e. the SDK's ``Orchestrator.handle``);
it receives the history JSON the Durable extension would send (durable-host reference §1.1–1.2) and returns its
OrchestratorState. Each round the driver appends, for every new action, the event that schedules it, closes the
episode, and opens the next one with the completion the test chose: an activity result or failure (with the
extension's retry layout for ``call_activity_with_retry``, §1.6: a retry timer after each failure and a final
"dummy" timer), a timer firing at its ``fireAt``, a sub-orchestration result. The clock only moves through the
events, so a simulated day costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class Fail:
    """An activity attempt that raises (what ``TaskFailed`` carries)."""

    def __init__(self, message: str = "boom") -> None:
        self.message = message


Responder = Callable[[str, Any], Any]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _flatten(actions: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for group in actions:
        for action in group if isinstance(group, list) else [group]:
            if action.get("actionType") == 12 and len(action["compoundActions"]) == 1:
                out.append(action["compoundActions"][0])  # a retryable task is a WhenAll of one (§1.4)
            else:
                out.append(action)
    return out


@dataclass
class Replay:
    """One orchestration instance, replayed from scratch on every :meth:`step` like the extension does."""

    function: Any
    input: Any
    instance_id: str = "instance"
    activity: Responder = field(default=lambda name, payload: None)
    sub_orchestration: Responder = field(default=lambda name, payload: None)
    now: datetime = START
    history: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[Any] = field(default_factory=list)
    scheduled: list[dict[str, Any]] = field(default_factory=list)
    _next_id: int = 0
    _seen_actions: int = 0

    def __post_init__(self) -> None:
        self._open_episode()
        self._add(
            0,
            Name="orchestrator",
            Version="",
            Input=json.dumps(self.input),
            OrchestrationInstance={"InstanceId": self.instance_id, "ExecutionId": "e1"},
            ParentInstance=None,
            Tags=None,
        )

    # -- history ------------------------------------------------------------------------------------------

    def _add(self, event_type: int, event_id: int = -1, **fields: Any) -> None:
        self.history.append(
            {"EventType": event_type, "EventId": event_id, "IsPlayed": False, "Timestamp": _iso(self.now), **fields}
        )

    def _open_episode(self, at: datetime | None = None) -> None:
        self.now = max(self.now, at) if at else self.now + timedelta(seconds=1)
        self._add(12)

    def _close_episode(self) -> None:
        self._add(13)

    def _id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def _context(self) -> str:
        last_start = max(i for i, e in enumerate(self.history) if e["EventType"] == 12)
        for index, event in enumerate(self.history):
            event["IsPlayed"] = index < last_start
        return json.dumps(
            {
                "history": self.history,
                "input": json.dumps(self.input),
                "instanceId": self.instance_id,
                "isReplaying": False,
                "parentInstanceId": None,
                "upperSchemaVersion": 1,
                "upperSchemaVersionNew": 2,
            }
        )

    # -- running ------------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        handle = self.function._function.get_user_function()
        state: dict[str, Any] = json.loads(handle(self._context()))
        return state

    def run(self, max_rounds: int = 2000) -> dict[str, Any]:
        """Replay until the orchestrator is done (returned, failed or continued as new); its final state."""
        for _ in range(max_rounds):
            state = self.state()
            self.statuses.append(state.get("customStatus"))
            if state.get("isDone") or state.get("error"):
                return state
            actions = _flatten(state["actions"])
            new = actions[self._seen_actions :]
            self._seen_actions = len(actions)
            assert len(new) == 1, f"these orchestrators wait on one task at a time: {new}"
            self._resolve(new[0])
        raise AssertionError("the orchestrator did not finish")

    def _resolve(self, action: dict[str, Any]) -> None:
        kind = action["actionType"]
        self.scheduled.append(action)
        if kind == 5:
            task_id = self._id()
            fire_at = _parse(action["fireAt"])
            self._add(10, task_id, FireAt=action["fireAt"])
            self._close_episode()
            self._open_episode(at=fire_at)
            self._add(11, TimerId=task_id, FireAt=action["fireAt"])
        elif kind == 2:
            task_id = self._id()
            payload = json.loads(action["input"])
            name, instance = action["functionName"], action.get("instanceId")
            self._add(7, task_id, Name=name, InstanceId=instance, Input=action["input"])
            self._close_episode()
            result = self.sub_orchestration(action["functionName"], payload)
            self._open_episode()
            if isinstance(result, Fail):
                reason = f"Orchestrator function '{name}' failed: {result.message}"
                self._add(9, TaskScheduledId=task_id, Reason=reason, Details="")
            else:
                self._add(8, TaskScheduledId=task_id, Result=json.dumps(result))
        elif kind in (0, 1):
            self._activity(action, retries=action.get("retryOptions"))
        else:
            raise AssertionError(f"unexpected action {action}")

    def _activity(self, action: dict[str, Any], retries: dict[str, Any] | None) -> None:
        attempts = int(retries["maxNumberOfAttempts"]) if retries else 1
        interval = timedelta(milliseconds=int(retries["firstRetryIntervalInMilliseconds"])) if retries else None
        payload = json.loads(action["input"])
        for attempt in range(attempts):
            task_id = self._id()
            self._add(4, task_id, Name=action["functionName"], Input=action["input"])
            self._close_episode()
            outcome = self.activity(action["functionName"], payload)
            self._open_episode()
            if not isinstance(outcome, Fail):
                self._add(5, TaskScheduledId=task_id, Result=json.dumps(outcome))
                return
            self._add(6, TaskScheduledId=task_id, Reason=f"Activity function failed: {outcome.message}", Details="")
            if retries is None:
                return
            timer_id = self._id()
            last = attempt + 1 == attempts
            fire_at = self.now if last else self.now + (interval or timedelta(0))  # the last one is the dummy timer
            self._add(10, timer_id, FireAt=_iso(fire_at))
            self._close_episode()
            self._open_episode(at=fire_at)
            self._add(11, TimerId=timer_id, FireAt=_iso(fire_at))
