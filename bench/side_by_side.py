"""Side by side: this app's wave against the way people migrate today, on the same topology and seed.

The baseline is ``bench.baseline_scripts``, a re-enactment of Microsoft's "migrate at scale with Site Recovery"
scripts: one step at a time over every row, each item and job polled at a fixed interval (30 simulated seconds),
progress only in memory and in a CSV written when a step ends. The app runs the same machines as one wave
(``maxParallel`` ``--max-parallel``, no approval, no soak of the test VM, since the baseline does not wait on
one either) on the local Functions host.

Each runs on a fresh Site Recovery emulator with the same topology (``--machines`` VMware machines, each with a
512 GB disk that replicates in about ``--hours`` simulated hours) and the same seed. The app's emulator runs at
``--speed``; the baseline's clock is frozen and moved by the baseline itself by each wait, so its polls land
exactly at their interval whatever the machine's speed (its figures are then what they would be in Azure).

Printed for both: ARM requests per machine (mean, max) and per machine-hour of replication (enable to failover),
the wave's length in simulated hours and in wall seconds.
Then the baseline is run again on a third emulator and killed once with SIGKILL at a seeded moment; the figures
say what it lost (operations started that no record holds, machines left half-done) and what re-running the step
costs. The app's answer to the same question is ``bench.chaos``: 24 kills, nothing lost or repeated.

Run: ``python -m bench.side_by_side [--machines 50] [--hours 6] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
from pathlib import Path

from bench.baseline_loss import assess_loss
from bench.baseline_scripts import DEFAULT_POLL_SECONDS, kill_mid_run, run_baseline_on
from bench.migration_cost import DISK_GB, bandwidth_for
from bench.wave_scale import Json, RunFigures, machine_requests, replication_hours, run_wave, wave_plan
from emulators.siterecovery import start_emulator
from migration.machine import Machine
from tests.e2e.stack import fleet_machine, fleet_topology

TARGET_REQUESTS = 60
TARGET_RATIO = 10.0


def comparison_plan(machines: int, max_parallel: int) -> Json:
    """The fleet's VMware machines as one wave, in one group, under the scale wave's options."""
    options = wave_plan(1, groups=1, max_parallel=max_parallel)["options"]
    options.update(testVmSoak="PT0S")
    return {
        "id": "side-by-side",
        "name": f"{machines} machines, side by side with the baseline",
        "options": options,
        "groups": [{"name": "all", "machines": [fleet_machine(index) for index in range(machines)]}],
    }


def topology_for(machines: int, hours: float, seed: int) -> Json:
    topology = fleet_topology(machines, disks_gb=[DISK_GB], bandwidth_mbps=bandwidth_for(hours))
    topology["seed"] = seed
    return topology


def run_app(machines: int, hours: float, seed: int, speed: float, max_parallel: int) -> RunFigures:
    return run_wave(
        machines,
        speed=speed,
        max_parallel=max_parallel,
        groups=1,
        timeout=3600,
        quiet=True,
        plan=comparison_plan(machines, max_parallel),
        topology=topology_for(machines, hours, seed),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.side_by_side", description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--hours", type=float, default=6.0, help="simulated initial replication time per machine")
    parser.add_argument("--seed", type=int, default=7)
    # At 3,600x the host's own processing (a few wall seconds) would read as hours of simulated wave; at 600x it
    # stays within minutes, so the wave's simulated length is Site Recovery's, not this machine's.
    parser.add_argument("--speed", type=float, default=600.0, help="the app's emulator: simulated s per wall s")
    parser.add_argument("--max-parallel", type=int, default=50)
    parser.add_argument("--poll-seconds", type=float, default=DEFAULT_POLL_SECONDS, help="the baseline's interval")
    args = parser.parse_args(argv)
    machines = [fleet_machine(index) for index in range(args.machines)]
    items = [Machine.model_validate(m).protected_item_name for m in machines]
    print(
        f"{args.machines} VMware machines, ~{args.hours:g} h initial replication each, seed {args.seed}; "
        f"app at x{args.speed:g} with maxParallel {args.max_parallel}, baseline polling every "
        f"{args.poll_seconds:g} simulated s"
    )

    app = run_app(args.machines, args.hours, args.seed, args.speed, args.max_parallel)
    print(f"  app: {app.status}, {app.wall_seconds:.0f} s wall")

    topology = topology_for(args.machines, args.hours, args.seed)
    with tempfile.TemporaryDirectory() as scratch, start_emulator(topology, speed=0) as asr:
        baseline = run_baseline_on(asr, machines, speed=0, poll_seconds=args.poll_seconds, out_dir=Path(scratch))
        baseline_hours = replication_hours(asr, [machine["name"] for machine in machines])
    print(f"  baseline: {len(baseline.migrated)}/{args.machines} migrated, {baseline.wall_seconds:.0f} s wall")

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

    ratio = baseline.mean_requests / app.mean_requests if app.mean_requests else float("inf")
    print(f"\n  {'':34s} {'this app':>12s} {'baseline':>12s}")
    print(f"  {'ARM requests per machine (mean)':34s} {app.mean_requests:12.1f} {baseline.mean_requests:12.1f}")
    print(f"  {'ARM requests per machine (max)':34s} {app.max_requests:12d} {baseline.max_requests:12d}")
    per_hour = sum(baseline.requests_per_machine or []) / baseline_hours if baseline_hours else 0.0
    print(f"  {'ARM requests per machine-hour':34s} {app.requests_per_replication_hour:12.1f} {per_hour:12.1f}")
    print(
        f"  {'replication, hours per machine':34s} {app.replication_hours / args.machines:12.1f} "
        f"{baseline_hours / args.machines:12.1f}"
    )
    print(f"  {'wave length, simulated hours':34s} {app.sim_hours:12.1f} {baseline.sim_hours:12.1f}")
    print(f"  {'wave length, wall seconds':34s} {app.wall_seconds:12.0f} {baseline.wall_seconds:12.0f}")
    print(f"  {'machines migrated':34s} {app.counts.get('migrated', 0):12d} {len(baseline.migrated):12d}")
    ok = "ok " if app.max_requests <= TARGET_REQUESTS else "MISS"
    print(f"  app's requests per machine <= {TARGET_REQUESTS}: {ok}")
    ok = "ok " if ratio >= TARGET_RATIO else "MISS"
    print(f"  baseline / app requests: {ratio:.1f}x (target >= {TARGET_RATIO:g}x) {ok}")
    moment = f"after ASR accepted its operation {after}, {ran / 3600:.2f} simulated h in"
    print(f"\n  baseline killed once (SIGKILL) {moment}: {'killed' if killed else 'it had already finished'}")
    print(f"    ARM requests per machine until then: mean {statistics.fmean(until_kill):.1f}")
    print("    " + loss.describe().replace("\n", "\n    "))
    print("  this app under 24 kills: see python -m bench.chaos (nothing lost, no step repeated)")
    good = app.status == "Completed/Migrated" and ratio >= TARGET_RATIO and app.max_requests <= TARGET_REQUESTS
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
