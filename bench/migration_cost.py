"""What one machine's migration costs: ARM requests per machine and the largest orchestration history, per provider.

Migrates ``--machines`` agent-based VMware machines (InMageRcm, protected items) and ``--agentless`` agentless ones
(Azure Migrate's VMwareCbt, migration items), each with one 512 GB disk whose initial replication (agentless: initial
seeding) takes about ``--hours`` simulated hours, end to end: the app on the local Functions host (in process), the
real SDK, the Site Recovery emulator at ``--speed`` simulated seconds per wall second, and the plan options of
``examples/plans/vmware.yaml`` (poll interval one minute, 30-minute test VM soak; the agentless example has the
same). Both kinds run at once on one emulator, so they meet the same clock and the same host.

Then it prints, per provider, from the emulator's call log: every request it received for each machine's item and
its jobs, and for the machine Azure Migrate discovered (``Microsoft.OffAzure/.../machines/{name}``, read by an
agentless enable and its validation), by operation and by stage; the reads no machine owns (validation's vault
reads, the agentless vCenter whose run-as account the enable uses) shared out per machine, told apart by the
fabric, policy or site in their path; and, sampled from the task hub while it runs, the largest history of any
instance (each ``continue_as_new`` generation counts on its own).

Targets, the same for both providers: at most 60 ARM requests per machine (polling every 30 s would spend over 700
on a 6-hour replication alone) and at most 300 history events in any instance. They are printed next to the
figures, not asserted (``tests/e2e/test_arm_cost.py`` asserts the budget on one machine of each kind).

Run: ``python -m bench.migration_cost [--machines 10] [--agentless 10] [--hours 6] [--speed 3600]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.siterecovery import EmulatorHandle
from migration.instance_ids import Kind, machine_id, parse, wait_id
from tests.e2e.stack import requests_for, running_stack, runtime_of
from tests.support.machines import (
    agentless_input,
    agentless_name,
    fleet_input,
    fleet_name,
    fleet_topology,
    with_agentless_fleet,
)

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
# Reads of Azure Migrate's discovery that belong to no one machine: an agentless enable (and its validation) reads
# the machine's vCenter for the run-as account when the plan names none; every machine of a vCenter reads the same.
SHARED_DISCOVERY_OPERATIONS = ("VCenter_GetVCenter", "RunAsAccounts_GetRunAsAccount", "Sites_GetSite")
INMAGE = "InMageRcm"
AGENTLESS = "VMwareCbt"
PROVIDER_LABELS = {INMAGE: "InMageRcm (agent-based)", AGENTLESS: "VMwareCbt (agentless)"}


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


def _segments(path: str) -> list[str]:
    return [segment for segment in path.lower().split("/") if segment]


def discovered_machine_reads(asr: EmulatorHandle, name: str) -> list[Any]:
    """Reads of the machine Azure Migrate discovered as ``name`` (``Microsoft.OffAzure/{site type}/{site}/machines/
    {name}``): the emulator's log names no item for them, so they are found by path."""
    found = []
    for call in asr.calls.calls():
        segments = _segments(call.path)
        if "microsoft.offazure" in segments and segments[-2:] == ["machines", name.lower()]:
            found.append(call)
    return found


def vm_check_calls(asr: EmulatorHandle, vm_name: str) -> list[Any]:
    """The checks' requests on a machine's test VM and migrated VM: the VM reads, their NICs, the run commands."""
    names = {vm_name.lower(), f"{vm_name.lower()}-test"}
    nics = {f"{name}-nic" for name in names}
    found = []
    for call in asr.calls.calls():
        segments = _segments(call.path)
        for kind, wanted in (("virtualmachines", names), ("networkinterfaces", nics)):
            if kind in segments and segments.index(kind) + 1 < len(segments):
                if segments[segments.index(kind) + 1] in wanted:
                    found.append(call)
    return found


def machine_calls(asr: EmulatorHandle, name: str, job_ids: list[str], vm_name: str | None = None) -> list[Any]:
    """Every request one machine cost: its item and that item's jobs (``requests_for``), its discovered machine, and
    the checks' calls on its VMs (``vm_name``: the target VM's name, the machine's by default)."""
    return (
        requests_for(asr, {name}, job_ids) + discovered_machine_reads(asr, name) + vm_check_calls(asr, vm_name or name)
    )


def shared_reads(asr: EmulatorHandle, machine: dict[str, Any]) -> Counter[str]:
    """The reads no machine owns (validation's vault reads, the vCenter) that name ``machine``'s fabric, policy or
    discovery site in their path: each provider's share, since the two VMware paths use fabrics, policies and
    sites of their own."""
    asr_at, replication = machine["asr"], machine["replication"]
    names = {asr_at["fabric"].lower(), str(replication["policy"]).rsplit("/", 1)[-1].lower()}
    discovered = _segments(asr_at.get("discoveredMachineId") or "")
    if "machines" in discovered:
        names.add(discovered[discovered.index("machines") - 1])  # the site
    counts: Counter[str] = Counter()
    for call in asr.calls.calls():
        if call.operation in (*VALIDATE_OPERATIONS, *SHARED_DISCOVERY_OPERATIONS) and names & set(_segments(call.path)):
            counts[call.operation] += 1
    return counts


def stage_rows(calls: Iterable[Any], record: dict[str, Any], replication_polls: int) -> Counter[str]:
    """One machine's requests by stage: job reads per stage, item reads while replicating, discovery reads and
    recovery point listing, the VM checks' calls, mutating calls, and the item reads the runbook makes around its
    steps (the rest), so the rows add up to the machine's total."""
    jobs = _stage_of_jobs(record)
    rows: Counter[str] = Counter()
    total = 0
    for call in calls:
        total += 1
        if call.operation.startswith(("VirtualMachines_", "VirtualMachineRunCommands_", "NetworkInterfaces_")):
            rows["validateTestVm + validateMigratedVm (VM, NIC, run commands)"] += 1
        elif call.operation == "ReplicationJobs_Get":
            rows[f"{jobs.get(call.path.rstrip('/').rsplit('/', 1)[-1].lower(), '?')} (job reads)"] += 1
        elif call.method in ("PUT", "POST", "DELETE", "PATCH"):
            rows["mutating calls (one per step)"] += 1
        elif call.operation.startswith("Machines_"):
            rows["validate + enableReplication (discovered machine)"] += 1
        elif "RecoveryPoints_List" in call.operation:
            rows["testFailover (recovery point listing)"] += 1
    rows["initialReplication (item reads)"] = replication_polls
    rest = total - sum(rows.values())
    if rest:  # negative would mean the wait counted polls the log does not hold: shown, not hidden
        rows["item reads around the steps"] = rest
    return rows


@dataclass
class ProviderFigures:
    """One provider's machines: requests per machine (by operation, by stage), shared reads, largest histories."""

    provider: str
    names: list[str]
    per_machine: dict[str, Counter[str]] = field(default_factory=dict)
    per_stage: dict[str, Counter[str]] = field(default_factory=dict)
    shared: Counter[str] = field(default_factory=Counter)
    history: dict[str, int] = field(default_factory=dict)  # kind -> largest history of this provider's instances

    @property
    def totals(self) -> list[int]:
        return [sum(counter.values()) for counter in self.per_machine.values()]

    @property
    def shared_per_machine(self) -> float:
        return sum(self.shared.values()) / len(self.names) if self.names else 0.0

    @staticmethod
    def summed(counters: Iterable[Counter[str]]) -> Counter[str]:
        summed: Counter[str] = Counter()
        for counter in counters:
            summed.update(counter)
        return summed


def _history_kind(instance_id: str) -> str:
    parsed = parse(instance_id)
    return parsed.stage if parsed.kind is Kind.WAIT and parsed.stage else "machine_runbook"


def _cell(value: float | int | None, width: int = 12, digits: int = 1) -> str:
    if value is None:
        return f"{'-':>{width}s}"
    if isinstance(value, int):
        return f"{value:{width}d}"
    return f"{value:{width}.{digits}f}"


def report(providers: list[ProviderFigures], largest: tuple[str, int]) -> None:
    """Per-provider columns, one row per figure; targets at the end of the rows that have one."""
    present = [p for p in providers if p.names]
    header = "".join(f"{PROVIDER_LABELS[p.provider]:>26s}" for p in present)

    def row(label: str, values: list[float | int | None], target: str = "") -> None:
        print(f"  {label:58s}" + "".join(_cell(v, 26) for v in values) + (f"   {target}" if target else ""))

    print("ARM requests per machine (item, its jobs, its discovered machine, its VMs' checks)")
    print(f"  {'':58s}{header}")
    row("min", [min(p.totals) for p in present])
    row("mean", [statistics.fmean(p.totals) for p in present])
    row("max", [max(p.totals) for p in present], f"target <= {TARGET_REQUESTS}")
    row("plus shared reads (validate's vault reads, vCenter)", [p.shared_per_machine for p in present])
    row("all in (max + shared)", [max(p.totals) + p.shared_per_machine for p in present], f"<= {TARGET_REQUESTS}")
    verdicts = ["ok" if max(p.totals) + p.shared_per_machine <= TARGET_REQUESTS else "MISS" for p in present]
    print(f"  {'within the target':58s}" + "".join(f"{v:>26s}" for v in verdicts))
    print()
    print("by operation (mean per machine)")
    print(f"  {'':58s}{header}")
    means = [p.summed(p.per_machine.values()) for p in present]
    shared = [p.shared for p in present]
    operations = sorted(
        {op for counter in (*means, *shared) for op in counter},
        key=lambda op: (-sum(c[op] for c in (*means, *shared)), op),
    )
    for operation in operations:
        values: list[float | int | None] = []
        for p, mean, share in zip(present, means, shared, strict=True):
            count = mean[operation] + share[operation]
            values.append(count / len(p.names) if count else None)
        marker = " (shared)" if any(share[operation] for share in shared) else ""
        row(f"{operation}{marker}", values)
    print()
    print("by stage (mean per machine; the rows add up to the machine's requests)")
    print(f"  {'':58s}{header}")
    stages = [p.summed(p.per_stage.values()) for p in present]
    for stage in sorted({s for counter in stages for s in counter}, key=lambda s: (-sum(c[s] for c in stages), s)):
        row(stage, [c[stage] / len(p.names) if c[stage] else None for p, c in zip(present, stages, strict=True)])
    print()
    ok = "ok" if largest[1] <= TARGET_HISTORY else "MISS"
    print(f"largest history: {largest[1]} events ({largest[0]})   target <= {TARGET_HISTORY}  {ok}")
    print(f"  {'':58s}{header}")
    kinds = sorted({k for p in present for k in p.history}, key=lambda k: -max(p.history.get(k, 0) for p in present))
    for kind in kinds:
        row(kind, [p.history.get(kind) for p in present])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.migration_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=10, help="agent-based VMware machines (InMageRcm)")
    parser.add_argument("--agentless", type=int, default=10, help="agentless VMware machines (VMwareCbt)")
    parser.add_argument("--hours", type=float, default=6.0, help="simulated initial replication time")
    parser.add_argument("--speed", type=float, default=3600.0, help="simulated seconds per wall second")
    args = parser.parse_args(argv)
    if args.machines + args.agentless < 1:
        parser.error("migrate at least one machine")

    bandwidth = bandwidth_for(args.hours)
    topology = with_agentless_fleet(
        fleet_topology(args.machines, disks_gb=[DISK_GB], bandwidth_mbps=bandwidth),
        args.agentless,
        disk_gb=DISK_GB,
        bandwidth_mbps=bandwidth,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as data, running_stack(Path(data), speed=args.speed, topology=topology) as stack:
        inputs = {fleet_name(i): fleet_input(i, stack.speed) for i in range(args.machines)}
        inmage = list(inputs)
        options = fleet_input(0, stack.speed)["options"]  # both kinds under the VMware example's options
        inputs.update(
            {agentless_name(i): agentless_input(i, stack.speed, options=options) for i in range(args.agentless)}
        )
        providers = [
            ProviderFigures(INMAGE, inmage),
            ProviderFigures(AGENTLESS, [name for name in inputs if name not in inmage]),
        ]
        with HistorySampler(stack.host.hub) as sampler:
            instances = {name: machine_id("cost", name, "prepare") for name in inputs}
            for name, instance in instances.items():
                stack.start("machine_runbook", instance, inputs[name])
            statuses = {name: stack.wait(instance, timeout=3600) for name, instance in instances.items()}
        wall = time.monotonic() - started
        for figures in providers:
            for name in figures.names:
                status, record = statuses[name], statuses[name].output
                if runtime_of(status) != "Completed" or record["outcome"] != "migrated":
                    print(f"{name}: {runtime_of(status)} {record}")
                    return 1
                calls = machine_calls(stack.asr, name, record["jobs"])
                polls = (stack.status(wait_id(instances[name], "initialReplication", 0)).output or {}).get("polls")
                figures.per_machine[name] = Counter(call.operation for call in calls)
                figures.per_stage[name] = stage_rows(calls, record, int(polls or 0))
            if figures.names:
                figures.shared = shared_reads(stack.asr, inputs[figures.names[0]]["machine"])

    owner = {name: figures for figures in providers for name in figures.names}
    for instance_id, events in sampler.largest.items():
        found = owner.get(parse(instance_id).machine or "")
        if found is not None:
            kind = _history_kind(instance_id)
            found.history[kind] = max(found.history.get(kind, 0), events)
    largest = max(sampler.largest.items(), key=lambda pair: pair[1])
    print(
        f"{args.machines} InMageRcm + {args.agentless} agentless (VMwareCbt) machines, one {DISK_GB} GB disk each, "
        f"initial replication ~{args.hours:g} h simulated, speed x{args.speed:g}, wall {wall:.1f} s"
    )
    print()
    report(providers, largest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
