"""Each state a protected item passes through, through the real SDK, against the official example of it.

The 2025-08-01 examples show Hyper-V items; an InMageRcm or A2A item is held to the row of
``emulators/siterecovery/item_states.py`` that says what its state is based on.
"""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle
from tests.emulators.siterecovery.scenario import (
    HYPERV,
    HYPERV_FAILBACK,
    MACHINES,
    MIGRATION_COMPLETE,
    RCM_VMWARE,
    RG,
    SUB,
    VAULT,
    Machine,
    props,
    tfo_input,
    unplanned_failover_input,
)
from tests.support.asr_examples import example

RPI = "ReplicationProtectedItems_"
RCM_REPROTECT = {
    "properties": {
        "failoverDirection": "RecoveryToPrimary",
        "providerSpecificDetails": {
            "instanceType": "InMageRcm",
            "reprotectAgentId": "reprotect-agent-1",
            "datastoreName": "datastore1",
            "logStorageAccountId": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/"
            "storageAccounts/asrcache",
        },
    }
}
RCM_FAILBACK = {
    "properties": {
        "failoverDirection": "RecoveryToPrimary",
        "providerSpecificDetails": {"instanceType": "InMageRcmFailback", "recoveryPointType": "CrashConsistent"},
    }
}


def shown(name: str) -> dict[str, Any]:
    """The item properties an example's 200 answer shows."""
    body: dict[str, Any] = example(name)["responses"]["200"]["body"]
    properties: dict[str, Any] = body["properties"]
    return properties


def body_of(name: str) -> Any:
    """The request body of an example (its one object-valued parameter)."""
    return next(v for v in example(name)["parameters"].values() if isinstance(v, dict))


def _args(m: Machine) -> tuple[str, str, str, str, str]:
    return (RG, VAULT, m.fabric, m.container, m.item)


def _replicated(emu: EmulatorHandle, client: SiteRecoveryManagementClient, m: Machine) -> None:
    client.replication_protected_items.begin_create(*_args(m), m.enable).result()
    emu.advance_until_idle()


def _refused(call: Any) -> str:
    with pytest.raises(HttpResponseError) as refused:
        call()
    assert refused.value.error is not None and refused.value.error.code is not None
    return str(refused.value.error.code)


@pytest.mark.parametrize("m", MACHINES, ids=lambda m: f"{m.provider}-{m.friendly}")
def test_a_replicated_item_offers_the_get_examples_operations(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient, m: Machine
) -> None:
    _replicated(emu, client, m)
    expected = shown("ReplicationProtectedItems_Get")["allowedOperations"]
    if m.provider != "HyperVReplicaAzure":  # planned failover to Azure is Hyper-V's only (SDK input subtypes)
        expected = [op for op in expected if op != "PlannedFailover"]
    assert props(client.replication_protected_items.get(*_args(m))).allowed_operations == expected


@pytest.mark.parametrize("m", MACHINES, ids=lambda m: f"{m.provider}-{m.friendly}")
def test_test_failover_state_is_marked_for_deletion_only_while_the_cleanup_runs(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient, m: Machine
) -> None:
    items = client.replication_protected_items
    _replicated(emu, client, m)
    items.begin_test_failover(*_args(m), tfo_input(m)).result()
    items.begin_test_failover_cleanup(*_args(m), {"properties": {"comments": "done"}}, polling=False)
    cleaning = props(items.get(*_args(m)))
    example_item = shown("ReplicationProtectedItems_TestFailoverCleanup")
    assert cleaning.test_failover_state == example_item["testFailoverState"] == "MarkedForDeletion"
    assert cleaning.test_failover_state_description == example_item["testFailoverStateDescription"]
    assert cleaning.allowed_operations == []
    emu.advance_until_idle()
    cleaned = props(items.get(*_args(m)))
    assert (cleaned.test_failover_state, cleaned.test_failover_state_description) == ("None", "None")
    expected = example_item["allowedOperations"]
    if m.provider != "HyperVReplicaAzure":
        expected = [op for op in expected if op != "PlannedFailover"]
    assert cleaned.allowed_operations == expected
    failed_over = items.begin_unplanned_failover(*_args(m), unplanned_failover_input(m)).result()
    assert props(failed_over).test_failover_state == "None"  # the example's MarkedForDeletion is not copied


@pytest.mark.parametrize("m", MACHINES, ids=lambda m: f"{m.provider}-{m.friendly}")
def test_after_an_unplanned_failover_the_migration_can_be_completed_before_commit(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient, m: Machine
) -> None:
    items = client.replication_protected_items
    _replicated(emu, client, m)
    failed_over = props(items.begin_unplanned_failover(*_args(m), unplanned_failover_input(m)).result())
    example_item = shown("ReplicationProtectedItems_UnplannedFailover")
    assert failed_over.allowed_operations == example_item["allowedOperations"]
    assert failed_over.protection_state == example_item["protectionState"]
    assert failed_over.active_location == example_item["activeLocation"]
    assert items.begin_delete(*_args(m), MIGRATION_COMPLETE).result() is None
    with pytest.raises(ResourceNotFoundError):
        items.get(*_args(m))
    assert emu.call_count(RPI + "FailoverCommit", m.item) == 0
    assert emu.call_count(RPI + "Delete", m.item, accepted_only=True) == 1


def test_a_planned_failover_offers_the_examples_operations_and_no_cancel(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    items = client.replication_protected_items
    _replicated(emu, client, HYPERV)
    planned = props(items.begin_planned_failover(*_args(HYPERV), body_of(RPI + "PlannedFailover")).result())
    example_item = shown(RPI + "PlannedFailover")
    assert planned.allowed_operations == example_item["allowedOperations"]
    assert (planned.protection_state, planned.protection_state_description) == (
        example_item["protectionState"],
        example_item["protectionStateDescription"],
    )
    assert planned.active_location == example_item["activeLocation"]
    assert _refused(lambda: items.begin_failover_cancel(*_args(HYPERV)).result()) == "OperationNotAllowed"


@pytest.mark.parametrize("planned", [True, False], ids=["planned", "unplanned"])
def test_after_commit_a_hyperv_item_offers_failback_not_reverse_replication(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient, planned: bool
) -> None:
    items = client.replication_protected_items
    _replicated(emu, client, HYPERV)
    if planned:
        items.begin_planned_failover(*_args(HYPERV), body_of(RPI + "PlannedFailover")).result()
    else:
        items.begin_unplanned_failover(*_args(HYPERV), unplanned_failover_input(HYPERV)).result()
    committed = props(items.begin_failover_commit(*_args(HYPERV)).result())
    example_item = shown(RPI + "FailoverCommit")
    assert committed.allowed_operations == example_item["allowedOperations"]
    assert committed.active_location == example_item["activeLocation"]
    if planned:
        assert committed.protection_state == example_item["protectionState"]
    reprotect = body_of(RPI + "Reprotect")
    assert _refused(lambda: items.begin_reprotect(*_args(HYPERV), reprotect).result()) == "OperationNotAllowed"


def test_a_hyperv_item_fails_back_then_replicates_to_azure_again(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    items = client.replication_protected_items
    _replicated(emu, client, HYPERV)
    items.begin_unplanned_failover(*_args(HYPERV), unplanned_failover_input(HYPERV)).result()
    items.begin_failover_commit(*_args(HYPERV)).result()
    wrong_way = {"properties": {**HYPERV_FAILBACK["properties"], "failoverDirection": "PrimaryToRecovery"}}
    assert (
        _refused(lambda: items.begin_planned_failover(*_args(HYPERV), wrong_way).result()) == "InvalidFailoverDirection"
    )
    back = props(items.begin_planned_failover(*_args(HYPERV), HYPERV_FAILBACK).result())
    assert back.active_location == "Primary"
    assert back.allowed_operations == ["Commit", "CancelFailover", "DisableProtection"]
    home = props(items.begin_failover_commit(*_args(HYPERV)).result())
    assert (home.active_location, home.allowed_operations) == ("Primary", ["DisableProtection", "ReverseReplicate"])
    items.begin_reprotect(*_args(HYPERV), body_of(RPI + "Reprotect")).result()
    emu.advance_until_idle()
    again = props(items.get(*_args(HYPERV)))
    example_item = shown(RPI + "Reprotect")
    assert again.allowed_operations == example_item["allowedOperations"]
    assert (again.protection_state, again.active_location) == (
        example_item["protectionState"],
        example_item["activeLocation"],
    )


def test_a_cancelled_failback_leaves_the_item_committed_in_azure(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    items = client.replication_protected_items
    _replicated(emu, client, HYPERV)
    items.begin_planned_failover(*_args(HYPERV), body_of(RPI + "PlannedFailover")).result()
    items.begin_failover_commit(*_args(HYPERV)).result()
    items.begin_planned_failover(*_args(HYPERV), HYPERV_FAILBACK).result()
    cancelled = props(items.begin_failover_cancel(*_args(HYPERV)).result())
    example_item = shown(RPI + "FailoverCommit")
    assert cancelled.allowed_operations == example_item["allowedOperations"]
    assert (cancelled.protection_state, cancelled.active_location) == (
        example_item["protectionState"],
        example_item["activeLocation"],
    )


def test_an_inmage_rcm_item_replicating_back_fails_back_with_a_cancellable_planned_failover(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    items, m = client.replication_protected_items, RCM_VMWARE
    _replicated(emu, client, m)
    items.begin_unplanned_failover(*_args(m), unplanned_failover_input(m)).result()
    committed = props(items.begin_failover_commit(*_args(m)).result())
    assert committed.allowed_operations == ["CompleteMigration", "DisableProtection", "ReverseReplicate"]
    items.begin_reprotect(*_args(m), RCM_REPROTECT).result()
    emu.advance_until_idle()
    replicating_back = props(items.get(*_args(m)))
    example_item = shown(RPI + "FailoverCancel")  # an InMageRcmFailback item, replicating back
    assert replicating_back.allowed_operations == example_item["allowedOperations"]
    assert replicating_back.active_location == "Recovery"
    assert _refused(lambda: items.begin_test_failover(*_args(m), tfo_input(m)).result()) == "OperationNotAllowed"
    # nothing is being migrated while it replicates back: only a plain disable would be allowed
    assert _refused(lambda: items.begin_delete(*_args(m), MIGRATION_COMPLETE).result()) == "OperationNotAllowed"
    failing_back = props(items.begin_planned_failover(*_args(m), RCM_FAILBACK).result())
    assert failing_back.allowed_operations == ["Commit", "CancelFailover", "DisableProtection"]
    assert failing_back.active_location == "Primary"
    cancelled = props(items.begin_failover_cancel(*_args(m)).result())
    assert cancelled.allowed_operations == example_item["allowedOperations"]
    assert cancelled.protection_state == example_item["protectionState"]
