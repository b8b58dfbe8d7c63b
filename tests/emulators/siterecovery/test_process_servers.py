"""InMageRcm process servers, through the real SDK: the fabric lists them (with their health) in
``InMageRcmFabricSpecificDetails.process_servers``, an enable must name one of them, and the item names the
server it replicates through."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient, models

from emulators.siterecovery import EmulatorHandle, TopologyError, parse_topology, start_emulator
from emulators.siterecovery.client import emulator_client
from emulators.siterecovery.topology import DEFAULT_PROCESS_SERVER_ID
from tests.emulators.siterecovery.conftest import REPO_ROOT, TOPOLOGY
from tests.emulators.siterecovery.scenario import RCM_AWS, RCM_PHYSICAL, RCM_VMWARE, RG, VAULT, Machine, props

FABRIC = "vmware-appliance"
HEALTHY = "3f1c9a7e-2b4d-4e8f-9a61-0c5d7e2b8f40"
FAILING = "8e2d4c6a-1f3b-4a5c-8d7e-9b0a1c2d3e4f"
SERVER_ERROR = {
    "errorCode": "ProcessServerHeartbeatMissing",
    "errorMessage": "The process server has not sent a heartbeat.",
    "recommendedAction": "Check the appliance's services.",
}


def _args(m: Machine) -> tuple[str, str, str, str, str]:
    return (RG, VAULT, m.fabric, m.container, m.item)


def example_topology() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(TOPOLOGY.read_text(encoding="utf-8"))
    return document


def with_servers(servers: list[dict[str, Any]]) -> dict[str, Any]:
    document = example_topology()
    fabric = next(f for f in document["vaults"][0]["fabrics"] if f["name"] == FABRIC)
    fabric["processServers"] = servers
    return document


@pytest.fixture
def declared() -> Iterator[EmulatorHandle]:
    servers: list[dict[str, Any]] = [
        {"id": HEALTHY, "name": "appliance-ps", "fqdn": "appliance.example.test", "ipAddresses": ["192.0.2.10"]},
        {"id": FAILING, "name": "scale-out-ps", "health": "Critical", "healthErrors": [SERVER_ERROR]},
    ]
    with start_emulator(with_servers(servers), advance_on_poll=True) as handle:
        yield handle


def servers_of(client: SiteRecoveryManagementClient) -> list[models.ProcessServerDetails]:
    details = props(client.replication_fabrics.get(RG, VAULT, FABRIC)).custom_details
    assert isinstance(details, models.InMageRcmFabricSpecificDetails)
    assert details.process_servers is not None
    return list(details.process_servers)


def enable_through(m: Machine, server_id: str) -> dict[str, Any]:
    body = copy.deepcopy(m.enable)
    body["properties"]["providerSpecificDetails"]["processServerId"] = server_id
    return body


def test_an_undeclared_appliance_lists_one_healthy_server_with_every_sdk_field(
    client: SiteRecoveryManagementClient,
) -> None:
    (server,) = servers_of(client)
    fields = list(models.ProcessServerDetails()._attr_to_rest_field)  # the SDK model's own field list
    assert len(fields) >= 29
    assert [f for f in fields if getattr(server, f) is None] == []
    assert (server.id, server.health, server.health_errors) == (DEFAULT_PROCESS_SERVER_ID, "Normal", [])
    assert server.protected_item_count == 0


def test_declared_servers_are_listed_with_their_health(declared: EmulatorHandle) -> None:
    client = emulator_client(declared.base_url, declared.subscription_id)
    healthy, failing = servers_of(client)
    assert (healthy.id, healthy.name, healthy.fqdn, healthy.ip_addresses) == (
        HEALTHY,
        "appliance-ps",
        "appliance.example.test",
        ["192.0.2.10"],
    )
    assert healthy.health == "Normal" and healthy.health_errors == []
    assert (failing.id, failing.name, failing.health) == (FAILING, "scale-out-ps", "Critical")
    assert failing.health_errors is not None and len(failing.health_errors) == 1
    error = failing.health_errors[0]
    assert (error.error_code, error.error_message, error.recommended_action) == (
        SERVER_ERROR["errorCode"],
        SERVER_ERROR["errorMessage"],
        SERVER_ERROR["recommendedAction"],
    )
    listed = next(f for f in client.replication_fabrics.list(RG, VAULT) if f.name == FABRIC)
    custom = props(listed).custom_details
    assert isinstance(custom, models.InMageRcmFabricSpecificDetails)
    assert [s.id for s in custom.process_servers or []] == [HEALTHY, FAILING]


def test_an_enable_naming_an_unknown_process_server_is_refused_and_creates_nothing(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    items = client.replication_protected_items
    unknown = "00000000-0000-0000-0000-00000000dead"
    with pytest.raises(HttpResponseError) as refused:
        items.begin_create(*_args(RCM_VMWARE), enable_through(RCM_VMWARE, unknown)).result()
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "InvalidParameter"
    assert refused.value.error.target == "properties.providerSpecificDetails.processServerId"
    assert unknown in (refused.value.error.message or "")
    with pytest.raises(ResourceNotFoundError):
        items.get(*_args(RCM_VMWARE))
    assert list(client.replication_jobs.list(RG, VAULT)) == []
    assert emu.call_count("ReplicationProtectedItems_Create", RCM_VMWARE.item, accepted_only=True) == 0


def test_the_item_names_the_server_it_replicates_through(declared: EmulatorHandle) -> None:
    client = emulator_client(declared.base_url, declared.subscription_id)
    items = client.replication_protected_items
    items.begin_create(*_args(RCM_VMWARE), enable_through(RCM_VMWARE, FAILING)).result()
    items.begin_create(*_args(RCM_PHYSICAL), enable_through(RCM_PHYSICAL, FAILING.upper())).result()
    for m in (RCM_VMWARE, RCM_PHYSICAL):
        details = props(items.get(*_args(m))).provider_specific_details
        assert isinstance(details, models.InMageRcmReplicationDetails)
        assert (details.process_server_id, details.process_server_name) == (FAILING, "scale-out-ps")
    counts = {s.id: s.protected_item_count for s in servers_of(client)}
    assert counts == {HEALTHY: 0, FAILING: 2}
    with pytest.raises(HttpResponseError) as refused:  # declared servers replace the default one
        items.begin_create(*_args(RCM_AWS), enable_through(RCM_AWS, DEFAULT_PROCESS_SERVER_ID)).result()
    assert refused.value.error is not None and refused.value.error.code == "InvalidParameter"


PLANS_NAMING_SERVERS = sorted(
    p for p in (REPO_ROOT / "examples" / "plans").glob("*.yaml") if "processServerId" in p.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("plan", PLANS_NAMING_SERVERS, ids=lambda p: p.name)
def test_every_process_server_an_example_plan_names_is_on_its_fabric(
    client: SiteRecoveryManagementClient, plan: Any
) -> None:
    document = yaml.safe_load(plan.read_text(encoding="utf-8"))
    named = {
        (machine["asr"]["fabric"], machine["replication"]["processServerId"])
        for group in document["groups"]
        for machine in group["machines"]
        if "processServerId" in machine.get("replication", {})
    }
    assert named
    for fabric, server_id in named:
        details = props(client.replication_fabrics.get(RG, VAULT, fabric)).custom_details
        assert isinstance(details, models.InMageRcmFabricSpecificDetails)
        assert server_id in {s.id for s in details.process_servers or []}, (plan.name, server_id)


@pytest.mark.parametrize(
    ("fabric", "servers", "problem"),
    [
        ("hyperv-site", [{"id": HEALTHY}], "processServers: only InMageRcm fabrics have process servers"),
        (FABRIC, [{"id": HEALTHY}, {"id": HEALTHY.upper()}], "processServers[1].id: duplicate id"),
        (FABRIC, [{"id": ""}], "processServers[0].id: String should have at least 1 character"),
        (FABRIC, [{"id": HEALTHY, "health": "Bad"}], "processServers[0].health: Input should be"),
    ],
)
def test_bad_process_server_declarations_name_their_path(
    fabric: str, servers: list[dict[str, Any]], problem: str
) -> None:
    document = example_topology()
    spec = next(f for f in document["vaults"][0]["fabrics"] if f["name"] == fabric)
    spec["processServers"] = servers
    with pytest.raises(TopologyError) as invalid:
        parse_topology(document)
    index = document["vaults"][0]["fabrics"].index(spec)
    assert any(p.startswith(f"vaults[0].fabrics[{index}].{problem}") for p in invalid.value.problems), (
        invalid.value.problems
    )
