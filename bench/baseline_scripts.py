"""The baseline a migration is compared with: Microsoft's "migrate at scale with Site Recovery" scripts, re-enacted.

Today, people migrate many machines with ASR by running a set of PowerShell scripts one after another over a CSV
of machines (``Azure/azure-docs-powershell-samples``, ``azure-migrate/migrate-at-scale-with-site-recovery``). This
module plays that operator against the Site Recovery emulator through the real SDK, so a benchmark can set our
orchestrator's figures beside the way it is done now. It follows the scripts' behaviour, not their code:

- **Rows one at a time, steps one at a time.** Each step runs over every row in order before the next step starts,
  as an operator runs script after script: start replication (``asr_startmigration``), replication status
  (``asr_replicationstatus``), test failover (``asr_testmigration``), cleanup test failover
  (``asr_cleanuptestmigration``), failover (``asr_migration``), complete migration (``asr_completemigration``:
  commit, then disable replication).
- **Per row, what the scripts check.** The item is looked up through its protectable item (a machine whose
  protectable item is not protected has no item for the script); start replication skips a machine that is
  already protected; every other step starts its operation only if the item's ``allowedOperations`` allows it,
  and complete migration decides on commit *and* disable from the one read it made before committing, and does
  not disable when the commit job did not succeed. A row that throws is marked ``EXCEPTION PROCESSING ITEM`` and
  the step goes on with the next row.
- **No durability.** Progress lives in memory. Like the scripts, each step writes one output CSV
  (``out.<script>.<input>.<yyyyMMdd_HHmmss>.csv``: one row per machine, with its job ids and states) when it has
  finished every row, and nothing before: a process killed mid-step leaves no trace of that step on disk.
  ``bench.baseline_loss.assess_loss`` compares what ASR did with what the CSVs say, and re-runs the step as an
  operator would.
- **Request bodies** are our product's (``migration.scenarios``), so both sides ask ASR for the same operations.

Where it departs from the scripts, and why:

- **Polling.** The scripts never wait for a job (start replication spins on the job while it is ``NotStarted``,
  complete migration hot-loops on the commit job) and nothing waits for initial replication: the operator re-runs
  the status script until every row shows Protected. Here the status step reads every item once per interval
  until all are Protected, and the failover-type steps poll each row's job at that interval until it ends before
  taking the next row, so the next step never meets a job still running. The interval (``poll_seconds``, default
  30 simulated seconds: the SDK's own default polling interval) is fixed, with no back-off, and kept from the
  start of one read to the start of the next. The scripts' loops have no sleep at all, so 30 s is generous.
- **Commit timeout.** ``asr_completemigration`` gives up on a commit job after 120 s and throws; ASR commit jobs
  can take longer. Here the commit job is followed to its end, which again favours the baseline.
- **Look-ups.** The cmdlets find the fabric, container, protectable and protected item by listing and filtering
  on friendly names for every row; here each is one GET by name, and the fabric and container once per script
  run. The baseline makes fewer requests than the scripts would.
- **Names.** The scripts name a new item with a fresh GUID; here it gets the plan's item name, so requests per
  machine are counted the same way for both sides (``bench.wave_scale.machine_requests``).
- **Disable reason.** Disable replication sends ``MigrationComplete`` (the product's builder), so ASR ends in the
  state the migration docs call complete migration.
- **Not re-enacted:** the properties update and check scripts and the post-migration NSG script (no ASR effect the
  emulator models), the per-script text log, the per-row subscription switch (every row must name the vault the
  run is given).

Time: the emulator's clock runs ``speed`` simulated seconds per wall second, and waiting ``s`` simulated seconds
is a wall sleep of ``s / speed``. With ``speed=0`` (a frozen clock) the runner moves the emulator's clock itself,
through its control endpoint, by the time it would have waited: requests then take no simulated time at all, as
they take next to none against a 30 s interval in Azure, and the figures do not depend on how fast the machine
is. Use it only when the baseline is alone on the emulator. At high speeds a round of requests takes simulated
minutes; such rounds start late, and :attr:`BaselineResult.late_polls` says how often.

Use: :func:`run_baseline` in process, or :func:`start_baseline_process` (``python -m bench.baseline_scripts
--child INPUT.json``) for a child process a benchmark can SIGKILL mid-run, then ``bench.baseline_loss.assess_loss``.

Run: ``python -m bench.baseline_scripts [--machines 20] [--hours 6] [--speed 0] [--poll-seconds 30]
[--kill-at SIMULATED_SECONDS | --kill-seed SEED] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.core.pipeline import PipelineResponse
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from bench.migration_cost import DISK_GB, bandwidth_for
from bench.wave_scale import machine_requests
from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_client
from migration.asr import job_name_from_headers, raw_json
from migration.machine import Machine
from migration.scenarios import DisableReason, ItemAddress, Operation, scenario_for
from tests.e2e.stack import MUTATING_OPERATIONS
from tests.support.machines import REPO, fleet_machine, fleet_topology

Json = dict[str, Any]

DEFAULT_POLL_SECONDS = 30.0
DEFAULT_MAX_WAIT_SECONDS = 30 * 24 * 3600.0
EXCEPTION_MARK = "EXCEPTION PROCESSING ITEM"
TERMINAL_JOB_STATES = frozenset({"Succeeded", "Failed", "Cancelled", "Canceled", "CompletedWithInformation"})
CHILD_INPUT = "baseline-input.json"
CHILD_RESULT = "baseline-result.json"
CHILD_STDERR = "baseline-stderr.txt"


@dataclass(frozen=True)
class Step:
    """One script of the set: its name here, the script it re-enacts, the ASR job scenarios it starts."""

    name: str
    script: str
    scenarios: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step("start_replication", "asr_startmigration", ("EnableDr",)),
    Step("replication_status", "asr_replicationstatus", ()),
    Step("test_failover", "asr_testmigration", ("TestFailover",)),
    Step("cleanup_test_failover", "asr_cleanuptestmigration", ("TestFailoverCleanup",)),
    Step("failover", "asr_migration", ("UnplannedFailover",)),
    Step("complete_migration", "asr_completemigration", ("CommitFailover", "DisableDr")),
)
STEP_BY_NAME = {step.name: step for step in STEPS}


@dataclass
class Row:
    """One machine's line in a step's output CSV."""

    machine: str
    item: str
    result: str = ""
    protectable_status: str = ""
    protection_state: str = ""
    protection_description: str = ""
    job_id: str = ""
    job_state: str = ""
    disable_job_id: str = ""
    disable_job_state: str = ""
    message: str = ""


CSV_COLUMNS = [f.name for f in fields(Row)]
JOB_COLUMNS = ("job_id", "disable_job_id")


@dataclass
class BaselineResult:
    """What one run did: rows per step, CSVs written, time spent and, with the emulator handle, requests."""

    machines: list[str]
    items: list[str]
    steps: dict[str, list[Json]]
    csv_files: list[str]
    sim_seconds: float
    wall_seconds: float
    polls: int  # polling rounds: one run of the status script over every row, or one read of a job
    late_polls: int  # rounds that started late: the previous one took longer than the interval
    requests_per_machine: list[int] | None = None
    by_operation: dict[str, int] = field(default_factory=dict)

    @property
    def sim_hours(self) -> float:
        return self.sim_seconds / 3600

    @property
    def migrated(self) -> list[str]:
        """Machines whose complete migration step ended with a succeeded disable job."""
        rows = self.steps.get("complete_migration", [])
        return [row["machine"] for row in rows if row.get("disable_job_state") == "Succeeded"]

    @property
    def mean_requests(self) -> float:
        return statistics.fmean(self.requests_per_machine) if self.requests_per_machine else 0.0

    @property
    def max_requests(self) -> int:
        return max(self.requests_per_machine or [0])

    def to_dict(self) -> Json:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Json) -> BaselineResult:
        return cls(**data)


# -- talking to ASR ----------------------------------------------------------------------------------------------


class _RowError(Exception):
    """The script's "throw" for one row (the row is marked as an exception; the step goes on)."""


def _get(call: Callable[..., Any], *args: str) -> Json:
    """A GET through the SDK, returning the body as the service sent it (camelCase, as the scenarios read it)."""
    body: Json = call(*args, cls=raw_json)
    return body


def _error_code(error: AzureError) -> str:
    if isinstance(error, HttpResponseError):
        detail = getattr(error, "error", None)
        code = getattr(detail, "code", None)
        if code:
            return str(code)
        if error.status_code is not None:
            return str(error.status_code)
    return type(error).__name__


def job_name(job_id: str) -> str:
    return job_id.rstrip("/").rsplit("/", 1)[-1].lower()


def emulator_seconds(base_url: str) -> float:
    """The emulator's simulated clock (seconds since its epoch), from its control endpoint (not an ARM call)."""
    with urllib.request.urlopen(f"{base_url}/_emulator/clock", timeout=30) as response:
        return float(json.loads(response.read())["seconds"])


def _advance_emulator(base_url: str, seconds: float) -> None:
    body = json.dumps({"advanceSeconds": seconds}).encode()
    request = urllib.request.Request(
        f"{base_url}/_emulator/clock", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


class Operator:
    """The person at the console: runs one script over every row, waits by the clock, writes the output CSV."""

    def __init__(
        self,
        client: SiteRecoveryManagementClient,
        machines: Sequence[Machine],
        *,
        base_url: str,
        speed: float,
        poll_seconds: float,
        out_dir: Path,
        input_name: str,
        max_wait_seconds: float,
    ) -> None:
        if speed < 0 or poll_seconds <= 0:
            raise ValueError("speed must be >= 0 and poll_seconds > 0")
        self.client = client
        self.machines = list(machines)
        self.base_url = base_url
        self.speed = speed
        self.poll_seconds = poll_seconds
        self.out_dir = out_dir
        self.input_name = input_name
        self.max_wait_seconds = max_wait_seconds
        self.polls = 0
        self.late_polls = 0
        self.csv_files: list[Path] = []
        self._wall_anchor = time.monotonic()
        self._waited = 0.0  # frozen clock: the simulated seconds this operator has moved it by

    # -- time ------------------------------------------------------------------------------------------------
    def _now(self) -> float:
        """Simulated seconds since this operator started (requests take none on a frozen clock)."""
        if self.speed == 0:
            return self._waited
        return (time.monotonic() - self._wall_anchor) * self.speed

    def _wait_until(self, due: float) -> None:
        remaining = due - self._now()
        if remaining <= 0:
            self.late_polls += 1
            return
        if self.speed == 0:
            _advance_emulator(self.base_url, remaining)
            self._waited += remaining
        else:
            time.sleep(remaining / self.speed)

    def _poll(self, read: Callable[[], bool]) -> None:
        """Call ``read`` every ``poll_seconds`` (from start to start) until it says done."""
        while True:
            started = self._now()
            self.polls += 1
            if read():
                return
            self._wait_until(started + self.poll_seconds)

    # -- ASR -------------------------------------------------------------------------------------------------
    def _item_args(self, item: ItemAddress) -> tuple[str, str, str, str, str]:
        return (item.vault.resource_group, item.vault.name, item.fabric, item.container, item.name)

    def _find_item(self, machine: Machine, looked_up: set[tuple[str, str]], row: Row) -> Json | None:
        """The script's look-up: fabric, container, protectable item, then the protected item if there is one."""
        vault, asr = machine.vault, machine.asr
        key = (asr.fabric.lower(), asr.protection_container.lower())
        if key not in looked_up:
            _get(self.client.replication_fabrics.get, vault.resource_group, vault.name, asr.fabric)
            _get(
                self.client.replication_protection_containers.get,
                vault.resource_group,
                vault.name,
                asr.fabric,
                asr.protection_container,
            )
            looked_up.add(key)
        if asr.protectable_item:
            protectable = _get(
                self.client.replication_protectable_items.get,
                vault.resource_group,
                vault.name,
                asr.fabric,
                asr.protection_container,
                asr.protectable_item,
            )
            row.protectable_status = str((protectable.get("properties") or {}).get("protectionStatus") or "")
            if row.protectable_status.lower() != "protected":
                return None
        item = scenario_for(machine).protected_item(machine)
        try:
            body = _get(self.client.replication_protected_items.get, *self._item_args(item))
        except ResourceNotFoundError:
            row.protectable_status = row.protectable_status or "Unprotected"
            return None
        row.protectable_status = row.protectable_status or "Protected"
        properties = body.get("properties") or {}
        row.protection_state = str(properties.get("protectionState") or "")
        row.protection_description = str(properties.get("protectionStateDescription") or "")
        return body

    def _start(self, machine: Machine, begin: Callable[..., Any], *args: Any) -> str:
        """Start an operation (the SDK's ``begin_*`` without its poller); the job id ASR names in the 202."""
        captured: dict[str, str] = {}

        def keep_headers(response: PipelineResponse[Any, Any]) -> None:
            captured.clear()
            captured.update(response.http_response.headers)

        begin(*args, polling=False, raw_response_hook=keep_headers)
        name = job_name_from_headers(captured)
        if name is None:
            raise _RowError("ASR accepted the operation but named no job")
        return machine.vault.job_id(name)

    def _job_state(self, machine: Machine, job_id: str) -> str:
        vault = machine.vault
        job = _get(self.client.replication_jobs.get, vault.resource_group, vault.name, job_id.rsplit("/", 1)[-1])
        return str((job.get("properties") or {}).get("state") or "")

    def _follow(self, machine: Machine, job_id: str) -> str:
        """Poll the job at the fixed interval until it ends; its final state."""
        state = ""

        def read() -> bool:
            nonlocal state
            state = self._job_state(machine, job_id)
            return state in TERMINAL_JOB_STATES

        self._poll(read)
        return state

    # -- the scripts -----------------------------------------------------------------------------------------
    def run_step(self, step: Step) -> list[Row]:
        if step.name == "replication_status":
            rows = self._replication_status()
        else:
            looked_up: set[tuple[str, str]] = set()
            rows = []
            for machine in self.machines:
                row = Row(machine.name, machine.protected_item_name)
                try:
                    self._row(step, machine, row, looked_up)
                except (AzureError, _RowError, ValueError) as error:  # ValueError: an input the row lacks
                    code = _error_code(error) if isinstance(error, AzureError) else type(error).__name__
                    row.result = "Exception"
                    row.message = f"{EXCEPTION_MARK}: {code}: {error}".splitlines()[0][:500]
                rows.append(row)
        self._write_csv(step, rows)
        return rows

    def _row(self, step: Step, machine: Machine, row: Row, looked_up: set[tuple[str, str]]) -> None:
        scenario = scenario_for(machine)
        ops = self.client.replication_protected_items
        item_address = scenario.protected_item(machine)
        args = self._item_args(item_address)
        item = self._find_item(machine, looked_up, row)
        if step.name == "start_replication":
            if item is not None:
                row.result = "AlreadyProtected"
                return
            mapping = machine.replication.container_mapping
            if mapping:  # the script resolves the policy mapping (and storage, network, process server) first
                _get(
                    self.client.replication_protection_container_mappings.get,
                    machine.vault.resource_group,
                    machine.vault.name,
                    machine.asr.fabric,
                    machine.asr.protection_container,
                    mapping,
                )
            row.job_id = self._start(machine, ops.begin_create, *args, scenario.enable_protection(machine))
            row.job_state = self._job_state(machine, row.job_id)  # the script's spin while the job is NotStarted
            row.result = "Started"
            return
        if item is None:
            row.result = "NotProtected"
            return
        view = scenario.read_protected_item(item)
        allowed = ", ".join(sorted(view.allowed_operations)) or "none"
        if step.name == "complete_migration":
            self._complete_migration(machine, row, view.allows(Operation.COMMIT), view.can_disable_protection, allowed)
            return
        starts: dict[str, tuple[Operation, Callable[..., Any], Callable[[Machine], Json]]] = {
            "test_failover": (Operation.TEST_FAILOVER, ops.begin_test_failover, scenario.test_failover),
            "cleanup_test_failover": (
                Operation.TEST_FAILOVER_CLEANUP,
                ops.begin_test_failover_cleanup,
                scenario.test_failover_cleanup,
            ),
            "failover": (Operation.UNPLANNED_FAILOVER, ops.begin_unplanned_failover, scenario.unplanned_failover),
        }
        operation, begin, body = starts[step.name]
        if not view.allows(operation):
            row.result = "NotAllowed"
            row.message = f"{operation.value} not allowed (allowed: {allowed})"
            return
        row.job_id = self._start(machine, begin, *args, body(machine))
        row.job_state = self._follow(machine, row.job_id)
        row.result = row.job_state

    def _complete_migration(self, machine: Machine, row: Row, commit: bool, disable: bool, allowed: str) -> None:
        """Commit (and follow it), then disable replication: both decided on the one read made before commit."""
        scenario = scenario_for(machine)
        ops = self.client.replication_protected_items
        args = self._item_args(scenario.protected_item(machine))
        notes = []
        if commit:
            row.job_id = self._start(machine, ops.begin_failover_commit, *args)
            row.job_state = self._follow(machine, row.job_id)
            if row.job_state != "Succeeded":
                raise _RowError(f"the commit job ended {row.job_state}; replication is not disabled")
        else:
            notes.append(f"Commit not allowed (allowed: {allowed})")
        if disable:
            body = scenario.disable_protection(machine, reason=DisableReason.MIGRATION_COMPLETE)
            row.disable_job_id = self._start(machine, ops.begin_delete, *args, body)
            row.disable_job_state = self._follow(machine, row.disable_job_id)
        else:
            notes.append(f"DisableProtection not allowed (allowed: {allowed})")
        row.message = "; ".join(notes)
        if row.disable_job_state:
            row.result = row.disable_job_state
        else:
            row.result = "NotAllowed"

    def _status_result(self, item: Any, row: Row) -> tuple[str, bool]:
        """The status script's word for one row's item, and whether the row is done waiting: Protected, or never
        to become so."""
        if item is None:
            return "NotProtected", True
        if row.protection_state.lower() == "protected":
            return "Protected", True
        if row.protection_description.lower() == "enable protection failed":
            return "EnableFailed", True
        return "Replicating", False

    def _replication_status(self) -> list[Row]:
        """The status script, re-run every interval until every row is done waiting (``_status_result``)."""
        started = self._now()
        rows: list[Row] = []

        def one_run() -> bool:
            nonlocal rows
            looked_up: set[tuple[str, str]] = set()
            rows = []
            settled = True
            for machine in self.machines:
                row = Row(machine.name, machine.protected_item_name)
                try:
                    item = self._find_item(machine, looked_up, row)
                except (AzureError, _RowError) as error:
                    code = _error_code(error) if isinstance(error, AzureError) else type(error).__name__
                    row.result, row.message = "Exception", f"{EXCEPTION_MARK}: {code}"
                    rows.append(row)
                    continue
                row.result, done = self._status_result(item, row)
                settled = settled and done
                rows.append(row)
            return settled or self._now() - started >= self.max_wait_seconds

        self._poll(one_run)
        return rows

    def _write_csv(self, step: Step, rows: list[Row]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
        path = self.out_dir / f"out.{step.script}.{self.input_name}.{stamp}.csv"
        serial = 1
        while path.exists():
            serial += 1
            path = self.out_dir / f"out.{step.script}.{self.input_name}.{stamp}-{serial}.csv"
        partial = path.with_suffix(".partial")
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(asdict(row) for row in rows)
        partial.replace(path)
        self.csv_files.append(path)


# -- running it --------------------------------------------------------------------------------------------------


def parse_machines(
    machines: Sequence[Json | Machine], subscription_id: str, resource_group: str, vault: str
) -> list[Machine]:
    parsed = [m if isinstance(m, Machine) else Machine.model_validate(m) for m in machines]
    for machine in parsed:
        ref = machine.vault
        if (ref.subscription_id.lower(), ref.resource_group.lower(), ref.name.lower()) != (
            subscription_id.lower(),
            resource_group.lower(),
            vault.lower(),
        ):
            raise ValueError(f"{machine.name}: its plan names vault {ref.id}, not {vault} in {resource_group}")
    return parsed


def run_baseline(
    base_url: str,
    subscription_id: str,
    resource_group: str,
    vault: str,
    machines: Sequence[Json | Machine],
    *,
    speed: float,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    out_dir: Path,
    input_name: str = "input",
    steps: Sequence[str] | None = None,
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
    handle: EmulatorHandle | None = None,
    script_set: tuple[type[Operator], Sequence[Step]] | None = None,
) -> BaselineResult:
    """Run the scripts' steps (all of them, or ``steps`` by name) over ``machines`` (plan JSON) in order.

    ``speed``: the emulator's simulated seconds per wall second (0: frozen; the runner moves the clock).
    ``handle``: the emulator in this process, to count ARM requests per machine from its call log.
    ``script_set``: another set of scripts, its operator and its steps (``bench.agentless_baseline``'s); by default
    the Site Recovery ones.
    """
    parsed = parse_machines(machines, subscription_id, resource_group, vault)
    operator_type, all_steps = script_set or (Operator, STEPS)
    by_name = {step.name: step for step in all_steps}
    chosen = [by_name[name] for name in steps] if steps is not None else list(all_steps)
    client = emulator_client(base_url, subscription_id)
    operator = operator_type(
        client,
        parsed,
        base_url=base_url,
        speed=speed,
        poll_seconds=poll_seconds,
        out_dir=out_dir,
        input_name=input_name,
        max_wait_seconds=max_wait_seconds,
    )
    sim_start, wall_start = emulator_seconds(base_url), time.monotonic()
    by_step: dict[str, list[Json]] = {}
    try:
        for step in chosen:
            by_step[step.name] = [asdict(row) for row in operator.run_step(step)]
    finally:
        client.close()
    sim_end, wall_end = emulator_seconds(base_url), time.monotonic()
    items = [m.protected_item_name for m in parsed]
    result = BaselineResult(
        machines=[m.name for m in parsed],
        items=items,
        steps=by_step,
        csv_files=[str(path) for path in operator.csv_files],
        sim_seconds=sim_end - sim_start,
        wall_seconds=wall_end - wall_start,
        polls=operator.polls,
        late_polls=operator.late_polls,
    )
    if handle is not None:
        per_machine, operations = machine_requests(handle, items)
        result.requests_per_machine = per_machine
        result.by_operation = dict(operations)
    return result


def run_baseline_on(
    handle: EmulatorHandle, machines: Sequence[Json | Machine], *, speed: float, **options: Any
) -> BaselineResult:
    """:func:`run_baseline` against an emulator in this process (its vault, and its call log for the counts)."""
    return run_baseline(
        handle.base_url,
        handle.subscription_id,
        handle.resource_group,
        handle.vault_name,
        machines,
        speed=speed,
        handle=handle,
        **options,
    )


def start_baseline_process(
    base_url: str,
    subscription_id: str,
    resource_group: str,
    vault: str,
    machines: Sequence[Json],
    *,
    speed: float,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    out_dir: Path,
) -> subprocess.Popen[bytes]:
    """The baseline in a child process (``python -m bench.baseline_scripts --child``), to be killed mid-run.

    Its inputs go to ``out_dir/baseline-input.json``, its stderr to ``baseline-stderr.txt``; on a clean end it writes
    ``out_dir/baseline-result.json``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "baseUrl": base_url,
        "subscriptionId": subscription_id,
        "resourceGroup": resource_group,
        "vault": vault,
        "machines": list(machines),
        "speed": speed,
        "pollSeconds": poll_seconds,
        "outDir": str(out_dir),
    }
    path = out_dir / CHILD_INPUT
    path.write_text(json.dumps(spec), encoding="utf-8")
    with (out_dir / CHILD_STDERR).open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.baseline_scripts", "--child", str(path)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def kill_baseline(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child: no handler runs, nothing is flushed, as when a console or its machine goes away."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


def _run_child(path: Path) -> int:
    spec = json.loads(path.read_text(encoding="utf-8"))
    out_dir = Path(spec["outDir"])
    result = run_baseline(
        spec["baseUrl"],
        spec["subscriptionId"],
        spec["resourceGroup"],
        spec["vault"],
        spec["machines"],
        speed=float(spec["speed"]),
        poll_seconds=float(spec["pollSeconds"]),
        out_dir=out_dir,
    )
    (out_dir / CHILD_RESULT).write_text(json.dumps(result.to_dict()), encoding="utf-8")
    return 0


# -- standalone --------------------------------------------------------------------------------------------------


def _accepted_mutations(handle: EmulatorHandle, items: set[str]) -> int:
    return sum(
        1
        for call in handle.calls.calls()
        if call.operation in MUTATING_OPERATIONS and call.status < 300 and (call.item or "").lower() in items
    )


def kill_mid_run(
    handle: EmulatorHandle,
    machines: list[Json],
    out_dir: Path,
    *,
    speed: float,
    poll_seconds: float,
    kill_at: float | None,
    kill_after_operations: int | None,
) -> tuple[bool, float]:
    """Start the baseline as a child, SIGKILL it at the moment asked; (killed, simulated seconds it ran)."""
    items = {Machine.model_validate(m).protected_item_name.lower() for m in machines}
    before = len(handle.calls.calls())
    process = start_baseline_process(
        handle.base_url,
        handle.subscription_id,
        handle.resource_group,
        handle.vault_name,
        machines,
        speed=speed,
        poll_seconds=poll_seconds,
        out_dir=out_dir,
    )
    start: float | None = None  # the run starts with its first request, not with the interpreter
    try:
        while process.poll() is None:
            if start is None and len(handle.calls.calls()) > before:
                start = handle.clock.seconds()
            if kill_at is not None and start is not None and handle.clock.seconds() - start >= kill_at:
                break
            if kill_after_operations is not None and _accepted_mutations(handle, items) >= kill_after_operations:
                break
            time.sleep(0.005)
        killed = process.poll() is None
    finally:
        kill_baseline(process)
    return killed, 0.0 if start is None else handle.clock.seconds() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline_scripts", description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=20)
    parser.add_argument("--hours", type=float, default=6.0, help="simulated initial replication time")
    parser.add_argument(
        "--speed", type=float, default=0.0, help="simulated seconds per wall second (0: the runner moves the clock)"
    )
    parser.add_argument("--poll-seconds", type=float, default=DEFAULT_POLL_SECONDS)
    kill = parser.add_mutually_exclusive_group()
    kill.add_argument("--kill-at", type=float, default=None, help="SIGKILL after this many simulated seconds")
    kill.add_argument(
        "--kill-seed",
        type=int,
        default=None,
        help="SIGKILL at a seeded random moment: right after ASR accepts the k-th operation, k in 1..6*machines",
    )
    parser.add_argument("--out", type=Path, default=None, help="keep the output CSVs in this folder")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return _run_child(args.child)

    topology = fleet_topology(args.machines, disks_gb=[DISK_GB], bandwidth_mbps=bandwidth_for(args.hours))
    machines = [fleet_machine(index) for index in range(args.machines)]
    items = [Machine.model_validate(m).protected_item_name for m in machines]
    print(
        f"baseline (migrate-at-scale scripts, re-enacted): {args.machines} machines, initial replication "
        f"~{args.hours:g} h simulated, poll every {args.poll_seconds:g} s, "
        + (f"speed x{args.speed:g}" if args.speed else "frozen clock moved by the runner")
    )
    with tempfile.TemporaryDirectory() as scratch, start_emulator(topology, speed=args.speed) as asr:
        out_dir = args.out or Path(scratch)
        if args.kill_at is None and args.kill_seed is None:
            result = run_baseline_on(asr, machines, speed=args.speed, poll_seconds=args.poll_seconds, out_dir=out_dir)
            requests = result.requests_per_machine or [0]
            print(f"  migrated: {len(result.migrated)}/{args.machines}")
            print(
                f"  ARM requests per machine: mean {result.mean_requests:.1f}  max {result.max_requests}  "
                f"min {min(requests)}   (the product's target: <= 60)"
            )
            print(f"  simulated duration: {result.sim_hours:.2f} h   wall: {result.wall_seconds:.1f} s")
            print(f"  polling rounds: {result.polls} ({result.late_polls} started later than the interval)")
            print("  by operation (mean per machine):")
            for operation, count in sorted(result.by_operation.items(), key=lambda pair: -pair[1]):
                print(f"    {operation:48s} {count / args.machines:7.1f}")
            return 0 if len(result.migrated) == args.machines else 1
        after = None
        if args.kill_seed is not None:
            after = random.Random(args.kill_seed).randint(1, 6 * args.machines)
        killed, ran = kill_mid_run(
            asr,
            machines,
            out_dir,
            speed=args.speed,
            poll_seconds=args.poll_seconds,
            kill_at=args.kill_at,
            kill_after_operations=after,
        )
        moment = f"after operation {after}" if after is not None else f"at {args.kill_at:g} s"
        print(f"  SIGKILL {moment}: {'killed' if killed else 'it had already finished'} after {ran / 3600:.2f} h")
        per_machine, _ = machine_requests(asr, items)
        print(
            f"  ARM requests per machine until then: mean {statistics.fmean(per_machine):.1f}  max {max(per_machine)}"
        )
        from bench.baseline_loss import assess_loss  # it builds on this module

        loss = assess_loss(asr, machines, out_dir, speed=args.speed, poll_seconds=args.poll_seconds)
        print("  " + loss.describe().replace("\n", "\n  "))
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
