"""One orchestration episode: feed the whole history to the SDK, then turn its actions into history.

The SDK returns the cumulative list of actions; the Durable extension's "shim" replays that list against
DTFx's orchestration context, which matches it against the history (non-determinism detection), numbers
new work with one counter per execution, and runs ``CallActivityWithRetry`` through DTFx's RetryInterceptor.
This module reproduces that machinery with tiny synchronous futures: DTFx runs continuations inline on its
own scheduler, so resolving a future here runs whatever the shim would do next, in the same order, which is
what makes the ids we allocate equal to the ids the SDK expects.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import history as h
from .history import Event

OUT_OF_PROC_LABEL = "$OutOfProcData$:"


class NonDeterminismError(Exception):
    """DTFx's NonDeterministicOrchestrationException: the replay disagrees with the stored history."""


class ShimError(Exception):
    """An action the extension would refuse (unknown function, unsupported action); fails the instance."""


# --------------------------------------------------------------------------------------------- futures


class Fut:
    """A minimal task: pending until resolved; callbacks run inline, like DTFx's synchronous scheduler."""

    __slots__ = ("done", "ok", "value", "callbacks")

    def __init__(self) -> None:
        self.done = False
        self.ok = False
        self.value: Any = None
        self.callbacks: list[Callable[[Fut], None]] = []

    def resolve(self, ok: bool, value: Any = None) -> None:
        if self.done:
            return
        self.done, self.ok, self.value = True, ok, value
        callbacks, self.callbacks = self.callbacks, []
        for cb in callbacks:
            cb(self)

    def then(self, cb: Callable[[Fut], None]) -> None:
        if self.done:
            cb(self)
        else:
            self.callbacks.append(cb)


def when_all(children: list[Fut]) -> Fut:
    result = Fut()
    remaining = [len(children)]
    if not children:
        result.resolve(True)
        return result

    def one(_: Fut) -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            result.resolve(all(c.ok for c in children))

    for c in children:
        c.then(one)
    return result


def when_any(children: list[Fut]) -> Fut:
    result = Fut()
    for c in children:
        c.then(lambda f: result.resolve(True, f))
    return result


# --------------------------------------------------------------------------------------------- new work


@dataclass
class NewAction:
    """Something the replay scheduled that the history does not hold yet (becomes history + outbox)."""

    id: int
    kind: str  # "task" | "timer" | "sub"
    name: str = ""
    input: str | None = None  # JSON text as the action carried it
    fire_at: datetime | None = None
    instance_id: str = ""


@dataclass
class EpisodeResult:
    new_actions: list[NewAction] = field(default_factory=list)
    outcome: str = "running"  # "running" | "completed" | "failed" | "continued"
    output_json: str | None = None  # ExecutionCompleted.Result (JSON text) or the failure reason
    continue_input: str | None = None  # ContinueAsNew action's input (JSON text)
    carried_events: list[Event] = field(default_factory=list)
    custom_status: Any = None
    custom_status_set: bool = False
    completion_event_id: int = -1
    state: dict[str, Any] | None = None  # the SDK's OrchestratorState as returned


class Shim:
    """DTFx TaskOrchestrationContext + the extension's OutOfProcOrchestrationShim, reduced to what matters."""

    def __init__(
        self,
        execution_id: str,
        known_activities: set[str],
        known_orchestrators: set[str],
        check_names: bool = True,
    ) -> None:
        self.execution_id = execution_id
        self.check_names = check_names
        self.known_activities = known_activities
        self.known_orchestrators = known_orchestrators
        self.id_counter = 0
        self.actions: dict[int, NewAction] = {}
        self.open: dict[int, Fut] = {}
        self.now: datetime | None = None
        self.buffered: dict[str, deque[Any]] = {}
        self.waiters: dict[str, deque[Fut]] = {}
        self.continued = False
        self.continue_input: str | None = None
        self.carried: list[Event] = []
        self.body_done = False

    # -- DTFx context API
    def schedule_task(self, name: str, input_json: str | None) -> Fut:
        if name not in self.known_activities:
            known = ", ".join(f"'{n}'" for n in sorted(self.known_activities))
            raise ShimError(
                f"The function '{name}' doesn't exist, is disabled, or is not an activity function. "
                f"Additional info: The following are the known activity functions: {known}."
            )
        tid = self.id_counter
        self.id_counter += 1
        self.actions[tid] = NewAction(tid, "task", name=name, input=input_json)
        fut = Fut()
        self.open[tid] = fut
        return fut

    def create_timer(self, fire_at: datetime, canceled: bool = False) -> Fut:
        tid = self.id_counter
        self.id_counter += 1
        self.actions[tid] = NewAction(tid, "timer", fire_at=fire_at)
        fut = Fut()
        if canceled:
            fut.resolve(False, "canceled")
        else:
            self.open[tid] = fut
        return fut

    def create_sub(self, name: str, instance_id: str | None, input_json: str | None) -> Fut:
        if name not in self.known_orchestrators:
            known = ", ".join(f"'{n}'" for n in sorted(self.known_orchestrators))
            raise ShimError(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
                f"Additional info: The following are the known orchestrator functions: {known}."
            )
        tid = self.id_counter
        self.id_counter += 1
        iid = instance_id or f"{self.execution_id}:{tid}"
        self.actions[tid] = NewAction(tid, "sub", name=name, input=input_json, instance_id=iid)
        fut = Fut()
        self.open[tid] = fut
        return fut

    def wait_event(self, name: str) -> Fut:
        fut = Fut()
        queue = self.buffered.get(name)
        if queue:
            fut.resolve(True, queue.popleft())
        else:
            self.waiters.setdefault(name, deque()).append(fut)
        return fut

    def with_retry(self, attempt: Callable[[], Fut], retry: dict[str, Any]) -> Fut:
        """DTFx RetryInterceptor with the extension's defaults (backoff 1, no max interval, no timeout)."""
        max_attempts = int(retry.get("maxNumberOfAttempts", 1))
        interval = timedelta(milliseconds=int(retry.get("firstRetryIntervalInMilliseconds", 0)))
        result = Fut()
        count = [0]

        def start() -> None:
            attempt().then(after)

        def after(f: Fut) -> None:
            if f.ok:
                result.resolve(True, f.value)
                return
            count[0] += 1
            if count[0] >= max_attempts:
                # "Dummy timer for back-compat": one more timer after the last failure.
                self.create_timer(self.clock()).then(lambda _: result.resolve(False, f.value))
                return
            if interval <= timedelta(0):
                result.resolve(False, f.value)
                return
            self.create_timer(self.clock() + interval).then(lambda _: start())

        start()
        return result

    def clock(self) -> datetime:
        """DTFx's CurrentUtcDateTime: the latest OrchestratorStarted timestamp processed so far."""
        return self.now if self.now is not None else h.utcnow()

    # -- the shim: invoke one action, await it, then the next
    def invoke(self, action: dict[str, Any]) -> Fut:
        at = action.get("actionType")
        if at == 0:
            return self.schedule_task(str(action["functionName"]), action.get("input"))
        if at == 1:
            name = str(action["functionName"])
            inp = action.get("input")
            return self.with_retry(lambda: self.schedule_task(name, inp), action.get("retryOptions") or {})
        if at == 2:
            return self.create_sub(str(action["functionName"]), action.get("instanceId"), action.get("input"))
        if at == 3:
            name = str(action["functionName"])
            inp = action.get("input")
            iid = action.get("instanceId")
            return self.with_retry(lambda: self.create_sub(name, iid, inp), action.get("retryOptions") or {})
        if at == 4:
            self.continued = True
            self.continue_input = action.get("input")
            done = Fut()
            done.resolve(True)
            return done
        if at == 5:
            return self.create_timer(h.parse_ts(str(action["fireAt"])), bool(action.get("isCanceled")))
        if at == 6:
            return self.wait_event(str(action["externalEventName"]))
        if at in (11, 12):
            children = [self.invoke(c) for c in action.get("compoundActions") or []]
            return when_any(children) if at == 11 else when_all(children)
        if at in (7, 9, 10):
            raise ShimError("Durable entities are not supported by this host (call_entity / signal_entity).")
        if at == 8:
            raise ShimError("call_http is not supported by this host.")
        raise ShimError(f"Unknown action type {at!r} returned by the orchestrator.")

    def run_actions(self, actions: list[dict[str, Any]]) -> None:
        """ProcessAsyncActionsV2: issue each top-level action only after the previous one resolved."""
        index = [0]

        def step(_: Fut | None = None) -> None:
            while index[0] < len(actions):
                fut = self.invoke(actions[index[0]])
                index[0] += 1
                if not fut.done:
                    fut.then(step)
                    return
            self.body_done = True

        step()

    # -- history processing (TaskOrchestrationContext.Handle*)
    def _match(self, event: Event, kind: str) -> None:
        eid = int(event["EventId"])
        action = self.actions.get(eid)
        label = {"task": "an activity task", "timer": "a timer task", "sub": "a sub-orchestration task"}[kind]
        name = event.get("Name") or ""
        if action is None:
            named = f" and name '{name}'" if kind != "timer" else ""
            raise NonDeterminismError(
                f"Non-Deterministic workflow detected: A previous execution of this orchestration scheduled {label} "
                f"with sequence ID {eid}{named}, but the current replay execution hasn't (yet?) scheduled this "
                "task. Was a change made to the orchestrator code after this instance had already started running?"
            )
        if action.kind != kind:
            raise NonDeterminismError(
                f"Non-Deterministic workflow detected: A previous execution of this orchestration scheduled {label} "
                f"with sequence number {eid} named '{name}', but the current orchestration replay instead produced "
                f"a {action.kind} action with this sequence number. Was a change made to the orchestrator code "
                "after this instance had already started running?"
            )
        if self.check_names and kind != "timer" and action.name.casefold() != str(name).casefold():
            raise NonDeterminismError(
                f"Non-Deterministic workflow detected: A previous execution of this orchestration scheduled {label} "
                f"with sequence number {eid} named '{name}', but the current orchestration replay instead scheduled "
                f"one named '{action.name}' with this sequence number. Was a change made to the orchestrator code "
                "after this instance had already started running?"
            )
        del self.actions[eid]

    def _complete(self, task_id: int, ok: bool, value: Any) -> None:
        fut = self.open.pop(task_id, None)
        if fut is not None:  # otherwise a duplicate completion: DTFx logs and ignores it
            fut.resolve(ok, value)

    def process(self, event: Event, sdk_actions: list[dict[str, Any]]) -> None:
        et = event["EventType"]
        if et == h.ORCHESTRATOR_STARTED:
            ts = h.parse_ts(event["Timestamp"])
            self.now = ts if self.now is None else max(self.now, ts)
        elif et == h.EXECUTION_STARTED:
            self.run_actions(sdk_actions)
        elif et == h.TASK_SCHEDULED:
            self._match(event, "task")
        elif et == h.TIMER_CREATED:
            self._match(event, "timer")
        elif et == h.SUB_CREATED:
            self._match(event, "sub")
        elif et == h.EVENT_SENT:
            raise NonDeterminismError("Non-Deterministic workflow detected: the history holds an EventSent event.")
        elif et in (h.TASK_COMPLETED, h.SUB_COMPLETED):
            self._complete(int(event["TaskScheduledId"]), True, event.get("Result"))
        elif et in (h.TASK_FAILED, h.SUB_FAILED):
            self._complete(int(event["TaskScheduledId"]), False, event.get("Reason"))
        elif et == h.TIMER_FIRED:
            self._complete(int(event["TimerId"]), True, None)
        elif et == h.EVENT_RAISED:
            if self.continued:
                self.carried.append(event)
                return
            name = str(event.get("Name"))
            waiters = self.waiters.get(name)
            if waiters:
                waiters.popleft().resolve(True, event.get("Input"))
            else:
                self.buffered.setdefault(name, deque()).append(event.get("Input"))


# --------------------------------------------------------------------------------------------- the SDK call


def build_context_json(
    history: list[Event],
    instance_id: str,
    input_json: str | None,
    parent_instance_id: str | None,
) -> str:
    """The payload the extension hands the orchestrator (OrchestrationContextToString)."""
    last_os = max(i for i, e in enumerate(history) if e["EventType"] == h.ORCHESTRATOR_STARTED)
    events = []
    for i, e in enumerate(history):
        played = i < last_os
        if e["IsPlayed"] != played:
            e = dict(e)
            e["IsPlayed"] = played
        events.append(e)
    es = next((e for e in events if e["EventType"] == h.EXECUTION_STARTED), None)
    parsed_input: Any = None
    if input_json is not None:
        try:
            parsed_input = json.loads(input_json)
        except json.JSONDecodeError:
            parsed_input = input_json
    payload = {
        "history": events,
        "input": parsed_input,
        "instanceId": instance_id,
        "isReplaying": bool(es and es["IsPlayed"]),
        "parentInstanceId": parent_instance_id,
        "upperSchemaVersion": 1,
        "upperSchemaVersionNew": 2,
        "longRunningTimerIntervalDuration": "3.00:00:00",
        "maximumShortTimerDuration": "6.00:00:00",
        "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
    }
    return json.dumps(payload)


def call_orchestrator(handle: Callable[[Any], str], context_json: str) -> tuple[dict[str, Any] | None, str | None]:
    """Run the SDK's ``handle``; return (OrchestratorState, error-without-state).

    On a user exception the SDK raises ``Exception("<msg>\\n\\n$OutOfProcData$:<state>")``; like the
    extension we split the state off and keep going with it.
    """
    import azure.functions._durable_functions as afd

    try:
        text = handle(afd.OrchestrationContext(context_json))
    except Exception as exc:  # user code or SDK failure: both end up in the state or as a plain error
        message = str(exc)
        if OUT_OF_PROC_LABEL in message:
            _, _, data = message.partition(OUT_OF_PROC_LABEL)
            try:
                state = json.loads(data)
                if isinstance(state, dict):
                    return state, None
            except json.JSONDecodeError:
                pass
        return None, f"{type(exc).__name__}: {message}" if not message else message
    try:
        state = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return None, "the orchestrator returned a state that is not JSON"
    if not isinstance(state, dict):
        return None, "the orchestrator returned a state that is not an object"
    return state, None


def flatten_actions(state: dict[str, Any]) -> list[dict[str, Any]]:
    actions = state.get("actions") or []
    if not actions:
        return []
    if len(actions) != 1 or not isinstance(actions[0], list):
        raise ShimError("Replay schema V2/V3 requires a single list of actions (the SDK returned several).")
    return [a for a in actions[0] if isinstance(a, dict)]


def run_episode(
    handle: Callable[[Any], str],
    orchestrator_name: str,
    history: list[Event],
    instance_id: str,
    execution_id: str,
    input_json: str | None,
    parent_instance_id: str | None,
    known_activities: set[str],
    known_orchestrators: set[str],
) -> EpisodeResult:
    """Replay ``history`` (past events + this episode's OrchestratorStarted and new events)."""
    result = EpisodeResult()
    state, plain_error = call_orchestrator(
        handle, build_context_json(history, instance_id, input_json, parent_instance_id)
    )
    shim = Shim(execution_id, known_activities, known_orchestrators)
    if state is None:
        result.outcome = "failed"
        result.output_json = f"Orchestrator function '{orchestrator_name}' failed: {plain_error}"
        return result
    result.state = state
    custom = state.get("customStatus")
    if custom:
        result.custom_status, result.custom_status_set = custom, True
    try:
        sdk_actions = flatten_actions(state)
        for event in history:
            shim.process(event, sdk_actions)
    except (NonDeterminismError, ShimError) as exc:
        result.outcome = "failed"
        result.output_json = f"Orchestrator function '{orchestrator_name}' failed: {exc}"
        return result
    result.new_actions = sorted(shim.actions.values(), key=lambda a: a.id)
    if not shim.body_done or not state.get("isDone") and not state.get("error"):
        return result
    if state.get("error"):
        result.new_actions = []
        result.outcome = "failed"
        result.output_json = f"Orchestrator function '{orchestrator_name}' failed: {state['error']}"
    elif shim.open:
        return result  # DTFx completes only once no activity, timer or sub-orchestration is open
    elif shim.continued:
        result.outcome = "continued"
        result.continue_input = shim.continue_input
        result.carried_events = shim.carried
    else:
        result.outcome = "completed"
        result.output_json = json.dumps(state["output"]) if "output" in state else None
    result.completion_event_id = shim.id_counter
    return result
