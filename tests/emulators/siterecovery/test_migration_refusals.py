"""What ASR refuses on migration items, refused the same way: the status, the ARM error code, the target; and
nothing changes (no item, no job) after a refusal."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle
from tests.emulators.siterecovery.migration_support import (
    LOG_SA,
    MIGRATE,
    RG,
    SITE_ID,
    SUB,
    TEST_NET,
    VAULT,
    enable_body,
    item_args,
    mclient,
    memu,
)

__all__ = ["mclient", "memu"]  # fixtures

PAUSE = {"properties": {"instanceType": "VMwareCbt"}}
RESUME = {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt"}}}
RESYNC = {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "skipCbtReset": "true"}}}
CLEANUP = {"properties": {"comments": "x"}}


def _code(exc: pytest.ExceptionInfo[HttpResponseError]) -> str:
    assert exc.value.error is not None
    return str(exc.value.error.code)


def _replicating(memu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    client.replication_migration_items.begin_create(*item_args(), enable_body()).result()
    memu.advance_until_idle()


def _test_body(client: SiteRecoveryManagementClient, point: str | None = None) -> dict[str, Any]:
    if point is None:
        point = next(iter(client.migration_recovery_points.list_by_replication_migration_items(*item_args()))).id
    return {
        "properties": {
            "providerSpecificDetails": {"instanceType": "VMwareCbt", "recoveryPointId": point, "networkId": TEST_NET}
        }
    }


def _details(body: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = body["properties"]["providerSpecificDetails"]
    return details


BAD_ENABLES: list[tuple[str, Any, int, str, str | None]] = [
    (
        "unknown machine",
        lambda b: _details(b).update(vmwareMachineId=f"{SITE_ID}/machines/nope"),
        400,
        "DiscoveredMachineNotFound",
        "properties.providerSpecificDetails.vmwareMachineId",
    ),
    (
        "machine of another site",
        lambda b: _details(b).update(
            vmwareMachineId=f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OffAzure/VMwareSites/other/machines/vmw-agentless01"
        ),
        400,
        "DiscoveredMachineNotFound",
        None,
    ),
    (
        "not a machine id",
        lambda b: _details(b).update(vmwareMachineId="vmw-agentless01"),
        400,
        "LinkedInvalidPropertyId",
        "properties.providerSpecificDetails.vmwareMachineId",
    ),
    (
        "unknown disk",
        lambda b: _details(b)["disksToInclude"][1].update(diskId="disk-x"),
        400,
        "InvalidDiskInput",
        "properties.providerSpecificDetails.disksToInclude[1].diskId",
    ),
    (
        "disk twice",
        lambda b: _details(b)["disksToInclude"].append(dict(_details(b)["disksToInclude"][1])),
        400,
        "InvalidDiskInput",
        "properties.providerSpecificDetails.disksToInclude[2].diskId",
    ),
    (
        "no OS disk",
        lambda b: _details(b).update(disksToInclude=_details(b)["disksToInclude"][1:]),
        400,
        "InvalidDiskInput",
        "properties.providerSpecificDetails.disksToInclude",
    ),
    (
        "OS flag on a data disk",
        lambda b: _details(b)["disksToInclude"][1].update(isOSDisk="true"),
        400,
        "InvalidDiskInput",
        "properties.providerSpecificDetails.disksToInclude[1].isOSDisk",
    ),
    (
        "isOSDisk not a boolean",
        lambda b: _details(b)["disksToInclude"][0].update(isOSDisk="yes"),
        400,
        "InvalidParameter",
        "properties.providerSpecificDetails.disksToInclude[0].isOSDisk",
    ),
    ("no disks", lambda b: _details(b).update(disksToInclude=[]), 400, "InvalidDiskInput", None),
    (
        "disk smaller than the source",
        lambda b: _details(b)["disksToInclude"][0].update(diskSizeInGB=10),
        400,
        "InvalidDiskInput",
        "properties.providerSpecificDetails.disksToInclude[0].diskSizeInGB",
    ),
    (
        "log storage account not an id",
        lambda b: _details(b)["disksToInclude"][0].update(logStorageAccountId="sa"),
        400,
        "LinkedInvalidPropertyId",
        "properties.providerSpecificDetails.disksToInclude[0].logStorageAccountId",
    ),
    (
        "target resource group malformed",
        lambda b: _details(b).update(targetResourceGroupId="/subscriptions/x"),
        400,
        "LinkedInvalidPropertyId",
        "properties.providerSpecificDetails.targetResourceGroupId",
    ),
    (
        "target network not a VNet",
        lambda b: _details(b).update(targetNetworkId=LOG_SA),
        400,
        "LinkedInvalidPropertyId",
        "properties.providerSpecificDetails.targetNetworkId",
    ),
    (
        "run-as account malformed",
        lambda b: _details(b).update(dataMoverRunAsAccountId="acct"),
        400,
        "LinkedInvalidPropertyId",
        "properties.providerSpecificDetails.dataMoverRunAsAccountId",
    ),
    (
        "unknown license type",
        lambda b: _details(b).update(licenseType="Byol"),
        400,
        "InvalidRequestContent",
        "properties.providerSpecificDetails.licenseType",
    ),
    ("bad zone", lambda b: _details(b).update(targetAvailabilityZone="4"), 400, "InvalidParameter", None),
    ("bad VM name", lambda b: _details(b).update(targetVmName="-bad-"), 400, "InvalidParameter", None),
    (
        "missing required",
        lambda b: _details(b).pop("snapshotRunAsAccountId"),
        400,
        "InvalidRequestContent",
        "properties.providerSpecificDetails.snapshotRunAsAccountId",
    ),
    ("missing policy", lambda b: b["properties"].pop("policyId"), 400, "InvalidRequestContent", "properties.policyId"),
    (
        "policy not mapped",
        lambda b: b["properties"].update(
            policyId=b["properties"]["policyId"].replace("vmwarecbt-policy", "rcm-policy")
        ),
        400,
        "PolicyNotAssociatedWithContainer",
        "properties.policyId",
    ),
    ("wrong provider", lambda b: _details(b).update(instanceType="InMageRcm"), 400, "InvalidInstanceType", None),
    ("body not JSON object", lambda b: b.clear() or b.update(properties=[1]), 400, "InvalidRequestContent", None),
]


@pytest.mark.parametrize(("case", "change", "status", "code", "target"), BAD_ENABLES, ids=[c[0] for c in BAD_ENABLES])
def test_bad_enables_are_refused_and_create_nothing(
    memu: EmulatorHandle, case: str, change: Any, status: int, code: str, target: str | None
) -> None:
    body = copy.deepcopy(enable_body())
    change(body)
    url = f"{memu.base_url}/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
    url += "/replicationFabrics/vmware-agentless/replicationProtectionContainers/vmware-agentless-container"
    response = requests.put(f"{url}/replicationMigrationItems/x?api-version=2025-08-01", json=body, timeout=10)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if target is not None:
        assert error.get("target") == target
    assert memu.store.vaults[next(iter(memu.store.vaults))].migration_items == {}
    assert memu.call_count("ReplicationMigrationItems_Create") == 1


def test_enabling_a_machine_twice_is_refused(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    ops = mclient.replication_migration_items
    ops.begin_create(*item_args(), enable_body()).result()
    with pytest.raises(ResourceExistsError) as same_name:
        ops.begin_create(*item_args(), enable_body())
    assert _code(same_name) == "ProtectionAlreadyEnabled"
    with pytest.raises(ResourceExistsError) as same_machine:
        ops.begin_create(*item_args("another-name"), enable_body())
    assert _code(same_machine) == "ProtectionAlreadyEnabled"
    assert "vmw-agentless01" in str(same_machine.value.error.message if same_machine.value.error else "")


def test_enable_on_a_container_of_another_provider_is_refused(mclient: SiteRecoveryManagementClient) -> None:
    with pytest.raises(HttpResponseError) as refused:
        mclient.replication_migration_items.begin_create(
            RG, VAULT, "vmware-appliance", "vmware-container", "x", enable_body()
        )
    assert _code(refused) == "InvalidProviderSpecificInput"


def test_migrate_before_seeding_completes_is_refused(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient
) -> None:
    ops = mclient.replication_migration_items
    ops.begin_create(*item_args(), enable_body()).result()
    for call, body in ((ops.begin_migrate, MIGRATE), (ops.begin_pause_replication, PAUSE)):
        with pytest.raises(HttpResponseError) as refused:
            call(*item_args(), body)
        assert refused.value.status_code == 400 and _code(refused) == "OperationNotAllowed"
        assert "Allowed operations: DisableMigration" in str(refused.value)
    with pytest.raises(HttpResponseError) as no_point:
        ops.begin_test_migrate(*item_args(), _test_body(mclient, point=f"{item_args()[4]}/migrationRecoveryPoints/x"))
    assert _code(no_point) == "OperationNotAllowed"


def test_operations_while_a_job_runs_are_refused_with_409(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient
) -> None:
    ops = mclient.replication_migration_items
    ops.begin_create(*item_args(), enable_body(), polling=False)  # the enable job runs
    with pytest.raises(ResourceExistsError) as busy:
        ops.begin_delete(*item_args())
    assert _code(busy) == "OperationInProgress"
    memu.advance_until_idle()
    ops.begin_migrate(*item_args(), MIGRATE, polling=False)  # the migration runs
    update = {
        "properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "targetVmSize": "Standard_D2s_v5"}}
    }
    for call, args in (
        (ops.begin_update, (update,)),
        (ops.begin_migrate, (MIGRATE,)),
        (ops.begin_test_migrate, (_test_body(mclient),)),
        (ops.begin_delete, ()),
    ):
        with pytest.raises(ResourceExistsError) as refused:
            call(*item_args(), *args)
        assert _code(refused) == "OperationInProgress"
    assert _details_of(mclient)["migrationState"] == "MigrationInProgress"
    # a forced removal (Az.Migrate's -ForceRemove true) is not refused: it cancels the migration
    assert ops.begin_delete(*item_args(), delete_option="true").result() is None
    assert list(ops.list(RG, VAULT)) == []


def _details_of(client: SiteRecoveryManagementClient) -> dict[str, Any]:
    item = client.replication_migration_items.get(*item_args())
    out: dict[str, Any] = item.as_dict()["properties"]
    return out


def test_test_migration_refusals(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    ops = mclient.replication_migration_items
    _replicating(memu, mclient)
    with pytest.raises(HttpResponseError) as no_test:
        ops.begin_test_migrate_cleanup(*item_args(), CLEANUP)
    assert _code(no_test) == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as bad_point:
        ops.begin_test_migrate(*item_args(), _test_body(mclient, point="nope"))
    assert _code(bad_point) == "InvalidRecoveryPointId"
    bad_net = _test_body(mclient)
    bad_net["properties"]["providerSpecificDetails"]["networkId"] = "vnet"
    with pytest.raises(HttpResponseError) as bad_network:
        ops.begin_test_migrate(*item_args(), bad_net)
    assert _code(bad_network) == "LinkedInvalidPropertyId"
    ops.begin_test_migrate(*item_args(), _test_body(mclient)).result()
    with pytest.raises(HttpResponseError) as live:
        ops.begin_test_migrate(*item_args(), _test_body(mclient))
    assert _code(live) == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as paused_with_test:
        ops.begin_pause_replication(*item_args(), PAUSE)
    assert _code(paused_with_test) == "OperationNotAllowed"


def test_state_refusals_of_pause_resume_resync_and_delete(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient
) -> None:
    ops = mclient.replication_migration_items
    _replicating(memu, mclient)
    with pytest.raises(HttpResponseError) as not_required:
        ops.begin_resync(*item_args(), RESYNC)
    assert _code(not_required) == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as not_paused:
        ops.begin_resume_replication(*item_args(), RESUME)
    assert _code(not_paused) == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as not_migrated:
        ops.begin_delete(*item_args(), delete_option="MigrationComplete")
    assert _code(not_migrated) == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as unknown_option:
        ops.begin_delete(*item_args(), delete_option="Purge")
    assert _code(unknown_option) == "InvalidParameter"
    wrong_kind = {"properties": {"instanceType": "InMageRcm"}}
    with pytest.raises(HttpResponseError) as wrong:
        ops.begin_pause_replication(*item_args(), wrong_kind)
    assert _code(wrong) == "InvalidProviderSpecificInput"
    ops.begin_pause_replication(*item_args(), PAUSE).result()
    with pytest.raises(HttpResponseError) as twice:
        ops.begin_pause_replication(*item_args(), PAUSE)
    assert _code(twice) == "OperationNotAllowed"
    delete_resources = {
        "properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "deleteMigrationResources": "true"}}
    }
    with pytest.raises(HttpResponseError) as not_migrated_resume:
        ops.begin_resume_replication(*item_args(), delete_resources)
    assert _code(not_migrated_resume) == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as migrate_paused:
        ops.begin_migrate(*item_args(), MIGRATE)
    assert _code(migrate_paused) == "OperationNotAllowed"


def test_input_refusals_of_the_operations(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    ops = mclient.replication_migration_items
    _replicating(memu, mclient)
    bad_shutdown = copy.deepcopy(MIGRATE)
    bad_shutdown["properties"]["providerSpecificDetails"]["performShutdown"] = "maybe"
    with pytest.raises(HttpResponseError) as shutdown:
        ops.begin_migrate(*item_args(), bad_shutdown)
    assert _code(shutdown) == "InvalidParameter"
    no_shutdown = {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt"}}}
    with pytest.raises(HttpResponseError) as missing:
        ops.begin_migrate(*item_args(), no_shutdown)
    assert _code(missing) == "InvalidRequestContent"
    bad_disk = {
        "properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "vmDisks": [{"diskId": "nope"}]}}
    }
    with pytest.raises(HttpResponseError) as disk:
        ops.begin_update(*item_args(), bad_disk)
    assert _code(disk) == "InvalidDiskInput"
    with pytest.raises(ResourceNotFoundError):
        ops.get(*item_args("missing"))
    with pytest.raises(ResourceNotFoundError):
        mclient.migration_recovery_points.get(*item_args(), "missing")
    with pytest.raises(HttpResponseError) as bad_token:
        list(ops.list(RG, VAULT, skip_token="!!"))
    assert _code(bad_token) == "InvalidSkipToken"
    with pytest.raises(HttpResponseError) as bad_take:
        list(ops.list(RG, VAULT, take_token="0"))
    assert _code(bad_take) == "InvalidParameter"
    with pytest.raises(HttpResponseError) as bad_filter:
        list(ops.list(RG, VAULT, filter="color eq 'red'"))
    assert _code(bad_filter) == "InvalidFilter"
    assert _details_of(mclient)["migrationState"] == "Replicating"


def test_update_after_migration_is_refused(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    ops = mclient.replication_migration_items
    _replicating(memu, mclient)
    ops.begin_migrate(*item_args(), MIGRATE).result()
    update = {
        "properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "targetVmSize": "Standard_D2s_v5"}}
    }
    with pytest.raises(HttpResponseError) as refused:
        ops.begin_update(*item_args(), update)
    assert _code(refused) == "OperationNotAllowed"
