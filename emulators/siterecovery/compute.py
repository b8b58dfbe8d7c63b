"""``Microsoft.Compute`` on the same ARM base URL: the VMs Site Recovery and Azure Migrate create, managed run
commands on them, the sizes a region offers and its vCPU quotas.

What a migration checks before the point of no return: that the target size is offered and has quota
(``skus``, ``locations/{location}/usages``), and, after a test failover or test migration, that the VM came up
(``$expand=instanceView``: power state, VM agent) and answers a script (``runCommands``). The VMs are the ones the
jobs create (``Store.azure_vms``): a failover, test failover, migration or test migration adds its VM when the job
succeeds; a test cleanup deletes the test VM, which then answers 404 ``ResourceNotFound``.

A run command's script runs nowhere: its outcome comes from the faults (``runCommand``) or succeeds with exit code 0
and the script's first line as output. ``PUT`` answers as Compute does (``201``, ``provisioningState: Creating`` and
``Azure-AsyncOperation`` naming ``locations/{location}/operations/{id}``); the SDK's ``ARMPolling`` polls that status,
then GETs the run command (``begin_create_or_update`` accepts 200 and 201 and reads ``Location``/``Retry-After``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulators.siterecovery.arm import Reply, match_segments, retry_after_header
from emulators.siterecovery.clock import iso
from emulators.siterecovery.compute_views import (
    DEFAULT_VM_SIZE,
    instance_view,
    nic_name,
    nic_view,
    restriction_view,
    run_command_view,
    run_state,
    sku_view,
    usage_view,
    vm_view,
)
from emulators.siterecovery.errors import ArmError, bad_request
from emulators.siterecovery.filters import parse_filter
from emulators.siterecovery.offazure_lists import page
from emulators.siterecovery.state import AzureVm, RunCommand, Store
from emulators.siterecovery.topology import ComputeRegionSpec, SkuSpec

NAMESPACE = "Microsoft.Compute"
# The one Microsoft.Network resource the stand-in serves: the network interfaces of the VMs it serves.
NETWORK_NAMESPACE = "Microsoft.Network"
# ComputeRP's stable versions from 2024 on (azure-mgmt-compute 39 sends 2026-04-01); the Skus API has its own
SERVICE_VERSIONS = ("2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01", "2026-04-01")
SKU_VERSIONS = ("2021-07-01",)
# Microsoft.Network's stable versions of 2024 (NetworkInterfaceGet.json is the 2024-05-01 example)
NETWORK_VERSIONS = ("2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01")
# how long a script runs, in simulated seconds (inferred: a short script on a running VM)
SCRIPT_SECONDS = 60.0
_SUB = ("subscriptions", "*")
_VM = (*_SUB, "resourcegroups", "*", "providers", "microsoft.compute", "virtualmachines", "*")
_LOCATION = (*_SUB, "providers", "microsoft.compute", "locations", "*")
_NIC = (*_SUB, "resourcegroups", "*", "providers", "microsoft.network", "networkinterfaces", "*")


@dataclass
class ComputeCtx:
    """One Compute request: its query, body, the URL it was sent to and the simulated now."""

    store: Store
    method: str
    query: Mapping[str, str]
    body: Any
    link_base: str  # the request's URL without its query
    base_url: str
    now: float


ComputeHandler = Callable[[ComputeCtx, list[str]], Reply]


@dataclass(frozen=True)
class ComputeRoute:
    """What a Compute path resolved to; ``resource_type`` None: the namespace, but no type the emulator serves."""

    operation: str
    handler: ComputeHandler | None  # None: the path exists but not with this method
    params: list[str]
    resource_type: str | None
    versions: tuple[str, ...] = SERVICE_VERSIONS
    namespace: str = NAMESPACE


# -- lookups -------------------------------------------------------------------------------------------------


def check_subscription(store: Store, subscription: str) -> None:
    """ARM's 404 for a subscription the emulator does not hold (the vaults' subscriptions)."""
    if subscription.lower() not in {v.subscription_id.lower() for v in store.vaults.values()}:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")


def _vm_id(p: list[str]) -> str:
    return f"/subscriptions/{p[0]}/resourceGroups/{p[1]}/providers/{NAMESPACE}/virtualMachines/{p[2]}"


def _find_vm(ctx: ComputeCtx, p: list[str]) -> AzureVm | None:
    return ctx.store.azure_vms.get(_vm_id(p).lower())


def _vm(ctx: ComputeCtx, p: list[str]) -> AzureVm:
    """The VM, or ARM's ``ResourceNotFound`` (message as ARM words it for a missing top-level resource)."""
    vm = _find_vm(ctx, p)
    if vm is None:
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource '{NAMESPACE}/virtualMachines/{p[2]}' under resource group '{p[1]}' was not found. For more "
            "details please go to https://aka.ms/ARMResourceNotFoundFix",
        )
    return vm


def _parent(ctx: ComputeCtx, p: list[str]) -> AzureVm:
    """The VM a run command belongs to, or ARM's answer for a nested resource under a missing parent: 404
    ``ParentResourceNotFound`` (Microsoft Learn, "Resolve resource not found errors": "Can not perform requested
    operation on nested resource. Parent resource '...' not found.")."""
    vm = _find_vm(ctx, p)
    if vm is None:
        raise ArmError(
            404,
            "ParentResourceNotFound",
            f"Can not perform requested operation on nested resource. Parent resource '{p[2]}' not found.",
        )
    return vm


def _command_key(vm: AzureVm, name: str) -> str:
    return f"{vm.id.lower()}/runcommands/{name.lower()}"


def _command(ctx: ComputeCtx, vm: AzureVm, p: list[str]) -> RunCommand:
    command = ctx.store.run_commands.get(_command_key(vm, p[3]))
    if command is None:
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource '{NAMESPACE}/virtualMachines/{vm.name}/runCommands/{p[3]}' under resource group "
            f"'{p[1]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        )
    return command


def _expand(ctx: ComputeCtx, *, user_data: bool = False) -> bool:
    """``$expand=instanceView``; a VM also takes ``userData`` (the emulator's VMs have none). Any other value is
    refused (code and message inferred)."""
    value = ctx.query.get("$expand")
    if value is None or (user_data and value.lower() == "userdata"):
        return False
    if value.lower() == "instanceview":
        return True
    raise bad_request("InvalidParameter", f"The value '{value}' of parameter '$expand' is not valid.", "$expand")


def _agent_ready(ctx: ComputeCtx, vm: AzureVm) -> bool:
    return ctx.store.faults.vm_boot(vm.name) is None


def _settle(ctx: ComputeCtx, command: RunCommand) -> None:
    """A pending script starts once its VM's agent is ready (under the store lock, at the request's instant)."""
    if command.start is None:
        vm = ctx.store.azure_vms.get(command.vm_id.lower())
        if vm is not None and _agent_ready(ctx, vm):
            command.start = ctx.now


# -- virtual machines ----------------------------------------------------------------------------------------


def vm_get(ctx: ComputeCtx, p: list[str]) -> Reply:
    vm = _vm(ctx, p)
    view = (
        instance_view(vm, ctx.store.clock, ctx.store.faults.vm_boot(vm.name)) if _expand(ctx, user_data=True) else None
    )
    return Reply(200, vm_view(vm, ctx.store.clock, view))


def nic_get(ctx: ComputeCtx, p: list[str]) -> Reply:
    """A VM's network interface (``{vm}-nic``), in the network its failover or test failover attached it to (a
    ``vmNetwork`` fault moves it); 404 ``ResourceNotFound`` once the VM is gone."""
    group = f"/subscriptions/{p[0]}/resourcegroups/{p[1]}".lower()
    for vm in ctx.store.azure_vms.values():
        if vm.id.lower().startswith(f"{group}/") and nic_name(vm).lower() == p[2].lower():
            moved = ctx.store.faults.vm_network(vm.name)
            return Reply(200, nic_view(vm, moved.network_id if moved else vm.network_id))
    raise ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{NETWORK_NAMESPACE}/networkInterfaces/{p[2]}' under resource group '{p[1]}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def vm_instance_view(ctx: ComputeCtx, p: list[str]) -> Reply:
    vm = _vm(ctx, p)
    return Reply(200, instance_view(vm, ctx.store.clock, ctx.store.faults.vm_boot(vm.name)))


# -- run commands --------------------------------------------------------------------------------------------


def _first_line(source: Mapping[str, Any]) -> str:
    script = source.get("script")
    if isinstance(script, str) and script.strip():
        return script.strip().splitlines()[0]
    return str(source.get("commandId") or source.get("scriptUri") or "")


def _check_put(ctx: ComputeCtx) -> dict[str, Any]:
    """The body the SDK's ``VirtualMachineRunCommand`` model sends: ``location`` and ``properties.source`` required
    (``location`` is required by the model; a run command without a source has nothing to run: message inferred)."""
    body = ctx.body
    if not isinstance(body, dict) or not isinstance(body.get("location"), str):
        raise bad_request("LocationRequired", "The location property is required for this definition.")
    props = body.get("properties")
    if not isinstance(props, dict) or not isinstance(props.get("source"), dict) or not props["source"]:
        raise bad_request(
            "InvalidParameter", "Required parameter 'source' is missing (null).", "runCommand.properties.source"
        )
    timeout = props.get("timeoutInSeconds")
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0):
        raise bad_request(
            "InvalidParameter", "timeoutInSeconds must be a non-negative integer.", "properties.timeoutInSeconds"
        )
    return body


def run_command_put(ctx: ComputeCtx, p: list[str]) -> Reply:
    vm = _parent(ctx, p)
    body = _check_put(ctx)
    props: dict[str, Any] = dict(body["properties"])
    if body.get("tags"):
        props["tags"] = dict(body["tags"])
    key = _command_key(vm, p[3])
    existed = key in ctx.store.run_commands
    fault = ctx.store.faults.run_command(vm.name, p[3])
    exit_code, output, error, duration = 0, _first_line(props["source"]), "", SCRIPT_SECONDS
    if fault is not None and fault.mode == "fail":
        exit_code, output, error = fault.exit_code, "", fault.stderr
    elif fault is not None:
        duration = math.inf
    command = RunCommand(
        vm_id=vm.id,
        name=p[3],
        location=vm.location,
        properties=props,
        created=ctx.now,
        operation_id=ctx.store.new_guid(),
        duration=duration,
        exit_code=exit_code,
        output=output,
        error=error,
    )
    ctx.store.run_commands[key] = command
    _settle(ctx, command)
    status = (
        f"{ctx.base_url}/subscriptions/{p[0]}/providers/{NAMESPACE}/locations/{vm.location}/operations/"
        f"{command.operation_id}?api-version={ctx.query.get('api-version', '')}"
    )
    return Reply(
        200 if existed else 201,
        run_command_view(command, ctx.store.clock, ctx.now, expand=False),
        {"Azure-AsyncOperation": status, "Retry-After": retry_after_header(ctx.store)},
    )


def run_command_get(ctx: ComputeCtx, p: list[str]) -> Reply:
    vm = _parent(ctx, p)
    command = _command(ctx, vm, p)
    _settle(ctx, command)
    return Reply(200, run_command_view(command, ctx.store.clock, ctx.now, expand=_expand(ctx)))


def run_command_delete(ctx: ComputeCtx, p: list[str]) -> Reply:
    """200 when it existed, 204 when not (ARM's DELETE of an absent resource); the SDK accepts 200, 202 and 204."""
    vm = _parent(ctx, p)
    removed = ctx.store.run_commands.pop(_command_key(vm, p[3]), None)
    return Reply(200 if removed is not None else 204)


def operation_get(ctx: ComputeCtx, p: list[str]) -> Reply:
    """``locations/{location}/operations/{id}``: a run command's provisioning as an ARM async operation status
    (``{"name", "status", "startTime", "endTime"?, "error"?}``; ``Retry-After`` while in progress). With
    ``advance_on_poll`` a poll of a running operation means the client waited ``Retry-After``."""
    command = next((c for c in ctx.store.run_commands.values() if c.operation_id == p[2]), None)
    if command is None:
        raise ArmError(404, "NotFound", f"The operation '{p[2]}' was not found.")
    _settle(ctx, command)
    state = run_state(command, ctx.now)
    if state.provisioning == "Creating" and ctx.store.advance_on_poll:
        ctx.store.clock.advance(ctx.store.timing.retry_after_seconds)
        ctx.now = ctx.store.settle()
        _settle(ctx, command)
        state = run_state(command, ctx.now)
    body: dict[str, Any] = {"name": command.operation_id, "startTime": iso(ctx.store.clock.at(command.created))}
    if state.provisioning == "Creating":
        body["status"] = "InProgress"
        return Reply(200, body, {"Retry-After": retry_after_header(ctx.store)})
    body["status"] = state.provisioning
    body["endTime"] = iso(ctx.store.clock.at(state.end if state.end is not None else ctx.now))
    if state.provisioning == "Failed":
        # inferred wording: the run command handler's failure as Compute reports an extension's
        body["error"] = {
            "code": "VMExtensionProvisioningError",
            "message": f"VM has reported a failure when processing extension '{command.name}'. Error message: "
            f"'{command.error or state.execution}'.",
        }
    return Reply(200, body)


# -- sizes and usages ----------------------------------------------------------------------------------------


def _regions(store: Store, location: str | None) -> list[ComputeRegionSpec]:
    regions = store.topology.compute
    if location is None:
        return list(regions)
    return [r for r in regions if r.location.lower() == location.lower().replace(" ", "")]


def _restrictions(store: Store, location: str, sku: SkuSpec) -> list[dict[str, Any]]:
    declared = [(r.type, r.zones, r.reason_code) for r in sku.restrictions]
    injected = [(f.type, f.zones, f.reason_code) for f in store.faults.sku_restrictions(location, sku.name)]
    return [restriction_view(location, kind, zones, reason) for kind, zones, reason in declared + injected]


def skus_list(ctx: ComputeCtx, p: list[str]) -> Reply:
    """``ResourceSkus_List``: ``$filter`` takes ``location eq '...'`` only (the Skus spec: "The filter to apply on the
    operation. Only **location** filter is supported currently.")."""
    text = ctx.query.get("$filter")
    location = parse_filter(text, {"location"}).get("location") if text else None
    rows = [(region.location, sku) for region in _regions(ctx.store, location) for sku in region.skus]
    body = page(
        rows,
        lambda row: sku_view(row[1], row[0], _restrictions(ctx.store, row[0], row[1])),
        query=ctx.query,
        link_base=ctx.link_base,
        page_size=ctx.store.timing.page_size,
        with_top=False,
    )
    return Reply(200, body)


def _vcpus(store: Store, region: ComputeRegionSpec) -> dict[str, int]:
    """vCPUs the emulator's VMs in a region hold, per family and in total (``cores``); a size the region does not
    list counts toward ``cores`` only when its vCPUs are known."""
    sizes = {sku.name.lower(): sku for sku in region.skus}
    used: dict[str, int] = {}
    for vm in store.azure_vms.values():
        sku = sizes.get((vm.size or DEFAULT_VM_SIZE).lower())
        if vm.location.lower() != region.location.lower() or sku is None:
            continue
        used[sku.family] = used.get(sku.family, 0) + sku.v_cpus
        used["cores"] = used.get("cores", 0) + sku.v_cpus
    return used


def usages_list(ctx: ComputeCtx, p: list[str]) -> Reply:
    """``Usage_List``: each quota of the region; ``currentValue`` is the topology's ``used`` plus the vCPUs of the VMs
    the emulator holds there, or the limit while a ``quotaExhausted`` fault is in place. A region the topology
    does not describe answers an empty list (inferred)."""
    location = p[1]
    rows: list[dict[str, Any]] = []
    for region in _regions(ctx.store, location):
        used = _vcpus(ctx.store, region)
        for quota in region.quotas:
            current = quota.used + used.get(quota.name, 0)
            if ctx.store.faults.quota_exhausted(region.location, quota.name):
                current = max(current, quota.limit)
            rows.append(usage_view(quota.name, current, quota.limit))
    body = page(
        rows,
        lambda row: row,
        query=ctx.query,
        link_base=ctx.link_base,
        page_size=ctx.store.timing.page_size,
        with_top=False,
    )
    return Reply(200, body)


# -- routes --------------------------------------------------------------------------------------------------

# (pattern, resource type for api-version answers, accepted versions, {method: (operationId, handler)})
ROUTES: list[tuple[tuple[str, ...], str, tuple[str, ...], dict[str, tuple[str, ComputeHandler]]]] = [
    (_VM, "virtualMachines", SERVICE_VERSIONS, {"GET": ("VirtualMachines_Get", vm_get)}),
    (
        (*_VM, "instanceview"),
        "virtualMachines",
        SERVICE_VERSIONS,
        {"GET": ("VirtualMachines_InstanceView", vm_instance_view)},
    ),
    (
        (*_VM, "runcommands", "*"),
        "virtualMachines/runCommands",
        SERVICE_VERSIONS,
        {
            "PUT": ("VirtualMachineRunCommands_CreateOrUpdate", run_command_put),
            "GET": ("VirtualMachineRunCommands_GetByVirtualMachine", run_command_get),
            "DELETE": ("VirtualMachineRunCommands_Delete", run_command_delete),
        },
    ),
    (
        (*_SUB, "providers", "microsoft.compute", "skus"),
        "skus",
        SKU_VERSIONS,
        {"GET": ("ResourceSkus_List", skus_list)},
    ),
    ((*_LOCATION, "usages"), "locations/usages", SERVICE_VERSIONS, {"GET": ("Usage_List", usages_list)}),
    (_NIC, "networkInterfaces", NETWORK_VERSIONS, {"GET": ("NetworkInterfaces_Get", nic_get)}),
    (
        (*_LOCATION, "operations", "*"),
        "locations/operations",
        SERVICE_VERSIONS,
        {"GET": ("ComputeOperationStatus_Get", operation_get)},
    ),
]


def resolve(method: str, segments: list[str]) -> ComputeRoute | None:
    """The Compute (or network interface) operation for a path (segments URL-decoded); None if the path is under
    neither namespace."""
    if len(segments) < 4 or segments[0].lower() != "subscriptions":
        return None
    provider_at = 2 if segments[2].lower() == "providers" else 4
    if len(segments) <= provider_at + 1 or segments[provider_at].lower() != "providers":
        return None
    namespace = {NAMESPACE.lower(): NAMESPACE, NETWORK_NAMESPACE.lower(): NETWORK_NAMESPACE}.get(
        segments[provider_at + 1].lower()
    )
    if namespace is None:
        return None
    for pattern, resource_type, versions, methods in ROUTES:
        params = match_segments(pattern, segments)
        if params is None:
            continue
        if method not in methods:
            return ComputeRoute("", None, params, resource_type, versions, namespace)
        operation, handler = methods[method]
        return ComputeRoute(operation, handler, params, resource_type, versions, namespace)
    return ComputeRoute("", None, [segments[1]], None, namespace=namespace)
