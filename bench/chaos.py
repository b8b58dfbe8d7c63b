"""Chaos run: a mixed wave on the three emulators while everything around it fails, then an audit of what happened.

The wave (the mixed example: every source kind and both VMware paths, the agentless ``vmw-agentless01`` among them,
plus small agent-based and agentless VMware machines) is submitted over Service Bus and runs on the local Functions
host in a child process. Meanwhile, seeded so every run meets the same plan:

- the host is killed with SIGKILL and restarted, again and again, at random moments of its uptime;
- Site Recovery throttles in bursts (429 with ``Retry-After``), answers 5xx, fails some machines' jobs once (the
  operator retries them over the control queue, as a runbook would say) and some for good, and stalls some
  initial replications (the stall is lifted a couple of simulated hours later); the failures and stalls are dealt
  to agent-based and agentless fleet machines in turn, each failing the job its kind runs at that stage (a
  migration item's ``EnableMigration``, ``TestMigrate``, ``TestMigrateCleanup``, ``Migrate``; it has no commit);
- the Service Bus emulator is killed once and restarted on the same port with its ``--data`` folder.

An operator loop does what a person would: when the wave holds because machines failed before cutover, it sends
``retry`` for the machines whose fault was transient and, once only the permanently broken ones are left,
``approve`` to go on with the healthy rest.

The audit, from the emulators' own records (not from the app's):

- every machine ended as planned: migrated, or failed at the stage where a permanent fault was put;
- no duplicated operation: no step succeeded twice on an item (two enables, test failovers, failovers, commits;
  for a migration item two enables, test migrations, migrations), each job came from exactly one accepted call,
  every job is accounted for by the machine's record (it lists the job, or says the stage was found done after a
  restart), and every machine no job failure was put on had each mutating operation of its runbook accepted
  exactly once (``ReplicationProtectedItems_*`` for protected items, ``ReplicationMigrationItems_*`` for agentless
  machines' migration items) and no other;
- events: each event id arrived, and duplicates delivered by the broker are counted; none of the events the
  final state implies is missing, and no publish failed for good;
- nothing is stuck: after the wave, no orchestration is still running or pending;
- every history stayed under its bound; no Service Bus message was dead-lettered.

Run: ``python -m bench.chaos [--machines 120] [--agentless 20] [--kills 24] [--seed 7]``;
``tests/e2e/test_chaos.py`` runs it small.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any

from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSubQueue

from bench.migration_cost import vm_check_calls
from bench.wave_scale import HistorySampler, instance_kind, machine_requests, wave_plan
from cli.local_identity import LOCAL_USER
from cli.local_identity import prepare as prepare_sign_in
from cli.local_stack import fence_settings
from emulators.functions import start_host_process
from emulators.functions.process import HostProcess
from emulators.servicebus import DEFAULT_CONFIG
from emulators.servicebus.process import ServiceBusProcess
from emulators.siterecovery import EmulatorHandle, start_emulator
from migration.instance_ids import wave_id
from tests.e2e.stack import MIGRATION_ITEM_MUTATING_OPERATIONS, MIGRATION_ITEM_RUNBOOK_OPERATIONS, MUTATING_OPERATIONS
from tests.support.machines import (
    REPO,
    agentless_machine,
    agentless_name,
    example_plan,
    fleet_name,
    fleet_topology,
    with_agentless_fleet,
)
from tests.support.webhooks import Receiver

Json = dict[str, Any]

# Largest history each kind of orchestration may reach (each continue_as_new generation on its own).
HISTORY_BOUNDS = {"wave": 2000, "batch": 2000, "machine runbook": 300, "machine rollback": 300}
DEFAULT_HISTORY_BOUND = 300
# The ASR job each runbook stage starts.
SCENARIO_OF_STAGE = {
    "enableReplication": "EnableDr",
    "testFailover": "TestFailover",
    "testFailoverCleanup": "TestFailoverCleanup",
    "unplannedFailover": "UnplannedFailover",
    "commit": "CommitFailover",
    "completeMigration": "DisableDr",
    "drProtection": "EnableDr",
}
# The migration-item job each runbook stage starts on an agentless machine (there is no commit stage).
AGENTLESS_SCENARIO_OF_STAGE = {
    "enableReplication": "EnableMigration",
    "testFailover": "TestMigrate",
    "testFailoverCleanup": "TestMigrateCleanup",
    "unplannedFailover": "Migrate",
    "completeMigration": "DisableMigration",
}
# A protected item's job scenario -> the migration item's job for the same step (a commit has none).
AGENTLESS_SCENARIO = {SCENARIO_OF_STAGE[stage]: job for stage, job in AGENTLESS_SCENARIO_OF_STAGE.items()}
# Jobs that leave an item to remove when they fail.
ENABLES = ("EnableDr", "EnableMigration")
# Jobs that may succeed once more on one item for each job of the paired scenarios that failed on it: removing the
# item a failed enable left (then the final removal), cleaning up the test VM a failed test failover or test
# migration left (the runbook's make-safe step does, on either kind of item; then the test's own cleanup after the
# retry).
AGAIN_AFTER_FAILED = {
    "DisableDr": ENABLES,
    "PurgeProtection": ENABLES,
    "DisableMigration": ENABLES,
    "TestFailoverCleanup": ("TestFailover",),
    "TestMigrateCleanup": ("TestMigrate",),
}
# The mixed example's agentless machine (the other example machines are in bench.wave_scale.MIXED_MACHINES).
EXAMPLE_AGENTLESS = "vmw-agentless01"
# The stages a transient job failure is put on (before the cutover gate, so an operator's retry still counts).
TRANSIENT_SCENARIOS = ("EnableDr", "TestFailover", "TestFailoverCleanup")
# Where permanent failures go, in turn: one before the gate, one during cutover.
PERMANENT = (("TestFailover", "testFailover"), ("UnplannedFailover", "unplannedFailover"))
# About what one machine costs in ARM requests: throttling bursts are placed within the run's requests.
REQUESTS_PER_MACHINE = 25
# Every test VM answers this script; a migrated VM is checked by default (it runs, its agent, its network), and runs
# the script too on the machines whose migrated VM the run makes fail (their own checks, as a plan overrides them).
SMOKE: Json = {"scripts": [{"name": "smoke", "script": "echo ok", "expectOutput": "ok"}]}
# How long a stalled replication stays stalled, in simulated seconds, once the stall is seen.
STALL_SECONDS = 2 * 3600


@dataclass(frozen=True)
class ChaosConfig:
    machines: int = 120  # all of them: the mixed example's six, agent-based and agentless fleet machines
    agentless: int = 20  # agentless fleet machines (vmw-al00…), besides the example's vmw-agentless01
    kills: int = 24
    seed: int = 7
    speed: float = 600.0
    max_parallel: int = 30
    groups: int = 3
    kill_every: tuple[float, float] = (1.0, 3.5)  # wall seconds of host uptime between two kills
    transient_job_failures: int = 6
    permanent_failures: int = 2
    stalls: int = 3
    failing_test_checks: int = 2  # test VMs whose script fails: the first once (retried), the others for good
    failing_migrated_checks: int = 1  # migrated VMs whose script fails: the wave holds until approved
    hook_failures: int = 3  # the webhook's first answers are 503: a hook's retry fails too, the wave holds, a retry
    throttle_bursts: int = 8
    server_errors: int = 40
    restart_bus: bool = True
    timeout: float = 1800.0


@dataclass
class FaultPlan:
    """What is injected where, and what each machine must end as because of it."""

    specs: list[Json]
    expected: dict[str, tuple[str, str | None]]  # machine -> (outcome, failed stage)
    retry_once: set[str]
    stalls: set[str]
    job_faults: dict[str, str]  # machine -> scenario that fails
    check_faults: dict[str, str] = field(default_factory=dict)  # machine -> the VM whose script fails (testVm, …)

    @property
    def migrated_checks_failing(self) -> set[str]:
        return {name for name, phase in self.check_faults.items() if phase == "migratedVm"}

    @property
    def tested_again(self) -> set[str]:
        """Machines whose test VM failed its checks: a retry tests them again (a second test failover and cleanup)."""
        return {name for name, phase in self.check_faults.items() if phase == "testVm"}


def plan_faults(
    config: ChaosConfig,
    machines: list[str],
    fleet: list[str],
    expected_requests: int,
    agentless: list[str] | None = None,
    vm_names: dict[str, str] | None = None,
) -> FaultPlan:
    """Draw the faults from the seed: which fleet machines fail where, when the throttling bursts come.

    ``fleet`` are the agent-based machines faults may go to, ``agentless`` the agentless ones. Each kind is drawn
    on its own and the two are dealt in turn (agent-based first), so both kinds meet transient and permanent job
    failures and stalls whenever both are there; an agentless machine's failure is the migration-item job of the
    same stage (``AGENTLESS_SCENARIO``). Check failures go to machines no job fault or stall has: a test VM's script
    fails once (an operator retries it) or for good (failed at ``validateTestVm``), a migrated VM's for good (still
    migrated; the wave holds). ``vm_names`` maps a machine to its target VM's name (default: the machine's).
    """
    rng = random.Random(config.seed)
    wanted = config.transient_job_failures + config.permanent_failures + config.stalls
    drawn = [rng.sample(kind, min(len(kind), wanted)) for kind in (fleet, agentless or [])]
    dealt = [name for pair in zip_longest(*drawn) for name in pair if name is not None]
    chosen = dealt[:wanted]
    is_agentless = set(agentless or [])

    def scenario_for(name: str, scenario: str) -> str:
        return AGENTLESS_SCENARIO[scenario] if name in is_agentless else scenario

    transient = chosen[: config.transient_job_failures]
    permanent = chosen[len(transient) : len(transient) + config.permanent_failures]
    stalled = chosen[len(transient) + len(permanent) :]
    specs: list[Json] = []
    expected: dict[str, tuple[str, str | None]] = {name: ("migrated", None) for name in machines}
    job_faults: dict[str, str] = {}
    for name in transient:
        scenario = scenario_for(name, rng.choice(TRANSIENT_SCENARIOS))
        specs.append({"kind": "jobFailure", "scenario": scenario, "machine": name, "times": 1, "task": 1})
        job_faults[name] = scenario
    for index, name in enumerate(permanent):
        scenario, stage = PERMANENT[index % len(PERMANENT)]
        scenario = scenario_for(name, scenario)
        specs.append({"kind": "jobFailure", "scenario": scenario, "machine": name, "times": 1000, "task": 1})
        expected[name] = ("failed", stage)
        job_faults[name] = scenario
    for name in stalled:
        specs.append({"kind": "replication", "machine": name, "mode": "stall", "atPercent": rng.randint(20, 80)})
    spare = [name for name in machines if name not in chosen]
    checked = rng.sample(spare, min(len(spare), config.failing_test_checks + config.failing_migrated_checks))
    test_checks, migrated_checks = checked[: config.failing_test_checks], checked[config.failing_test_checks :]
    vm_of = vm_names or {}
    retried_checks: list[str] = []
    for index, name in enumerate(test_checks):
        times = 1 if index == 0 else 1000
        vm = f"{vm_of.get(name, name)}-test"
        specs.append({"kind": "runCommand", "vm": vm, "exitCode": 5, "stderr": "chaos: smoke failed", "times": times})
        if times == 1:
            retried_checks.append(name)
        else:
            expected[name] = ("failed", "validateTestVm")
    for name in migrated_checks:
        vm = vm_of.get(name, name)
        specs.append({"kind": "runCommand", "vm": vm, "exitCode": 6, "stderr": "chaos: service down", "times": 1000})
    for _ in range(config.throttle_bursts):
        after = rng.randint(0, max(1, expected_requests))
        specs.append(
            {"kind": "throttle", "mode": "burst", "after": after, "count": rng.randint(10, 40), "retryAfterSeconds": 1}
        )
    for status in (500, 502, 503, 504):
        count = config.server_errors // 4
        if count:
            specs.append({"kind": "transient", "status": status, "probability": 0.01, "count": count})
    check_faults = {name: "testVm" for name in test_checks} | {name: "migratedVm" for name in migrated_checks}
    return FaultPlan(specs, expected, {*transient, *retried_checks}, set(stalled), job_faults, check_faults)


# -- the moving parts -----------------------------------------------------------------------------------------


def _signed_in(host: HostProcess) -> dict[str, str]:
    """The demo user's bearer token: the host stands in for App Service authentication, as in Azure."""
    assert host.entra is not None, "the chaos host runs with App Service authentication"
    return {"Authorization": f"Bearer {LOCAL_USER.token(host.entra)}"}


def _management(host: HostProcess, path: str) -> Any:
    url = f"{host.base_url}/runtime/webhooks/durabletask/{path}"
    url += f"{'&' if '?' in url else '?'}code={host.system_key}"
    with urllib.request.urlopen(urllib.request.Request(url, headers=_signed_in(host)), timeout=30) as reply:
        text = reply.read()
    return json.loads(text) if text else None


def _api(host: HostProcess, path: str) -> Any:
    request = urllib.request.Request(f"{host.base_url}/api{path}", headers=_signed_in(host))
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as error:  # 409 carries the final document too
        return json.loads(error.read() or b"null")


class EventCollector:
    """Receives every event on the ``all-events`` subscription, through broker restarts, and keeps them all."""

    def __init__(self, connection_string: str) -> None:
        self.connection_string = connection_string
        self.received: list[Json] = []
        self.reconnects = 0
        self.last_arrival = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-collector", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with ServiceBusClient.from_connection_string(self.connection_string, retry_total=0) as client:
                    with client.get_subscription_receiver("migration-events", "all-events") as receiver:
                        while not self._stop.is_set():
                            for message in receiver.receive_messages(max_message_count=100, max_wait_time=1):
                                self.received.append(json.loads(b"".join(message.body)))
                                self.last_arrival = time.monotonic()
                                receiver.complete_message(message)
            except Exception:  # the broker went away: reconnect, as any consumer must
                self.reconnects += 1
                self._stop.wait(0.5)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


class Operator:
    """Sends commands on the control queue the way a person watching the wave would, each with its own id."""

    def __init__(self, migration_id: str, plan: FaultPlan) -> None:
        self.migration_id = migration_id
        self.plan = plan
        self.retried: set[str] = set()
        self.sent: list[Json] = []
        self._approved_holds: set[str] = set()

    def react(self, host: HostProcess, bus: ServiceBusProcess, custom: Json) -> None:
        hold = custom.get("hold") or {}
        if custom.get("phase") != "held":
            return
        if hold.get("reason") == "hookFailed" and hold.get("since") not in self._approved_holds:
            # The webhook did not answer in time: someone checks it is up, and runs the group's hooks again.
            self._send(bus, {"action": "retry", "reason": "the load balancer's webhook is back"})
            self._approved_holds.add(str(hold.get("since")))
            return
        if hold.get("reason") == "migratedVmChecksFailed" and hold.get("since") not in self._approved_holds:
            # A migrated VM failed its checks (it cannot be undone): someone looked, and the next group goes on.
            self._send(bus, {"action": "approve", "reason": "migrated VM checked by hand; go on with the next group"})
            self._approved_holds.add(str(hold.get("since")))
            return
        if hold.get("reason") != "machinesFailed":
            return
        document = _api(host, f"/migrations/{self.migration_id}")
        failed = sorted({e["machine"] for e in document.get("errors") or [] if e.get("machine")})
        to_retry = [m for m in failed if m in self.plan.retry_once and m not in self.retried]
        if to_retry:
            self._send(bus, {"action": "retry", "machines": to_retry, "reason": "transient ASR job failure"})
            self.retried.update(to_retry)
        elif failed and hold.get("since") not in self._approved_holds:
            self._send(bus, {"action": "approve", "reason": "go on without the machines that cannot migrate"})
            self._approved_holds.add(str(hold.get("since")))

    def _send(self, bus: ServiceBusProcess, command: Json) -> None:
        body = {"migrationId": self.migration_id, "actor": "chaos-operator", **command}
        message_id = f"{command['action']}-{len(self.sent)}"
        with ServiceBusClient.from_connection_string(bus.connection_string) as client:
            with client.get_queue_sender("migration-control") as sender:
                sender.send_messages(ServiceBusMessage(json.dumps(body), message_id=message_id))
        self.sent.append({**body, "id": message_id})


def _bus_config(folder: Path) -> Path:
    """The default namespace with short queue locks, so a command held by a killed host comes back in seconds."""
    document = json.loads(Path(DEFAULT_CONFIG).read_text(encoding="utf-8"))
    namespace = document["UserConfig"]["Namespaces"][0]
    for queue in namespace["Queues"]:
        queue["Properties"]["LockDuration"] = "PT5S"
    path = folder / "servicebus-config.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# -- the run --------------------------------------------------------------------------------------------------


@dataclass
class ChaosReport:
    config: ChaosConfig
    wall_seconds: float
    status: str
    outcomes: dict[str, tuple[str, str | None]]
    expected: dict[str, tuple[str, str | None]]
    kills: int
    bus_restarts: int
    injected: Counter[str]
    commands: list[Json]
    unaccounted_jobs: list[str]
    jobs_found_done: int
    repeated_steps: list[str]
    calls_without_job: int
    calls_not_once: list[str]
    events_received: int
    events_unique: int
    events_missing: list[str]
    events_failed: int
    stuck: list[str]
    largest_history: dict[str, int]
    history_over_bound: list[str]
    dead_letters: int
    requests_per_machine: float
    requests_by_kind: dict[str, float]  # "agentless" and "other": the mean of each kind's machines
    checks_wrong: list[str] = field(default_factory=list)  # check reports that do not say what the faults made
    hooks_wrong: list[str] = field(default_factory=list)  # hook results that do not say what the webhook made
    check_requests_per_machine: float = 0.0  # of requests_per_machine: the VM checks' Compute and NIC calls

    @property
    def problems(self) -> list[str]:
        """Every finding of the audit, one line each; empty when the run is clean."""
        problems = [f"outcome {line}" for line in self.wrong_outcomes]
        problems += [f"job no record accounts for: {line}" for line in self.unaccounted_jobs]
        problems += [f"step succeeded twice: {line}" for line in self.repeated_steps]
        if self.calls_without_job:
            problems.append(f"{self.calls_without_job} accepted mutating calls made no job")
        problems += [f"mutating call not accepted exactly once: {line}" for line in self.calls_not_once]
        problems += [f"check report {line}" for line in self.checks_wrong]
        problems += [f"hooks {line}" for line in self.hooks_wrong]
        problems += [f"missing event {line}" for line in self.events_missing]
        if self.events_failed:
            problems.append(f"{self.events_failed} events failed to publish for good")
        problems += [f"stuck instance {line}" for line in self.stuck]
        problems += [f"history over its bound {line}" for line in self.history_over_bound]
        if self.dead_letters:
            problems.append(f"{self.dead_letters} messages dead-lettered")
        return problems

    @property
    def wrong_outcomes(self) -> list[str]:
        return sorted(
            f"{name}: {self.outcomes.get(name)} (expected {want})"
            for name, want in self.expected.items()
            if self.outcomes.get(name) != want
        )


@dataclass(frozen=True)
class ChaosWave:
    """The wave's plan and who is who in it: the fleet machines faults may go to, and the agentless machines."""

    plan: Json
    fleet: list[str]  # agent-based fleet machines (vm00…)
    agentless_fleet: list[str]  # agentless fleet machines (vmw-al00…)
    agentless: set[str]  # every agentless machine: the fleet's and the example's

    @property
    def names(self) -> list[str]:
        return [m["name"] for g in self.plan["groups"] for m in g["machines"]]

    @property
    def vm_names(self) -> dict[str, str]:
        """Each machine's target VM name (its test VM's is this with ``-test``)."""
        return {m["name"]: m["target"].get("vmName") or m["name"] for g in self.plan["groups"] for m in g["machines"]}


def chaos_wave(config: ChaosConfig, hook_url: str | None = None) -> ChaosWave:
    """The scale wave's plan (the mixed example's five other kinds and agent-based fleet machines) with the example's
    agentless machine and ``config.agentless`` agentless fleet machines dealt to its groups, ``config.machines`` in
    all; every test VM and migrated VM runs a script, and with ``hook_url`` every group calls it before and after its
    cutover."""
    example = example_plan("mixed-wave.yaml").machine(EXAMPLE_AGENTLESS)
    agentless = [example.model_dump(by_alias=True, mode="json", exclude_none=True)]
    agentless += [agentless_machine(index) for index in range(config.agentless)]
    others = max(1, config.machines - len(agentless))
    plan = wave_plan(others, groups=config.groups, max_parallel=config.max_parallel, plan_id="chaos")
    plan["options"].update(onMachineFailure="hold", jobTimeout="P1D", initialReplicationTimeout="P14D")
    plan["options"]["checks"] = {"testVm": SMOKE, "onMigratedVmFailure": "hold"}
    if hook_url is not None:  # each group drains before its cutover and switches DNS after it, through a webhook
        for group in plan["groups"]:
            http = {"type": "http", "url": hook_url, "retries": 1, "retryDelay": "PT5S", "timeout": "PT10S"}
            group["hooks"] = {"beforeCutover": [{"name": "drain", **http}], "afterCutover": [{"name": "dns", **http}]}
    groups = plan["groups"]
    for position, machine in enumerate(agentless):
        groups[position % len(groups)]["machines"].append(machine)
    names = [m["name"] for g in groups for m in g["machines"]]
    fleet_names = {fleet_name(index) for index in range(len(names))}
    agentless_names = {agentless_name(index) for index in range(config.agentless)}
    return ChaosWave(
        plan,
        [name for name in names if name in fleet_names],
        [name for name in names if name in agentless_names],
        {m["name"] for m in agentless},
    )


def run_chaos(config: ChaosConfig, work: Path, *, quiet: bool = True) -> ChaosReport:
    """One chaos run in ``work`` (a scratch folder); the report says what the audit found."""
    say = (lambda *_: None) if quiet else (lambda text: print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True))
    receiver = Receiver(200, fail_first=config.hook_failures)
    wave = chaos_wave(config, receiver.url)
    plan, names = wave.plan, wave.names
    faults = plan_faults(
        config, names, wave.fleet, REQUESTS_PER_MACHINE * config.machines, wave.agentless_fleet, wave.vm_names
    )
    for machine in (m for g in plan["groups"] for m in g["machines"] if m["name"] in faults.migrated_checks_failing):
        machine["checks"] = {"migratedVm": SMOKE}
    rng = random.Random(f"{config.seed}:kills")
    topology = with_agentless_fleet(fleet_topology(len(wave.fleet), disks_gb=[16]), config.agentless, disk_gb=16)
    asr = start_emulator(topology, speed=config.speed)
    stall_ids: dict[str, int] = {}  # machine -> its stall's fault id, to lift it later
    for spec in faults.specs:
        fault_id = asr.add_fault(spec)
        if spec["kind"] == "replication":
            stall_ids[spec["machine"]] = fault_id
    bus_config = _bus_config(work)
    bus = ServiceBusProcess(bus_config, work / "servicebus")
    vault = asr.store.topology.vaults[0]
    env = {
        "ASR_ARM_ENDPOINT": asr.base_url,
        **fence_settings([vault.arm_id]),
        "ServiceBusConnection": bus.connection_string,
        "MIGRATION_CLOCK_SPEED": str(config.speed),
        "MIGRATION_CLOCK_ANCHOR": f"{asr.clock.now().isoformat()}@{datetime.now(UTC).isoformat()}",
        "CALLBACK_ALLOWED_HOSTS": receiver.origin,
    }
    data = work / "functions"
    _, auth_settings = prepare_sign_in(data)
    host = start_host_process("function_app:app", app_dir=REPO, data_dir=data, env=env, easy_auth=auth_settings)
    collector = EventCollector(bus.connection_string)
    collector.start()
    operator = Operator("chaos", faults)
    kills = bus_restarts = 0
    stall_seen: dict[str, float] = {}
    instance = wave_id("chaos")
    started = time.monotonic()
    try:
        with HistorySampler(data / "taskhub.sqlite3") as sampler:
            with ServiceBusClient.from_connection_string(bus.connection_string) as client:
                with client.get_queue_sender("migration-requests") as sender:
                    sender.send_messages(ServiceBusMessage(json.dumps(plan), message_id=f"chaos-{config.seed}"))
            host_up = time.monotonic()
            next_kill = rng.uniform(*config.kill_every)
            status: Json = {}
            while True:
                if time.monotonic() - started > config.timeout:
                    raise TimeoutError(f"the chaos wave did not end within {config.timeout:.0f} s: {status}")
                try:
                    status = _management(host, f"instances/{instance}?showInput=false") or {}
                except (urllib.error.URLError, OSError):
                    status = {}
                if status.get("runtimeStatus") in ("Completed", "Failed", "Terminated"):
                    break
                custom = status.get("customStatus") or {}
                try:
                    operator.react(host, bus, custom)
                except Exception as error:  # the bus or host is down this moment; the hold is still there later
                    say(f"operator could not act yet: {type(error).__name__}")
                _lift_stalls(asr, faults.stalls, stall_ids, stall_seen)
                if kills < config.kills and time.monotonic() - host_up >= next_kill:
                    host.kill()
                    kills += 1
                    if config.restart_bus and bus_restarts == 0 and kills >= max(1, config.kills // 2):
                        bus.kill()
                        bus = ServiceBusProcess(bus_config, work / "servicebus", port=bus.port)
                        bus_restarts += 1
                        say("Service Bus emulator killed and restarted")
                    host = start_host_process(
                        "function_app:app", app_dir=REPO, data_dir=data, env=env, easy_auth=auth_settings
                    )
                    host_up = time.monotonic()
                    next_kill = rng.uniform(*config.kill_every)
                    say(f"host killed and restarted ({kills}/{config.kills}); phase {custom.get('phase')}")
                time.sleep(0.3)
            wall = time.monotonic() - started
            say(f"wave ended {status.get('runtimeStatus')} after {wall:.0f} s; auditing")
            stuck = _settle(host)
        _wait_for_quiet(collector)
    finally:
        collector.stop()
        host.stop()
        with warnings.catch_warnings():
            # azure-servicebus leaves a socket open when the broker dies under a receiver it is opening; collect it
            # here, quietly, rather than let it surface as an unraisable warning somewhere later.
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
    try:
        dead = _dead_letters(bus)
    finally:
        bus.stop()
        asr.stop()
        receiver.close()
        with warnings.catch_warnings():
            # The same sockets, left by the links that read the dead-letter queues of a broker that was restarted:
            # collected here, or whichever test runs next in this process would see them.
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
    return _audit(
        config,
        faults,
        status,
        asr,
        collector,
        sampler,
        names,
        agentless=wave.agentless,
        wall_seconds=wall,
        kills=kills,
        bus_restarts=bus_restarts,
        commands=operator.sent,
        stuck=stuck,
        dead_letters=dead,
        hook_calls=receiver.events(),
        groups=plan["groups"],
        vm_names=wave.vm_names,
    )


def _lift_stalls(asr: EmulatorHandle, stalled: set[str], ids: dict[str, int], seen: dict[str, float]) -> None:
    """Lift each stall ``STALL_SECONDS`` of simulated time after its replication (a migration item's initial
    seeding) first showed it."""
    now = asr.clock.seconds()
    with asr.store.lock:
        for vault in asr.store.vaults.values():
            for item in vault.items.values():
                name = item.machine.friendly_name
                if (
                    name in stalled
                    and name in ids
                    and item.ir_factor == 0
                    and item.ir_progress(now) >= (item.ir_break_percent or 0)
                ):
                    seen.setdefault(name, now)
            for migration in vault.migration_items.values():
                name = migration.friendly_name
                if (
                    name in stalled
                    and name in ids
                    and migration.factor == 0
                    and migration.seed_progress(now) >= (migration.break_percent or 0)
                ):
                    seen.setdefault(name, now)
    for name, since in list(seen.items()):
        if name in ids and now - since >= STALL_SECONDS:
            asr.remove_fault(ids.pop(name))


def _settle(host: HostProcess, grace: float = 10.0) -> list[str]:
    """Instances still running or pending once the wave has ended and a grace period has passed."""
    deadline = time.monotonic() + grace
    while True:
        found = _management(host, "instances?runtimeStatus=Running,Pending&top=1000") or []
        running = sorted(str(i["instanceId"]) for i in found)
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.5)


def _wait_for_quiet(collector: EventCollector, quiet: float = 3.0, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() - collector.last_arrival < quiet and time.monotonic() < deadline:
        time.sleep(0.2)


def _dead_letters(bus: ServiceBusProcess) -> int:
    count = 0
    with ServiceBusClient.from_connection_string(bus.connection_string) as client:
        for queue in ("migration-requests", "migration-control"):
            with client.get_queue_receiver(queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as receiver:
                count += len(receiver.peek_messages(max_message_count=100))
    return count


# -- the audit ------------------------------------------------------------------------------------------------


def _audit(
    config: ChaosConfig,
    faults: FaultPlan,
    status: Json,
    asr: EmulatorHandle,
    collector: EventCollector,
    sampler: HistorySampler,
    names: list[str],
    *,
    agentless: set[str],
    wall_seconds: float,
    kills: int,
    bus_restarts: int,
    commands: list[Json],
    stuck: list[str],
    dead_letters: int,
    hook_calls: list[Json] | None = None,
    groups: list[Json] | None = None,
    vm_names: dict[str, str] | None = None,
) -> ChaosReport:
    output = status.get("output") or {}
    records: dict[str, Json] = output.get("machines") or {}
    outcomes = {
        name: (str(r.get("outcome")), (r.get("error") or {}).get("stage") if r.get("outcome") == "failed" else None)
        for name, r in records.items()
    }
    unaccounted, repeated, calls_without_job, found_done = _operations(asr, records, faults.tested_again)
    not_once = _calls_not_once(
        asr, [n for n in names if n not in faults.job_faults and n not in faults.tested_again], agentless
    )
    received = collector.received
    unique = {event["id"]: event for event in received}
    missing = _missing_events(output, records, list(unique.values()))
    events_failed = int(output.get("eventsFailed") or 0) + sum(
        int(r.get("eventsFailed") or 0) for r in records.values()
    )
    largest: dict[str, int] = {}
    over: list[str] = []
    for instance_id, length in sampler.largest.items():
        kind = instance_kind(instance_id)
        largest[kind] = max(largest.get(kind, 0), length)
        if length > HISTORY_BOUNDS.get(kind, DEFAULT_HISTORY_BOUND):
            over.append(f"{instance_id}: {length}")
    injected: Counter[str] = Counter()
    for fault in asr.store.faults.describe():
        kind = str(fault["kind"])
        label = {"throttle": "429 answers", "transient": "5xx answers", "jobFailure": "failed jobs"}.get(kind)
        if label:
            injected[label] += int(fault["fired"])  # type: ignore[call-overload]
        if kind == "runCommand":
            injected["failed scripts"] += int(fault["fired"])  # type: ignore[call-overload]
        if kind == "jobFailure" and fault["fired"]:  # which jobs failed: both kinds' scenarios show
            injected[f"failed {fault['scenario']} jobs"] += int(fault["fired"])  # type: ignore[call-overload]
    injected["stalled replications"] = len(faults.stalls)
    calls = hook_calls or []
    if calls:
        injected["hook calls"] = len(calls)
        injected["hook calls answered 503"] = min(len(calls), config.hook_failures)
    per_machine, _ = machine_requests(asr, names)
    by_kind: dict[str, list[int]] = {}
    for name, count in zip(names, per_machine, strict=True):
        by_kind.setdefault("agentless" if name in agentless else "other", []).append(count)
    return ChaosReport(
        config=config,
        wall_seconds=wall_seconds,
        status=f"{status.get('runtimeStatus')}/{output.get('status')}",
        outcomes=outcomes,
        expected=faults.expected,
        kills=kills,
        bus_restarts=bus_restarts,
        injected=injected,
        commands=commands,
        unaccounted_jobs=unaccounted,
        jobs_found_done=found_done,
        repeated_steps=repeated,
        calls_without_job=calls_without_job,
        calls_not_once=not_once,
        events_received=len(received),
        events_unique=len(unique),
        events_missing=missing,
        events_failed=events_failed,
        stuck=stuck,
        largest_history=largest,
        history_over_bound=over,
        dead_letters=dead_letters,
        requests_per_machine=sum(per_machine) / max(1, len(per_machine)),
        check_requests_per_machine=sum(len(vm_check_calls(asr, vm)) for vm in (vm_names or {}).values())
        / max(1, len(names)),
        requests_by_kind={kind: sum(counts) / len(counts) for kind, counts in by_kind.items()},
        checks_wrong=_checks_wrong(records, faults),
        hooks_wrong=_hooks_wrong(groups or [], output, calls),
    )


def _hooks_wrong(groups: list[Json], output: Json, calls: list[Json]) -> list[str]:
    """Hooks that did not end as a webhook that comes up late makes them: every group that cut over passed both
    lists in the end, and every call the webhook got was the hook's CloudEvent for a group and phase of the plan."""
    wrong = []
    results = output.get("hooks") or {}
    cut_over = {m.get("group") for m in (output.get("machines") or {}).values() if m.get("outcome") == "migrated"}
    for group in groups:
        if not group.get("hooks") or group["name"] not in cut_over:
            continue
        for phase in ("beforeCutover", "afterCutover"):
            outcome = ((results.get(group["name"]) or {}).get(phase) or {}).get("outcome")
            if outcome != "passed":
                wrong.append(f"{group['name']} {phase}: {outcome}")
    names = {group["name"] for group in groups}
    for call in calls:
        data = call.get("data") or {}
        if call.get("type") != "migration.group.hook" or data.get("group") not in names:
            wrong.append(f"a call that is no hook's event: {str(call)[:200]}")
    return wrong


def _checks_wrong(records: dict[str, Json], faults: FaultPlan) -> list[str]:
    """Check reports that contradict the faults: a migrated VM whose script was made to fail must say ``failed``, and
    every migrated machine's test VM and migrated VM must have been checked."""
    wrong = []
    for name, record in records.items():
        checks = record.get("checks") or {}
        if record.get("outcome") != "migrated":
            continue
        for phase in ("testVm", "migratedVm"):
            if phase not in checks:
                wrong.append(f"{name}: no {phase} checks")
        migrated = (checks.get("migratedVm") or {}).get("outcome")
        want = "failed" if name in faults.migrated_checks_failing else "passed"
        if migrated is not None and migrated != want:
            wrong.append(f"{name}: migratedVm {migrated} (expected {want})")
    return wrong


# The test jobs a machine runs again when its test VM failed its checks and it is retried (a new test VM to check).
TESTED_AGAIN = frozenset({"TestFailover", "TestFailoverCleanup", "TestMigrate", "TestMigrateCleanup"})


def _operations(
    asr: EmulatorHandle, records: dict[str, Json], tested_again: set[str] | None = None
) -> tuple[list[str], list[str], int, int]:
    """Jobs no record accounts for, steps that succeeded twice on one item, accepted calls that made no job, and
    jobs accounted for only by a stage found done.

    A job is accounted for when the machine's record lists it, or when the record says the job's stage was found
    already done (a host killed after ASR accepted the call, restarted after the job ended: the step is not
    repeated, and its job is not re-read, so the record has no id for it). A step that succeeded twice is the
    duplicate this run looks for; the only legitimate repeats follow a failed job (``AGAIN_AFTER_FAILED``): removing
    the item a failed enable left behind, cleaning up the test a failed test migration left, and testing again a
    machine whose test VM failed its checks (``tested_again``). Accepted calls that made no job leave the checks' run
    commands out: they are Compute resources, and a script run twice is its own finding (``_scripts_run_twice``).
    """
    known = {
        name: {str(job).rstrip("/").rsplit("/", 1)[-1].lower() for job in record.get("jobs") or []}
        for name, record in records.items()
    }
    found_done = {
        name: {
            scenario
            for stage, entry in (record.get("stages") or {}).items()
            if isinstance(entry, dict) and entry.get("decision") == "done"
            for scenario in (SCENARIO_OF_STAGE.get(stage), AGENTLESS_SCENARIO_OF_STAGE.get(stage))
        }
        for name, record in records.items()
    }
    unaccounted: list[str] = []
    successes: Counter[tuple[str, str]] = Counter()
    failed: Counter[tuple[str, str]] = Counter()
    jobs = by_done = 0
    with asr.store.lock:
        for vault in asr.store.vaults.values():
            for job in vault.jobs.values():
                jobs += 1
                owner = job.target_object_name
                listed = job.name.lower() in known.get(owner, set())
                if not listed:
                    if job.settled == "Succeeded" and job.scenario in found_done.get(owner, set()):
                        by_done += 1
                    else:
                        unaccounted.append(f"{owner}: {job.scenario} {job.name} ({job.settled})")
                item = job.resource_id.lower()
                if job.settled == "Succeeded":
                    successes[(item, job.scenario)] += 1
                else:
                    failed[(item, job.scenario)] += 1
    again = {name.lower() for name in tested_again or set()}

    def allowed(item: str, scenario: str) -> int:
        retested = 1 if scenario in TESTED_AGAIN and item.rsplit("/", 1)[-1] in again else 0
        return 1 + retested + sum(failed[(item, before)] for before in AGAIN_AFTER_FAILED.get(scenario, ()))

    repeated = [
        f"{item.rsplit('/', 1)[-1]}: {scenario} x{count}"
        for (item, scenario), count in successes.items()
        if count > allowed(item, scenario)
    ]
    repeated += _scripts_run_twice(asr)
    mutating = sum(
        1
        for call in asr.calls.calls()
        if call.method in ("PUT", "POST", "DELETE")
        and call.status < 400
        and "/microsoft.compute/" not in call.path.lower()
    )
    return unaccounted, repeated, mutating - jobs, by_done


def _scripts_run_twice(asr: EmulatorHandle) -> list[str]:
    """Run commands created more than once: each check's script runs once per attempt under its own name, so a
    second accepted PUT of one name is a script a restart ran again."""
    puts = Counter(
        call.path.lower()
        for call in asr.calls.calls()
        if call.operation == "VirtualMachineRunCommands_CreateOrUpdate" and call.status < 400
    )
    return [f"{path.rsplit('/', 3)[-3]}: script {path.rsplit('/', 1)[-1]} x{n}" for path, n in puts.items() if n > 1]


def _calls_not_once(asr: EmulatorHandle, names: list[str], agentless: set[str]) -> list[str]:
    """Machines whose runbook did not have each of its item's mutating operations accepted exactly once.

    Counted on ASR's call log, per item: for an agentless machine every ``ReplicationMigrationItems_*`` operation the
    runbook calls once (``Create``, ``TestMigrate``, ``TestMigrateCleanup``, ``Migrate``, ``Delete``) and no other
    migration-item or protected-item one; for the others every protected-item one once and no migration-item one.
    Only for machines that met no job failure: a failed job's retry calls its operation again, on purpose (the job
    audit covers them). A call ASR accepted twice is the duplicate a restart must not make.
    """
    accepted: Counter[tuple[str, str]] = Counter()
    mutating = set(MUTATING_OPERATIONS) | set(MIGRATION_ITEM_MUTATING_OPERATIONS)
    for call in asr.calls.calls():
        if call.operation in mutating and call.status < 400 and call.item:
            accepted[(call.item.lower(), call.operation)] += 1
    found: list[str] = []
    for name in names:
        once = MIGRATION_ITEM_RUNBOOK_OPERATIONS if name in agentless else MUTATING_OPERATIONS
        for operation in sorted(mutating):
            count = accepted[(name.lower(), operation)]
            if count != (1 if operation in once else 0):
                found.append(f"{name}: {operation} x{count}")
    return found


def _missing_events(output: Json, records: dict[str, Json], events: list[Json]) -> list[str]:
    """Events the final state implies that never arrived (after de-duplication by event id)."""
    seen: Counter[tuple[str, str | None, str | None, str | None]] = Counter()
    for event in events:
        data = event.get("data") or {}
        seen[(event["type"], data.get("machine"), data.get("stage"), data.get("status") or data.get("outcome"))] += 1
    missing: list[str] = []

    def need(key: tuple[str, str | None, str | None, str | None]) -> None:
        if not seen.get(key):
            missing.append("/".join(str(part) for part in key if part is not None))

    need(("migration.accepted", None, None, None))
    need(("migration.completed", None, None, output.get("status")))
    for name, record in records.items():
        for stage in record.get("stages") or {}:
            need(("migration.machine.stage_changed", name, stage, "running"))
        for report in (record.get("checks") or {}).values():
            need(("migration.machine.checked", name, None, report.get("outcome")))
        outcome = str(record.get("outcome"))
        need(("migration.machine.completed", name, None, outcome.capitalize()))
        if outcome == "failed":
            need(("migration.machine.stage_changed", name, (record.get("error") or {}).get("stage"), "failed"))
    controls = output.get("controls") or []
    control_events = sum(1 for event in events if event["type"] == "migration.control")
    if control_events < len(controls):
        missing.append(f"migration.control: {len(controls) - control_events} of {len(controls)}")
    return missing


# -- report ---------------------------------------------------------------------------------------------------


def print_report(report: ChaosReport) -> None:
    config = report.config
    migrated = sum(1 for outcome, _ in report.outcomes.values() if outcome == "migrated")
    failed = sum(1 for outcome, _ in report.outcomes.values() if outcome == "failed")
    print(f"\nchaos run, seed {config.seed}: {report.status} in {report.wall_seconds:.0f} s wall")
    print(
        f"  machines                         {len(report.outcomes):6d}  ({migrated} migrated, {failed} failed; "
        f"{config.agentless + 1} agentless)"
    )
    print(f"  as expected                      {len(report.outcomes) - len(report.wrong_outcomes):6d}")
    print(f"  host kills (SIGKILL)             {report.kills:6d}")
    print(f"  Service Bus restarts             {report.bus_restarts:6d}")
    for label, count in sorted(report.injected.items()):
        print(f"  {label:32s} {count:6d}")
    actions = ", ".join(command["action"] for command in report.commands)
    print(f"  operator commands                {len(report.commands):6d}  ({actions})")
    print(f"  steps that succeeded twice       {len(report.repeated_steps):6d}")
    print(f"  jobs no record accounts for      {len(report.unaccounted_jobs):6d}")
    print(f"  steps found done after a kill    {report.jobs_found_done:6d}")
    print(f"  accepted calls without a job     {report.calls_without_job:6d}")
    print(f"  mutating calls not exactly once  {len(report.calls_not_once):6d}")
    print(
        f"  events received / unique         {report.events_received:6d} / {report.events_unique}"
        f"  (duplicate deliveries {report.events_received - report.events_unique})"
    )
    print(f"  events lost                      {len(report.events_missing) + report.events_failed:6d}")
    print(f"  stuck instances                  {len(report.stuck):6d}")
    print(f"  dead-lettered messages           {report.dead_letters:6d}")
    bounds = ", ".join(f"{kind} {n}" for kind, n in sorted(report.largest_history.items()))
    print(f"  largest histories                {bounds}")
    kinds = ", ".join(f"{kind} {mean:.1f}" for kind, mean in sorted(report.requests_by_kind.items()))
    print(f"  ARM requests per machine         {report.requests_per_machine:6.1f}  (target <= 60; {kinds})")
    print(f"    of which the VM checks'        {report.check_requests_per_machine:6.1f}")
    print("  problems: " + ("none" if not report.problems else ""))
    for problem in report.problems:
        print(f"    - {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n")[0])
    defaults = ChaosConfig()
    parser.add_argument("--machines", type=int, default=defaults.machines, help="all machines of the wave")
    parser.add_argument("--agentless", type=int, default=defaults.agentless, help="agentless fleet machines among them")
    parser.add_argument("--kills", type=int, default=defaults.kills)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--speed", type=float, default=defaults.speed)
    parser.add_argument("--max-parallel", type=int, default=defaults.max_parallel)
    parser.add_argument("--keep", type=Path, default=None, help="run in this folder and keep it")
    args = parser.parse_args(argv)
    config = ChaosConfig(
        machines=args.machines,
        agentless=args.agentless,
        kills=args.kills,
        seed=args.seed,
        speed=args.speed,
        max_parallel=args.max_parallel,
    )
    print(
        f"chaos run: {config.machines} machines ({config.agentless + 1} agentless), {config.kills} host kills, "
        f"seed {config.seed}, "
        f"speed x{config.speed:g}, maxParallel {config.max_parallel}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        report = run_chaos(config, folder, quiet=False)
    print_report(report)
    return 0 if not report.problems and report.kills >= config.kills else 1


if __name__ == "__main__":
    raise SystemExit(main())
