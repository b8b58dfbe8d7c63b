"""What differs per replication provider: enable-input semantics, durations and the JSON of
``providerSpecificDetails`` (A2AReplicationDetails, InMageRcmReplicationDetails,
HyperVReplicaAzureReplicationDetails; field names from the SDK 2.0.0 model tables).
"""

from __future__ import annotations

import uuid
from typing import Any

from emulators.siterecovery.clock import iso
from emulators.siterecovery.errors import ArmError, bad_request, conflict
from emulators.siterecovery.state import (
    GIB,
    AzureVm,
    Container,
    ContainerMapping,
    Fabric,
    Item,
    Machine,
    Phase,
    ProcessServer,
    Store,
    Vault,
)
from emulators.siterecovery.topology import Provider

# protectedItemType per provider ("HyperVVirtualMachine" is in the examples; the others are inferred).
PROTECTED_ITEM_TYPE = {
    "A2A": "AzureVirtualMachine",
    "InMageRcm": "VMwareVirtualMachine",
    "HyperVReplicaAzure": "HyperVVirtualMachine",
}
_DISCOVERY_TYPE = {"VMware": "VMware", "Physical": "PhysicalServer", "AWS": "PhysicalServer"}


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def resolve_mapping(vault: Vault, container: Container, policy_id: str | None) -> ContainerMapping:
    """The container mapping an enable request uses: the one whose policy is ``policyId``."""
    mappings = vault.mappings_of(container)
    if policy_id is None:
        if len(mappings) == 1:
            return mappings[0]
        raise bad_request("InvalidPolicyId", "properties.policyId is required: the container has several mappings.")
    for mapping in mappings:
        if mapping.policy.id.lower() == policy_id.lower():
            return mapping
    raise bad_request(
        "PolicyNotAssociatedWithContainer",
        f"The policy '{policy_id}' is not associated with protection container '{container.name}'.",
        target="properties.policyId",
    )


def resolve_machine(store: Store, vault: Vault, container: Container, props: dict[str, Any]) -> Machine:
    """The machine an enable request names, per provider; refuses unknown or already protected ones."""
    details: dict[str, Any] = props.get("providerSpecificDetails") or {}
    provider: Provider = container.fabric.provider
    machine: Machine | None = None
    protectable = _as_str(props.get("protectableItemId"))
    if provider == "A2A":
        vm_id = str(details["fabricObjectId"])
        vm: AzureVm | None = store.azure_vms.get(vm_id.lower())
        if vm is None or (container.fabric.location or "").lower() != vm.location.lower():
            raise bad_request(
                "InvalidFabricObjectId",
                f"The virtual machine '{vm_id}' was not found in region '{container.fabric.location}'.",
                target="properties.providerSpecificDetails.fabricObjectId",
            )
        machine = vm.machine
    elif provider == "InMageRcm":
        discovered = str(details["fabricDiscoveryMachineId"])
        machine = next((m for m in container.machines.values() if (m.vm_id or "").lower() == discovered.lower()), None)
        if machine is None:
            raise bad_request(
                "DiscoveredMachineNotFound",
                f"The discovered machine '{discovered}' was not found in the appliance's inventory.",
                target="properties.providerSpecificDetails.fabricDiscoveryMachineId",
            )
        if not details.get("disksToInclude") and not details.get("disksDefault"):
            raise bad_request(
                "InvalidDiskInput",
                "Either disksToInclude or disksDefault must be specified.",
                target="properties.providerSpecificDetails.disksToInclude",
            )
        resolve_process_server(container.fabric, str(details["processServerId"]))
    else:
        if protectable is None:
            raise bad_request(
                "InvalidProtectableItemId",
                "properties.protectableItemId is required for HyperVReplicaAzure.",
                target="properties.protectableItemId",
            )
    if protectable is not None:
        name = protectable.rstrip("/").rsplit("/", 1)[-1]
        by_id = container.machines.get(name.lower())
        expected = f"{container.id}/replicationProtectableItems/{name}".lower()
        if by_id is None or protectable.lower() != expected:
            raise bad_request(
                "InvalidProtectableItemId",
                f"The protectable item '{protectable}' was not found in container '{container.name}'.",
                target="properties.protectableItemId",
            )
        if machine is not None and machine is not by_id:
            raise bad_request(
                "InvalidProtectableItemId", "protectableItemId and the provider input name different machines."
            )
        machine = by_id
    assert machine is not None
    for other in vault.items.values():
        if other.machine is machine and other.phase != Phase.REMOVED:
            raise conflict(
                "ProtectionAlreadyEnabled",
                f"Protection is already enabled for '{machine.friendly_name}' (replicated item '{other.name}').",
            )
    return machine


def resolve_process_server(fabric: Fabric, server_id: str) -> ProcessServer:
    """The fabric's process server an InMageRcm enable names; an id the fabric does not list is refused.

    ASR's own code and message for this refusal are not public. The code is the one Microsoft's InMageRcm
    REST automation article lists for a parameter with an invalid value (``InvalidParameter``, 400); the
    message is the emulator's.
    """
    server = fabric.process_servers.get(server_id.lower())
    if server is None:
        known = ", ".join(f"'{ps.id}' ({ps.name})" for ps in fabric.process_servers.values()) or "none"
        raise bad_request(
            "InvalidParameter",
            f"The process server '{server_id}' is not one of the process servers of fabric '{fabric.name}' "
            f"(registered: {known}).",
            target="properties.providerSpecificDetails.processServerId",
        )
    return server


def seed_input(container: Container) -> dict[str, object]:
    """The enable input of an item the topology declares protected: an InMageRcm one replicates through its
    fabric's first process server."""
    details: dict[str, object] = {"instanceType": container.fabric.provider}
    first = next(iter(container.fabric.process_servers.values()), None)
    if container.fabric.provider == "InMageRcm" and first is not None:
        details["processServerId"] = first.id
    return details


def process_server_of(item: Item) -> ProcessServer | None:
    """The process server an InMageRcm item replicates through (the one its enable named)."""
    server_id = item.enable_input.get("processServerId")
    return item.container.fabric.process_servers.get(server_id.lower()) if isinstance(server_id, str) else None


def check_input_provider(item_provider: Provider, details: dict[str, Any] | None, where: str) -> None:
    """A provider input for another provider than the item's is refused."""
    if details is None:
        return
    kind = details.get("instanceType")
    if kind != item_provider:
        raise bad_request(
            "InvalidProviderSpecificInput",
            f"The provider input '{kind}' does not match the replication provider '{item_provider}' of the item.",
            target=f"{where}.instanceType",
        )


def ir_seconds(store: Store, item: Item, reverse: bool = False) -> float:
    """Initial replication time from disk sizes and bandwidth, plus fixed overhead, with seeded jitter."""
    bandwidth = item.machine.bandwidth_mbps or store.timing.default_bandwidth_mbps
    seconds = sum(item.machine.disks_gb) * GIB * 8 / (bandwidth * 1_000_000)
    if reverse:
        seconds *= 0.3  # re-protection only ships the differences
    total = seconds + store.timing.replication_overhead_seconds
    return max(1.0, store.jitter(total, item.id, "ir", reverse))


def recovery_vm_id(item: Item) -> str:
    """The Azure VM a failover creates (ARM id), from the enable input's target resource group."""
    details = item.enable_input
    rg = (
        _as_str(details.get("recoveryResourceGroupId"))
        or _as_str(details.get("targetResourceGroupId"))
        or _as_str(details.get("targetAzureV2ResourceGroupId"))
        or f"/subscriptions/{item.vault.subscription_id}/resourceGroups/{item.vault.resource_group}"
    )
    name = _as_str(details.get("targetVmName")) or _as_str(details.get("vmName")) or item.machine.friendly_name
    return f"{rg}/providers/Microsoft.Compute/virtualMachines/{name}"


# Where each provider's enable input names the failover's network and subnet (the SDK's *EnableProtectionInput).
_NETWORK_KEYS = ("recoveryAzureNetworkId", "targetNetworkId", "targetAzureNetworkId")
_SUBNET_KEYS = ("recoverySubnetName", "targetSubnetName", "targetAzureSubnetId")


def vm_network(item: Item, *, test: bool) -> tuple[str | None, str | None]:
    """The network (and subnet) the VM a failover creates is attached to: the test failover's ``networkId`` for a test
    VM, else the enable input's target network."""
    details = item.enable_input
    if test:
        return item.test_network_id, _as_str(details.get("testSubnetName"))
    network = next((_as_str(details.get(key)) for key in _NETWORK_KEYS if _as_str(details.get(key))), None)
    subnet = next((_as_str(details.get(key)) for key in _SUBNET_KEYS if _as_str(details.get(key))), None)
    return network, subnet.rsplit("/", 1)[-1] if subnet else None


def target_location(item: Item) -> str:
    if item.mapping.target_container is not None and item.mapping.target_container.fabric.location:
        return item.mapping.target_container.fabric.location
    return item.vault.location


def _progress_health(item: Item, now: float) -> str:
    if item.phase != Phase.REPLICATING:
        return "None"
    if item.ir_break_percent is not None and item.ir_progress(now) >= item.ir_break_percent:
        return "NoProgress" if item.ir_factor == 0 else "SlowProgress"
    return "InProgress"


def _disk_ids(item: Item) -> list[tuple[str, int]]:
    return [(f"{item.machine.name}-disk{i}", gb) for i, gb in enumerate(item.machine.disks_gb)]


def _rpo(item: Item, now: float) -> tuple[int, str | None]:
    """RPO seconds and time of the last recovery point, once replication is healthy."""
    if item.phase in (Phase.ENABLING, Phase.REPLICATING, Phase.ENABLE_FAILED):
        return 0, None
    rng = item.vault.store.rng(item.id, "rpo", int(now // 60))
    return rng.randint(20, 90), iso(item.vault.store.clock.at(now - 30))


def details_view(item: Item, now: float) -> dict[str, Any]:
    store = item.vault.store
    progress = item.ir_progress(now)
    pct = int(progress)
    rpo, last_point = _rpo(item, now)
    clock = store.clock
    heartbeat = iso(clock.at(now))
    if item.provider == "A2A":
        source_loc = item.container.fabric.location or ""
        disks = [
            {
                "diskId": f"{item.machine.vm_id or ''}/disks/{disk}",
                "diskName": disk,
                "diskCapacityInBytes": gb * GIB,
                "diskType": "Premium_LRS",
                "monitoringPercentageCompletion": pct,
                "monitoringJobType": "InitialReplication",
                "resyncRequired": False,
                "dataPendingInStagingStorageAccountInMB": 0.0,
                "dataPendingAtSourceAgentInMB": 0.0,
                "diskState": "Protected" if progress >= 100 else "InitialReplicationPending",
            }
            for disk, gb in _disk_ids(item)
        ]
        view: dict[str, Any] = {
            "instanceType": "A2A",
            "fabricObjectId": item.machine.vm_id,
            "primaryFabricLocation": source_loc,
            "recoveryFabricLocation": target_location(item),
            "initialPrimaryFabricLocation": source_loc,
            "initialRecoveryFabricLocation": target_location(item),
            "osType": item.machine.os_type,
            "recoveryAzureVMName": item.machine.name,
            "recoveryAzureResourceGroupId": item.enable_input.get("recoveryResourceGroupId"),
            "selectedRecoveryAzureNetworkId": item.enable_input.get("recoveryAzureNetworkId"),
            "protectedManagedDisks": disks,
            "monitoringPercentageCompletion": pct,
            "monitoringJobType": "InitialReplication",
            "vmProtectionState": "Protected" if progress >= 100 else "EnablingProtection",
            "vmProtectionStateDescription": "Protected" if progress >= 100 else "Enabling protection",
            "lastHeartbeat": heartbeat,
            "rpoInSeconds": rpo,
            "lastRpoCalculatedTime": heartbeat,
            "multiVmGroupName": item.enable_input.get("multiVmGroupName"),
        }
        if item.recovery_vm_id:
            view["recoveryFabricObjectId"] = item.recovery_vm_id
        if item.test_failover == "WaitingForCompletion":
            view["tfoAzureVMName"] = f"{item.machine.name}-test"
        return view
    if item.provider == "InMageRcm":
        server = process_server_of(item)
        total = sum(item.machine.disks_gb) * GIB
        processed = int(total * progress / 100)
        disks2 = [
            {
                "diskId": disk,
                "diskName": disk,
                "isOSDisk": "true" if i == 0 else "false",
                "capacityInBytes": gb * GIB,
                "diskState": "Protected" if progress >= 100 else "InitialReplicationPending",
                "isInitialReplicationComplete": "true" if progress >= 100 else "false",
                "irDetails": {
                    "progressHealth": _progress_health(item, now),
                    "transferredBytes": int(gb * GIB * progress / 100),
                    "processedBytes": int(gb * GIB * progress / 100),
                    "progressPercentage": pct,
                },
            }
            for i, (disk, gb) in enumerate(_disk_ids(item))
        ]
        view = {
            "instanceType": "InMageRcm",
            "internalIdentifier": item.internal_id,
            "fabricDiscoveryMachineId": item.machine.vm_id,
            "discoveryType": _DISCOVERY_TYPE.get(item.machine.kind, "VMware"),
            "processServerId": server.id if server else None,
            "processServerName": server.name if server else None,
            "osType": item.machine.os_type,
            "targetVmName": item.enable_input.get("targetVmName") or item.machine.friendly_name,
            "targetResourceGroupId": item.enable_input.get("targetResourceGroupId"),
            "targetNetworkId": item.enable_input.get("targetNetworkId"),
            "testNetworkId": item.test_network_id or item.enable_input.get("testNetworkId"),
            "targetLocation": item.vault.location,
            "initialReplicationProgressPercentage": pct,
            "initialReplicationProcessedBytes": processed,
            "initialReplicationTransferredBytes": processed,
            "initialReplicationProgressHealth": _progress_health(item, now),
            "resyncProgressPercentage": 0,
            "resyncRequired": "false",
            "resyncState": "None",
            "lastRpoInSeconds": rpo,
            "lastRecoveryPointReceived": last_point,
            "protectedDisks": disks2,
        }
        if item.failover_recovery_point:
            view["failoverRecoveryPointId"] = item.failover_recovery_point
        return view
    return {
        "instanceType": "HyperVReplicaAzure",
        "vmId": item.machine.name,
        "recoveryAzureVmName": item.enable_input.get("vmName") or item.machine.friendly_name,
        "recoveryAzureResourceGroupId": item.enable_input.get("targetAzureV2ResourceGroupId"),
        "selectedRecoveryAzureNetworkId": item.enable_input.get("targetAzureNetworkId"),
        "useManagedDisks": str(item.enable_input.get("useManagedDisks") or "true"),
        "vmProtectionState": "Protected" if progress >= 100 else "InitialReplicationInProgress",
        "vmProtectionStateDescription": "Protected" if progress >= 100 else "Initial replication in progress",
        "initialReplicationDetails": {
            "initialReplicationType": "InitialReplication",
            "initialReplicationProgressPercentage": str(pct),  # a string in this model, per the SDK table
        },
        "lastReplicatedTime": last_point,
        "lastRecoveryPointReceived": last_point,
        "rpoInSeconds": rpo,
        "lastRpoCalculatedTime": heartbeat,
    }


# Placeholders for what a topology cannot declare about a process server: the appliance's hardware from
# learn.microsoft.com, "Support matrix for deploying the replication appliance - modernized" (32 GB RAM, a
# 620 GB data disk); loads and the version are plausible values, worse for a server in worse health.
_PS_MEMORY = 32 * GIB
_PS_DISK = 620 * 1000**3
_PS_VERSION = "9.0.0.0"
_PS_LOAD = {"Normal": 0.35, "None": 0.35, "Warning": 0.85, "Critical": 0.97}
_PS_STATUS = {"Normal": "Healthy", "Warning": "Warning", "Critical": "Critical", "None": "Unknown"}
_PS_NAMESPACE = uuid.UUID("0f7b2f5e-6d1c-4c47-9a57-3f8e5b1c2a90")


def _ps_guid(fabric: Fabric, server: ProcessServer, what: str) -> str:
    return str(uuid.uuid5(_PS_NAMESPACE, f"{fabric.id.lower()}|{server.id.lower()}|{what}"))


def process_server_view(fabric: Fabric, server: ProcessServer, now: float) -> dict[str, Any]:
    """One entry of ``InMageRcmFabricSpecificDetails.processServers``: every field of the SDK's
    ``ProcessServerDetails``, from the topology where it declares them."""
    clock = fabric.vault.store.clock
    load = _PS_LOAD[server.health]
    status = _PS_STATUS[server.health]
    used_memory = int(_PS_MEMORY * load)
    used_space = int(_PS_DISK * load * 0.5)
    items = [i for i in fabric.vault.items.values() if i.container.fabric is fabric and process_server_of(i) is server]
    return {
        "id": server.id,
        "name": server.name,
        "biosId": _ps_guid(fabric, server, "bios"),
        "fabricObjectId": _ps_guid(fabric, server, "fabricObject"),
        "fqdn": server.fqdn or f"{server.name.lower()}.contoso.local",
        "ipAddresses": list(server.ip_addresses)
        if server.ip_addresses is not None
        else [f"10.0.0.{10 + server.index}"],
        "version": server.version or _PS_VERSION,
        "lastHeartbeatUtc": iso(clock.at(now)),
        "totalMemoryInBytes": _PS_MEMORY,
        "availableMemoryInBytes": _PS_MEMORY - used_memory,
        "usedMemoryInBytes": used_memory,
        "memoryUsagePercentage": round(100.0 * load, 1),
        "totalSpaceInBytes": _PS_DISK,
        "availableSpaceInBytes": _PS_DISK - used_space,
        "usedSpaceInBytes": used_space,
        "freeSpacePercentage": round(100.0 * (1 - load * 0.5), 1),
        "throughputUploadPendingDataInBytes": 0,
        "throughputInBytes": 0,
        "processorUsagePercentage": round(100.0 * load * 0.6, 1),
        "throughputStatus": status,
        "systemLoad": len(items),
        "systemLoadStatus": status,
        "diskUsageStatus": status,
        "memoryUsageStatus": status,
        "processorUsageStatus": status,
        "health": server.health,
        "healthErrors": [
            {**error, "creationTimeUtc": iso(clock.at(now)), "entityId": server.id} for error in server.health_errors
        ],
        "protectedItemCount": len(items),
        "historicHealth": server.health,
    }


def _site_id(fabric: Fabric, kind: str) -> str | None:
    """The Azure Migrate site the appliance discovers machines in (from their discovered-machine ids)."""
    for container in fabric.containers.values():
        for machine in container.machines.values():
            vm_id = machine.vm_id or ""
            if f"/{kind}/" in vm_id and "/machines/" in vm_id:
                return vm_id.split("/machines/", 1)[0]
    return None


def rcm_fabric_details(fabric: Fabric, now: float) -> dict[str, Any]:
    """``InMageRcmFabricSpecificDetails`` (fabric ``customDetails``): its sites and process servers."""
    return {
        "instanceType": "InMageRcm",
        "vmwareSiteId": _site_id(fabric, "VMwareSites"),
        "physicalSiteId": _site_id(fabric, "ServerSites"),
        "processServers": [process_server_view(fabric, ps, now) for ps in fabric.process_servers.values()],
    }


def recovery_point_details(item: Item) -> dict[str, Any] | None:
    """A recovery point's ``providerSpecificDetails``: None for Hyper-V, whose points carry none
    (RecoveryPoints_ListByReplicationProtectedItems.json; the SDK has no HyperVReplicaAzure subtype of
    ProviderSpecificRecoveryPointDetails). A2A and InMageRcm use their SDK subtypes; no example shows them,
    so the values are inferred: points of one VM, not multi-VM consistent."""
    if item.provider == "A2A":
        return {
            "instanceType": "A2A",
            "recoveryPointSyncType": "PerVmRecoveryPoint",
            "disks": [f"{item.machine.vm_id or ''}/disks/{disk}" for disk, _ in _disk_ids(item)],
        }
    if item.provider == "InMageRcm":
        return {"instanceType": "InMageRcm", "isMultiVmSyncPoint": "false"}
    return None


def forbid(message: str) -> ArmError:
    return bad_request("OperationNotAllowed", message)
