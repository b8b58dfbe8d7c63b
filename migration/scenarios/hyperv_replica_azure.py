"""HyperVReplicaAzure (Hyper-V VMs to Azure).

Every field of ``HyperVReplicaAzureEnableProtectionInput`` is optional in the SDK; the
plan supplies what a migration to managed disks needs (target group, network and subnet,
log storage account). Progress is ``initialReplicationDetails.initialReplicationProgressPercentage``,
which this provider sends as a *string*; RPO is ``rpoInSeconds``. There are no byte counters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from migration.machine import Machine
from migration.scenarios.base import (
    JsonDict,
    ProviderSteps,
    ReplicationProgress,
    compact,
    to_int,
    vm_protected,
)
from migration.source_kinds import Provider

__all__ = ["HyperVReplicaAzureScenario"]

INSTANCE_TYPE = Provider.HYPER_V_REPLICA_AZURE.value


class HyperVReplicaAzureScenario(ProviderSteps):
    """Bodies and reading for the HyperVReplicaAzure provider."""

    provider = Provider.HYPER_V_REPLICA_AZURE

    def enable_protection(
        self, machine: Machine, *, discovered_machine_id: str | None = None, disk_ids: Sequence[str] | None = None
    ) -> JsonDict:
        """``discovered_machine_id`` does not apply to Hyper-V and is ignored."""
        replication, target, asr = machine.replication, machine.target, machine.asr
        protectable = self.required(asr.protectable_item, "asr.protectableItem", machine)
        disks = list(disk_ids if disk_ids is not None else replication.disks_to_include)
        details = compact(
            {
                "instanceType": INSTANCE_TYPE,
                "vmName": machine.name,
                "targetAzureVmName": target.vm_name or machine.name,
                "targetAzureV2ResourceGroupId": target.resource_group_id,
                "targetAzureNetworkId": target.network_id,
                "targetAzureSubnetId": target.subnet,
                "targetVmSize": target.vm_size,
                "targetAvailabilityZone": target.availability_zone,
                "licenseType": target.license_type.value if target.license_type else None,
                "useManagedDisks": "true",
                "logStorageAccountId": replication.log_storage_account_id,
                "diskType": replication.disk_type.value if replication.disk_type else None,
                "disksToInclude": disks or None,
            }
        )
        return {
            "properties": {
                "policyId": machine.policy_id,
                "protectableItemId": machine.vault.protectable_item_id(
                    asr.fabric, asr.protection_container, protectable
                ),
                "providerSpecificDetails": details,
            }
        }

    def replication_progress(self, details: Mapping[str, Any]) -> ReplicationProgress:
        """The percentage comes as a string inside ``initialReplicationDetails``; no byte counters."""
        initial = details.get("initialReplicationDetails")
        percent = to_int(initial.get("initialReplicationProgressPercentage")) if isinstance(initial, Mapping) else None
        return ReplicationProgress(
            complete=vm_protected(details), percent=percent, rpo_seconds=to_int(details.get("rpoInSeconds"))
        )
