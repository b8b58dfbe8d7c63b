"""Azure Migrate's discovery resources (``Microsoft.OffAzure``) served by the Site Recovery emulator, read the way
the app reads them: raw GETs through the ``SiteRecoveryManagementClient``'s azure-core pipeline.

The bodies have the fields of the official 2020-01-01 examples (``tests/fixtures/offazure``), a machine's disk
uuids are the ids a VMwareCbt enable names, the vCenter's ``runAsAccountId`` is an account of the site (what
Az.Migrate's New-AzMigrateServerReplication passes as the data mover and snapshot account), and an enable naming a
run-as account the site lacks is refused.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, TopologyError, parse_topology, start_emulator
from emulators.siterecovery.client import emulator_client
from tests.emulators.siterecovery.conftest import REPO_ROOT, TOPOLOGY
from tests.emulators.siterecovery.migration_support import (
    DISKS,
    RG,
    RUN_AS_ACCOUNT_ID,
    SITE,
    SITE_ID,
    SUB,
    VAULT,
    enable_body,
    item_args,
    machine_id,
    mclient,
    memu,
)

__all__ = ["mclient", "memu"]  # fixtures

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "offazure" / "2020-01-01"
API = "2020-01-01"
DETAILS = "properties.providerSpecificDetails"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["responses"]["200"]["body"]


def send(client: SiteRecoveryManagementClient, emu: EmulatorHandle, url: str, method: str = "GET") -> HttpResponse:
    """One request as the app sends it: an absolute URL (path or nextLink) through the client's pipeline."""
    absolute = url if url.startswith("http") else f"{emu.base_url}{url}"
    return client.send_request(HttpRequest(method, absolute))


def get(
    client: SiteRecoveryManagementClient, emu: EmulatorHandle, path: str, api: str | None = API, query: str = ""
) -> HttpResponse:
    params = [f"api-version={api}"] if api is not None else []
    if query:
        params.append(query)
    return send(client, emu, f"{path}?{'&'.join(params)}" if params else path)


def ok(response: HttpResponse) -> Any:
    response.raise_for_status()
    assert response.status_code == 200
    return response.json()


def error(response: HttpResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text()
    with pytest.raises(HttpResponseError):
        response.raise_for_status()
    body: dict[str, Any] = response.json()["error"]
    return body


def every_page(client: SiteRecoveryManagementClient, emu: EmulatorHandle, path: str, query: str = "") -> list[Any]:
    """Follow ``nextLink`` as azure-core's pager does; returns every page's body."""
    pages = [ok(get(client, emu, path, query=query))]
    while pages[-1].get("nextLink"):
        assert len(pages) < 20
        pages.append(ok(send(client, emu, pages[-1]["nextLink"])))
    return pages


def same_fields(ours: Any, theirs: Any, where: str = "body") -> None:
    """Our JSON has the example's fields at every level (list entries compared when both lists have one)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert set(ours) == set(theirs), f"{where}: {sorted(set(ours) ^ set(theirs))}"
        for key, value in theirs.items():
            if value is not None and ours[key] is not None:
                same_fields(ours[key], value, f"{where}.{key}")
    elif isinstance(theirs, list) and theirs and isinstance(ours, list) and ours:
        same_fields(ours[0], theirs[0], f"{where}[0]")


def vcenter_parts(v_center_id: str) -> tuple[str, str, str]:
    """How Az.Migrate reads a machine's ``VCenterId`` (Split('/'): [4] resource group, [8] site, [10] vCenter)."""
    parts = v_center_id.split("/")
    return parts[4], parts[8], parts[10]


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with start_emulator(TOPOLOGY) as handle:
        yield handle


@pytest.fixture
def client(emu: EmulatorHandle) -> SiteRecoveryManagementClient:
    return emulator_client(emu.base_url, emu.subscription_id, retry_total=0)


def example_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(TOPOLOGY.read_text(encoding="utf-8"))
    return document


def with_site(**changes: Any) -> dict[str, Any]:
    """The example topology with its VMware site changed (``machines`` replaced when given)."""
    document = example_document()
    site = next(s for s in document["vaults"][0]["vmwareSites"] if s["name"] == SITE)
    site.update(copy.deepcopy(changes))
    return document


def machine(name: str, *disk_ids: str, **extra: Any) -> dict[str, Any]:
    disks = [{"id": d, "sizeGB": 32, "isOSDisk": i == 0} for i, d in enumerate(disk_ids or [f"{name}-disk0"])]
    return {"name": name, "disks": disks, **extra}


# -- the fixtures are whole ----------------------------------------------------------------------------------------


def _manifest() -> list[dict[str, str]]:
    with (FIXTURES / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize("entry", _manifest(), ids=lambda entry: entry["file"])
def test_fixture_has_its_recorded_size_and_digest(entry: dict[str, str]) -> None:
    content = (FIXTURES / entry["file"]).read_bytes()
    assert len(content) == int(entry["bytes"])
    assert hashlib.sha256(content).hexdigest() == entry["sha256"]


def test_every_fixture_is_listed() -> None:
    assert {p.name for p in FIXTURES.glob("*.json")} == {e["file"] for e in _manifest()}


# -- shapes: the examples' fields ----------------------------------------------------------------------------------


def test_bodies_have_the_fields_of_the_official_examples(
    client: SiteRecoveryManagementClient, emu: EmulatorHandle
) -> None:
    same_fields(ok(get(client, emu, SITE_ID)), fixture("VMwareSite_Get.json"))
    same_fields(ok(get(client, emu, machine_id("vmw-agentless01"))), fixture("VMwareMachine_Get.json"))
    same_fields(ok(get(client, emu, f"{SITE_ID}/machines")), fixture("VMwareMachines_ListBySite.json"))
    same_fields(ok(get(client, emu, f"{SITE_ID}/vcenters/vcenter01")), fixture("VMwareVcenter_Get.json"))
    account = ok(get(client, emu, f"{SITE_ID}/runasaccounts/vcenter-account"))
    same_fields(account, fixture("VMwareRunAsAccount_Get.json"))
    # the examples' type spellings, the run-as account's own id in lower-case 'vmwaresites' as in its example
    assert ok(get(client, emu, SITE_ID))["type"] == fixture("VMwareSite_Get.json")["type"]
    assert account["type"] == fixture("VMwareRunAsAccount_Get.json")["type"]
    assert "/providers/Microsoft.OffAzure/vmwaresites/" in account["id"]
    assert account["id"].lower() == RUN_AS_ACCOUNT_ID.lower()


def test_machine_json_is_the_topology_machine(client: SiteRecoveryManagementClient, emu: EmulatorHandle) -> None:
    body = ok(get(client, emu, machine_id("vmw-agentless01")))
    assert (body["id"], body["name"], body["type"]) == (
        machine_id("vmw-agentless01"),
        "vmw-agentless01",
        "Microsoft.OffAzure/VMwareSites/machines",
    )
    props = body["properties"]
    assert props["displayName"] == "vmw-agentless01"
    assert props["operatingSystemDetails"] == {
        "osType": "windowsguest",
        "osName": "Microsoft Windows Server 2019 (64-bit)",
        "osVersion": None,
    }
    assert (props["firmware"], props["powerStatus"]) == ("bios", "ON")
    assert (props["numberOfProcessorCore"], props["allocatedMemoryInMB"]) == (2, 4096.0)
    disks = props["disks"]
    assert [d["uuid"] for d in disks] == [d for d, _ in DISKS["vmw-agentless01"]]
    assert [d["maxSizeInBytes"] for d in disks] == [128 * 1024**3, 512 * 1024**3]
    assert [(d["label"], d["name"], d["lun"]) for d in disks] == [
        ("Hard disk 1", "scsi0:0", 0),
        ("Hard disk 2", "scsi0:1", 1),
    ]
    assert {d["diskMode"] for d in disks} == {"persistent"}
    assert all("isOSDisk" not in d and "isOsDisk" not in d for d in disks)  # OffAzure's VMwareDisk has no such flag
    linux = ok(get(client, emu, machine_id("vmw-agentless02")))["properties"]
    assert (linux["firmware"], linux["operatingSystemDetails"]["osType"]) == ("efi", "linuxguest")


def test_site_names_its_project_and_appliance(client: SiteRecoveryManagementClient, emu: EmulatorHandle) -> None:
    body = ok(get(client, emu, SITE_ID))
    assert (body["id"], body["name"], body["location"]) == (SITE_ID, SITE, "westeurope")
    props = body["properties"]
    # Az.Migrate takes the project name from discoverySolutionId.Split('/')[8]
    assert props["discoverySolutionId"].split("/")[8] == "migrate-project"
    assert props["discoverySolutionId"].endswith("/Solutions/Servers-Discovery-ServerDiscovery")
    assert props["applianceName"] == SITE
    assert props["agentDetails"]["lastHeartBeatUtc"].endswith("Z")


# -- the Az.Migrate reading: machine -> vCenter -> run-as account -> enable ------------------------------------------


def test_az_migrate_reading_enables_replication(memu: EmulatorHandle, mclient: SiteRecoveryManagementClient) -> None:
    props = ok(get(mclient, memu, machine_id("vmw-agentless01")))["properties"]
    assert props["changeTrackingEnabled"] is False
    group, site, name = vcenter_parts(props["vCenterId"])
    assert (group, site, name) == (RG, SITE, "vcenter01")
    v_center = ok(get(mclient, memu, props["vCenterId"]))
    assert (v_center["name"], v_center["properties"]["fqdn"]) == ("vcenter01", props["vCenterFQDN"])
    account_id = v_center["properties"]["runAsAccountId"]
    account = ok(get(mclient, memu, account_id))
    assert account["properties"]["credentialType"] == "VMwareFabric"
    listed = ok(get(mclient, memu, f"{SITE_ID}/runasaccounts"))["value"]
    assert [a["id"].lower() for a in listed] == [account_id.lower()]

    body = enable_body(dataMoverRunAsAccountId=account_id, snapshotRunAsAccountId=account_id)
    details = body["properties"]["providerSpecificDetails"]
    details["disksToInclude"] = [
        {**entry, "diskId": disk["uuid"]} for entry, disk in zip(details["disksToInclude"], props["disks"], strict=True)
    ]
    item = mclient.replication_migration_items.begin_create(*item_args(), body).result()
    cbt = item.as_dict()["properties"]["providerSpecificDetails"]
    assert cbt["dataMoverRunAsAccountId"] == account_id
    assert [d["diskId"] for d in cbt["protectedDisks"]] == [d["uuid"] for d in props["disks"]]
    assert [d["diskPath"] for d in cbt["protectedDisks"]] == [d["path"] for d in props["disks"]]
    assert ok(get(mclient, memu, machine_id("vmw-agentless01")))["properties"]["changeTrackingEnabled"] is True


@pytest.mark.parametrize(
    ("key", "account"),
    [
        ("dataMoverRunAsAccountId", f"{SITE_ID}/runasaccounts/datamover"),
        ("snapshotRunAsAccountId", f"{SITE_ID}/runasaccounts/snapshot"),
        # an account of another site, with this site's account name
        (
            "dataMoverRunAsAccountId",
            f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OffAzure/VMwareSites/other/runasaccounts/"
            "vcenter-account",
        ),
    ],
)
def test_enable_naming_a_run_as_account_the_site_lacks_is_refused(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient, key: str, account: str
) -> None:
    ops = mclient.replication_migration_items
    with pytest.raises(HttpResponseError) as refused:
        ops.begin_create(*item_args(), enable_body(**{key: account}))
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert (refused.value.error.code, refused.value.error.target) == ("RunAsAccountNotFound", f"{DETAILS}.{key}")
    assert list(ops.list(RG, VAULT)) == []


def test_run_as_account_ids_match_case_insensitively(
    memu: EmulatorHandle, mclient: SiteRecoveryManagementClient
) -> None:
    shouted = RUN_AS_ACCOUNT_ID.replace("/subscriptions/", "/Subscriptions/").replace("VMwareSites", "vmwaresites")
    body = enable_body(dataMoverRunAsAccountId=shouted.upper(), snapshotRunAsAccountId=shouted)
    assert mclient.replication_migration_items.begin_create(*item_args(), body).result() is not None


# -- api-versions, 404s, names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["2020-01-01", "2020-07-07", "2023-06-06"])
def test_the_stable_api_versions_are_served(
    client: SiteRecoveryManagementClient, emu: EmulatorHandle, api: str
) -> None:
    for path in (SITE_ID, f"{SITE_ID}/machines", f"{SITE_ID}/vcenters/vcenter01", f"{SITE_ID}/runasaccounts"):
        assert get(client, emu, path, api).status_code == 200


@pytest.mark.parametrize("api", ["2025-08-01", "2019-06-06", "2023-10-01-preview", "2020-01-01-preview"])
def test_other_api_versions_are_refused(client: SiteRecoveryManagementClient, emu: EmulatorHandle, api: str) -> None:
    err = error(get(client, emu, f"{SITE_ID}/machines", api), 400)
    assert err["code"] == "NoRegisteredProviderFound"
    assert "'2020-01-01, 2020-07-07, 2023-06-06'" in err["message"] and "'VMwareSites/machines'" in err["message"]
    assert error(get(client, emu, SITE_ID, None), 400)["code"] == "MissingApiVersionParameter"


def test_unknown_resources_answer_arm_404s(client: SiteRecoveryManagementClient, emu: EmulatorHandle) -> None:
    provider = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OffAzure/VMwareSites"
    for path, code, names in [
        (f"{provider}/no-site", "ResourceNotFound", "Microsoft.OffAzure/VMwareSites/no-site"),
        (f"{provider}/no-site/machines", "ResourceNotFound", "VMwareSites/no-site"),
        (f"{SITE_ID}/machines/no-machine", "ResourceNotFound", f"VMwareSites/{SITE}/machines/no-machine"),
        (f"{SITE_ID}/vcenters/no-vcenter", "ResourceNotFound", "vcenters/no-vcenter"),
        (f"{SITE_ID}/runasaccounts/no-account", "ResourceNotFound", "runasaccounts/no-account"),
        (SITE_ID.replace(f"/resourceGroups/{RG}/", "/resourceGroups/rg-none/"), "ResourceGroupNotFound", "rg-none"),
        (SITE_ID.replace(SUB, "99999999-0000-0000-0000-000000000000"), "SubscriptionNotFound", "99999999"),
        (f"{SITE_ID}/hosts", "InvalidResourceType", "Microsoft.OffAzure"),
    ]:
        err = error(get(client, emu, path), 404)
        assert (err["code"], names in err["message"]) == (code, True), (path, err)
    assert error(send(client, emu, f"{SITE_ID}?api-version={API}", "PUT"), 405)["code"] == "MethodNotAllowed"
    assert error(send(client, emu, f"{SITE_ID}/vcenters/vcenter01?api-version={API}", "DELETE"), 405)["code"] == (
        "MethodNotAllowed"
    )


def test_names_are_case_insensitive(client: SiteRecoveryManagementClient, emu: EmulatorHandle) -> None:
    shouted = SITE_ID.replace("resourceGroups", "RESOURCEGROUPS").replace("Microsoft.OffAzure", "MICROSOFT.OFFAZURE")
    shouted = shouted.replace(SITE, SITE.upper()).replace("VMwareSites", "vmwaresites")
    assert ok(get(client, emu, shouted))["name"] == SITE
    assert ok(get(client, emu, f"{shouted}/MACHINES/VMW-AGENTLESS02"))["name"] == "vmw-agentless02"
    assert ok(get(client, emu, f"{shouted}/VCenters/VCENTER01"))["name"] == "vcenter01"
    assert ok(get(client, emu, f"{shouted}/RunAsAccounts/VCENTER-ACCOUNT"))["name"] == "vcenter-account"


def test_calls_are_logged_and_faulted_by_operation_id(
    client: SiteRecoveryManagementClient, emu: EmulatorHandle
) -> None:
    ok(get(client, emu, machine_id("vmw-agentless01")))
    ok(get(client, emu, f"{SITE_ID}/runasaccounts"))
    assert emu.call_count("Machines_GetMachine") == 1
    assert emu.call_count("RunAsAccounts_GetAllRunAsAccountsInSite") == 1
    emu.add_fault({"kind": "throttle", "operation": "VCenter_*", "mode": "burst", "after": 0, "count": 1})
    assert error(get(client, emu, f"{SITE_ID}/vcenters"), 429)["code"] == "TooManyRequests"
    assert ok(get(client, emu, f"{SITE_ID}/vcenters"))["value"][0]["name"] == "vcenter01"
    assert ok(get(client, emu, SITE_ID))["name"] == SITE  # other operations are not throttled


# -- lists: paging, top, $filter -------------------------------------------------------------------------------------


@pytest.fixture
def many() -> Iterator[EmulatorHandle]:
    document = with_site(machines=[machine(f"vm{i:02d}", displayName=f"VM-{i:02d}") for i in range(7)])
    document["timing"]["pageSize"] = 3
    with start_emulator(document) as handle:
        yield handle


def test_machine_lists_page_through_next_link(many: EmulatorHandle) -> None:
    client = emulator_client(many.base_url, many.subscription_id, retry_total=0)
    pages = every_page(client, many, f"{SITE_ID}/machines")
    assert [len(p["value"]) for p in pages] == [3, 3, 1]
    assert [m["name"] for p in pages for m in p["value"]] == [f"vm{i:02d}" for i in range(7)]
    assert pages[-1]["nextLink"] is None
    assert "continuationToken=" in pages[0]["nextLink"] and f"api-version={API}" in pages[0]["nextLink"]
    topped = every_page(client, many, f"{SITE_ID}/machines", "top=2")
    assert [len(p["value"]) for p in topped] == [2, 2, 2, 1]
    assert all("top=2" in p["nextLink"] for p in topped[:-1])


def test_machine_list_filter_and_bad_query_values(many: EmulatorHandle) -> None:
    client = emulator_client(many.base_url, many.subscription_id, retry_total=0)
    only = ok(get(client, many, f"{SITE_ID}/machines", query="$filter=displayName eq 'vm-03'"))
    assert [m["name"] for m in only["value"]] == ["vm03"]
    on = ok(get(client, many, f"{SITE_ID}/machines", query="$filter=powerStatus eq 'ON' and osType eq 'windows'"))
    assert len(on["value"]) == 3 and on["nextLink"] is not None
    assert error(get(client, many, f"{SITE_ID}/machines", query="$filter=isOSDisk eq 'true'"), 400)["code"] == (
        "InvalidFilter"
    )
    assert error(get(client, many, f"{SITE_ID}/machines", query="top=0"), 400)["code"] == "InvalidParameter"
    bad = error(get(client, many, f"{SITE_ID}/machines", query="continuationToken=%21%21"), 400)
    assert (bad["code"], bad["target"]) == ("InvalidContinuationToken", "continuationToken")


# -- topology: vCenters, run-as accounts, their references -----------------------------------------------------------


DECLARED = {
    "runAsAccounts": [
        {"name": "guest-linux", "displayName": "Linux guests", "credentialType": "LinuxGuest"},
        {"name": "vc-east", "credentialType": "VMwareFabric"},
        {"name": "vc-west", "displayName": "West vCenter", "credentialType": "VMwareFabric"},
    ],
    "vCenters": [
        {"name": "vc-east", "fqdn": "vc-east.example.test", "runAsAccount": "vc-west"},
        {"name": "vc-west", "version": "8.0.2"},
    ],
    "machines": [
        machine("east01", "6000C293-0000-0000-0000-000000000001", vCenter="vc-east", cores=8, memoryMB=32768),
        machine("west01", powerStatus="OFF"),
    ],
}


def test_declared_vcenters_and_run_as_accounts_are_served() -> None:
    with start_emulator(with_site(**DECLARED)) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
        accounts = {a["name"]: a["properties"] for a in ok(get(client, emu, f"{SITE_ID}/runasaccounts"))["value"]}
        assert accounts["guest-linux"]["displayName"] == "Linux guests"
        assert accounts["vc-east"]["displayName"] == "vc-east"
        assert {k: a["credentialType"] for k, a in accounts.items()} == {
            "guest-linux": "LinuxGuest",
            "vc-east": "VMwareFabric",
            "vc-west": "VMwareFabric",
        }
        v_centers = {v["name"]: v["properties"] for v in ok(get(client, emu, f"{SITE_ID}/vcenters"))["value"]}
        assert v_centers["vc-east"]["runAsAccountId"] == f"{SITE_ID}/runasaccounts/vc-west"
        assert v_centers["vc-west"]["runAsAccountId"] == f"{SITE_ID}/runasaccounts/vc-east"  # first VMwareFabric one
        assert (v_centers["vc-east"]["fqdn"], v_centers["vc-west"]["fqdn"]) == (
            "vc-east.example.test",
            "vc-west.contoso.local",
        )
        assert v_centers["vc-west"]["version"] == "8.0.2"
        east = ok(get(client, emu, machine_id("east01")))["properties"]
        assert vcenter_parts(east["vCenterId"])[2] == "vc-east"
        assert (east["vCenterFQDN"], east["numberOfProcessorCore"], east["allocatedMemoryInMB"]) == (
            "vc-east.example.test",
            8,
            32768.0,
        )
        west = ok(get(client, emu, machine_id("west01")))["properties"]
        assert (vcenter_parts(west["vCenterId"])[2], west["powerStatus"]) == ("vc-east", "OFF")  # the site's first
        only = ok(get(client, emu, f"{SITE_ID}/vcenters", query="$filter=fqdn eq 'VC-EAST.example.test'"))
        assert [v["name"] for v in only["value"]] == ["vc-east"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"machines": [machine("m1", vCenter="vc-none")]},
            "vmwareSites[0].machines[0].vCenter: unknown vCenter 'vc-none' in VMware site",
        ),
        (
            {"vCenters": [{"name": "vc", "runAsAccount": "nobody"}]},
            "vmwareSites[0].vCenters[0].runAsAccount: unknown run-as account 'nobody'",
        ),
        (
            {
                "runAsAccounts": [{"name": "vc-cred"}, {"name": "win", "credentialType": "WindowsGuest"}],
                "vCenters": [{"name": "vc", "runAsAccount": "win"}],
            },
            "vmwareSites[0].vCenters[0].runAsAccount: run-as account 'win' is a WindowsGuest credential",
        ),
        (
            {"runAsAccounts": [{"name": "linux", "credentialType": "LinuxServer"}]},
            "vmwareSites[0].runAsAccounts: vCenter 'vcenter01' needs a VMwareFabric run-as account",
        ),
        ({"runAsAccounts": [{"name": "a"}, {"name": "A"}]}, "vmwareSites[0].runAsAccounts[1].name: duplicate name"),
        ({"vCenters": [{"name": "v"}, {"name": "v"}]}, "vmwareSites[0].vCenters[1].name: duplicate name"),
        ({"vCenters": []}, "vmwareSites[0].vCenters: declare at least one"),
        ({"runAsAccounts": [{"name": "a", "credentialType": "Vmware"}]}, "runAsAccounts[0].credentialType: Input"),
        ({"machines": [machine("m1", powerStatus="Suspended")]}, "vmwareSites[0].machines[0].powerStatus: Input"),
    ],
)
def test_topology_refuses_bad_site_declarations(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(TopologyError) as refused:
        parse_topology(with_site(**changes))
    assert any(problem in p for p in refused.value.problems), refused.value.problems


def test_example_site_gets_the_default_vcenter_and_account() -> None:
    site = next(s for s in parse_topology(example_document()).vaults[0].vmware_sites if s.name == SITE)
    assert site.v_centers is None and site.run_as_accounts is None
    assert [v.name for v in site.declared_v_centers()] == ["vcenter01"]
    assert [(a.name, a.credential_type) for a in site.declared_run_as_accounts()] == [
        ("vcenter-account", "VMwareFabric")
    ]


def test_readme_states_the_defaults() -> None:
    text = (Path(REPO_ROOT) / "emulators" / "siterecovery" / "README.md").read_text(encoding="utf-8")
    assert f"{SITE_ID}/vcenters/vcenter01" in text and RUN_AS_ACCOUNT_ID in text
