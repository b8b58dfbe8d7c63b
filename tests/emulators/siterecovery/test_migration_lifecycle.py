"""The agentless VMware migration path end to end through the real SDK: enable, seeding, recovery points, test
migration and its cleanup, migration, completing it; pause and resume; resync; update; lists and paging."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_client
from tests.emulators.siterecovery.migration_support import (
    RG,
    TEST_NET,
    VAULT,
    enable_body,
    item_args,
    machine_id,
    mclient,
    memu,
    migration_topology,
)

__all__ = ["mclient", "memu"]  # fixtures


def _p(model: Any) -> dict[str, Any]:
    """The ``properties`` of an SDK result as JSON (rest names), for typed assertions."""
    out: dict[str, Any] = model.as_dict()["properties"]
    return out


def _get(client: SiteRecoveryManagementClient, name: str = "vmw-agentless01") -> dict[str, Any]:
    return _p(client.replication_migration_items.get(*item_args(name)))


def _points(client: SiteRecoveryManagementClient, name: str = "vmw-agentless01") -> list[Any]:
    return list(client.migration_recovery_points.list_by_replication_migration_items(*item_args(name)))


def _scenarios(client: SiteRecoveryManagementClient) -> list[str]:
    return [j.as_dict()["properties"]["scenarioName"] for j in client.replication_jobs.list(RG, VAULT)]


def test_full_agentless_migration(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    ops = mclient.replication_migration_items
    created = _p(ops.begin_create(*item_args(), enable_body()).result())
    assert created["migrationState"] == "InitialSeedingInProgress"
    assert created["allowedOperations"] == ["DisableMigration"]
    cbt = created["providerSpecificDetails"]
    assert cbt["instanceType"] == "VMwareCbt" and cbt["vmwareMachineId"] == machine_id("vmw-agentless01")
    assert (cbt["targetGeneration"], cbt["licenseType"]) == ("1", "WindowsServer")
    assert [d["diskId"] for d in cbt["protectedDisks"]] == [
        "6000C291-1a2b-4c3d-8e9f-000000000101",
        "6000C291-1a2b-4c3d-8e9f-000000000102",
    ]
    assert _scenarios(mclient).count("EnableMigration") == 1
    assert _points(mclient) == []

    # seeding advances with the clock: 640 GB at 200 Mbps is about 7.6 h (+ overhead)
    memu.advance(3 * 3600)
    props = _get(mclient)
    seeding = props["providerSpecificDetails"]["initialSeedingProgressPercentage"]
    assert props["migrationState"] == "InitialSeedingInProgress" and 20 < seeding < 60
    assert (
        props["providerSpecificDetails"]["protectedDisks"][0]["gatewayOperationDetails"]["progressPercentage"]
        == seeding
    )
    with pytest.raises(HttpResponseError) as early:
        ops.begin_migrate(*item_args(), _migrate()).result()
    assert early.value.error is not None and early.value.error.code == "OperationNotAllowed"

    memu.advance_until_idle()
    props = _get(mclient)
    assert (props["migrationState"], props["migrationStateDescription"]) == ("Replicating", "Ready to migrate")
    assert props["allowedOperations"] == ["Migrate", "DisableMigration", "TestMigrate", "PauseReplication"]
    assert props["providerSpecificDetails"]["initialSeedingProgressPercentage"] == 100
    first = _points(mclient)
    assert len(first) == 2  # the seeding's point, crash- and application-consistent
    assert props["providerSpecificDetails"]["lastRecoveryPointId"] == first[0].id
    memu.advance(3 * 3600)
    points = _points(mclient)
    assert len(points) > len(first)
    latest = points[0]
    assert _get(mclient)["providerSpecificDetails"]["lastRecoveryPointId"] == latest.id

    tested = _p(ops.begin_test_migrate(*item_args(), _test(str(latest.id))).result())
    assert tested["testMigrateState"] == "TestMigrationSucceeded"
    assert tested["allowedOperations"] == ["Migrate", "DisableMigration", "TestMigrateCleanup"]
    assert tested["lastTestMigrationStatus"] == "Succeeded"
    assert tested["providerSpecificDetails"]["testNetworkId"] == TEST_NET
    cleaned = _p(ops.begin_test_migrate_cleanup(*item_args(), {"properties": {"comments": "tested"}}).result())
    assert cleaned["testMigrateState"] == "None"

    props = _p(ops.begin_migrate(*item_args(), _migrate()).result())
    assert (props["migrationState"], props["lastMigrationStatus"]) == ("MigrationSucceeded", "Succeeded")
    assert props["allowedOperations"] == ["DisableMigration", "ResumeReplication"]
    cbt = props["providerSpecificDetails"]
    assert cbt["migrationProgressPercentage"] == 100 and cbt["migrationRecoveryPointId"]
    assert all(d["targetManagedDiskId"] for d in cbt["protectedDisks"])
    assert [j["jobName"] for j in props["criticalJobHistory"]][:3] == ["Migrate", "TestMigrateCleanup", "TestMigrate"]
    # no more delta sync after the migration: the points stay as they were
    count = len(_points(mclient))
    memu.advance(5 * 3600)
    assert len(_points(mclient)) == count

    assert ops.begin_delete(*item_args(), delete_option="MigrationComplete").result() is None
    assert list(ops.list(RG, VAULT)) == []
    assert {"EnableMigration", "TestMigrate", "TestMigrateCleanup", "Migrate", "DisableMigration"} <= set(
        _scenarios(mclient)
    )


def _migrate(shutdown: str = "true") -> dict[str, Any]:
    return {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "performShutdown": shutdown}}}


def _test(point_id: str) -> dict[str, Any]:
    return {
        "properties": {
            "providerSpecificDetails": {"instanceType": "VMwareCbt", "recoveryPointId": point_id, "networkId": TEST_NET}
        }
    }


def _replicating(memu: EmulatorHandle, client: SiteRecoveryManagementClient, name: str = "vmw-agentless01") -> None:
    client.replication_migration_items.begin_create(*item_args(name), enable_body(name)).result()
    memu.advance_until_idle()


def test_pause_stops_delta_sync_and_resume_brings_it_back(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient
) -> None:
    ops = mclient.replication_migration_items
    _replicating(memu, mclient)
    paused = _p(ops.begin_pause_replication(*item_args(), {"properties": {"instanceType": "VMwareCbt"}}).result())
    assert (paused["migrationState"], paused["migrationStateDescription"]) == ("ProtectionSuspended", "Paused")
    assert paused["allowedOperations"] == ["DisableMigration", "ResumeReplication"]
    count = len(_points(mclient))
    memu.advance(4 * 3600)
    assert len(_points(mclient)) == count
    resume = {
        "properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "deleteMigrationResources": "false"}}
    }
    resumed = _p(ops.begin_resume_replication(*item_args(), resume).result())
    assert resumed["migrationState"] == "ResumeInProgress"
    memu.advance_until_idle()
    assert _get(mclient)["migrationState"] == "Replicating"
    memu.advance(2 * 3600)
    assert len(_points(mclient)) > count


def test_resync_after_a_source_change(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    ops = mclient.replication_migration_items
    _replicating(memu, mclient)
    memu.add_fault({"kind": "resyncRequired", "machine": "vmw-agentless01"})
    props = _get(mclient)
    assert props["providerSpecificDetails"]["resyncRequired"] == "true"
    assert props["providerSpecificDetails"]["resyncState"] == "PreparedForResynchronization"
    assert props["health"] == "Warning" and props["healthErrors"][0]["errorCode"] == "ResyncRequired"
    assert props["allowedOperations"] == ["DisableMigration", "StartResync"]
    body = {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "skipCbtReset": "false"}}}
    cbt = _p(ops.begin_resync(*item_args(), body).result())["providerSpecificDetails"]
    assert (cbt["resyncRequired"], cbt["resyncState"]) == ("false", "StartedResynchronization")
    memu.advance_until_idle()
    props = _get(mclient)
    assert props["providerSpecificDetails"]["resyncProgressPercentage"] == 100
    assert props["migrationState"] == "Replicating" and "Migrate" in props["allowedOperations"]


def test_update_changes_the_target_settings(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    ops = mclient.replication_migration_items
    _replicating(memu, mclient)
    update = {
        "properties": {
            "providerSpecificDetails": {
                "instanceType": "VMwareCbt",
                "targetVmName": "vmw-agentless01-azure",
                "targetVmSize": "Standard_D4s_v5",
                "targetAvailabilityZone": "2",
                "sqlServerLicenseType": "AHUB",
                "vmDisks": [{"diskId": "6000C291-1a2b-4c3d-8e9f-000000000102", "targetDiskName": "data-disk"}],
            }
        }
    }
    cbt = _p(ops.begin_update(*item_args(), update).result())["providerSpecificDetails"]
    assert (cbt["targetVmName"], cbt["targetVmSize"], cbt["targetAvailabilityZone"]) == (
        "vmw-agentless01-azure",
        "Standard_D4s_v5",
        "2",
    )
    assert cbt["sqlServerLicenseType"] == "AHUB"
    assert cbt["protectedDisks"][1]["targetDiskName"] == "data-disk"
    assert "Update" in _scenarios(mclient)


def test_lists_page_filter_and_follow_next_links() -> None:
    topology = migration_topology()
    topology["timing"]["pageSize"] = 1
    with start_emulator(topology, advance_on_poll=True) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
        ops = client.replication_migration_items
        for name in ("vmw-agentless01", "vmw-agentless02"):
            ops.begin_create(*item_args(name), enable_body(name, licenseType="NoLicenseType")).result()
        emu.calls.reset()
        assert sorted(i.name or "" for i in ops.list(RG, VAULT)) == ["vmw-agentless01", "vmw-agentless02"]
        assert emu.call_count("ReplicationMigrationItems_List") == 2  # one item a page, nextLink followed
        in_container = list(ops.list_by_replication_protection_containers(*item_args()[:4], take_token="1"))
        assert len(in_container) == 2
        emu.advance(3600)  # the smaller machine (64 GB at 500 Mbps) is seeded, the other is not
        seeded = list(ops.list(RG, VAULT, filter="migrationState eq 'Replicating'"))
        assert [i.name for i in seeded] == ["vmw-agentless02"]
        assert [
            i.name for i in ops.list(RG, VAULT, filter="machineName eq 'vmw-agentless01' and health eq 'Normal'")
        ] == ["vmw-agentless01"]
        second = next(
            iter(client.migration_recovery_points.list_by_replication_migration_items(*item_args("vmw-agentless02")))
        )
        assert str(second.type).endswith("/migrationRecoveryPoints")
