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
from . import limits as lim
from .history import Event

OUT_OF_PROC_LABEL = "$OutOfProcData$:"


class NonDeterminismError(Exception):
    """DTFx's NonDeterministicOrchestrationException: the replay disagrees with the stored history.

    Built like ``NonDeterministicOrchestrationException(eventId, details)``: the message is the details after
    ``Non-Deterministic workflow detected: ``.
    """

    def __init__(self, details: str) -> None:
        super().__init__(f"Non-Deterministic workflow detected: {details}")


class ShimError(Exception):
    """An action the extension would refuse (unknown function, a limit, unsupported action); fails the instance.

    Raised while the shim issues actions, it becomes the fault of the orchestrator's task (see ``Shim.fault``),
    as the exception inside the extension's ``Execute`` does: the instance fails once no task is open.
    """


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
        instance_id: str = "",
        parent_instance_id: str | None = None,
        limits: lim.Limits | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.instance_id = instance_id
        self.parent_instance_id = parent_instance_id
        self.limits = limits or lim.Limits()
        self.check_names = check_names
        self.known_activities = known_activities
        self.known_orchestrators = known_orchestrators
        self.id_counter = 0
        self.action_count = 0  # DurableOrchestrationContext.actionCount: one per activity, timer or child
        self.actions: dict[int, NewAction] = {}
        self.open: dict[int, Fut] = {}
        self.now: datetime | None = None
        self.buffered: dict[str, deque[Any]] = {}  # events nobody waited for yet, oldest first (a Queue)
        self.waiters: dict[str, list[Fut]] = {}  # open waits per name, newest last (the extension's stack)
        self.continued = False
        self.continue_input: str | None = None
        self.carried: list[Event] = []
        self.body_done = False
        # The orchestrator task's fault: set, the extension's Execute has thrown (the message, without the
        # "Orchestrator function '<name>' failed: " prefix) and the instance fails once no task is open.
        # ``start_fault`` is a fault known before any action is issued (an SDK error, a custom status too large).
        self.fault: str | None = None
        self.start_fault: str | None = None

    # -- the extension's checks (DurableOrchestrationContext.CallDurableTaskFunctionAsync, in its order)
    def _count_action(self) -> None:
        """IncrementActionsOrThrowException: the action past ``maxOrchestrationActions`` fails the orchestrator."""
        if self.action_count >= self.limits.max_orchestration_actions:
            raise ShimError(lim.action_limit_error(self.limits.max_orchestration_actions))
        self.action_count += 1

    def _check_activity(self, name: str) -> None:
        if name not in self.known_activities:
            known = ", ".join(f"'{n}'" for n in sorted(self.known_activities))
            raise ShimError(
                f"The function '{name}' doesn't exist, is disabled, or is not an activity function. "
                f"Additional info: The following are the known activity functions: {known}."
            )

    def _check_orchestrator(self, name: str, instance_id: str | None) -> None:
        if name not in self.known_orchestrators:
            known = ", ".join(f"'{n}'" for n in sorted(self.known_orchestrators))
            raise ShimError(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
                f"Additional info: The following are the known orchestrator functions: {known}."
            )
        bad_id = lim.sub_instance_id_error(instance_id, self.instance_id, self.parent_instance_id)
        if bad_id:
            raise ShimError(bad_id)

    @staticmethod
    def _check_retry(retry: dict[str, Any]) -> None:
        bad = lim.retry_delay_error(retry)
        if bad:
            raise ShimError(bad)

    # -- DTFx context API
    def schedule_task(self, name: str, input_json: str | None) -> Fut:
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
        tid = self.id_counter
        self.id_counter += 1
        iid = instance_id or f"{self.execution_id}:{tid}"
        self.actions[tid] = NewAction(tid, "sub", name=name, input=input_json, instance_id=iid)
        fut = Fut()
        self.open[tid] = fut
        return fut

    def wait_event(self, name: str) -> Fut:
        """WaitForExternalEvent: take the oldest buffered event of that name, else wait on top of the stack."""
        fut = Fut()
        queue = self.buffered.get(name)
        if queue:
            fut.resolve(True, queue.popleft())
            if not queue:
                del self.buffered[name]
        else:
            self.waiters.setdefault(name, []).append(fut)
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
        """InvokeAPIFromAction: the extension's checks, then the DTFx call (a retry counts as one action)."""
        at = action.get("actionType")
        if at in (0, 1):
            name = str(action["functionName"])
            inp = action.get("input")
            retry = action.get("retryOptions") or {}
            if at == 1:
                self._check_retry(retry)
            self._check_activity(name)
            self._count_action()
            if at == 0:
                return self.schedule_task(name, inp)
            return self.with_retry(lambda: self.schedule_task(name, inp), retry)
        if at in (2, 3):
            name = str(action["functionName"])
            inp = action.get("input")
            iid = action.get("instanceId")
            retry = action.get("retryOptions") or {}
            if at == 3:
                self._check_retry(retry)
            self._check_orchestrator(name, iid)
            self._count_action()
            if at == 2:
                return self.create_sub(name, iid, inp)
            return self.with_retry(lambda: self.create_sub(name, iid, inp), retry)
        if at == 4:
            self.continued = True
            self.continue_input = action.get("input")
            done = Fut()
            done.resolve(True)
            return done
        if at == 5:
            self._count_action()
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
        """ProcessAsyncActionsV2: issue each top-level action only after the previous one resolved.

        An action the extension refuses throws inside its ``Execute``: the orchestrator task faults there, the
        actions issued before it stay scheduled, and nothing after it is issued.
        """
        index = [0]

        def step(_: Fut | None = None) -> None:
            while index[0] < len(actions):
                try:
                    fut = self.invoke(actions[index[0]])
                except ShimError as exc:
                    self.fault = str(exc)
                    return
                index[0] += 1
                if not fut.done:
                    fut.then(step)
                    return
            self.body_done = True

        step()

    # -- history processing (TaskOrchestrationContext.Handle*)
    _ACTION_TYPES = {
        "task": "ScheduleTaskOrchestratorAction",
        "timer": "CreateTimerOrchestratorAction",
        "sub": "CreateSubOrchestrationAction",
    }
    _RETRY_HINT = "Was a change made to the orchestrator code after this instance had already started running?"

    def _match(self, event: Event, kind: str) -> None:
        """DTFx's Handle{TaskScheduled,TimerCreated,SubOrchestrationCreated}Event checks, with their messages."""
        eid = int(event["EventId"])
        action = self.actions.get(eid)
        name = event.get("Name") or ""
        version = event.get("Version") or ""
        hint = self._RETRY_HINT
        if kind == "task":
            head = "A previous execution of this orchestration scheduled an activity task with sequence"
            missing = f"{head} ID {eid} and name '{name}' (version '{version}'), but the current replay execution"
            if action is None:
                raise NonDeterminismError(f"{missing} hasn't (yet?) scheduled this task. {hint}")
            if action.kind != kind:
                raise NonDeterminismError(
                    f"{head} number {eid} named '{name}', but the current orchestration replay instead produced a "
                    f"{self._ACTION_TYPES[action.kind]} action with this sequence number. {hint}"
                )
            if self.check_names and action.name.casefold() != str(name).casefold():
                raise NonDeterminismError(
                    f"{head} number {eid} named '{name}', but the current orchestration replay instead scheduled an "
                    f"activity task named '{action.name}' with this sequence number.  {hint}"
                )
        elif kind == "timer":
            head = f"A previous execution of this orchestration scheduled a timer task with sequence number {eid}"
            if action is None:
                raise NonDeterminismError(
                    f"{head} but the current replay execution hasn't (yet?) scheduled this task. {hint}"
                )
            if action.kind != kind:
                raise NonDeterminismError(
                    f"{head} named but the current orchestration replay instead produced a "
                    f"{self._ACTION_TYPES[action.kind]} action with this sequence number. {hint}"
                )
        else:
            head = (
                f"A previous execution of this orchestration scheduled a sub-orchestration task with sequence ID {eid} "
                f"and name '{name}' (version '{version}', instance ID '{event.get('InstanceId')}'), but the current"
            )
            if action is None:
                raise NonDeterminismError(f"{head} replay execution hasn't (yet?) scheduled this task. {hint}")
            if action.kind != kind:
                raise NonDeterminismError(
                    f"{head} orchestration replay instead produced a {self._ACTION_TYPES[action.kind]} action at this "
                    f"sequence number. {hint}"
                )
            if self.check_names and action.name.casefold() != str(name).casefold():
                raise NonDeterminismError(
                    f"{head} orchestration replay instead scheduled a sub-orchestration task with name {action.name} "
                    f"at this sequence number. {hint}"
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
            # TaskOrchestrationShim.Execute runs the whole out-of-process replay here; a fault known up front
            # (SetCustomStatus throwing, an SDK error) leaves every later scheduled event unmatched.
            if self.start_fault is not None:
                self.fault = self.start_fault
            else:
                self.run_actions(sdk_actions)
        elif et == h.TASK_SCHEDULED:
            self._match(event, "task")
        elif et == h.TIMER_CREATED:
            self._match(event, "timer")
        elif et == h.SUB_CREATED:
            self._match(event, "sub")
        elif et == h.EVENT_SENT:
            raise NonDeterminismError("the history holds an EventSent event, which this host never writes.")
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
            # DurableOrchestrationContext.RaiseEvent: the newest open wait of that name gets it (a stack, so
            # that a wait abandoned by a task_any in a loop does not swallow the events of the next round).
            key = str(event.get("Name"))
            waiters = self.waiters.get(key)
            if waiters:
                fut = waiters.pop()
                if not waiters:
                    del self.waiters[key]
                fut.resolve(True, event.get("Input"))
            else:
                self.buffered.setdefault(key, deque()).append(event.get("Input"))


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
    limits: lim.Limits | None = None,
) -> EpisodeResult:
    """Replay ``history`` (past events + this episode's OrchestratorStarted and new events).

    The outcome follows DTFx's ``TaskOrchestrationExecutor.ExecuteCore``: a non-determinism fails the instance at
    once with DTFx's bare message; otherwise, once no activity, timer or child is open, a faulted orchestrator
    task fails it with ``Orchestrator function '<name>' failed: <message>`` and a finished one completes it.
    """
    result = EpisodeResult()
    state, plain_error = call_orchestrator(
        handle, build_context_json(history, instance_id, input_json, parent_instance_id)
    )
    shim = Shim(
        execution_id,
        known_activities,
        known_orchestrators,
        instance_id=instance_id,
        parent_instance_id=parent_instance_id,
        limits=limits,
    )
    sdk_actions: list[dict[str, Any]] = []
    bare_fault = False  # a fault DTFx reports without the "Orchestrator function ... failed" prefix
    if state is None:
        shim.start_fault = plain_error
    else:
        result.state = state
        custom = state.get("customStatus")
        if custom:  # the SDK sends a custom status only when it is truthy
            # OutOfProcOrchestrationShim calls SetCustomStatus before it replays any action; when that throws,
            # the episode's custom status stays unset (null), as GetStatus() returns it to DTFx. If the
            # orchestrator had raised too, the ArgumentException escapes the shim's catch unwrapped.
            too_large = lim.custom_status_error(custom)
            result.custom_status, result.custom_status_set = (None, True) if too_large else (custom, True)
            shim.start_fault = too_large
            bare_fault = too_large is not None and bool(state.get("error"))
        if shim.start_fault is None:
            try:
                sdk_actions = flatten_actions(state)
            except ShimError as exc:
                shim.start_fault = str(exc)
    try:
        for event in history:
            shim.process(event, sdk_actions)
    except NonDeterminismError as exc:
        result.new_actions = []
        result.outcome = "failed"
        result.output_json = str(exc)
        result.completion_event_id = shim.id_counter
        return result
    result.new_actions = sorted(shim.actions.values(), key=lambda a: a.id)
    if shim.open:
        return result  # DTFx completes or fails only once no activity, timer or sub-orchestration is open
    prefix = f"Orchestrator function '{orchestrator_name}' failed: "
    if shim.fault is not None:
        result.new_actions = []
        result.outcome = "failed"
        result.output_json = shim.fault if bare_fault else prefix + shim.fault
    elif not shim.body_done or state is None:
        return result
    elif state.get("error"):
        result.new_actions = []
        result.outcome = "failed"
        result.output_json = prefix + str(state["error"])
    elif not state.get("isDone"):
        return result
    elif shim.continued:
        result.outcome = "continued"
        result.continue_input = shim.continue_input
        result.carried_events = shim.carried
    else:
        result.outcome = "completed"
        result.output_json = json.dumps(state["output"]) if "output" in state else None
    result.completion_event_id = shim.id_counter
    return result
