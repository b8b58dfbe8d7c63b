"""The one door to ``Microsoft.Compute``: the VMs a migration made, Run Commands on them, and a region's sizes and
quotas. The only code that imports the Compute SDK.

It shares :class:`migration.asr.SiteRecovery`'s settings, credential and ARM endpoint, and its rules:

* **Start, don't wait.** A Run Command is put with ``polling=False``; the orchestrator reads it again on a durable
  timer, so no worker holds a poller while a script runs for minutes.
* **Refuse what isn't ours.** A VM outside ``ASR_ALLOWED_TARGET_SCOPES`` is never read or scripted: the identity's
  Virtual Machine Contributor grant is on those resource groups only, and a plan must not point the app's scripts at
  another VM. Regional reads (sizes, usages) name a subscription only, which the target scope must hold.
* **Answers as data.** Reads return small JSON-ready dictionaries of what the checks judge, never SDK models; a
  script's output is cut to an excerpt (Run Command itself keeps only the last 4,096 bytes of each stream, Microsoft
  Learn "Run scripts in your VM by using managed Run Commands").

Failures arrive as :class:`~migration.errors.AsrTransientError` (throttling, 5xx) or
:class:`~migration.errors.AsrPermanentError`, as from Site Recovery.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.models import VirtualMachineRunCommand

from migration.arm_ids import InvalidResourceIdError, parse_resource_id
from migration.asr import SiteRecovery
from migration.asr_errors import asr_error_from_exception, translated
from migration.errors import AsrPermanentError
from migration.status_bounds import clipped, clipped_tail

__all__ = ["Compute", "RunCommandRequest", "VmAddress", "OUTPUT_EXCERPT"]

VM_TYPE = "Microsoft.Compute/virtualMachines"
NIC_TYPE = "Microsoft.Network/networkInterfaces"
# Microsoft.Network's api-version for reading a network interface (the NetworkInterfaces_Get example's version): the
# app reads NICs through the Compute client's pipeline, without the Network SDK, as it reads Azure Migrate discovery.
NETWORK_API_VERSION = "2024-05-01"
# How much of a script's output and error a record keeps: enough to show why it failed, small enough that a wave of
# a thousand machines with ten scripts each stays within the orchestration payload limits.
OUTPUT_EXCERPT = 600
# Run Command's execution states that end a script (SDK ExecutionState).
FINISHED_STATES = frozenset({"Succeeded", "Failed", "TimedOut", "Canceled"})


@dataclass(frozen=True)
class VmAddress:
    """A VM by its ARM id, checked: ``/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/
    virtualMachines/{name}``."""

    subscription_id: str
    resource_group: str
    name: str

    @classmethod
    def parse(cls, vm_id: str) -> VmAddress:
        try:
            rid = parse_resource_id(vm_id)
        except InvalidResourceIdError as error:
            raise AsrPermanentError(f"{vm_id!r} is not an ARM id: {error}", code="InvalidResourceId") from None
        if not rid.is_type(VM_TYPE) or rid.subscription_id is None or rid.resource_group is None:
            raise AsrPermanentError(f"{vm_id} is not a virtual machine's id", code="InvalidResourceId")
        return cls(rid.subscription_id, rid.resource_group, rid.names[-1])

    @property
    def resource_group_id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"

    @property
    def id(self) -> str:
        return f"{self.resource_group_id}/providers/{VM_TYPE}/{self.name}"


@dataclass(frozen=True)
class RunCommandRequest:
    """A script to run as a managed Run Command named ``name`` on a VM: inline or by URI, with its parameters."""

    name: str
    script: str | None
    script_uri: str | None
    parameters: tuple[tuple[str, str], ...]
    timeout_seconds: int


def _text(value: Any) -> str:
    """An SDK field as the service spelled it: enums by their value (``Linux``, ``Running``), else ``str``."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _statuses(view: Any) -> list[Any]:
    return list(getattr(view, "statuses", None) or [])


def _code(statuses: list[Any], prefix: str) -> str | None:
    for status in statuses:
        code = str(getattr(status, "code", "") or "")
        if code.startswith(prefix):
            return code.split("/", 1)[1]
    return None


class Compute:
    """Compute for the activities: one SDK client per subscription, shared across threads."""

    _RETRY: dict[str, Any] = {"retry_total": 2, "retry_backoff_factor": 0.5, "retry_backoff_max": 10}

    def __init__(self, site_recovery: SiteRecovery) -> None:
        self._asr = site_recovery
        self._clients: dict[str, ComputeManagementClient] = {}
        self._lock = threading.Lock()

    def client(self, subscription_id: str) -> ComputeManagementClient:
        with self._lock:
            client = self._clients.get(subscription_id)
            if client is None:
                client = ComputeManagementClient(
                    self._asr.credential(),
                    subscription_id,
                    base_url=self._asr.settings.arm_endpoint,
                    **self._RETRY,
                )
                self._clients[subscription_id] = client
            return client

    def _check_vm(self, vm: VmAddress, stage: str | None) -> None:
        if not self._asr.settings.allows_target(vm.resource_group_id):
            raise AsrPermanentError(
                f"VM {vm.id} is outside ASR_ALLOWED_TARGET_SCOPES; the app may not read or script it",
                code="TargetNotAllowed",
                stage=stage,
            )

    # -- VMs ----------------------------------------------------------------------------------------------

    def read_vm(self, vm_id: str, *, network: bool = False, stage: str | None = None) -> dict[str, Any]:
        """What the checks judge of a VM (one GET with ``$expand=instanceView``): ``{"exists"}`` and, when it does,
        ``powerState``, ``provisioningState``, ``agent`` (the agent's displayed status), ``agentMessage``,
        ``bootDiagnosticsError`` (the instance view's boot diagnostics status when it is an error), ``osType``,
        ``vmSize``, ``location``; with ``network``, also ``networks``: the virtual network of each NIC's IP
        configurations (one GET per NIC)."""
        vm = VmAddress.parse(vm_id)
        found = self._get_vm(vm, stage, expand="instanceView")
        if found is None:
            return {"exists": False}
        properties = found
        view = getattr(properties, "instance_view", None)
        agent = getattr(view, "vm_agent", None)
        agent_statuses = _statuses(agent)
        boot = getattr(view, "boot_diagnostics", None)
        boot_status = getattr(boot, "status", None)
        boot_error = None
        if boot_status is not None and _text(getattr(boot_status, "level", None)).lower() == "error":
            boot_error = clipped(str(getattr(boot_status, "message", "") or boot_status.code), OUTPUT_EXCERPT)
        os_disk = getattr(getattr(found, "storage_profile", None), "os_disk", None)
        nics = [
            str(nic.id) for nic in getattr(getattr(found, "network_profile", None), "network_interfaces", None) or []
        ]
        networks = self._networks_of(vm, nics, stage) if network else None
        return {
            "exists": True,
            "powerState": _code(_statuses(view), "PowerState/"),
            "provisioningState": getattr(found, "provisioning_state", None),
            "agent": str(getattr(agent_statuses[0], "display_status", "") or "") if agent_statuses else None,
            "agentMessage": clipped(str(getattr(agent_statuses[0], "message", "") or ""), 300)
            if agent_statuses
            else None,
            "bootDiagnosticsError": boot_error,
            "osType": _text(getattr(os_disk, "os_type", None)) or None,
            "vmSize": _text(getattr(getattr(found, "hardware_profile", None), "vm_size", None)) or None,
            "location": found.location,
            **({"networks": networks} if networks is not None else {}),
        }

    def _networks_of(self, vm: VmAddress, nic_ids: list[str], stage: str | None) -> list[str]:
        """The virtual networks the VM's NICs are in, in order, without repeats. A NIC id comes from the VM's own
        answer; it is parsed and rebuilt, and must lie in an allowed target scope too, so an answer cannot point the
        read anywhere else."""
        networks: list[str] = []
        client = self.client(vm.subscription_id)
        for nic_id in nic_ids:
            try:
                rid = parse_resource_id(nic_id)
            except InvalidResourceIdError as error:
                raise AsrPermanentError(f"{nic_id!r} is not an ARM id: {error}", code="InvalidResourceId") from None
            if not rid.is_type(NIC_TYPE) or rid.resource_group is None:
                raise AsrPermanentError(f"{nic_id} is not a network interface's id", code="InvalidResourceId")
            group = f"/subscriptions/{rid.subscription_id}/resourceGroups/{rid.resource_group}"
            if not self._asr.settings.allows_target(group):
                raise AsrPermanentError(
                    f"network interface {nic_id} is outside ASR_ALLOWED_TARGET_SCOPES", code="TargetNotAllowed"
                )
            url = f"{self._asr.settings.arm_endpoint}{rid}?api-version={NETWORK_API_VERSION}"
            with translated(stage):
                response = client.send_request(HttpRequest("GET", url), **self._asr.call_options())
                response.raise_for_status()
                body: dict[str, Any] = response.json()
            for configuration in (body.get("properties") or {}).get("ipConfigurations") or []:
                subnet = str(((configuration.get("properties") or {}).get("subnet") or {}).get("id") or "")
                network_id = subnet.rsplit("/subnets/", 1)[0] if "/subnets/" in subnet else ""
                if network_id and network_id.lower() not in (n.lower() for n in networks):
                    networks.append(network_id)
        return networks

    # -- Run Commands -------------------------------------------------------------------------------------

    def start_run_command(
        self, vm_id: str, location: str, request: RunCommandRequest, *, stage: str | None = None
    ) -> dict[str, Any]:
        """Put the run command unless it exists (a retried activity adopts the script already running: a second put
        would run it again); returns :meth:`read_run_command`'s answer or ``{"started": True}``."""
        vm = VmAddress.parse(vm_id)
        existing = self.read_run_command(vm_id, request.name, stage=stage)
        if existing["exists"]:
            return existing
        source = {"script": request.script} if request.script is not None else {"scriptUri": request.script_uri}
        body: dict[str, Any] = {
            "location": location,
            "properties": {
                "source": source,
                "parameters": [{"name": name, "value": value} for name, value in request.parameters],
                "timeoutInSeconds": request.timeout_seconds,
                "asyncExecution": False,
                "treatFailureAsDeploymentFailure": False,
            },
        }
        client = self.client(vm.subscription_id)
        with translated(stage):
            client.virtual_machine_run_commands.begin_create_or_update(
                vm.resource_group,
                vm.name,
                request.name,
                VirtualMachineRunCommand(body),
                **self._asr.call_options(polling=False),
            )
        return {"exists": True, "executionState": "Pending", "finished": False}

    def read_run_command(self, vm_id: str, name: str, *, stage: str | None = None) -> dict[str, Any]:
        """The run command's instance view: ``{"exists", "executionState", "finished", "exitCode", "output",
        "errorOutput", "message"}`` (the output and error streams as their last :data:`OUTPUT_EXCERPT` characters)."""
        vm = VmAddress.parse(vm_id)
        self._check_vm(vm, stage)
        client = self.client(vm.subscription_id)
        try:
            found = client.virtual_machine_run_commands.get_by_virtual_machine(
                vm.resource_group, vm.name, name, expand="instanceView", **self._asr.call_options()
            )
        except ResourceNotFoundError:
            return {"exists": False}
        except AzureError as error:
            raise asr_error_from_exception(error, stage=stage) from None
        view = found.instance_view
        state = _text(getattr(view, "execution_state", None)) or "Unknown"
        finished = state in FINISHED_STATES
        return {
            "exists": True,
            "executionState": state,
            "finished": finished,
            "exitCode": getattr(view, "exit_code", None) if finished else None,
            "output": clipped_tail(str(getattr(view, "output", "") or ""), OUTPUT_EXCERPT) if finished else "",
            "errorOutput": clipped_tail(str(getattr(view, "error", "") or ""), OUTPUT_EXCERPT) if finished else "",
            "message": clipped(str(getattr(view, "execution_message", "") or ""), 300),
        }

    # -- regions ------------------------------------------------------------------------------------------

    def list_skus(self, subscription_id: str, location: str, *, stage: str | None = None) -> list[Any]:
        """The VM sizes (``resourceType`` virtualMachines) the subscription sees in ``location``, as SDK models."""
        client = self.client(subscription_id)
        with translated(stage):
            skus = client.resource_skus.list(filter=f"location eq '{location}'", **self._asr.call_options())
            return [sku for sku in skus if (sku.resource_type or "").lower() == "virtualmachines"]

    def list_usages(self, subscription_id: str, location: str, *, stage: str | None = None) -> list[Any]:
        """The subscription's compute usages in ``location`` (``cores`` and one per VM family), as SDK models."""
        client = self.client(subscription_id)
        with translated(stage):
            return list(client.usage.list(location, **self._asr.call_options()))

    def vm_exists(self, vm_id: str, *, stage: str | None = None) -> bool:
        """Whether a VM of that id exists (one GET, no instance view)."""
        return self._get_vm(VmAddress.parse(vm_id), stage) is not None

    def read_vm_size(self, vm_id: str, *, stage: str | None = None) -> str | None:
        """The VM's size (``hardwareProfile.vmSize``; one GET, no instance view), or None when it does not exist:
        the size an Azure VM's migration target takes when the plan names none."""
        found = self._get_vm(VmAddress.parse(vm_id), stage)
        return None if found is None else _text(getattr(found.hardware_profile, "vm_size", None)) or None

    def _get_vm(self, vm: VmAddress, stage: str | None, *, expand: str | None = None) -> Any:
        """The VM's SDK model (one GET, inside the target scopes only), or None when it does not exist."""
        self._check_vm(vm, stage)
        client = self.client(vm.subscription_id)
        options = self._asr.call_options(**({"expand": expand} if expand else {}))
        try:
            return client.virtual_machines.get(vm.resource_group, vm.name, **options)
        except ResourceNotFoundError:
            return None
        except AzureError as error:
            raise asr_error_from_exception(error, stage=stage) from None

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
