"""Orchestration: one machine's runbook, from where Site Recovery says it stands to where the caller stops it.

The wave runs each machine twice: up to the cutover gate (``stopAt: cutoverGate``: validate, enable replication,
initial replication, test failover, validate the test VM, clean it up), and after the gate (``fromStage:
cutoverGate``: unplanned failover, commit, complete migration, DR protection for A2A). Python orchestrations
cannot raise events into one another, so the gate is simply the wave starting the second run. A single machine
with no gate runs both halves in one instance.

Every start reads the item and reconciles (``migration.steps.reconcile``): a retry from a failed stage, or an
adopted half-done migration, starts where ASR is, never earlier. Each step is one idempotent activity (it adopts a
job that is already running) followed by a durable wait; a failed step ends the machine in ``failed`` with the
stage, ASR's error code, message and job id, after making it safe (a test failover left running is cleaned up).

Input :class:`migration.payloads.runbook.RunbookInput`. Output: the machine's result record (see
:class:`RunbookRun`).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.check_options import CheckPhase
from migration.errors import error_record
from migration.events import EventType
from migration.instance_ids import wait_id
from migration.json_types import Json
from migration.machine import Machine, StepPhase
from migration.payloads.asr_steps import ItemReading, MachineRequest, StepStarted
from migration.payloads.runbook import RunbookInput
from migration.payloads.waits import ReplicationWaitInput
from migration.plan_options import WaveOptions
from migration.scenarios import ProtectedItemView
from migration.stages import Runbook, Stage, runbook_for
from migration.status_bounds import error_excerpt
from migration.steps import STEP_OF_STAGE, reconcile
from orchestrators import asr_step, events, vm_checks
from orchestrators.timing import scaled

name = names.MACHINE_RUNBOOK
bp = df.Blueprint()

Steps = Generator[Any, Any, bool]
# The stages whose ASR job runs the machine's post-migration steps, and on which VM.
_STEP_PHASE: dict[Stage, StepPhase] = {Stage.TEST_FAILOVER: "test", Stage.UNPLANNED_FAILOVER: "migrate"}


def _view_of(read: Json) -> ProtectedItemView | None:
    """The item's view from a ``read_protected_item`` answer; None when it does not exist or could not be read."""
    if "error" in read:
        return None
    reading = ItemReading.from_dict(read)
    return ProtectedItemView.from_dict(reading.view) if reading.exists and reading.view else None


class RunbookRun:
    """One execution of the runbook; its generator methods are replayed by the Durable runtime.

    The result record it returns (and keeps as ``record``) is what waves, reports and events quote:
    ``{"machine", "sourceKind", "provider", "outcome" (ready|migrated|failed|cancelled), "stage", "stages": {stage:
    {"startedAt", "endedAt", "jobId", "decision"}}, "jobs", "recoveryPointId", "downtime": {"startedAt",
    "endedAt", "seconds"}, "error", "target": {"resourceGroupId", "vmName"}, "checks": {"testVm"|"migratedVm":
    report}}`` (the reports of ``orchestrators.vm_checks.run_checks``).
    """

    def __init__(self, context: df.DurableOrchestrationContext, request: RunbookInput) -> None:
        self.context = context
        self.request = request
        self.machine_json: Json = request.machine
        self.machine = Machine.model_validate(self.machine_json)
        self.options = WaveOptions.model_validate(request.options)
        self.book: Runbook = runbook_for(self.machine, self.options)
        self.scale = request.time_scale
        self.attempt = request.attempt
        previous: Json = request.record or {}
        self.record: Json = {
            "machine": self.machine.name,
            "sourceKind": self.machine.source_kind.value,
            "provider": self.machine.provider.value,
            "outcome": None,
            "stage": None,
            "stages": dict(previous.get("stages") or {}),
            "jobs": list(previous.get("jobs") or []),
            "recoveryPointId": previous.get("recoveryPointId"),
            "checks": dict(previous.get("checks") or {}),
            "downtime": previous.get("downtime"),
            "error": None,
            "target": {
                "resourceGroupId": self.machine.target.resource_group_id,
                "vmName": self.machine.target_vm_name,
            },
        }
        self.job_id: str | None = None
        self.previous_stage: Stage | None = None
        # Set while making a failed stage safe: its waits get ids of their own (``instance_ids.wait_id``).
        self._making_safe = False

    # -- bookkeeping --------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        now: datetime = self.context.current_utc_datetime
        return now

    @property
    def _downtime_ends(self) -> Stage:
        """The stage after which the migrated VM serves: the commit, or the failover of a provider without one."""
        return Stage.COMMIT if Stage.COMMIT in self.book else Stage.UNPLANNED_FAILOVER

    def _status(self, stage: Stage, status: str, **extra: Any) -> None:
        self.context.set_custom_status(
            {
                "machine": self.machine.name,
                "stage": stage.value,
                "status": status,
                "jobId": self.job_id,
                "lastError": error_excerpt(self.record["error"]),
                "updatedAt": self.now.isoformat(),
                **extra,
            }
        )

    def _enter(self, stage: Stage) -> None:
        self.job_id = None
        self.record["stage"] = stage.value
        self.record["stages"][stage.value] = {"startedAt": self.now.isoformat(), "endedAt": None, "jobId": None}
        self._status(stage, "running")

    def _leave(self, stage: Stage) -> None:
        self.record["stages"][stage.value]["endedAt"] = self.now.isoformat()

    def _fail(self, stage: Stage, error: Json) -> bool:
        self.record["error"] = {**error, "stage": error.get("stage") or stage.value}
        self._status(stage, "failed")
        return False

    def _wait_id(self, stage: Stage) -> str:
        return wait_id(self.context.instance_id, stage.value, self.attempt, make_safe=self._making_safe)

    # -- activities ---------------------------------------------------------------------------------------

    def _call(self, activity: str, payload: Json, stage: Stage) -> Generator[Any, Any, Json]:
        return (yield from asr_step.call(self.context, activity, payload, stage.value, self.scale))

    def _read_item(self, stage: Stage) -> Generator[Any, Any, Json]:
        return (yield from self._call(names.READ_PROTECTED_ITEM, MachineRequest(self.machine_json).to_dict(), stage))

    # -- stages -------------------------------------------------------------------------------------------

    def _validate(self) -> Steps:
        asked = MachineRequest(self.machine_json).to_dict()
        checked = yield from self._call(names.CHECK_MACHINE, asked, Stage.VALIDATE)
        if "error" in checked:
            return self._fail(Stage.VALIDATE, checked["error"])
        if not checked["ok"]:
            listing = "; ".join(f"{p['path']}: {p['message']}" for p in checked["problems"])
            return self._fail(Stage.VALIDATE, error_record(Stage.VALIDATE.value, "PreflightFailed", listing))
        return True

    def _step(self, stage: Stage) -> Steps:
        """The stage's ASR step, started (or adopted) and waited for (``orchestrators.asr_step``)."""
        done = yield from asr_step.run_step(
            self.context,
            machine=self.machine_json,
            options=self.request.options,
            step=STEP_OF_STAGE[stage],
            stage=stage.value,
            time_scale=self.scale,
            timeout=self.options.job_timeout,
            instance_id=self._wait_id(stage),
            on_started=lambda started: self._started(stage, started),
        )
        return True if done.ok else self._fail(stage, done.error or {})

    def _started(self, stage: Stage, started: StepStarted) -> None:
        """Record what the step activity decided, and the job the stage now waits for."""
        entry = self.record["stages"][stage.value]
        entry["decision"] = started.decision
        if not started.job_name:
            return
        self.job_id = started.job_id
        entry["jobId"] = started.job_id
        if started.job_id not in self.record["jobs"]:
            self.record["jobs"].append(started.job_id)
        self._status(stage, "waiting")

    def _initial_replication(self) -> Steps:
        stage = Stage.INITIAL_REPLICATION
        deadline = self.now + scaled(self.options.initial_replication_timeout.total_seconds(), self.scale)
        waited = yield from asr_step.wait(
            self.context,
            names.WAIT_FOR_REPLICATION,
            ReplicationWaitInput(
                machine=self.machine_json,
                poll_interval_seconds=self.options.poll_interval.total_seconds(),
                stall_warning_after_seconds=self.options.stall_warning_after.total_seconds(),
                deadline=deadline,
                time_scale=self.scale,
                options=self.request.options,
            ).to_dict(),
            self._wait_id(stage),
            stage.value,
        )
        if waited["outcome"] != "done":
            failure = waited.get("error") or error_record(stage.value, "InitialReplicationFailed", "failed")
            return self._fail(stage, failure)
        return True

    def _validate_test_vm(self) -> Steps:
        """The test failover job succeeded; let the test VM run for the plan's soak time, check ASR still shows it,
        then check the VM itself as the plan asks (``orchestrators.vm_checks``)."""
        stage = Stage.VALIDATE_TEST_VM
        soak = self.options.test_vm_soak.total_seconds()
        if soak > 0:
            self._status(stage, "waiting", soakSeconds=soak)
            yield self.context.create_timer(self.now + scaled(soak, self.scale))
        read = yield from self._read_item(stage)
        if "error" in read:
            return self._fail(stage, read["error"])
        view = _view_of(read)
        if view is None or not view.can_clean_up_test_failover:
            state = view.test_failover_state if view else "no item"
            message = f"no test VM is running (testFailoverState {state})"
            return self._fail(stage, error_record(stage.value, "TestVmMissing", message))
        network = self.machine.target.test_network_id or self.machine.target.network_id
        report = yield from self._check_vm(stage, "testVm", self.machine.test_vm_id, network)
        if report is not None and report["outcome"] == "failed":
            return self._fail(stage, error_record(stage.value, "TestVmCheckFailed", vm_checks.failure_summary(report)))
        return True

    def _validate_migrated_vm(self) -> Steps:
        """Check the migrated VM. It cannot be rolled back, so a failed check does not fail the machine: it is
        recorded, and the wave holds before its next group or carries on, as the plan says."""
        target = self.machine
        yield from self._check_vm(
            Stage.VALIDATE_MIGRATED_VM, "migratedVm", target.target_vm_id, target.target.network_id
        )
        return True

    def _check_vm(
        self, stage: Stage, phase: CheckPhase, vm_id: str, network_id: str
    ) -> Generator[Any, Any, Json | None]:
        """Run the checks that apply to the machine's VM in ``phase`` and keep the report in the record."""
        checks = self.options.checks.for_machine(self.machine.checks, phase)
        if not checks.enabled:
            return None
        self._status(stage, "checking")
        report = yield from vm_checks.run_checks(
            self.context,
            vm_id=vm_id,
            checks=checks,
            phase=phase,
            expected_network=network_id,
            attempt=self.attempt,
            stage=stage.value,
            time_scale=self.scale,
            poll_seconds=self.options.poll_interval.total_seconds(),
        )
        self.record["checks"] = {**(self.record.get("checks") or {}), phase: report}
        yield from self._checked_event(report)
        return report

    def _run(self, stage: Stage) -> Steps:
        if stage is Stage.VALIDATE:
            return (yield from self._validate())
        if stage is Stage.INITIAL_REPLICATION:
            return (yield from self._initial_replication())
        if stage is Stage.VALIDATE_TEST_VM:
            return (yield from self._validate_test_vm())
        if stage is Stage.VALIDATE_MIGRATED_VM:
            return (yield from self._validate_migrated_vm())
        ok = yield from self._step(stage)
        if stage in _STEP_PHASE:
            self._record_post_migration_steps(stage, ok)
        if ok and stage is Stage.UNPLANNED_FAILOVER:
            read = yield from self._read_item(stage)
            point = None if "error" in read else ItemReading.from_dict(read).failover_recovery_point_id
            self.record["recoveryPointId"] = point
        return ok

    def _record_post_migration_steps(self, stage: Stage, ok: bool) -> None:
        """How the machine's post-migration steps ran: ASR runs them within the stage's job, so they share its
        outcome (a failed script fails the job, whose error names it). Names and outcomes only: a script's URL may
        carry a SAS and stays in the plan."""
        phase = _STEP_PHASE[stage]
        steps = self.machine.post_migration_steps_on(phase)
        if not steps:
            return
        entry = self.record["stages"][stage.value]
        failure = error_excerpt(self.record.get("error")) if not ok else None
        error = {"code": failure.get("code"), "message": failure.get("message")} if failure else None
        kept = [s for s in self.record.get("postMigrationSteps") or [] if s.get("on") != phase]
        self.record["postMigrationSteps"] = [
            *kept,
            *(
                {
                    "name": step.name,
                    "on": phase,
                    "jobId": entry.get("jobId"),
                    "outcome": "succeeded" if ok else "failed",
                    "error": error,
                }
                for step in steps
            ),
        ]

    def _make_safe(self, failed: Stage) -> Generator[Any, Any, None]:
        """After a failure before the point of no return, leave no test VM behind."""
        if failed not in (Stage.TEST_FAILOVER, Stage.VALIDATE_TEST_VM, Stage.TEST_FAILOVER_CLEANUP):
            return
        read = yield from self._read_item(failed)
        view = _view_of(read)
        if view is not None and view.can_clean_up_test_failover:
            error = self.record["error"]
            self._enter(Stage.TEST_FAILOVER_CLEANUP)
            yield from self._stage_event(Stage.TEST_FAILOVER_CLEANUP, "running")
            self._making_safe = True
            cleaned = yield from self._step(Stage.TEST_FAILOVER_CLEANUP)
            self._leave(Stage.TEST_FAILOVER_CLEANUP)
            self.record["error"] = {**error, "cleanedUp": cleaned}
            self.record["stage"] = failed.value

    # -- the whole run ------------------------------------------------------------------------------------

    def _first_stage(self) -> Generator[Any, Any, Stage]:
        requested = Stage(self.request.from_stage or self.book.first().value)
        if requested is Stage.VALIDATE:
            return requested
        read = yield from self._read_item(requested)
        return reconcile(_view_of(read), self.book, requested)

    def _finish(self, outcome: str, stage: Stage) -> Generator[Any, Any, Json]:
        self.record["outcome"] = outcome
        self.record["stage"] = stage.value
        downtime = self.record.get("downtime")
        if downtime and downtime.get("startedAt") and downtime.get("endedAt"):
            seconds = datetime.fromisoformat(downtime["endedAt"]) - datetime.fromisoformat(downtime["startedAt"])
            downtime["seconds"] = round(seconds.total_seconds() * self.scale)
        self._status(stage, outcome)
        if outcome == "ready":
            yield from self._stage_event(stage, "waiting")
        else:
            if outcome == "failed":
                yield from self._stage_event(stage, "failed")
            yield from self._completed_event(outcome)
        return self.record

    # -- events -------------------------------------------------------------------------------------------

    def _publish(self, event_type: EventType, key: str, data: Json, status: str) -> Generator[Any, Any, None]:
        published = yield from events.publish(
            self.context,
            event_type=event_type,
            key=key,
            migration_id=self.request.migration_id,
            data={"migrationId": self.request.migration_id, "machine": self.machine.name, **data},
            time_scale=self.scale,
            machine=self.machine.name,
            status=status,
        )
        if not published:
            self.record["eventsFailed"] = self.record.get("eventsFailed", 0) + 1

    def _stage_event(self, stage: Stage, status: str) -> Generator[Any, Any, None]:
        data = {
            "stage": stage.value,
            "previousStage": self.previous_stage.value if self.previous_stage else None,
            "status": status,
            "jobId": self.job_id,
        }
        yield from self._publish(EventType.STAGE_CHANGED, f"{stage.value}/{status}", data, status)

    def _checked_event(self, report: Json) -> Generator[Any, Any, None]:
        data = {
            "phase": report["phase"],
            "vm": report["vm"],
            "outcome": report["outcome"],
            "checks": [{k: v for k, v in check.items() if v not in (None, "")} for check in report["checks"]],
            "startedAt": report["startedAt"],
            "endedAt": report["endedAt"],
        }
        key = f"checked/{report['phase']}/{self.attempt}"
        yield from self._publish(EventType.MACHINE_CHECKED, key, data, report["outcome"])

    def _completed_event(self, outcome: str) -> Generator[Any, Any, None]:
        error = self.record.get("error")
        data = {
            "outcome": outcome.capitalize(),
            "error": {k: error.get(k) for k in ("stage", "code", "message", "jobId")} if error else None,
            "migratedVmId": self.machine.target_vm_id if outcome == "migrated" else None,
            "downtimeSeconds": (self.record.get("downtime") or {}).get("seconds"),
            "checks": {phase: report["outcome"] for phase, report in (self.record.get("checks") or {}).items()} or None,
        }
        yield from self._publish(EventType.MACHINE_COMPLETED, f"completed/{outcome}", data, outcome.capitalize())

    def execute(self) -> Generator[Any, Any, Json]:
        stop_at = Stage(self.request.stop_at) if self.request.stop_at else None
        stage = yield from self._first_stage()
        while True:
            if stage is Stage.MIGRATED:
                return (yield from self._finish("migrated", Stage.MIGRATED))
            if stage is stop_at:
                return (yield from self._finish("ready", stage))
            if stage is not Stage.CUTOVER_GATE:
                self._enter(stage)
                yield from self._stage_event(stage, "running")
                if stage is Stage.UNPLANNED_FAILOVER:
                    self.record["downtime"] = {"startedAt": self.now.isoformat(), "endedAt": None, "seconds": None}
                if not (yield from self._run(stage)):
                    yield from self._make_safe(stage)
                    return (yield from self._finish("failed", stage))
                self._leave(stage)
                self.previous_stage = stage
                if stage is self._downtime_ends and self.record.get("downtime"):
                    self.record["downtime"]["endedAt"] = self.now.isoformat()
            stage = self.book.next(stage)


@bp.orchestration_trigger(context_name="context", orchestration=names.MACHINE_RUNBOOK)
def machine_runbook(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Json]:
    return (yield from RunbookRun(context, RunbookInput.from_dict(context.get_input())).execute())
