"""Every fault kind, met through the real SDK (its retry policy, its LRO poller)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_client
from tests.emulators.siterecovery.conftest import TOPOLOGY
from tests.emulators.siterecovery.scenario import A2A, HYPERV, RCM_VMWARE, RG, VAULT, Machine, props, tfo_input

FABRICS_GET = "ReplicationFabrics_Get"


def _args(m: Machine) -> tuple[str, str, str, str, str]:
    return (RG, VAULT, m.fabric, m.container, m.item)


def _replicated(emu: EmulatorHandle, client: SiteRecoveryManagementClient, m: Machine) -> None:
    client.replication_protected_items.begin_create(*_args(m), m.enable).result()
    emu.advance_until_idle()


def test_throttling_burst_is_retried_after_retry_after(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    emu.add_fault({"kind": "throttle", "operation": FABRICS_GET, "after": 1, "count": 1, "retryAfterSeconds": 1})
    client.replication_fabrics.get(RG, VAULT, A2A.fabric)
    started = time.monotonic()
    fabric = client.replication_fabrics.get(RG, VAULT, A2A.fabric)  # 429, waits Retry-After, succeeds
    assert fabric.name == A2A.fabric
    assert time.monotonic() - started >= 1.0  # the SDK slept the Retry-After it was given
    assert emu.call_count(FABRICS_GET) == 3
    assert emu.call_count(FABRICS_GET, accepted_only=True) == 2


def test_throttling_without_retries_surfaces_429(emu: EmulatorHandle) -> None:
    client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
    emu.add_fault({"kind": "throttle", "mode": "rate", "ratePerSecond": 0.001, "burst": 2, "retryAfterSeconds": 7})
    client.replication_fabrics.get(RG, VAULT, A2A.fabric)
    client.replication_fabrics.get(RG, VAULT, A2A.fabric)
    with pytest.raises(HttpResponseError) as throttled:
        client.replication_fabrics.get(RG, VAULT, A2A.fabric)
    assert throttled.value.status_code == 429
    assert throttled.value.error is not None and throttled.value.error.code == "TooManyRequests"
    response: Any = throttled.value.response
    assert response is not None and response.headers["Retry-After"] == "7"


@pytest.mark.parametrize("status", [500, 503])
def test_transient_errors_are_retried_by_the_sdk(emu: EmulatorHandle, status: int) -> None:
    client = emulator_client(emu.base_url, emu.subscription_id, retry_backoff_factor=0.01)
    emu.add_fault({"kind": "transient", "operation": FABRICS_GET, "status": status, "count": 2})
    assert client.replication_fabrics.get(RG, VAULT, A2A.fabric).name == A2A.fabric
    assert emu.call_count(FABRICS_GET) == 3


def test_transient_error_without_retries(emu: EmulatorHandle) -> None:
    client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
    emu.add_fault({"kind": "transient", "operation": "ReplicationProtectedItems_*", "status": 503})
    with pytest.raises(HttpResponseError) as failed:
        client.replication_protected_items.get(*_args(A2A))
    assert failed.value.status_code == 503
    assert failed.value.error is not None and failed.value.error.code == "ServiceUnavailable"


def test_transient_faults_are_seeded_and_reproducible() -> None:
    def statuses() -> list[int]:
        with start_emulator(TOPOLOGY) as emu:
            emu.add_fault({"kind": "transient", "probability": 0.5, "count": 100})
            url = (
                f"{emu.base_url}/subscriptions/{emu.subscription_id}/resourceGroups/{RG}/providers/"
                f"Microsoft.RecoveryServices/vaults/{VAULT}/replicationFabrics?api-version=2025-08-01"
            )
            return [requests.get(url, timeout=10).status_code for _ in range(30)]

    first, second = statuses(), statuses()
    assert first == second
    assert {200, 503} == set(first)


def test_failed_job_raises_with_the_job_error_code(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _replicated(emu, client, A2A)
    emu.add_fault(
        {
            "kind": "jobFailure",
            "scenario": "TestFailover",
            "machine": "app01",
            "task": 1,
            "errorCode": "28092",
            "message": "The test failover virtual machine could not be created.",
        }
    )
    items = client.replication_protected_items
    with pytest.raises(HttpResponseError) as failed:
        items.begin_test_failover(*_args(A2A), tfo_input(A2A)).result()
    assert failed.value.error is not None and failed.value.error.code == "28092"
    item = items.get(*_args(A2A))
    assert props(item).test_failover_state == "None"
    assert "TestFailover" in props(item).allowed_operations
    jobs = list(client.replication_jobs.list(RG, VAULT, filter="jobStatus eq 'Failed'"))
    assert len(jobs) == 1
    job = props(jobs[0])
    assert job.scenario_name == "TestFailover"
    assert job.errors[0].service_error_details.code == "28092"
    assert [t.state for t in job.tasks] == ["Succeeded", "Failed", "Skipped"]
    # the fault was used once: the retry succeeds
    assert props(items.begin_test_failover(*_args(A2A), tfo_input(A2A)).result()).test_failover_state == (
        "WaitingForCompletion"
    )


def test_failed_enable_leaves_an_item_to_disable(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    emu.add_fault({"kind": "jobFailure", "scenario": "EnableDr", "machine": "hv-*", "task": 2, "errorCode": "70094"})
    items = client.replication_protected_items
    with pytest.raises(HttpResponseError) as failed:
        items.begin_create(*_args(HYPERV), HYPERV.enable).result()
    assert failed.value.error is not None and failed.value.error.code == "70094"
    item = props(items.get(*_args(HYPERV)))
    assert item.allowed_operations == ["DisableProtection"]
    assert item.replication_health == "Critical"
    assert item.health_errors[0].error_code == "70094"
    items.begin_delete(*_args(HYPERV), {"properties": {"disableProtectionReason": "NotSpecified"}}).result()


def test_a_stalled_job_stays_in_progress_until_the_fault_is_removed(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    _replicated(emu, client, A2A)
    fault = emu.add_fault({"kind": "jobStall", "scenario": "TestFailover", "machine": "app01", "task": 1})
    items = client.replication_protected_items
    items.begin_test_failover(*_args(A2A), tfo_input(A2A), polling=False)
    job_name = props(items.get(*_args(A2A))).current_scenario.job_id.rsplit("/", 1)[-1]
    emu.advance(7 * 24 * 3600)
    assert emu.advance_until_idle() == 0  # nothing the clock can finish
    stalled = props(client.replication_jobs.get(RG, VAULT, job_name))
    assert stalled.state == "InProgress"
    assert [t.state for t in stalled.tasks] == ["Succeeded", "InProgress", "NotStarted"]
    assert props(items.get(*_args(A2A))).allowed_operations == []
    assert emu.remove_fault(fault)
    emu.advance_until_idle()
    assert props(client.replication_jobs.get(RG, VAULT, job_name)).state == "Succeeded"
    assert props(items.get(*_args(A2A))).test_failover_state == "WaitingForCompletion"
    # jobs started after the fault is gone run as planned
    items.begin_test_failover_cleanup(*_args(A2A), {"properties": {"comments": "done"}}).result()


def test_replication_stall_and_slowdown(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    fault = emu.add_fault({"kind": "replication", "machine": "web01", "mode": "stall", "atPercent": 40})
    items = client.replication_protected_items
    items.begin_create(*_args(RCM_VMWARE), RCM_VMWARE.enable).result()
    emu.advance(7 * 24 * 3600)
    stalled: Any = props(items.get(*_args(RCM_VMWARE)))
    details = stalled.provider_specific_details
    assert details.initial_replication_progress_percentage == 40
    assert details.initial_replication_progress_health == "NoProgress"
    assert stalled.replication_health == "Critical"
    assert stalled.health_errors and stalled.allowed_operations == ["DisableProtection"]
    # once the cause is gone, replication resumes from 40 %
    assert emu.remove_fault(fault)
    emu.advance(60)
    resumed: Any = props(items.get(*_args(RCM_VMWARE)))
    assert 40 <= resumed.provider_specific_details.initial_replication_progress_percentage < 100
    assert resumed.provider_specific_details.initial_replication_progress_health == "InProgress"
    emu.advance_until_idle()
    assert props(items.get(*_args(RCM_VMWARE))).protection_state == "Protected"


def test_replication_slowdown_added_while_replicating(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    items = client.replication_protected_items
    items.begin_create(*_args(HYPERV), HYPERV.enable).result()
    item = emu.find_item(HYPERV.item)
    normal_end = item.ir_done_at()
    assert normal_end is not None
    emu.add_fault({"kind": "replication", "machine": "hv-file01", "mode": "slow", "atPercent": 10, "factor": 0.25})
    emu.advance(normal_end - emu.clock.seconds() + 1)
    slow: Any = props(items.get(*_args(HYPERV)))
    assert (
        10
        < int(slow.provider_specific_details.initial_replication_details.initial_replication_progress_percentage)
        < 100
    )
    assert slow.replication_health == "Warning"
    emu.advance_until_idle()
    assert props(items.get(*_args(HYPERV))).protection_state == "Protected"


def test_latency(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    emu.add_fault({"kind": "latency", "operation": FABRICS_GET, "ms": 300})
    started = time.monotonic()
    client.replication_fabrics.get(RG, VAULT, A2A.fabric)
    assert time.monotonic() - started >= 0.3


def test_cancelled_job_is_canceled_for_the_poller(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    """ASR spells the job state Cancelled; the operation status says Canceled so the poller stops."""
    _replicated(emu, client, A2A)
    poller = client.replication_protected_items.begin_test_failover(*_args(A2A), tfo_input(A2A), polling=False)
    assert poller.done()
    job_id = props(client.replication_protected_items.get(*_args(A2A))).current_scenario.job_id
    job_name = job_id.rsplit("/", 1)[-1]
    cancel_job = client.replication_jobs.begin_cancel(RG, VAULT, job_name).result()
    assert cancel_job.name == job_name and props(cancel_job).state == "Cancelled"
    assert props(client.replication_jobs.get(RG, VAULT, job_name)).state == "Cancelled"
    status = requests.get(
        f"{emu.base_url}{job_id.rsplit('/replicationJobs', 1)[0]}/replicationOperationStatus/{job_name}"
        "?api-version=2025-08-01",
        timeout=10,
    ).json()
    assert status["status"] == "Canceled"
