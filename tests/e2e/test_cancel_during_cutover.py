"""A cancel during a group's cutover: the machines failing over finish, and no other failover starts, anywhere.

Eight machines in one group, at most four at a time. Once the first four failovers are accepted, the Site Recovery
emulator's clock is frozen, so those four stay in failover while the wave takes the cancel; then time runs again.
What ASR saw is the judge: exactly the first four failovers were ever accepted, and the other four machines were
rolled back (replication disabled) instead.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from migration.commands import STOP_EVENT
from migration.instance_ids import batch_id
from tests.e2e.stack import Stack, running_stack, runtime_of
from tests.e2e.test_wave_end_to_end import control, start_wave
from tests.support.machines import example_plan, fleet_machine, fleet_topology

pytestmark = pytest.mark.slow

MACHINES = 8
CAP = 4


def one_group_plan() -> dict[str, Any]:
    vmware = example_plan("vmware.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)
    options = {**vmware["options"], "maxParallel": CAP, "approval": {"required": False}}
    options.pop("drAfterMigration", None)
    machines = [fleet_machine(index) for index in range(MACHINES)]
    return {
        "id": "cancel-cutover",
        "name": "cancel during cutover",
        "options": options,
        "groups": [{"name": "only", "machines": machines}],
    }


def failovers(stack: Stack) -> list[str]:
    return [
        call.item or ""
        for call in stack.asr.calls.calls()
        if call.operation == "ReplicationProtectedItems_UnplannedFailover" and call.status < 300
    ]


def wait_until(condition: Any, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.1)


def batch_was_stopped(stack: Stack) -> bool:
    """Whether the cutover batch (the wave's second round: prepare was the first) has received ``stop``."""
    batch = batch_id("cancel-cutover", "cutover", 2, 0)
    url = (
        f"{stack.host.base_url}/runtime/webhooks/durabletask/instances/{urllib.parse.quote(batch)}"
        f"?showHistory=true&code={stack.host.system_key}"
    )
    with urllib.request.urlopen(url, timeout=30) as reply:
        events = json.loads(reply.read()).get("historyEvents") or []
    return any(e.get("EventType") == "EventRaised" and e.get("Name") == STOP_EVENT for e in events)


def test_no_failover_starts_after_a_cancel_accepted_during_cutover(tmp_path: Path) -> None:
    with running_stack(tmp_path, topology=fleet_topology(MACHINES, disks_gb=[16])) as stack:
        instance = start_wave(stack, one_group_plan())
        wait_until(lambda: len(failovers(stack)) >= CAP, "saw the first failovers")
        stack.asr.clock.set_speed(0)  # the four failovers in flight stay in flight
        first = failovers(stack)
        assert len(first) == CAP, first
        control(stack, instance, "cancel")

        def cancel_recorded() -> bool:
            status = stack.status(instance).custom_status or {}
            last = status.get("lastControl") or {}
            return bool(last.get("action") == "cancel" and last.get("accepted"))

        wait_until(cancel_recorded, "recorded the cancel")
        wait_until(lambda: batch_was_stopped(stack), "told the cutover batch to stop", timeout=60)
        stack.asr.clock.set_speed(stack.speed)
        final = stack.wait(instance, timeout=300)

        assert runtime_of(final) == "Completed", final.output
        assert failovers(stack) == first, "a failover started after the cancel"
        outcomes = {name: record["outcome"] for name, record in final.output["machines"].items()}
        assert sorted(outcomes.values()) == ["cancelled"] * (MACHINES - CAP) + ["migrated"] * CAP, outcomes
        assert final.output["status"] == "PartiallyMigrated"
        assert not list(stack.asr.items()), "the rest had their replication disabled"
