"""Orchestration: a migration wave: prepare every machine, wait at the gate, then cut over group by group.

1. **Prepare**: every machine's runbook up to the cutover gate (replication, test failover, cleanup), in batches
   whose caps add up to the plan's ``maxParallel``.
2. **Gate**: machines that failed hold the wave (``onMachineFailure: hold``) until they are retried or the wave is
   cancelled, or the wave goes on with the healthy ones; then the approval (``awaiting_approval``, with its
   timeout: hold or cancel); then the cutover window, on the plan clock (``migration.plan_clock``): a window in the
   future is waited for with a durable timer, a missed one holds the wave until it is postponed.
3. **Cutover**: group by group in plan order, each group only once the previous group's failovers are committed;
   a group starts only when all its machines are approved.

Operators steer it with one external event, ``control``, whose payload says ``action`` (approve, reject, cancel,
retry, postpone), ``actor``, ``reason``, optionally ``machines`` and, for postpone, ``window``. Every action is
recorded with its actor and reason, accepted or not, in the custom status and the result. An approval that comes
early (before the gate) is kept for the gate. Every wait of this orchestration includes the ``control`` event, so
no event ever arrives while nobody listens: azure-functions-durable 1.7 keeps only the last such early event of a
name and hands it again to every later wait for that name (its ``deferred_tasks`` entry is never removed), which
would apply one command over and over. A command may carry an ``id`` (the Service Bus message id, the HTTP
request's idempotency key); a repeated id is ignored, so a redelivered command acts once.

Cancel rolls back every machine that has not failed over (runbooks in flight are terminated first); a machine in
the middle of its cutover finishes it, since failover cannot be undone, and is reported as migrated. No failover
starts after a cancel: the cutover batches are told to stop starting machines (``activities.stop_starting``), and
the machines they never started are rolled back with the rest.

Input ``{"plan": {...}, "clock": PlanClock dict}``. Output ``{"migrationId", "status": Migrated|PartiallyMigrated|
Failed|Cancelled, "machines": {name: record}, "controls": [...], "startedAt", "endedAt", "counts"}``.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

import azure.durable_functions as df

from activities import names as activities
from migration.commands import ACTIONS, CONTROL_EVENT
from migration.instance_ids import batch_id, machine_id
from migration.plan import Plan, validate_plan
from migration.plan_clock import PlanClock
from migration.plan_options import OnApprovalTimeout, OnMachineFailure
from migration.status_bounds import control_excerpt, first_names, names_text
from orchestrators import asr_step, events, names
from orchestrators.timing import activity_retry
from orchestrators.wave_batch import kick

name = names.WAVE
bp = df.Blueprint()

# Most machines per batch orchestration: each adds about eight history events to its batch (created, completed,
# the refill's timer, the episodes), and a batch replays its whole history once per finished machine.
BATCH_SIZE = 50
# Machine outcomes as events spell them.
_OUTCOMES = {"migrated": "Migrated", "failed": "Failed", "cancelled": "Cancelled"}

Json = dict[str, Any]
Wait = Generator[Any, Any, Any]


def _split(machines: list[str]) -> list[list[str]]:
    """``machines`` in plan order, in as few batches as ``BATCH_SIZE`` allows, all of about the same size.

    A batch keeps the cap it started with, so a small last batch (60 machines: 50 and 10) would finish early and
    leave its share of ``maxParallel`` idle while the big one works through the rest at half the cap.
    """
    count = -(-len(machines) // BATCH_SIZE)
    size, extra = divmod(len(machines), count)
    batches, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        batches.append(machines[start:end])
        start = end
    return batches


class WaveRun:
    def __init__(self, context: df.DurableOrchestrationContext, request: Json) -> None:
        self.context = context
        self.plan: Plan = validate_plan(request["plan"])
        self.plan_json: Json = self.plan.model_dump(by_alias=True, mode="json", exclude_none=True)
        self.options_json: Json = self.plan_json.get("options") or {}
        self.clock = PlanClock.from_dict(request["clock"])
        self.scale = self.clock.speed
        self.machine_json: dict[str, Json] = {}
        self.machines: dict[str, Json] = {}
        for group_index, group in enumerate(self.plan_json["groups"]):
            for machine in group["machines"]:
                self.machine_json[machine["name"]] = machine
                self.machines[machine["name"]] = {
                    "group": group_index,
                    "outcome": None,
                    "stage": None,
                    "error": None,
                    "attempt": 0,
                    "retryFrom": None,
                    "record": None,
                }
        window = self.plan.options.cutover_window
        self.window: Json = {
            "notBefore": window.not_before.isoformat() if window and window.not_before else None,
            "notAfter": window.not_after.isoformat() if window and window.not_after else None,
        }
        self.approved_all = not self.plan.options.approval.required
        self.approved: set[str] = set()
        self.continue_with_healthy = self.plan.options.on_machine_failure is OnMachineFailure.CONTINUE
        self.cancel_requested = False
        self.cancel_control: Json | None = None
        self.controls: list[Json] = []
        self.phase = "preparing"
        self.hold: Json | None = None
        self.approval_since: str | None = None
        self.approval_timed_out = False
        self.round = 0
        self.control_task: Any = None
        self.started_at = context.current_utc_datetime.isoformat()
        self.outbox: list[tuple[str, str, Json, str]] = []  # (type, key, data, status) waiting to be published
        self.events_failed = 0
        self.flushing = False
        self.approval_requests = 0
        self.applied_ids: set[str] = set()
        self.yielded: set[Any] = set()  # tasks already handed to a task_any (the extension has them)

    # -- status -------------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        now: datetime = self.context.current_utc_datetime
        return now

    def _counts(self) -> Json:
        counts: dict[str, int] = {}
        for state in self.machines.values():
            key = state["outcome"] or "inProgress"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def _status(self) -> None:
        """The custom status: counts and a few names only, so it fits Azure's 16 KB for any plan size."""
        awaiting = [] if self.approved_all else [n for n in self._ready() if n not in self.approved]
        self.context.set_custom_status(
            {
                "migrationId": self.plan.id,
                "name": self.plan.name,
                "phase": self.phase,
                "counts": self._counts(),
                "machineCount": len(self.machines),
                "gate": {
                    "approvalRequired": self.plan.options.approval.required,
                    "approved": self.approved_all,
                    "approvedCount": len(self.approved),
                    "awaiting": {"count": len(awaiting), "first": first_names(awaiting)},
                    "awaitingApprovalSince": self.approval_since,
                    "approvalTimedOut": self.approval_timed_out,
                },
                "window": self.window,
                "planTime": self.clock.plan_time(self.now).isoformat(),
                "hold": self.hold,
                "controls": len(self.controls),
                "eventsFailed": self.events_failed,
                "lastControl": control_excerpt(self.controls[-1]) if self.controls else None,
                "updatedAt": self.now.isoformat(),
            }
        )

    # -- control events -----------------------------------------------------------------------------------

    def _record(self, control: Json, accepted: bool, detail: str) -> None:
        self.controls.append({**control, "accepted": accepted, "detail": detail, "at": self.now.isoformat()})
        data = {
            "migrationId": self.plan.id,
            "action": control["action"] if control["action"] in ACTIONS else "approve",
            "actor": control.get("actor") or "unknown",
            "reason": control.get("reason") or None,
            "machines": [m for m in control.get("machines") or [] if m in self.machines],
            "accepted": accepted,
            "detail": detail,
        }
        if control["action"] in ACTIONS:
            status = "accepted" if accepted else "refused"
            self.outbox.append(("migration.control", f"control/{len(self.controls)}", data, status))

    def _flush(self) -> Wait:
        """Publish what the last steps queued (a failure to publish is counted, never fatal).

        What is queued together is published together, in one fan-out: a burst of commands delivered at once
        (after a suspend, or to a busy host) costs one episode, not one per event. A command that comes while
        events are being published queues its own event, and this same loop publishes it next; a flush of its
        own would nest one level per command, and a few hundred would exhaust Python's recursion limit.
        """
        if self.flushing:
            return
        self.flushing = True
        try:
            while self.outbox:
                tasks = [
                    events.publish_task(
                        self.context,
                        event_type=event_type,
                        key=key,
                        migration_id=self.plan.id,
                        data=data,
                        time_scale=self.scale,
                        status=status,
                    )
                    for event_type, key, data, status in self.outbox
                ]
                self.outbox.clear()
                yield from self._await(self.context.task_all(tasks))
                for task in tasks:  # a fan-out fails at its first failure: let the others finish too
                    if not task.is_completed:
                        yield from self._await(task)
                self.events_failed += sum(1 for task in tasks if isinstance(task.result, Exception))
        finally:
            self.flushing = False

    def _await(self, task: Any) -> Wait:
        """``task``'s result (an Exception if it failed), handling control events that come meanwhile."""
        while True:
            winner = yield from self._wait([task])
            if winner is task:
                return task.result

    def _apply_control(self, payload: Any) -> None:
        if isinstance(payload, str):
            # The Durable extension hands raised event data over as JSON text (double-encoded), not the object.
            try:
                payload = json.loads(payload)
            except ValueError:
                pass
        command_id = payload.get("id") if isinstance(payload, dict) else None
        if command_id is not None:
            if str(command_id) in self.applied_ids:
                return  # the same command delivered again
            self.applied_ids.add(str(command_id))
        if not isinstance(payload, dict) or payload.get("action") not in ACTIONS:
            shown = payload if isinstance(payload, dict) else {"payload": str(payload)[:200]}
            action, actor = str(shown.get("action"))[:50], str(shown.get("actor") or "unknown")[:200]
            self._record({"action": action, "actor": actor}, False, "unknown action")
            return
        control: Json = {
            "action": payload["action"],
            "actor": str(payload.get("actor") or "unknown")[:200],
            "reason": str(payload.get("reason") or "")[:1000],
            "machines": [str(m) for m in payload.get("machines") or []],
        }
        unknown = [m for m in control["machines"] if m not in self.machines]
        if unknown:
            self._record(control, False, f"unknown machines: {names_text(unknown)}")
            return
        action = control["action"]
        if self.cancel_requested and action != "cancel":
            self._record(control, False, "the wave is being cancelled")
        elif action in ("cancel", "reject"):
            self.cancel_requested = True
            self.cancel_control = control
            self._record(control, True, "rolling back every machine that has not failed over")
        elif action == "approve":
            if control["machines"]:
                self.approved |= set(control["machines"])
            else:
                self.approved_all = True
            if self.hold and self.hold["reason"] == "machinesFailed":
                self.continue_with_healthy = True
            self._record(control, True, "approved")
        elif action == "retry":
            self._apply_retry(control)
        else:
            self._apply_postpone(control, payload.get("window"))

    def _apply_retry(self, control: Json) -> None:
        failed = [n for n, s in self.machines.items() if s["outcome"] == "failed"]
        chosen = [m for m in control["machines"] if m in failed] if control["machines"] else failed
        if not chosen:
            self._record(control, False, "no failed machine to retry")
            return
        for machine in chosen:
            state = self.machines[machine]
            state.update(outcome=None, attempt=state["attempt"] + 1, retryFrom=(state["error"] or {}).get("stage"))
        self._record(control, True, f"retrying {names_text(chosen)}")

    def _apply_postpone(self, control: Json, window: Any) -> None:
        try:
            not_before = datetime.fromisoformat(str(window["notBefore"]).replace("Z", "+00:00"))
            not_after = datetime.fromisoformat(str(window["notAfter"]).replace("Z", "+00:00"))
        except (TypeError, KeyError, ValueError):
            self._record(control, False, "window needs notBefore and notAfter as ISO 8601 UTC times")
            return
        if not_before.tzinfo is None or not_after.tzinfo is None or not_after <= not_before:
            self._record(control, False, "window must be in UTC and end after it starts")
            return
        self.window = {"notBefore": not_before.isoformat(), "notAfter": not_after.isoformat()}
        self._record({**control, "window": self.window}, True, "new cutover window")

    def _wait(self, tasks: list[Any], until: datetime | None = None) -> Wait:
        """Wait for any of ``tasks``, a control event, or ``until``; apply a control event if one came.

        Returns the task that finished, the string ``"control"``, ``"timeout"`` or ``"kick"`` (nothing happened).
        """
        if self.control_task is None:
            self.control_task = self.context.wait_for_external_event(CONTROL_EVENT)
        timer = self.context.create_timer(until) if until is not None else None
        waited = [*tasks, self.control_task]
        # The extension resolves a task_any only through its new tasks; when old ones are in it too, a timer due at
        # once lets the next actions go out (orchestrators.wave_batch explains). A cancelled ``until`` timer
        # resolves at once by itself.
        fresh = [t for t in waited if t not in self.yielded]
        kicker = kick(self.context) if fresh and len(fresh) < len(waited) else None
        self.yielded.update(waited)
        self._status()
        winner = yield self.context.task_any([*waited, *([timer] if timer else []), *([kicker] if kicker else [])])
        if timer is not None and winner is not timer:
            timer.cancel()
        if kicker is not None and winner is kicker:
            return "kick"
        if winner is self.control_task:
            self.control_task = None
            self._apply_control(winner.result)
            yield from self._flush()
            return "control"
        if winner is timer:
            return "timeout"
        return winner

    # -- running machines ---------------------------------------------------------------------------------

    def _entry(self, machine: str, phase: str) -> Json:
        state = self.machines[machine]
        entry: Json = {"machine": self.machine_json[machine], "attempt": state["attempt"], "record": state["record"]}
        if state["retryFrom"]:
            entry["fromStage"] = state["retryFrom"]
        return entry

    def _run_phase(self, phase: str, machines: list[str], *, stop_on_cancel: bool) -> Wait:
        """Run ``machines`` through ``phase`` in batches whose caps add up to ``maxParallel``."""
        if not machines:
            return
        self.round += 1
        batches = _split(machines)
        slots = self.plan.options.max_parallel
        active = min(len(batches), slots)
        caps = [slots // active + (1 if i < slots % active else 0) for i in range(active)]
        free_caps = list(caps)
        running: dict[Any, tuple[int, list[str], int]] = {}
        next_index = 0
        stopped = False
        while next_index < len(batches) or running:
            # After a cancel, batches in flight finish (a cutover cannot stop halfway) but no new one starts.
            may_start = phase == "rollback" or not self.cancel_requested
            if not may_start and not running:
                return
            while may_start and next_index < len(batches) and free_caps:
                cap = free_caps.pop()
                payload = {
                    "migrationId": self.plan.id,
                    "phase": phase,
                    "cap": cap,
                    "timeScale": self.scale,
                    "options": self.options_json,
                    "machines": [self._entry(m, phase) for m in batches[next_index]],
                }
                instance = batch_id(self.plan.id, phase, self.round, next_index)
                task = self.context.call_sub_orchestrator(names.WAVE_BATCH, payload, instance)
                running[task] = (cap, batches[next_index], next_index)
                next_index += 1
            winner = yield from self._wait(list(running))
            if winner == "kick":
                continue
            if winner == "control":
                if self.cancel_requested and stop_on_cancel:
                    in_flight = [m for _, batch, _ in running.values() for m in batch]
                    yield from self._terminate(phase, in_flight, sorted(index for _, _, index in running.values()))
                    return
                if self.cancel_requested and phase == "cutover" and not stopped:
                    stopped = True
                    yield from self._stop_starting(sorted(index for _, _, index in running.values()))
                continue
            cap, batch, _ = running.pop(winner)
            free_caps.append(cap)
            results = winner.result if not isinstance(winner.result, Exception) else {"results": {}}
            not_started = set(results.get("notStarted") or [])
            for machine in batch:
                if machine in not_started:
                    continue  # stopped by a cancel before it began: still ready, so it is rolled back
                record = results["results"].get(machine) or {
                    "machine": machine,
                    "outcome": "failed",
                    "error": asr_step.error(phase, "BatchFailed", str(winner.result)[:500]),
                }
                self._absorb(machine, record)

    def _absorb(self, machine: str, record: Json) -> None:
        state = self.machines[machine]
        outcome = record.get("outcome")
        if outcome == "failedOver":  # a rollback found it past the point of no return
            outcome = "migrated"
        state.update(outcome=outcome, stage=record.get("stage"), error=record.get("error"), retryFrom=None)
        if "stages" in record:
            state["record"] = record

    def _stop_starting(self, batches: list[int]) -> Wait:
        """Tell the running cutover batches to start no further failover; machines already failing over finish."""
        payload = {
            "instanceIds": [batch_id(self.plan.id, "cutover", self.round, index) for index in batches],
            "reason": "migration cancelled",
        }
        yield from self._await(
            self.context.call_activity_with_retry(activities.STOP_STARTING, activity_retry(self.scale), payload)
        )

    def _terminate(self, phase: str, machines: list[str], batches: list[int]) -> Wait:
        ids = [machine_id(self.plan.id, m, phase, self.machines[m]["attempt"]) for m in machines]
        attempts = max((self.machines[m]["attempt"] for m in machines), default=0)
        batch_ids = [batch_id(self.plan.id, phase, self.round, i) for i in batches]
        payload = {"instanceIds": [*batch_ids, *ids], "attempts": attempts, "reason": "migration cancelled"}
        yield from self._await(
            self.context.call_activity_with_retry(activities.TERMINATE_INSTANCES, activity_retry(self.scale), payload)
        )
        # Let an activity that was already running when its runbook was terminated finish before rolling back.
        yield from self._await(self.context.create_timer(self.now + timedelta(seconds=max(2.0, 60 / self.scale))))

    # -- the gate -----------------------------------------------------------------------------------------

    def _unsettled(self) -> list[str]:
        """Machines that still need their preparation run (never started, or being retried)."""
        return [n for n, s in self.machines.items() if s["outcome"] is None]

    def _ready(self) -> list[str]:
        return [n for n, s in self.machines.items() if s["outcome"] == "ready"]

    def _hold(self, reason: str, detail: str) -> Wait:
        self.phase = "held"
        self.hold = {"reason": reason, "detail": detail, "since": self.now.isoformat()}
        yield from self._wait([])
        self.hold = None

    def _gate_passed(self) -> Wait:
        """True once nothing keeps the next cutover group waiting; False when a control event changed things."""
        failed = [n for n, s in self.machines.items() if s["outcome"] == "failed"]
        if failed and not self.continue_with_healthy:
            yield from self._hold("machinesFailed", f"failed before cutover: {names_text(sorted(failed))}")
            return False
        group = self._next_group()
        if group is None:
            return True
        if not self._approved(group):
            yield from self._await_approval()
            return False
        plan_now = self.clock.plan_time(self.now)
        if self.window["notAfter"] and plan_now > datetime.fromisoformat(self.window["notAfter"]):
            yield from self._hold("windowMissed", f"the cutover window ended at {self.window['notAfter']}")
            return False
        if self.window["notBefore"] and plan_now < datetime.fromisoformat(self.window["notBefore"]):
            self.phase = "waitingForWindow"
            yield from self._wait([], self.clock.wall_time(datetime.fromisoformat(self.window["notBefore"])))
            return False
        return True

    def _next_group(self) -> list[str] | None:
        """The ready machines of the first group that still has any, in plan order."""
        for group_index in range(len(self.plan.groups)):
            members = [n for n in self._ready() if self.machines[n]["group"] == group_index]
            if members:
                return members
        return None

    def _approved(self, machines: list[str]) -> bool:
        return self.approved_all or all(m in self.approved for m in machines)

    def _await_approval(self) -> Wait:
        self.phase = "awaitingApproval"
        if self.approval_since is None:
            self.approval_since = self.now.isoformat()
            self.approval_requests += 1
            deadline = datetime.fromisoformat(self.approval_since) + self.clock.wall_duration(
                self.plan.options.approval.timeout
            )
            window = {k: v for k, v in self.window.items() if v}
            self.outbox.append(
                (
                    "migration.awaiting_approval",
                    f"awaiting_approval/{self.approval_requests}",
                    {
                        "migrationId": self.plan.id,
                        "machines": self._ready(),
                        "approvalDeadline": deadline.isoformat(),
                        "onApprovalTimeout": self.plan.options.approval.on_timeout.value,
                        "cutoverWindow": window or None,
                        "approveUri": f"/api/migrations/{self.plan.id}/approve",
                        "rejectUri": f"/api/migrations/{self.plan.id}/reject",
                    },
                    "waiting",
                )
            )
            yield from self._flush()
        if self.approval_timed_out:
            yield from self._hold("approvalTimedOut", "no approval came within the plan's approval timeout")
            return
        timeout = self.clock.wall_duration(self.plan.options.approval.timeout)
        until = datetime.fromisoformat(self.approval_since) + max(timeout, timedelta(seconds=1))
        outcome = yield from self._wait([], until)
        if outcome == "timeout":
            self.approval_timed_out = True
            if self.plan.options.approval.on_timeout is OnApprovalTimeout.CANCEL:
                control = {"action": "cancel", "actor": "system", "reason": "approval timed out", "machines": []}
                self.cancel_requested, self.cancel_control = True, control
                self._record(control, True, "approval timed out and the plan says cancel")

    # -- cancel and finish --------------------------------------------------------------------------------

    def _cancel(self) -> Wait:
        self.phase = "cancelling"
        to_roll_back = [n for n, s in self.machines.items() if s["outcome"] not in ("migrated", "cancelled")]
        yield from self._run_phase("rollback", to_roll_back, stop_on_cancel=False)

    def _machine_result(self, machine: str) -> Json:
        state = self.machines[machine]
        summary = {"machine": machine, "outcome": state["outcome"], "stage": state["stage"], "error": state["error"]}
        return {**(state["record"] or {}), **summary, "group": self.plan.groups[state["group"]].name}

    def _result(self) -> Json:
        outcomes = [s["outcome"] for s in self.machines.values()]
        migrated = outcomes.count("migrated")
        if migrated == len(outcomes):
            status = "Migrated"
        elif migrated:
            status = "PartiallyMigrated"
        elif self.cancel_requested:
            status = "Cancelled"
        else:
            status = "Failed"
        self.phase = "completed"
        self._status()
        return {
            "migrationId": self.plan.id,
            "name": self.plan.name,
            "status": status,
            "counts": self._counts(),
            "machines": {name: self._machine_result(name) for name in self.machines},
            "controls": self.controls,
            "startedAt": self.started_at,
            "endedAt": self.now.isoformat(),
        }

    def _accepted(self) -> Json:
        return {
            "migrationId": self.plan.id,
            "name": self.plan.name,
            "machineCount": len(self.machines),
            "groups": [{"name": g.name, "machines": [m.name for m in g.machines]} for g in self.plan.groups],
        }

    def _completed(self, result: Json) -> Json:
        counts = {key: sum(1 for s in self.machines.values() if s["outcome"] == key) for key in _OUTCOMES}
        return {
            "migrationId": self.plan.id,
            "status": result["status"],
            "counts": counts,
            "machines": [
                {"name": n, "outcome": _OUTCOMES[s["outcome"]]}
                for n, s in self.machines.items()
                if s["outcome"] in _OUTCOMES
            ],
        }

    def execute(self) -> Wait:
        self.outbox.append(("migration.accepted", "accepted", self._accepted(), "accepted"))
        yield from self._flush()
        while not self.cancel_requested:
            unsettled = self._unsettled()
            if unsettled:
                self.phase = "preparing"
                yield from self._run_phase("prepare", unsettled, stop_on_cancel=True)
                continue
            if not (yield from self._gate_passed()):
                continue
            group = self._next_group()
            if group is None:
                break
            self.phase = "cuttingOver"
            yield from self._run_phase("cutover", group, stop_on_cancel=False)
        if self.cancel_requested:
            yield from self._cancel()
        result = self._result()
        self.outbox.append(("migration.completed", "completed", self._completed(result), result["status"]))
        yield from self._flush()
        result["eventsFailed"] = self.events_failed
        if self.plan.callback_url:
            # A separate orchestration delivers it with its own retries, so the wave completes now.
            delivery = {
                "migrationId": self.plan.id,
                "callbackUrl": self.plan.callback_url,
                "result": result,
                "timeScale": self.scale,
            }
            started = yield from self._await(
                self.context.call_activity_with_retry(
                    activities.START_CALLBACK_DELIVERY, activity_retry(self.scale), delivery
                )
            )
            result["callback"] = "failed to start" if isinstance(started, Exception) else "started"
        return result


@bp.orchestration_trigger(context_name="context", orchestration=names.WAVE)
def migration_wave(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Json]:
    result: Json = yield from WaveRun(context, context.get_input()).execute()
    return result
