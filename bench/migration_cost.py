"""What one machine's migration costs: ARM requests per machine and the largest orchestration history.

Migrates ``--machines`` VMware machines (InMageRcm) whose initial replication takes about ``--hours`` simulated
hours, end to end: the app on the local Functions host (in process), the real SDK, the Site Recovery emulator at
``--speed`` simulated seconds per wall second, and the plan options of ``examples/plans/vmware.yaml`` (poll
interval one minute, 30-minute test VM soak). Then it prints, from the emulator's call log, every request the
emulator received for each machine's item and its jobs (by operation and by stage), plus the vault-level reads
of the validate stage; and, sampled from the task hub while it runs, the largest history of any instance
(each ``continue_as_new`` generation counts on its own).

Targets: at most 60 ARM requests per machine (polling every 30 s would spend over 700 on a 6-hour replication
alone) and at most 300 history events in any instance. They are printed next to the figures, not asserted.

Run: ``python -m bench.migration_cost [--machines 10] [--hours 6] [--speed 3600]``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from migration.instance_ids import Kind, machine_id, parse, wait_id
from tests.e2e.stack import fleet_input, fleet_name, fleet_topology, requests_for, running_stack, runtime_of

TARGET_REQUESTS = 60
TARGET_HISTORY = 300
DISK_GB = 512
GIB = 1024**3
OVERHEAD_SECONDS = 900  # the example topology's replicationOverheadSeconds
VALIDATE_OPERATIONS = (
    "ReplicationFabrics_Get",
    "ReplicationProtectionContainers_Get",
    "ReplicationProtectableItems_Get",
    "ReplicationPolicies_Get",
    "ReplicationProtectionContainerMappings_Get",
)


def bandwidth_for(hours: float) -> float:
    """Mbps that make one ``DISK_GB`` disk replicate in ``hours`` (the emulator adds its fixed overhead)."""
    return DISK_GB * GIB * 8 / ((hours * 3600 - OVERHEAD_SECONDS) * 1_000_000)


class HistorySampler:
    """Samples every instance's history length from the task hub, keeping the largest seen per instance."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.largest: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for instance in self.hub.query_instances(limit=100_000):
            self.largest[instance.instance_id] = max(self.largest.get(instance.instance_id, 0), instance.history_len)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def __enter__(self) -> HistorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _stage_of_jobs(record: dict[str, Any]) -> dict[str, str]:
    return {
        entry["jobId"].rsplit("/", 1)[-1].lower(): stage
        for stage, entry in record["stages"].items()
        if entry.get("jobId")
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.migration_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=10)
    parser.add_argument("--hours", type=float, default=6.0, help="simulated initial replication time")
    parser.add_argument("--speed", type=float, default=3600.0, help="simulated seconds per wall second")
    args = parser.parse_args(argv)

    topology = fleet_topology(args.machines, disks_gb=[DISK_GB], bandwidth_mbps=bandwidth_for(args.hours))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as data, running_stack(Path(data), speed=args.speed, topology=topology) as stack:
        with HistorySampler(stack.host.hub) as sampler:
            instances = {index: machine_id("cost", fleet_name(index), "prepare") for index in range(args.machines)}
            for index, instance in instances.items():
                stack.start("machine_runbook", instance, fleet_input(index, stack.speed))
            statuses = {index: stack.wait(instance, timeout=3600) for index, instance in instances.items()}
        wall = time.monotonic() - started
        replication_polls = {
            index: (stack.status(wait_id(instance, "initialReplication", 0)).output or {}).get("polls")
            for index, instance in instances.items()
        }
        per_machine: dict[str, Counter[str]] = {}
        per_stage: dict[str, Counter[str]] = {}
        for index, status in statuses.items():
            name = fleet_name(index)
            record = status.output
            if runtime_of(status) != "Completed" or record["outcome"] != "migrated":
                print(f"{name}: {runtime_of(status)} {record}")
                return 1
            calls = requests_for(stack.asr, {name}, record["jobs"])
            per_machine[name] = Counter(call.operation for call in calls)
            jobs = _stage_of_jobs(record)
            stages: Counter[str] = Counter()
            for call in calls:
                if call.operation == "ReplicationJobs_Get":
                    stages[jobs.get(call.path.rstrip("/").rsplit("/", 1)[-1].lower(), "?")] += 1
            stages["initialReplication (item reads)"] = replication_polls[index] or 0
            per_stage[name] = stages
        vault_reads = sum(stack.asr.calls.count(operation) for operation in VALIDATE_OPERATIONS)

    totals = [sum(counter.values()) for counter in per_machine.values()]
    history = sorted(sampler.largest.items(), key=lambda pair: -pair[1])
    print(
        f"{args.machines} machines, initial replication ~{args.hours:g} h simulated, speed x{args.speed:g}, "
        f"wall {wall:.1f} s"
    )
    print()
    print("ARM requests per machine (item and its jobs)")
    print(f"  min {min(totals)}  mean {sum(totals) / len(totals):.1f}  max {max(totals)}   target <= {TARGET_REQUESTS}")
    print(
        f"  plus validate's vault-level reads: {vault_reads / args.machines:.1f} per machine "
        f"(all in: max {max(totals) + vault_reads / args.machines:.1f})"
    )
    print()
    print("by operation (mean per machine)")
    operations: Counter[str] = Counter()
    for counter in per_machine.values():
        operations.update(counter)
    for operation, count in sorted(operations.items(), key=lambda pair: -pair[1]):
        print(f"  {operation:48s} {count / args.machines:6.1f}")
    print()
    print("reads by stage (mean per machine): job reads per stage, item reads while replicating")
    stage_totals: Counter[str] = Counter()
    for counter in per_stage.values():
        stage_totals.update(counter)
    for stage, count in sorted(stage_totals.items(), key=lambda pair: -pair[1]):
        print(f"  {stage:48s} {count / args.machines:6.1f}")
    print()
    kinds: dict[str, int] = {}
    for instance_id, events in history:
        parsed = parse(instance_id)
        kind = parsed.stage if parsed.kind is Kind.WAIT and parsed.stage else "machine_runbook"
        kinds[kind] = max(kinds.get(kind, 0), events)
    print(f"largest history: {history[0][1]} events ({history[0][0]})   target <= {TARGET_HISTORY}")
    for kind, events in sorted(kinds.items(), key=lambda pair: -pair[1]):
        print(f"  {kind:48s} {events:6d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
