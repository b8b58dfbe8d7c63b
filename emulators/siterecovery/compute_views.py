"""``Microsoft.Compute`` bodies: a virtual machine, its instance view, a managed run command, a size and a usage.

Each has the fields of Microsoft's published example for its operation (azure-rest-api-specs, ComputeRP
``stable/2024-11-01`` and Skus ``stable/2021-07-01``; copies in ``tests/fixtures/compute``) that a VM created by Site
Recovery or Azure Migrate has; ``README.md`` (Compute) names the ones left out and why. Values the examples cannot
give (ids of disks and NICs, the boot diagnostics blob names) follow the names Azure gives and are marked inferred.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from typing import Any

from emulators.siterecovery.clock import SimClock, iso
from emulators.siterecovery.faults import VmBootFault
from emulators.siterecovery.state import AzureVm, RunCommand
from emulators.siterecovery.topology import SkuSpec

VM_TYPE = "Microsoft.Compute/virtualMachines"
NIC_TYPE = "Microsoft.Network/networkInterfaces"
RUN_COMMAND_TYPE = "Microsoft.Compute/virtualMachines/runCommands"
# The size a VM gets when its replication names none (inferred: ASR picks one that fits the source's cores and memory)
DEFAULT_VM_SIZE = "Standard_D2s_v5"
AGENT_VERSION = "2.7.41491.1102"


def _guid(*parts: object) -> str:
    """A stable GUID for a resource (a VM's ``vmId``): the same names give the same id on every run."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _resource_group_id(resource_id: str) -> str:
    parts = resource_id.split("/")
    return "/".join(parts[:5])  # "", subscriptions, {sub}, resourceGroups, {rg}


def vm_id_guid(vm: AzureVm) -> str:
    return _guid("vmId", vm.id.lower())


def _disk_names(vm: AzureVm) -> list[str]:
    """Managed disk names as ASR names them after a failover (inferred: ``{vm}-OSdisk``, ``{vm}-DataDisk-{lun}``)."""
    return [f"{vm.name}-OSdisk" if i == 0 else f"{vm.name}-DataDisk-{i - 1}" for i in range(len(vm.machine.disks_gb))]


def vm_view(vm: AzureVm, clock: SimClock, instance_view: dict[str, Any] | None = None) -> dict[str, Any]:
    """``VirtualMachines_Get`` (``VirtualMachine_Get.json``): a VM whose OS disk was attached, not made from an image,
    so it has no ``imageReference`` and no ``osProfile`` (as ARM answers for a VM created from a specialized disk)."""
    group = _resource_group_id(vm.id)
    names = _disk_names(vm)
    disks = vm.machine.disks_gb or [128]

    def managed(name: str) -> dict[str, Any]:
        return {"storageAccountType": "Premium_LRS", "id": f"{group}/providers/Microsoft.Compute/disks/{name}"}

    os_disk = {
        "osType": "Windows" if vm.machine.os_type.lower() == "windows" else "Linux",
        "name": names[0] if names else f"{vm.name}-OSdisk",
        "createOption": "Attach",
        "caching": "ReadWrite",
        "managedDisk": managed(names[0] if names else f"{vm.name}-OSdisk"),
        "diskSizeGB": disks[0],
    }
    data_disks = [
        {
            "lun": lun,
            "name": names[lun + 1],
            "createOption": "Attach",
            "caching": "ReadWrite",
            "managedDisk": managed(names[lun + 1]),
            "diskSizeGB": size,
        }
        for lun, size in enumerate(disks[1:])
    ]
    properties: dict[str, Any] = {
        "vmId": vm_id_guid(vm),
        "hardwareProfile": {"vmSize": vm.size or DEFAULT_VM_SIZE},
        "storageProfile": {"osDisk": os_disk, "dataDisks": data_disks},
        "networkProfile": {"networkInterfaces": [{"id": f"{group}/providers/{NIC_TYPE}/{nic_name(vm)}"}]},
        "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
        "provisioningState": "Succeeded",
        "timeCreated": iso(clock.at(vm.created)),
    }
    if instance_view is not None:
        properties["instanceView"] = instance_view
    return {
        "name": vm.name,
        "id": vm.id,
        "type": VM_TYPE,
        "location": vm.location,
        "tags": {},
        "etag": '"1"',
        "properties": properties,
    }


def nic_name(vm: AzureVm) -> str:
    """The VM's one network interface (inferred: Site Recovery names it after the VM)."""
    return f"{vm.name}-nic"


def nic_view(vm: AzureVm, network_id: str | None) -> dict[str, Any]:
    """``NetworkInterfaces_Get`` (``NetworkInterfaceGet.json``): one primary, dynamic IPv4 configuration in the
    network the VM was attached to (the address is derived from the VM's id, stable across reads)."""
    group = _resource_group_id(vm.id)
    nic_id = f"{group}/providers/{NIC_TYPE}/{nic_name(vm)}"
    digest = int(vm_id_guid(vm).replace("-", "")[:4], 16)
    subnet = f"{network_id}/subnets/{vm.subnet or 'default'}" if network_id else None
    ip_properties: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "privateIPAddress": f"10.{digest % 200}.{(digest >> 8) % 250}.{4 + digest % 200}",
        "privateIPAllocationMethod": "Dynamic",
        "primary": True,
        "privateIPAddressVersion": "IPv4",
    }
    if subnet:
        ip_properties["subnet"] = {"id": subnet}
    return {
        "name": nic_name(vm),
        "id": nic_id,
        "location": vm.location,
        "properties": {
            "provisioningState": "Succeeded",
            "ipConfigurations": [
                {"name": "ipconfig1", "id": f"{nic_id}/ipConfigurations/ipconfig1", "properties": ip_properties}
            ],
            "dnsSettings": {"dnsServers": [], "appliedDnsServers": []},
            "macAddress": "00-0D-3A-" + "-".join(f"{(digest >> s) & 0xFF:02X}" for s in (0, 4, 8)),
            "enableAcceleratedNetworking": False,
            "disableTcpStateTracking": False,
            "enableIPForwarding": False,
            "primary": True,
            "virtualMachine": {"id": vm.id},
            "vnetEncryptionSupported": False,
        },
        "type": NIC_TYPE,
    }


def _status(code: str, display: str, *, time: str | None = None, level: str = "Info") -> dict[str, Any]:
    status: dict[str, Any] = {"code": code, "level": level, "displayStatus": display}
    if time is not None:
        status["time"] = time
    return status


def instance_view(vm: AzureVm, clock: SimClock, boot: VmBootFault | None) -> dict[str, Any]:
    """``VirtualMachines_InstanceView`` (``VirtualMachine_Get_InstanceView.json``).

    Running with a ready agent by default (the failover or migration job started the VM). ``computerName``,
    ``osName`` and ``osVersion`` come from the guest agent: absent while it does not report. The ``Not Ready`` agent
    status is what Azure shows for an agent that has not reported (Microsoft Learn, "Troubleshooting checklist for
    the Azure Windows VM Agent"); its code and messages are inferred.
    """
    created = iso(clock.at(vm.created))
    vm_guid = vm_id_guid(vm)
    account = f"bootdiag{vm_guid.replace('-', '')[:12]}"  # inferred: a managed boot diagnostics account
    view: dict[str, Any] = {"platformUpdateDomain": 0, "platformFaultDomain": 0}
    if boot is None:
        view["computerName"] = vm.name[:15]
        windows = vm.machine.os_type.lower() == "windows"
        view["osName"] = "Windows Server 2019 Datacenter" if windows else "ubuntu"
        view["osVersion"] = "Microsoft Windows NT 10.0.17763.0" if windows else "22.04"
        agent_status = _status(
            "ProvisioningState/succeeded",
            "Ready",
            time=created,
        ) | {"message": "GuestAgent is running and accepting new configurations."}
        agent: dict[str, Any] = {"vmAgentVersion": AGENT_VERSION, "statuses": [agent_status], "extensionHandlers": []}
    else:
        message = (
            "VM status blob is found but not yet populated."
            if boot.mode == "neverBoots"
            else "VM Agent is unresponsive."
        )
        agent = {
            "vmAgentVersion": "Unknown",
            "statuses": [
                _status("ProvisioningState/Unavailable", "Not Ready", time=created, level="Warning")
                | {"message": message}
            ],
            "extensionHandlers": [],
        }
    view["vmAgent"] = agent
    view["disks"] = [
        {"name": name, "statuses": [_status("ProvisioningState/succeeded", "Provisioning succeeded", time=created)]}
        for name in _disk_names(vm)
    ]
    blob = f"https://{account}.blob.core.windows.net/bootdiagnostics-{vm.name.lower()[:9]}-{vm_guid}"
    view["bootDiagnostics"] = {
        "consoleScreenshotBlobUri": f"{blob}/{vm.name}.{vm_guid}.screenshot.bmp",
        "serialConsoleLogBlobUri": f"{blob}/{vm.name}.{vm_guid}.serialconsole.log",
    }
    view["extensions"] = []
    view["hyperVGeneration"] = "V1"
    view["isVMInStandbyPool"] = False
    power = (
        _status("PowerState/starting", "VM starting")
        if boot is not None and boot.mode == "neverBoots"
        else _status("PowerState/running", "VM running")
    )
    view["statuses"] = [_status("ProvisioningState/succeeded", "Provisioning succeeded", time=created), power]
    return view


# -- run commands -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunState:
    """Where a run command is at one instant: its script's ``executionState`` and the resource's provisioning."""

    execution: str  # Pending | Running | Succeeded | Failed | TimedOut (SDK ExecutionState)
    provisioning: str  # Creating | Succeeded | Failed
    end: float | None  # when the script stopped (None: it has not)


def run_state(command: RunCommand, now: float) -> RunState:
    """The SDK's ``VirtualMachineRunCommand`` docstrings: ``asyncExecution`` true completes provisioning as soon as
    the script starts; ``treatFailureAsDeploymentFailure`` true makes a failed script fail provisioning (false:
    provisioning only says whether the command was run). ``timeoutInSeconds`` ends a script that runs longer
    (``TimedOut``)."""
    props = command.properties
    timeout = props.get("timeoutInSeconds") or 0
    if command.start is None:
        return RunState("Pending", "Creating", None)
    duration = command.duration
    timed_out = isinstance(timeout, int) and timeout > 0 and duration > timeout
    end = command.start + (timeout if timed_out else duration)
    if math.isinf(end) or now < end:
        return RunState("Running", "Succeeded" if props.get("asyncExecution") else "Creating", None)
    execution = "TimedOut" if timed_out else ("Succeeded" if command.exit_code == 0 else "Failed")
    failed = execution != "Succeeded" and bool(props.get("treatFailureAsDeploymentFailure"))
    return RunState(execution, "Failed" if failed else "Succeeded", end)


# properties a run command echoes back; secrets (runAsPassword, protectedParameters) never come back (the
# VirtualMachineRunCommand_CreateOrUpdate.json request has runAsPassword, its responses do not)
ECHOED = (
    "source",
    "parameters",
    "asyncExecution",
    "treatFailureAsDeploymentFailure",
    "runAsUser",
    "timeoutInSeconds",
    "outputBlobUri",
    "errorBlobUri",
)


def run_command_view(command: RunCommand, clock: SimClock, now: float, expand: bool) -> dict[str, Any]:
    """``VirtualMachineRunCommands_GetByVirtualMachine`` (``VirtualMachineRunCommand_Get.json``); with
    ``$expand=instanceView`` the SDK's ``VirtualMachineRunCommandInstanceView``."""
    state = run_state(command, now)
    props: dict[str, Any] = {key: command.properties[key] for key in ECHOED if key in command.properties}
    props.setdefault("asyncExecution", False)
    props.setdefault("treatFailureAsDeploymentFailure", False)
    props.setdefault("timeoutInSeconds", 0)
    props["provisioningState"] = state.provisioning
    if expand:
        view: dict[str, Any] = {"executionState": state.execution, "executionMessage": ""}
        if command.start is not None:
            view["startTime"] = iso(clock.at(command.start))
        if state.end is not None:
            view["endTime"] = iso(clock.at(state.end))
            view["exitCode"] = command.exit_code if state.execution != "TimedOut" else -1
            view["output"] = command.output
            view["error"] = command.error
            if state.execution == "TimedOut":
                view["executionMessage"] = "Execution timed out."
        else:
            view["exitCode"] = 0
            view["output"] = ""
            view["error"] = ""
        view["statuses"] = []
        props["instanceView"] = view
    return {
        "name": command.name,
        "id": f"{command.vm_id}/runCommands/{command.name}",
        "type": RUN_COMMAND_TYPE,
        "location": command.location,
        "tags": dict(command.properties.get("tags") or {}),
        "properties": props,
    }


# -- sizes and usages -----------------------------------------------------------------------------------------


def sku_view(sku: SkuSpec, location: str, restrictions: list[dict[str, Any]]) -> dict[str, Any]:
    """An entry of ``ResourceSkus_List`` (``ListAvailableResourceSkusForARegion.json``), with ``restrictions`` (the
    SDK's ``ResourceSkuRestrictions``: type, values, restrictionInfo, reasonCode)."""
    capabilities = {
        "vCPUs": str(sku.v_cpus),
        "MemoryGB": f"{sku.memory_gb:g}",
        "vCPUsAvailable": str(sku.v_cpus),
        "HyperVGenerations": "V1,V2",
        "PremiumIO": "True" if "s" in sku.name.split("_")[1][1:].lower() else "False",
        "MaxDataDiskCount": str(min(64, sku.v_cpus * 4)),
        "MaxNetworkInterfaces": str(min(8, max(2, sku.v_cpus // 2))),
    }
    return {
        "resourceType": "virtualMachines",
        "locations": [location],
        "capabilities": [{"name": name, "value": value} for name, value in capabilities.items()],
        "locationInfo": [{"location": location, "zones": list(sku.zones), "zoneDetails": []}],
        "name": sku.name,
        "tier": sku.name.split("_", 1)[0],
        "size": sku.name.split("_", 1)[1] if "_" in sku.name else sku.name,
        "family": sku.family,
        "restrictions": restrictions,
    }


def restriction_view(location: str, kind: str, zones: list[str], reason: str) -> dict[str, Any]:
    """A ``Location`` or ``Zone`` restriction as ARM lists it (Microsoft Learn, "Resolve errors for SKU not
    available": ``az vm list-skus`` shows the type, the location, the zones and ``NotAvailableForSubscription``)."""
    info: dict[str, Any] = {"locations": [location]}
    if kind == "Zone":
        info["zones"] = list(zones)
    return {"type": kind, "values": [location], "restrictionInfo": info, "reasonCode": reason}


def usage_view(name: str, current: int, limit: int) -> dict[str, Any]:
    """An entry of ``Usage_List`` (``Usage_List_MaximumSet_Gen.json``); localized names as the portal shows them
    (``cores``: "Total Regional vCPUs"; ``standardDSv5Family``: "Standard DSv5 Family vCPUs")."""
    localized = "Total Regional vCPUs" if name == "cores" else f"{name} vCPUs"
    if name.startswith("standard") and name.endswith("Family"):
        localized = f"Standard {name[len('standard') : -len('Family')]} Family vCPUs"
    return {
        "unit": "Count",
        "currentValue": current,
        "limit": limit,
        "name": {"value": name, "localizedValue": localized},
    }
