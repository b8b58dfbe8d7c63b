"""InMageRcm (modernized VMware / physical to Azure; AWS instances replicate as physical servers).

Request fields follow the SDK models ``InMageRcmEnableProtectionInput`` (required:
``fabricDiscoveryMachineId``, ``processServerId``, ``targetResourceGroupId``, and per disk
``logStorageAccountId`` + ``diskType``), ``InMageRcmTestFailoverInput`` and
``InMageRcmUnplannedFailoverInput`` (``performShutdown`` is a *string*, "true"/"false").
Progress comes from ``InMageRcmReplicationDetails``: percentage, processed and transferred
bytes (the basis of an ETA), progress health, ``lastRpoInSeconds``, and per-disk
``isInitialReplicationComplete``.
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

__all__ = ["InMageRcmScenario"]

INSTANCE_TYPE = Provider.IN_MAGE_RCM.value


def _require(value: str | None, what: str, machine: Machine) -> str:
    if value is None:
        raise ValueError(f"{machine.name}: {what} is required for {INSTANCE_TYPE}")
    return value


def _initial_replication_complete(details: Mapping[str, Any]) -> bool:
    disks = [d for d in details.get("protectedDisks") or [] if isinstance(d, Mapping)]
    return bool(disks) and all(str(d.get("isInitialReplicationComplete", "")).lower() == "true" for d in disks)


class InMageRcmScenario:
    """Bodies and reading for the InMageRcm provider."""

    provider = Provider.IN_MAGE_RCM

    def protected_item(self, machine: Machine) -> ItemAddress:
        return ItemAddress(
            machine.vault, machine.asr.fabric, machine.asr.protection_container, machine.protected_item_name
        )

    def enable_protection(
        self, machine: Machine, *, discovered_machine_id: str | None = None, disk_ids: Sequence[str] | None = None
    ) -> JsonDict:
        """``discovered_machine_id`` (``fabricDiscoveryMachineId``) comes from the plan or from the adapter's lookup."""
        replication, target, asr = machine.replication, machine.target, machine.asr
        log_storage = _require(replication.log_storage_account_id, "replication.logStorageAccountId", machine)
        disk_type = str(_require(replication.disk_type, "replication.diskType", machine))
        disks = list(disk_ids if disk_ids is not None else replication.disks_to_include)
        details = compact(
            {
                "instanceType": INSTANCE_TYPE,
                "fabricDiscoveryMachineId": _require(
                    discovered_machine_id or asr.discovered_machine_id, "asr.discoveredMachineId", machine
                ),
                "processServerId": _require(replication.process_server_id, "replication.processServerId", machine),
                "runAsAccountId": replication.run_as_account_id,
                "targetResourceGroupId": target.resource_group_id,
                "targetNetworkId": target.network_id,
                "targetSubnetName": target.subnet,
                "testNetworkId": target.test_network_id,
                "testSubnetName": target.test_subnet or (target.subnet if target.test_network_id else None),
                "targetVmName": target.vm_name or machine.name,
                "targetVmSize": target.vm_size,
                "targetAvailabilityZone": target.availability_zone,
                "licenseType": target.license_type.value if target.license_type else None,
            }
        )
        if disks:
            details["disksToInclude"] = [
                {"diskId": disk, "logStorageAccountId": log_storage, "diskType": disk_type} for disk in disks
            ]
        else:
            details["disksDefault"] = {"logStorageAccountId": log_storage, "diskType": disk_type}
        protectable_id = (
            machine.vault.protectable_item_id(asr.fabric, asr.protection_container, asr.protectable_item)
            if asr.protectable_item
            else None
        )
        return {
            "properties": compact(
                {"policyId": machine.policy_id, "protectableItemId": protectable_id, "providerSpecificDetails": details}
            )
        }

    def test_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        network = _require(machine.target.test_network_id, "target.testNetworkId", machine)
        return test_failover_body(network, point_details(INSTANCE_TYPE, recovery_point_id, networkId=network))

    def test_failover_cleanup(self, machine: Machine, *, comments: str | None = None) -> JsonDict:
        return cleanup_body(comments)

    def unplanned_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        return unplanned_failover_body(
            machine,
            point_details(
                INSTANCE_TYPE,
                recovery_point_id,
                performShutdown="true" if machine.options.perform_shutdown else "false",
            ),
        )

    def failover_commit(self, machine: Machine) -> None:
        return None

    def disable_protection(self, machine: Machine, *, reason: DisableReason) -> JsonDict:
        return disable_protection_body(reason)

    def read_protected_item(self, item: Mapping[str, Any]) -> ProtectedItemView:
        common = common_view_fields(item)
        details = provider_details(item, INSTANCE_TYPE)
        percent = to_int(details.get("initialReplicationProgressPercentage"))
        done = common["protected"] or failed_over(common) or _initial_replication_complete(details)
        return ProtectedItemView(
            provider=INSTANCE_TYPE,
            initial_replication_done=bool(done),
            progress_percent=100 if done and percent is None else percent,
            bytes_processed=to_int(details.get("initialReplicationProcessedBytes")),
            bytes_transferred=to_int(details.get("initialReplicationTransferredBytes")),
            rpo_seconds=to_int(details.get("lastRpoInSeconds")),
            progress_health=details.get("initialReplicationProgressHealth") or None,
            **common,
        )
