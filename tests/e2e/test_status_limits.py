"""The wave's custom status stays inside Azure's 16 KB however large the commands sent to it are.

In Azure a custom status over 16 KB (UTF-16) fails the orchestration, and the local host copies that limit. Each
test sends what would have grown the status with the plan (approvals machine by machine, a command naming hundreds
of machines, a huge unknown action) and checks, from the host's own status, that the status stays under the limit
and the wave still migrates its machines. ``bench/approve_each.py`` does the same for 1,000 machines.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from migration.status_bounds import CUSTOM_STATUS_MAX_BYTES, NAMES_SHOWN, utf16_size
from tests.e2e.stack import Stack, running_stack, runtime_of
from tests.e2e.test_wave_end_to_end import control, only, plan_with, start_wave, wait_for_phase

pytestmark = pytest.mark.slow

LONGEST_NAME = "n" * 63 + "1"  # 64 characters, the longest machine name a plan allows


def custom_status(stack: Stack, instance: str) -> dict[str, Any]:
    return dict(stack.status(instance).custom_status or {})


def wait_for_controls(stack: Stack, instance: str, count: int, timeout: float = 60) -> dict[str, Any]:
    """The status once the wave has recorded ``count`` commands."""
    deadline = time.monotonic() + timeout
    while True:
        status = custom_status(stack, instance)
        if status.get("controls", 0) >= count:
            return status
        assert runtime_of(stack.status(instance)) == "Running", stack.status(instance).output
        assert time.monotonic() < deadline, f"the wave recorded {status.get('controls')} of {count} commands"
        time.sleep(0.2)


def test_commands_that_would_grow_the_status_leave_it_under_16_kb(tmp_path: Path) -> None:
    plan = only(plan_with(), "db01", "web01")
    unknown = [f"{LONGEST_NAME[:-4]}{index:04d}" for index in range(300)]
    with running_stack(tmp_path) as stack:
        instance = start_wave(stack, plan)
        wait_for_phase(stack, instance, "awaitingApproval")
        # 300 unknown names of 64 characters are about 40 KB in UTF-16: refused, and shown as a count.
        control(stack, instance, "approve", machines=unknown, reason="r" * 5000)
        status = wait_for_controls(stack, instance, 1)
        last = status["lastControl"]
        assert last["accepted"] is False and last["machineCount"] == 300
        assert len(last["machines"]) == NAMES_SHOWN and last["detail"].endswith("…")
        assert utf16_size(status) < CUSTOM_STATUS_MAX_BYTES
        # An action the wave does not know, 20,000 characters long.
        control(stack, instance, "x" * 20_000)
        status = wait_for_controls(stack, instance, 2)
        assert status["lastControl"]["detail"] == "unknown action"
        assert utf16_size(status) < CUSTOM_STATUS_MAX_BYTES
        # The gate counts what it waits for, then the machines are approved one at a time.
        gate = status["gate"]
        assert gate["awaiting"] == {"count": 2, "first": ["db01", "web01"]} and gate["approvedCount"] == 0
        control(stack, instance, "approve", machines=["db01"])
        status = wait_for_controls(stack, instance, 3)
        assert status["gate"]["approvedCount"] == 1
        control(stack, instance, "approve", machines=["web01"])
        final = stack.wait(instance)
        assert runtime_of(final) == "Completed", final.output
        assert final.output["status"] == "Migrated", final.output["counts"]
        assert utf16_size(final.custom_status) < CUSTOM_STATUS_MAX_BYTES
