"""Faults at every stage of an agentless VMware machine's runbook (Azure Migrate's ``VMwareCbt``, migration items).

The same outcomes as for protected items (``test_runbook_under_faults``), on ``replicationMigrationItems``. A failed
ASR job ends the machine in ``failed`` with the job's code, stage and id, after making it safe (no test VM left
behind); a retry from the failed stage then completes, repeating only the call whose job failed. Throttling bursts
and 5xx on the migration-item calls are absorbed: migrated, each mutating call accepted once. A stalled seeding is
reported in the wait's custom status and the migration goes on when it recovers. A migration item can also ask for
a resynchronization, which a protected item never does: a resync-required source change and a failed initial
seeding are each answered with one ``Resync``, and the machine migrates.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from migration.instance_ids import resync_wait_id, wait_id
from tests.e2e.stack import (
    MIGRATION_ITEM_MUTATING_OPERATIONS,
    MIGRATION_ITEM_RUNBOOK_OPERATIONS,
    Stack,
    accepted_migration_calls,
    migration_calls_once_each,
    running_stack,
    runtime_of,
    wait_for_stall,
)
from tests.support.machines import agentless_input, agentless_name, agentless_topology

pytestmark = pytest.mark.slow

_GROUP = "ReplicationMigrationItems"
_RESYNC = f"{_GROUP}_Resync"


def _get(stack: Stack, resource_id: str) -> dict[str, Any]:
    """A resource as ASR reports it, read through the emulator's own ARM surface (no app code involved)."""
    url = f"{stack.asr.base_url}{resource_id}?api-version=2025-08-01"
    with urllib.request.urlopen(url, timeout=10) as reply:
        body: dict[str, Any] = json.loads(reply.read())
    return body


def migration_item(stack: Stack, name: str) -> dict[str, Any]:
    """The migration item's ``properties`` as ASR reports them."""
    properties: dict[str, Any] = _get(stack, stack.asr.find_migration_item(name).id)["properties"]
    return properties


def remaining_items(stack: Stack) -> set[str]:
    return {item_id.rsplit("/", 1)[-1] for item_id in stack.asr.migration_items()}


def _instance(index: int, suffix: str = "") -> str:
    return f"agentless-faults:{agentless_name(index)}{suffix}"


def _migrated(stack: Stack, instance: str) -> dict[str, Any]:
    status = stack.wait(instance)
    record: dict[str, Any] = status.output
    assert runtime_of(status) == "Completed", (instance, record)
    assert record["outcome"] == "migrated", (instance, record.get("error"), status.custom_status)
    assert record["error"] is None
    return record


# -- failed jobs ---------------------------------------------------------------------------------------------

# One failed job per mutating stage: (fleet index, job scenarioName, error code, stage the runbook reports, the
# operation (suffix) whose job failed and the retry therefore calls again). Each stage fails with its own code, so
# a code reported at the wrong stage shows.
FAILED_JOBS = [
    (0, "EnableMigration", "95140", "enableReplication", "Create"),
    (1, "TestMigrate", "95141", "testFailover", "TestMigrate"),
    (2, "TestMigrateCleanup", "95142", "testFailoverCleanup", "TestMigrateCleanup"),
    (3, "Migrate", "95143", "unplannedFailover", "Migrate"),
    (4, "DisableMigration", "95144", "completeMigration", "Delete"),
]
# What the failed run called besides the runbook's calls up to the failed one: a failed test migration leaves a
# test migration to clean up, which making the machine safe does, and a failed cleanup is cleaned up again.
MADE_SAFE = {"testFailover": "TestMigrateCleanup", "testFailoverCleanup": "TestMigrateCleanup"}
# The state each failure leaves the item in (the failed migrate keeps replicating, so it can be tried again).
LEFT_IN = {
    "enableReplication": "EnableMigrationFailed",
    "testFailover": "Replicating",
    "testFailoverCleanup": "Replicating",
    "unplannedFailover": "MigrationFailed",
    "completeMigration": "DisableMigrationFailed",
}


def _calls_until(stage_operation: str, made_safe: str | None) -> dict[str, int]:
    """The accepted calls of a run that failed at ``stage_operation``'s job (after making the machine safe)."""
    suffixes = [op.removeprefix(f"{_GROUP}_") for op in MIGRATION_ITEM_RUNBOOK_OPERATIONS]
    done = suffixes[: suffixes.index(stage_operation) + 1]
    expected = {op: int(op.removeprefix(f"{_GROUP}_") in done) for op in MIGRATION_ITEM_MUTATING_OPERATIONS}
    if made_safe is not None:
        expected[f"{_GROUP}_{made_safe}"] += 1
    return expected


def _fail_each(stack: Stack, failures: list[tuple[int, str, str, str, str]]) -> dict[int, dict[str, Any]]:
    """Runs each machine into its failed job; checks the record, the job and the item it leaves; returns the records."""
    for index, scenario, code, _, _ in failures:
        spec = {"kind": "jobFailure", "scenario": scenario, "machine": agentless_name(index), "errorCode": code}
        stack.asr.add_fault({**spec, "task": 1})
    for index, *_ in failures:
        stack.start("machine_runbook", _instance(index), agentless_input(index, stack.speed))
    records = {}
    for index, scenario, code, stage, operation in failures:
        status = stack.wait(_instance(index))
        name = agentless_name(index)
        assert runtime_of(status) == "Completed", (name, status.output)
        record: dict[str, Any] = status.output
        assert record["outcome"] == "failed", (name, record)
        assert record["stage"] == stage, (name, record["stage"])
        error = record["error"]
        assert (error["stage"], error["code"]) == (stage, code), (name, error)
        assert error["jobId"], (name, error)
        job = _get(stack, error["jobId"])["properties"]
        assert (job["state"], job["scenarioName"], job["targetObjectName"]) == ("Failed", scenario, name), job
        # ARM ids compare case-insensitively (ASR writes "/Subscriptions/" in the ids it returns).
        assert error["jobId"].lower() in {job_id.lower() for job_id in record["jobs"]}, (name, record["jobs"])
        # Safe: no test VM is left behind, whatever stage failed, and nothing runs on the item.
        item = migration_item(stack, name)
        assert item["migrationState"] == LEFT_IN[stage], (name, item["migrationState"])
        assert item["testMigrateState"] == "None", (name, item["testMigrateState"])
        assert "TestMigrateCleanup" not in item["allowedOperations"], (name, item["allowedOperations"])
        assert item["currentJob"]["jobName"] == "None", (name, item["currentJob"])
        # The failed run called each runbook operation up to the failed one once, and the cleanup that made it
        # safe; nothing after it. The record says when it cleaned up.
        assert accepted_migration_calls(stack.asr, name) == _calls_until(operation, MADE_SAFE.get(stage)), name
        assert error.get("cleanedUp") is (True if stage in MADE_SAFE else None), (name, error)
        records[index] = record
    return records


def _retry_each(stack: Stack, failures: list[tuple[int, str, str, str, str]], records: dict[int, Any]) -> None:
    """Retries each machine from its failed stage; each completes, calling again only the call whose job failed."""
    for index, _, _, stage, _ in failures:
        payload = agentless_input(index, stack.speed, fromStage=stage, attempt=1, record=records[index])
        stack.start("machine_runbook", _instance(index, ":retry1"), payload)
    for index, _, _, stage, operation in failures:
        name = agentless_name(index)
        record = _migrated(stack, _instance(index, ":retry1"))
        assert record["stages"][stage]["endedAt"], (name, record["stages"][stage])
        # In all: every runbook call once, the one whose job failed once more (a failed enable's item is removed
        # before enabling again), and the cleanup that made a failed test migration safe.
        expected = migration_calls_once_each(**{operation: 1})
        if stage == "enableReplication":
            expected[f"{_GROUP}_Delete"] += 1
        if stage == "testFailover":
            expected[f"{_GROUP}_TestMigrateCleanup"] += 1
        assert accepted_migration_calls(stack.asr, name) == expected, name
    assert remaining_items(stack).isdisjoint(agentless_name(i) for i, *_ in failures)


def test_a_failed_job_at_each_stage_fails_the_machine_safely_and_a_retry_completes(tmp_path: Path) -> None:
    with running_stack(tmp_path, topology=agentless_topology(len(FAILED_JOBS))) as stack:
        records = _fail_each(stack, FAILED_JOBS)
        # The failed removal's retry is the next test's.
        _retry_each(stack, [failure for failure in FAILED_JOBS if failure[3] != "completeMigration"], records)


def test_a_retry_after_a_failed_removal_of_the_migrated_item_completes(tmp_path: Path) -> None:
    failure = next(f for f in FAILED_JOBS if f[3] == "completeMigration")
    with running_stack(tmp_path, topology=agentless_topology(failure[0] + 1)) as stack:
        records = _fail_each(stack, [failure])
        _retry_each(stack, [failure], records)


# -- throttling and server errors -----------------------------------------------------------------------------


def test_throttling_bursts_and_server_errors_on_migration_item_calls_are_absorbed(tmp_path: Path) -> None:
    """Every migration-item call the runbook makes, and the job and discovery reads, answer 429 (with Retry-After)
    and 5xx (500, 502, 503, 504 by turns) in bursts; nothing is lost or doubled.

    The bursts outlast the SDK's own quick retries, so they reach the activity retry policy. The test migrate's 502
    is not retried by the SDK at all (azure-core retries a POST on 500, 503 and 504 only), so the activity's next
    attempt reads the item and decides again.
    """
    # (operation, the 5xx it answers)
    server_errors = {
        f"{_GROUP}_Create": 500,
        f"{_GROUP}_TestMigrate": 502,
        f"{_GROUP}_TestMigrateCleanup": 503,
        f"{_GROUP}_Migrate": 504,
        f"{_GROUP}_Delete": 500,
        f"{_GROUP}_Get": 502,
        "MigrationRecoveryPoints_ListByReplicationMigrationItems": 503,
        "ReplicationJobs_Get": 504,
        "Machines_GetMachine": 503,
    }
    assert set(MIGRATION_ITEM_RUNBOOK_OPERATIONS) <= set(server_errors)
    machines = [0, 1]
    with running_stack(tmp_path, topology=agentless_topology(len(machines))) as stack:
        for operation, status in server_errors.items():
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
            stack.asr.add_fault({"kind": "transient", "operation": operation, "status": status, "count": 2})
        for index in machines:
            stack.start("machine_runbook", _instance(index), agentless_input(index, stack.speed))
        for index in machines:
            _migrated(stack, _instance(index))
            assert accepted_migration_calls(stack.asr, agentless_name(index)) == migration_calls_once_each(), index
        # Every burst was met in full (three 429s, two 5xx per operation), and nothing else was refused.
        refused = sorted(
            (c.operation, c.status) for c in stack.asr.calls.calls() if c.status in (429, *range(500, 600))
        )
        expected = sorted((op, status) for op, error in server_errors.items() for status in (429,) * 3 + (error,) * 2)
        assert refused == expected
        assert not remaining_items(stack) & {agentless_name(i) for i in machines}


# -- replication: stalled, resync required, failed seeding ----------------------------------------------------


def test_a_stalled_seeding_is_reported_and_the_migration_goes_on_when_it_recovers(tmp_path: Path) -> None:
    with running_stack(tmp_path, topology=agentless_topology(1, disk_gb=256)) as stack:
        name = agentless_name(0)
        fault = stack.asr.add_fault({"kind": "replication", "machine": name, "mode": "stall", "atPercent": 40})
        stack.start("machine_runbook", _instance(0), agentless_input(0, stack.speed))
        wait_instance = wait_id(_instance(0), "initialReplication", 0)
        custom = wait_for_stall(stack, wait_instance)
        assert custom["progressPercent"] == 40, custom
        assert custom["unchangedForSeconds"] >= 0
        assert custom["resyncs"] == 0, custom
        assert runtime_of(stack.status(_instance(0))) == "Running"
        item = migration_item(stack, name)
        assert item["migrationState"] == "InitialSeedingInProgress", item["migrationState"]
        assert item["providerSpecificDetails"]["initialSeedingProgressPercentage"] == 40
        assert accepted_migration_calls(stack.asr, name)[f"{_GROUP}_TestMigrate"] == 0
        stack.asr.remove_fault(fault)
        record = _migrated(stack, _instance(0))
        assert record["stages"]["initialReplication"]["endedAt"]
        # A stall is waited out, never answered with a resync.
        assert accepted_migration_calls(stack.asr, name) == migration_calls_once_each()


def test_a_resync_required_during_initial_replication_is_answered_by_one_resync(tmp_path: Path) -> None:
    """The source changed under the replication (CBT reset): once seeded the item asks for a resynchronization and
    allows nothing but a resync or removal; the wait starts one resync, waits for it, and the migration goes on."""
    with running_stack(tmp_path, topology=agentless_topology(1)) as stack:
        fault = stack.asr.add_fault({"kind": "resyncRequired", "machine": agentless_name(0)})
        stack.start("machine_runbook", _instance(0), agentless_input(0, stack.speed))
        _migrated_after_one_resync(stack, 0)
        described = {f["id"]: f["kind"] for f in stack.asr.store.faults.describe()}
        assert described[fault] == "resyncRequired"  # still in place: one resync answered it for good


def test_a_failed_initial_seeding_is_resynchronized_and_migrates(tmp_path: Path) -> None:
    """Initial seeding fails part way (``InitialSeedingFailed``, only removal or a resync allowed); the wait starts
    one resync, which seeds the machine again from the start, and the migration goes on."""
    with running_stack(tmp_path, topology=agentless_topology(1)) as stack:
        stack.asr.add_fault({"kind": "seedingFailure", "machine": agentless_name(0), "atPercent": 60})
        stack.start("machine_runbook", _instance(0), agentless_input(0, stack.speed))
        _migrated_after_one_resync(stack, 0)


def _migrated_after_one_resync(stack: Stack, index: int) -> None:
    """The machine migrated, the initial-replication wait having started one resync and seen its job succeed."""
    name = agentless_name(index)
    record = _migrated(stack, _instance(index))
    assert record["stages"]["initialReplication"]["endedAt"]
    assert accepted_migration_calls(stack.asr, name) == migration_calls_once_each(Resync=1)
    # Started once: no refused or repeated attempt either (ASR allows a resync only while the item needs one).
    assert stack.asr.calls.count(_RESYNC, name) == 1
    assert not _refused_mutations(stack, name)
    log = [c.operation for c in stack.asr.calls.calls() if c.item == name and c.status < 400]
    assert log.index(_RESYNC) < log.index(f"{_GROUP}_TestMigrate"), log
    wait_instance = wait_id(_instance(index), "initialReplication", 0)
    resync = stack.status(resync_wait_id(wait_instance, 0))
    assert resync.instance_id and runtime_of(resync) == "Completed", resync.instance_id
    assert resync.output["outcome"] == "succeeded", resync.output
    job = _get(stack, resync.output["jobId"])["properties"]
    assert (job["scenarioName"], job["state"], job["targetObjectName"]) == ("Resync", "Succeeded", name), job
    assert stack.status(resync_wait_id(wait_instance, 1)).instance_id is None  # no second resync


def _refused_mutations(stack: Stack, name: str) -> list[Any]:
    """Mutating calls on the item that ASR refused (a 409 or a 400 for a state that did not allow them)."""
    return [
        c
        for c in stack.asr.calls.calls()
        if c.item == name and c.operation in MIGRATION_ITEM_MUTATING_OPERATIONS and c.status >= 400
    ]
