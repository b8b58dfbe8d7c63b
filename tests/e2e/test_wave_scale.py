"""A wave of 60 machines under a cap of 8: the scale benchmark's checks, as counts, at a size the suite can afford.

``bench/wave_scale.py`` runs 1,000 machines and prints times; this test asserts only what does not depend on the
machine's speed: every machine migrated, the cap held and the pool refilled (read from what ASR saw), cutover in
group order, no history over 2,000 events, and no machine over 60 ARM requests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.wave_scale import HistorySampler, machine_requests, wave_plan
from migration.instance_ids import wave_id
from migration.plan_clock import PlanClock
from tests.e2e.stack import running_stack, runtime_of
from tests.support.machines import fleet_topology

pytestmark = pytest.mark.slow

MACHINES = 60
CAP = 8
MAX_HISTORY = 2000
MAX_REQUESTS = 60


def test_a_60_machine_wave_migrates_every_machine_within_the_cap_and_the_bounds(tmp_path: Path) -> None:
    plan = wave_plan(MACHINES, groups=2, max_parallel=CAP)
    names = [m["name"] for g in plan["groups"] for m in g["machines"]]
    fleet = sum(1 for name in names if name.startswith("vm"))
    with running_stack(tmp_path, topology=fleet_topology(fleet, disks_gb=[16])) as stack:
        clock = PlanClock(stack.speed, stack.asr.clock.now(), datetime.now(UTC))
        with HistorySampler(tmp_path / "taskhub.sqlite3") as sampler:
            instance = stack.start("migration_wave", wave_id(plan["id"]), {"plan": plan, "clock": clock.to_dict()})
            status = stack.wait(instance, timeout=900)
        assert runtime_of(status) == "Completed", status.output
        result = status.output
        assert result["status"] == "Migrated", result["counts"]
        assert {m["outcome"] for m in result["machines"].values()} == {"migrated"}
        assert sorted(result["machines"]) == sorted(names)

        log = [(c.operation.rsplit("_", 1)[1], c.item) for c in stack.asr.calls.calls() if c.status < 300]
        requests, _ = machine_requests(stack.asr, names)

    # The cap, and a pool that refills: between enable and test-failover cleanup there are never more than CAP
    # machines, and once the first CAP (the first fan-out) are all done the pool fills up again (a pool that
    # refills one slot at a time per batch stays at 2 here: one per batch).
    active: set[str | None] = set()
    first: list[str | None] = []
    cleaned: set[str | None] = set()
    peak = refilled_peak = 0
    for operation, item in log:
        if operation == "Create":
            active.add(item)
            peak = max(peak, len(active))
            if len(first) < CAP:
                first.append(item)
            elif cleaned.issuperset(first):
                refilled_peak = max(refilled_peak, len(active))
        elif operation == "TestFailoverCleanup":
            active.discard(item)
            cleaned.add(item)
    assert peak == CAP
    assert refilled_peak >= CAP // 2, f"the pool did not refill: at most {refilled_peak} machines after the first"

    # The same cap during cutover (failover to the end of migration), and groups in order.
    cutting: set[str | None] = set()
    for operation, item in log:
        if operation == "UnplannedFailover":
            cutting.add(item)
            assert len(cutting) <= CAP
        elif operation == "Delete":
            cutting.discard(item)
    groups = [[m["name"] for m in g["machines"]] for g in plan["groups"]]
    for earlier, later in zip(groups, groups[1:], strict=False):
        last_commit = max(log.index(("FailoverCommit", m)) for m in earlier)
        first_failover = min(log.index(("UnplannedFailover", m)) for m in later)
        assert last_commit < first_failover, (earlier, later)

    largest = max(sampler.largest.items(), key=lambda pair: pair[1])
    assert largest[1] <= MAX_HISTORY, largest
    assert len(requests) == MACHINES and max(requests) <= MAX_REQUESTS, requests
