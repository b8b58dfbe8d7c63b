"""What a VMwareCbt enable or update names, checked the way ASR checks it before it starts a job.

The schema (``migration_schema.py``) has checked shapes; this module checks meanings: booleans ASR sends as
strings (``"true"``/``"false"``, as the examples do), enum values (the SDK 2.0 enums), ARM ids that must be well
formed (``LinkedInvalidPropertyId``, ARM's code for a malformed resource id in a request body), the discovered
machine (``vmwareMachineId``: a machine of the fabric's Azure Migrate VMware site), its disks and the run-as
accounts (accounts of that site). Codes ASR's public sources do not give are the emulator's (README.md, "Migration
items", lists them).
"""

from __future__ import annotations

import re
from typing import Any

from emulators.siterecovery.errors import ArmError, bad_request
from emulators.siterecovery.migration_items import IncludedDisk
from emulators.siterecovery.state import Container, DiscoveredMachine, RunAsAccount

DETAILS = "properties.providerSpecificDetails"

# SDK 2.0 enums (azure.mgmt.recoveryservicessiterecovery.models): LicenseType, SqlServerLicenseType,
# LinuxLicenseType, DiskAccountType.
ENUMS: dict[str, tuple[str, ...]] = {
    "licenseType": ("NotSpecified", "NoLicenseType", "WindowsServer"),
    "sqlServerLicenseType": ("NotSpecified", "NoLicenseType", "PAYG", "AHUB"),
    "linuxLicenseType": ("NotSpecified", "NoLicenseType", "LinuxServer"),
    "diskType": (
        "Standard_LRS",
        "Premium_LRS",
        "StandardSSD_LRS",
        "PremiumV2_LRS",
        "UltraSSD_LRS",
        "StandardSSD_ZRS",
        "Premium_ZRS",
    ),
}

_SEG = r"[^/]+"
_RG = rf"/subscriptions/{_SEG}/resourcegroups/{_SEG}"
# ARM id shapes of the properties ASR resolves (matched case-insensitively, as ARM ids are)
ID_SHAPES: dict[str, str] = {
    "targetResourceGroupId": rf"^{_RG}$",
    "targetNetworkId": rf"^{_RG}/providers/microsoft\.network/virtualnetworks/{_SEG}$",
    "testNetworkId": rf"^{_RG}/providers/microsoft\.network/virtualnetworks/{_SEG}$",
    "networkId": rf"^{_RG}/providers/microsoft\.network/virtualnetworks/{_SEG}$",
    "logStorageAccountId": rf"^{_RG}/providers/microsoft\.storage/storageaccounts/{_SEG}$",
    "targetBootDiagnosticsStorageAccountId": rf"^{_RG}/providers/microsoft\.storage/storageaccounts/{_SEG}$",
    "targetAvailabilitySetId": rf"^{_RG}/providers/microsoft\.compute/availabilitysets/{_SEG}$",
    "targetProximityPlacementGroupId": rf"^{_RG}/providers/microsoft\.compute/proximityplacementgroups/{_SEG}$",
    "dataMoverRunAsAccountId": rf"^{_RG}/providers/microsoft\.offazure/vmwaresites/{_SEG}/runasaccounts/{_SEG}$",
    "snapshotRunAsAccountId": rf"^{_RG}/providers/microsoft\.offazure/vmwaresites/{_SEG}/runasaccounts/{_SEG}$",
    "vmwareMachineId": rf"^{_RG}/providers/microsoft\.offazure/vmwaresites/({_SEG})/machines/({_SEG})$",
}
_VM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$")
_ZONES = ("1", "2", "3")


def check_id(details: dict[str, Any], key: str, where: str = DETAILS) -> str | None:
    """The ARM id ``details[key]`` if present and well formed; 400 ``LinkedInvalidPropertyId`` if not."""
    value = details.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or re.match(ID_SHAPES[key], value, re.IGNORECASE) is None:
        raise bad_request(
            "LinkedInvalidPropertyId",
            f"Property id '{value}' at path '{where}.{key}' is invalid. Expect fully qualified resource Id that "
            "start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.",
            target=f"{where}.{key}",
        )
    return value


def check_bool(details: dict[str, Any], key: str, where: str = DETAILS, *, required: bool = False) -> bool | None:
    """A boolean ASR takes as the string ``"true"`` or ``"false"`` (any case)."""
    value = details.get(key)
    if value is None:
        if required:
            raise bad_request("InvalidParameter", f"{key} is required.", target=f"{where}.{key}")
        return None
    if not isinstance(value, str) or value.lower() not in ("true", "false"):
        raise bad_request(
            "InvalidParameter", f"{key} must be 'true' or 'false', not '{value}'.", target=f"{where}.{key}"
        )
    return value.lower() == "true"


def check_enum(details: dict[str, Any], key: str, where: str = DETAILS) -> str | None:
    value = details.get(key)
    if value is None:
        return None
    for allowed in ENUMS[key]:
        if isinstance(value, str) and value.lower() == allowed.lower():
            return allowed
    raise bad_request(
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: '{value}' is not a valid value for "
        f"'{key}' (one of {', '.join(ENUMS[key])}). Path '{where}.{key}'.",
        target=f"{where}.{key}",
    )


def check_targets(details: dict[str, Any]) -> dict[str, Any]:
    """The target settings an enable or update names, checked; returns them normalised (absent keys left out)."""
    out: dict[str, Any] = {}
    for key in (
        "targetResourceGroupId",
        "targetNetworkId",
        "testNetworkId",
        "targetAvailabilitySetId",
        "targetProximityPlacementGroupId",
        "targetBootDiagnosticsStorageAccountId",
    ):
        value = check_id(details, key)
        if value is not None:
            out[key] = value
    for key in ("licenseType", "sqlServerLicenseType", "linuxLicenseType"):
        value = check_enum(details, key)
        if value is not None:
            out[key] = value
    auto = check_bool(details, "performAutoResync")
    if auto is not None:
        out["performAutoResync"] = "true" if auto else "false"
    name = details.get("targetVmName")
    if name is not None:
        if not _VM_NAME.match(name):
            raise bad_request(
                "InvalidParameter",
                f"targetVmName '{name}' is not a valid Azure virtual machine name (1-64 letters, digits, '-', '_', "
                "'.'; it cannot start or end with '-' or '.').",
                target=f"{DETAILS}.targetVmName",
            )
        out["targetVmName"] = name
    zone = details.get("targetAvailabilityZone")
    if zone is not None:
        if zone not in _ZONES:
            raise bad_request(
                "InvalidParameter",
                f"targetAvailabilityZone '{zone}' is not 1, 2 or 3.",
                target=f"{DETAILS}.targetAvailabilityZone",
            )
        if details.get("targetAvailabilitySetId"):
            raise bad_request(
                "InvalidParameter",
                "A virtual machine cannot be placed both in an availability zone and in an availability set.",
                target=f"{DETAILS}.targetAvailabilityZone",
            )
        out["targetAvailabilityZone"] = zone
    for key in ("targetVmSize", "targetSubnetName", "testSubnetName", "targetCapacityReservationGroupId"):
        if details.get(key) is not None:
            out[key] = details[key]
    return out


def resolve_machine(container: Container, details: dict[str, Any]) -> DiscoveredMachine:
    """The discovered machine ``vmwareMachineId`` names: one of the fabric's VMware site's machines."""
    machine_id = check_id(details, "vmwareMachineId")
    assert machine_id is not None  # the schema requires it
    match = re.match(ID_SHAPES["vmwareMachineId"], machine_id, re.IGNORECASE)
    assert match is not None
    site = container.fabric.vmware_site
    found = None
    if site is not None and machine_id.lower().startswith(site.id.lower() + "/"):
        found = site.machines.get(match.group(2).lower())
    if found is None:
        raise bad_request(
            "DiscoveredMachineNotFound",
            f"The VMware machine '{machine_id}' was not found among the machines discovered in the VMware site "
            f"'{site.name if site else '(none)'}' of fabric '{container.fabric.name}'.",
            target=f"{DETAILS}.vmwareMachineId",
        )
    return found


RUN_AS_KEYS = ("dataMoverRunAsAccountId", "snapshotRunAsAccountId")


def resolve_run_as_accounts(machine: DiscoveredMachine, details: dict[str, Any]) -> list[RunAsAccount]:
    """``dataMoverRunAsAccountId`` / ``snapshotRunAsAccountId``: run-as accounts of the machine's VMware site.

    Az.Migrate passes the vCenter's ``runAsAccountId`` for both; one the site does not hold is refused with the
    emulator's ``RunAsAccountNotFound`` (ASR's own answer is not public; README.md lists it as inferred).
    """
    site = machine.site
    found: list[RunAsAccount] = []
    for key in RUN_AS_KEYS:
        account_id = check_id(details, key)
        assert account_id is not None  # the schema requires both
        account = next((a for a in site.run_as_accounts.values() if a.id.lower() == account_id.lower()), None)
        if account is None:
            known = ", ".join(a.id for a in site.run_as_accounts.values())
            raise bad_request(
                "RunAsAccountNotFound",
                f"The run-as account '{account_id}' was not found in the VMware site '{site.name}' of machine "
                f"'{machine.display_name}' (its run-as accounts: {known}).",
                target=f"{DETAILS}.{key}",
            )
        found.append(account)
    return found


def resolve_disks(machine: DiscoveredMachine, disks: list[dict[str, Any]]) -> list[IncludedDisk]:
    """``disksToInclude``: disks of the machine, each once, the machine's OS disk among them and marked so."""
    if not disks:
        raise _disk_error("disksToInclude must name at least one disk (the OS disk).", f"{DETAILS}.disksToInclude")
    by_id = {d.id.lower(): d for d in machine.disks}
    out: list[IncludedDisk] = []
    seen: set[str] = set()
    for i, entry in enumerate(disks):
        where = f"{DETAILS}.disksToInclude[{i}]"
        disk = by_id.get(str(entry["diskId"]).lower())
        if disk is None:
            known = ", ".join(d.id for d in machine.disks)
            raise _disk_error(
                f"The disk '{entry['diskId']}' is not a disk of machine '{machine.display_name}' (its disks: {known}).",
                f"{where}.diskId",
            )
        if disk.id.lower() in seen:
            raise _disk_error(f"The disk '{disk.id}' is included twice.", f"{where}.diskId")
        seen.add(disk.id.lower())
        is_os = check_bool(entry, "isOSDisk", where, required=True)
        if is_os != disk.is_os_disk:
            raise _disk_error(
                f"The disk '{disk.id}' is {'' if disk.is_os_disk else 'not '}the machine's OS disk: isOSDisk must be "
                f"'{'true' if disk.is_os_disk else 'false'}'.",
                f"{where}.isOSDisk",
            )
        log_account = check_id(entry, "logStorageAccountId", where)
        assert log_account is not None
        disk_type = check_enum(entry, "diskType", where) or "Standard_LRS"
        size = entry.get("diskSizeInGB")
        if size is not None and size < disk.size_gb:
            raise _disk_error(
                f"diskSizeInGB {size} is smaller than the source disk '{disk.id}' ({disk.size_gb} GB).",
                f"{where}.diskSizeInGB",
            )
        out.append(IncludedDisk(disk, log_account, str(entry["logStorageAccountSasSecretName"]), disk_type))
    if not any(d.disk.is_os_disk for d in out):
        raise _disk_error("The machine's OS disk must be included.", f"{DETAILS}.disksToInclude")
    return out


def _disk_error(message: str, target: str) -> ArmError:
    return bad_request("InvalidDiskInput", message, target=target)
