"""The runbook's order, its point of no return, and how options shape it."""

import pytest

from migration.plan import validate_plan
from migration.stages import (
    FULL_RUNBOOK,
    Runbook,
    Stage,
    can_roll_back,
    is_irreversible,
    is_terminal,
    runbook,
    runbook_for,
)

from .plan_data import a2a_machine, inmage_machine, plan

DR = {
    "recoveryFabric": "azure-northeurope",
    "recoveryProtectionContainer": "azure-northeurope-container",
    "containerMapping": "westeurope-to-northeurope",
    "policy": "a2a-policy",
    "recoveryResourceGroupId": "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-dr",
    "stagingStorageAccountId": inmage_machine()["replication"]["logStorageAccountId"],
}


def test_full_runbook_order():
    assert [s.value for s in FULL_RUNBOOK] == [
        "validate",
        "enableReplication",
        "initialReplication",
        "testFailover",
        "validateTestVm",
        "testFailoverCleanup",
        "cutoverGate",
        "unplannedFailover",
        "validateMigratedVm",
        "commit",
        "completeMigration",
        "drProtection",
    ]


@pytest.mark.parametrize("stage", list(Stage))
def test_point_of_no_return_is_the_unplanned_failover(stage):
    before = list(Stage).index(stage) < list(Stage).index(Stage.UNPLANNED_FAILOVER)
    outcome = stage in (Stage.FAILED, Stage.CANCELLED)
    assert is_irreversible(stage) is (not before and not outcome)
    assert is_terminal(stage) is (stage in (Stage.MIGRATED, Stage.FAILED, Stage.CANCELLED))
    assert can_roll_back(stage) is before


def test_next_stage_walks_the_runbook_and_stops_at_terminal():
    book = runbook()
    stage = book.first()
    walked = [stage]
    while not is_terminal(stage):
        stage = book.next(stage)
        walked.append(stage)
    assert walked[-1] is Stage.MIGRATED
    assert Stage.DR_PROTECTION not in walked
    assert walked[walked.index(Stage.COMPLETE_MIGRATION) + 1] is Stage.MIGRATED
    for terminal in (Stage.MIGRATED, Stage.FAILED, Stage.CANCELLED):
        with pytest.raises(ValueError, match="terminal"):
            book.next(terminal)


def test_skipping_test_failover_goes_straight_to_the_gate():
    book = runbook(test_failover=False)
    assert book.next(Stage.INITIAL_REPLICATION) is Stage.CUTOVER_GATE
    with pytest.raises(ValueError, match="not part"):
        book.next(Stage.TEST_FAILOVER)
    assert book.remaining(Stage.COMMIT) == (Stage.COMMIT, Stage.COMPLETE_MIGRATION, Stage.MIGRATED)
    assert book.remaining(Stage.FAILED) == ()


def test_runbook_for_follows_plan_and_machine_options():
    vmware = inmage_machine("web-01")
    skipper = inmage_machine("app-01") | {"options": {"skipTestFailover": True}}
    azure = a2a_machine("az-api-01")
    azure_no_dr = a2a_machine("az-api-02") | {"options": {"drAfterMigration": False}}
    wave = validate_plan(plan([vmware, skipper, azure, azure_no_dr], options={"drAfterMigration": DR}))
    books = {m.name: runbook_for(m, wave.options) for _, m in wave.machines()}
    assert Stage.TEST_FAILOVER in books["web-01"]
    assert Stage.TEST_FAILOVER not in books["app-01"]
    assert Stage.DR_PROTECTION not in books["web-01"]
    assert books["az-api-01"].next(Stage.COMPLETE_MIGRATION) is Stage.DR_PROTECTION
    assert Stage.DR_PROTECTION not in books["az-api-02"]

    no_tests = validate_plan(plan([vmware], options={"testFailover": {"required": False}}))
    _, machine = next(no_tests.machines())
    assert Stage.TEST_FAILOVER not in runbook_for(machine, no_tests.options)


def test_runbooks_must_be_ordered_and_end_in_migrated():
    with pytest.raises(ValueError, match="ends with"):
        Runbook((Stage.VALIDATE,))
    with pytest.raises(ValueError, match="order"):
        Runbook((Stage.COMMIT, Stage.VALIDATE, Stage.MIGRATED))
