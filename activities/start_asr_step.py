"""Activity: start one mutating Site Recovery step for a machine, at most once however often it runs.

It reads the item first and lets :func:`migration.steps.decide` say whether the step already happened (``done``),
is running (``adopt`` the running job), may start (``start``), must first remove a failed enable's item
(``clear``: the removal job is returned, and the orchestrator asks again once it ended), waits on another
operation (raised as transient, so the retry policy tries again later) or cannot happen (returned as a permanent
error). So a host killed after ASR accepted the call, and before the result was recorded, adopts the job on the
next run instead of calling twice.

Input :class:`migration.payloads.asr_steps.StartStepInput`. Output :class:`migration.payloads.asr_steps.StepStarted`
or ``{"error": {...}}``.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.site_recovery import machine_from, site_recovery
from migration import function_names as names
from migration.asr import SiteRecovery, StartedOperation
from migration.errors import AsrPermanentError, AsrTransientError
from migration.machine import Machine
from migration.payloads.asr_steps import StartStepInput, StepStarted
from migration.plan_options import WaveOptions
from migration.scenarios import DisableReason, ItemAddress, Scenario, VMwareCbtScenario, scenario_for
from migration.scenarios.a2a import A2AScenario
from migration.steps import Decision, Step, decide, job_name
from migration.vmware_discovery import read_vmware_source

name = names.START_ASR_STEP
bp = df.Blueprint()


def _dr_scenario(scenario: Scenario, machine: Machine) -> A2AScenario:
    if not isinstance(scenario, A2AScenario):
        raise AsrPermanentError(f"machine {machine.name}: DR protection exists for A2A machines only", code="NotA2A")
    return scenario


def _item(step: Step, scenario: Scenario, machine: Machine) -> ItemAddress:
    if step is Step.DR_PROTECTION:
        return _dr_scenario(scenario, machine).dr_protected_item(machine)
    return scenario.protected_item(machine)


def _migration_scenario(scenario: Scenario, machine: Machine, step: Step) -> VMwareCbtScenario:
    if not isinstance(scenario, VMwareCbtScenario):
        message = f"machine {machine.name}: {step.value} exists for agentless VMware migrations only"
        raise AsrPermanentError(message, code="NotAMigrationItem")
    return scenario


def _enable_body(asr: SiteRecovery, scenario: Scenario, machine: Machine, stage: str) -> dict[str, Any]:
    """The enable body; an agentless machine's from discovery too (its disks, its vCenter's run-as account)."""
    try:
        if isinstance(scenario, VMwareCbtScenario):
            source = read_vmware_source(asr, machine, stage=stage)
            if source is None:
                message = (
                    f"machine {machine.name}: Azure Migrate has not discovered {machine.asr.discovered_machine_id}"
                )
                raise AsrPermanentError(message, code="DiscoveredMachineNotFound", stage=stage)
            return scenario.enable_protection(machine, source=source)
        return scenario.enable_protection(machine)
    except ValueError as error:
        raise AsrPermanentError(str(error), code="InvalidEnableInput", stage=stage) from None


def _latest_point(asr: SiteRecovery, item: ItemAddress, machine: Machine, stage: str) -> str:
    """The newest recovery point of the item, for a test failover that must name one (VMwareCbt's testMigrate)."""
    points = asr.list_recovery_points(item, stage=stage)
    dated = [p for p in points if isinstance(p.get("id"), str)]
    if not dated:
        message = f"machine {machine.name}: the item has no recovery point to test-migrate to yet"
        raise AsrTransientError(message, code="NoRecoveryPoint", stage=stage)

    def taken_at(point: dict[str, Any]) -> str:
        properties = point.get("properties") or {}
        return str(properties.get("recoveryPointTime") or properties.get("recovery_point_time") or "")

    return str(max(dated, key=taken_at)["id"])


def _start(
    step: Step, request: StartStepInput, asr: SiteRecovery, scenario: Scenario, machine: Machine, item: ItemAddress
) -> StartedOperation:
    stage = request.stage_name
    point = request.recovery_point_id
    if step is Step.ENABLE_REPLICATION:
        return asr.start_enable_replication(item, _enable_body(asr, scenario, machine, stage), stage=stage)
    if step is Step.TEST_FAILOVER:
        if point is None and scenario.needs_recovery_point_for_test:
            point = _latest_point(asr, item, machine, stage)
        return asr.start_test_failover(item, scenario.test_failover(machine, recovery_point_id=point), stage=stage)
    if step is Step.TEST_FAILOVER_CLEANUP:
        body = scenario.test_failover_cleanup(machine, comments=request.comments)
        return asr.start_test_failover_cleanup(item, body, stage=stage)
    if step is Step.UNPLANNED_FAILOVER:
        body = scenario.unplanned_failover(machine, recovery_point_id=point)
        return asr.start_unplanned_failover(item, body, stage=stage)
    if step is Step.COMMIT:
        return asr.start_failover_commit(item, stage=stage)
    if step is Step.RESYNC:
        return asr.start_resync(item, _migration_scenario(scenario, machine, step).resync(machine), stage=stage)
    if step is Step.PAUSE_REPLICATION:
        body = _migration_scenario(scenario, machine, step).pause_replication(machine)
        return asr.start_pause_replication(item, body, stage=stage)
    if step is Step.RESUME_REPLICATION:
        body = _migration_scenario(scenario, machine, step).resume_replication(machine)
        return asr.start_resume_replication(item, body, stage=stage)
    if step in (Step.COMPLETE_MIGRATION, Step.DISABLE_REPLICATION):
        reason = DisableReason.MIGRATION_COMPLETE if step is Step.COMPLETE_MIGRATION else DisableReason.NOT_SPECIFIED
        return asr.start_disable_protection(item, scenario.disable_protection(machine, reason=reason), stage=stage)
    dr = WaveOptions.model_validate(request.options).dr_after_migration
    if dr is None:
        raise AsrPermanentError("the plan configures no drAfterMigration", code="NoDrConfiguration", stage=stage)
    body = _dr_scenario(scenario, machine).dr_enable_protection(machine, dr)
    return asr.start_enable_replication(item, body, stage=stage)


@bp.activity_trigger(input_name="request", activity=names.START_ASR_STEP)
def start_asr_step(request: dict[str, Any]) -> dict[str, Any]:
    asked = StartStepInput.from_dict(request)
    step = asked.step
    machine = machine_from(asked.machine)
    scenario = scenario_for(machine)
    asr = site_recovery()
    stage = asked.stage_name
    try:
        item = _item(step, scenario, machine)
        body = asr.get_protected_item(item, stage=stage)
        view = scenario.read_protected_item(body) if body is not None else None
        decision = decide(step, view)
        if decision.decision is Decision.BLOCKED:
            raise AsrTransientError(
                f"{machine.name}: {decision.reason}; {step.value} waits for it to finish",
                code="AnotherOperationInProgress",
                stage=stage,
                job_id=decision.job_id,
            )
        if decision.decision is Decision.REFUSED:
            raise AsrPermanentError(f"{machine.name}: {decision.reason}", code="StepNotAllowed", stage=stage)
        started: StartedOperation | None = None
        if decision.decision in (Decision.ADOPT, Decision.CLEAR) and decision.job_id:
            started = StartedOperation(job_name(decision.job_id), decision.job_id, None)
        elif decision.decision is Decision.START:
            started = _start(step, asked, asr, scenario, machine, item)
        elif decision.decision is Decision.CLEAR:
            # The item of a failed enable: remove it (reason NotSpecified); the orchestrator waits, then asks again.
            started = _start(Step.DISABLE_REPLICATION, asked, asr, scenario, machine, item)
        if started is None:
            return StepStarted(decision.decision.value, decision.reason).to_dict()
        return StepStarted(
            decision.decision.value, decision.reason, started.job_name, started.job_id, started.retry_after_seconds
        ).to_dict()
    except AsrPermanentError as error:
        return {"error": error.to_dict()}
