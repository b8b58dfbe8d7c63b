"""Orchestration: a migration wave: prepare every machine, wait at the gate, then cut over group by group.

0. **Target fit**: once, before any machine starts, the plan's sizes, vCPU quotas and VM names in the target
   regions (``check_target_fit``, ``migration.target_fit``); a plan that does not fit starts no machine.
1. **Prepare**: every machine's runbook up to the cutover gate (replication, test failover, cleanup), in batches
   whose caps add up to the plan's ``maxParallel``.
2. **Gate**: machines that failed hold the wave (``onMachineFailure: hold``) until they are retried or the wave is
   cancelled, or the wave goes on with the healthy ones; then the approval (``awaiting_approval``, with its
   timeout: hold or cancel); then the cutover window, on the plan clock (``migration.plan_clock``): a window in the
   future is waited for with a durable timer, a missed one holds the wave until it is postponed.
3. **Cutover**: group by group in plan order, each group only once the previous group's failovers are committed;
   a group starts only when all its machines are approved. Its ``beforeCutover`` hooks run first
   (``orchestrators.group_hooks``): one that fails starts no failover of the group and holds the wave
   (``hookFailed``) until ``retry`` runs them again or ``cancel`` rolls back. Once the group finished, its
   ``afterCutover`` hooks run; a failed one, like a migrated VM that failed its checks, holds the wave before the
   next group until an approval, or is only reported, as ``options.checks.onMigratedVmFailure`` says. The hooks wait
   through this orchestration's own waits, so a command that comes meanwhile is applied at once and a cancel stops
   them before their next call.

The rules (commands, the gate, batches, the documents) are ``migration.wave_state``'s, a pure state machine; this
orchestration keeps only what must be Durable: the waits, timers, sub-orchestrations and publishing.

Operators steer it with one external event, ``control``, whose payload says ``action`` (approve, reject, cancel,
retry, postpone, pause, resume), ``actor``, ``reason``, optionally ``machines`` and, for postpone, ``window``. Pause
and resume act on Site Recovery: the wave starts the step on each agentless machine named (``start_asr_step``,
which adopts a job already running and finds a step already taken done) and records the command once they
answered; the job itself runs on without the wave waiting for it. Every action is
recorded with its actor and reason, accepted or not, in the custom status and the result. An approval that comes
early (before the gate) is kept for the gate. Every wait of this orchestration includes the ``control`` event, so
no event ever arrives while nobody listens: azure-functions-durable 1.7 keeps only the last such early event of a
name and hands it again to every later wait for that name (its ``deferred_tasks`` entry is never removed), which
would apply one command over and over. A command may carry an ``id`` (the Service Bus message id, the HTTP
request's idempotency key); a repeated id with the same command is ignored, so a redelivered command acts once,
and one with a different command is refused and recorded (``migration.wave_state``).

Cancel rolls back every machine that has not failed over (runbooks in flight are terminated first); a machine in
the middle of its cutover finishes it, since failover cannot be undone, and is reported as migrated. No failover
starts after a cancel: the cutover batches are told to stop starting machines (``activities.stop_starting``), and
the machines they never started are rolled back with the rest.

At its end the wave releases the claims its submission took on its machines (``migration.machine_claims``), so
they may join another migration.

Input :class:`migration.payloads.wave.WaveInput`. Output ``{"migrationId", "status": Migrated|PartiallyMigrated|
Failed|Cancelled, "machines": {name: record}, "hooks": {group: {phase: run}}, "migratedVmChecksFailed": [names],
"controls": [...], "startedAt", "endedAt", "counts"}``.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.commands import CONTROL_EVENT
from migration.errors import error_record
from migration.instance_ids import batch_id, machine_id
from migration.json_types import Json
from migration.payloads.asr_steps import StartStepInput, StepStarted
from migration.payloads.callbacks import CallbackDelivery
from migration.payloads.claims import ReleaseRequest
from migration.payloads.instances import InstancesRequest
from migration.payloads.runbook import BatchInput, BatchOutput, failed_record
from migration.payloads.target_fit import TargetFitRequest
from migration.payloads.wave import WaveInput
from migration.plan import validate_plan
from migration.stages import Stage
from migration.target_fit import refusals
from migration.wave_state import (
    AwaitApproval,
    Cutover,
    Hold,
    RunHooks,
    WaitForWindow,
    WaveState,
    batch_caps,
    split_batches,
)
from orchestrators import events, group_hooks
from orchestrators.asr_step import call as call_with_retry
from orchestrators.timing import activity_retry, kick

name = names.WAVE
bp = df.Blueprint()

Wait = Generator[Any, Any, Any]


class WaveRun:
    def __init__(self, context: df.DurableOrchestrationContext, request: Json) -> None:
        self.context = context
        wave_input = WaveInput.from_dict(request)
        plan = validate_plan(wave_input.plan)
        plan_json: Json = plan.model_dump(by_alias=True, mode="json", exclude_none=True)
        self.options_json: Json = plan_json.get("options") or {}
        self.machine_json: dict[str, Json] = {m["name"]: m for g in plan_json["groups"] for m in g["machines"]}
        self.clock = wave_input.clock
        self.scale = self.clock.speed
        approval_timeout = self.clock.wall_duration(plan.options.approval.timeout)
        self.state = WaveState(plan, context.current_utc_datetime, approval_timeout)
        self.plan = plan
        self.round = 0
        self.control_task: Any = None
        self.flushing = False
        self.commanding = False
        self.yielded: set[Any] = set()  # tasks already handed to a task_any (the extension has them)

    @property
    def now(self) -> Any:
        return self.context.current_utc_datetime

    def _status(self) -> None:
        self.context.set_custom_status(self.state.status(self.now, self.clock.plan_time(self.now)))

    # -- publishing and waiting ---------------------------------------------------------------------------

    def _flush(self) -> Wait:
        """Publish what the state machine queued (a failure to publish is counted, never fatal).

        What is queued together is published together, in one fan-out: a burst of commands delivered at once
        (after a suspend, or to a busy host) costs one episode, not one per event. A command that comes while
        events are being published queues its own event, and this same loop publishes it next; a flush of its
        own would nest one level per command, and a few hundred would exhaust Python's recursion limit.
        """
        if self.flushing:
            return
        self.flushing = True
        try:
            while self.state.outbox:
                tasks = [
                    events.publish_task(
                        self.context,
                        event_type=event.type,
                        key=event.key,
                        migration_id=self.plan.id,
                        data=event.data,
                        time_scale=self.scale,
                        status=event.status,
                    )
                    for event in self.state.outbox
                ]
                self.state.outbox.clear()
                yield from self._await(self.context.task_all(tasks))
                for task in tasks:  # a fan-out fails at its first failure: let the others finish too
                    if not task.is_completed:
                        yield from self._await(task)
                self.state.events_failed += sum(1 for task in tasks if isinstance(task.result, Exception))
        finally:
            self.flushing = False

    def _run_replication_commands(self) -> Wait:
        """Carry out the accepted pauses and resumes on Site Recovery, one fan-out per command.

        Each machine's step is asked once, without the retry policy (as ``_release_claims`` explains, a retried
        activity inside this wait's ``task_any`` cannot be replayed safely); a refusal or a transient failure is
        recorded with the command, and the operator sends it again.
        """
        if self.commanding:
            return
        self.commanding = True
        try:
            while self.state.replication_commands:
                command = self.state.replication_commands.pop(0)
                tasks = {
                    name: self.context.call_activity(
                        names.START_ASR_STEP,
                        StartStepInput(self.machine_json[name], command.step, self.options_json).to_dict(),
                    )
                    for name in command.machines
                }
                yield from self._await(self.context.task_all(list(tasks.values())))
                for task in tasks.values():
                    if not task.is_completed:
                        yield from self._await(task)
                answers = {name: _step_refusal(task.result) for name, task in tasks.items()}
                self.state.record_replication(command, answers, self.now)
                yield from self._flush()
        finally:
            self.commanding = False

    def _release_claims(self) -> Wait:
        """Free the plan's machines for other migrations (``migration.machine_claims``). A release that fails
        leaves claims whose owner has ended: the next migration to claim those machines takes them over. So it is
        asked once, without the retry policy: a retried activity that fails every attempt inside this wait's
        ``task_any`` ends the wave as non-deterministic (its retry timers replay out of order with the kick)."""
        release = ReleaseRequest(self.plan.id).to_dict()
        yield from self._await(self.context.call_activity(names.RELEASE_CLAIMS, release))

    def _await(self, task: Any) -> Wait:
        """``task``'s result (an Exception if it failed), handling control events that come meanwhile."""
        while True:
            winner = yield from self._wait([task])
            if winner is task:
                return task.result

    def _wait(self, tasks: list[Any], until: Any = None) -> Wait:
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
            self.state.apply_command(winner.result, self.now)
            yield from self._flush()
            yield from self._run_replication_commands()
            return "control"
        if winner is timer:
            return "timeout"
        return winner

    # -- running machines ---------------------------------------------------------------------------------

    def _run_phase(self, phase: str, machines: list[str], *, stop_on_cancel: bool) -> Wait:
        """Run ``machines`` through ``phase`` in batches whose caps add up to ``maxParallel``."""
        if not machines:
            return
        self.round += 1
        batches = split_batches(machines)
        free_caps = batch_caps(len(batches), self.plan.options.max_parallel)
        running: dict[Any, tuple[int, list[str], int]] = {}
        next_index = 0
        stopped = False
        while next_index < len(batches) or running:
            # After a cancel, batches in flight finish (a cutover cannot stop halfway) but no new one starts.
            may_start = phase == "rollback" or not self.state.cancel_requested
            if not may_start and not running:
                return
            while may_start and next_index < len(batches) and free_caps:
                cap = free_caps.pop()
                payload = BatchInput(
                    migration_id=self.plan.id,
                    phase=phase,
                    machines=tuple(self.state.batch_entry(m, self.machine_json[m]) for m in batches[next_index]),
                    cap=cap,
                    time_scale=self.scale,
                    options=self.options_json,
                )
                instance = batch_id(self.plan.id, phase, self.round, next_index)
                task = self.context.call_sub_orchestrator(names.WAVE_BATCH, payload.to_dict(), instance)
                running[task] = (cap, batches[next_index], next_index)
                next_index += 1
            winner = yield from self._wait(list(running))
            if winner == "kick":
                continue
            if winner == "control":
                if self.state.cancel_requested and stop_on_cancel:
                    in_flight = [m for _, batch, _ in running.values() for m in batch]
                    yield from self._terminate(phase, in_flight, sorted(index for _, _, index in running.values()))
                    return
                if self.state.cancel_requested and phase == "cutover" and not stopped:
                    stopped = True
                    yield from self._stop_starting(sorted(index for _, _, index in running.values()))
                continue
            cap, batch, _ = running.pop(winner)
            free_caps.append(cap)
            failed = isinstance(winner.result, Exception)
            output = BatchOutput({}) if failed else BatchOutput.from_dict(winner.result)
            for machine in batch:
                if machine in output.not_started:
                    continue  # stopped by a cancel before it began: still ready, so it is rolled back
                record = output.results.get(machine) or failed_record(
                    machine, error_record(phase, "BatchFailed", str(winner.result)[:500])
                )
                self.state.absorb(machine, record)

    def _stop_starting(self, batches: list[int]) -> Wait:
        """Tell the running cutover batches to start no further failover; machines already failing over finish."""
        payload = InstancesRequest(tuple(batch_id(self.plan.id, "cutover", self.round, index) for index in batches))
        yield from self._await(
            self.context.call_activity_with_retry(names.STOP_STARTING, activity_retry(self.scale), payload.to_dict())
        )

    def _terminate(self, phase: str, machines: list[str], batches: list[int]) -> Wait:
        attempts_of = {m: self.state.machines[m].attempt for m in machines}
        ids = [machine_id(self.plan.id, m, phase, attempt) for m, attempt in attempts_of.items()]
        batch_ids = [batch_id(self.plan.id, phase, self.round, i) for i in batches]
        payload = InstancesRequest((*batch_ids, *ids), attempts=max(attempts_of.values(), default=0))
        yield from self._await(
            self.context.call_activity_with_retry(
                names.TERMINATE_INSTANCES, activity_retry(self.scale), payload.to_dict()
            )
        )
        # Let an activity that was already running when its runbook was terminated finish before rolling back.
        yield from self._await(self.context.create_timer(self.now + timedelta(seconds=max(2.0, 60 / self.scale))))

    # -- hooks (orchestrators.group_hooks runs them through these waits) --------------------------------------

    def result_of(self, task: Any) -> Wait:
        return (yield from self._await(task))

    def sleep_until(self, moment: Any) -> Wait:
        while self.now < moment and not self.state.cancel_requested:
            if (yield from self._wait([], moment)) == "timeout":
                return

    def stopping(self) -> bool:
        return self.state.cancel_requested

    def _run_hooks(self, decision: RunHooks) -> Wait:
        run = self.state.start_hooks(decision, self.now)
        results = yield from group_hooks.run_hooks(self.context, self.plan, run, self, time_scale=self.scale)
        self.state.record_hooks(run, results, self.now)
        yield from self._flush()

    # -- the gate -----------------------------------------------------------------------------------------

    def _gate_passed(self) -> Wait:
        """True once nothing keeps the next cutover group waiting; False when a wait ended (something changed)."""
        decision = self.state.gate(self.clock.plan_time(self.now))
        if decision is None or isinstance(decision, Cutover):
            return True
        if isinstance(decision, RunHooks):
            yield from self._run_hooks(decision)
        elif isinstance(decision, Hold):
            self.state.start_hold(decision, self.now)
            yield from self._wait([])
            self.state.hold = None
        elif isinstance(decision, AwaitApproval):
            self.state.request_approval(self.now)
            yield from self._flush()
            # Commands handled while the event was published (an approval, a cancel) may already open the gate.
            if self.state.cancel_requested or not isinstance(
                self.state.gate(self.clock.plan_time(self.now)), AwaitApproval
            ):
                return False
            if (yield from self._wait([], self.state.approval_deadline())) == "timeout":
                self.state.approval_expired(self.now)
        elif isinstance(decision, WaitForWindow):
            self.state.phase = "waitingForWindow"
            yield from self._wait([], self.clock.wall_time(decision.not_before))
        return False

    # -- the whole wave -----------------------------------------------------------------------------------

    def execute(self) -> Wait:
        self.state.outbox.append(self.state.accepted_event())
        yield from self._flush()
        # Before any machine starts, the whole plan's target must fit (sizes, vCPU quotas, VM names:
        # migration.target_fit); if it does not, every machine fails at validate and the wave holds or ends as for
        # any failed machine. The call waits without the control event: the flush above created its task, so a
        # command sent meanwhile completes that task and is applied at the next wait.
        request = TargetFitRequest(self.plan.model_dump(by_alias=True, mode="json", exclude_none=True)).to_dict()
        fit = yield from call_with_retry(
            self.context, names.CHECK_TARGET_FIT, request, Stage.VALIDATE.value, self.scale
        )
        for machine, record in refusals(fit, list(self.state.machines)).items():
            self.state.absorb(machine, record)
        while not self.state.cancel_requested:
            unsettled = self.state.unsettled()
            if unsettled:
                self.state.phase = "preparing"
                yield from self._run_phase("prepare", unsettled, stop_on_cancel=True)
                continue
            if not (yield from self._gate_passed()):
                continue
            group = self.state.next_group()
            if group is None:
                break
            self.state.phase = "cuttingOver"
            yield from self._run_phase("cutover", group, stop_on_cancel=False)
        if self.state.cancel_requested:
            self.state.phase = "cancelling"
            yield from self._run_phase("rollback", self.state.to_roll_back(), stop_on_cancel=False)
        yield from self._release_claims()
        result = self.state.result(self.now)
        self._status()
        self.state.outbox.append(self.state.completed_event(result))
        yield from self._flush()
        result["eventsFailed"] = self.state.events_failed
        if self.plan.callback_url:
            # A separate orchestration delivers it with its own retries, so the wave completes now.
            delivery = CallbackDelivery(self.plan.id, self.plan.callback_url, result, self.scale)
            started = yield from self._await(
                self.context.call_activity_with_retry(
                    names.START_CALLBACK_DELIVERY, activity_retry(self.scale), delivery.to_dict()
                )
            )
            result["callback"] = "failed to start" if isinstance(started, Exception) else "started"
        return result


def _step_refusal(result: Any) -> str | None:
    """None when ``start_asr_step`` took the step (or found it done); else why not, in a sentence."""
    if isinstance(result, Exception):
        return str(result).splitlines()[0][:300] if str(result) else type(result).__name__
    if isinstance(result, dict) and "error" in result:
        return str((result["error"] or {}).get("message") or "refused")[:300]
    StepStarted.from_dict(result)
    return None


@bp.orchestration_trigger(context_name="context", orchestration=names.WAVE)
def migration_wave(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Json]:
    result: Json = yield from WaveRun(context, context.get_input()).execute()
    return result
