"""Every request body a scenario builds is checked against the SDK: its own models deserialize it,
the discriminator resolves to the provider's subclass, and the SDK's model table (required flags,
field names, enum values) finds nothing wrong."""

import pytest
from azure.mgmt.recoveryservicessiterecovery import models as sdk

from migration.plan import validate_plan
from migration.scenarios import (
    A2AScenario,
    DisableReason,
    HyperVReplicaAzureScenario,
    InMageRcmScenario,
    scenario_for,
)
from migration.source_kinds import SourceKind

from .asr_specs import sdk_model_problems
from .plan_data import SUB, a2a_machine, hyperv_machine, inmage_machine, plan

DISCOVERED = (
    f"/subscriptions/{SUB}/resourceGroups/rg-migrate-project/providers/Microsoft.OffAzure/VMwareSites/"
    "vmware-site/machines/web-01-uuid"
)
DR = {
    "recoveryFabric": "azure-northeurope",
    "recoveryProtectionContainer": "azure-northeurope-container",
    "containerMapping": "westeurope-to-northeurope",
    "policy": "a2a-policy",
    "recoveryResourceGroupId": f"/subscriptions/{SUB}/resourceGroups/rg-dr-northeurope",
    "recoveryNetworkId": (
        f"/subscriptions/{SUB}/resourceGroups/rg-dr-northeurope/providers/Microsoft.Network/virtualNetworks/vnet-dr"
    ),
    "recoverySubnet": "snet-app",
    "stagingStorageAccountId": (
        f"/subscriptions/{SUB}/resourceGroups/rg-target-westeurope/providers/Microsoft.Storage/storageAccounts/stcachewe"
    ),
}
MANAGED_DISK = f"/subscriptions/{SUB}/resourceGroups/rg-apps-eastus/providers/Microsoft.Compute/disks/az-api-01-os"


def machine_of(data, **changes):
    for path, value in changes.items():
        section, key = path.split("__")
        data[section][key] = value
    wave = validate_plan(plan([data], options={"drAfterMigration": DR} if data["sourceKind"] == "azure" else {}))
    return next(wave.machines())[1], wave


MACHINES = {
    "vmware": lambda: machine_of(inmage_machine("web-01"), asr__discoveredMachineId=DISCOVERED)[0],
    "physical-with-disks": lambda: machine_of(
        inmage_machine("db-01", "physical"), replication__disksToInclude=["disk-0", "disk-1"]
    )[0],
    "aws": lambda: machine_of(inmage_machine("aws-win-01", "aws"), target__licenseType="WindowsServer")[0],
    "hyperv": lambda: machine_of(hyperv_machine(), target__vmSize="Standard_D2s_v5")[0],
    "azure": lambda: machine_of(
        a2a_machine(), replication__disksToInclude=[MANAGED_DISK], target__availabilityZone="2"
    )[0],
}
EXPECTED_CLASSES = {
    "InMageRcm": (
        sdk.InMageRcmEnableProtectionInput,
        sdk.InMageRcmTestFailoverInput,
        sdk.InMageRcmUnplannedFailoverInput,
    ),
    "HyperVReplicaAzure": (
        sdk.HyperVReplicaAzureEnableProtectionInput,
        sdk.HyperVReplicaAzureTestFailoverInput,
        sdk.HyperVReplicaAzureUnplannedFailoverInput,
    ),
    "A2A": (sdk.A2AEnableProtectionInput, sdk.A2ATestFailoverInput, sdk.A2AUnplannedFailoverInput),
}


def build(kind):
    machine = MACHINES[kind]()
    scenario = scenario_for(machine)
    # The adapter resolves the discovered machine when the plan does not name it (the aws machine here).
    lookup = DISCOVERED if scenario.provider == "InMageRcm" and machine.asr.discovered_machine_id is None else None
    enable = scenario.enable_protection(machine, discovered_machine_id=lookup)
    return machine, scenario, enable


@pytest.mark.parametrize("kind", sorted(MACHINES))
def test_enable_protection_body_matches_the_sdk(kind):
    machine, scenario, body = build(kind)
    assert sdk_model_problems(body, "EnableProtectionInput") == []
    properties = sdk.EnableProtectionInput(body).properties
    assert properties is not None
    assert isinstance(properties.provider_specific_details, EXPECTED_CLASSES[scenario.provider.value][0])
    assert properties.policy_id == machine.policy_id


@pytest.mark.parametrize("kind", sorted(MACHINES))
def test_test_failover_bodies_match_the_sdk(kind):
    machine, scenario, _ = build(kind)
    body = scenario.test_failover(machine)
    assert sdk_model_problems(body, "TestFailoverInput") == []
    model = sdk.TestFailoverInput(body)
    assert isinstance(model.properties.provider_specific_details, EXPECTED_CLASSES[scenario.provider.value][1])
    assert model.properties.network_id == machine.target.test_network_id
    assert model.properties.failover_direction == "PrimaryToRecovery"

    cleanup = scenario.test_failover_cleanup(machine)
    assert sdk_model_problems(cleanup, "TestFailoverCleanupInput") == []
    assert sdk.TestFailoverCleanupInput(cleanup).properties.comments


@pytest.mark.parametrize("kind", sorted(MACHINES))
@pytest.mark.parametrize("shutdown", [True, False])
def test_unplanned_failover_body_matches_the_sdk(kind, shutdown):
    machine, scenario, _ = build(kind)
    machine = machine.model_copy(update={"options": machine.options.model_copy(update={"perform_shutdown": shutdown})})
    body = scenario.unplanned_failover(machine)
    assert sdk_model_problems(body, "UnplannedFailoverInput") == []
    model = sdk.UnplannedFailoverInput(body)
    details = model.properties.provider_specific_details
    assert isinstance(details, EXPECTED_CLASSES[scenario.provider.value][2])
    assert model.properties.source_site_operations == ("Required" if shutdown else "NotRequired")
    if isinstance(details, sdk.InMageRcmUnplannedFailoverInput):
        # A string, not a boolean: the SDK model types performShutdown as str.
        assert body["properties"]["providerSpecificDetails"]["performShutdown"] == ("true" if shutdown else "false")
    assert scenario.failover_commit(machine) is None


@pytest.mark.parametrize("kind", sorted(MACHINES))
@pytest.mark.parametrize("reason", list(DisableReason))
def test_disable_protection_body_matches_the_sdk(kind, reason):
    machine, scenario, _ = build(kind)
    body = scenario.disable_protection(machine, reason=reason)
    assert sdk_model_problems(body, "DisableProtectionInput") == []
    assert sdk.DisableProtectionInput(body).properties.disable_protection_reason == reason.value


def test_recovery_point_is_passed_through():
    machine, scenario, _ = build("vmware")
    point = machine.vault.recovery_point_id("vmware-site", "vmware-site-container", "web-01", "rp-1")
    body = scenario.unplanned_failover(machine, recovery_point_id=point)
    assert body["properties"]["providerSpecificDetails"]["recoveryPointId"] == point
    assert "recoveryPointId" not in scenario.test_failover(machine)["properties"]["providerSpecificDetails"]


def test_inmage_rcm_enable_uses_plan_ids_and_disk_defaults():
    machine, _, body = build("vmware")
    details = body["properties"]["providerSpecificDetails"]
    assert details["fabricDiscoveryMachineId"] == DISCOVERED
    assert details["processServerId"] == machine.replication.process_server_id
    assert details["disksDefault"] == {
        "logStorageAccountId": machine.replication.log_storage_account_id,
        "diskType": "Premium_LRS",
    }
    assert details["targetVmName"] == "web-01"
    assert body["properties"]["protectableItemId"].endswith("/replicationProtectableItems/web-01")

    disks = build("physical-with-disks")[2]["properties"]["providerSpecificDetails"]
    assert [d["diskId"] for d in disks["disksToInclude"]] == ["disk-0", "disk-1"]
    assert "disksDefault" not in disks


def test_inmage_rcm_without_protectable_item_names_only_the_discovered_machine():
    data = inmage_machine("web-01")
    del data["asr"]["protectableItem"]
    data["asr"]["discoveredMachineId"] = DISCOVERED
    machine = machine_of(data)[0]
    body = InMageRcmScenario().enable_protection(machine)
    assert "protectableItemId" not in body["properties"]
    assert sdk_model_problems(body, "EnableProtectionInput") == []


def test_inmage_rcm_needs_the_discovered_machine():
    machine, scenario, _ = build("aws")
    with pytest.raises(ValueError, match="discoveredMachineId"):
        scenario.enable_protection(machine)
    body = scenario.enable_protection(machine, discovered_machine_id=DISCOVERED)
    assert body["properties"]["providerSpecificDetails"]["fabricDiscoveryMachineId"] == DISCOVERED


def test_test_failover_refuses_a_machine_without_test_network():
    data = inmage_machine("web-01") | {"options": {"skipTestFailover": True}}
    del data["target"]["testNetworkId"]
    machine = next(validate_plan(plan([data])).machines())[1]
    with pytest.raises(ValueError, match="testNetworkId"):
        InMageRcmScenario().test_failover(machine)


def test_a2a_enable_points_at_the_recovery_container_and_disks():
    machine, _, body = build("azure")
    details = body["properties"]["providerSpecificDetails"]
    assert details["fabricObjectId"] == machine.asr.source_vm_id
    assert details["recoveryContainerId"].endswith(
        "/replicationFabrics/azure-westeurope/replicationProtectionContainers/azure-westeurope-container"
    )
    assert details["vmManagedDisks"] == [
        {
            "diskId": MANAGED_DISK,
            "primaryStagingAzureStorageAccountId": machine.replication.staging_storage_account_id,
            "recoveryResourceGroupId": machine.target.resource_group_id,
        }
    ]
    assert body["properties"]["policyId"].endswith("/replicationPolicies/a2a-policy")


def test_a2a_dr_after_migration_is_new_protection_toward_the_secondary_region():
    machine, wave = machine_of(a2a_machine())
    scenario = A2AScenario()
    dr = wave.options.dr_after_migration
    new_disk = MANAGED_DISK.replace("rg-apps-eastus", "rg-target-westeurope")
    body = scenario.dr_enable_protection(machine, dr, disk_ids=[new_disk])
    assert sdk_model_problems(body, "EnableProtectionInput") == []
    properties = sdk.EnableProtectionInput(body).properties
    assert properties is not None
    details = properties.provider_specific_details
    assert isinstance(details, sdk.A2AEnableProtectionInput)
    assert details.fabric_object_id == (
        f"/subscriptions/{SUB}/resourceGroups/rg-target-westeurope/providers/Microsoft.Compute/virtualMachines/az-api-01"
    )
    assert str(details.recovery_container_id).endswith(
        "/azure-northeurope/replicationProtectionContainers/azure-northeurope-container"
    )
    assert details.vm_managed_disks is not None
    assert details.vm_managed_disks[0].primary_staging_azure_storage_account_id == DR["stagingStorageAccountId"]
    assert str(properties.policy_id).endswith("/replicationPolicies/a2a-policy")
    item = scenario.dr_protected_item(machine)
    assert (item.fabric, item.container, item.name) == (
        "azure-westeurope",
        "azure-westeurope-container",
        "az-api-01-dr",
    )
    assert scenario.protected_item(machine).fabric == "azure-eastus"


def test_scenario_is_chosen_by_source_kind():
    assert isinstance(scenario_for(SourceKind.VMWARE), InMageRcmScenario)
    assert isinstance(scenario_for("physical"), InMageRcmScenario)
    assert isinstance(scenario_for("aws"), InMageRcmScenario)
    assert isinstance(scenario_for("hyperv"), HyperVReplicaAzureScenario)
    assert isinstance(scenario_for("azure"), A2AScenario)
    with pytest.raises(ValueError):
        scenario_for("xen")


def test_the_checker_itself_catches_mistakes():
    # Guards the guard: a typo, a missing required field and a wrong discriminator are all reported.
    body = {
        "properties": {
            "policyID": "x",
            "providerSpecificDetails": {"instanceType": "InMageRcm", "processServerId": "p"},
        }
    }
    problems = sdk_model_problems(body, "EnableProtectionInput")
    assert "$.properties.policyID: not a field of EnableProtectionInputProperties" in problems
    assert any("fabricDiscoveryMachineId: required" in p for p in problems)
    assert sdk_model_problems(
        {"properties": {"providerSpecificDetails": {"instanceType": "Nope"}}}, "TestFailoverInput"
    )
    bad_enum = {"properties": {"disableProtectionReason": "Done"}}
    assert sdk_model_problems(bad_enum, "DisableProtectionInput")
