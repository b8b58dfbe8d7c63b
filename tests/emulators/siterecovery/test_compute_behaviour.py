"""``Microsoft.Compute`` behaviour through the real ``ComputeManagementClient``: the VMs Site Recovery and Azure Migrate
jobs create and the cleanups delete, run commands and their long-running operation, sizes and quotas, every Compute
fault, and ARM's answers for what does not exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.models import (
    VirtualMachineRunCommand,
    VirtualMachineRunCommandProperties,
    VirtualMachineRunCommandScriptSource,
)
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, TopologyError, parse_topology, start_emulator
from emulators.siterecovery.client import emulator_client, emulator_compute_client
from emulators.siterecovery.topology import load_topology
from tests.emulators.siterecovery.conftest import REPO_ROOT, TOPOLOGY
from tests.emulators.siterecovery.migration_support import TEST_NET, enable_body, item_args, migration_topology
from tests.emulators.siterecovery.scenario import (
    A2A,
    HYPERV,
    RCM_VMWARE,
    RG,
    VAULT,
    VAULT_ID,
    Machine,
    tfo_input,
    unplanned_failover_input,
)

SOURCE_RG, SOURCE_VM = "rg-apps", "app01"  # an A2A source VM of the example topology (westeurope)
API = "2026-04-01"


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with start_emulator(migration_topology(), advance_on_poll=True) as handle:
        yield handle


@pytest.fixture
def asr(emu: EmulatorHandle) -> SiteRecoveryManagementClient:
    return emulator_client(emu.base_url, emu.subscription_id, retry_total=0)


@pytest.fixture
def compute(emu: EmulatorHandle) -> ComputeManagementClient:
    return emulator_compute_client(emu.base_url, emu.subscription_id, retry_total=0)


def _code(exc: HttpResponseError) -> str | None:
    return exc.error.code if exc.error is not None else None


def _script(text: str = "hostname\nuptime", **props: Any) -> VirtualMachineRunCommand:
    source = VirtualMachineRunCommandScriptSource(script=text)
    return VirtualMachineRunCommand(
        location="westeurope", properties=VirtualMachineRunCommandProperties(source=source, **props)
    )


def _view(compute: ComputeManagementClient, name: str = "check", vm: str = SOURCE_VM, rg: str = SOURCE_RG) -> Any:
    command = compute.virtual_machine_run_commands.get_by_virtual_machine(rg, vm, name, expand="instanceView")
    return command, command.instance_view


def _power(compute: ComputeManagementClient, rg: str, vm: str) -> list[str]:
    view = compute.virtual_machines.instance_view(rg, vm)
    return [s.code or "" for s in view.statuses or []]


def _protected(emu: EmulatorHandle, asr: SiteRecoveryManagementClient, m: Machine) -> tuple[str, str, str, str, str]:
    args = (RG, VAULT, m.fabric, m.container, m.item)
    asr.replication_protected_items.begin_create(*args, m.enable).result()
    emu.advance_until_idle()
    return args


# -- VMs appear with their jobs and go with their cleanups -------------------------------------------------------


@pytest.mark.parametrize(("m", "rg"), [(A2A, "rg-apps-neu"), (RCM_VMWARE, "rg-landing")], ids=["A2A", "InMageRcm"])
def test_test_failover_vm_appears_and_cleanup_deletes_it(
    emu: EmulatorHandle, asr: SiteRecoveryManagementClient, compute: ComputeManagementClient, m: Machine, rg: str
) -> None:
    args = _protected(emu, asr, m)
    name = f"{m.friendly}-test"
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(rg, name)
    asr.replication_protected_items.begin_test_failover(*args, tfo_input(m)).result()
    vm = compute.virtual_machines.get(rg, name, expand="instanceView")
    assert vm.instance_view is not None and vm.provisioning_state == "Succeeded"
    assert "PowerState/running" in [s.code for s in vm.instance_view.statuses or []]
    asr.replication_protected_items.begin_test_failover_cleanup(*args, {"properties": {"comments": "ok"}}).result()
    with pytest.raises(ResourceNotFoundError) as gone:
        compute.virtual_machines.get(rg, name)
    assert _code(gone.value) == "ResourceNotFound"


def test_recovery_plan_test_failover_vms(
    emu: EmulatorHandle, asr: SiteRecoveryManagementClient, compute: ComputeManagementClient
) -> None:
    args = _protected(emu, asr, HYPERV)
    item = asr.replication_protected_items.get(*args)
    plans = asr.replication_recovery_plans
    groups = [{"groupType": "Boot", "replicationProtectedItems": [{"id": item.id}]}]
    body = {
        "properties": {
            "primaryFabricId": f"{VAULT_ID}/replicationFabrics/{HYPERV.fabric}",
            "recoveryFabricId": "Microsoft Azure",
            "failoverDeploymentModel": "ResourceManager",
            "groups": groups,
        }
    }
    plans.begin_create(RG, VAULT, "wave1", body).result()
    test = {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "networkType": "VmNetworkAsInput",
            "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}],
        }
    }
    plans.begin_test_failover(RG, VAULT, "wave1", test).result()
    assert compute.virtual_machines.get("rg-landing", f"{HYPERV.friendly}-test").provisioning_state == "Succeeded"
    plans.begin_test_failover_cleanup(RG, VAULT, "wave1", {"properties": {"comments": "ok"}}).result()
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get("rg-landing", f"{HYPERV.friendly}-test")


def test_unplanned_failover_vm_stays(
    emu: EmulatorHandle, asr: SiteRecoveryManagementClient, compute: ComputeManagementClient
) -> None:
    args = _protected(emu, asr, A2A)
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get("rg-apps-neu", "app01")
    asr.replication_protected_items.begin_unplanned_failover(*args, unplanned_failover_input(A2A)).result()
    vm = compute.virtual_machines.get("rg-apps-neu", "app01")
    assert vm.location == "northeurope"


def test_test_migration_and_migration_vms(
    emu: EmulatorHandle, asr: SiteRecoveryManagementClient, compute: ComputeManagementClient
) -> None:
    ops = asr.replication_migration_items
    ops.begin_create(*item_args(), enable_body(targetVmSize="Standard_D4s_v5")).result()
    emu.advance_until_idle()
    point = next(iter(asr.migration_recovery_points.list_by_replication_migration_items(*item_args())))
    before = {u.name.value: u.current_value for u in compute.usage.list("westeurope") if u.name}
    test = {"instanceType": "VMwareCbt", "recoveryPointId": point.id, "networkId": TEST_NET}
    ops.begin_test_migrate(*item_args(), {"properties": {"providerSpecificDetails": test}}).result()
    vm = compute.virtual_machines.get("rg-target", "vmw-agentless01-test")
    assert vm.hardware_profile is not None and vm.hardware_profile.vm_size == "Standard_D4s_v5"
    assert vm.storage_profile is not None
    assert [d.disk_size_gb for d in vm.storage_profile.data_disks or []] == [512]
    during = {u.name.value: u.current_value for u in compute.usage.list("westeurope") if u.name}
    assert during["standardDSv5Family"] == before["standardDSv5Family"] + 4
    assert during["cores"] == before["cores"] + 4
    ops.begin_test_migrate_cleanup(*item_args(), {"properties": {"comments": "tested"}}).result()
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get("rg-target", "vmw-agentless01-test")
    migrate = {"instanceType": "VMwareCbt", "performShutdown": "true"}
    ops.begin_migrate(*item_args(), {"properties": {"providerSpecificDetails": migrate}}).result()
    assert compute.virtual_machines.get("rg-target", "vmw-agentless01").location == "westeurope"


def test_cleanup_deletes_the_test_vms_run_commands(
    emu: EmulatorHandle, asr: SiteRecoveryManagementClient, compute: ComputeManagementClient
) -> None:
    args = _protected(emu, asr, RCM_VMWARE)
    asr.replication_protected_items.begin_test_failover(*args, tfo_input(RCM_VMWARE)).result()
    compute.virtual_machine_run_commands.begin_create_or_update("rg-landing", "web01-test", "c", _script()).result()
    asr.replication_protected_items.begin_test_failover_cleanup(*args, {"properties": {}}).result()
    asr.replication_protected_items.begin_test_failover(*args, tfo_input(RCM_VMWARE)).result()
    with pytest.raises(ResourceNotFoundError) as gone:
        compute.virtual_machine_run_commands.get_by_virtual_machine("rg-landing", "web01-test", "c")
    assert _code(gone.value) == "ResourceNotFound"


# -- run commands ------------------------------------------------------------------------------------------------


def test_run_command_lro_completes(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    result = compute.virtual_machine_run_commands.begin_create_or_update(
        SOURCE_RG, SOURCE_VM, "check", _script("Get-Service W32Time\nexit 0")
    ).result()
    assert result.provisioning_state == "Succeeded"
    assert emu.call_count("ComputeOperationStatus_Get") >= 1  # the poller followed Azure-AsyncOperation
    _, view = _view(compute)
    assert (view.execution_state, view.exit_code, view.output, view.error) == (
        "Succeeded",
        0,
        "Get-Service W32Time",
        "",
    )
    assert view.start_time is not None and view.end_time is not None and view.end_time > view.start_time
    compute.virtual_machine_run_commands.begin_delete(SOURCE_RG, SOURCE_VM, "check").result()
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machine_run_commands.get_by_virtual_machine(SOURCE_RG, SOURCE_VM, "check")


def test_run_command_without_polling_is_running_until_time_passes(
    emu: EmulatorHandle, compute: ComputeManagementClient
) -> None:
    emu.store.advance_on_poll = False
    compute.virtual_machine_run_commands.begin_create_or_update(SOURCE_RG, SOURCE_VM, "check", _script(), polling=False)
    command, view = _view(compute)
    assert (command.provisioning_state, view.execution_state, view.end_time) == ("Creating", "Running", None)
    emu.advance(61)
    command, view = _view(compute)
    assert (command.provisioning_state, view.execution_state) == ("Succeeded", "Succeeded")


def test_run_command_fault_fails_the_script(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    emu.add_fault({"kind": "runCommand", "vm": "app0*", "mode": "fail", "exitCode": 3, "stderr": "disk not found"})
    result = compute.virtual_machine_run_commands.begin_create_or_update(
        SOURCE_RG, SOURCE_VM, "check", _script()
    ).result()
    assert result.provisioning_state == "Succeeded"  # treatFailureAsDeploymentFailure false: it ran
    _, view = _view(compute)
    assert (view.execution_state, view.exit_code, view.error, view.output) == ("Failed", 3, "disk not found", "")
    # used up: the next one succeeds
    compute.virtual_machine_run_commands.begin_create_or_update(SOURCE_RG, SOURCE_VM, "check", _script()).result()
    assert _view(compute)[1].execution_state == "Succeeded"


def test_run_command_failure_as_deployment_failure(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    emu.add_fault({"kind": "runCommand", "mode": "fail", "exitCode": 2, "stderr": "boom"})
    poller = compute.virtual_machine_run_commands.begin_create_or_update(
        SOURCE_RG, SOURCE_VM, "check", _script(treat_failure_as_deployment_failure=True)
    )
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    assert _code(failed.value) == "VMExtensionProvisioningError"
    command, view = _view(compute)
    assert (command.provisioning_state, view.execution_state, view.exit_code) == ("Failed", "Failed", 2)


def test_run_command_hangs_and_times_out(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    emu.store.advance_on_poll = False
    emu.add_fault({"kind": "runCommand", "mode": "hang", "times": 2})
    commands = compute.virtual_machine_run_commands
    commands.begin_create_or_update(SOURCE_RG, SOURCE_VM, "check", _script(), polling=False)
    commands.begin_create_or_update(SOURCE_RG, SOURCE_VM, "bounded", _script(timeout_in_seconds=600), polling=False)
    emu.advance(24 * 3600)
    command, view = _view(compute)
    assert (command.provisioning_state, view.execution_state, view.end_time) == ("Creating", "Running", None)
    command, view = _view(compute, "bounded")
    assert (command.provisioning_state, view.execution_state) == ("Succeeded", "TimedOut")
    assert view.end_time is not None and view.start_time is not None
    assert (view.end_time - view.start_time).total_seconds() == 600


def test_run_command_on_a_missing_vm(compute: ComputeManagementClient) -> None:
    """ARM's answer for a nested resource under a missing parent (Microsoft Learn, "Resolve resource not found
    errors": ParentResourceNotFound)."""
    with pytest.raises(ResourceNotFoundError) as put:
        compute.virtual_machine_run_commands.begin_create_or_update(SOURCE_RG, "nope", "check", _script()).result()
    assert _code(put.value) == "ParentResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as get:
        compute.virtual_machine_run_commands.get_by_virtual_machine(SOURCE_RG, "nope", "check")
    assert _code(get.value) == "ParentResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as vm:
        compute.virtual_machines.get(SOURCE_RG, "nope")
    assert _code(vm.value) == "ResourceNotFound"


def test_run_command_needs_a_source(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    path = f"/subscriptions/{emu.subscription_id}/resourceGroups/{SOURCE_RG}/providers/Microsoft.Compute/"
    request = HttpRequest(
        "PUT",
        f"{emu.base_url}{path}virtualMachines/{SOURCE_VM}/runCommands/x",
        params={"api-version": API},
        json={"location": "westeurope", "properties": {}},
    )
    response = compute.send_request(request)
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidParameter"


# -- a VM that does not come up ------------------------------------------------------------------------------------


def test_vm_that_never_boots(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    emu.store.advance_on_poll = False
    fault = emu.add_fault({"kind": "vmBoot", "vm": SOURCE_VM, "mode": "neverBoots"})
    assert _power(compute, SOURCE_RG, SOURCE_VM)[-1] == "PowerState/starting"
    view = compute.virtual_machines.instance_view(SOURCE_RG, SOURCE_VM)
    assert view.vm_agent is not None and view.vm_agent.statuses
    assert view.vm_agent.statuses[0].display_status == "Not Ready"
    assert _power(compute, SOURCE_RG, "app02")[-1] == "PowerState/running"  # only the VM the fault names
    compute.virtual_machine_run_commands.begin_create_or_update(SOURCE_RG, SOURCE_VM, "check", _script(), polling=False)
    emu.advance(3600)
    assert _view(compute)[1].execution_state == "Pending"
    emu.remove_fault(fault)
    assert _power(compute, SOURCE_RG, SOURCE_VM)[-1] == "PowerState/running"
    assert _view(compute)[1].execution_state == "Running"
    emu.advance(61)
    assert _view(compute)[1].execution_state == "Succeeded"


def test_agent_that_never_reports(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    emu.add_fault({"kind": "vmBoot", "vm": SOURCE_VM, "mode": "agentSilent"})
    view = compute.virtual_machines.instance_view(SOURCE_RG, SOURCE_VM)
    assert [s.code for s in view.statuses or []][-1] == "PowerState/running"
    assert view.vm_agent is not None and view.vm_agent.statuses
    assert (view.vm_agent.statuses[0].display_status, view.vm_agent.vm_agent_version) == ("Not Ready", "Unknown")
    assert view.computer_name is None and view.os_name is None  # reported by the agent


# -- sizes and quotas --------------------------------------------------------------------------------------------


def _skus(compute: ComputeManagementClient, location: str = "westeurope") -> dict[str, Any]:
    return {sku.name: sku for sku in compute.resource_skus.list(filter=f"location eq '{location}'") if sku.name}


def _plan_sizes(value: Any) -> set[str]:
    """Every ``vmSize`` an example plan names (at any depth)."""
    if isinstance(value, dict):
        found = {value["vmSize"]} if isinstance(value.get("vmSize"), str) else set()
        return found.union(*(_plan_sizes(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_plan_sizes(v) for v in value))
    return set()


def test_every_size_the_example_plans_name_is_offered(compute: ComputeManagementClient) -> None:
    plans = sorted((REPO_ROOT / "examples" / "plans").glob("*.yaml"))
    sizes = set().union(*(_plan_sizes(yaml.safe_load(p.read_text(encoding="utf-8"))) for p in plans))
    assert sizes  # the plans name target sizes
    regions = {loc for sku in compute.resource_skus.list() for loc in sku.locations or []}
    assert regions == {"westeurope", "northeurope", "swedencentral"}
    for region in regions:
        offered = _skus(compute, region)
        for size in sizes:
            assert size in offered and offered[size].restrictions == [], (region, size)
            assert offered[size].locations == [region]


def test_sku_restriction_fault(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    emu.add_fault({"kind": "skuRestriction", "location": "westeurope", "sku": "Standard_D4s_v5"})
    emu.add_fault({"kind": "skuRestriction", "sku": "Standard_E4s_v5", "type": "Zone", "zones": ["2", "3"]})
    offered = _skus(compute)
    (location,) = offered["Standard_D4s_v5"].restrictions
    assert (location.type, location.as_dict()["values"], location.reason_code) == (
        "Location",
        ["westeurope"],
        "NotAvailableForSubscription",
    )
    (zone,) = offered["Standard_E4s_v5"].restrictions
    assert zone.type == "Zone" and zone.restriction_info is not None and zone.restriction_info.zones == ["2", "3"]
    assert offered["Standard_D2s_v5"].restrictions == []
    assert _skus(compute, "northeurope")["Standard_D4s_v5"].restrictions == []


def test_restrictions_from_the_topology() -> None:
    document = load_topology(TOPOLOGY).model_dump(by_alias=True)
    document["compute"] = [
        {
            "location": "westeurope",
            "skus": [
                {
                    "name": "Standard_D2s_v5",
                    "family": "standardDSv5Family",
                    "vCPUs": 2,
                    "memoryGB": 8,
                    "restrictions": [{"type": "Zone", "zones": ["1"]}],
                }
            ],
            "quotas": [{"name": "cores", "limit": 10, "used": 7}],
        }
    ]
    with start_emulator(document) as emu:
        compute = emulator_compute_client(emu.base_url, emu.subscription_id, retry_total=0)
        (restriction,) = _skus(compute)["Standard_D2s_v5"].restrictions
        assert restriction.type == "Zone" and restriction.restriction_info.zones == ["1"]
        (cores,) = list(compute.usage.list("westeurope"))
        assert (cores.current_value, cores.limit) == (7 + 4, 10)  # app01 and app02 hold 2 vCPUs each


def test_quota_exhausted_fault(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    emu.add_fault({"kind": "quotaExhausted", "location": "westeurope", "name": "standardDSv5Family"})
    usages = {u.name.value: u for u in compute.usage.list("westeurope") if u.name}
    assert usages["standardDSv5Family"].current_value == usages["standardDSv5Family"].limit == 50
    assert usages["standardDSv3Family"].current_value == 0
    other = {u.name.value: u for u in compute.usage.list("northeurope") if u.name}
    assert other["standardDSv5Family"].current_value == 0


def test_topology_without_compute_serves_nothing() -> None:
    document = load_topology(TOPOLOGY).model_dump(by_alias=True)
    del document["compute"]
    with start_emulator(document) as emu:
        compute = emulator_compute_client(emu.base_url, emu.subscription_id, retry_total=0)
        assert list(compute.resource_skus.list()) == []
        assert list(compute.usage.list("westeurope")) == []
        assert compute.virtual_machines.get(SOURCE_RG, SOURCE_VM).name == SOURCE_VM


def test_topology_checks_the_compute_section() -> None:
    document = load_topology(TOPOLOGY).model_dump(by_alias=True)
    document["compute"] = [{"location": "westeurope", "skus": [{"name": "Standard_X", "family": "x", "vCPUs": 0}]}]
    with pytest.raises(TopologyError) as bad:
        parse_topology(document)
    assert any(p.startswith("compute[0].skus[0].vCPUs") for p in bad.value.problems), bad.value.problems
    assert any(p.startswith("compute[0].skus[0].memoryGB") for p in bad.value.problems), bad.value.problems


# -- ARM's refusals ------------------------------------------------------------------------------------------------


def test_refusals(emu: EmulatorHandle, compute: ComputeManagementClient) -> None:
    base = f"{emu.base_url}/subscriptions/{emu.subscription_id}/providers/Microsoft.Compute"

    def get(url: str, **params: str) -> Any:
        return compute.send_request(HttpRequest("GET", url, params=params))

    wrong = get(f"{base}/skus", **{"api-version": "2019-04-01"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "NoRegisteredProviderFound")
    missing = get(f"{base}/skus")
    assert missing.json()["error"]["code"] == "MissingApiVersionParameter"
    bad_filter = get(f"{base}/skus", **{"api-version": "2021-07-01", "$filter": "name eq 'Standard_D2s_v5'"})
    assert (bad_filter.status_code, bad_filter.json()["error"]["code"]) == (400, "InvalidFilter")
    vm = f"{emu.base_url}/subscriptions/{emu.subscription_id}/resourceGroups/{SOURCE_RG}/providers/Microsoft.Compute/"
    vm += f"virtualMachines/{SOURCE_VM}"
    assert get(vm, **{"api-version": API, "$expand": "userData"}).status_code == 200
    compute.virtual_machine_run_commands.begin_create_or_update(SOURCE_RG, SOURCE_VM, "c", _script()).result()
    expand = get(f"{vm}/runCommands/c", **{"api-version": API, "$expand": "userData"})
    assert (expand.status_code, expand.json()["error"]["code"]) == (400, "InvalidParameter")
    unknown = get(f"{base}/galleries", **{"api-version": API})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "InvalidResourceType")
    other = get(
        base.replace(emu.subscription_id, "99999999-0000-0000-0000-000000000000") + "/skus",
        **{"api-version": "2021-07-01"},
    )
    assert (other.status_code, other.json()["error"]["code"]) == (404, "SubscriptionNotFound")
