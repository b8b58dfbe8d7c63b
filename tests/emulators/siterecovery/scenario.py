"""Inputs for the three providers against examples/topology.yaml, shared by the tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulators.siterecovery.topology import DEFAULT_PROCESS_SERVER_ID

SUB = "00000000-1111-2222-3333-444444444444"
RG = "rg-migration"
VAULT = "vault-migration"
VAULT_ID = f"/Subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
VNET_NEU = f"/subscriptions/{SUB}/resourceGroups/rg-net-neu/providers/Microsoft.Network/virtualNetworks/vnet-apps-neu"
VNET_AZ = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-landing"


@dataclass(frozen=True)
class Machine:
    provider: str
    fabric: str
    container: str
    item: str
    friendly: str
    enable: dict[str, Any]
    progress_path: tuple[str, ...]

    def provider_input(self, **extra: Any) -> dict[str, Any]:
        return {"instanceType": self.provider, **extra}


def container_id(fabric: str, container: str) -> str:
    return f"{VAULT_ID}/replicationFabrics/{fabric}/replicationProtectionContainers/{container}"


def _a2a(vm: str) -> Machine:
    vm_id = f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/{vm}"
    return Machine(
        "A2A",
        "asr-a2a-westeurope",
        "asr-a2a-westeurope-container",
        vm,
        vm,
        {
            "properties": {
                "policyId": f"{VAULT_ID}/replicationPolicies/a2a-policy",
                "providerSpecificDetails": {
                    "instanceType": "A2A",
                    "fabricObjectId": vm_id,
                    "recoveryContainerId": container_id("asr-a2a-northeurope", "asr-a2a-northeurope-container"),
                    "recoveryResourceGroupId": f"/subscriptions/{SUB}/resourceGroups/rg-apps-neu",
                    "recoveryAzureNetworkId": VNET_NEU,
                },
            }
        },
        ("monitoringPercentageCompletion",),
    )


def _site(friendly: str) -> str:
    return "VMwareSites/vmware-site" if friendly == "web01" else "ServerSites/physical-site"


def _rcm(name: str, friendly: str) -> Machine:
    return Machine(
        "InMageRcm",
        "vmware-appliance",
        "vmware-container",
        f"rpi-{friendly}",
        friendly,
        {
            "properties": {
                "policyId": f"{VAULT_ID}/replicationPolicies/rcm-policy",
                "providerSpecificDetails": {
                    "instanceType": "InMageRcm",
                    "fabricDiscoveryMachineId": f"/subscriptions/{SUB}/resourceGroups/rg-migration/providers/"
                    f"Microsoft.OffAzure/{_site(friendly)}/machines/{friendly}",
                    "targetResourceGroupId": f"/subscriptions/{SUB}/resourceGroups/rg-landing",
                    "processServerId": DEFAULT_PROCESS_SERVER_ID,  # the example topology declares none
                    "disksDefault": {
                        "logStorageAccountId": f"/subscriptions/{SUB}/resourceGroups/rg-migration/providers/"
                        "Microsoft.Storage/storageAccounts/asrcache",
                        "diskType": "Standard_LRS",
                    },
                    "targetNetworkId": VNET_AZ,
                    "targetVmName": friendly,
                },
            }
        },
        ("initialReplicationProgressPercentage",),
    )


def _hyperv(name: str, friendly: str) -> Machine:
    cid = container_id("hyperv-site", "hyperv-cloud")
    return Machine(
        "HyperVReplicaAzure",
        "hyperv-site",
        "hyperv-cloud",
        name,
        friendly,
        {
            "properties": {
                "policyId": f"{VAULT_ID}/replicationPolicies/hyperv-policy",
                "protectableItemId": f"{cid}/replicationProtectableItems/{name}",
                "providerSpecificDetails": {
                    "instanceType": "HyperVReplicaAzure",
                    "targetAzureV2ResourceGroupId": f"/subscriptions/{SUB}/resourceGroups/rg-landing",
                    "targetAzureNetworkId": VNET_AZ,
                },
            }
        },
        ("initialReplicationDetails", "initialReplicationProgressPercentage"),
    )


A2A = _a2a("app01")
RCM_VMWARE = _rcm("10000000-0000-0000-0000-000000000001", "web01")
RCM_PHYSICAL = _rcm("10000000-0000-0000-0000-000000000002", "db01")
RCM_AWS = _rcm("10000000-0000-0000-0000-000000000003", "aws-web01")
HYPERV = _hyperv("20000000-0000-0000-0000-000000000001", "hv-file01")
MACHINES = [A2A, RCM_VMWARE, RCM_PHYSICAL, RCM_AWS, HYPERV]


def tfo_input(m: Machine) -> dict[str, Any]:
    return {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "networkType": "VmNetworkAsInput",
            "networkId": VNET_NEU if m.provider == "A2A" else VNET_AZ,
            "providerSpecificDetails": m.provider_input(),
        }
    }


def unplanned_failover_input(m: Machine) -> dict[str, Any]:
    extra = {"performShutdown": "true"} if m.provider == "InMageRcm" else {}
    return {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "sourceSiteOperations": "Required",
            "providerSpecificDetails": m.provider_input(**extra),
        }
    }


# A Hyper-V item's failback: a planned failover from Azure back to its host (HyperVReplicaAzureFailbackProviderInput).
HYPERV_FAILBACK = {
    "properties": {
        "failoverDirection": "RecoveryToPrimary",
        "providerSpecificDetails": {
            "instanceType": "HyperVReplicaAzureFailback",
            "dataSyncOption": "ForDownTime",
            "recoveryVmCreationOption": "NoAction",
        },
    }
}


MIGRATION_COMPLETE = {
    "properties": {"disableProtectionReason": "MigrationComplete"},
}


def props(resource: Any) -> Any:
    """``resource.properties``, asserted present (the SDK types every property as optional)."""
    assert resource is not None and resource.properties is not None
    return resource.properties


def progress(item: Any, path: tuple[str, ...]) -> int:
    """A provider's progress field, read through the SDK model (REST names, as the JSON has them)."""
    value: Any = item.properties.provider_specific_details.as_dict()
    for key in path:
        value = value[key]
    return int(value)
