"""A Site Recovery emulator topology in which a plan resolves: every vault, fabric, container, machine, policy and
container mapping it names.

``run`` with no endpoint should run *any* valid plan locally (one imported from an inventory CSV, say), not only
the examples. The example topology is used when the plan resolves in it; otherwise this builds one from the plan
itself. What a plan cannot say (disk sizes, Azure regions) gets plausible values: 128 GB and 256 GB disks, and
distinct regions for each Azure fabric in the order the plan names them. An agentless VMware machine becomes a
machine of the VMware site its ``discoveredMachineId`` names, with the disks the plan names (the OS disk first)
and the run-as account it names, so the enable finds what it asks for.
"""

from __future__ import annotations

from migration.arm_ids import parse_resource_id
from migration.json_types import Json
from migration.machine import Machine
from migration.plan import Plan
from migration.source_kinds import Provider

__all__ = ["topology_for"]

_REGIONS = ["westeurope", "northeurope", "swedencentral", "francecentral", "germanywestcentral", "uksouth"]
_FABRIC_KIND = {
    Provider.A2A: "Azure",
    Provider.IN_MAGE_RCM: "InMageRcm",
    Provider.HYPER_V_REPLICA_AZURE: "HyperVSite",
    Provider.VMWARE_CBT: "VMwareV2",
}
_MACHINE_KIND = {"vmware": "VMware", "physical": "Physical", "aws": "AWS", "hyperv": "HyperV", "azure": "AzureVM"}


def _last(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


class _Vault:
    def __init__(self, subscription_id: str, resource_group: str, name: str) -> None:
        self.doc: Json = {
            "subscriptionId": subscription_id,
            "resourceGroup": resource_group,
            "name": name,
            "location": "westeurope",
            "fabrics": [],
            "policies": [],
            "containerMappings": [],
            "vmwareSites": [],
        }
        self.sites: dict[str, Json] = {}
        self.fabrics: dict[str, Json] = {}
        self.containers: dict[tuple[str, str], Json] = {}
        self.policies: set[str] = set()
        self.mappings: set[str] = set()
        self.regions = 0

    def fabric(self, name: str, kind: str) -> Json:
        if name not in self.fabrics:
            fabric: Json = {"name": name, "kind": kind, "containers": []}
            if kind == "Azure":
                fabric["location"] = _REGIONS[self.regions % len(_REGIONS)]
                self.regions += 1
            self.fabrics[name] = fabric
            self.doc["fabrics"].append(fabric)
        return self.fabrics[name]

    def process_server(self, fabric: str, kind: str, server_id: str | None) -> None:
        """Declare the process server a machine names on its fabric: ASR refuses an enable through an unknown one."""
        if not server_id:
            return
        servers: list[Json] = self.fabric(fabric, kind).setdefault("processServers", [])
        if all(server["id"].lower() != server_id.lower() for server in servers):
            servers.append({"id": server_id, "health": "Normal"})

    def container(self, fabric: str, kind: str, name: str) -> Json:
        key = (fabric, name)
        if key not in self.containers:
            container: Json = {"name": name, "machines": []}
            self.fabric(fabric, kind)["containers"].append(container)
            self.containers[key] = container
        return self.containers[key]

    def discovered(self, machine: Machine) -> None:
        """The agentless machine in its VMware site (and the site on the machine's fabric)."""
        machine_id = parse_resource_id(machine.asr.discovered_machine_id or "")
        site_id = machine_id.parent
        site_name = site_id.name if site_id is not None else "vmware-site"
        self.fabric(machine.asr.fabric, "VMwareV2").setdefault("vmwareSite", site_name)
        site = self.sites.get(site_name.lower())
        if site is None:
            site = {"name": site_name, "resourceGroup": machine_id.resource_group, "machines": []}
            self.sites[site_name.lower()] = site
            self.doc["vmwareSites"].append(site)
        account = machine.replication.run_as_account_id
        if account:
            accounts: list[Json] = site.setdefault("runAsAccounts", [])
            if all(known["name"].lower() != _last(account).lower() for known in accounts):
                accounts.append({"name": _last(account)})
        replication = machine.replication
        # Nothing named: one disk, so the enable needs no OS disk named either.
        disk_ids = list(replication.disks_to_include) or [replication.os_disk_id or f"{machine.name}-disk-1"]
        os_disk = replication.os_disk_id or disk_ids[0]
        if os_disk.lower() not in {disk.lower() for disk in disk_ids}:
            disk_ids.insert(0, os_disk)
        disks = [
            {
                "id": disk,
                "sizeGB": 128 if disk.lower() == os_disk.lower() else 256,
                "isOSDisk": disk.lower() == os_disk.lower(),
            }
            for disk in disk_ids
        ]
        site["machines"].append({"name": machine_id.name, "displayName": machine.name, "disks": disks})

    def policy(self, name: str, provider: Provider) -> None:
        if name not in self.policies:
            self.policies.add(name)
            self.doc["policies"].append({"name": name, "provider": provider.value})

    def mapping(
        self,
        name: str,
        fabric: str,
        container: str,
        policy: str,
        target: tuple[str, str] | None,
        storage_account_id: str | None = None,
    ) -> None:
        if name in self.mappings:
            return
        self.mappings.add(name)
        mapping: Json = {"name": name, "fabric": fabric, "container": container, "policy": policy}
        if target is not None:
            mapping.update(targetFabric=target[0], targetContainer=target[1])
        if storage_account_id is not None:
            mapping["storageAccountId"] = storage_account_id
        self.doc["containerMappings"].append(mapping)


def _log_storage(machine: Machine) -> str:
    """An agentless mapping's log storage account: the plan's, or one in the vault's resource group."""
    vault = machine.asr.vault
    return machine.replication.log_storage_account_id or (
        f"/subscriptions/{vault.subscription_id}/resourceGroups/{vault.resource_group}"
        "/providers/Microsoft.Storage/storageAccounts/migratelsa01"
    )


def topology_for(plan: Plan) -> Json:
    """The topology document (``emulators/siterecovery`` format) for ``plan``."""
    vaults: dict[str, _Vault] = {}
    dr = plan.options.dr_after_migration
    for _, machine in plan.machines():
        ref = machine.asr.vault
        vault = vaults.setdefault(
            f"{ref.subscription_id}/{ref.resource_group}/{ref.name}".lower(),
            _Vault(ref.subscription_id, ref.resource_group, ref.name),
        )
        provider = machine.provider
        kind = _FABRIC_KIND[provider]
        container = vault.container(machine.asr.fabric, kind, machine.asr.protection_container)
        entry: Json = {"disksGB": [128, 256]}
        if provider is Provider.VMWARE_CBT:
            vault.discovered(machine)
        elif provider is Provider.A2A:
            entry.update(name=machine.name, vmId=machine.asr.source_vm_id)
        else:
            entry.update(
                name=machine.asr.protectable_item or machine.name,
                friendlyName=machine.name,
                kind=_MACHINE_KIND.get(machine.source_kind.value, "VMware"),
            )
            if provider is Provider.IN_MAGE_RCM:
                entry["vmId"] = machine.asr.discovered_machine_id
                vault.process_server(machine.asr.fabric, kind, machine.replication.process_server_id)
        if provider is not Provider.VMWARE_CBT:
            container["machines"].append({k: v for k, v in entry.items() if v is not None})
        policy = _last(machine.replication.policy)
        vault.policy(policy, provider)
        target = None
        if provider is Provider.A2A and machine.asr.recovery_fabric and machine.asr.recovery_protection_container:
            vault.container(machine.asr.recovery_fabric, "Azure", machine.asr.recovery_protection_container)
            target = (machine.asr.recovery_fabric, machine.asr.recovery_protection_container)
            if dr is not None:
                vault.container(dr.recovery_fabric, "Azure", dr.recovery_protection_container)
                vault.policy(_last(dr.policy), Provider.A2A)
                vault.mapping(
                    dr.container_mapping,
                    target[0],
                    target[1],
                    _last(dr.policy),
                    (dr.recovery_fabric, dr.recovery_protection_container),
                )
        if machine.replication.container_mapping:
            vault.mapping(
                machine.replication.container_mapping,
                machine.asr.fabric,
                machine.asr.protection_container,
                policy,
                target,
                _log_storage(machine) if provider is Provider.VMWARE_CBT else None,
            )
    return {
        "seed": 7,
        "timing": {
            "defaultBandwidthMbps": 200,
            "replicationOverheadSeconds": 900,
            "jitter": 0.1,
            "retryAfterSeconds": 30,
            "pageSize": 100,
        },
        "vaults": [vault.doc for vault in vaults.values()],
    }
