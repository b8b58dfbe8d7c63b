"""The wave's decisions as a pure state machine: commands and machine results in, decisions and events out.

``orchestrators.wave`` keeps only what must be Durable (waits, timers, sub-orchestrations, publishing); every rule
of a wave lives here and is tested without a host:

- **commands** (``apply_command``): approve (all, or named machines), reject and cancel (roll back), retry (failed
  machines, from their failed stage), postpone (a new cutover window), pause and resume (the replication of
  agentless VMware machines: checked here, carried out on Site Recovery by the wave, ``replication_commands``,
  and recorded once their calls answered). Each is recorded with its actor, reason,
  and whether it was accepted and why, accepted or not; a repeated command id is ignored, so a redelivered command
  acts once; once a cancel is accepted every other command is refused.
- **the gate** (``gate``): failed machines hold the wave unless the plan (or an approval) says go on with the
  healthy ones; then the approval of the next group; then the cutover window on the plan clock; then the group's
  ``beforeCutover`` hooks (``migration.hook_options``), which run before its first failover (``RunHooks``) and, when
  one fails, hold the wave (``hookFailed``) with the group not failed over until a retry runs them again or a cancel
  rolls back. Once a group finished, its ``afterCutover`` hooks run; a failed one, and a migrated VM that failed its
  checks (its record's ``checks.migratedVm.outcome``), hold the wave before the next group when
  ``options.checks.onMigratedVmFailure`` is ``hold`` (``migratedVmChecksFailed``, ``hookFailed``) until an approval
  goes on, and are only reported when it is ``continue``.
- **batches** (``split_batches``, ``batch_caps``): a phase's machines in batches of at most ``BATCH_SIZE``, with
  caps that add up to the plan's ``maxParallel``.
- **the documents**: the custom status (bounded by construction, ``migration.status_bounds``), the result, and the
  events' data.

Times are passed in: ``now`` is the orchestration's ``current_utc_datetime``, ``plan_now`` the plan clock's
reading of it, so replays decide the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from migration.check_options import OnMigratedVmFailure
from migration.commands import ACTIONS, REPLICATION_ACTIONS, ControlAction, command_fingerprint
from migration.hook_options import HOOK_PHASES, HookPhase, HttpHook, RunCommandHook
from migration.json_types import Json
from migration.payloads.runbook import BatchEntry
from migration.plan import Plan
from migration.plan_options import OnApprovalTimeout, OnMachineFailure
from migration.source_kinds import Provider
from migration.status_bounds import clipped, control_excerpt, first_names, names_text
from migration.steps import Step

__all__ = [
    "BATCH_SIZE",
    "AwaitApproval",
    "Cutover",
    "GateDecision",
    "Hold",
    "HookRun",
    "MachineState",
    "OutboxEvent",
    "ReplicationCommand",
    "RunHooks",
    "WaitForWindow",
    "WaveState",
    "batch_caps",
    "split_batches",
]

# Most machines per batch orchestration: each adds about eight history events to its batch (created, completed,
# the refill's timer, the episodes), and a batch replays its whole history once per finished machine.
BATCH_SIZE = 50
# Machine outcomes as events spell them.
OUTCOMES = {"migrated": "Migrated", "failed": "Failed", "cancelled": "Cancelled"}


def split_batches(machines: list[str]) -> list[list[str]]:
    """``machines`` in plan order, in as few batches as ``BATCH_SIZE`` allows, all of about the same size.

    A batch keeps the cap it started with, so a small last batch (60 machines: 50 and 10) would finish early and
    leave its share of ``maxParallel`` idle while the big one works through the rest at half the cap.
    """
    if not machines:
        return []
    count = -(-len(machines) // BATCH_SIZE)
    size, extra = divmod(len(machines), count)
    batches, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        batches.append(machines[start:end])
        start = end
    return batches


def batch_caps(batches: int, max_parallel: int) -> list[int]:
    """The caps of the batches that run at once: as even as can be, adding up to ``max_parallel``. A batch that
    starts later takes the cap of the one whose place it takes."""
    active = min(batches, max_parallel)
    return [max_parallel // active + (1 if i < max_parallel % active else 0) for i in range(active)]


@dataclass
class MachineState:
    """What the wave knows of one machine: its group, how its last phase ended, and its runbook's record."""

    group: int
    outcome: str | None = None  # None (to run), ready, migrated, failed, cancelled
    stage: str | None = None
    error: Json | None = None
    attempt: int = 0
    retry_from: str | None = None
    record: Json | None = None


@dataclass(frozen=True)
class OutboxEvent:
    """An event the wave has decided to publish: its type, its key (unique within the wave), data and status."""

    type: str
    key: str
    data: Json
    status: str


@dataclass(frozen=True)
class Hold:
    """Wait for a command: something needs a person (failed machines, a missed window, no approval in time, a
    failed hook or migrated VM check); ``group`` and ``phase`` name the hooks that failed, for ``hookFailed``."""

    reason: str
    detail: str
    group: str | None = None
    phase: HookPhase | None = None


@dataclass(frozen=True)
class AwaitApproval:
    """Wait for an approval of the next group (``WaveState.request_approval``, then until its deadline)."""


@dataclass(frozen=True)
class WaitForWindow:
    """Wait until the cutover window opens at ``not_before`` (plan time)."""

    not_before: datetime


@dataclass(frozen=True)
class RunHooks:
    """Run the ``phase`` hooks of the group at index ``group`` now (``WaveState.start_hooks``, then
    ``record_hooks``)."""

    group: int
    phase: HookPhase


@dataclass(frozen=True)
class Cutover:
    """Cut over these machines of the next group, now."""

    machines: list[str]


GateDecision = Hold | AwaitApproval | WaitForWindow | RunHooks | Cutover | None  # None: nothing left to cut over

# The Site Recovery step each replication command runs on every machine it names.
REPLICATION_STEPS = {ControlAction.PAUSE: Step.PAUSE_REPLICATION, ControlAction.RESUME: Step.RESUME_REPLICATION}


@dataclass(frozen=True)
class ReplicationCommand:
    """An accepted pause or resume, waiting for the wave to run its step on each machine (``record_replication``)."""

    control: Json
    step: Step
    machines: tuple[str, ...]


@dataclass(frozen=True)
class HookRun:
    """One run of a group's list of hooks, as the wave carries it out: the group (index and name) and its
    machines, the phase, the run's attempt (0, then one more per retry command), the hooks in order, the machines
    migrated when it started (a Run Command hook runs on those alone) and its start."""

    group: int
    group_name: str
    phase: HookPhase
    attempt: int
    machines: tuple[str, ...]
    hooks: tuple[HttpHook | RunCommandHook, ...]
    migrated: frozenset[str]
    started_at: datetime


@dataclass
class HookRunState:
    """How a group's list of hooks stands: its last run's attempt, outcome (None: to run; passed, failed, cancelled)
    and results, and whether an approval (or ``onMigratedVmFailure: continue``) let the wave go on past a failure."""

    attempt: int = 0
    outcome: str | None = None
    results: list[Json] = field(default_factory=list)
    acknowledged: bool = False
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class WaveState:
    """One wave's state; ``orchestrators.wave`` rebuilds it on every replay from the same inputs and results."""

    plan: Plan
    started_at: datetime
    approval_timeout: timedelta  # the plan's approval timeout in wall time (the plan clock may run faster)
    machines: dict[str, MachineState] = field(init=False)
    window: Json = field(init=False)
    approved_all: bool = field(init=False)
    approved: set[str] = field(default_factory=set)
    continue_with_healthy: bool = field(init=False)
    cancel_requested: bool = False
    controls: list[Json] = field(default_factory=list)
    phase: str = "preparing"
    hold: Json | None = None
    approval_since: datetime | None = None
    approval_timed_out: bool = False
    approval_requests: int = 0
    events_failed: int = 0
    outbox: list[OutboxEvent] = field(default_factory=list)
    applied: dict[str, str] = field(default_factory=dict)  # command id → what it asked (command_fingerprint)
    replication_commands: list[ReplicationCommand] = field(default_factory=list)
    hook_runs: dict[tuple[int, HookPhase], HookRunState] = field(default_factory=dict)
    hooks_running: Json | None = None
    checks_acknowledged: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.machines = {
            machine.name: MachineState(group=index)
            for index, group in enumerate(self.plan.groups)
            for machine in group.machines
        }
        window = self.plan.options.cutover_window
        self.window = {
            "notBefore": window.not_before.isoformat() if window and window.not_before else None,
            "notAfter": window.not_after.isoformat() if window and window.not_after else None,
        }
        self.approved_all = not self.plan.options.approval.required
        self.continue_with_healthy = self.plan.options.on_machine_failure is OnMachineFailure.CONTINUE

    # -- the machines -------------------------------------------------------------------------------------

    def with_outcome(self, *outcomes: str | None) -> list[str]:
        """Machines whose last phase ended so, in plan order."""
        return [name for name, state in self.machines.items() if state.outcome in outcomes]

    def unsettled(self) -> list[str]:
        """Machines that still need their preparation run (never started, or being retried)."""
        return self.with_outcome(None)

    def next_group(self) -> list[str] | None:
        """The ready machines of the first group that still has any, in plan order."""
        ready = self.with_outcome("ready")
        for group_index in range(len(self.plan.groups)):
            members = [name for name in ready if self.machines[name].group == group_index]
            if members:
                return members
        return None

    def to_roll_back(self) -> list[str]:
        return [name for name, state in self.machines.items() if state.outcome not in ("migrated", "cancelled")]

    def batch_entry(self, machine: str, machine_json: Json) -> BatchEntry:
        """What a batch needs to run ``machine``: its plan entry, attempt, stage to resume from, last record."""
        state = self.machines[machine]
        return BatchEntry(machine_json, state.attempt, state.record, state.retry_from or None)

    def absorb(self, machine: str, record: Json) -> None:
        """A machine's phase ended with ``record`` (its runbook's, its rollback's, or a batch's failure)."""
        state = self.machines[machine]
        outcome = record.get("outcome")
        if outcome == "failedOver":  # a rollback found it past the point of no return
            outcome = "migrated"
        state.outcome, state.stage, state.error = outcome, record.get("stage"), record.get("error")
        state.retry_from = None
        if "stages" in record:
            state.record = record

    # -- commands -----------------------------------------------------------------------------------------

    def apply_command(self, payload: Any, now: datetime) -> None:
        """Apply one command as the ``control`` event delivered it (an object, or its JSON text)."""
        if isinstance(payload, str):
            # The Durable extension hands raised event data over as JSON text (double-encoded), not the object.
            try:
                payload = json.loads(payload)
            except ValueError:
                pass
        command_id = payload.get("id") if isinstance(payload, dict) else None
        if isinstance(payload, dict) and command_id is not None:
            key, fingerprint = str(command_id), command_fingerprint(payload)
            known = self.applied.get(key)
            if known == fingerprint:
                return  # the same command delivered again
            if known is not None:  # one id for two commands: an Idempotency-Key or message id reused
                detail = f"command id {key[:100]!r} was already used for another command; this one is not applied"
                self._record(_refused_excerpt(payload), False, detail, now)
                return
            self.applied[key] = fingerprint
        if not isinstance(payload, dict) or payload.get("action") not in ACTIONS:
            shown = payload if isinstance(payload, dict) else {"payload": str(payload)[:200]}
            self._record(_refused_excerpt(shown), False, "unknown action", now)
            return
        control: Json = {
            "action": payload["action"],
            "actor": str(payload.get("actor") or "unknown")[:200],
            "reason": str(payload.get("reason") or "")[:1000],
            "machines": [str(m) for m in payload.get("machines") or []],
            **_caller_fields(payload),
        }
        unknown = [m for m in control["machines"] if m not in self.machines]
        if unknown:
            self._record(control, False, f"unknown machines: {names_text(unknown)}", now)
            return
        action = ControlAction(control["action"])
        if self.cancel_requested and action is not ControlAction.CANCEL:
            self._record(control, False, "the wave is being cancelled", now)
        elif action in (ControlAction.CANCEL, ControlAction.REJECT):
            self.cancel_requested = True
            self._record(control, True, "rolling back every machine that has not failed over", now)
        elif action is ControlAction.APPROVE:
            if control["machines"]:
                self.approved |= set(control["machines"])
            else:
                self.approved_all = True
            if self.hold and self.hold["reason"] == "machinesFailed":
                self.continue_with_healthy = True
            self._record(control, True, self._approve_past_failures(), now)
        elif action is ControlAction.RETRY:
            self._apply_retry(control, now)
        elif action in REPLICATION_ACTIONS:
            self._apply_replication(control, action, now)
        else:
            self._apply_postpone(control, payload.get("window"), now)

    def _apply_retry(self, control: Json, now: datetime) -> None:
        """Failed machines from their failed stage; without named machines, the failed lists of hooks run again."""
        failed = self.with_outcome("failed")
        chosen = [m for m in control["machines"] if m in failed] if control["machines"] else failed
        hooks = [] if control["machines"] else self.failed_hooks()
        if not chosen and not hooks:
            nothing = "no failed machine to retry" if control["machines"] else "no failed machine or hook to retry"
            self._record(control, False, nothing, now)
            return
        for machine in chosen:
            state = self.machines[machine]
            state.outcome, state.attempt = None, state.attempt + 1
            state.retry_from = (state.error or {}).get("stage")
        for key in hooks:
            run = self.hook_runs[key]
            run.outcome, run.attempt, run.results = None, run.attempt + 1, []
        retried = [names_text(chosen)] if chosen else []
        retried += [f"the {phase} hooks of group {self.plan.groups[g].name!r}" for g, phase in hooks]
        self._record(control, True, f"retrying {' and '.join(retried)}", now)

    def _apply_replication(self, control: Json, action: ControlAction, now: datetime) -> None:
        """Pause or resume: only agentless machines replicate so, and only until they have migrated."""
        agentless = {machine.name for _, machine in self.plan.machines() if machine.provider is Provider.VMWARE_CBT}
        named = control["machines"] or [name for name in self.machines if name in agentless]
        others = [name for name in named if name not in agentless]
        if others:
            detail = f"{action.value} exists for agentless VMware machines only, not {names_text(others)}"
            self._record(control, False, detail, now)
            return
        done = [name for name in named if self.machines[name].outcome in ("migrated", "cancelled")]
        if done:
            self._record(control, False, f"no longer replicating: {names_text(done)}", now)
            return
        if not named:
            self._record(control, False, "the wave has no agentless VMware machine to pause or resume", now)
            return
        self.replication_commands.append(ReplicationCommand(control, REPLICATION_STEPS[action], tuple(named)))

    def record_replication(self, command: ReplicationCommand, answers: dict[str, str | None], now: datetime) -> None:
        """How a pause or resume went: ``answers`` gives, per machine, None when Site Recovery took the step (or
        showed it done) and the reason when it did not. Accepted when every machine's went through."""
        failed = {name: why for name, why in answers.items() if why is not None}
        verb = "pausing" if command.step is Step.PAUSE_REPLICATION else "resuming"
        if not failed:
            self._record(command.control, True, f"{verb} replication of {names_text(list(answers))}", now)
            return
        reasons = "; ".join(f"{name}: {why}" for name, why in list(failed.items())[:5])
        self._record(command.control, False, f"not {verb} {names_text(list(failed))}: {reasons}"[:1000], now)

    def _apply_postpone(self, control: Json, window: Any, now: datetime) -> None:
        try:
            not_before = datetime.fromisoformat(str(window["notBefore"]).replace("Z", "+00:00"))
            not_after = datetime.fromisoformat(str(window["notAfter"]).replace("Z", "+00:00"))
        except (TypeError, KeyError, ValueError):
            self._record(control, False, "window needs notBefore and notAfter as ISO 8601 UTC times", now)
            return
        if not_before.tzinfo is None or not_after.tzinfo is None or not_after <= not_before:
            self._record(control, False, "window must be in UTC and end after it starts", now)
            return
        self.window = {"notBefore": not_before.isoformat(), "notAfter": not_after.isoformat()}
        self._record({**control, "window": self.window}, True, "new cutover window", now)

    def _record(self, control: Json, accepted: bool, detail: str, now: datetime) -> None:
        self.controls.append({**control, "accepted": accepted, "detail": detail, "at": now.isoformat()})
        if control["action"] not in ACTIONS:
            return
        data = {
            "migrationId": self.plan.id,
            "action": control["action"],
            "actor": control.get("actor") or "unknown",
            **_caller_fields(control),
            "reason": control.get("reason") or None,
            "machines": [m for m in control.get("machines") or [] if m in self.machines],
            "accepted": accepted,
            "detail": detail,
        }
        status = "accepted" if accepted else "refused"
        self.outbox.append(OutboxEvent("migration.control", f"control/{len(self.controls)}", data, status))

    # -- the gate -----------------------------------------------------------------------------------------

    def gate(self, plan_now: datetime) -> GateDecision:
        """What keeps the next cutover group waiting, if anything (``Cutover`` when nothing does)."""
        failed = self.with_outcome("failed")
        if failed and not self.continue_with_healthy:
            return Hold("machinesFailed", f"failed before cutover: {names_text(sorted(failed))}")
        finished = self._after_hooks_due()
        if finished is not None:
            return RunHooks(finished, "afterCutover")
        group = self.next_group()
        if group is None:
            return None
        held = self.plan.options.checks.on_migrated_vm_failure is OnMigratedVmFailure.HOLD
        checks_failed = [m for m in self.migrated_vm_check_failures() if m not in self.checks_acknowledged]
        if checks_failed and held:
            detail = f"migrated VMs failed their checks: {names_text(checks_failed)}; approve goes on, cancel stops"
            return Hold("migratedVmChecksFailed", detail)
        for (index, phase), run in self.hook_runs.items():
            if phase == "afterCutover" and run.outcome == "failed" and not run.acknowledged:
                return self._hook_hold(index, phase, run, "approve goes on, retry runs them again, cancel stops")
        if not (self.approved_all or all(m in self.approved for m in group)):
            if self.approval_timed_out:
                return Hold("approvalTimedOut", "no approval came within the plan's approval timeout")
            return AwaitApproval()
        not_after, not_before = self.window["notAfter"], self.window["notBefore"]
        if not_after and plan_now > datetime.fromisoformat(not_after):
            return Hold("windowMissed", f"the cutover window ended at {not_after}")
        if not_before and plan_now < datetime.fromisoformat(not_before):
            return WaitForWindow(datetime.fromisoformat(not_before))
        index = self.machines[group[0]].group
        before = self._hook_outcome(index, "beforeCutover")
        if before is None:
            return RunHooks(index, "beforeCutover")
        if before != "passed":
            run = self.hook_runs[(index, "beforeCutover")]
            return self._hook_hold(index, "beforeCutover", run, "retry runs them again, cancel rolls back")
        return Cutover(group)

    # -- hooks and the migrated VMs' checks -----------------------------------------------------------------

    def hooks_of(self, group: int, phase: HookPhase) -> tuple[HttpHook | RunCommandHook, ...]:
        hooks = self.plan.groups[group].hooks
        return tuple(hooks.of(phase)) if hooks is not None else ()

    def _hook_outcome(self, group: int, phase: HookPhase) -> str | None:
        """passed (also when the group has no such hooks), failed, cancelled, or None while they are to run."""
        if not self.hooks_of(group, phase):
            return "passed"
        run = self.hook_runs.get((group, phase))
        return run.outcome if run is not None else None

    def _after_hooks_due(self) -> int | None:
        """The first group that finished its cutover (a machine migrated, none still to cut over) and whose
        ``afterCutover`` hooks are still to run."""
        for index in range(len(self.plan.groups)):
            if not self.hooks_of(index, "afterCutover"):
                continue
            members = [state for state in self.machines.values() if state.group == index]
            done = any(m.outcome == "migrated" for m in members) and all(
                m.outcome not in (None, "ready") for m in members
            )
            if done and self._hook_outcome(index, "afterCutover") is None:
                return index
        return None

    def _hook_hold(self, group: int, phase: HookPhase, run: HookRunState, then: str) -> Hold:
        failed = next((r for r in run.results if r.get("outcome") == "failed"), {})
        what = f"hook {failed.get('name')!r}: {failed.get('detail')}" if failed else f"they ended {run.outcome}"
        name = self.plan.groups[group].name
        detail = clipped(f"the {phase} hooks of group {name!r} failed at {what}; {then}")
        return Hold("hookFailed", detail, name, phase)

    def failed_hooks(self) -> list[tuple[int, HookPhase]]:
        """The lists of hooks whose last run failed and that nobody let the wave go on past, in plan order."""
        return sorted(key for key, run in self.hook_runs.items() if run.outcome == "failed" and not run.acknowledged)

    def migrated_vm_check_failures(self) -> list[str]:
        """Migrated machines whose migrated VM failed its checks (``record["checks"]["migratedVm"]``), in plan
        order: migrated all the same (nothing can be undone), and reported or held for as the plan says."""
        failing = []
        for machine, state in self.machines.items():
            checks = (state.record or {}).get("checks") if state.outcome == "migrated" else None
            migrated_vm = checks.get("migratedVm") if isinstance(checks, dict) else None
            if isinstance(migrated_vm, dict) and migrated_vm.get("outcome") == "failed":
                failing.append(machine)
        return failing

    def _approve_past_failures(self) -> str:
        """What an approval does beyond approving, in a sentence: when the wave holds for failures after a cutover,
        it goes on past them; when a group's hooks failed before its cutover, only a retry or a cancel helps."""
        hold = self.hold or {}
        if hold.get("reason") == "hookFailed" and hold.get("phase") == "beforeCutover":
            return f"approved; the beforeCutover hooks of group {hold.get('group')!r} failed: retry them or cancel"
        if hold.get("reason") not in ("migratedVmChecksFailed", "hookFailed"):
            return "approved"
        passed = [m for m in self.migrated_vm_check_failures() if m not in self.checks_acknowledged]
        self.checks_acknowledged.update(passed)
        hooks = [key for key in self.failed_hooks() if key[1] == "afterCutover"]
        for key in hooks:
            self.hook_runs[key].acknowledged = True
        past = [f"failed checks of {names_text(passed)}"] if passed else []
        past += [f"the failed afterCutover hooks of group {self.plan.groups[g].name!r}" for g, _ in hooks]
        return f"approved; going on past {' and '.join(past)}" if past else "approved"

    def start_hooks(self, decision: RunHooks, now: datetime) -> HookRun:
        """The wave starts running a list of hooks (the status says which)."""
        run = self.hook_runs.setdefault((decision.group, decision.phase), HookRunState())
        run.started_at, run.ended_at = now, None
        group = self.plan.groups[decision.group]
        self.phase = "runningHooks"
        self.hooks_running = {"group": group.name, "phase": decision.phase, "attempt": run.attempt}
        return HookRun(
            group=decision.group,
            group_name=group.name,
            phase=decision.phase,
            attempt=run.attempt,
            machines=tuple(machine.name for machine in group.machines),
            hooks=self.hooks_of(decision.group, decision.phase),
            migrated=frozenset(self.with_outcome("migrated")),
            started_at=now,
        )

    def record_hooks(self, run: HookRun, results: list[Json], now: datetime) -> None:
        """How a run went (one result per hook, ``orchestrators.group_hooks``): an event per hook that ran, and the
        list's outcome; a failure after the cutover is let past at once when the plan says ``continue``."""
        state = self.hook_runs[(run.group, run.phase)]
        state.results, state.ended_at = results, now
        outcomes = [result.get("outcome") for result in results]
        if "failed" in outcomes:
            state.outcome = "failed"
        elif len(outcomes) == len(run.hooks) and all(outcome == "passed" for outcome in outcomes):
            state.outcome = "passed"
        else:
            state.outcome = "cancelled"
        go_on = self.plan.options.checks.on_migrated_vm_failure is OnMigratedVmFailure.CONTINUE
        state.acknowledged = state.outcome == "failed" and run.phase == "afterCutover" and go_on
        self.hooks_running = None
        for result in results:
            if result.get("outcome") not in ("passed", "failed"):
                continue
            data = {
                "migrationId": self.plan.id,
                "group": run.group_name,
                "phase": run.phase,
                "hook": result["name"],
                "type": result["type"],
                "attempt": run.attempt,
                "outcome": result["outcome"],
                "attempts": max(1, int(result.get("attempts") or 1)),
                "host": result.get("host"),
                "httpStatus": result.get("httpStatus"),
                "machines": result.get("machines") or [],
                "excerpt": result.get("excerpt"),
                "detail": clipped(str(result.get("detail") or result["outcome"]), 1000),
                "durationSeconds": float(result.get("durationSeconds") or 0.0),
            }
            key = f"hook/{run.group}/{run.phase}/{result['name']}/{run.attempt}"
            self.outbox.append(OutboxEvent("migration.group.hook_completed", key, data, result["outcome"]))

    def hooks_result(self) -> Json:
        """Per group with hooks, per phase: the last run's outcome (notRun when it never ran), attempt and results."""
        shown: Json = {}
        for index, group in enumerate(self.plan.groups):
            phases: Json = {}
            for phase in HOOK_PHASES:
                if not self.hooks_of(index, phase):
                    continue
                run = self.hook_runs.get((index, phase))
                phases[phase] = {
                    "outcome": (run.outcome if run else None) or "notRun",
                    "attempt": run.attempt if run else 0,
                    "acknowledged": bool(run and run.acknowledged),
                    "startedAt": run.started_at.isoformat() if run and run.started_at else None,
                    "endedAt": run.ended_at.isoformat() if run and run.ended_at else None,
                    "hooks": list(run.results) if run else [],
                }
            if phases:
                shown[group.name] = phases
        return shown

    def request_approval(self, now: datetime) -> None:
        """The wave reached the approval gate: ask once (the ``awaiting_approval`` event), and start the clock."""
        self.phase = "awaitingApproval"
        if self.approval_since is not None:
            return
        self.approval_since = now
        self.approval_requests += 1
        window = {k: v for k, v in self.window.items() if v}
        data = {
            "migrationId": self.plan.id,
            "machines": self.with_outcome("ready"),
            "approvalDeadline": (now + self.approval_timeout).isoformat(),
            "onApprovalTimeout": self.plan.options.approval.on_timeout.value,
            "cutoverWindow": window or None,
            "approveUri": f"/api/migrations/{self.plan.id}/approve",
            "rejectUri": f"/api/migrations/{self.plan.id}/reject",
        }
        key = f"awaiting_approval/{self.approval_requests}"
        self.outbox.append(OutboxEvent("migration.awaiting_approval", key, data, "waiting"))

    def approval_deadline(self) -> datetime:
        """Until when the wave waits for an approval: the plan's timeout after it first asked (at least a second)."""
        since = self.approval_since or self.started_at
        return since + max(self.approval_timeout, timedelta(seconds=1))

    def approval_expired(self, now: datetime) -> None:
        """No approval came in time: hold, or cancel if the plan says so."""
        self.approval_timed_out = True
        if self.plan.options.approval.on_timeout is OnApprovalTimeout.CANCEL:
            control = {"action": "cancel", "actor": "system", "reason": "approval timed out", "machines": []}
            self.cancel_requested = True
            self._record(control, True, "approval timed out and the plan says cancel", now)

    def start_hold(self, hold: Hold, now: datetime) -> None:
        self.phase = "held"
        self.hold = {"reason": hold.reason, "detail": hold.detail, "since": now.isoformat()}
        if hold.group is not None:
            self.hold.update(group=hold.group, phase=hold.phase)

    # -- the documents ------------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for state in self.machines.values():
            key = state.outcome or "inProgress"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def status(self, now: datetime, plan_now: datetime) -> Json:
        """The custom status: counts and a few names only, so it fits Azure's 16 KB for any plan size."""
        awaiting = [] if self.approved_all else [n for n in self.with_outcome("ready") if n not in self.approved]
        return {
            "migrationId": self.plan.id,
            "name": self.plan.name,
            "phase": self.phase,
            "counts": self.counts(),
            "machineCount": len(self.machines),
            "gate": {
                "approvalRequired": self.plan.options.approval.required,
                "approved": self.approved_all,
                "approvedCount": len(self.approved),
                "awaiting": {"count": len(awaiting), "first": first_names(awaiting)},
                "awaitingApprovalSince": self.approval_since.isoformat() if self.approval_since else None,
                "approvalTimedOut": self.approval_timed_out,
            },
            "window": self.window,
            "planTime": plan_now.isoformat(),
            "hold": self.hold,
            "hooksRunning": self.hooks_running,
            "controls": len(self.controls),
            "eventsFailed": self.events_failed,
            "lastControl": control_excerpt(self.controls[-1]) if self.controls else None,
            "updatedAt": now.isoformat(),
        }

    def accepted_event(self) -> OutboxEvent:
        data = {
            "migrationId": self.plan.id,
            "name": self.plan.name,
            "machineCount": len(self.machines),
            "groups": [{"name": g.name, "machines": [m.name for m in g.machines]} for g in self.plan.groups],
        }
        return OutboxEvent("migration.accepted", "accepted", data, "accepted")

    def result(self, now: datetime) -> Json:
        """The wave's output: its status, every machine's record, every command."""
        outcomes = [state.outcome for state in self.machines.values()]
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
        return {
            "migrationId": self.plan.id,
            "name": self.plan.name,
            "status": status,
            "counts": self.counts(),
            "machines": {name: self._machine_result(name) for name in self.machines},
            "hooks": self.hooks_result(),
            "migratedVmChecksFailed": self.migrated_vm_check_failures(),
            "controls": self.controls,
            "startedAt": self.started_at.isoformat(),
            "endedAt": now.isoformat(),
        }

    def _machine_result(self, machine: str) -> Json:
        state = self.machines[machine]
        summary = {"machine": machine, "outcome": state.outcome, "stage": state.stage, "error": state.error}
        return {**(state.record or {}), **summary, "group": self.plan.groups[state.group].name}

    def completed_event(self, result: Json) -> OutboxEvent:
        data = {
            "migrationId": self.plan.id,
            "status": result["status"],
            "counts": {key: len(self.with_outcome(key)) for key in OUTCOMES},
            "machines": [
                {"name": name, "outcome": OUTCOMES[state.outcome]}
                for name, state in self.machines.items()
                if state.outcome in OUTCOMES
            ],
        }
        return OutboxEvent("migration.completed", "completed", data, result["status"])


def _refused_excerpt(payload: Json) -> Json:
    """What a refused command is recorded as when it is not applied at all: its action and actor, clipped."""
    return {
        "action": str(payload.get("action"))[:50],
        "actor": str(payload.get("actor") or "unknown")[:200],
        **_caller_fields(payload),
    }


def _caller_fields(payload: Json) -> Json:
    """Who sent a command beyond its actor's name: the authenticated object id, and what the body claimed.

    ``actorId`` is present only when App Service authentication vouched for the caller (``migration.access``);
    a command without it (a Service Bus message) names an actor its sender asserted.
    """
    fields: Json = {}
    for key, limit in (("actorId", 64), ("assertedActor", 200)):
        value = payload.get(key)
        if isinstance(value, str) and value:
            fields[key] = value[:limit]
    return fields
