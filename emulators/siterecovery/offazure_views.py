"""JSON of Azure Migrate's discovery resources (``Microsoft.OffAzure``, api-version 2020-01-01): ``VMwareSite``,
``VMwareMachine``, ``VCenter`` and ``VMwareRunAsAccount``.

Each body has the fields of the official 2020-01-01 examples (``VMwareSite_Get.json``, ``VMwareMachine_Get.json``,
``VMwareMachines_ListBySite.json``, ``VMwareVcenter_Get.json``, ``VMwareRunAsAccount_Get.json``; the tests compare the
key sets), with values from the topology where it has them and the examples' spellings otherwise (``firmware``
``bios``, ``osType`` ``windowsguest``, ``powerStatus`` ``ON``, disk ``name`` ``scsi0:{n}`` and ``label`` ``Hard disk
{n+1}``). What the topology cannot say (GUIDs, host names, timestamps) is a stable placeholder derived from the seed
and the resource id, so reruns answer the same. README.md ("OffAzure") says which values are inferred.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from emulators.siterecovery.clock import SimClock, iso
from emulators.siterecovery.state import GIB, DiscoveredMachine, RunAsAccount, VCenter, VMwareSite

# ARM's type strings as the examples spell them: the site and run-as account examples write the namespace's type in
# lower case (``Microsoft.OffAzure/vmwaresites``, and ``.../vmwaresites/{site}/runasaccounts/{name}`` in the account's
# own id), the machine and vCenter examples ``VMwareSites``. A client must compare ids case-insensitively.
SITE_TYPE = "Microsoft.OffAzure/vmwaresites"
MACHINE_TYPE = "Microsoft.OffAzure/VMwareSites/machines"
VCENTER_TYPE = "Microsoft.OffAzure/VMwareSites/vcenters"
RUN_AS_TYPE = "Microsoft.OffAzure/vmwaresites/runasaccounts"

# The Azure Migrate solution a site's discoverySolutionId names (Az.Migrate's Get-AzMigrateDiscoveredServer reads it).
DISCOVERY_SOLUTION = "Servers-Discovery-ServerDiscovery"
DATASTORE = "[datastore1]"  # the migration item's diskPath uses the same datastore (migration_views.py)
DISCOVERED_DAYS_BEFORE = 7  # discovery ran a week before the emulated day starts (inferred placeholder)
GUEST_FAMILY = {"Windows": "windowsguest", "Linux": "linuxguest"}  # vSphere guest families, as the example writes them


def stable_guid(seed: int, resource_id: str, purpose: str) -> str:
    """A GUID for a placeholder (instance UUID, tenant, ...) that depends only on the seed and the resource."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}|{resource_id.lower()}|{purpose}"))


def _created(clock: SimClock) -> str:
    return iso(clock.start - timedelta(days=DISCOVERED_DAYS_BEFORE))


def site_view(site: VMwareSite, seed: int, clock: SimClock, now: float, base_url: str) -> dict[str, Any]:
    """``VMwareSite``: ``SiteProperties`` with the appliance's agent and its Azure Migrate project."""
    tenant = stable_guid(seed, site.id, "tenant")
    rg_id = f"/subscriptions/{site.subscription_id}/resourceGroups/{site.resource_group}"
    vault_name = f"{site.appliance_name[:15]}kv"
    return {
        "id": site.id,
        "name": site.name,
        "type": SITE_TYPE,
        "eTag": None,
        "location": site.location,
        "properties": {
            "servicePrincipalIdentityDetails": {
                "tenantId": tenant,
                "applicationId": stable_guid(seed, site.id, "application"),
                "objectId": stable_guid(seed, site.id, "object"),
                "audience": f"https://{tenant}/{site.appliance_name}agentauthaadapp",
                "aadAuthority": f"https://login.windows.net/{tenant}",
                "rawCertData": "",
            },
            "agentDetails": {
                "id": f"{stable_guid(seed, site.id, 'agent')}-agent",
                "version": "6.1.0.0",
                "lastHeartBeatUtc": iso(clock.at(now)),
                "keyVaultUri": f"https://{vault_name}.vault.azure.net",
                "keyVaultId": f"{rg_id}/providers/Microsoft.KeyVault/vaults/{vault_name}",
            },
            "serviceEndpoint": base_url,
            "discoverySolutionId": (
                f"{rg_id}/providers/Microsoft.Migrate/MigrateProjects/{site.migrate_project}/Solutions/"
                f"{DISCOVERY_SOLUTION}"
            ),
            "applianceName": site.appliance_name,
        },
    }


def disk_path(machine: DiscoveredMachine, disk_name: str) -> str:
    """Where a disk's VMDK lives: the path the migration item shows as ``diskPath`` too."""
    return f"{DATASTORE} {machine.name}/{disk_name}.vmdk"


def _disks(machine: DiscoveredMachine) -> list[dict[str, Any]]:
    """``VMwareDisk``: ``uuid`` is the topology's disk id, what a VMwareCbt enable names as ``diskId``."""
    return [
        {
            "uuid": disk.id,
            "label": f"Hard disk {index + 1}",
            "diskProvisioningPolicy": "ThinProvisioned",
            "diskScrubbingPolicy": "LazilyScrubbed",
            "diskMode": "persistent",
            "maxSizeInBytes": disk.size_gb * GIB,
            "name": f"scsi0:{index}",
            "diskType": "Static",
            "lun": index,
            "path": disk_path(machine, disk.name),
        }
        for index, disk in enumerate(machine.disks)
    ]


def machine_view(machine: DiscoveredMachine, seed: int, clock: SimClock, replicating: bool) -> dict[str, Any]:
    """``VMwareMachine``; ``replicating``: a migration item replicates it (the appliance enabled change tracking)."""
    v_center = machine.v_center
    assert v_center is not None  # the loader gives every machine its vCenter
    domain = v_center.fqdn.partition(".")[2]
    powered_on = machine.power_status == "ON"
    bios = stable_guid(seed, machine.id, "bios")
    return {
        "id": machine.id,
        "name": machine.name,
        "type": MACHINE_TYPE,
        "properties": {
            "dataCenterScope": "Datacenter",
            "firmware": machine.firmware_type.lower(),
            "description": "",
            "vCenterFQDN": v_center.fqdn,
            "vCenterId": v_center.id,
            "vMwareToolsStatus": "OK" if powered_on else "NotRunning",
            "changeTrackingSupported": True,
            "changeTrackingEnabled": replicating,
            "maxSnapshots": -1,
            "disks": _disks(machine),
            "appsAndRoles": None,
            "hostInMaintenanceMode": False,
            "hostName": f"esxi01.{domain}" if domain else "esxi01",
            "hostPowerState": "poweredOn",
            "hostVersion": v_center.version,
            "networkAdapters": [],
            "dependencyMapping": "Disabled",
            "dependencyMappingStartTime": None,
            "displayName": machine.display_name,
            "numberOfProcessorCore": machine.cores,
            "allocatedMemoryInMB": float(machine.memory_mb),
            "vmConfigurationFileLocation": f"{DATASTORE} {machine.name}/{machine.name}.vmx",
            "operatingSystemDetails": {
                "osType": GUEST_FAMILY[machine.os_type],
                "osName": machine.os_name,
                "osVersion": None,
            },
            "guestOSDetails": {"osType": None, "osName": None, "osVersion": None},
            "numberOfApplications": 0,
            "guestDetailsDiscoveryTimestamp": None,
            "isGuestDetailsDiscoveryInProgress": False,
            "createdTimestamp": _created(clock),
            "updatedTimestamp": iso(clock.start),
            "instanceUuid": stable_guid(seed, machine.id, "instance"),
            "powerStatus": machine.power_status,
            "biosSerialNumber": bios,
            "biosGuid": bios,
            "vmFqdn": "",
            "isDeleted": False,
            "errors": [],
        },
    }


def _perf_statistics() -> str:
    """vCenter's statistics intervals as OffAzure reports them (a JSON string): vSphere's defaults at level 1."""
    intervals = [("past day", 300, 86400), ("past week", 1800, 604800), ("past month", 7200, 2592000)]
    intervals.append(("past year", 86400, 31536000))
    levels = [
        {"Level": 1, "Name": name, "Enabled": True, "SamplingPeriod": period, "TimeLength": length}
        for name, period, length in intervals
    ]
    return json.dumps(levels, separators=(",", ":"))


def v_center_view(v_center: VCenter, seed: int, clock: SimClock) -> dict[str, Any]:
    """``VCenter``: ``properties.runAsAccountId`` is what Az.Migrate passes as the data mover / snapshot account."""
    return {
        "id": v_center.id,
        "name": v_center.name,
        "type": VCENTER_TYPE,
        "properties": {
            "createdTimestamp": _created(clock),
            "updatedTimestamp": iso(clock.start),
            "fqdn": v_center.fqdn,
            "port": str(v_center.port),
            "runAsAccountId": v_center.run_as_account.id,
            "version": v_center.version,
            "perfStatisticsLevel": _perf_statistics(),
            "instanceUuid": stable_guid(seed, v_center.id, "instance"),
            "errors": [],
        },
    }


def run_as_account_view(account: RunAsAccount, clock: SimClock) -> dict[str, Any]:
    """``VMwareRunAsAccount`` (its id in the examples' lower-case ``vmwaresites`` spelling)."""
    site = account.site
    return {
        "id": (
            f"/subscriptions/{site.subscription_id}/resourceGroups/{site.resource_group}"
            f"/providers/Microsoft.OffAzure/vmwaresites/{site.name}/runasaccounts/{account.name}"
        ),
        "name": account.name,
        "type": RUN_AS_TYPE,
        "properties": {
            "displayName": account.display_name,
            "credentialType": account.credential_type,
            "createdTimestamp": _created(clock),
            "updatedTimestamp": _created(clock),
        },
    }
