"""Faults at every stage of one machine's runbook: the app on the local host against a misbehaving emulator.

Three kinds of outcome are shown. Transient faults (throttling bursts, 5xx, another operation holding the item)
are absorbed: the machine is migrated and ASR accepted each mutating call once. A failed ASR job ends the machine
in ``failed`` with the job's code, stage and id, after making it safe (no test VM left behind); a retry from the
failed stage then completes, repeating only the call whose job failed. A stalled replication is reported in the
wait's custom status while it lasts, and the migration goes on when replication resumes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from migration.instance_ids import wait_id
from tests.e2e.stack import MUTATING_OPERATIONS, Stack, accepted_calls, running_stack, runtime_of, wait_for_stall
from tests.support.machines import example_plan, fleet_input, fleet_name, fleet_topology, runbook_input

pytestmark = pytest.mark.slow

# One failed job per mutating stage: (fleet index, job scenarioName, ASR error code, stage the runbook reports,
# the operation whose job failed and is therefore called again by the retry).
FAILED_JOBS = [
    (0, "EnableDr", "539", "enableReplication", "ReplicationProtectedItems_Create"),
    (1, "TestFailover", "28092", "testFailover", "ReplicationProtectedItems_TestFailover"),
    (2, "TestFailoverCleanup", "28127", "testFailoverCleanup", "ReplicationProtectedItems_TestFailoverCleanup"),
    (3, "UnplannedFailover", "28145", "unplannedFailover", "ReplicationProtectedItems_UnplannedFailover"),
    (4, "CommitFailover", "70169", "commit", "ReplicationProtectedItems_FailoverCommit"),
    (5, "DisableDr", "150017", "completeMigration", "ReplicationProtectedItems_Delete"),
]


def _instance(index: int, suffix: str = "") -> str:
    return f"faults:{fleet_name(index)}{suffix}"


def _job_state(stack: Stack, job_id: str) -> dict[str, Any]:
    """The job as ASR reports it, read through the emulator's own ARM surface (no app code involved)."""
    import json
    import urllib.request

    url = f"{stack.asr.base_url}{job_id}?api-version=2025-08-01"
    with urllib.request.urlopen(url, timeout=10) as reply:
        body: dict[str, Any] = json.loads(reply.read())
    return body


def test_a_failed_job_at_each_stage_fails_the_machine_safely_and_a_retry_completes(tmp_path: Path) -> None:
    with running_stack(tmp_path, topology=fleet_topology(len(FAILED_JOBS))) as stack:
        for index, scenario, code, _, _ in FAILED_JOBS:
            stack.asr.add_fault(
                {"kind": "jobFailure", "scenario": scenario, "machine": fleet_name(index), "errorCode": code, "task": 1}
            )
        # The A2A machine's DR protection (a new item, app01-dr, toward the secondary region) fails too.
        stack.asr.add_fault(
            {"kind": "jobFailure", "scenario": "EnableDr", "machine": "app01-dr", "errorCode": "150038"}
        )
        azure = example_plan("azure.yaml")
        stack.start("machine_runbook", "faults:app01", runbook_input(azure, "app01", stack.speed))
        for index, *_ in FAILED_JOBS:
            stack.start("machine_runbook", _instance(index), fleet_input(index, stack.speed))
        failed = {index: stack.wait(_instance(index)) for index, *_ in FAILED_JOBS}
        dr_failed = stack.wait("faults:app01").output

        for index, scenario, code, stage, _ in FAILED_JOBS:
            status = failed[index]
            name = fleet_name(index)
            assert runtime_of(status) == "Completed", (name, status.output)
            record = status.output
            assert record["outcome"] == "failed", (name, record)
            error = record["error"]
            assert (error["stage"], error["code"]) == (stage, code), (name, error)
            assert error["jobId"], (name, error)
            job = _job_state(stack, error["jobId"])
            assert job["properties"]["state"] == "Failed", (name, job["properties"]["state"])
            assert job["properties"]["scenarioName"] == scenario, (name, job["properties"]["scenarioName"])
            assert record["stage"] == stage
            # Safe: no test VM is left running, whatever stage failed.
            item = stack.asr.item(name)
            assert item["testFailoverState"] == "None", (name, item)
            assert "TestFailoverCleanup" not in item["allowedOperations"], (name, item)
            assert item["currentJob"] is None, (name, item)
        # The failed cleanup was made safe by cleaning up again, and the record says so.
        assert failed[2].output["error"]["cleanedUp"] is True

        for index, _, _, stage, _ in FAILED_JOBS:
            previous = failed[index].output
            payload = fleet_input(index, stack.speed, fromStage=stage, attempt=1, record=previous)
            stack.start("machine_runbook", _instance(index, ":retry1"), payload)
        for index, _, _, stage, repeated in FAILED_JOBS:
            name = fleet_name(index)
            status = stack.wait(_instance(index, ":retry1"))
            record = status.output
            assert record["outcome"] == "migrated", (name, record.get("error"), status.custom_status)
            assert record["error"] is None
            calls = accepted_calls(stack.asr, name)
            expected = {operation: 1 for operation in MUTATING_OPERATIONS}
            expected[repeated] += 1  # the call whose job failed, and only that one, is made again
            if stage == "enableReplication":
                expected["ReplicationProtectedItems_Delete"] += 1  # the failed item is removed before enabling again
            assert calls == expected, (name, calls)
        assert {i["friendlyName"] for i in stack.asr.items()}.isdisjoint(fleet_name(i) for i, *_ in FAILED_JOBS)

        # DR protection after the move: failed with its code; the retry removes the failed item and enables again.
        assert dr_failed["outcome"] == "failed", dr_failed
        assert (dr_failed["error"]["stage"], dr_failed["error"]["code"]) == ("drProtection", "150038")
        retry = runbook_input(azure, "app01", stack.speed, fromStage="drProtection", attempt=1, record=dr_failed)
        stack.start("machine_runbook", "faults:app01:retry1", retry)
        record = stack.wait("faults:app01:retry1").output
        assert record["outcome"] == "migrated", record.get("error")
        assert accepted_calls(stack.asr, "app01") == {operation: 1 for operation in MUTATING_OPERATIONS}
        dr_calls = accepted_calls(stack.asr, "app01-dr")
        assert (dr_calls["ReplicationProtectedItems_Create"], dr_calls["ReplicationProtectedItems_Delete"]) == (2, 1)
        dr_item = stack.asr.item("app01-dr")
        assert "failed" not in dr_item["protectionStateDescription"].lower(), dr_item  # replicating, not the failed one


def test_throttling_bursts_and_server_errors_at_every_stage_are_absorbed(tmp_path: Path) -> None:
    """Every operation the runbook uses answers 429 (with Retry-After) and 503 in bursts; nothing is lost or doubled.

    The bursts outlast the SDK's own quick retries (azure-core retries a POST on 500, 503 and 504 too), so they reach
    the activity retry policy, whose next attempt reads the item and decides again.
    """
    operations = [
        *MUTATING_OPERATIONS,
        "ReplicationProtectedItems_Get",
        "ReplicationJobs_Get",
        "ReplicationFabrics_Get",
        "ReplicationPolicies_Get",
    ]
    machines = [0, 1]
    with running_stack(tmp_path, topology=fleet_topology(len(machines))) as stack:
        faults = []
        for operation in operations:
            faults.append(
                stack.asr.add_fault(
                    {
                        "kind": "throttle",
                        "operation": operation,
                        "mode": "burst",
                        "after": 1,
                        "count": 3,
                        "retryAfterSeconds": 0,
                    }
                )
            )
            faults.append(stack.asr.add_fault({"kind": "transient", "operation": operation, "status": 503, "count": 2}))
        for index in machines:
            stack.start("machine_runbook", _instance(index), fleet_input(index, stack.speed))
        for index in machines:
            status = stack.wait(_instance(index))
            record = status.output
            assert record["outcome"] == "migrated", (index, record.get("error"), status.custom_status)
            assert accepted_calls(stack.asr, fleet_name(index)) == {op: 1 for op in MUTATING_OPERATIONS}
        fired = {(f["kind"], f["operation"]): f["fired"] for f in stack.asr.store.faults.describe()}
        for operation in operations:
            assert fired[("throttle", operation)] == 3, (operation, fired)
            assert fired[("transient", operation)] == 2, (operation, fired)
        refused = [c for c in stack.asr.calls.calls() if c.status in (429, 503)]
        assert len(refused) == 5 * len(operations)


def test_another_operation_holding_the_item_is_waited_out(tmp_path: Path) -> None:
    """The runbook reaches test failover while an operator's test failover cleanup still runs on the item.

    ASR would answer 409 ``OperationInProgress``; the step reads the item first, sees the other job and retries
    later (blocked, transient), then starts its own test failover once the item is free.
    """
    from emulators.siterecovery.client import emulator_client

    with running_stack(tmp_path, topology=fleet_topology(1)) as stack:
        name = fleet_name(0)
        stack.start("machine_runbook", _instance(0, ":prep"), fleet_input(0, stack.speed, stopAt="testFailover"))
        assert stack.wait(_instance(0, ":prep")).output["outcome"] == "ready"
        client = emulator_client(stack.asr.base_url, stack.asr.subscription_id)
        item = stack.asr.find_item(name)
        args = (stack.asr.resource_group, stack.asr.vault_name, "vmware-appliance", "vmware-container", item.name)
        client.replication_protected_items.begin_test_failover(
            *args,
            {
                "properties": {
                    "failoverDirection": "PrimaryToRecovery",
                    "providerSpecificDetails": {
                        "instanceType": "InMageRcm",
                        "networkId": fleet_input(0, 1)["machine"]["target"]["testNetworkId"],
                    },
                }
            },
        ).result()
        stack.asr.clock.set_speed(0)  # the operator's cleanup job now runs until the test lets time move again
        client.replication_protected_items.begin_test_failover_cleanup(
            *args, {"properties": {"comments": "operator"}}, polling=False
        )
        assert stack.asr.item(name)["currentJob"] == "TestFailoverCleanup"
        reads_before = stack.asr.calls.count("ReplicationProtectedItems_Get", name)
        stack.start("machine_runbook", _instance(0), fleet_input(0, stack.speed, fromStage="testFailover"))
        deadline = time.monotonic() + 60
        # Three reads: the reconciliation, then two step attempts that found the item busy.
        while stack.asr.calls.count("ReplicationProtectedItems_Get", name) < reads_before + 3:
            assert time.monotonic() < deadline, "the runbook never tried the step"
            time.sleep(0.05)
        assert stack.asr.calls.count("ReplicationProtectedItems_TestFailover", name) == 1  # only the operator's
        stack.asr.clock.set_speed(stack.speed)
        status = stack.wait(_instance(0))
        record = status.output
        assert record["outcome"] == "migrated", (record.get("error"), status.custom_status)
        calls = accepted_calls(stack.asr, name)
        assert calls["ReplicationProtectedItems_TestFailover"] == 2  # the operator's and the runbook's
        assert calls["ReplicationProtectedItems_TestFailoverCleanup"] == 2
        assert calls["ReplicationProtectedItems_UnplannedFailover"] == 1
        # The runbook never sent a call ASR would have refused with 409.
        assert not [c for c in stack.asr.calls.calls() if c.status == 409]


def test_a_stalled_replication_is_reported_and_the_migration_goes_on_when_it_resumes(tmp_path: Path) -> None:
    with running_stack(tmp_path, topology=fleet_topology(1, disks_gb=[256])) as stack:
        name = fleet_name(0)
        fault = stack.asr.add_fault({"kind": "replication", "machine": name, "mode": "stall", "atPercent": 40})
        stack.start("machine_runbook", _instance(0), fleet_input(0, stack.speed))
        wait_instance = wait_id(_instance(0), "initialReplication", 0)
        custom = wait_for_stall(stack, wait_instance)
        assert custom["progressPercent"] == 40, custom
        assert custom["unchangedForSeconds"] >= 0
        assert runtime_of(stack.status(_instance(0))) == "Running"
        stack.asr.remove_fault(fault)
        status = stack.wait(_instance(0))
        assert status.output["outcome"] == "migrated", (status.output.get("error"), status.custom_status)
        assert accepted_calls(stack.asr, name) == {op: 1 for op in MUTATING_OPERATIONS}


def test_a_replication_that_never_resumes_fails_at_the_plan_timeout(tmp_path: Path) -> None:
    with running_stack(tmp_path, topology=fleet_topology(1, disks_gb=[256])) as stack:
        name = fleet_name(0)
        stack.asr.add_fault({"kind": "replication", "machine": name, "mode": "stall", "atPercent": 30})
        options = {"initialReplicationTimeout": "PT12H", "stallWarningAfter": "PT1H"}
        stack.start("machine_runbook", _instance(0), fleet_input(0, stack.speed, options=options))
        status = stack.wait(_instance(0))
        record = status.output
        assert record["outcome"] == "failed", record
        error = record["error"]
        assert (error["stage"], error["code"]) == ("initialReplication", "InitialReplicationTimedOut")
        assert "30%" in record["error"]["message"]
        assert accepted_calls(stack.asr, name)["ReplicationProtectedItems_TestFailover"] == 0
