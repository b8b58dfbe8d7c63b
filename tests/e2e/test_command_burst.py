"""A burst of operator commands delivered in one go: each is applied once, in order, and the wave goes on.

Commands queued while a wave is suspended (or while the host was busy) reach it together, in one episode. Each
command publishes its ``migration.control`` event, and every wait of the wave also listens for the next command;
handling a command inside the wait for the previous command's publish would nest one level deeper per command,
and a few hundred commands would exhaust Python's recursion limit and fail the wave.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.stack import running_stack, runtime_of
from tests.e2e.test_wave_end_to_end import control, only, plan_with, start_wave, wait_for_phase

pytestmark = pytest.mark.slow

BURST = 400


def test_four_hundred_commands_delivered_at_once_are_each_applied_and_the_wave_migrates(tmp_path: Path) -> None:
    plan = only(plan_with(), "db01", "web01")
    with running_stack(tmp_path) as stack:
        instance = start_wave(stack, plan)
        wait_for_phase(stack, instance, "awaitingApproval")
        client = stack.host.client()
        stack.host.run(client.suspend(instance, "queue a burst of commands"))
        for index in range(BURST):
            control(stack, instance, "approve", machines=["db01"], id=f"burst-{index}")
        control(stack, instance, "approve", id="all")
        stack.host.run(client.resume(instance, "deliver them"))
        final = stack.wait(instance, timeout=300)
        assert runtime_of(final) == "Completed", final.output
        result = final.output
        assert result["status"] == "Migrated", result["counts"]
        ids = [c.get("reason") for c in result["controls"]]
        assert len(result["controls"]) == BURST + 1 and all(c["accepted"] for c in result["controls"]), ids
