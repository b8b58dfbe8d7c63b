"""The step rules: when a step is done, running, allowed, blocked or refused, and where a machine really stands.

The item states are the ones ASR shows at each point of the runbook (official examples; the emulator follows them).
"""

from __future__ import annotations

from typing import Any

import pytest

from migration.scenarios import ProtectedItemView
from migration.stages import Stage, runbook
from migration.steps import Decision, JobOutcome, Step, decide, job_name, job_outcome, reconcile

JOB = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/replicationJobs/j-1"


def view(**fields: Any) -> ProtectedItemView:
    base: dict[str, Any] = {
        "provider": "InMageRcm",
        "protectionState": "Protected",
        "protected": True,
        "initialReplicationDone": True,
        "testFailoverState": "None",
        "activeLocation": "Primary",
        "currentScenario": None,
        "currentJobId": None,
        "allowedOperations": ["TestFailover", "UnplannedFailover", "DisableProtection"],
    }
    base.update(fields)
    return ProtectedItemView.from_dict(base)


ENABLING = view(
    protectionState="UnprotectedStatesBegin",
    protected=False,
    initialReplicationDone=False,
    currentScenario="EnableDr",
    currentJobId=JOB,
    allowedOperations=[],
)
REPLICATING = view(protectionState="UnprotectedStatesBegin", initialReplicationDone=False, allowedOperations=[])
PROTECTED = view()
TESTING = view(testFailoverState="InProgress", currentScenario="TestFailover", currentJobId=JOB, allowedOperations=[])
# ASR keeps the test failover as the current scenario after its job ended, until cleanup.
AWAITING_CLEANUP = view(
    testFailoverState="WaitingForCompletion",
    currentScenario="TestFailover",
    currentJobId=JOB,
    allowedOperations=["TestFailoverCleanup"],
)
CLEANING = view(
    testFailoverState="MarkedForDeletion",
    currentScenario="TestFailoverCleanup",
    currentJobId=JOB,
    allowedOperations=[],
)
FAILING_OVER = view(currentScenario="UnplannedFailover", currentJobId=JOB, allowedOperations=[])
FAILED_OVER = view(
    protectionState="UnplannedFailoverCommitPendingStatesBegin",
    activeLocation="Recovery",
    allowedOperations=["Commit", "ChangePit", "DisableProtection"],
)
COMMITTED = view(
    protectionState="UnplannedFailoverCommittedStatesBegin",
    activeLocation="Recovery",
    allowedOperations=["CompleteMigration", "DisableProtection", "ReverseReplicate"],
)
DISABLING = view(
    protectionState="UnplannedFailoverCommittedStatesBegin",
    activeLocation="Recovery",
    currentScenario="DisableDr",
    currentJobId=JOB,
    allowedOperations=[],
)


@pytest.mark.parametrize(
    ("step", "item", "expected"),
    [
        (Step.ENABLE_REPLICATION, None, Decision.START),
        (Step.ENABLE_REPLICATION, ENABLING, Decision.ADOPT),
        (Step.ENABLE_REPLICATION, REPLICATING, Decision.DONE),
        (Step.TEST_FAILOVER, PROTECTED, Decision.START),
        (Step.TEST_FAILOVER, TESTING, Decision.ADOPT),
        (Step.TEST_FAILOVER, AWAITING_CLEANUP, Decision.DONE),
        (Step.TEST_FAILOVER, None, Decision.REFUSED),
        (Step.TEST_FAILOVER_CLEANUP, AWAITING_CLEANUP, Decision.START),
        (Step.TEST_FAILOVER_CLEANUP, CLEANING, Decision.ADOPT),
        (Step.TEST_FAILOVER_CLEANUP, PROTECTED, Decision.DONE),
        (Step.UNPLANNED_FAILOVER, PROTECTED, Decision.START),
        (Step.UNPLANNED_FAILOVER, FAILING_OVER, Decision.ADOPT),
        (Step.UNPLANNED_FAILOVER, FAILED_OVER, Decision.DONE),
        (Step.UNPLANNED_FAILOVER, AWAITING_CLEANUP, Decision.REFUSED),
        (Step.UNPLANNED_FAILOVER, TESTING, Decision.BLOCKED),
        (Step.COMMIT, FAILED_OVER, Decision.START),
        (Step.COMMIT, COMMITTED, Decision.DONE),
        (Step.COMMIT, PROTECTED, Decision.REFUSED),
        (Step.COMPLETE_MIGRATION, COMMITTED, Decision.START),
        (Step.COMPLETE_MIGRATION, DISABLING, Decision.ADOPT),
        (Step.COMPLETE_MIGRATION, None, Decision.DONE),
        (Step.COMPLETE_MIGRATION, FAILED_OVER, Decision.REFUSED),
        (Step.DISABLE_REPLICATION, PROTECTED, Decision.START),
        (Step.DISABLE_REPLICATION, TESTING, Decision.BLOCKED),
        (Step.DISABLE_REPLICATION, None, Decision.DONE),
    ],
)
def test_decide(step: Step, item: ProtectedItemView | None, expected: Decision) -> None:
    decision = decide(step, item)
    assert decision.decision is expected, decision.reason
    if expected is Decision.ADOPT:
        assert decision.job_id == JOB


FULL = runbook(test_failover=True)


@pytest.mark.parametrize(
    ("item", "requested", "expected"),
    [
        (None, Stage.VALIDATE, Stage.VALIDATE),
        (None, Stage.TEST_FAILOVER, Stage.ENABLE_REPLICATION),  # replication was disabled: enable again
        (REPLICATING, Stage.ENABLE_REPLICATION, Stage.INITIAL_REPLICATION),
        (PROTECTED, Stage.ENABLE_REPLICATION, Stage.TEST_FAILOVER),
        (AWAITING_CLEANUP, Stage.ENABLE_REPLICATION, Stage.VALIDATE_TEST_VM),
        (AWAITING_CLEANUP, Stage.VALIDATE_TEST_VM, Stage.VALIDATE_TEST_VM),
        (PROTECTED, Stage.VALIDATE_TEST_VM, Stage.TEST_FAILOVER),  # its test VM was cleaned up: test again
        (PROTECTED, Stage.CUTOVER_GATE, Stage.CUTOVER_GATE),
        (FAILED_OVER, Stage.CUTOVER_GATE, Stage.CUTOVER_GATE),
        (FAILED_OVER, Stage.UNPLANNED_FAILOVER, Stage.VALIDATE_MIGRATED_VM),  # checked before the commit
        (COMMITTED, Stage.UNPLANNED_FAILOVER, Stage.COMPLETE_MIGRATION),
        (None, Stage.COMPLETE_MIGRATION, Stage.COMPLETE_MIGRATION),  # protection already removed: the step says done
    ],
)
def test_reconcile_starts_where_asr_stands(item: ProtectedItemView | None, requested: Stage, expected: Stage) -> None:
    assert reconcile(item, FULL, requested) is expected


def test_reconcile_never_skips_a_stage_asr_cannot_have_reached() -> None:
    # Initial replication is not done: asking for the test failover still starts with the wait.
    assert reconcile(REPLICATING, FULL, Stage.TEST_FAILOVER) is Stage.TEST_FAILOVER
    assert reconcile(REPLICATING, FULL, Stage.INITIAL_REPLICATION) is Stage.INITIAL_REPLICATION


@pytest.mark.parametrize(
    ("state", "outcome"),
    [
        ("NotStarted", JobOutcome.RUNNING),
        ("InProgress", JobOutcome.RUNNING),
        ("Succeeded", JobOutcome.SUCCEEDED),
        ("CompletedWithInformation", JobOutcome.SUCCEEDED),
        ("Failed", JobOutcome.FAILED),
        ("Cancelled", JobOutcome.CANCELLED),
        ("SomethingNew", JobOutcome.RUNNING),
    ],
)
def test_job_outcome(state: str, outcome: JobOutcome) -> None:
    assert job_outcome({"properties": {"state": state}}) is outcome


def test_job_name_is_the_last_segment() -> None:
    assert job_name(JOB) == "j-1"
