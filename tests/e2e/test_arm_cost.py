"""ARM requests per machine stay few: a count on a full migration, not a time (bench/migration_cost.py has figures).

A VMware machine whose initial replication takes about six simulated hours, an agentless VMware machine (a
migration item, Azure Migrate's VMwareCbt) whose initial seeding takes as long, and an Azure VM moved to another
region and protected again from there, each migrate end to end; every request the emulator received for the
machine's items and their jobs is counted, and for the agentless machine the reads of its discovered machine
(validation and the enable read it from Azure Migrate). Polling every 30 s would spend over 700 requests on the
replication alone; the budget is 60 per machine, whatever the provider.

At the suite's emulator speed, a durable timer never fires sooner than one wall second (an hour of simulated
time), so this run reads less often than the plan would in Azure; the polling schedule itself is counted
exactly, in simulated time, by the replay test ``tests/orchestrators/test_waits.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.migration_cost import discovered_machine_reads
from tests.e2e.stack import requests_for, running_stack
from tests.support.machines import (
    agentless_input,
    agentless_name,
    example_plan,
    fleet_input,
    fleet_name,
    fleet_topology,
    runbook_input,
    with_agentless_fleet,
)

pytestmark = pytest.mark.slow

BUDGET = 60
HISTORY_BUDGET = 300
DISK_GB = 512
# Six hours for one 512 GB disk, less the emulator's fixed 15-minute overhead.
BANDWIDTH_MBPS = DISK_GB * 1024**3 * 8 / ((6 * 3600 - 900) * 1_000_000)


def test_a_migration_costs_at_most_sixty_arm_requests_per_machine(tmp_path: Path) -> None:
    topology = with_agentless_fleet(
        fleet_topology(1, disks_gb=[DISK_GB], bandwidth_mbps=BANDWIDTH_MBPS),
        1,
        disk_gb=DISK_GB,
        bandwidth_mbps=BANDWIDTH_MBPS,
    )
    agentless = agentless_name(0)
    with running_stack(tmp_path, topology=topology) as stack:
        stack.start("machine_runbook", "cost:vm00", fleet_input(0, stack.speed))
        stack.start("machine_runbook", f"cost:{agentless}", agentless_input(0, stack.speed))
        stack.start("machine_runbook", "cost:app01", runbook_input(example_plan("azure.yaml"), "app01", stack.speed))
        vmware = stack.wait("cost:vm00").output
        migration = stack.wait(f"cost:{agentless}").output
        azure = stack.wait("cost:app01").output
        largest = max(instance.history_len for instance in stack.host.hub.query_instances(limit=1000))
        discovery_reads = len(discovered_machine_reads(stack.asr, agentless))
        costs = {
            fleet_name(0): len(requests_for(stack.asr, {fleet_name(0)}, vmware["jobs"])),
            agentless: len(requests_for(stack.asr, {agentless}, migration["jobs"])) + discovery_reads,
            "app01": len(requests_for(stack.asr, {"app01", "app01-dr"}, azure["jobs"])),
        }
    outcomes = {record["outcome"] for record in (vmware, migration, azure)}
    assert outcomes == {"migrated"}, (vmware.get("error"), migration.get("error"), azure.get("error"))
    assert "drProtection" in azure["stages"]  # the A2A machine's count includes its DR item
    assert "commit" not in migration["stages"] and discovery_reads >= 1  # no commit; discovery was read
    for machine, count in costs.items():
        # At least a call and a read of its job for each step: six for protected items, five for the migration item.
        assert 8 <= count <= BUDGET, (machine, count)
    assert largest <= HISTORY_BUDGET
