"""``Microsoft.Compute`` against Microsoft's published examples (``tests/fixtures/compute``), through the real
``ComputeManagementClient``: each example deserializes through the SDK model of its operation, and the emulator's
answer has the example's fields with the same JSON types, except the ones ``emulators/siterecovery/README.md``
(Compute) lists as left out, and nothing the example lacks except the ones it lists as added."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.rest import HttpRequest
from azure.mgmt.compute import ComputeManagementClient, models

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_compute_client
from tests.emulators.siterecovery.conftest import REPO_ROOT, TOPOLOGY
from tests.emulators.siterecovery.contract import key_paths, populated

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "compute"
NETWORK_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "network"
NETWORK_API = "2024-05-01"
RG, VM = "rg-apps", "app01"  # an A2A source VM of the example topology, in westeurope
COMPUTE_API = "2024-11-01"


def example(version: str, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / version / name).read_text(encoding="utf-8"))
    return document


def body(version: str, name: str, status: str = "200") -> Any:
    return example(version, name)["responses"][status]["body"]


def compare(ours: Any, theirs: Any, *, left_out: tuple[str, ...] = (), added: tuple[str, ...] = ()) -> None:
    """Every example path (but the ones under ``left_out``) is ours with its JSON type; every path of ours is the
    example's (but the ones under ``added``)."""
    want = {p: t for p, t in key_paths(theirs).items() if not p.startswith(left_out)}
    have = {p: t for p, t in key_paths(ours).items() if not p.startswith(added)}
    missing = sorted(f"{p} ({t}; got {have.get(p, 'nothing')})" for p, t in want.items() if have.get(p) != t)
    extra = sorted(p for p in have if p not in key_paths(theirs))
    assert not missing, missing
    assert not extra, extra


def raw(client: ComputeManagementClient, emu: EmulatorHandle, method: str, path: str, **kwargs: Any) -> Any:
    response = client.send_request(HttpRequest(method, f"{emu.base_url}{path}", **kwargs))
    response.raise_for_status()
    return response


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with start_emulator(TOPOLOGY, advance_on_poll=True) as handle:
        yield handle


@pytest.fixture
def client(emu: EmulatorHandle) -> ComputeManagementClient:
    return emulator_compute_client(emu.base_url, emu.subscription_id, retry_total=0)


def vm_path(emu: EmulatorHandle, *rest: str) -> str:
    return "/".join(
        [f"/subscriptions/{emu.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{VM}"]
        + list(rest)
    )


# -- every example deserializes through its operation's model --------------------------------------------------


@pytest.mark.parametrize(
    ("version", "name", "status", "model"),
    [
        (COMPUTE_API, "VirtualMachine_Get.json", "200", models.VirtualMachine),
        (COMPUTE_API, "VirtualMachine_Get_InstanceView.json", "200", models.VirtualMachineInstanceView),
        (COMPUTE_API, "VirtualMachineRunCommand_CreateOrUpdate.json", "201", models.VirtualMachineRunCommand),
        (COMPUTE_API, "VirtualMachineRunCommand_CreateOrUpdate.json", "200", models.VirtualMachineRunCommand),
        (COMPUTE_API, "VirtualMachineRunCommand_Get.json", "200", models.VirtualMachineRunCommand),
        (COMPUTE_API, "Usage_List_MaximumSet_Gen.json", "200", models.Usage),
        ("2021-07-01", "ListAvailableResourceSkusForARegion.json", "200", models.ResourceSku),
    ],
)
def test_examples_deserialize_through_the_sdk(version: str, name: str, status: str, model: type[Any]) -> None:
    document = body(version, name, status)
    entries = document["value"] if "value" in document else [document]
    for entry in entries:
        instance = model(entry)
        rest_names = {attr: f._rest_name for attr, f in instance._attr_to_rest_field.items()}
        attrs = {a.split(".")[1].split("[")[0] for a in populated(instance)}
        # every top-level field of the example is a field of the model, and the SDK read it
        assert {rest_names[a] for a in attrs} == {k for k, v in entry.items() if v is not None}


# -- virtual machines ------------------------------------------------------------------------------------------

# A VM Site Recovery or Azure Migrate created: attached disks, no image, no OS profile, no gallery applications,
# no availability set or proximity placement group (none named), managed boot diagnostics (no storageUri), no
# extensions (resources), not in a scale set (managedBy), no userData (only with $expand=userData anyway).
VM_LEFT_OUT = (
    ".tags.",
    ".resources",
    ".managedBy",
    ".properties.availabilitySet",
    ".properties.proximityPlacementGroup",
    ".properties.applicationProfile",
    ".properties.userData",
    ".properties.osProfile",
    ".properties.extensionsTimeBudget",
    ".properties.storageProfile.imageReference",
    ".properties.diagnosticsProfile.bootDiagnostics.storageUri",
)
# no extensions installed, no patch assessment run
INSTANCE_VIEW_LEFT_OUT = (".vmAgent.extensionHandlers[]", ".extensions[]", ".patchStatus")


def test_virtual_machine_get(emu: EmulatorHandle, client: ComputeManagementClient) -> None:
    ours = raw(client, emu, "GET", vm_path(emu), params={"api-version": COMPUTE_API}).json()
    compare(ours, body(COMPUTE_API, "VirtualMachine_Get.json"), left_out=VM_LEFT_OUT)
    vm = client.virtual_machines.get(RG, VM)
    assert (vm.name, vm.location, vm.type) == (VM, "westeurope", "Microsoft.Compute/virtualMachines")
    assert vm.storage_profile is not None and vm.storage_profile.os_disk is not None
    assert vm.storage_profile.os_disk.create_option == "Attach"
    assert [d.disk_size_gb for d in vm.storage_profile.data_disks or []] == [256]  # app01: disksGB [64, 256]
    assert vm.instance_view is None


# A NIC Site Recovery made for a VM: no public IP, no NSG, no DSCP configuration of its own, Azure's DNS suffix not
# modelled; one IP configuration (the example's second one is the only one with a prefix length).
NIC_LEFT_OUT = (
    ".properties.ipConfigurations[].properties.publicIPAddress",
    ".properties.ipConfigurations[].properties.privateIPAddressPrefixLength",
    ".properties.networkSecurityGroup",
    ".properties.dscpConfiguration",
    ".properties.dnsSettings.internalDomainNameSuffix",
)


def test_network_interface_get(emu: EmulatorHandle, client: ComputeManagementClient) -> None:
    theirs = json.loads((NETWORK_FIXTURES / NETWORK_API / "NetworkInterfaceGet.json").read_text(encoding="utf-8"))
    vm = raw(client, emu, "GET", vm_path(emu), params={"api-version": COMPUTE_API}).json()
    nic_id = vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
    ours = raw(client, emu, "GET", nic_id, params={"api-version": NETWORK_API}).json()
    compare(ours, theirs["responses"]["200"]["body"], left_out=NIC_LEFT_OUT)
    assert ours["id"] == nic_id and ours["properties"]["virtualMachine"]["id"] == vm["id"]
    subnet = ours["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
    assert subnet.endswith("/virtualNetworks/vnet-apps-weu/subnets/default"), subnet
    missing = nic_id.replace("app01-nic", "nobody-nic")
    response = client.send_request(HttpRequest("GET", f"{emu.base_url}{missing}", params={"api-version": NETWORK_API}))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "ResourceNotFound")
    old = client.send_request(HttpRequest("GET", f"{emu.base_url}{nic_id}", params={"api-version": "2019-01-01"}))
    assert old.status_code == 400, "an api-version Microsoft.Network does not have here is refused"


def test_virtual_machine_get_expanded_and_instance_view(emu: EmulatorHandle, client: ComputeManagementClient) -> None:
    theirs = body(COMPUTE_API, "VirtualMachine_Get_InstanceView.json")
    expanded = raw(
        client, emu, "GET", vm_path(emu), params={"api-version": COMPUTE_API, "$expand": "instanceView"}
    ).json()
    compare(expanded["properties"]["instanceView"], theirs, left_out=INSTANCE_VIEW_LEFT_OUT)
    alone = raw(client, emu, "GET", vm_path(emu, "instanceView"), params={"api-version": COMPUTE_API}).json()
    assert alone == expanded["properties"]["instanceView"]
    view = client.virtual_machines.instance_view(RG, VM)
    assert [s.code for s in view.statuses or []] == ["ProvisioningState/succeeded", "PowerState/running"]
    assert view.vm_agent is not None and view.vm_agent.statuses
    assert (view.vm_agent.statuses[0].code, view.vm_agent.statuses[0].display_status) == (
        "ProvisioningState/succeeded",
        "Ready",
    )
    assert view.boot_diagnostics is not None and view.boot_diagnostics.serial_console_log_blob_uri


# -- run commands ----------------------------------------------------------------------------------------------


def test_run_command_create_or_update(emu: EmulatorHandle, client: ComputeManagementClient) -> None:
    request = copy.deepcopy(example(COMPUTE_API, "VirtualMachineRunCommand_CreateOrUpdate.json")["parameters"])
    path = vm_path(emu, "runCommands", request["runCommandName"])
    created = raw(client, emu, "PUT", path, params={"api-version": COMPUTE_API}, json=request["runCommand"])
    assert created.status_code == 201
    assert "/providers/Microsoft.Compute/locations/westeurope/operations/" in created.headers["Azure-AsyncOperation"]
    # the example's tags are its own (the request has none); its secrets (runAsPassword) never come back
    left_out = (".tags.",)
    compare(created.json(), body(COMPUTE_API, "VirtualMachineRunCommand_CreateOrUpdate.json", "201"), left_out=left_out)
    assert created.json()["properties"]["provisioningState"] == "Creating"
    again = raw(client, emu, "PUT", path, params={"api-version": COMPUTE_API}, json=request["runCommand"])
    assert again.status_code == 200
    compare(again.json(), body(COMPUTE_API, "VirtualMachineRunCommand_CreateOrUpdate.json", "200"), left_out=left_out)


def test_run_command_get(emu: EmulatorHandle, client: ComputeManagementClient) -> None:
    theirs = body(COMPUTE_API, "VirtualMachineRunCommand_Get.json")
    sent = {
        "location": "westeurope",
        "properties": {k: v for k, v in theirs["properties"].items() if k != "provisioningState"},
    }
    commands = client.virtual_machine_run_commands
    result = commands.begin_create_or_update(RG, VM, "myRunCommand", models.VirtualMachineRunCommand(sent)).result()
    assert result.provisioning_state == "Succeeded"
    ours = raw(client, emu, "GET", vm_path(emu, "runCommands", "myRunCommand"), params={"api-version": COMPUTE_API})
    compare(ours.json(), theirs, left_out=(".tags.",))
    expanded = raw(
        client,
        emu,
        "GET",
        vm_path(emu, "runCommands", "myRunCommand"),
        params={"api-version": COMPUTE_API, "$expand": "instanceView"},
    ).json()
    view_fields = {f._rest_name for f in models.VirtualMachineRunCommandInstanceView()._attr_to_rest_field.values()}
    assert set(expanded["properties"]["instanceView"]) <= view_fields
    assert {"executionState", "exitCode", "output", "error", "startTime", "endTime"} <= set(
        expanded["properties"]["instanceView"]
    )


# -- sizes and usages ------------------------------------------------------------------------------------------


def test_resource_skus_list(emu: EmulatorHandle, client: ComputeManagementClient) -> None:
    theirs = body("2021-07-01", "ListAvailableResourceSkusForARegion.json")
    ours = raw(
        client,
        emu,
        "GET",
        f"/subscriptions/{emu.subscription_id}/providers/Microsoft.Compute/skus",
        params={"api-version": "2021-07-01", "$filter": "location eq 'westeurope'"},
    ).json()
    # restrictions: the SDK's ResourceSku.restrictions (Microsoft Learn, "Resolve errors for SKU not available");
    # no zone has capabilities of its own (zoneDetails empty)
    compare(ours, theirs, left_out=(".value[].locationInfo[].zoneDetails[]",), added=(".value[].restrictions",))
    names = [sku.name for sku in client.resource_skus.list(filter="location eq 'westeurope'")]
    assert "Standard_D2s_v5" in names and "Standard_D4s_v5" in names


def test_usage_list(emu: EmulatorHandle, client: ComputeManagementClient) -> None:
    theirs = body(COMPUTE_API, "Usage_List_MaximumSet_Gen.json")
    path = f"/subscriptions/{emu.subscription_id}/providers/Microsoft.Compute/locations/westeurope/usages"
    ours = raw(client, emu, "GET", path, params={"api-version": COMPUTE_API}).json()
    # the example's nextLink is a placeholder string; one page has none (null)
    compare(ours, theirs, left_out=(".nextLink",))
    usages = {u.name.value: u for u in client.usage.list("westeurope") if u.name is not None}
    assert usages["cores"].name is not None and usages["cores"].name.localized_value == "Total Regional vCPUs"
    assert usages["standardDSv5Family"].unit == "Count"
