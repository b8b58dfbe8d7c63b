"""A wave whose target does not fit starts nothing: its machines fail at validate, and no replication is enabled.

The wave checks the whole plan's target once, before its first machine (``check_target_fit``): what is checked is
what Site Recovery saw (the emulator's call log), not only what the wave says about itself.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from migration.instance_ids import wave_id
from migration.plan_clock import PlanClock
from migration.target_fit import DOES_NOT_FIT, NOT_STARTED
from tests.e2e.stack import Stack, running_stack
from tests.e2e.test_wave_end_to_end import wait_for_phase
from tests.support.machines import example_plan

pytestmark = pytest.mark.slow

MIXED = example_plan("mixed-wave.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)
# Every operation that would start a machine's replication or migration.
ENABLES = ("ReplicationProtectedItems_Create", "ReplicationMigrationItems_Create")
# The Azure VM app01 lands in North Europe with its source VM's size, Standard_D2s_v5 (2 vCPUs).
EXHAUSTED = {"kind": "quotaExhausted", "location": "northeurope", "name": "standardDSv5Family"}
FIGURES = "standardDSv5Family in northeurope: the plan needs 2 vCPUs, 50 of 50 are in use, 0 are free"


def _plan(*names: str, **options: Any) -> dict[str, Any]:
    plan = copy.deepcopy(MIXED)
    plan["options"].pop("drAfterMigration", None)
    plan["options"].update(approval={"required": False}, **options)
    groups = [{**g, "machines": [m for m in g["machines"] if m["name"] in names]} for g in plan["groups"]]
    plan["groups"] = [group for group in groups if group["machines"]]
    return plan


def _start(stack: Stack, plan: dict[str, Any]) -> str:
    clock = PlanClock(stack.speed, stack.asr.clock.now(), datetime.now(UTC))
    return stack.start("migration_wave", wave_id(plan["id"]), {"plan": plan, "clock": clock.to_dict()})


def _enables(stack: Stack) -> int:
    return sum(stack.asr.call_count(operation) for operation in ENABLES)


def test_a_wave_that_does_not_fit_fails_its_machines_at_validate_and_enables_nothing(tmp_path: Path) -> None:
    plan = _plan("db01", "app01", "vmw-agentless01", onMachineFailure="continue")
    with running_stack(tmp_path) as stack:
        stack.asr.add_fault(EXHAUSTED)
        result = stack.wait(_start(stack, plan)).output
        assert _enables(stack) == 0, "no replication was enabled"
        assert stack.asr.call_count("ResourceSkus_List") == stack.asr.call_count("Usage_List") == 1
    assert result["status"] == "Failed", result
    machines = result["machines"]
    assert {name: (m["outcome"], m["stage"]) for name, m in machines.items()} == {
        name: ("failed", "validate") for name in ("db01", "app01", "vmw-agentless01")
    }
    app01 = machines["app01"]["error"]
    assert app01["code"] == DOES_NOT_FIT
    assert app01["message"] == f"groups[1].machines[0].target.vmSize: {FIGURES} (subscription {_subscription()})"
    for other in ("db01", "vmw-agentless01"):
        error = machines[other]["error"]
        assert error["code"] == NOT_STARTED and "the target of app01 does not fit" in error["message"], error


def test_a_held_wave_runs_its_machines_from_validate_once_retried(tmp_path: Path) -> None:
    plan = _plan("db01", "app01")  # onMachineFailure: hold
    with running_stack(tmp_path) as stack:
        fault = stack.asr.add_fault(EXHAUSTED)
        instance = _start(stack, plan)
        held = wait_for_phase(stack, instance, "held")
        assert held["hold"]["reason"] == "machinesFailed" and held["counts"] == {"failed": 2}
        assert _enables(stack) == 0
        stack.asr.remove_fault(fault)  # the quota was raised
        control = {"action": "retry", "actor": "operator@example.com", "reason": "quota raised"}
        stack.host.run(stack.host.client().raise_event(instance, "control", control))
        result = stack.wait(instance).output
        assert result["status"] == "Migrated", result
        assert stack.asr.call_count("ReplicationProtectedItems_Create", accepted_only=True) == 2


def _subscription() -> str:
    return str(MIXED["groups"][1]["machines"][0]["target"]["resourceGroupId"]).split("/")[2]
