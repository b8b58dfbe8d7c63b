"""What a killed baseline lost: ASR's state against what the at-scale scripts had written to disk.

``bench.baseline_scripts`` keeps its progress in memory and writes a step's CSV only when the step has finished
every row, as the scripts do. Killed mid-step, it leaves ASR operations running or done that no file names.
:func:`assess_loss` reads the emulator's items and jobs (``handle.store``) and the CSVs, and says: the step it died
in, the machines whose started operation has its job id on no CSV, the machines left mid-operation, the rows the
step never reached; then it re-runs that step over every row as an operator would (the scripts offer nothing
else), and counts what that costs and what it refuses.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.baseline_scripts import (
    DEFAULT_MAX_WAIT_SECONDS,
    DEFAULT_POLL_SECONDS,
    JOB_COLUMNS,
    STEP_BY_NAME,
    STEPS,
    Operator,
    Step,
    job_name,
    parse_machines,
)
from emulators.siterecovery import EmulatorHandle
from emulators.siterecovery.client import emulator_client
from emulators.siterecovery.state import Phase
from migration.machine import Machine
from migration.scenarios import scenario_for

Json = dict[str, Any]


@dataclass
class Rerun:
    """An operator re-running the step the baseline died in, over every row, as the scripts allow."""

    step: str
    started: list[str]  # rows whose operation the re-run started
    skipped: list[str]  # rows the script passes over: already protected (start replication), or no item any more
    refused: dict[str, str]  # row -> why nothing started (the script's allowedOperations check, or ASR's answer)
    asr_refusals: int  # 400/409 answers from ASR during the re-run (OperationNotAllowed, OperationInProgress, …)
    requests: int  # ARM requests the re-run made
    extra_requests: int  # of those, the ones on refused rows: spent only to be told no
    still_unrecorded: list[str]  # machines whose earlier job id is still in no CSV afterwards
    left_undone: dict[str, str]  # machine -> what is still half-done after the re-run (a job running, no disable)


@dataclass
class BaselineLoss:
    """What a killed baseline lost: ASR state versus what its CSVs on disk say."""

    step: str | None  # the step it died in (None: every step had written its CSV)
    completed_steps: list[str]
    unrecorded: dict[str, list[str]]  # machine -> ASR jobs (scenario names) that ran on it, whose id no CSV holds
    mid_operation: dict[str, str]  # machine -> what was left half-done when assessed
    not_reached: list[str]  # rows on which the dying step started nothing
    rerun: Rerun | None = None

    @property
    def unrecorded_count(self) -> int:
        return len(self.unrecorded)

    @property
    def mid_operation_count(self) -> int:
        return len(self.mid_operation)

    def describe(self) -> str:
        if self.step is None:
            return "the baseline finished every step: nothing lost"
        script = STEP_BY_NAME[self.step].script
        lines = [f"died in step {self.step} ({script}) after {len(self.completed_steps)} completed step(s)"]
        jobs = {m: "+".join(scenarios) for m, scenarios in self.unrecorded.items()}
        lines.append(f"  ASR operation started, job id on no CSV: {self.unrecorded_count} machine(s): {_grouped(jobs)}")
        lines.append(f"  left mid-operation: {self.mid_operation_count} machine(s): {_grouped(self.mid_operation)}")
        lines.append(f"  not reached by the step: {len(self.not_reached)}: {_names(self.not_reached)}")
        if self.rerun is not None:
            rerun = self.rerun
            lines.append(
                f"  re-running {rerun.step} over every row: {len(rerun.started)} started, {len(rerun.skipped)} "
                f"passed over (already protected, or no item), {len(rerun.refused)} refused: {_grouped(rerun.refused)}"
            )
            lines.append(
                f"    {rerun.asr_refusals} refusal(s) from ASR (400/409), {rerun.requests} ARM requests "
                f"({rerun.extra_requests} on refused rows); job ids still on no CSV: {len(rerun.still_unrecorded)}"
            )
            lines.append(f"    still half-done afterwards: {len(rerun.left_undone)}: {_grouped(rerun.left_undone)}")
        return "\n".join(lines)


def _names(names: Sequence[str], shown: int = 5) -> str:
    listed = ", ".join(sorted(names)[:shown]) or "-"
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _grouped(reasons: dict[str, str]) -> str:
    """``{machine: reason}`` as ``reason: vm00, vm01; other reason: vm02`` (a few names per reason)."""
    by_reason: dict[str, list[str]] = {}
    for machine, reason in reasons.items():
        by_reason.setdefault(reason, []).append(machine)
    return "; ".join(f"{reason}: {_names(machines)}" for reason, machines in sorted(by_reason.items())) or "-"


def _csv_files(out_dir: Path, step: Step) -> list[Path]:
    return sorted(out_dir.glob(f"out.{step.script}.*.csv"))


def _recorded_jobs(out_dir: Path) -> set[str]:
    names: set[str] = set()
    for path in out_dir.glob("out.*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                names.update(job_name(row[column]) for column in JOB_COLUMNS if row.get(column))
    return names


def _asr_jobs(handle: EmulatorHandle, machines: Sequence[Machine]) -> dict[str, list[tuple[str, str, bool]]]:
    """Per machine, the jobs ASR ran on its item: (job name, scenario, still running), oldest first."""
    ids = {scenario_for(m).protected_item(m).id.lower(): m.name for m in machines}
    found: dict[str, list[tuple[float, str, str, bool]]] = {m.name: [] for m in machines}
    with handle.store.lock:
        handle.store.settle()
        for vault in handle.store.vaults.values():
            for job in vault.jobs.values():
                owner = ids.get(job.resource_id.lower())
                if owner is not None:
                    found[owner].append((job.start, job.name.lower(), job.scenario, job.settled == "InProgress"))
    return {name: [(j, s, running) for _, j, s, running in sorted(jobs)] for name, jobs in found.items()}


def _committed_not_disabled(handle: EmulatorHandle, machine: Machine) -> bool:
    item_id = scenario_for(machine).protected_item(machine).id.lower()
    with handle.store.lock:
        for vault in handle.store.vaults.values():
            item = vault.items.get(item_id)
            if item is not None and item.phase is Phase.COMMITTED and not item.busy():
                return True
    return False


def _undone(
    handle: EmulatorHandle, machines: Sequence[Machine], jobs: dict[str, list[tuple[str, str, bool]]]
) -> dict[str, str]:
    """Machines left half-way: a job still running on the item, or a commit that no disable followed."""
    undone: dict[str, str] = {}
    for machine in machines:
        running = [scenario for _, scenario, busy in jobs[machine.name] if busy]
        if running:
            undone[machine.name] = f"{running[-1]} job running"
        elif _committed_not_disabled(handle, machine):
            undone[machine.name] = "committed, replication not disabled"
    return undone


def assess_loss(
    handle: EmulatorHandle,
    machines: Sequence[Json | Machine],
    out_dir: Path,
    *,
    speed: float,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    rerun: bool = True,
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
) -> BaselineLoss:
    """After a kill: what ASR did that the baseline's CSVs do not know, and what re-running the step does.

    Reads the emulator's items and jobs through ``handle.store``; the CSVs from ``out_dir``. With ``rerun``, runs
    the step it died in once more over every row (in the order of its last CSV), as an operator would, and
    counts refusals and requests from the emulator's call log.
    """
    parsed = parse_machines(machines, handle.subscription_id, handle.resource_group, handle.vault_name)
    completed = [step.name for step in STEPS if _csv_files(out_dir, step)]
    dying = next((step for step in STEPS if step.name not in completed), None)
    recorded = _recorded_jobs(out_dir)
    jobs = _asr_jobs(handle, parsed)
    unrecorded: dict[str, list[str]] = {}
    not_reached: list[str] = []
    for machine in parsed:
        lost = [scenario for name, scenario, _ in jobs[machine.name] if name not in recorded]
        if lost:
            unrecorded[machine.name] = lost
        if dying is not None and dying.scenarios:
            if not any(
                scenario in dying.scenarios and name not in recorded for name, scenario, _ in jobs[machine.name]
            ):
                not_reached.append(machine.name)
    mid = _undone(handle, parsed, jobs)
    loss = BaselineLoss(dying.name if dying else None, completed, unrecorded, mid, not_reached)
    if rerun and dying is not None:
        loss.rerun = _rerun(handle, parsed, out_dir, dying, speed, poll_seconds, max_wait_seconds, unrecorded)
    return loss


def _row_order(out_dir: Path, machines: list[Machine]) -> list[Machine]:
    """The rows an operator feeds the step again: those of the last CSV written, else every machine."""
    written = sorted(out_dir.glob("out.*.csv"), key=lambda path: path.stat().st_mtime)
    if not written:
        return machines
    with written[-1].open(newline="", encoding="utf-8") as handle:
        names = [row["machine"] for row in csv.DictReader(handle)]
    by_name = {m.name: m for m in machines}
    return [by_name[name] for name in names if name in by_name] or machines


def _rerun(
    handle: EmulatorHandle,
    machines: list[Machine],
    out_dir: Path,
    step: Step,
    speed: float,
    poll_seconds: float,
    max_wait_seconds: float,
    unrecorded: dict[str, list[str]],
) -> Rerun:
    before = len(handle.calls.calls())
    client = emulator_client(handle.base_url, handle.subscription_id)
    operator = Operator(
        client,
        _row_order(out_dir, machines),
        base_url=handle.base_url,
        speed=speed,
        poll_seconds=poll_seconds,
        out_dir=out_dir,
        input_name="rerun",
        max_wait_seconds=max_wait_seconds,
    )
    try:
        rows = operator.run_step(step)
    finally:
        client.close()
    calls = handle.calls.calls()[before:]
    started = [row.machine for row in rows if row.job_id or row.disable_job_id]
    refused = {
        row.machine: row.message or row.result
        for row in rows
        if not (row.job_id or row.disable_job_id) and row.result in ("NotAllowed", "Exception")
    }
    items = {m.name: m.protected_item_name.lower() for m in machines}
    refused_items = {items[name]: name for name in refused}
    recorded = _recorded_jobs(out_dir)
    jobs = _asr_jobs(handle, machines)
    still = sorted(name for name in unrecorded if any(job not in recorded for job, _, _ in jobs[name]))
    return Rerun(
        step=step.name,
        started=started,
        skipped=[row.machine for row in rows if row.result in ("AlreadyProtected", "NotProtected")],
        refused=refused,
        asr_refusals=sum(1 for call in calls if call.status in (400, 409)),
        requests=len(calls),
        extra_requests=sum(1 for call in calls if call.item is not None and refused_items.get(call.item.lower())),
        still_unrecorded=still,
        left_undone=_undone(handle, machines, jobs),
    )
