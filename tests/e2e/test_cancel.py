"""Cancel stops every instance of the machines it rolls back, whatever wait each machine is in.

A wait left running after its runbook was terminated goes on reading Site Recovery for up to the plan's
``jobTimeout``, and holds a job id the rollback is about to change. Four machines are caught in the four kinds of
wait a runbook starts, each held there by a Site Recovery fault (not by the clock), and the wave is cancelled:

- ``vm00`` in the initial-replication wait (replication stalled at 10 %);
- ``vm01`` in a job wait (its test failover job stalled);
- ``vm02`` in a make-safe wait (its cleanup job failed once, the cleanup that makes it safe stalled);
- ``vm03`` in a wait for a step asked again after a clear (a failed enable from an earlier run is removed first,
  then the new enable job stalls).

Once the rollbacks start, everything that ran before the cancel has ended; once the faults are gone the wave
ends cancelled, and nothing of the migration is left running. Every fact is read from the host's task hub through
the Durable management API.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from migration.instance_ids import Kind, machine_id, parse, round_id, wait_id, wave_id
from migration.plan_clock import PlanClock
from tests.e2e.stack import Stack, running_stack
from tests.support.machines import example_plan, fleet_input, fleet_machine, fleet_name, fleet_topology

pytestmark = pytest.mark.slow

PLAN_ID = "cancel-waits"
# Slow enough that a stalled wait is far from the plan's jobTimeout (2 days: 9.6 minutes of wall time).
SPEED = 300.0
ACTIVE = ("Pending", "Running", "ContinuedAsNew", "Suspended")
TIMEOUT = 300.0  # guards against a hang only: every wait below ends on what the host reports


def _plan() -> dict[str, Any]:
    options = example_plan("vmware.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)["options"]
    options.update(
        maxParallel=4,
        approval={"required": False},
        testVmSoak=0,
        jobTimeout="P2D",
        initialReplicationTimeout="P60D",
    )
    machines = [fleet_machine(index) for index in range(4)]
    return {
        "id": PLAN_ID,
        "name": "cancel in every wait",
        "options": options,
        "groups": [{"name": "all", "machines": machines}],
    }


def _runbook(index: int) -> str:
    return machine_id(PLAN_ID, fleet_name(index), "prepare")


# The wait each machine is held in when the wave is cancelled.
HELD_IN = {
    0: wait_id(_runbook(0), "initialReplication", 0),
    1: wait_id(_runbook(1), "testFailover", 0),
    2: wait_id(_runbook(2), "testFailoverCleanup", 0, make_safe=True),
    3: round_id(wait_id(_runbook(3), "enableReplication", 0), 1),
}


def _instances(stack: Stack) -> dict[str, str]:
    """Every instance of the migration, with its runtime status, as the management API lists them."""
    client = stack.host.client()
    listed = stack.host.run(client.get_status_by(instance_id_prefix=wave_id(PLAN_ID)))
    return {
        status.instance_id: str(getattr(status.runtime_status, "value", status.runtime_status)) for status in listed
    }


def _until(what: str, ready: Callable[[], bool], facts: Callable[[], Any]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not ready():
        assert time.monotonic() < deadline, f"{what}: {facts()}"
        time.sleep(0.2)


def _leave_a_failed_enable(stack: Stack, index: int) -> None:
    """An earlier, failed attempt at the machine, outside this migration: ASR keeps the failed enable's item."""
    fault = stack.asr.add_fault({"kind": "jobFailure", "scenario": "EnableDr", "machine": fleet_name(index)})
    earlier = f"earlier:{fleet_name(index)}"
    stack.start("machine_runbook", earlier, fleet_input(index, stack.speed, stopAt="initialReplication"))
    assert stack.wait(earlier, timeout=TIMEOUT).output["error"]["stage"] == "enableReplication"
    stack.asr.remove_fault(fault)


def test_cancel_ends_every_instance_of_the_machines_whatever_wait_they_are_in(tmp_path: Path) -> None:
    with running_stack(tmp_path, speed=SPEED, topology=fleet_topology(4, disks_gb=[8])) as stack:
        _leave_a_failed_enable(stack, 3)
        faults = [
            stack.asr.add_fault({"kind": "replication", "machine": fleet_name(0), "mode": "stall", "atPercent": 10}),
            stack.asr.add_fault({"kind": "jobStall", "scenario": "TestFailover", "machine": fleet_name(1), "task": 1}),
            stack.asr.add_fault(
                {"kind": "jobStall", "scenario": "TestFailoverCleanup", "machine": fleet_name(2), "task": 1}
            ),
            stack.asr.add_fault({"kind": "jobStall", "scenario": "EnableDr", "machine": fleet_name(3), "task": 1}),
        ]
        # vm02's first cleanup fails before it reaches the stalled task; the cleanup that makes it safe stalls.
        stack.asr.add_fault({"kind": "jobFailure", "scenario": "TestFailoverCleanup", "machine": fleet_name(2)})
        clock = PlanClock(stack.speed, stack.asr.clock.now(), datetime.now(UTC))
        wave = stack.start("migration_wave", wave_id(PLAN_ID), {"plan": _plan(), "clock": clock.to_dict()})

        _until(
            "every machine held in its wait",
            lambda: all(_instances(stack).get(held) == "Running" for held in HELD_IN.values()),
            lambda: _instances(stack),
        )
        before = {iid for iid, runtime in _instances(stack).items() if runtime in ACTIVE and iid != wave}
        assert set(HELD_IN.values()) <= before

        payload = {"action": "cancel", "actor": "operator@example.com", "reason": "test cancel in every wait"}
        stack.host.run(stack.host.client().raise_event(wave, "control", payload))
        _until(
            "the rollbacks started",
            lambda: any(parse(iid).kind is Kind.ROLLBACK for iid in _instances(stack)),
            lambda: stack.status(wave).custom_status,
        )
        after = _instances(stack)
        still = sorted(iid for iid in before if after.get(iid) in ACTIVE)
        assert still == [], f"still running after the cancel: {still}"
        assert {after[iid] for iid in before} == {"Terminated"}

        for fault in faults:  # let the rollbacks finish what the stalled jobs began
            stack.asr.remove_fault(fault)
        result = stack.wait(wave, timeout=TIMEOUT).output
        assert result["status"] == "Cancelled", result
        assert {m["outcome"] for m in result["machines"].values()} == {"cancelled"}
        _until(
            "nothing of the migration running",
            lambda: not [iid for iid, runtime in _instances(stack).items() if runtime in ACTIVE],
            lambda: {iid: runtime for iid, runtime in _instances(stack).items() if runtime in ACTIVE},
        )
