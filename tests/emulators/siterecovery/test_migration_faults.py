"""Every fault kind on a migration item: failed and stalled jobs at each scenario, stalled or slow seeding, a failed
seeding, a resync required after a source change, throttling and ARM's request limits on the new routes."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.arm_limits import ArmLimits
from emulators.siterecovery.client import emulator_client
from tests.emulators.siterecovery.migration_support import (
    MIGRATE,
    RG,
    TEST_NET,
    VAULT,
    enable_body,
    item_args,
    mclient,
    memu,
    migration_topology,
)

__all__ = ["mclient", "memu"]  # fixtures


def _props(client: SiteRecoveryManagementClient) -> dict[str, object]:
    out: dict[str, object] = client.replication_migration_items.get(*item_args()).as_dict()["properties"]
    return out


def _state(client: SiteRecoveryManagementClient) -> object:
    return _props(client)["migrationState"]


def _replicating(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    client.replication_migration_items.begin_create(*item_args(), enable_body()).result()
    memu.advance_until_idle()


def _test_body(client: SiteRecoveryManagementClient) -> dict[str, object]:
    point = next(iter(client.migration_recovery_points.list_by_replication_migration_items(*item_args())))
    return {
        "properties": {
            "providerSpecificDetails": {"instanceType": "VMwareCbt", "recoveryPointId": point.id, "networkId": TEST_NET}
        }
    }


def test_failed_enable(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    memu.add_fault(
        {"kind": "jobFailure", "scenario": "EnableMigration", "machine": "vmw-agentless01", "errorCode": "1004"}
    )
    with pytest.raises(HttpResponseError) as failed:
        mclient.replication_migration_items.begin_create(*item_args(), enable_body()).result()
    assert failed.value.error is not None and failed.value.error.code == "1004"
    props = _props(mclient)
    assert props["migrationState"] == "EnableMigrationFailed" and props["health"] == "Critical"
    assert props["allowedOperations"] == ["DisableMigration"]
    assert props["healthErrors"][0]["errorCode"] == "1004"  # type: ignore[index]
    mclient.replication_migration_items.begin_delete(*item_args()).result()
    assert list(mclient.replication_migration_items.list(RG, VAULT)) == []


@pytest.mark.parametrize("scenario", ["TestMigrate", "Migrate"])
def test_failed_test_migration_and_migration(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient, scenario: str
) -> None:
    ops = mclient.replication_migration_items
    _replicating(memu, mclient)
    memu.add_fault({"kind": "jobFailure", "scenario": scenario, "task": 1, "errorCode": "78901", "message": "no quota"})
    call = ops.begin_migrate if scenario == "Migrate" else ops.begin_test_migrate
    body = MIGRATE if scenario == "Migrate" else _test_body(mclient)
    with pytest.raises(HttpResponseError) as failed:
        call(*item_args(), body).result()
    assert failed.value.error is not None and failed.value.error.code == "78901"
    props = _props(mclient)
    if scenario == "Migrate":
        assert props["migrationState"] == "MigrationFailed" and props["lastMigrationStatus"] == "Failed"
        assert props["allowedOperations"] == ["Migrate", "DisableMigration", "TestMigrate"]
        ops.begin_migrate(*item_args(), MIGRATE).result()  # retried: the fault is used up
        assert _state(mclient) == "MigrationSucceeded"
    else:
        assert props["testMigrateState"] == "TestMigrationFailed" and props["lastTestMigrationStatus"] == "Failed"
        assert "TestMigrateCleanup" in props["allowedOperations"]  # type: ignore[operator]
    history = props["criticalJobHistory"]
    assert history[0]["jobName"] == scenario and history[0]["jobStatus"] == "Failed"  # type: ignore[index]


def test_stalled_migration_job_holds_until_the_fault_goes(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient
) -> None:
    _replicating(memu, mclient)
    fault = memu.add_fault({"kind": "jobStall", "scenario": "Migrate", "task": 2})
    mclient.replication_migration_items.begin_migrate(*item_args(), MIGRATE, polling=False)
    memu.advance(48 * 3600)
    assert _state(mclient) == "MigrationInProgress"
    assert _props(mclient)["allowedOperations"] == []
    memu.remove_fault(fault)
    memu.advance_until_idle()
    assert _state(mclient) == "MigrationSucceeded"


def test_stalled_and_slow_seeding(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    fault = memu.add_fault({"kind": "replication", "machine": "vmw-agentless01", "mode": "stall", "atPercent": 40})
    mclient.replication_migration_items.begin_create(*item_args(), enable_body()).result()
    memu.advance(30 * 24 * 3600)
    props = _props(mclient)
    assert props["migrationState"] == "InitialSeedingInProgress" and props["health"] == "Critical"
    assert props["providerSpecificDetails"]["initialSeedingProgressPercentage"] == 40  # type: ignore[index]
    memu.remove_fault(fault)
    memu.add_fault({"kind": "replication", "machine": "vmw-agentless01", "mode": "slow", "factor": 0.5, "atPercent": 0})
    assert _props(mclient)["health"] == "Warning"
    memu.advance_until_idle()
    assert _state(mclient) == "Replicating"


def test_failed_seeding_and_resync_restarting_it(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    memu.add_fault({"kind": "seedingFailure", "machine": "vmw-agentless01", "atPercent": 30, "errorCode": "SeedFail"})
    mclient.replication_migration_items.begin_create(*item_args(), enable_body()).result()
    memu.advance(24 * 3600)
    props = _props(mclient)
    assert props["migrationState"] == "InitialSeedingFailed" and props["health"] == "Critical"
    assert props["allowedOperations"] == ["DisableMigration", "StartResync"]
    assert props["healthErrors"][0]["errorCode"] == "SeedFail"  # type: ignore[index]
    memu.clear_faults()
    assert _state(mclient) == "InitialSeedingFailed"  # a failure that happened stays
    resync = {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "skipCbtReset": "false"}}}
    mclient.replication_migration_items.begin_resync(*item_args(), resync).result()
    assert _state(mclient) == "InitialSeedingInProgress"
    memu.advance_until_idle()
    assert _state(mclient) == "Replicating"


def test_resync_required_goes_when_the_source_change_is_undone(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient
) -> None:
    _replicating(memu, mclient)
    fault = memu.add_fault({"kind": "resyncRequired"})
    assert _props(mclient)["providerSpecificDetails"]["resyncRequired"] == "true"  # type: ignore[index]
    with pytest.raises(HttpResponseError) as refused:
        mclient.replication_migration_items.begin_migrate(*item_args(), MIGRATE)
    assert refused.value.error is not None and refused.value.error.code == "OperationNotAllowed"
    memu.remove_fault(fault)
    assert _props(mclient)["providerSpecificDetails"]["resyncRequired"] == "false"  # type: ignore[index]


def test_throttling_and_transient_faults_on_migration_operations(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient
) -> None:
    memu.add_fault({"kind": "throttle", "operation": "ReplicationMigrationItems_*", "count": 1, "retryAfterSeconds": 7})
    with pytest.raises(HttpResponseError) as throttled:
        mclient.replication_migration_items.get(*item_args())
    assert throttled.value.status_code == 429
    response: Any = throttled.value.response
    assert response.headers["Retry-After"] == "7"
    memu.add_fault({"kind": "transient", "operation": "MigrationRecoveryPoints_*", "status": 503})
    with pytest.raises(HttpResponseError) as unavailable:
        list(mclient.migration_recovery_points.list_by_replication_migration_items(*item_args()))
    assert unavailable.value.status_code == 503


def test_arm_request_limits_count_the_migration_routes() -> None:
    limits = ArmLimits.model_validate({"writes": {"bucket": 1, "refillPerSecond": 0.001}, "clock": "wall"})
    with start_emulator(migration_topology(), arm_limits=limits) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
        client.replication_migration_items.begin_create(*item_args(), enable_body(), polling=False)
        with pytest.raises(HttpResponseError) as throttled:
            client.replication_migration_items.begin_create(
                *item_args("vmw-agentless02"), enable_body("vmw-agentless02")
            )
        assert throttled.value.status_code == 429
        assert throttled.value.error is not None and throttled.value.error.code == "SubscriptionRequestsThrottled"
        stats = emu.arm_limit_stats()["subscriptions"][emu.subscription_id.lower()]["writes"]
        assert stats["throttled"] == 1


def test_faults_declared_in_the_topology_bind_to_new_items() -> None:
    topology = migration_topology([{"kind": "seedingFailure", "atPercent": 10}])
    with start_emulator(topology, advance_on_poll=True) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
        client.replication_migration_items.begin_create(*item_args(), enable_body()).result()
        emu.advance(6 * 3600)
        assert _state(client) == "InitialSeedingFailed"
