"""Valid plan and machine dicts (wire spelling) for tests, on the coordinates the example plans use."""

import copy

SUB = "11111111-1111-1111-1111-111111111111"
VAULT = {"subscriptionId": SUB, "resourceGroup": "rg-migration", "name": "vault-migrate"}
TARGET_RG = f"/subscriptions/{SUB}/resourceGroups/rg-target-westeurope"
NETWORK_RG = f"/subscriptions/{SUB}/resourceGroups/rg-network-westeurope"
VNET_PROD = f"{NETWORK_RG}/providers/Microsoft.Network/virtualNetworks/vnet-prod"
VNET_TEST = f"{NETWORK_RG}/providers/Microsoft.Network/virtualNetworks/vnet-test"
LOG_STORAGE = f"/subscriptions/{SUB}/resourceGroups/rg-migration/providers/Microsoft.Storage/storageAccounts/stmigcache"
STAGING_STORAGE = (
    f"/subscriptions/{SUB}/resourceGroups/rg-apps-eastus/providers/Microsoft.Storage/storageAccounts/stcacheeus"
)
SOURCE_VM = f"/subscriptions/{SUB}/resourceGroups/rg-apps-eastus/providers/Microsoft.Compute/virtualMachines/az-api-01"


def _target():
    return {"resourceGroupId": TARGET_RG, "networkId": VNET_PROD, "subnet": "snet-app", "testNetworkId": VNET_TEST}


def inmage_machine(name="web-01", kind="vmware"):
    return {
        "name": name,
        "sourceKind": kind,
        "asr": {
            "vault": dict(VAULT),
            "fabric": "vmware-site",
            "protectionContainer": "vmware-site-container",
            "protectableItem": name,
        },
        "replication": {
            "policy": "migration-policy",
            "processServerId": "c8f1d0a4-35b4-4d1c-9c5e-0d5a6e3f2b10",
            "logStorageAccountId": LOG_STORAGE,
            "diskType": "Premium_LRS",
        },
        "target": _target(),
    }


def hyperv_machine(name="hv-file-01"):
    return {
        "name": name,
        "sourceKind": "hyperv",
        "asr": {
            "vault": dict(VAULT),
            "fabric": "hyperv-site",
            "protectionContainer": "hyperv-site-container",
            "protectableItem": name,
        },
        "replication": {
            "policy": "migration-policy",
            "logStorageAccountId": LOG_STORAGE,
            "diskType": "StandardSSD_LRS",
        },
        "target": _target(),
    }


def a2a_machine(name="az-api-01"):
    return {
        "name": name,
        "sourceKind": "azure",
        "asr": {
            "vault": dict(VAULT),
            "fabric": "azure-eastus",
            "protectionContainer": "azure-eastus-container",
            "sourceVmId": SOURCE_VM if name == "az-api-01" else SOURCE_VM.replace("az-api-01", name),
            "recoveryFabric": "azure-westeurope",
            "recoveryProtectionContainer": "azure-westeurope-container",
        },
        "replication": {"policy": "a2a-policy", "stagingStorageAccountId": STAGING_STORAGE},
        "target": _target(),
    }


SITE = f"/subscriptions/{SUB}/resourceGroups/rg-migration/providers/Microsoft.OffAzure/VMwareSites/vmware-site"
RUN_AS = f"{SITE}/runasaccounts/vcenter-account"


def agentless_machine(name="vmw-01"):
    """An agentless VMware machine (VMwareCbt): the discovered machine, the policy and a log storage account."""
    return {
        "name": name,
        "sourceKind": "vmware",
        "asr": {
            "vault": dict(VAULT),
            "fabric": "vmware-agentless",
            "protectionContainer": "vmware-agentless-container",
            "discoveredMachineId": f"{SITE}/machines/{name}",
        },
        "replication": {"method": "agentless", "policy": "vmwarecbt-policy", "logStorageAccountId": LOG_STORAGE},
        "target": _target(),
    }


MACHINE_FACTORIES = {
    "vmware": lambda name: inmage_machine(name, "vmware"),
    "physical": lambda name: inmage_machine(name, "physical"),
    "aws": lambda name: inmage_machine(name, "aws"),
    "hyperv": hyperv_machine,
    "azure": a2a_machine,
}


def plan(*groups, **extra):
    """A plan with one group per argument (each a list of machines); a one-machine plan by default."""
    groups = groups or ([inmage_machine()],)
    data = {
        "id": "wave-1",
        "name": "Wave 1",
        "groups": [{"name": f"group-{i}", "machines": list(ms)} for i, ms in enumerate(groups)],
    }
    data.update(extra)
    return copy.deepcopy(data)
