"""A2A (Azure VM from one region to another), and DR from the new region afterwards.

``A2AEnableProtectionInput`` requires ``fabricObjectId`` (the VM's ARM id); each managed
disk needs ``primaryStagingAzureStorageAccountId`` (a cache account in the source region)
and ``recoveryResourceGroupId``. Progress is ``monitoringPercentageCompletion`` (with
``monitoringJobType`` saying which job it measures), RPO ``rpoInSeconds``; A2A has no
byte counters.

DR after migration is *new* A2A protection of the migrated VM, from its new region
(the migration's recovery fabric and container) toward the secondary region in
``options.drAfterMigration``: a second replicated item, named ``{item}-dr``. It is not
ASR's reProtect, which would replicate back toward the original region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from migration.arm_ids import VIRTUAL_MACHINE_TYPE, ResourceId, parse_resource_id
from migration.machine import Machine
from migration.plan_options import DrAfterMigration
from migration.scenarios.base import (
    ItemAddress,
    JsonDict,
    ProviderSteps,
    ReplicationProgress,
    compact,
    to_int,
    vm_protected,
)
from migration.source_kinds import Provider

__all__ = ["A2AScenario", "DR_ITEM_SUFFIX"]

INSTANCE_TYPE = Provider.A2A.value
DR_ITEM_SUFFIX = "-dr"


def _managed_disks(
    disk_ids: Sequence[str], staging_account: str, resource_group: str, disk_type: str | None
) -> list[JsonDict]:
    return [
        compact(
            {
                "diskId": disk,
                "primaryStagingAzureStorageAccountId": staging_account,
                "recoveryResourceGroupId": resource_group,
                "recoveryReplicaDiskAccountType": disk_type,
                "recoveryTargetDiskAccountType": disk_type,
            }
        )
        for disk in disk_ids
    ]


class A2AScenario(ProviderSteps):
    """Bodies and reading for the A2A provider, including DR after migration."""

    provider = Provider.A2A

    def dr_protected_item(self, machine: Machine) -> ItemAddress:
        """The DR item lives under the migrated region's container (the migration's recovery side)."""
        fabric = self.required(machine.asr.recovery_fabric, "asr.recoveryFabric", machine)
        container = self.required(machine.asr.recovery_protection_container, "asr.recoveryProtectionContainer", machine)
        return ItemAddress(machine.vault, fabric, container, machine.protected_item_name + DR_ITEM_SUFFIX)

    def enable_protection(
        self, machine: Machine, *, discovered_machine_id: str | None = None, disk_ids: Sequence[str] | None = None
    ) -> JsonDict:
        """``disk_ids``: the VM's managed disks as the adapter found them; the plan's list when not given.

        ``discovered_machine_id`` does not apply to A2A and is ignored.
        """
        asr, replication, target = machine.asr, machine.replication, machine.target
        fabric = self.required(asr.recovery_fabric, "asr.recoveryFabric", machine)
        container = self.required(asr.recovery_protection_container, "asr.recoveryProtectionContainer", machine)
        staging = self.required(replication.staging_storage_account_id, "replication.stagingStorageAccountId", machine)
        disks = list(disk_ids if disk_ids is not None else replication.disks_to_include)
        disk_type = replication.disk_type.value if replication.disk_type else None
        details = compact(
            {
                "instanceType": INSTANCE_TYPE,
                "fabricObjectId": self.required(asr.source_vm_id, "asr.sourceVmId", machine),
                "recoveryContainerId": machine.vault.container_id(fabric, container),
                "recoveryResourceGroupId": target.resource_group_id,
                "recoveryAzureNetworkId": target.network_id,
                "recoverySubnetName": target.subnet,
                "recoveryAvailabilityZone": target.availability_zone,
                "vmManagedDisks": _managed_disks(disks, staging, target.resource_group_id, disk_type) or None,
            }
        )
        return {"properties": {"policyId": machine.policy_id, "providerSpecificDetails": details}}

    def migrated_vm_id(self, machine: Machine) -> str:
        """Where the failed-over VM lands: the target group, named like the target (or the source) VM."""
        source = self.required(machine.asr.source_vm_id, "asr.sourceVmId", machine)
        name = machine.target.vm_name or parse_resource_id(source).name
        group = parse_resource_id(machine.target.resource_group_id)
        namespace, vm_type = VIRTUAL_MACHINE_TYPE.split("/")
        return str(ResourceId(group.subscription_id, group.resource_group, namespace, (vm_type,), (name,)))

    def dr_enable_protection(
        self,
        machine: Machine,
        dr: DrAfterMigration,
        *,
        migrated_vm_id: str | None = None,
        disk_ids: Sequence[str] | None = None,
    ) -> JsonDict:
        """Enable protection of the migrated VM toward ``dr``'s secondary region.

        ``disk_ids`` are the migrated VM's managed disks (new ids after failover), which only
        the adapter can look up; without them ASR protects the VM with its defaults.
        """
        details = compact(
            {
                "instanceType": INSTANCE_TYPE,
                "fabricObjectId": migrated_vm_id or self.migrated_vm_id(machine),
                "recoveryContainerId": machine.vault.container_id(dr.recovery_fabric, dr.recovery_protection_container),
                "recoveryResourceGroupId": dr.recovery_resource_group_id,
                "recoveryAzureNetworkId": dr.recovery_network_id,
                "recoverySubnetName": dr.recovery_subnet,
                "vmManagedDisks": _managed_disks(
                    list(disk_ids or []), dr.staging_storage_account_id, dr.recovery_resource_group_id, None
                )
                or None,
            }
        )
        return {"properties": {"policyId": machine.vault.policy_id(dr.policy), "providerSpecificDetails": details}}

    def replication_progress(self, details: Mapping[str, Any]) -> ReplicationProgress:
        """A2A measures the job ``monitoringJobType`` names in ``monitoringPercentageCompletion``; no byte counters."""
        return ReplicationProgress(
            complete=vm_protected(details),
            percent=to_int(details.get("monitoringPercentageCompletion")),
            rpo_seconds=to_int(details.get("rpoInSeconds")),
        )
