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
    JsonDict,
    ProviderSteps,
    ReplicationProgress,
    compact,
    point_details,
    target_settings,
    to_int,
)
from migration.source_kinds import Provider

__all__ = ["InMageRcmScenario"]

INSTANCE_TYPE = Provider.IN_MAGE_RCM.value


def _initial_replication_complete(details: Mapping[str, Any]) -> bool:
    disks = [d for d in details.get("protectedDisks") or [] if isinstance(d, Mapping)]
    return bool(disks) and all(str(d.get("isInitialReplicationComplete", "")).lower() == "true" for d in disks)


class InMageRcmScenario(ProviderSteps):
    """Bodies and reading for the InMageRcm provider."""

    provider = Provider.IN_MAGE_RCM

    def enable_protection(
        self, machine: Machine, *, discovered_machine_id: str | None = None, disk_ids: Sequence[str] | None = None
    ) -> JsonDict:
        """``discovered_machine_id`` (``fabricDiscoveryMachineId``) comes from the plan or from the adapter's lookup."""
        replication, asr = machine.replication, machine.asr
        log_storage = self.required(replication.log_storage_account_id, "replication.logStorageAccountId", machine)
        disk_type = str(self.required(replication.disk_type, "replication.diskType", machine))
        disks = list(disk_ids if disk_ids is not None else replication.disks_to_include)
        details = compact(
            {
                "instanceType": INSTANCE_TYPE,
                "fabricDiscoveryMachineId": self.required(
                    discovered_machine_id or asr.discovered_machine_id, "asr.discoveredMachineId", machine
                ),
                "processServerId": self.required(replication.process_server_id, "replication.processServerId", machine),
                "runAsAccountId": replication.run_as_account_id,
                **target_settings(machine),
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

    def test_failover_details(self, machine: Machine, network_id: str, recovery_point_id: str | None) -> JsonDict:
        """InMageRcm repeats the test network inside its provider details."""
        return point_details(INSTANCE_TYPE, recovery_point_id, networkId=network_id)

    def failover_details(self, machine: Machine, recovery_point_id: str | None) -> JsonDict:
        """InMageRcm asks for the source's shutdown in its provider details too, as the string "true"/"false"."""
        return point_details(
            INSTANCE_TYPE, recovery_point_id, performShutdown="true" if machine.options.perform_shutdown else "false"
        )

    def replication_progress(self, details: Mapping[str, Any]) -> ReplicationProgress:
        """InMageRcm counts bytes processed and transferred (an ETA's basis) and reports the progress health."""
        return ReplicationProgress(
            complete=_initial_replication_complete(details),
            percent=to_int(details.get("initialReplicationProgressPercentage")),
            rpo_seconds=to_int(details.get("lastRpoInSeconds")),
            bytes_processed=to_int(details.get("initialReplicationProcessedBytes")),
            bytes_transferred=to_int(details.get("initialReplicationTransferredBytes")),
            health=details.get("initialReplicationProgressHealth") or None,
        )
