"""Waves end to end: ordered cutover, the concurrency cap, approvals, windows, cancel and retry.

The wave orchestration runs on the local host against the Site Recovery emulator; what is checked is what ASR saw
(the emulator's call log, job times and items), not only what the orchestration says about itself.
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from migration.instance_ids import wave_id
from migration.plan_clock import PlanClock
from tests.e2e.stack import Stack, running_stack
from tests.support.machines import example_plan

pytestmark = pytest.mark.slow

MIXED = example_plan("mixed-wave.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)


def plan_with(**options: Any) -> dict[str, Any]:
    plan = copy.deepcopy(MIXED)
    plan["options"].update(options)
    plan["options"].pop("drAfterMigration", None)
    return plan


def only(plan: dict[str, Any], *names: str) -> dict[str, Any]:
    """The plan with just the named machines (groups left empty are dropped)."""
    groups = []
    for group in plan["groups"]:
        machines = [m for m in group["machines"] if m["name"] in names]
        if machines:
            groups.append({**group, "machines": machines})
    return {**plan, "groups": groups}


def start_wave(stack: Stack, plan: dict[str, Any]) -> str:
    clock = PlanClock(stack.speed, stack.asr.clock.now(), datetime.now(UTC))
    return stack.start("migration_wave", wave_id(plan["id"]), {"plan": plan, "clock": clock.to_dict()})


def control(stack: Stack, instance: str, action: str, **extra: Any) -> None:
    payload = {"action": action, "actor": "operator@example.com", "reason": f"test {action}", **extra}
    stack.host.run(stack.host.client().raise_event(instance, "control", payload))


def wait_for_phase(stack: Stack, instance: str, phase: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = stack.status(instance).custom_status or {}
        if status.get("phase") == phase:
            return dict(status)
        assert time.monotonic() < deadline, f"never reached {phase}: {status}"
        time.sleep(0.2)


def accepted(stack: Stack, operation: str) -> list[str]:
    """Items named by accepted calls of ``operation``, in the order ASR received them."""
    return [
        call.item or ""
        for call in stack.asr.calls.calls()
        if call.operation == f"ReplicationProtectedItems_{operation}" and call.status < 300
    ]


def protected(stack: Stack) -> set[str]:
    """Names of the protected items and migration items the vaults still hold."""
    migrating = {item_id.rsplit("/", 1)[1] for item_id in stack.asr.migration_items()}
    return {item["name"] for item in stack.asr.items()} | migrating


# What cuts a machine over and what completes it, per item kind: a protected item fails over and commits, an
# agentless migration item migrates and is then deleted with the option that keeps the migrated VM.
CUTOVER = {("ReplicationProtectedItems", "UnplannedFailover"), ("ReplicationMigrationItems", "Migrate")}
COMPLETION = {("ReplicationProtectedItems", "FailoverCommit"), ("ReplicationMigrationItems", "Delete")}
ENABLE = {("ReplicationProtectedItems", "Create"), ("ReplicationMigrationItems", "Create")}
TEST_CLEANUP = {
    ("ReplicationProtectedItems", "TestFailoverCleanup"),
    ("ReplicationMigrationItems", "TestMigrateCleanup"),
}


def test_mixed_wave_cuts_over_in_group_order_within_the_cap(tmp_path: Path) -> None:
    plan = plan_with(maxParallel=2)
    with running_stack(tmp_path) as stack:
        instance = start_wave(stack, plan)
        gate = wait_for_phase(stack, instance, "awaitingApproval")
        assert gate["counts"] == {"ready": 6}
        assert accepted(stack, "UnplannedFailover") == [], "nothing fails over before the approval"
        control(stack, instance, "approve")  # a late approval: the wave was waiting at the gate
        result = stack.wait(instance).output

        assert result["status"] == "Migrated", result
        assert {m["outcome"] for m in result["machines"].values()} == {"migrated"}
        assert [c["action"] for c in result["controls"]] == ["approve"]
        assert result["controls"][0]["actor"] == "operator@example.com"

        # Cutover order: every failover of a group comes after every commit of the group before it.
        log = [(tuple(c.operation.rsplit("_", 1)), c.item) for c in stack.asr.calls.calls() if c.status < 300]
        groups = [[m["name"] for m in g["machines"]] for g in plan["groups"]]

        def first(kinds: set[tuple[str, str]], machine: str) -> int:
            return next(i for i, (operation, item) in enumerate(log) if operation in kinds and item == machine)

        for earlier, later in zip(groups, groups[1:], strict=False):
            last_completion = max(first(COMPLETION, m) for m in earlier)
            first_cutover = min(first(CUTOVER, m) for m in later)
            assert last_completion < first_cutover, (earlier, later)

        # The cap: at no point were more than two machines between enable and test cleanup.
        active, peak = set(), 0
        for operation, item in log:
            if operation in ENABLE:
                active.add(item)
                peak = max(peak, len(active))
            elif operation in TEST_CLEANUP:
                active.discard(item)
        assert peak <= 2
        assert not protected(stack) & {m for g in groups for m in g}


def test_an_early_approval_is_kept_for_the_gate(tmp_path: Path) -> None:
    plan = only(plan_with(), "db01", "web01")
    with running_stack(tmp_path) as stack:
        instance = start_wave(stack, plan)
        control(stack, instance, "approve")  # before any machine is ready
        result = stack.wait(instance).output
        assert result["status"] == "Migrated", result
        assert result["controls"][0]["accepted"] is True


def test_approval_timeout_cancels_when_the_plan_says_so(tmp_path: Path) -> None:
    plan = only(plan_with(approval={"required": True, "timeout": "PT1H", "onTimeout": "cancel"}), "db01", "hv-file01")
    with running_stack(tmp_path) as stack:
        instance = start_wave(stack, plan)
        result = stack.wait(instance).output
        assert result["status"] == "Cancelled", result
        assert {m["outcome"] for m in result["machines"].values()} == {"cancelled"}
        assert result["controls"][-1]["actor"] == "system"
        assert accepted(stack, "UnplannedFailover") == []
        assert sorted(accepted(stack, "Delete")) == ["db01", "hv-file01"]  # replication disabled
        assert not protected(stack) & {"db01", "hv-file01"}


def test_approval_timeout_holds_until_an_approval_comes(tmp_path: Path) -> None:
    plan = only(plan_with(approval={"required": True, "timeout": "PT1H", "onTimeout": "hold"}), "db01")
    with running_stack(tmp_path) as stack:
        instance = start_wave(stack, plan)
        held = wait_for_phase(stack, instance, "held")
        assert held["hold"]["reason"] == "approvalTimedOut"
        assert held["gate"]["approvalTimedOut"] is True
        control(stack, instance, "approve")
        assert stack.wait(instance).output["status"] == "Migrated"


def test_a_future_window_holds_cutover_until_its_start(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        opens = stack.asr.clock.now() + timedelta(hours=30)  # well after replication and test failover end
        window = {"notBefore": opens.isoformat(), "notAfter": (opens + timedelta(hours=8)).isoformat()}
        plan = only(plan_with(approval={"required": False}, cutoverWindow=window), "db01")
        instance = start_wave(stack, plan)
        waiting = wait_for_phase(stack, instance, "waitingForWindow")
        assert datetime.fromisoformat(waiting["planTime"]) < opens
        assert stack.wait(instance).output["status"] == "Migrated"
        client = _sdk(stack)
        failovers = [
            job
            for job in client.replication_jobs.list(stack.asr.resource_group, stack.asr.vault_name)
            if job.properties and job.properties.scenario_name == "UnplannedFailover"
        ]
        starts = [job.properties.start_time for job in failovers]
        assert starts and all(start >= opens for start in starts), f"window opens {opens}, failovers started {starts}"


def test_a_missed_window_holds_until_postponed(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        past = stack.asr.clock.now() - timedelta(days=2)
        window = {"notBefore": past.isoformat(), "notAfter": (past + timedelta(hours=4)).isoformat()}
        plan = only(plan_with(approval={"required": False}, cutoverWindow=window), "db01")
        instance = start_wave(stack, plan)
        held = wait_for_phase(stack, instance, "held")
        assert held["hold"]["reason"] == "windowMissed"
        assert accepted(stack, "UnplannedFailover") == []
        now = stack.asr.clock.now()
        control(
            stack,
            instance,
            "postpone",
            window={"notBefore": now.isoformat(), "notAfter": (now + timedelta(days=1)).isoformat()},
        )
        result = stack.wait(instance).output
        assert result["status"] == "Migrated"
        assert [c["action"] for c in result["controls"]] == ["postpone"]


def test_cancel_before_cutover_rolls_every_machine_back(tmp_path: Path) -> None:
    plan = only(plan_with(), "db01", "hv-file01", "web01")
    with running_stack(tmp_path) as stack:
        instance = start_wave(stack, plan)
        deadline = time.monotonic() + 60
        while not accepted(stack, "Create"):  # cancel while machines are being prepared
            assert time.monotonic() < deadline
            time.sleep(0.1)
        control(stack, instance, "cancel")
        result = stack.wait(instance).output
        assert result["status"] == "Cancelled", result
        assert {m["outcome"] for m in result["machines"].values()} == {"cancelled"}
        assert not protected(stack) & {"db01", "hv-file01", "web01"}, "nothing is left protected"
        assert accepted(stack, "UnplannedFailover") == []


def test_cancel_after_some_failovers_rolls_back_only_the_rest(tmp_path: Path) -> None:
    plan = only(plan_with(approval={"required": False}), "db01", "web01")
    with running_stack(tmp_path) as stack:
        instance = start_wave(stack, plan)
        deadline = time.monotonic() + 120
        while "db01" not in accepted(stack, "UnplannedFailover"):  # the first group is cutting over
            assert time.monotonic() < deadline
            time.sleep(0.05)
        control(stack, instance, "cancel")
        result = stack.wait(instance).output
        assert result["status"] == "PartiallyMigrated", result
        assert result["machines"]["db01"]["outcome"] == "migrated"
        assert result["machines"]["web01"]["outcome"] == "cancelled"
        assert "web01" not in accepted(stack, "UnplannedFailover")
        assert not protected(stack) & {"db01", "web01"}


def test_retry_of_a_failed_machine_finishes_it(tmp_path: Path) -> None:
    plan = only(plan_with(approval={"required": False}), "db01", "web01")
    with running_stack(tmp_path) as stack:
        fault = stack.asr.add_fault(
            {"kind": "jobFailure", "scenario": "TestFailover", "machine": "web01", "errorCode": "28031"}
        )
        instance = start_wave(stack, plan)
        held = wait_for_phase(stack, instance, "held")
        assert held["hold"]["reason"] == "machinesFailed"
        assert "web01" in held["hold"]["detail"]
        assert accepted(stack, "UnplannedFailover") == [], "the wave holds: nothing cut over"
        stack.asr.remove_fault(fault)
        control(stack, instance, "retry", machines=["web01"])
        result = stack.wait(instance).output
        assert result["status"] == "Migrated", result
        assert accepted(stack, "Create").count("web01") == 1, "the retry resumed; it did not enable again"


def test_bad_control_events_are_recorded_and_refused(tmp_path: Path) -> None:
    plan = only(plan_with(), "db01")
    with running_stack(tmp_path) as stack:
        instance = start_wave(stack, plan)
        control(stack, instance, "approve", machines=["no-such-machine"])
        control(stack, instance, "explode")
        control(stack, instance, "postpone", window={"notBefore": "tomorrow"})
        wait_for_phase(stack, instance, "awaitingApproval")
        control(stack, instance, "approve")
        result = stack.wait(instance).output
        assert result["status"] == "Migrated"
        refused = [c for c in result["controls"] if not c["accepted"]]
        assert len(refused) == 3
        assert any("unknown machines" in c["detail"] for c in refused)


def _sdk(stack: Stack) -> Any:
    from emulators.siterecovery.client import emulator_client

    return emulator_client(stack.asr.base_url, stack.asr.subscription_id)
