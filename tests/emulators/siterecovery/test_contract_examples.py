"""Contract: every official 2025-08-01 example whose operation the emulator serves.

For each example the example's own request body is sent to the emulator; the emulator must answer
with the example's status codes (202 first for long-running operations, then the final 200/204
through the ``Location`` the SDK follows) and a body holding every key path of the example's body
with the same JSON type. Both bodies are also deserialized into the SDK's result model, and the
emulator's must populate every attribute the example's populates.

The examples' ``Azure-AsyncOperation`` header on synchronous 200s is a fixture artefact (asr-api.md
Appendix A) and deliberately not copied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_client
from tests.emulators.siterecovery.contract import deserialize, example_url, follow, missing_paths, populated, snake
from tests.emulators.siterecovery.scenario import HYPERV_FAILBACK
from tests.support.asr_examples import EXAMPLES_DIR
from tests.support.asr_examples import example as example_data
from tests.support.sdk_tables import operations

# Agentless VMware (migration items) examples: served on a VMwareCbt topology, and checked there
# (test_migration_contract.py); this file's topology is the protected items' one.
MIGRATION_EXAMPLES = {
    "ReplicationMigrationItems_Create",
    "ReplicationMigrationItems_Delete",
    "ReplicationMigrationItems_Get",
    "ReplicationMigrationItems_Migrate",
    "ReplicationMigrationItems_TestMigrate",
    "ReplicationMigrationItems_TestMigrateCleanup",
}

Prepare = Callable[[EmulatorHandle, SiteRecoveryManagementClient, "Example"], dict[str, str]]


@dataclass(frozen=True)
class Example:
    name: str
    data: dict[str, Any]

    @property
    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = self.data["parameters"]
        return params

    @property
    def body(self) -> Any:
        bodies = [v for v in self.params.values() if isinstance(v, dict)]
        return bodies[0] if bodies else None


def example(name: str) -> Example:
    return Example(name, example_data(name))


def sdk_operation(name: str) -> tuple[str, str, dict[str, Any]]:
    """(operations group, method, table row) for an example's operationId, from the SDK's operations table."""
    group_name, op = name.split("_", 1)
    group = operations()[f"{group_name}Operations"]
    method = snake(op)
    if method == "delete" and group_name == "ReplicationProtectedItems":
        method = "delete"
    for candidate in (method, f"begin_{method}"):
        if candidate in group:
            return f"{group_name}Operations", candidate, dict(group[candidate])
    raise AssertionError(f"no SDK operation for {name}")


def contract_topology() -> dict[str, Any]:
    """A topology holding exactly the resources the examples name (read from the example files)."""
    main = example("ReplicationProtectedItems_Get").params
    item_body = example("ReplicationProtectedItems_Get").data["responses"]["200"]["body"]
    other = example("ReplicationProtectedItems_Delete").params["replicatedProtectedItemName"]
    policy = example("ReplicationPolicies_Get").params["policyName"]
    mapping = example("ReplicationProtectionContainerMappings_Get").params["mappingName"]
    net = example("ReplicationNetworkMappings_Get")
    net_body = net.data["responses"]["200"]["body"]["properties"]
    fabric, container = main["fabricName"], main["protectionContainerName"]
    return {
        "seed": 3,
        "timing": {"pageSize": 1},  # so lists of two carry a nextLink, as the list examples do
        "vaults": [
            {
                "subscriptionId": main["subscriptionId"],
                "resourceGroup": main["resourceGroupName"],
                "name": main["resourceName"],
                "fabrics": [
                    {
                        "name": fabric,
                        "kind": "HyperVSite",
                        "containers": [
                            {
                                "name": container,
                                "friendlyName": fabric,
                                "machines": [
                                    {
                                        "name": main["replicatedProtectedItemName"],
                                        "friendlyName": item_body["properties"]["friendlyName"],
                                    },
                                    {"name": other, "friendlyName": "vm2"},
                                ],
                            }
                        ],
                    }
                ],
                "policies": [{"name": policy, "provider": "HyperVReplicaAzure"}],
                "containerMappings": [{"name": mapping, "fabric": fabric, "container": container, "policy": policy}],
                "protectedItems": [
                    {"name": n, "fabric": fabric, "container": container, "machine": n, "mapping": mapping}
                    for n in (main["replicatedProtectedItemName"], other)
                ],
            },
            {
                "subscriptionId": net.params["subscriptionId"],
                "resourceGroup": net.params["resourceGroupName"],
                "name": net.params["resourceName"],
                "fabrics": [
                    {
                        "name": net.params["fabricName"],
                        "kind": "HyperVSite",
                        "friendlyName": net_body["primaryFabricFriendlyName"],
                        "networks": [
                            {"name": net.params["networkName"], "friendlyName": net_body["primaryNetworkFriendlyName"]}
                        ],
                    }
                ],
                "networkMappings": [
                    {
                        "name": net.params["networkMappingName"],
                        "fabric": net.params["fabricName"],
                        "network": net.params["networkName"],
                        "recoveryNetworkId": net_body["recoveryNetworkId"],
                    }
                ],
            },
        ],
    }


# -- how to reach the state each example starts from (through the SDK, with the examples' bodies) --


def _rpi(ex: Example) -> tuple[str, str, str, str, str]:
    p = ex.params
    return (
        p["resourceGroupName"],
        p["resourceName"],
        p["fabricName"],
        p["protectionContainerName"],
        p["replicatedProtectedItemName"],
    )


def _body_of(name: str) -> Any:
    return example(name).body


def nothing(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    return {}


def unprotect_first(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    client.replication_protected_items.begin_purge(*_rpi(ex)).result()
    return {}


def tfo_pending(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    client.replication_protected_items.begin_test_failover(
        *_rpi(ex), _body_of("ReplicationProtectedItems_TestFailover")
    ).result()
    return {}


def failed_over(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    client.replication_protected_items.begin_unplanned_failover(
        *_rpi(ex), _body_of("ReplicationProtectedItems_UnplannedFailover")
    ).result()
    return {}


def committed(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    failed_over(emu, client, ex)
    client.replication_protected_items.begin_failover_commit(*_rpi(ex)).result()
    return {}


def failed_back(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    """Hyper-V: committed in Azure, then failed back to the host (the failback a failover cancel undoes)."""
    committed(emu, client, ex)
    client.replication_protected_items.begin_planned_failover(*_rpi(ex), HYPERV_FAILBACK).result()
    return {}


def failback_committed(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    """Hyper-V: back on its host after a committed failback, ready to replicate to Azure again."""
    failed_back(emu, client, ex)
    client.replication_protected_items.begin_failover_commit(*_rpi(ex)).result()
    return {}


def with_job(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    item = example("ReplicationProtectedItems_Get")
    client.replication_protected_items.begin_test_failover(
        *_rpi(item), _body_of("ReplicationProtectedItems_TestFailover")
    ).result()
    jobs = list(client.replication_jobs.list(ex.params["resourceGroupName"], ex.params["resourceName"]))
    assert jobs and jobs[0].name
    return {"jobName": jobs[0].name}


def with_plan(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    p = ex.params
    client.replication_recovery_plans.begin_create(
        p["resourceGroupName"], p["resourceName"], p["recoveryPlanName"], _body_of("ReplicationRecoveryPlans_Create")
    ).result()
    return {}


def plan_failed_over(emu: EmulatorHandle, client: SiteRecoveryManagementClient, ex: Example) -> dict[str, str]:
    with_plan(emu, client, ex)
    p = ex.params
    client.replication_recovery_plans.begin_unplanned_failover(
        p["resourceGroupName"],
        p["resourceName"],
        p["recoveryPlanName"],
        _body_of("ReplicationRecoveryPlans_UnplannedFailover"),
    ).result()
    return {}


PREPARE: dict[str, Prepare] = {
    "ReplicationProtectedItems_Create": unprotect_first,
    "ReplicationProtectedItems_TestFailoverCleanup": tfo_pending,
    "ReplicationProtectedItems_FailoverCommit": failed_over,
    "ReplicationProtectedItems_FailoverCancel": failed_back,
    "ReplicationProtectedItems_Reprotect": failback_committed,
    "ReplicationJobs_Get": with_job,
    "ReplicationJobs_List": with_job,
    "ReplicationRecoveryPlans_Get": with_plan,
    "ReplicationRecoveryPlans_TestFailover": with_plan,
    "ReplicationRecoveryPlans_UnplannedFailover": with_plan,
    "ReplicationRecoveryPlans_FailoverCommit": plan_failed_over,
}


def all_example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.json"))


def served_example_names() -> list[str]:
    try:
        return [n for n in all_example_names() if n not in MIGRATION_EXAMPLES]
    except pytest.fail.Exception:
        return ["(examples missing)"]


def test_every_example_is_served_here_or_by_the_migration_contract() -> None:
    names = set(all_example_names())
    assert len(names) >= 39
    assert MIGRATION_EXAMPLES <= names
    for name in names - MIGRATION_EXAMPLES:
        sdk_operation(name)  # every served example maps to an SDK operation


@pytest.fixture
def contract_emu() -> Iterator[EmulatorHandle]:
    with start_emulator(contract_topology(), advance_on_poll=True) as handle:
        yield handle


@pytest.mark.parametrize("name", served_example_names())
def test_example(contract_emu: EmulatorHandle, name: str) -> None:
    ex = example(name)
    group, method, row = sdk_operation(name)
    client = emulator_client(contract_emu.base_url, ex.params["subscriptionId"])
    overrides = PREPARE.get(name, nothing)(contract_emu, client, ex)
    params = {**ex.params, **overrides}
    url = example_url(contract_emu, row["url"], params)
    body = ex.body
    first = requests.request(row["http_method"], url, json=body, timeout=10)
    codes = set(ex.data["responses"])
    if "202" in codes:
        assert first.status_code == 202, first.text
        for header in ex.data["responses"]["202"].get("headers", {}):
            assert header in first.headers, header
        assert "Location" in first.headers
        final = follow(first)
    else:
        final = first
    final_codes = codes - {"202"}
    assert str(final.status_code) in final_codes, (final.status_code, final.text)
    expected = ex.data["responses"][str(final.status_code)].get("body")
    if expected is None:
        assert not final.content
        return
    actual = final.json()
    assert missing_paths(expected, actual) == []
    want = populated(deserialize(row["result_model"], _first(expected, row)))
    have = populated(deserialize(row["result_model"], _first(actual, row)))
    assert want - have == set()


def _first(body: dict[str, Any], row: dict[str, Any]) -> Any:
    """Pageable results: compare the page's elements merged; others: the body itself."""
    if not row["pageable"]:
        return body
    merged: dict[str, Any] = {}
    for element in body["value"]:
        _merge(merged, element)
    return merged


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif key not in into or into[key] in (None, [], {}):
            into[key] = value


def test_sdk_round_trip_of_an_example_driven_item(contract_emu: EmulatorHandle) -> None:
    """The SDK's own begin_create with the example body ends on a model like the example's."""
    ex = example("ReplicationProtectedItems_Create")
    client = emulator_client(contract_emu.base_url, ex.params["subscriptionId"])
    unprotect_first(contract_emu, client, ex)
    result = client.replication_protected_items.begin_create(*_rpi(ex), ex.body).result()
    want = populated(deserialize("ReplicationProtectedItem", ex.data["responses"]["200"]["body"]))
    assert want - populated(result) == set()
