"""The migration-item state table: its values are the SDK's enums, the README's table says the same, and an item
driven into each state through the SDK shows that row's migrationState, description and allowedOperations."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient, models

from emulators.siterecovery import EmulatorHandle
from emulators.siterecovery.migration_states import ORDER, ROWS, TEST_STATES, MigState, TrialPhase, allowed, row
from tests.emulators.siterecovery.migration_support import TEST_NET, enable_body, item_args, mclient, memu

__all__ = ["mclient", "memu"]  # fixtures

README = Path(__file__).resolve().parents[3] / "emulators" / "siterecovery" / "README.md"
MIGRATE = {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "performShutdown": "true"}}}
PAUSE = {"properties": {"instanceType": "VMwareCbt"}}
RESUME = {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt"}}}
RESYNC = {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "skipCbtReset": "true"}}}


def test_table_values_are_the_sdk_enums() -> None:
    states = {e.value for e in models.MigrationState}
    operations = {e.value for e in models.MigrationItemOperation}
    assert set(ORDER) == operations
    for r in ROWS:
        assert r.migration_state in states, r.state
        assert set(r.allowed) <= operations, r.state
        assert r.health in {e.value for e in models.ProtectionHealth}
        assert r.source
    assert {v for v, _ in TEST_STATES.values()} <= {e.value for e in models.TestMigrationState}
    assert {r.state for r in ROWS} == set(MigState)


def test_readme_table_is_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("#### Migration item states", 1)[1].split("\n#", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| `")]
    documented = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        documented[cells[0].strip("`")] = (cells[1], cells[2])
    for r in ROWS:
        state, ops = documented[r.state.value]
        assert state == f"`{r.migration_state}` / {r.description}", r.state
        assert [o.strip() for o in re.split(r",\s*", ops) if o.strip() not in ("–", "")] == list(r.allowed), r.state


def test_a_live_test_migration_swaps_test_migrate_for_its_cleanup() -> None:
    assert allowed(MigState.REPLICATING, TrialPhase.SUCCEEDED, False) == [
        "Migrate",
        "DisableMigration",
        "TestMigrateCleanup",
    ]
    assert allowed(MigState.REPLICATING, TrialPhase.FAILED, False) == [
        "Migrate",
        "DisableMigration",
        "TestMigrate",
        "TestMigrateCleanup",
        "PauseReplication",
    ]
    assert allowed(MigState.REPLICATING, TrialPhase.NONE, True) == []


def _replicating(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    client.replication_migration_items.begin_create(*item_args(), enable_body()).result()
    memu.advance_until_idle()


def _enabling(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    client.replication_migration_items.begin_create(*item_args(), enable_body(), polling=False)


def _enable_failed(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    memu.add_fault({"kind": "jobFailure", "scenario": "EnableMigration"})
    _enabling(memu, client)
    memu.advance_until_idle()


def _seeding(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    client.replication_migration_items.begin_create(*item_args(), enable_body()).result()


def _seeding_failed(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    memu.add_fault({"kind": "seedingFailure", "atPercent": 5})
    _seeding(memu, client)
    memu.advance(6 * 3600)


def _resync_required(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _replicating(memu, client)
    memu.add_fault({"kind": "resyncRequired"})


def _resyncing(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _resync_required(memu, client)
    client.replication_migration_items.begin_resync(*item_args(), RESYNC).result()


def _migrating(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _replicating(memu, client)
    client.replication_migration_items.begin_migrate(*item_args(), MIGRATE, polling=False)


def _migrated(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _replicating(memu, client)
    client.replication_migration_items.begin_migrate(*item_args(), MIGRATE).result()


def _migration_failed(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    memu.add_fault({"kind": "jobFailure", "scenario": "Migrate"})
    _migrating(memu, client)
    memu.advance(3600)


def _suspending(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _replicating(memu, client)
    client.replication_migration_items.begin_pause_replication(*item_args(), PAUSE, polling=False)


def _suspended(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _replicating(memu, client)
    client.replication_migration_items.begin_pause_replication(*item_args(), PAUSE).result()


def _resume_initiated(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _suspended(memu, client)
    client.replication_migration_items.begin_resume_replication(*item_args(), RESUME, polling=False)


def _resuming(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _suspended(memu, client)
    client.replication_migration_items.begin_resume_replication(*item_args(), RESUME).result()


def _disabling(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _replicating(memu, client)
    client.replication_migration_items.begin_delete(*item_args(), polling=False)


def _disable_failed(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    memu.add_fault({"kind": "jobFailure", "scenario": "DisableMigration"})
    _disabling(memu, client)
    memu.advance(3600)


REACH: dict[MigState, Callable[[EmulatorHandle, SiteRecoveryManagementClient], None]] = {
    MigState.ENABLING: _enabling,
    MigState.ENABLE_FAILED: _enable_failed,
    MigState.SEEDING: _seeding,
    MigState.SEEDING_FAILED: _seeding_failed,
    MigState.REPLICATING: _replicating,
    MigState.RESYNC_REQUIRED: _resync_required,
    MigState.RESYNCING: _resyncing,
    MigState.MIGRATING: _migrating,
    MigState.MIGRATED: _migrated,
    MigState.MIGRATION_FAILED: _migration_failed,
    MigState.SUSPENDING: _suspending,
    MigState.SUSPENDED: _suspended,
    MigState.RESUME_INITIATED: _resume_initiated,
    MigState.RESUMING: _resuming,
    MigState.DISABLING: _disabling,
    MigState.DISABLE_FAILED: _disable_failed,
}
JOB_STATES = {MigState.ENABLING, MigState.MIGRATING, MigState.SUSPENDING, MigState.RESUME_INITIATED, MigState.DISABLING}


@pytest.mark.parametrize("state", list(MigState), ids=lambda s: s.value)
def test_each_state_shows_its_row(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient, state: MigState) -> None:
    REACH[state](memu, mclient)
    props = mclient.replication_migration_items.get(*item_args()).as_dict()["properties"]
    shown = row(state)
    assert (props["migrationState"], props["migrationStateDescription"]) == (shown.migration_state, shown.description)
    expected = [] if state in JOB_STATES else list(shown.allowed)
    assert props.get("allowedOperations", []) == expected
    assert props["health"] == shown.health
    assert props["testMigrateState"] == "None"
    if state in JOB_STATES:
        assert props["currentJob"]["jobName"] != "None"
    else:
        assert props["currentJob"]["jobName"] == "None"


def test_test_migration_states(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    ops = mclient.replication_migration_items
    _replicating(memu, mclient)
    point = next(iter(mclient.migration_recovery_points.list_by_replication_migration_items(*item_args())))
    body = {
        "properties": {
            "providerSpecificDetails": {"instanceType": "VMwareCbt", "recoveryPointId": point.id, "networkId": TEST_NET}
        }
    }
    seen = []
    ops.begin_test_migrate(*item_args(), body, polling=False)
    seen.append(ops.get(*item_args()).as_dict()["properties"])
    memu.advance_until_idle()
    seen.append(ops.get(*item_args()).as_dict()["properties"])
    ops.begin_test_migrate_cleanup(*item_args(), {"properties": {}}, polling=False)
    seen.append(ops.get(*item_args()).as_dict()["properties"])
    memu.advance_until_idle()
    seen.append(ops.get(*item_args()).as_dict()["properties"])
    assert [(p["testMigrateState"], p["testMigrateStateDescription"]) for p in seen] == [
        TEST_STATES[TrialPhase.RUNNING],
        TEST_STATES[TrialPhase.SUCCEEDED],
        TEST_STATES[TrialPhase.CLEANUP_RUNNING],
        TEST_STATES[TrialPhase.NONE],
    ]
    assert [p["migrationState"] for p in seen] == ["Replicating"] * 4
    assert [p.get("allowedOperations", []) for p in seen] == [
        [],
        ["Migrate", "DisableMigration", "TestMigrateCleanup"],
        [],
        ["Migrate", "DisableMigration", "TestMigrate", "PauseReplication"],
    ]
