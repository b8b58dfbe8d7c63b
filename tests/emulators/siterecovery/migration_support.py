"""Shared by the migration-item tests: the example topology (its agentless VMware fabric ``vmware-agentless``, the
VMwareCbt policy and mapping, the VMware site and its discovered machines), and enable bodies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_client
from emulators.siterecovery.topology import load_topology

TOPOLOGY = Path(__file__).resolve().parents[3] / "examples" / "topology.yaml"
SUB = "00000000-1111-2222-3333-444444444444"
RG = "rg-migration"
VAULT = "vault-migration"
SITE = "vmware-agentless-site"
FABRIC = "vmware-agentless"
CONTAINER = "vmware-agentless-container"
POLICY = "vmwarecbt-policy"
MAPPING = "vmware-agentless-to-azure"
SITE_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OffAzure/VMwareSites/{SITE}"
VAULT_ID = f"/Subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
POLICY_ID = f"{VAULT_ID}/replicationPolicies/{POLICY}"
# The site declares no run-as accounts: it has the default vCenter credential, which Az.Migrate passes as both the
# data mover and the snapshot account (the vCenter's runAsAccountId).
RUN_AS_ACCOUNT_ID = f"{SITE_ID}/runasaccounts/vcenter-account"
TARGET_RG = f"/subscriptions/{SUB}/resourceGroups/rg-target"
TARGET_NET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-target"
TEST_NET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-test"
LOG_SA = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/migratelsa01"
DISKS = {
    "vmw-agentless01": [
        ("6000C291-1a2b-4c3d-8e9f-000000000101", True),
        ("6000C291-1a2b-4c3d-8e9f-000000000102", False),
    ],
    "vmw-agentless02": [("6000C292-1a2b-4c3d-8e9f-000000000201", True)],
}


def migration_topology(faults: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    topology: dict[str, Any] = load_topology(TOPOLOGY).model_dump(by_alias=True)
    topology["faults"] = faults or []
    return topology


# VMwareCbtMigrateInput with the source shut down first (performShutdown is a string, as in the example).
MIGRATE = {"properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "performShutdown": "true"}}}


def machine_id(name: str) -> str:
    return f"{SITE_ID}/machines/{name}"


def enable_body(machine: str = "vmw-agentless01", **overrides: Any) -> dict[str, Any]:
    details: dict[str, Any] = {
        "instanceType": "VMwareCbt",
        "vmwareMachineId": machine_id(machine),
        "disksToInclude": [
            {
                "diskId": disk,
                "isOSDisk": "true" if is_os else "false",
                "logStorageAccountId": LOG_SA,
                "logStorageAccountSasSecretName": "migratelsa01-sas",
                "diskType": "Premium_LRS" if is_os else "Standard_LRS",
            }
            for disk, is_os in DISKS[machine]
        ],
        "dataMoverRunAsAccountId": RUN_AS_ACCOUNT_ID,
        "snapshotRunAsAccountId": RUN_AS_ACCOUNT_ID,
        "targetResourceGroupId": TARGET_RG,
        "targetNetworkId": TARGET_NET,
        "targetSubnetName": "default",
        "licenseType": "WindowsServer",
        **overrides,
    }
    return {"properties": {"policyId": POLICY_ID, "providerSpecificDetails": details}}


def item_args(name: str = "vmw-agentless01") -> tuple[str, str, str, str, str]:
    return RG, VAULT, FABRIC, CONTAINER, name


@pytest.fixture
def memu() -> Iterator[EmulatorHandle]:
    with start_emulator(migration_topology(), advance_on_poll=True) as handle:
        yield handle


@pytest.fixture
def mclient(memu: EmulatorHandle) -> SiteRecoveryManagementClient:
    return emulator_client(memu.base_url, memu.subscription_id, retry_total=0)
