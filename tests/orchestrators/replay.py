"""Drive an orchestrator through the Durable SDK's own replay, with a history built here event by event.

The orchestrator is the registered one (the blueprint's user function, i.e. the SDK's ``Orchestrator.handle``);
it receives the history JSON the Durable extension would send (durable-host reference §1.1–1.2) and returns its
OrchestratorState. The extension's part, turning that state's actions into scheduled work, is played by the local
host's shim (``emulators.functions.replay.run_episode``), the one home of those rules: ids from one counter in the
order the actions are issued, compound children together (``WhenAny``/``WhenAll``, replay schema V2), each
top-level action issued only once the one before it resolved ("Actions are issued in order…"), the retry layout of
``call_activity_with_retry`` (a timer after each failure and a final "dummy" timer), cancelled timers, external
events to the newest wait, the checks before each action (known names, the 16 KB custom status) and the
non-determinism checks of every replay.

Each round the driver appends the events that schedule the new work, closes the episode, and opens the next one
with one completion: the work due first (an activity or child finishes ``duration`` after it was issued, one
second unless the test says otherwise; a timer fires at its ``fireAt``; ties go to the lower id), or an external
event the test queued with :meth:`Replay.raise_event`, delivered as soon as its condition holds or at its time.
The clock only moves through the events, so a simulated day costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from emulators.functions import history as h
from emulators.functions.replay import NewAction, run_episode
from migration import function_names

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
EXECUTION_ID = "e1"
LATENCY = timedelta(seconds=1)  # how long an activity or child takes unless the test says otherwise


class Fail:
    """An activity attempt that raises (what ``TaskFailed`` carries), or a child orchestration that fails."""

    def __init__(self, message: str = "boom") -> None:
        self.message = message


Responder = Callable[[str, Any], Any]


def _iso(moment: datetime) -> str:
    return h.fmt_ts(moment)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# The functions the app registers, by their names' one home: an action naming anything else fails the orchestration
# with the extension's "doesn't exist" message.
KNOWN_ACTIVITIES = set(function_names.ACTIVITIES)
KNOWN_ORCHESTRATORS = set(function_names.ORCHESTRATORS)

_ACTION_TYPES = {"activity": 0, "sub": 2, "timer": 5}


@dataclass
class Work:
    """One piece of work the extension issued: an activity attempt, a timer or a child orchestration."""

    id: int
    kind: str  # "activity" | "timer" | "sub"
    name: str
    payload: Any  # the decoded input (None for a timer)
    issued_at: datetime
    due: datetime  # when it completes or fires
    fire_at: datetime | None = None
    instance_id: str | None = None
    completed_at: datetime | None = None

    def action(self) -> dict[str, Any]:
        """The work in the shape of the SDK action that asked for it (``actionType``, ``fireAt``, …)."""
        shaped: dict[str, Any] = {"actionType": _ACTION_TYPES[self.kind], "id": self.id}
        if self.kind == "timer":
            assert self.fire_at is not None
            shaped["fireAt"] = _iso(self.fire_at)
        else:
            shaped.update(functionName=self.name, input=json.dumps(self.payload))
            if self.kind == "sub":
                shaped["instanceId"] = self.instance_id
        return shaped


@dataclass
class Raise:
    """An external event the test raises: when ``when`` first holds after an episode, or at ``at``."""

    name: str
    data: Any
    when: Callable[[Replay], bool] | None = None
    at: datetime | None = None
    raised_at: datetime | None = None


@dataclass
class Replay:
    """One orchestration instance, replayed from scratch on every round like the extension does."""

    function: Any
    input: Any
    instance_id: str = "instance"
    activity: Responder = field(default=lambda name, payload: None)
    sub_orchestration: Responder = field(default=lambda name, payload: None)
    now: datetime = START
    duration: Callable[[Work], timedelta] = field(default=lambda work: LATENCY)
    history: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[Any] = field(default_factory=list)
    issued: list[Work] = field(default_factory=list)
    raises: list[Raise] = field(default_factory=list)
    outcome: str | None = None  # completed | failed | continued, once the extension says so
    open: dict[int, Work] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name: str = self.function._function.get_function_name()
        self._open_episode(self.now + LATENCY)  # the start message takes as long as any other
        self.history.append(
            h.execution_started(_iso(self.now), self.instance_id, EXECUTION_ID, self.name, json.dumps(self.input), None)
        )

    # -- what tests look at -------------------------------------------------------------------------------

    @property
    def scheduled(self) -> list[dict[str, Any]]:
        """Every piece of work issued so far, in order, shaped like the SDK actions that asked for it."""
        return [work.action() for work in self.issued]

    @property
    def status(self) -> Any:
        """The custom status the orchestrator set in its latest episode."""
        return self.statuses[-1] if self.statuses else None

    def running(self, kind: str | None = None, name: str | None = None) -> list[Work]:
        """Work issued and not finished yet, in issue order (optionally of one kind or name)."""
        return [w for w in self.open.values() if (kind is None or w.kind == kind) and (name is None or w.name == name)]

    def raise_event(
        self, name: str, data: Any, *, when: Callable[[Replay], bool] | None = None, at: datetime | None = None
    ) -> Raise:
        """Queue the event ``name`` with ``data``: raised once ``when(replay)`` holds after an episode (before any
        completion of that round), at the time ``at``, or, given neither, after the next episode.

        Its ``Input`` is what the extension stores for ``DurableOrchestrationClient.raise_event``: the SDK client
        posts the JSON text of the data as a JSON string, so the event carries the JSON text of that text and
        ``wait_for_external_event`` yields a string (azure-functions-durable-python#295)."""
        queued = Raise(name, data, when=when if when or at else (lambda replay: True), at=at)
        self.raises.append(queued)
        return queued

    # -- history ------------------------------------------------------------------------------------------

    def _open_episode(self, at: datetime) -> None:
        self.now = max(self.now, at)
        self.history.append(h.orchestrator_started(_iso(self.now)))

    def _close_episode(self) -> None:
        self.history.append(h.orchestrator_completed(_iso(self.now)))

    def _issue(self, action: NewAction) -> None:
        stamp = _iso(self.now)
        if action.kind == "timer":
            assert action.fire_at is not None
            work = Work(action.id, "timer", "", None, self.now, action.fire_at, fire_at=action.fire_at)
            self.history.append(h.timer_created(stamp, action.id, _iso(action.fire_at)))
        else:
            kind = "activity" if action.kind == "task" else "sub"
            payload = json.loads(action.input) if action.input is not None else None
            work = Work(action.id, kind, action.name, payload, self.now, self.now, instance_id=action.instance_id)
            work.due = self.now + self.duration(work)
            if kind == "activity":
                self.history.append(h.task_scheduled(stamp, action.id, action.name, json.dumps([action.input])))
            else:
                self.history.append(h.sub_created(stamp, action.id, action.name, action.instance_id, action.input))
        self.issued.append(work)
        self.open[work.id] = work

    # -- running ------------------------------------------------------------------------------------------

    def run(self, max_rounds: int = 400) -> dict[str, Any]:
        """Replay until the orchestrator is done (returned, failed or continued as new); the SDK's final state."""
        for _ in range(max_rounds):
            episode = run_episode(
                self.function._function.get_user_function(),
                self.name,
                self.history,
                self.instance_id,
                EXECUTION_ID,
                json.dumps(self.input),
                None,
                KNOWN_ACTIVITIES,
                KNOWN_ORCHESTRATORS,
            )
            state = episode.state or {}
            self.statuses.append(state.get("customStatus"))
            if episode.outcome == "failed" and not state.get("error"):
                raise AssertionError(f"the Durable extension fails the orchestration: {episode.output_json}")
            if episode.outcome != "running":
                self.outcome = episode.outcome
                return state
            for action in episode.new_actions:
                self._issue(action)
            self._close_episode()
            self._advance()
        raise AssertionError("the orchestrator did not finish")

    def _advance(self) -> None:
        """Open the next episode with one completion: a due event, else the work or timed event due first."""
        for queued in self.raises:
            if queued.raised_at is None and queued.when is not None and queued.when(self):
                self._deliver_event(queued, self.now + LATENCY)
                return
        timed = [r for r in self.raises if r.raised_at is None and r.at is not None]
        first_event = min(timed, key=lambda r: r.at or self.now, default=None)
        first_work = min(self.open.values(), key=lambda w: (w.due, w.id), default=None)
        if first_event is not None and first_event.at is not None:
            if first_work is None or first_event.at <= first_work.due:
                self._deliver_event(first_event, first_event.at)
                return
        if first_work is None:
            waiting = [r.name for r in self.raises if r.raised_at is None]
            raise AssertionError(
                f"nothing is running and no event is due (queued: {waiting}); the orchestrator waits for ever: "
                f"{self.status}"
            )
        self._complete(first_work)

    def _deliver_event(self, queued: Raise, at: datetime) -> None:
        self._open_episode(at)
        queued.raised_at = self.now
        self.history.append(h.event_raised(_iso(self.now), queued.name, json.dumps(json.dumps(queued.data))))

    def _complete(self, work: Work) -> None:
        del self.open[work.id]
        if work.kind == "timer":
            assert work.fire_at is not None
            self._open_episode(work.fire_at)
            work.completed_at = self.now
            self.history.append(h.timer_fired(_iso(self.now), work.id, _iso(work.fire_at)))
            return
        responder = self.activity if work.kind == "activity" else self.sub_orchestration
        outcome = responder(work.name, work.payload)
        self._open_episode(work.due)
        work.completed_at = self.now
        stamp = _iso(self.now)
        if work.kind == "activity":
            if isinstance(outcome, Fail):
                reason = f"Activity function '{work.name}' failed: {outcome.message}"
                self.history.append(h.task_failed(stamp, work.id, reason, ""))
            else:
                self.history.append(h.task_completed(stamp, work.id, json.dumps(outcome)))
        elif isinstance(outcome, Fail):
            reason = f"Orchestrator function '{work.name}' failed: {outcome.message}"
            self.history.append(h.sub_failed(stamp, work.id, reason, ""))
        else:
            self.history.append(h.sub_completed(stamp, work.id, json.dumps(outcome)))
