"""Contract, provider by provider: the protected-item examples (written for Hyper-V) replayed for
A2A and InMageRcm items too. Each example's request body is sent with the provider's
``instanceType`` (plus the fields that provider requires); the response must carry every key path
of the example's body with the same JSON type, and the SDK must populate the same attributes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import requests
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle
from tests.emulators.siterecovery.contract import deserialize, missing_paths, populated
from tests.emulators.siterecovery.scenario import (
    A2A,
    HYPERV,
    HYPERV_FAILBACK,
    MIGRATION_COMPLETE,
    RCM_VMWARE,
    RG,
    SUB,
    VAULT,
    Machine,
    tfo_input,
    unplanned_failover_input,
)
from tests.emulators.siterecovery.test_contract_examples import _first, example, sdk_operation

Step = Callable[[SiteRecoveryManagementClient, Machine], Any]


def _args(m: Machine) -> tuple[str, str, str, str, str]:
    return (RG, VAULT, m.fabric, m.container, m.item)


def tfo(client: SiteRecoveryManagementClient, m: Machine) -> None:
    client.replication_protected_items.begin_test_failover(*_args(m), tfo_input(m)).result()


def failover(client: SiteRecoveryManagementClient, m: Machine) -> None:
    client.replication_protected_items.begin_unplanned_failover(*_args(m), unplanned_failover_input(m)).result()


def commit(client: SiteRecoveryManagementClient, m: Machine) -> None:
    client.replication_protected_items.begin_failover_commit(*_args(m)).result()


def back_home(client: SiteRecoveryManagementClient, m: Machine) -> None:
    """Hyper-V reprotects after failing back to its host and committing that; the others from Azure."""
    if m.provider == "HyperVReplicaAzure":
        client.replication_protected_items.begin_planned_failover(*_args(m), HYPERV_FAILBACK).result()
        commit(client, m)


# example -> steps that reach the state it starts from (after enable + initial replication)
BEFORE: dict[str, list[Step]] = {
    "ReplicationProtectedItems_Get": [],
    "ReplicationProtectedItems_List": [],
    "ReplicationProtectedItems_ListByReplicationProtectionContainers": [],
    "RecoveryPoints_ListByReplicationProtectedItems": [],
    "ReplicationProtectedItems_TestFailover": [],
    "ReplicationProtectedItems_TestFailoverCleanup": [tfo],
    "ReplicationProtectedItems_UnplannedFailover": [],
    "ReplicationProtectedItems_FailoverCommit": [failover],
    "ReplicationProtectedItems_Reprotect": [failover, commit, back_home],
    "ReplicationProtectedItems_Delete": [],
    "ReplicationProtectedItems_Purge": [],
}

REPROTECT_EXTRA = {
    "InMageRcm": {
        "reprotectAgentId": "7d2b9ee7-59fd-4b37-8c7c-2f8a5f5c1b12",
        "datastoreName": "datastore1",
        "logStorageAccountId": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/l",
    }
}


def adapted_body(name: str, m: Machine) -> Any:
    """The example's body with the provider's instanceType (and that provider's required fields)."""
    body = copy.deepcopy(example(name).body)
    if body is None:
        return None
    details = body.get("properties", {}).get("providerSpecificDetails")
    if isinstance(details, dict):
        details["instanceType"] = m.provider
        if name.endswith("UnplannedFailover") and m.provider == "InMageRcm":
            details["performShutdown"] = "true"
        if name.endswith("Reprotect"):
            details.update(REPROTECT_EXTRA.get(m.provider, {}))
    return body


def _url(emu: EmulatorHandle, template: str, m: Machine) -> str:
    values = {
        "subscriptionId": SUB,
        "resourceGroupName": RG,
        "resourceName": VAULT,
        "fabricName": m.fabric,
        "protectionContainerName": m.container,
        "replicatedProtectedItemName": m.item,
    }
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return f"{emu.base_url}{template}?api-version=2025-08-01"


def _final(first: requests.Response) -> requests.Response:
    for _ in range(500):
        if requests.get(first.headers["Azure-AsyncOperation"], timeout=10).json()["status"] != "InProgress":
            break
    final = requests.get(first.headers["Location"], timeout=10)
    while final.status_code == 202:
        final = requests.get(first.headers["Location"], timeout=10)
    return final


CASES = [(name, m) for name in BEFORE for m in (A2A, RCM_VMWARE, HYPERV)] + [
    ("ReplicationProtectedItems_Create", m) for m in (A2A, RCM_VMWARE, HYPERV)
]


@pytest.mark.parametrize(("name", "m"), CASES, ids=[f"{n}-{m.provider}" for n, m in CASES])
def test_example_per_provider(emu: EmulatorHandle, client: SiteRecoveryManagementClient, name: str, m: Machine) -> None:
    ex = example(name)
    _, _, row = sdk_operation(name)
    if name == "ReplicationProtectedItems_Create":
        body = m.enable  # the example's body is Hyper-V specific (protectableItemId); each provider's own
    else:
        client.replication_protected_items.begin_create(*_args(m), m.enable).result()
        emu.advance_until_idle()
        for step in BEFORE[name]:
            step(client, m)
        body = adapted_body(name, m)
        if name == "ReplicationProtectedItems_Delete":
            body = MIGRATION_COMPLETE if BEFORE[name] else body
    first = requests.request(row["http_method"], _url(emu, row["url"], m), json=body, timeout=10)
    responses = ex.data["responses"]
    if "202" in responses:
        assert first.status_code == 202, first.text
        final = _final(first)
    else:
        final = first
    assert str(final.status_code) in set(responses) - {"202"}, final.text
    expected = responses[str(final.status_code)].get("body")
    if expected is None:
        return
    actual = final.json()
    assert missing_paths(expected, actual) == []
    want = populated(deserialize(row["result_model"], _first(expected, row)))
    have = populated(deserialize(row["result_model"], _first(actual, row)))
    assert want - have == set()
