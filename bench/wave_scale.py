"""A 1,000-machine wave at scale: wall time, replay CPU, largest history, ARM requests per machine, host memory.

The wave orchestration (``migration_wave``) runs on the local Functions host **in a child process** (so its peak
resident memory and CPU time are its own, read from ``/proc``), against the Site Recovery emulator in this process
at ``--speed`` simulated seconds per wall second. The fleet is ``--machines`` machines: the mixed example's five
(physical, Hyper-V, Azure, VMware, AWS) plus small VMware machines, spread over ``--groups`` cutover groups, with
``maxParallel`` ``--max-parallel``, no approval and no window, so the wave runs from start to end unattended.

Figures, and where they come from:

- wall time: from ``start_new`` to the wave's ``Completed`` status;
- replay CPU: the host's own count of CPU seconds spent replaying orchestrations (``/admin/host/status``), beside
  the host process's whole CPU time (``/proc/<pid>/stat``);
- largest history: sampled from the host's SQLite task hub while the wave runs (each ``continue_as_new``
  generation counts on its own), read-only from this process;
- ARM requests per machine: the emulator's call log, each machine's item and its jobs (as
  ``bench.migration_cost`` counts them), plus the vault-level reads of validation shared out;
- host peak memory: ``VmHWM`` of the host process;
- ARM budget: with ``--arm-limits wall`` the emulator enforces ARM's per-subscription token buckets
  (reads 250 / 25 per second, writes and deletes 200 / 10 per second) refilled on *wall* time, so the hours of
  polling the wave compresses into minutes meet Azure's per-second budget unscaled: stricter than Azure. The 429s
  answered are counted by type, and no migration may fail. Requests per machine-hour divide each VMware machine's
  requests by the simulated hours its item replicated (enable to failover).

The single-machine baseline (``--baseline``, on by default) runs a one-machine wave under the same options first,
so "ARM requests per machine no more than in the single-machine benchmark" is judged on equal terms; the
60-request target of ``bench.migration_cost`` is printed too. Targets are printed next to the figures, not
asserted (``tests/e2e/test_wave_scale.py`` asserts counts at a smaller scale).

Run: ``python -m bench.wave_scale [--machines 1000] [--speed 3600] [--max-parallel 100] [--groups 4]
[--arm-limits wall|simulated|off]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sqlite3
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.local_stack import fence_settings
from emulators.functions import start_host_process
from emulators.functions.process import HostProcess
from emulators.siterecovery import ArmLimits, EmulatorHandle, start_emulator
from migration.instance_ids import Kind, parse, wave_id
from migration.plan_clock import PlanClock
from tests.support.machines import REPO, example_plan, fleet_machine, fleet_topology

TARGET_WALL_SECONDS = 15 * 60
TARGET_HISTORY = 2000
TARGET_REQUESTS_SINGLE_BENCH = 60  # bench.migration_cost's target per machine
MIXED_MACHINES = ("db01", "hv-file01", "app01", "web01", "aws-web01")
VALIDATE_OPERATIONS = (
    "ReplicationFabrics_Get",
    "ReplicationProtectionContainers_Get",
    "ReplicationProtectableItems_Get",
    "ReplicationPolicies_Get",
    "ReplicationProtectionContainerMappings_Get",
)

# The jobs that start and end a machine's replication: protected items' and agentless migration items'.
ENABLE_SCENARIOS = ("EnableDr", "EnableMigration")
FAILOVER_SCENARIOS = ("UnplannedFailover", "Migrate")

Json = dict[str, Any]


# -- the plan -------------------------------------------------------------------------------------------------


def wave_plan(machines: int, *, groups: int, max_parallel: int, plan_id: str = "scale-wave") -> Json:
    """``machines`` machines: the mixed example's five kinds first (when there is room), then fleet VMware VMs.

    Machines are dealt round-robin to ``groups`` groups, so every group holds some of each kind and cutover
    really goes group by group.
    """
    mixed = example_plan("mixed-wave.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)
    options = copy.deepcopy(mixed["options"])
    options.pop("drAfterMigration", None)
    options.update(maxParallel=max_parallel, approval={"required": False}, onMachineFailure="continue")
    kinds = [m for g in mixed["groups"] for m in g["machines"] if m["name"] in MIXED_MACHINES]
    chosen = kinds[: min(len(kinds), max(0, machines - 1))] if machines > len(kinds) else []
    members = chosen + [fleet_machine(index) for index in range(machines - len(chosen))]
    dealt: list[list[Json]] = [[] for _ in range(max(1, min(groups, machines)))]
    for position, machine in enumerate(members):
        dealt[position % len(dealt)].append(machine)
    return {
        "id": plan_id,
        "name": f"{machines}-machine scale wave",
        "options": options,
        "groups": [{"name": f"group-{index + 1}", "machines": group} for index, group in enumerate(dealt)],
    }


def fleet_count(plan: Json) -> int:
    return sum(1 for g in plan["groups"] for m in g["machines"] if m["name"] not in MIXED_MACHINES)


# -- the host in a child process ------------------------------------------------------------------------------


def management_request(host: HostProcess, method: str, path: str, body: Any = None, *, admin: bool = False) -> Any:
    key = host.admin_key if admin else host.system_key
    base = f"{host.base_url}/{path}" if admin else f"{host.base_url}/runtime/webhooks/durabletask/{path}"
    url = f"{base}{'&' if '?' in base else '?'}code={key}"
    # The SDK client sends the input JSON-encoded twice; the host decodes it as the extension does.
    data = None if body is None else json.dumps(json.dumps(body)).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        text = response.read()
    return json.loads(text) if text else None


def _proc_figures(pid: int) -> tuple[float, float]:
    """(peak resident MB, CPU seconds) of a live process, from /proc."""
    peak_kb = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return peak_kb / 1024, (int(fields[11]) + int(fields[12])) / ticks


class HistorySampler:
    """Largest history per instance, sampled read-only from the host's task hub file while the host writes it.

    ``bench.migration_cost`` samples an in-process hub object; the host here is another process, so this one opens
    the SQLite file itself and reads only the two columns it needs (every row's input and output would cost the
    machine the benchmark measures).
    """

    def __init__(self, path: Path, interval: float = 0.5) -> None:
        self.path = path
        self.interval = interval
        self.largest: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        if not self.path.exists():
            return
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            rows = db.execute("SELECT instance_id, history_len FROM instances").fetchall()
        except sqlite3.OperationalError:
            return  # the schema is not there yet, or the file is busy: the next sample will do
        finally:
            db.close()
        for instance_id, length in rows:
            if length > self.largest.get(instance_id, 0):
                self.largest[instance_id] = length

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> HistorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# -- one run --------------------------------------------------------------------------------------------------


@dataclass
class RunFigures:
    machines: int
    status: str
    counts: Json
    wall_seconds: float
    replay_cpu_seconds: float
    episodes: int
    host_cpu_seconds: float
    host_peak_mb: float
    largest_history: tuple[str, int]
    history_by_kind: dict[str, int]
    requests_per_machine: list[int]  # the VMware fleet machines, the kind the baseline migrates
    answered_per_machine: list[int]  # the same without the requests ARM's limits refused (429)
    requests_other_kinds: dict[str, int]
    replay_by_orchestrator: dict[str, list[float]]
    vault_reads: int
    total_requests: int
    by_operation: Counter[str] = field(default_factory=Counter)
    arm_limits: str = "off"
    throttled: dict[str, int] = field(default_factory=dict)  # 429s by operation type (reads, writes, deletes)
    replication_hours: float = 0.0  # simulated machine-hours the fleet machines' items replicated
    sim_hours: float = 0.0  # the wave from start to end on the emulator's simulated clock

    @property
    def requests_per_replication_hour(self) -> float:
        return sum(self.answered_per_machine) / self.replication_hours if self.replication_hours else 0.0

    @property
    def mean_requests(self) -> float:
        return statistics.fmean(self.requests_per_machine) if self.requests_per_machine else 0.0

    @property
    def max_requests(self) -> int:
        return max(self.requests_per_machine, default=0)

    @property
    def all_in_per_machine(self) -> float:
        return self.total_requests / self.machines


def instance_kind(instance_id: str) -> str:
    """The row an instance's history counts in: wave, batch, machine runbook or rollback, replication or job wait."""
    parsed = parse(instance_id)
    if parsed.kind is Kind.WAIT:
        return "wait (replication)" if parsed.stage == "initialReplication" else "wait (job)"
    rows = {Kind.WAVE: "wave", Kind.BATCH: "batch", Kind.ROLLBACK: "machine rollback"}
    return rows.get(parsed.kind, "machine runbook")


_VM_PATH = "/microsoft.compute/virtualmachines/"


def machine_requests(
    asr: EmulatorHandle, names: list[str], *, with_throttled: bool = True
) -> tuple[list[int], Counter[str]]:
    """Requests per machine: calls on its item, reads of the jobs that ran on it, reads of the machine Azure
    Migrate discovered (``Microsoft.OffAzure/.../machines/{name}``: an agentless machine's enable and validation read
    it), and the checks' calls on its test VM and migrated VM (``Microsoft.Compute/virtualMachines/{name}[-test]``,
    their run commands included) — as the cost benchmark counts them.

    ``with_throttled=False`` leaves out the requests ARM's limits answered with 429: they took no token, and a
    machine's cost without them is comparable with a run that met no limits.
    """
    job_item: dict[str, str] = {}
    with asr.store.lock:
        for vault in asr.store.vaults.values():
            for job in vault.jobs.values():
                job_item[job.name.lower()] = job.target_object_name.lower()
    per: Counter[str] = Counter()
    operations: Counter[str] = Counter()
    wanted = {name.lower() for name in names}
    for call in asr.calls.calls():
        if call.status == 429 and not with_throttled:
            continue
        owner = (call.item or "").lower()
        path = call.path.lower().rstrip("/")
        if owner not in wanted and "/replicationjobs/" in path:
            owner = job_item.get(path.rsplit("/", 1)[-1], "")
        elif owner not in wanted and "/microsoft.offazure/" in path and path.rsplit("/", 2)[-2] == "machines":
            owner = path.rsplit("/", 1)[-1]
        elif owner not in wanted and _VM_PATH in path:
            owner = path.split(_VM_PATH, 1)[1].split("/", 1)[0].removesuffix("-test")
        if owner in wanted:
            per[owner] += 1
            operations[call.operation] += 1
    return [per[name.lower()] for name in names], operations


def replication_hours(asr: EmulatorHandle, names: list[str]) -> float:
    """Simulated machine-hours of replication: from each machine's enable to its failover (or to now).

    Read from the jobs, which outlive the items (completing a migration removes the item): a protected item's
    EnableDr and UnplannedFailover, an agentless migration item's EnableMigration and Migrate.
    """
    wanted = {name.lower() for name in names}
    enabled: dict[str, float] = {}
    failed_over: dict[str, float] = {}
    with asr.store.lock:
        now = asr.store.now()
        for vault in asr.store.vaults.values():
            for job in vault.jobs.values():
                owner = job.target_object_name.lower()
                if owner not in wanted:
                    continue
                if job.scenario in ENABLE_SCENARIOS:
                    enabled[owner] = min(enabled.get(owner, job.start), job.start)
                elif job.scenario in FAILOVER_SCENARIOS:
                    failed_over[owner] = max(failed_over.get(owner, job.start), job.start)
    return sum(failed_over.get(owner, now) - start for owner, start in enabled.items()) / 3600


def _throttled(stats: Json) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for buckets in (stats.get("subscriptions") or {}).values():
        for operation_type, figures in buckets.items():
            counts[operation_type] += int(figures.get("throttled", 0))
    return dict(counts)


def start_app_host(asr: EmulatorHandle, data_dir: Path) -> HostProcess:
    """The app on the local Functions host in a child process, allowed every vault of ``asr``'s topology and VMs
    in its subscriptions."""
    vaults = [vault.arm_id for vault in asr.store.topology.vaults]
    env = {"ASR_ARM_ENDPOINT": asr.base_url, **fence_settings(vaults)}
    return start_host_process("function_app:app", app_dir=REPO, data_dir=data_dir, env=env)


def run_wave(
    machines: int,
    *,
    speed: float,
    max_parallel: int,
    groups: int,
    timeout: float,
    quiet: bool,
    keep: Path | None = None,
    arm_limits: str = "off",
    plan: Json | None = None,
    topology: Json | None = None,
) -> RunFigures:
    """One wave on fresh emulators; ``plan`` and ``topology`` replace the scale wave's own (for comparisons)."""
    plan = plan or wave_plan(machines, groups=groups, max_parallel=max_parallel)
    names = [m["name"] for g in plan["groups"] for m in g["machines"]]
    topology = topology or fleet_topology(fleet_count(plan), disks_gb=[16])
    limits = None if arm_limits == "off" else ArmLimits(clock="simulated" if arm_limits == "simulated" else "wall")
    with tempfile.TemporaryDirectory() as scratch, start_emulator(topology, speed=speed, arm_limits=limits) as asr:
        data = str(keep) if keep else scratch
        host = start_app_host(asr, Path(data))
        try:
            instance = wave_id(plan["id"])
            clock = PlanClock(speed, asr.clock.now(), datetime.now(UTC))
            with HistorySampler(Path(data) / "taskhub.sqlite3") as sampler:
                started = time.monotonic()
                sim_started = asr.clock.seconds()
                body = {"plan": plan, "clock": clock.to_dict()}
                management_request(host, "POST", f"orchestrators/migration_wave/{instance}", body)
                status = _wait(host, instance, started + timeout, quiet)
                wall = time.monotonic() - started
                sim_hours = (asr.clock.seconds() - sim_started) / 3600
            peak_mb, cpu = _proc_figures(host.pid)
            replay = management_request(host, "GET", "admin/host/status", admin=True)["replay"]
        finally:
            host.stop()
        per_machine, operations = machine_requests(asr, names)
        answered, _ = machine_requests(asr, names, with_throttled=False)
        fleet = [count for name, count in zip(names, per_machine, strict=True) if name not in MIXED_MACHINES]
        fleet_answered = [count for name, count in zip(names, answered, strict=True) if name not in MIXED_MACHINES]
        others = {name: count for name, count in zip(names, per_machine, strict=True) if name in MIXED_MACHINES}
        vault_reads = sum(asr.calls.count(operation) for operation in VALIDATE_OPERATIONS)
        total = len(asr.calls.calls())
        hours = replication_hours(asr, [n for n in names if n not in MIXED_MACHINES])
        throttled = _throttled(asr.arm_limit_stats())
    output = status.get("output") or {}
    kinds: dict[str, int] = {}
    for instance_id, events in sampler.largest.items():
        kind = instance_kind(instance_id)
        kinds[kind] = max(kinds.get(kind, 0), events)
    largest = max(sampler.largest.items(), key=lambda pair: pair[1], default=("-", 0))
    return RunFigures(
        machines=machines,
        status=f"{status['runtimeStatus']}/{output.get('status')}",
        counts=output.get("counts") or {},
        wall_seconds=wall,
        replay_cpu_seconds=float(replay.get("replay_seconds", 0.0)),
        episodes=int(replay.get("episodes", 0)),
        host_cpu_seconds=cpu,
        host_peak_mb=peak_mb,
        largest_history=largest,
        history_by_kind=kinds,
        requests_per_machine=fleet,
        answered_per_machine=fleet_answered,
        requests_other_kinds=others,
        replay_by_orchestrator=dict(replay.get("by_orchestrator") or {}),
        vault_reads=vault_reads,
        total_requests=total,
        by_operation=operations,
        arm_limits=arm_limits,
        throttled=throttled,
        replication_hours=hours,
        sim_hours=sim_hours,
    )


def _wait(host: HostProcess, instance: str, deadline: float, quiet: bool) -> Json:
    last = ""
    while True:
        try:
            status: Json = management_request(host, "GET", f"instances/{instance}?showInput=false")
        except urllib.error.URLError:
            status = {}
        runtime = status.get("runtimeStatus")
        if runtime in ("Completed", "Failed", "Terminated"):
            return status
        custom = status.get("customStatus") or {}
        line = f"{custom.get('phase')} {json.dumps(custom.get('counts'), sort_keys=True)}"
        if not quiet and line != last:
            print(f"  [{time.strftime('%H:%M:%S')}] {line}", flush=True)
            last = line
        if time.monotonic() > deadline:
            raise TimeoutError(f"{instance} still {runtime} at the timeout: {custom}")
        time.sleep(2.0)


# -- report ---------------------------------------------------------------------------------------------------


def report(run: RunFigures, baseline: RunFigures | None) -> None:
    ok = "ok " if run.wall_seconds <= TARGET_WALL_SECONDS else "MISS"
    print(f"\n{run.machines} machines: {run.status} {json.dumps(run.counts, sort_keys=True)}")
    print(f"  {'figure':38s} {'value':>14s}   target")
    print(f"  {'wall time':38s} {run.wall_seconds:12.1f} s   <= {TARGET_WALL_SECONDS} s  {ok}")
    print(
        f"  {'orchestrator replay CPU':38s} {run.replay_cpu_seconds:12.1f} s   "
        f"({run.episodes} episodes; host CPU all in {run.host_cpu_seconds:.1f} s)"
    )
    name, events = run.largest_history
    ok = "ok " if events <= TARGET_HISTORY else "MISS"
    print(f"  {'largest history':38s} {events:12d} ev   <= {TARGET_HISTORY}  {ok}  ({name})")
    for kind, most in sorted(run.history_by_kind.items(), key=lambda pair: -pair[1]):
        print(f"    {kind:36s} {most:12d} ev")
    print("  replay CPU by orchestrator (episodes, CPU s, events replayed):")
    by_cpu = sorted(run.replay_by_orchestrator.items(), key=lambda pair: -pair[1][1])
    for orchestrator, (episodes, seconds, replayed) in by_cpu:
        print(f"    {orchestrator:36s} {int(episodes):8d} {seconds:8.1f} s {int(replayed):10d}")
    target = baseline.max_requests if baseline else TARGET_REQUESTS_SINGLE_BENCH
    most = max(run.answered_per_machine, default=0)
    ok = "ok " if most <= target else "MISS"
    source = "single-machine wave" if baseline else "bench.migration_cost target"
    print(f"  {'ARM requests per VMware machine (max)':38s} {most:12d}     <= {target} ({source})  {ok}")
    if run.arm_limits != "off":
        refused = statistics.fmean(run.requests_per_machine) - statistics.fmean(run.answered_per_machine)
        print(
            f"    (requests ARM answered; with the 429s as well: mean {run.mean_requests:.1f}, max "
            f"{run.max_requests}, {refused:.1f} refused per machine)"
        )
    print(
        f"    mean {statistics.fmean(run.answered_per_machine or [0]):.1f}  "
        f"min {min(run.answered_per_machine, default=0)}; other kinds "
        f"{json.dumps(run.requests_other_kinds, sort_keys=True)}; all in (every call / machines, with validation's "
        f"vault reads): {run.all_in_per_machine:.1f}; bench.migration_cost target {TARGET_REQUESTS_SINGLE_BENCH}"
    )
    fleet_hours = run.replication_hours / max(1, len(run.requests_per_machine))
    print(
        f"  {'ARM requests per machine-hour':38s} {run.requests_per_replication_hour:12.1f}     "
        f"(VMware machines; {fleet_hours:.1f} simulated hours of replication each on average)"
    )
    limits = "off" if run.arm_limits == "off" else f"on, refilled on {run.arm_limits} time"
    throttled = ", ".join(f"{kind} {count}" for kind, count in sorted(run.throttled.items())) or "none"
    print(f"  {'ARM limits (250/25 reads, 200/10 writes)':38s} {limits}; 429s answered: {throttled}")
    failed = int(run.counts.get("failed", 0) or 0)
    ok = "ok " if failed == 0 else "MISS"
    print(f"  {'failed migrations':38s} {failed:12d}     == 0  {ok}")
    print(f"  {'host peak memory (VmHWM)':38s} {run.host_peak_mb:12.1f} MB")
    print("  by operation (mean per machine):")
    for operation, count in run.by_operation.most_common():
        print(f"    {operation:48s} {count / run.machines:6.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wave_scale", description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=1000)
    parser.add_argument("--speed", type=float, default=3600.0, help="simulated seconds per wall second")
    parser.add_argument("--max-parallel", type=int, default=100)
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up after this many wall seconds")
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="keep the wave's task hub in this folder")
    parser.add_argument(
        "--arm-limits",
        choices=("wall", "simulated", "off"),
        default="off",
        help="enforce ARM's per-subscription token buckets, refilled on wall (strictest) or simulated time",
    )
    args = parser.parse_args(argv)

    print(
        f"wave of {args.machines} machines, maxParallel {args.max_parallel}, {args.groups} groups, "
        f"speed x{args.speed:g}, ARM limits {args.arm_limits}; host in a child process, Site Recovery emulator in "
        "this one"
    )
    baseline = None
    if args.baseline:
        baseline = run_wave(
            1, speed=args.speed, max_parallel=args.max_parallel, groups=1, timeout=args.timeout, quiet=True
        )
        print(
            f"single-machine wave: {baseline.status}, {baseline.max_requests} ARM requests, "
            f"wall {baseline.wall_seconds:.1f} s"
        )
    run = run_wave(
        args.machines,
        speed=args.speed,
        max_parallel=args.max_parallel,
        groups=args.groups,
        timeout=args.timeout,
        quiet=args.quiet,
        keep=args.keep,
        arm_limits=args.arm_limits,
    )
    report(run, baseline)
    return 0 if run.status == "Completed/Migrated" else 1


if __name__ == "__main__":
    raise SystemExit(main())
