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
    DisableReason,
    ItemAddress,
    JsonDict,
    ProtectedItemView,
    cleanup_body,
    common_view_fields,
    compact,
    disable_protection_body,
    failed_over,
    point_details,
    provider_details,
    test_failover_body,
    to_int,
    unplanned_failover_body,
)
from migration.source_kinds import Provider

__all__ = ["HyperVReplicaAzureScenario"]

INSTANCE_TYPE = Provider.HYPER_V_REPLICA_AZURE.value


class HyperVReplicaAzureScenario:
    """Bodies and reading for the HyperVReplicaAzure provider."""

    provider = Provider.HYPER_V_REPLICA_AZURE

    def protected_item(self, machine: Machine) -> ItemAddress:
        return ItemAddress(
            machine.vault, machine.asr.fabric, machine.asr.protection_container, machine.protected_item_name
        )

    def enable_protection(
        self, machine: Machine, *, discovered_machine_id: str | None = None, disk_ids: Sequence[str] | None = None
    ) -> JsonDict:
        """``discovered_machine_id`` does not apply to Hyper-V and is ignored."""
        replication, target, asr = machine.replication, machine.target, machine.asr
        if asr.protectable_item is None:
            raise ValueError(f"{machine.name}: asr.protectableItem is required for {INSTANCE_TYPE}")
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
                    asr.fabric, asr.protection_container, asr.protectable_item
                ),
                "providerSpecificDetails": details,
            }
        }

    def test_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        if machine.target.test_network_id is None:
            raise ValueError(f"{machine.name}: target.testNetworkId is required for a test failover")
        return test_failover_body(machine.target.test_network_id, point_details(INSTANCE_TYPE, recovery_point_id))

    def test_failover_cleanup(self, machine: Machine, *, comments: str | None = None) -> JsonDict:
        return cleanup_body(comments)

    def unplanned_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        return unplanned_failover_body(machine, point_details(INSTANCE_TYPE, recovery_point_id))

    def failover_commit(self, machine: Machine) -> None:
        return None

    def disable_protection(self, machine: Machine, *, reason: DisableReason) -> JsonDict:
        return disable_protection_body(reason)

    def read_protected_item(self, item: Mapping[str, Any]) -> ProtectedItemView:
        common = common_view_fields(item)
        details = provider_details(item, INSTANCE_TYPE)
        initial = details.get("initialReplicationDetails")
        percent = to_int(initial.get("initialReplicationProgressPercentage")) if isinstance(initial, Mapping) else None
        vm_state = details.get("vmProtectionState")
        vm_protected = isinstance(vm_state, str) and vm_state.lower() == "protected"
        done = common["protected"] or failed_over(common) or vm_protected
        return ProtectedItemView(
            provider=INSTANCE_TYPE,
            initial_replication_done=bool(done),
            progress_percent=100 if done and percent is None else percent,
            bytes_processed=None,
            bytes_transferred=None,
            rpo_seconds=to_int(details.get("rpoInSeconds")),
            progress_health=None,
            **common,
        )
