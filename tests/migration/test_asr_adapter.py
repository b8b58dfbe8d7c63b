"""The ASR adapter against the Site Recovery emulator, through the real SDK over loopback.

It drives one VMware machine through the whole runbook with the bodies ``migration.scenarios`` builds, starting
each operation without waiting and following its job, and checks what the adapter refuses and how it classifies
the emulator's faults.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from emulators.siterecovery import EmulatorHandle, start_emulator
from migration.arm_ids import VaultRef
from migration.asr import AsrSettings, SiteRecovery, StartedOperation, job_name_from_headers
from migration.errors import AsrPermanentError, AsrTransientError
from migration.machine import Machine
from migration.plan import validate_plan
from migration.scenarios import DisableReason, scenario_for

SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
VAULT = VaultRef(SUBSCRIPTION, "rg-migration", "vault-migration")
WEB01 = "10000000-0000-0000-0000-000000000001"


def _vmware_machine() -> Machine:
    """web01 of examples/topology.yaml, as a plan names it."""
    rg = f"/subscriptions/{SUBSCRIPTION}/resourceGroups"
    plan = validate_plan(
        {
            "id": "adapter-test",
            "name": "adapter test",
            "groups": [
                {
                    "name": "g1",
                    "machines": [
                        {
                            "name": "web01",
                            "sourceKind": "vmware",
                            "asr": {
                                "vault": {
                                    "subscriptionId": SUBSCRIPTION,
                                    "resourceGroup": "rg-migration",
                                    "name": "vault-migration",
                                },
                                "fabric": "vmware-appliance",
                                "protectionContainer": "vmware-container",
                                "protectableItem": WEB01,
                                "discoveredMachineId": f"{rg}/rg-migration/providers/Microsoft.OffAzure/VMwareSites/"
                                "vmware-site/machines/web01",
                            },
                            "replication": {
                                "policy": "rcm-policy",
                                "containerMapping": "vmware-to-azure",
                                "processServerId": "7d3a1c52-0f0e-4b6a-9d0c-5f2a8e1b7c11",
                                "logStorageAccountId": f"{rg}/rg-migration/providers/Microsoft.Storage/"
                                "storageAccounts/stmigrationcache",
                                "diskType": "Premium_LRS",
                            },
                            "target": {
                                "resourceGroupId": f"{rg}/rg-target",
                                "networkId": f"{rg}/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-prod",
                                "subnet": "snet-web",
                                "testNetworkId": f"{rg}/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-test",
                            },
                        }
                    ],
                }
            ],
        }
    )
    return plan.machine("web01")


@pytest.fixture()
def emulator() -> Iterator[EmulatorHandle]:
    handle = start_emulator()
    try:
        yield handle
    finally:
        handle.stop()


def _asr(emulator: EmulatorHandle, *, allowed: str = VAULT.id) -> SiteRecovery:
    settings = AsrSettings.from_environment({"ASR_ARM_ENDPOINT": emulator.base_url, "ASR_ALLOWED_VAULT_IDS": allowed})
    return SiteRecovery(settings)


def _finish(emulator: EmulatorHandle, asr: SiteRecovery, started: StartedOperation) -> dict[str, Any]:
    """Let simulated time run until the job ends, then read the job through the adapter."""
    emulator.advance_until_idle()
    return asr.get_job(VAULT, started.job_name)


def test_runbook_through_the_adapter_one_call_each(emulator: EmulatorHandle) -> None:
    asr = _asr(emulator)
    machine = _vmware_machine()
    scenario = scenario_for(machine)
    item = scenario.protected_item(machine)

    assert asr.get_protected_item(item) is None, "nothing is protected before enable replication"
    assert asr.get_protectable_item(VAULT, "vmware-appliance", "vmware-container", WEB01) is not None

    started = asr.start_enable_replication(item, scenario.enable_protection(machine))
    assert started.job_id.lower() == VAULT.job_id(started.job_name).lower()
    assert _finish(emulator, asr, started)["properties"]["state"] == "Succeeded"
    view = scenario.read_protected_item(asr.get_protected_item(item) or {})
    assert view.protected and view.initial_replication_done and view.can_test_failover
    assert asr.list_recovery_points(item), "recovery points exist once initial replication is done"

    steps = [
        ("testFailover", lambda: asr.start_test_failover(item, scenario.test_failover(machine))),
        ("testFailoverCleanup", lambda: asr.start_test_failover_cleanup(item, scenario.test_failover_cleanup(machine))),
        ("unplannedFailover", lambda: asr.start_unplanned_failover(item, scenario.unplanned_failover(machine))),
        ("failoverCommit", lambda: asr.start_failover_commit(item)),
        (
            "remove",
            lambda: asr.start_disable_protection(
                item, scenario.disable_protection(machine, reason=DisableReason.MIGRATION_COMPLETE)
            ),
        ),
    ]
    for name, start in steps:
        job = _finish(emulator, asr, start())
        assert job["properties"]["state"] == "Succeeded", (name, job["properties"].get("errors"))

    assert asr.get_protected_item(item) is None, "disable protection removes the item"
    operations = ("Create", "TestFailover", "TestFailoverCleanup", "UnplannedFailover", "FailoverCommit", "Delete")
    mutating = ["ReplicationProtectedItems_" + op for op in operations]
    for operation in mutating:
        assert emulator.calls.count(operation, accepted_only=True) == 1, operation


def test_a_refused_operation_is_permanent_with_the_arm_code(emulator: EmulatorHandle) -> None:
    asr = _asr(emulator)
    machine = _vmware_machine()
    scenario = scenario_for(machine)
    item = scenario.protected_item(machine)
    with pytest.raises(AsrPermanentError) as refused:
        asr.start_failover_commit(item, stage="commit")
    assert refused.value.stage == "commit"
    assert refused.value.status == 404
    assert refused.value.code


def test_a_vault_outside_the_allow_list_is_refused_before_any_request(emulator: EmulatorHandle) -> None:
    other = VaultRef(SUBSCRIPTION, "rg-migration", "vault-elsewhere").id
    asr = _asr(emulator, allowed=other)
    item = scenario_for(_vmware_machine()).protected_item(_vmware_machine())
    before = len(emulator.calls.calls())
    with pytest.raises(AsrPermanentError) as refused:
        asr.get_protected_item(item)
    assert refused.value.code == "VaultNotAllowed"
    assert len(emulator.calls.calls()) == before


def test_throttling_that_outlasts_the_sdk_retries_is_transient_with_retry_after(emulator: EmulatorHandle) -> None:
    emulator.add_fault(
        {"kind": "throttle", "operation": "ReplicationProtectedItems_Get", "count": 10, "retryAfterSeconds": 0}
    )
    asr = _asr(emulator)
    machine = _vmware_machine()
    item = scenario_for(machine).protected_item(machine)
    with pytest.raises(AsrTransientError) as throttled:
        asr.get_protected_item(item)
    assert throttled.value.status == 429


def test_a_failed_job_is_read_back_with_its_error(emulator: EmulatorHandle) -> None:
    emulator.add_fault({"kind": "jobFailure", "scenario": "TestFailover", "machine": "web01", "errorCode": "28031"})
    asr = _asr(emulator)
    machine = _vmware_machine()
    scenario = scenario_for(machine)
    item = scenario.protected_item(machine)
    _finish(emulator, asr, asr.start_enable_replication(item, scenario.enable_protection(machine)))
    job = _finish(emulator, asr, asr.start_test_failover(item, scenario.test_failover(machine)))
    assert job["properties"]["state"] == "Failed"
    codes = [error["serviceErrorDetails"]["code"] for error in job["properties"]["errors"]]
    assert "28031" in codes


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Location": "https://h/x/replicationProtectedItems/i/operationresults/job-1?api-version=1"}, "job-1"),
        ({"azure-asyncoperation": "https://h/v/replicationOperationStatus/job-2?api-version=1"}, "job-2"),
        ({"Location": "https://h/x/replicationProtectedItems/i"}, None),
        ({}, None),
    ],
)
def test_job_name_is_read_from_either_lro_header(headers: dict[str, str], expected: str | None) -> None:
    assert job_name_from_headers(headers) == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ASR_ARM_ENDPOINT": "ftp://x"}, "not an http(s) URL"),
        ({"ASR_ARM_ENDPOINT": "http://example.com"}, "only on loopback"),
        ({"ASR_ARM_ENDPOINT": "https://management.azure.com", "ASR_CREDENTIAL": "local-emulator"}, "loopback"),
        ({"ASR_ALLOWED_VAULT_IDS": "/subscriptions/x"}, "ASR_ALLOWED_VAULT_IDS[0]"),
        (
            {"ASR_ALLOWED_VAULT_IDS": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"},
            "not a Recovery Services vault",
        ),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        AsrSettings.from_environment(environ)


def test_azure_defaults_use_the_public_endpoint_and_the_managed_identity() -> None:
    settings = AsrSettings.from_environment({"ASR_ALLOWED_VAULT_IDS": f" {VAULT.id.upper()} ,"})
    assert settings.arm_endpoint == "https://management.azure.com"
    assert settings.credential == "default"
    assert settings.allows(VAULT)
