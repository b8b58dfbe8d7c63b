"""The ASR steps of the runbook, and how to tell from Site Recovery's own state whether each has happened.

An activity may run twice: the host can die after ASR accepted an operation and before the activity's result was
recorded. So before acting, the step activity reads the item and asks :func:`decide`: if the step already happened
it is *done*; if ASR is running it, the running job is *adopted*; if ASR allows it, it is *started*; otherwise it
is *blocked* (another operation holds the item, which passes) or *refused* (the item is in a state where the step
makes no sense, which will not pass). Nothing here performs I/O, so the same rules serve the orchestrator's
reconciliation (:func:`reconcile`): where does a machine really stand, whatever our history says?

The state names come from ASR's examples and the emulator that follows them (``migration/scenarios``
normalizes them into :class:`ProtectedItemView`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from migration.scenarios.base import ProtectedItemView
from migration.source_kinds import Provider
from migration.stages import Runbook, Stage, has_commit, is_irreversible

__all__ = [
    "ASR_STEPS",
    "MIGRATION_ITEM_STEPS",
    "STEP_OF_STAGE",
    "Decision",
    "JobOutcome",
    "Step",
    "StepDecision",
    "decide",
    "job_name",
    "job_outcome",
    "reconcile",
]


class Step(StrEnum):
    """A mutating Site Recovery call of the runbook; values are the stage names that run them."""

    ENABLE_REPLICATION = "enableReplication"
    TEST_FAILOVER = "testFailover"
    TEST_FAILOVER_CLEANUP = "testFailoverCleanup"
    UNPLANNED_FAILOVER = "unplannedFailover"
    COMMIT = "commit"
    COMPLETE_MIGRATION = "completeMigration"
    DR_PROTECTION = "drProtection"
    # Rollback for a cancelled migration: disable replication with reason NotSpecified.
    DISABLE_REPLICATION = "disableReplication"
    # Migration items (VMwareCbt) only, in no stage: the resynchronization the service asks for during initial
    # replication, and the operator's pause and resume of replication.
    RESYNC = "resync"
    PAUSE_REPLICATION = "pauseReplication"
    RESUME_REPLICATION = "resumeReplication"


ASR_STEPS = frozenset(Step)

# The step each runbook stage that changes Site Recovery runs. The other stages (validate, initial replication,
# validate the test VM, the gate) only read, and rollback's disableReplication belongs to no stage.
STEP_OF_STAGE: Mapping[Stage, Step] = MappingProxyType(
    {
        Stage.ENABLE_REPLICATION: Step.ENABLE_REPLICATION,
        Stage.TEST_FAILOVER: Step.TEST_FAILOVER,
        Stage.TEST_FAILOVER_CLEANUP: Step.TEST_FAILOVER_CLEANUP,
        Stage.UNPLANNED_FAILOVER: Step.UNPLANNED_FAILOVER,
        Stage.COMMIT: Step.COMMIT,
        Stage.COMPLETE_MIGRATION: Step.COMPLETE_MIGRATION,
        Stage.DR_PROTECTION: Step.DR_PROTECTION,
    }
)

# The job scenarioName ASR shows in ``currentScenario`` while each step runs (emulator: lifecycle.TASKS).
_SCENARIO = {
    Step.ENABLE_REPLICATION: "EnableDr",
    Step.TEST_FAILOVER: "TestFailover",
    Step.TEST_FAILOVER_CLEANUP: "TestFailoverCleanup",
    Step.UNPLANNED_FAILOVER: "UnplannedFailover",
    Step.COMMIT: "CommitFailover",
    Step.COMPLETE_MIGRATION: "DisableDr",
    Step.DR_PROTECTION: "EnableDr",
    Step.DISABLE_REPLICATION: "DisableDr",
}
# A migration item's jobs (``currentJob.jobName``; emulator: migration_lifecycle.TASKS, whose README says which
# names are published and which inferred).
_MIGRATION_SCENARIO = {
    Step.ENABLE_REPLICATION: "EnableMigration",
    Step.TEST_FAILOVER: "TestMigrate",
    Step.TEST_FAILOVER_CLEANUP: "TestMigrateCleanup",
    Step.UNPLANNED_FAILOVER: "Migrate",
    Step.COMPLETE_MIGRATION: "DisableMigration",
    Step.DISABLE_REPLICATION: "DisableMigration",
    Step.RESYNC: "Resync",
    Step.PAUSE_REPLICATION: "PauseReplication",
    Step.RESUME_REPLICATION: "ResumeReplication",
}
# Steps only migration items have.
MIGRATION_ITEM_STEPS = frozenset({Step.RESYNC, Step.PAUSE_REPLICATION, Step.RESUME_REPLICATION})


class Decision(StrEnum):
    START = "start"
    ADOPT = "adopt"
    DONE = "done"
    BLOCKED = "blocked"
    REFUSED = "refused"
    # Enabling again needs the item of a failed enable removed first: the step starts (or adopts) that removal,
    # waits for it, and is then asked again.
    CLEAR = "clear"


@dataclass(frozen=True)
class StepDecision:
    decision: Decision
    reason: str
    job_id: str | None = None


def _waiting_for_cleanup(view: ProtectedItemView) -> bool:
    return (view.test_failover_state or "").lower() == "waitingforcompletion" or view.can_clean_up_test_failover


def _failed_over(view: ProtectedItemView) -> bool:
    return (view.active_location or "").lower() == "recovery"


def _is_migration_item(view: ProtectedItemView) -> bool:
    return view.provider == Provider.VMWARE_CBT.value


def _committed(view: ProtectedItemView) -> bool:
    state = (view.protection_state or "").lower()
    if not _failed_over(view):
        return False
    if view.provider in set(Provider) and not has_commit(Provider(view.provider)):
        return True  # a succeeded migrate is final
    return "committed" in state or state == "plannedfailoverstatesbegin"


def _enable_failed(view: ProtectedItemView) -> bool:
    """ASR kept the item of a failed enable (``Enable protection failed``): nothing replicates, and ASR allows
    only disabling it; enabling again means removing it first. A migration item whose seeding failed asks for a
    resync instead, which keeps what was copied."""
    description = (view.protection_state_description or "").lower()
    return not view.protected and not view.initial_replication_done and "fail" in description and not view.can_resync


def _scenario_name(step: Step, view: ProtectedItemView) -> str | None:
    table = _MIGRATION_SCENARIO if _is_migration_item(view) else _SCENARIO
    return table.get(step)


def _running(step: Step, view: ProtectedItemView) -> bool:
    name = _scenario_name(step, view)
    return name is not None and (view.current_scenario or "").lower() == name.lower()


def _adopt(view: ProtectedItemView) -> StepDecision:
    return StepDecision(Decision.ADOPT, f"ASR is already running {view.current_scenario}", view.current_job_id)


def decide(step: Step, view: ProtectedItemView | None) -> StepDecision:
    """What the step activity should do, given the item as ASR reports it now (``None``: no such item).

    The order matters: *done* first, then *allowed*, and only then the current scenario. ASR keeps
    ``currentScenario: TestFailover`` after the test failover job ended, until cleanup (official examples), so a
    current scenario alone does not mean a job is running; an empty ``allowedOperations`` with the step's own
    scenario does.
    """
    if step in (Step.ENABLE_REPLICATION, Step.DR_PROTECTION):
        if view is None:
            return StepDecision(Decision.START, "the item is not protected yet")
        if _running(step, view):
            return _adopt(view)
        if _running(Step.DISABLE_REPLICATION, view):
            return StepDecision(Decision.CLEAR, "ASR is removing the item; enable again after it", view.current_job_id)
        if _enable_failed(view):
            return StepDecision(Decision.CLEAR, "the last enable failed; ASR needs the item removed first")
        return StepDecision(Decision.DONE, "the item is protected already")

    if step in (Step.COMPLETE_MIGRATION, Step.DISABLE_REPLICATION):
        if view is None:
            return StepDecision(Decision.DONE, "the item is no longer protected")
        if _running(step, view):
            return _adopt(view)
        if step is Step.COMPLETE_MIGRATION and not _committed(view):
            return StepDecision(Decision.REFUSED, "the failover has not been committed")
        if view.can_disable_protection or view.can_complete_migration:
            return StepDecision(Decision.START, "ASR allows disabling protection")
        return _blocked_or_refused(step, view)

    if step in MIGRATION_ITEM_STEPS:
        return _decide_migration_item_step(step, view)

    if view is None:
        return StepDecision(Decision.REFUSED, "the item is not protected")
    done, allowed = {
        Step.TEST_FAILOVER: (_waiting_for_cleanup(view), view.can_test_failover),
        Step.TEST_FAILOVER_CLEANUP: (
            not _waiting_for_cleanup(view) and (view.can_test_failover or view.can_fail_over),
            view.can_clean_up_test_failover,
        ),
        Step.UNPLANNED_FAILOVER: (_failed_over(view), view.can_fail_over and not _waiting_for_cleanup(view)),
        Step.COMMIT: (_committed(view), view.can_commit),
    }[step]
    if done:
        return StepDecision(Decision.DONE, f"ASR shows {step.value} as done")
    if allowed:
        return StepDecision(Decision.START, f"ASR allows {step.value}")
    if _running(step, view):
        return _adopt(view)
    if step is Step.UNPLANNED_FAILOVER and _waiting_for_cleanup(view):
        return StepDecision(Decision.REFUSED, "a test failover must be cleaned up before failover")
    return _blocked_or_refused(step, view)


def _decide_migration_item_step(step: Step, view: ProtectedItemView | None) -> StepDecision:
    """Resync, pause and resume: operations a migration item has and a protected item does not."""
    if view is None:
        return StepDecision(Decision.REFUSED, "the machine is not replicating")
    if not _is_migration_item(view):
        return StepDecision(Decision.REFUSED, f"{step.value} exists for agentless VMware (VMwareCbt) migrations only")
    if _running(step, view):
        return _adopt(view)
    done, allowed, reason = {
        Step.RESYNC: (not view.needs_resync, view.can_resync, "no resynchronization is required"),
        Step.PAUSE_REPLICATION: (view.paused, view.can_pause, "replication is paused"),
        Step.RESUME_REPLICATION: (not view.paused, view.can_resume, "replication is not paused"),
    }[step]
    if done:
        return StepDecision(Decision.DONE, reason)
    if allowed:
        return StepDecision(Decision.START, f"ASR allows {step.value}")
    return _blocked_or_refused(step, view)


def _blocked_or_refused(step: Step, view: ProtectedItemView) -> StepDecision:
    """Another job holds the item (it will pass: try later), or the step makes no sense in this state."""
    if view.current_scenario and not view.allowed_operations:
        running = view.current_scenario
        return StepDecision(Decision.BLOCKED, f"ASR is running {running} on the item", view.current_job_id)
    return StepDecision(Decision.REFUSED, f"ASR does not allow {step.value} in {view.protection_state}")


def reconcile(view: ProtectedItemView | None, book: Runbook, requested: Stage) -> Stage:
    """The first stage of ``book`` that still has work to do, at or after ``requested``.

    It is how a retry or an adopted half-done migration starts in the right place: ASR's state outranks both the
    stage asked for and anything the orchestrator remembers. Stages ASR shows as done are skipped; a stage ASR
    cannot have reached yet is never skipped.
    """
    remaining = book.remaining(requested)
    if not remaining:
        return requested
    if view is None:
        # Nothing protected: before the point of no return, that means replication must be enabled (again);
        # after it, protection was disabled by the completed migration, and the step's own check says so.
        if requested is Stage.VALIDATE or is_irreversible(requested) or Stage.ENABLE_REPLICATION not in book:
            return remaining[0]
        return Stage.ENABLE_REPLICATION
    reached = _reached(view)
    if requested is Stage.VALIDATE_TEST_VM and Stage.TEST_FAILOVER not in reached and Stage.TEST_FAILOVER in book:
        # The test VM to validate was cleaned up when the check failed: a retry tests again.
        remaining = book.remaining(Stage.TEST_FAILOVER)
    for stage in remaining:
        if stage in (Stage.VALIDATE, Stage.CUTOVER_GATE, Stage.MIGRATED):
            return stage
        if stage not in reached:
            return stage
    return remaining[-1]


def _reached(view: ProtectedItemView) -> set[Stage]:
    """Stages whose effect ASR shows on the item."""
    if _enable_failed(view):
        return set()  # the item only records a failed attempt
    reached = {Stage.ENABLE_REPLICATION}
    if view.initial_replication_done:
        reached.add(Stage.INITIAL_REPLICATION)
    if _waiting_for_cleanup(view):
        reached |= {Stage.TEST_FAILOVER}
    if _failed_over(view):
        reached |= {Stage.INITIAL_REPLICATION, Stage.UNPLANNED_FAILOVER}
        reached |= {Stage.TEST_FAILOVER, Stage.VALIDATE_TEST_VM, Stage.TEST_FAILOVER_CLEANUP}
    if _committed(view):
        reached |= {Stage.VALIDATE_MIGRATED_VM, Stage.COMMIT}  # the migrated VM is checked before the commit
    return reached


class JobOutcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


_JOB_STATES = {
    "notstarted": JobOutcome.RUNNING,
    "inprogress": JobOutcome.RUNNING,
    "suspended": JobOutcome.RUNNING,
    "succeeded": JobOutcome.SUCCEEDED,
    # ASR reports success with warnings as CompletedWithInformation.
    "completedwithinformation": JobOutcome.SUCCEEDED,
    "failed": JobOutcome.FAILED,
    "cancelled": JobOutcome.CANCELLED,
    "canceled": JobOutcome.CANCELLED,
}


def job_outcome(job: dict[str, Any]) -> JobOutcome:
    """Where an ASR job (``replicationJobs/{name}`` JSON) stands; an unknown state counts as still running."""
    state = str((job.get("properties") or {}).get("state") or "").lower()
    return _JOB_STATES.get(state, JobOutcome.RUNNING)


def job_name(job_id: str) -> str:
    """``…/replicationJobs/{name}`` → ``name``."""
    return job_id.rstrip("/").rsplit("/", 1)[-1]
