"""Turn an instance's pending inbox messages into one committed episode (the orchestration work item).

This is the host side of what DTFx's TaskOrchestrationDispatcher does: pick the visible messages, append
``OrchestratorStarted`` plus the new events, replay, then write the new actions' history events, work items,
timers and children, and the instance's new status, in one transaction (``TaskHub.commit_episode``).
Terminate, suspend and resume are handled here too, without running user code, as DTFx does.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import history as h
from .app_loader import LoadedApp
from .history import Event
from .limits import Limits
from .replay import EpisodeResult, run_episode
from .taskhub import KIND_RESUME, KIND_SUSPEND, KIND_TERMINATE, TERMINAL, InboxMessage, Instance, TaskHub

log = logging.getLogger("emulators.functions")
_STATS_LOCK = threading.Lock()


@dataclass
class EpisodeStats:
    """Replay work so far: CPU seconds of the episode threads themselves (``time.thread_time``: episodes run on
    several threads beside activities and HTTP, so process CPU time would count their work too), in all and per
    orchestrator name (``{name: [episodes, seconds, events]}``)."""

    episodes: int = 0
    replay_seconds: float = 0.0
    replayed_events: int = 0
    by_orchestrator: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float, events: int) -> None:
        with _STATS_LOCK:  # episodes of different instances finish on different threads
            self._add(name, seconds, events)

    def _add(self, name: str, seconds: float, events: int) -> None:
        self.episodes += 1
        self.replay_seconds += seconds
        self.replayed_events += events
        entry = self.by_orchestrator.setdefault(name, [0, 0.0, 0])
        entry[0] += 1
        entry[1] += seconds
        entry[2] += events


def _wrap_input(action_input: str | None) -> str | None:
    """ExecutionStarted.Input for a child or a new generation: the action's JSON string, serialized again."""
    return None if action_input is None else json.dumps(action_input)


class EpisodeRunner:
    def __init__(self, hub: TaskHub, app: LoadedApp, limits: Limits | None = None) -> None:
        self.hub = hub
        self.app = app
        self.limits = limits or Limits()
        self.stats = EpisodeStats()
        self.known_activities = set(app.activities)
        self.known_orchestrators = set(app.orchestrators)

    def run(self, instance_id: str) -> bool:
        """Process what is visible for one instance; True if an episode was committed or messages dropped."""
        for _ in range(5):  # a concurrent management call (purge, restart) may change the row under us
            inst = self.hub.get_instance(instance_id)
            if inst is None:
                return False
            msgs = self.hub.inbox_for(instance_id, time.time())
            if not msgs:
                return False
            result = self._process(inst, msgs)
            if result is not None:
                return result
        return False

    # ------------------------------------------------------------------------------------------------
    def _process(self, inst: Instance, msgs: list[InboxMessage]) -> bool | None:
        if inst.status in TERMINAL:
            # Late activity results, timers and events for a finished instance are dropped, as in DTFx.
            self.hub.drop_messages(inst, [m.seq for m in msgs])
            return True
        stale = [m.seq for m in msgs if m.execution_id and m.execution_id != inst.execution_id]
        valid = [m for m in msgs if not (m.execution_id and m.execution_id != inst.execution_id)]
        if not valid:
            self.hub.drop_messages(inst, stale)
            return True
        ts = h.fmt_ts(h.utcnow())
        terminate = next((m for m in valid if m.kind == KIND_TERMINATE), None)
        if terminate is not None:
            return self._terminate(inst, valid, stale, terminate, ts)
        if inst.status == "Suspended":
            resume_index = next((i for i, m in enumerate(valid) if m.kind == KIND_RESUME), None)
            if resume_index is None:
                return False
            resume = valid[resume_index]
            # Events that arrived while suspended were held in the inbox; they follow ExecutionResumed.
            held = [m for m in valid[:resume_index] if m.kind not in (KIND_SUSPEND, KIND_RESUME)]
            batch = held + self._until_suspend(valid[resume_index + 1 :])
            events = [
                h.execution_suspended(inst.suspended_at or ts, inst.suspend_reason),
                h.execution_resumed(ts, resume.event.get("Reason")),
            ]
            consumed = sorted({m.seq for m in valid[: resume_index + 1]} | {m.seq for m in batch})
            return self._episode(inst, events, batch, consumed + stale, ts, clear_suspended=True)
        first = valid[0]
        if first.kind == KIND_SUSPEND:
            ok = self.hub.commit_episode(
                inst,
                [first.seq] + stale,
                [],
                "Suspended",
                suspended=(first.event.get("Timestamp"), first.event.get("Reason")),
            )
            return True if ok else None
        if first.kind == KIND_RESUME:  # resuming an instance that is not suspended: nothing to do
            self.hub.drop_messages(inst, [first.seq])
            return True
        batch = self._until_suspend(valid)
        return self._episode(inst, [], batch, [m.seq for m in batch] + stale, ts)

    @staticmethod
    def _until_suspend(msgs: list[InboxMessage]) -> list[InboxMessage]:
        out = []
        for m in msgs:
            if m.kind in (KIND_SUSPEND, KIND_RESUME):
                break
            out.append(m)
        return out

    def _terminate(
        self, inst: Instance, valid: list[InboxMessage], stale: list[int], term: InboxMessage, ts: str
    ) -> bool | None:
        reason = term.event.get("Input")
        history = self.hub.get_history(inst)
        new: list[Event] = [h.orchestrator_started(ts)]
        if not history:
            new += [m.event for m in valid if m.kind == h.EXECUTION_STARTED]
        new += [
            h.execution_terminated(ts, reason),
            h.execution_completed(ts, -1, "Terminated", reason),
            h.orchestrator_completed(ts),
        ]
        parent_msg = h.sub_failed(ts, inst.parent_task_id or 0, reason or "", None) if inst.parent_instance_id else None
        ok = self.hub.commit_episode(
            inst,
            [m.seq for m in valid] + stale,
            new,
            "Terminated",
            output=reason,
            parent_message=parent_msg,
            clear_suspended=True,
        )
        return True if ok else None

    def _episode(
        self,
        inst: Instance,
        lead: list[Event],
        batch: list[InboxMessage],
        consumed: list[int],
        ts: str,
        clear_suspended: bool = False,
    ) -> bool | None:
        history = self.hub.get_history(inst)
        incoming = [m.event for m in batch]
        started = [e for e in incoming if e["EventType"] == h.EXECUTION_STARTED]
        others = [e for e in incoming if e["EventType"] != h.EXECUTION_STARTED]
        if history:
            started = []  # a duplicate start for a running execution is ignored
        elif not started:
            self.hub.drop_messages(inst, consumed)  # nothing can run before ExecutionStarted
            return True
        new_events: list[Event] = [h.orchestrator_started(ts)] + started[:1] + lead + others
        spec = self.app.orchestrators.get(inst.name)
        if spec is None:
            known = ", ".join(f"'{n}'" for n in sorted(self.app.orchestrators))
            res = EpisodeResult(
                outcome="failed",
                output_json=f"The function '{inst.name}' doesn't exist, is disabled, or is not an orchestrator "
                f"function. Additional info: The following are the known orchestrator functions: {known}.",
            )
        else:
            t0 = time.thread_time()
            res = run_episode(
                spec.user_function,
                inst.name,
                history + new_events,
                inst.instance_id,
                inst.execution_id,
                inst.input,
                inst.parent_instance_id,
                self.known_activities,
                self.known_orchestrators,
                self.limits,
            )
            self.stats.add(inst.name, time.thread_time() - t0, len(history) + len(new_events))
        return self._commit(inst, new_events, res, consumed, ts, clear_suspended)

    def _commit(
        self,
        inst: Instance,
        new_events: list[Event],
        res: EpisodeResult,
        consumed: list[int],
        ts: str,
        clear_suspended: bool,
    ) -> bool | None:
        events = list(new_events)
        activities: list[tuple[int, str, str | None]] = []
        timers: list[tuple[Event, float]] = []
        children: list[tuple[str, str, str | None, dict[str, Any]]] = []
        for a in res.new_actions:
            if a.kind == "task":
                events.append(h.task_scheduled(ts, a.id, a.name, json.dumps([a.input])))
                activities.append((a.id, a.name, a.input))
            elif a.kind == "timer":
                assert a.fire_at is not None
                fire = h.fmt_ts(a.fire_at)
                events.append(h.timer_created(ts, a.id, fire))
                timers.append((h.timer_fired(fire, a.id, fire), a.fire_at.timestamp()))
            elif a.kind == "sub":
                events.append(h.sub_created(ts, a.id, a.name, a.instance_id, a.input))
                parent = {
                    "Name": inst.name,
                    "Version": "",
                    "TaskScheduleId": a.id,
                    "OrchestrationInstance": {"InstanceId": inst.instance_id, "ExecutionId": inst.execution_id},
                }
                children.append((a.instance_id, a.name, _wrap_input(a.input), parent))
        status = "Running"
        output: str | None = None
        parent_msg: Event | None = None
        continue_as_new: tuple[str | None, list[Event]] | None = None
        if res.outcome == "completed":
            status, output = "Completed", res.output_json
            events.append(h.execution_completed(ts, res.completion_event_id, "Completed", output))
            parent_msg = h.sub_completed(ts, inst.parent_task_id or 0, output)
        elif res.outcome == "failed":
            status, output = "Failed", res.output_json
            events.append(h.execution_completed(ts, res.completion_event_id, "Failed", output))
            details = json.dumps({"Message": output, "ClassName": "OrchestrationFailureException"})
            parent_msg = h.sub_failed(ts, inst.parent_task_id or 0, output or "", details)
        elif res.outcome == "continued":
            status = "ContinuedAsNew"
            events.append(h.continue_as_new(ts, res.completion_event_id, None))
            continue_as_new = (_wrap_input(res.continue_input), res.carried_events)
        events.append(h.orchestrator_completed(ts))
        if not inst.parent_instance_id:
            parent_msg = None
        ok = self.hub.commit_episode(
            inst,
            consumed,
            events,
            status,
            output=output,
            custom_status=json.dumps(res.custom_status) if res.custom_status_set else None,
            custom_status_set=res.custom_status_set,
            activities=activities,
            timers=timers,
            children=children,
            parent_message=parent_msg,
            continue_as_new=continue_as_new,
            clear_suspended=clear_suspended,
        )
        if ok and status == "Failed":
            log.warning("orchestration %s (%s) failed: %s", inst.instance_id, inst.name, output)
        return True if ok else None
