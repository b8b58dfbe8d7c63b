"""What Azure Migrate's discovery knows of an agentless VMware machine, and the plan checked against it.

An agentless (VMwareCbt) enable names every disk to replicate and which one the guest boots from, the run-as
account the appliance reads the VM with, and a log storage account. Az.Migrate's New-AzMigrateServerReplication
finds them the same way this module lets the adapter do: the disks from the discovered machine
(``Microsoft.OffAzure/VMwareSites/{site}/machines/{machine}``, its ``disks[].uuid``), the run-as account from the
machine's vCenter (``vcenters/{name}``, ``runAsAccountId``) and the log storage account from the container mapping
(``VMwareCbtProtectionContainerMappingDetails.storageAccountId``). A plan may name each instead.

The readers are pure, so validation, the enable step and the tests share one reading; :func:`read_vmware_source`
does the three GETs through the adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from migration.arm_ids import InvalidResourceIdError, parse_resource_id
from migration.machine import Machine

if TYPE_CHECKING:  # the adapter imports the scenarios, which import this module
    from migration.asr import SiteRecovery

__all__ = [
    "DiscoveredDisk",
    "DiskChoice",
    "VMwareSource",
    "choose_disks",
    "disks_of",
    "log_storage_of_mapping",
    "read_vmware_source",
    "run_as_account_of_vcenter",
    "sas_secret_name",
    "vcenter_id_of",
]


@dataclass(frozen=True)
class DiscoveredDisk:
    """One disk of a discovered VMware machine (OffAzure ``VMwareDisk``)."""

    uuid: str
    name: str | None
    size_bytes: int | None


@dataclass(frozen=True)
class VMwareSource:
    """What discovery and the vault say of one agentless machine: its disks and the defaults for its enable."""

    machine_id: str
    disks: tuple[DiscoveredDisk, ...]
    run_as_account_id: str | None = None
    log_storage_account_id: str | None = None


@dataclass(frozen=True)
class DiskChoice:
    """A disk to replicate, and whether the guest boots from it."""

    disk_id: str
    is_os_disk: bool


def _properties(resource: Mapping[str, Any] | None) -> Mapping[str, Any]:
    properties = (resource or {}).get("properties")
    return properties if isinstance(properties, Mapping) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def disks_of(machine: Mapping[str, Any]) -> tuple[DiscoveredDisk, ...]:
    """The disks of a discovered machine's JSON (``properties.disks``; entries without a uuid are skipped)."""
    disks = []
    for disk in _properties(machine).get("disks") or []:
        if not isinstance(disk, Mapping) or _text(disk.get("uuid")) is None:
            continue
        size = disk.get("maxSizeInBytes")
        disks.append(
            DiscoveredDisk(
                uuid=str(disk["uuid"]),
                name=_text(disk.get("label")) or _text(disk.get("name")),
                size_bytes=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
        )
    return tuple(disks)


def vcenter_id_of(machine: Mapping[str, Any]) -> str | None:
    """The ARM id of the vCenter that manages a discovered machine (``properties.vCenterId``), if well formed."""
    value = _text(_properties(machine).get("vCenterId"))
    if value is None:
        return None
    try:
        return value if parse_resource_id(value).is_type("Microsoft.OffAzure/VMwareSites/vcenters") else None
    except InvalidResourceIdError:
        return None


def run_as_account_of_vcenter(vcenter: Mapping[str, Any] | None) -> str | None:
    """The run-as account the appliance reads the vCenter's VMs with (``properties.runAsAccountId``)."""
    return _text(_properties(vcenter).get("runAsAccountId"))


def log_storage_of_mapping(mapping: Mapping[str, Any] | None) -> str | None:
    """The log storage account of a VMwareCbt container mapping (``providerSpecificDetails.storageAccountId``).

    Only for a mapping without ``keyVaultUri``: Az.Migrate takes the mapping's account then, and otherwise an
    account named after a hash of the project (``migratelsa<hash>``) that only the plan can name here.
    """
    details = _properties(mapping).get("providerSpecificDetails")
    if not isinstance(details, Mapping) or str(details.get("instanceType") or "").lower() != "vmwarecbt":
        return None
    if _text(details.get("keyVaultUri")) is not None:
        return None
    return _text(details.get("storageAccountId"))


def sas_secret_name(storage_account_id: str) -> str:
    """The key vault secret holding the log storage account's SAS: ``{account}-cacheSas``, the name Azure Migrate's
    replication infrastructure gives it (Az.Migrate New-AzMigrateServerReplication builds it so)."""
    return f"{storage_account_id.rstrip('/').rsplit('/', 1)[-1]}-cacheSas"


def choose_disks(machine: Machine, source: VMwareSource | None) -> tuple[tuple[DiskChoice, ...], list[tuple[str, str]]]:
    """The disks to replicate and the OS disk, from the plan and what discovery found; and the problems as
    ``(plan path, message)`` pairs (an empty choice when there are any).

    The plan's ``disksToInclude`` (empty: every discovered disk) must name discovered disks; ``osDiskId`` must be
    one of them, and may be left out only when a single disk is replicated: VMware does not say which disk a guest
    boots from, and Az.Migrate asks for it (``-OSDiskID``) for the same reason.
    """
    replication = machine.replication
    known = {disk.uuid.lower(): disk for disk in source.disks} if source is not None else None
    wanted: Sequence[str] = replication.disks_to_include or (
        [disk.uuid for disk in source.disks] if source is not None else []
    )
    problems: list[tuple[str, str]] = []
    if not wanted:
        where = "the discovered machine lists no disk" if source is not None else "discovery was not read"
        problems.append(("replication.disksToInclude", f"no disk to replicate: {where}"))
    if known is not None:
        listing = ", ".join(disk.uuid for disk in source.disks) if source is not None else ""
        for index, disk_id in enumerate(replication.disks_to_include):
            if disk_id.lower() not in known:
                message = f"disk {disk_id!r} is not a disk of the discovered machine (its disks: {listing or 'none'})"
                problems.append((f"replication.disksToInclude[{index}]", message))
    os_disk = replication.os_disk_id
    if os_disk is None and len(wanted) == 1:
        os_disk = wanted[0]
    if os_disk is None and len(wanted) > 1:
        message = f"the machine replicates {len(wanted)} disks; name the one it boots from ({', '.join(wanted)})"
        problems.append(("replication.osDiskId", message))
    elif os_disk is not None and os_disk.lower() not in {disk.lower() for disk in wanted}:
        problems.append(("replication.osDiskId", f"disk {os_disk!r} is not among the disks to replicate"))
    if problems:
        return (), problems
    chosen = tuple(DiskChoice(disk, os_disk is not None and disk.lower() == os_disk.lower()) for disk in wanted)
    return chosen, []


def read_vmware_source(asr: SiteRecovery, machine: Machine, *, stage: str | None = None) -> VMwareSource | None:
    """What discovery and the vault say of an agentless machine; None when the discovered machine does not exist.

    The vCenter is read only when the plan names no run-as account, the container mapping only when it names no
    log storage account: each read is an ARM request, and a wave reads this for every machine.
    """
    machine_id = machine.asr.discovered_machine_id
    if machine_id is None:
        return None
    found = asr.get_discovery_resource(machine.vault, machine_id, stage=stage)
    if found is None:
        return None
    run_as = None
    vcenter_id = vcenter_id_of(found)
    if machine.replication.run_as_account_id is None and vcenter_id is not None:
        run_as = run_as_account_of_vcenter(asr.get_discovery_resource(machine.vault, vcenter_id, stage=stage))
    log_storage = None
    mapping = machine.replication.container_mapping
    if machine.replication.log_storage_account_id is None and mapping is not None:
        asr_at = machine.asr
        found_mapping = asr.get_container_mapping(
            machine.vault, asr_at.fabric, asr_at.protection_container, mapping, stage=stage
        )
        log_storage = log_storage_of_mapping(found_mapping)
    return VMwareSource(machine_id, disks_of(found), run_as, log_storage)
