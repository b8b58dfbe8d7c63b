"""Side by side: this app's wave against the way people migrate today, on the same topology and seed.

The baselines re-enact the at-scale scripts people run today, one step at a time over every row, each item and job
polled at a fixed interval (30 simulated seconds), progress only in memory and in a CSV written when a step ends:
for agent-based VMware machines (InMageRcm, protected items) ``bench.baseline_scripts``, Microsoft's "migrate at
scale with Site Recovery" scripts; for agentless ones (VMwareCbt, migration items) ``bench.agentless_baseline``,
Azure Migrate's Az.Migrate scripts, which find each machine's migration item through its discovered server and
read both every round. The app runs the same machines as one wave per kind (``maxParallel`` ``--max-parallel``,
no approval, no soak of the test VM, since the baselines do not wait on one either) on the local Functions host.

Each runs on a fresh Site Recovery emulator with the same topology (``--machines`` agent-based and ``--agentless``
agentless VMware machines, each with a 512 GB disk that replicates in about ``--hours`` simulated hours) and the
same seed. The app's emulator runs at ``--speed``; a baseline's clock is frozen and moved by the baseline itself by
each wait, so its polls land exactly at their interval whatever the machine's speed (its figures are then what
they would be in Azure).

Printed for both kinds, app against baseline: ARM requests per machine (mean, max; a machine's item, its jobs and
its discovered machine, counted alike on both sides by ``bench.wave_scale.machine_requests``) and per machine-hour
of replication (enable to failover; agentless: enable migration to migrate), the wave's length in simulated hours
and in wall seconds.
Then the agent-based baseline is run again on another emulator and killed once with SIGKILL at a seeded moment;
the figures say what it lost (operations started that no record holds, machines left half-done) and what re-running
the step costs. The agentless baseline is not killed: the loss audit (``bench.baseline_loss``) re-runs and audits
the protected-item scripts only. The app's answer to the same question is ``bench.chaos``: 24 kills, both kinds of
VMware machine in the wave, nothing lost or repeated.

Run: ``python -m bench.side_by_side [--machines 50] [--agentless 50] [--hours 6] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.agentless_baseline import agentless_topology_for, run_agentless_baseline_on
from bench.baseline_loss import assess_loss
from bench.baseline_scripts import DEFAULT_POLL_SECONDS, BaselineResult, kill_mid_run, run_baseline_on
from bench.migration_cost import DISK_GB, bandwidth_for
from bench.wave_scale import Json, RunFigures, machine_requests, replication_hours, run_wave, wave_plan
from emulators.siterecovery import start_emulator
from migration.machine import Machine
from tests.support.machines import agentless_machine, fleet_machine, fleet_topology

TARGET_REQUESTS = 60
TARGET_RATIO = 10.0
AGENT_BASED = "agent-based VMware (InMageRcm)"
AGENTLESS = "agentless VMware (VMwareCbt)"


def comparison_plan(machines: int, max_parallel: int, *, agentless: bool = False) -> Json:
    """The fleet's VMware machines (agent-based, or agentless) as one wave, in one group, under the scale wave's
    options."""
    options = wave_plan(1, groups=1, max_parallel=max_parallel)["options"]
    options.update(testVmSoak="PT0S")
    members = [agentless_machine(index) if agentless else fleet_machine(index) for index in range(machines)]
    return {
        "id": "side-by-side-agentless" if agentless else "side-by-side",
        "name": f"{machines} machines, side by side with the baseline",
        "options": options,
        "groups": [{"name": "all", "machines": members}],
    }


def topology_for(machines: int, hours: float, seed: int, *, agentless: bool = False) -> Json:
    if agentless:
        return agentless_topology_for(machines, hours, seed)
    topology = fleet_topology(machines, disks_gb=[DISK_GB], bandwidth_mbps=bandwidth_for(hours))
    topology["seed"] = seed
    return topology


def run_app(
    machines: int, hours: float, seed: int, speed: float, max_parallel: int, *, agentless: bool = False
) -> RunFigures:
    return run_wave(
        machines,
        speed=speed,
        max_parallel=max_parallel,
        groups=1,
        timeout=3600,
        quiet=True,
        plan=comparison_plan(machines, max_parallel, agentless=agentless),
        topology=topology_for(machines, hours, seed, agentless=agentless),
    )


@dataclass
class Comparison:
    """One kind of machine: the app's wave and its baseline's run, on the same topology and seed."""

    kind: str
    machines: int
    app: RunFigures
    baseline: BaselineResult
    baseline_hours: float  # simulated machine-hours the baseline's items replicated

    @property
    def ratio(self) -> float:
        return self.baseline.mean_requests / self.app.mean_requests if self.app.mean_requests else float("inf")

    @property
    def good(self) -> bool:
        return (
            self.app.status == "Completed/Migrated"
            and len(self.baseline.migrated) == self.machines
            and self.ratio >= TARGET_RATIO
            and self.app.max_requests <= TARGET_REQUESTS
        )


def compare(kind: str, machines: int, args: argparse.Namespace) -> Comparison:
    """The app's wave, then the kind's baseline on a fresh emulator with a frozen clock."""
    agentless = kind == AGENTLESS
    app = run_app(machines, args.hours, args.seed, args.speed, args.max_parallel, agentless=agentless)
    print(f"  {kind}: app {app.status}, {app.wall_seconds:.0f} s wall")
    plan = [agentless_machine(i) if agentless else fleet_machine(i) for i in range(machines)]
    topology = topology_for(machines, args.hours, args.seed, agentless=agentless)
    run = run_agentless_baseline_on if agentless else run_baseline_on
    with tempfile.TemporaryDirectory() as scratch, start_emulator(topology, speed=0) as asr:
        baseline = run(asr, plan, speed=0, poll_seconds=args.poll_seconds, out_dir=Path(scratch))
        hours = replication_hours(asr, [machine["name"] for machine in plan])
    print(f"  {kind}: baseline {len(baseline.migrated)}/{machines} migrated, {baseline.wall_seconds:.0f} s wall")
    return Comparison(kind, machines, app, baseline, hours)


def print_comparison(c: Comparison, baseline_name: str) -> None:
    app, baseline = c.app, c.baseline
    print(f"\n  {c.kind}, {c.machines} machines: this app against {baseline_name}")
    print(f"  {'':34s} {'this app':>12s} {'baseline':>12s}")
    print(f"  {'ARM requests per machine (mean)':34s} {app.mean_requests:12.1f} {baseline.mean_requests:12.1f}")
    print(f"  {'ARM requests per machine (max)':34s} {app.max_requests:12d} {baseline.max_requests:12d}")
    per_hour = sum(baseline.requests_per_machine or []) / c.baseline_hours if c.baseline_hours else 0.0
    print(f"  {'ARM requests per machine-hour':34s} {app.requests_per_replication_hour:12.1f} {per_hour:12.1f}")
    print(
        f"  {'replication, hours per machine':34s} {app.replication_hours / c.machines:12.1f} "
        f"{c.baseline_hours / c.machines:12.1f}"
    )
    print(f"  {'wave length, simulated hours':34s} {app.sim_hours:12.1f} {baseline.sim_hours:12.1f}")
    print(f"  {'wave length, wall seconds':34s} {app.wall_seconds:12.0f} {baseline.wall_seconds:12.0f}")
    print(f"  {'machines migrated':34s} {app.counts.get('migrated', 0):12d} {len(baseline.migrated):12d}")
    ok = "ok " if app.max_requests <= TARGET_REQUESTS else "MISS"
    print(f"  app's requests per machine <= {TARGET_REQUESTS}: {ok}")
    ok = "ok " if c.ratio >= TARGET_RATIO else "MISS"
    print(f"  baseline / app requests: {c.ratio:.1f}x (target >= {TARGET_RATIO:g}x) {ok}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.side_by_side", description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=50, help="agent-based VMware machines (InMageRcm)")
    parser.add_argument("--agentless", type=int, default=50, help="agentless VMware machines (VMwareCbt)")
    parser.add_argument("--hours", type=float, default=6.0, help="simulated initial replication time per machine")
    parser.add_argument("--seed", type=int, default=7)
    # At 3,600x the host's own processing (a few wall seconds) would read as hours of simulated wave; at 600x it
    # stays within minutes, so the wave's simulated length is Site Recovery's, not this machine's.
    parser.add_argument("--speed", type=float, default=600.0, help="the app's emulator: simulated s per wall s")
    parser.add_argument("--max-parallel", type=int, default=50)
    parser.add_argument("--poll-seconds", type=float, default=DEFAULT_POLL_SECONDS, help="the baselines' interval")
    args = parser.parse_args(argv)
    if args.machines + args.agentless < 1:
        parser.error("compare at least one machine")
    print(
        f"{args.machines} agent-based and {args.agentless} agentless VMware machines, ~{args.hours:g} h initial "
        f"replication each, seed {args.seed}; app at x{args.speed:g} with maxParallel {args.max_parallel}, "
        f"baselines polling every {args.poll_seconds:g} simulated s"
    )
    comparisons: list[tuple[Comparison, str]] = []
    if args.machines:
        comparisons.append((compare(AGENT_BASED, args.machines, args), "the migrate-at-scale scripts"))
    if args.agentless:
        comparisons.append((compare(AGENTLESS, args.agentless, args), "Az.Migrate's at-scale scripts"))
    for comparison, baseline_name in comparisons:
        print_comparison(comparison, baseline_name)

    if args.machines:
        machines = [fleet_machine(index) for index in range(args.machines)]
        items = [Machine.model_validate(m).protected_item_name for m in machines]
        topology = topology_for(args.machines, args.hours, args.seed)
        after = random.Random(args.seed).randint(1, 6 * args.machines)
        with tempfile.TemporaryDirectory() as scratch, start_emulator(topology, speed=0) as asr:
            killed, ran = kill_mid_run(
                asr,
                machines,
                Path(scratch),
                speed=0,
                poll_seconds=args.poll_seconds,
                kill_at=None,
                kill_after_operations=after,
            )
            until_kill, _ = machine_requests(asr, items)
            loss = assess_loss(asr, machines, Path(scratch), speed=0, poll_seconds=args.poll_seconds)
        moment = f"after ASR accepted its operation {after}, {ran / 3600:.2f} simulated h in"
        print(
            f"\n  agent-based baseline killed once (SIGKILL) {moment}: "
            f"{'killed' if killed else 'it had already finished'}"
        )
        print(f"    ARM requests per machine until then: mean {statistics.fmean(until_kill):.1f}")
        print("    " + loss.describe().replace("\n", "\n    "))
    if args.agentless:
        print("  agentless baseline: not killed (bench.baseline_loss audits the protected-item scripts only)")
    print("  this app under 24 kills: see python -m bench.chaos (nothing lost, no step repeated)")
    return 0 if all(comparison.good for comparison, _ in comparisons) else 1


if __name__ == "__main__":
    raise SystemExit(main())
