"""Orchestration: roll one machine back when its migration is cancelled before it failed over.

Cancelling must leave the source untouched and nothing behind in Site Recovery: a test failover in place is
cleaned up, then replication is disabled with reason ``NotSpecified``. It works from ASR's state, not from what
the cancelled runbook was doing (that instance was terminated, possibly mid-step): a job still running on the
item is waited for first. A machine that already failed over is past the point of no return and is left alone;
the result says so (``outcome: failedOver``) so the wave reports it as migrated rather than cancelled.

Input :class:`migration.payloads.runbook.RollbackInput`. Output :class:`migration.payloads.runbook.RollbackResult`
(``outcome`` cancelled, failedOver or failed).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import error_record
from migration.events import EventType
from migration.instance_ids import rollback_wait_id
from migration.json_types import Json
from migration.payloads.asr_steps import ItemReading, MachineRequest
from migration.payloads.runbook import RollbackInput, RollbackResult
from migration.plan_options import WaveOptions
from migration.scenarios import ProtectedItemView
from migration.steps import Step, job_name
from orchestrators import asr_step, events

name = names.MACHINE_ROLLBACK
bp = df.Blueprint()

# Each round removes one obstacle (a running job, a test failover, the protection itself); a few are enough.
_ROUNDS = 6
_STAGE = "rollback"


@bp.orchestration_trigger(context_name="context", orchestration=names.MACHINE_ROLLBACK)
def machine_rollback(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Json]:
    request = RollbackInput.from_dict(context.get_input())
    machine, options, scale = request.machine, request.options, request.time_scale
    timeout = WaveOptions.model_validate(options).job_timeout
    jobs: list[str] = []

    def ended(outcome: str, error: Json | None = None) -> Json:
        return RollbackResult(machine["name"], outcome, error, tuple(jobs)).to_dict()

    for round_ in range(_ROUNDS):
        context.set_custom_status({"machine": machine["name"], "stage": _STAGE, "round": round_})
        read = yield from asr_step.call(
            context, names.READ_PROTECTED_ITEM, MachineRequest(machine, _STAGE).to_dict(), _STAGE, scale
        )
        if "error" in read:
            return ended("failed", read["error"])
        reading = ItemReading.from_dict(read)
        if not reading.exists or reading.view is None:
            yield from events.publish(
                context,
                event_type=EventType.MACHINE_COMPLETED,
                key="completed/cancelled",
                migration_id=request.migration_id,
                data={"migrationId": request.migration_id, "machine": machine["name"], "outcome": "Cancelled"},
                time_scale=scale,
                machine=machine["name"],
                status="Cancelled",
            )
            return ended("cancelled")
        view = ProtectedItemView.from_dict(reading.view)
        if (view.active_location or "").lower() == "recovery":
            return ended("failedOver")
        sub_instance = rollback_wait_id(context.instance_id, round_)
        if view.current_job_id and view.current_scenario and not view.allowed_operations:
            # A job the cancelled runbook started is still running: let it end before changing anything (the next
            # round reads the item again, whether the wait saw the job end or failed).
            yield from asr_step.wait_for_job(
                context,
                vault=machine["asr"]["vault"],
                job_name=job_name(view.current_job_id),
                job_id=view.current_job_id,
                step=Step.DISABLE_REPLICATION,
                stage=_STAGE,
                time_scale=scale,
                timeout=timeout,
                instance_id=sub_instance,
            )
            continue
        step = Step.TEST_FAILOVER_CLEANUP if view.can_clean_up_test_failover else Step.DISABLE_REPLICATION
        done = yield from asr_step.run_step(
            context,
            machine=machine,
            options=options,
            step=step,
            stage=_STAGE,
            time_scale=scale,
            timeout=timeout,
            instance_id=sub_instance,
        )
        if done.job_id:
            jobs.append(done.job_id)
        if not done.ok:
            return ended("failed", done.error)
    message = "the item was still protected after every rollback step"
    return ended("failed", error_record(_STAGE, "RollbackIncomplete", message))
