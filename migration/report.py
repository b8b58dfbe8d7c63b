"""The migration report: one row per machine with its stage timestamps, ASR job ids, recovery point, downtime, error.

Change boards and auditors ask for a spreadsheet, so the same rows come as JSON (``rows``) or as CSV with fixed
columns. The rows come from the machines' result records (the wave's output once it ended; the runbooks' outputs
for machines that finished a phase while the wave still runs), so a report taken mid-wave shows what is known.
Every cell is redacted (``migration.errors.redact``), and CSV cells that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``) are quoted with a leading apostrophe.

Every time in the report is on the migration's clock (``migration.plan_clock``), the clock its durations are
measured on: the orchestrations record wall time, and against the local stand-ins, where simulated hours pass in
wall seconds, a wall-clock axis would show a night's migration as a few seconds. ``clock`` says which it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from migration.api_machine import machine_records
from migration.api_status import decode, obj, status_document
from migration.errors import redact_all
from migration.json_types import Json
from migration.plan_clock import PlanClock
from migration.stages import FULL_RUNBOOK

__all__ = ["COLUMNS", "build_report", "checks_cell", "migration_report", "report_clock", "report_csv", "report_row"]

_STAGE_COLUMNS = [f"{stage.value}{edge}" for stage in FULL_RUNBOOK for edge in ("StartedAt", "EndedAt")]
COLUMNS = [
    "migrationId",
    "machine",
    "group",
    "sourceKind",
    "provider",
    "outcome",
    "stage",
    *_STAGE_COLUMNS,
    "jobIds",
    "recoveryPointId",
    "downtimeStartedAt",
    "downtimeEndedAt",
    "downtimeSeconds",
    "targetVmName",
    "testVmChecks",
    "migratedVmChecks",
    "errorStage",
    "errorCode",
    "errorMessage",
    "errorJobId",
]
_TIME_COLUMNS = (*_STAGE_COLUMNS, "downtimeStartedAt", "downtimeEndedAt")


def report_clock(wave: Mapping[str, Any]) -> PlanClock | None:
    """The plan clock the wave ran on, from its input (None for a wave started without one)."""
    clock = obj(obj(decode(wave.get("input"))).get("clock"))
    try:
        return PlanClock.from_dict(clock) if clock else None
    except (KeyError, TypeError, ValueError):
        return None


def _on_clock(value: Any, clock: PlanClock | None) -> Any:
    """A wall-clock ISO time as the plan clock shows it; anything else unchanged."""
    if clock is None or not isinstance(value, str) or not value:
        return value
    try:
        wall = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return clock.plan_time(wall).isoformat() if wall.tzinfo else value


def report_row(migration_id: str, machine: str, group: str, record: Mapping[str, Any] | None) -> Json:
    """One machine's row; empty cells (None) for what the record does not know yet."""
    record = record or {}
    row: Json = {column: None for column in COLUMNS}
    row.update(migrationId=migration_id, machine=machine, group=group)
    row["sourceKind"] = record.get("sourceKind")
    row["provider"] = record.get("provider")
    row["outcome"] = record.get("outcome")
    row["stage"] = record.get("stage")
    stages = obj(record.get("stages"))
    for stage in FULL_RUNBOOK:
        entry = obj(stages.get(stage.value))
        row[f"{stage.value}StartedAt"] = entry.get("startedAt")
        row[f"{stage.value}EndedAt"] = entry.get("endedAt")
    jobs_value = record.get("jobs")
    jobs: list[Any] = jobs_value if isinstance(jobs_value, list) else []
    row["jobIds"] = " ".join(str(job) for job in jobs) or None
    row["recoveryPointId"] = record.get("recoveryPointId")
    downtime = obj(record.get("downtime"))
    row["downtimeStartedAt"] = downtime.get("startedAt")
    row["downtimeEndedAt"] = downtime.get("endedAt")
    row["downtimeSeconds"] = downtime.get("seconds")
    target = obj(record.get("target"))
    row["targetVmName"] = target.get("vmName")
    checks = obj(record.get("checks"))
    row["testVmChecks"] = checks_cell(obj(checks.get("testVm")))
    row["migratedVmChecks"] = checks_cell(obj(checks.get("migratedVm")))
    row["checks"] = {phase: _check_lines(obj(report)) for phase, report in checks.items() if obj(report)}
    error = obj(record.get("error"))
    row["errorStage"] = error.get("stage")
    row["errorCode"] = error.get("code")
    row["errorMessage"] = error.get("message")
    row["errorJobId"] = error.get("jobId")
    cleaned: Json = redact_all(row)
    return cleaned


def checks_cell(report: Mapping[str, Any]) -> str | None:
    """A VM's checks in one cell: ``passed (4 checks)``, or ``failed: web-answers: exit code 7, expected 0``."""
    if not report:
        return None
    results = [obj(result) for result in report.get("checks") or []]
    if report.get("outcome") != "failed":
        return f"passed ({len(results)} checks)"
    failed = next((result for result in results if result.get("outcome") == "failed"), {})
    return f"failed: {failed.get('name')}: {failed.get('detail')}" if failed else "failed"


def _check_lines(report: Mapping[str, Any]) -> Json:
    """A VM's checks as the JSON report (and the HTML page) shows them: each check's outcome, detail and output."""
    keep = ("name", "kind", "outcome", "detail", "exitCode", "output", "errorOutput")
    return {
        "vm": report.get("vm"),
        "outcome": report.get("outcome"),
        "checks": [
            {k: obj(c).get(k) for k in keep if obj(c).get(k) not in (None, "")} for c in report.get("checks") or []
        ],
    }


def build_report(
    status: Mapping[str, Any], records: Mapping[str, Mapping[str, Any] | None], clock: PlanClock | None = None
) -> Json:
    """The JSON report: the status document's summary plus one row per machine (in plan order), every time on
    ``clock`` (the wave's plan clock; wall time when None)."""
    rows = [
        report_row(str(status["id"]), str(machine["name"]), str(machine.get("group")), records.get(machine["name"]))
        for machine in status.get("machines") or []
    ]
    for row, machine in zip(rows, status.get("machines") or [], strict=True):
        if row["outcome"] is None and machine.get("outcome"):
            row["outcome"] = str(machine["outcome"]).lower()
        if row["stage"] is None:
            row["stage"] = machine.get("stage")
        row.update({column: _on_clock(row[column], clock) for column in _TIME_COLUMNS})
    speed = clock.speed if clock else 1.0
    report: Json = {
        "id": status.get("id"),
        "name": status.get("name"),
        "status": status.get("status"),
        "counts": status.get("counts"),
        "createdAt": _on_clock(status.get("createdAt"), clock),
        "startedAt": _on_clock(status.get("startedAt"), clock),
        "endedAt": _on_clock(status.get("endedAt"), clock),
        "clock": {"simulated": speed != 1.0, "speed": speed},
        "columns": COLUMNS,
        "rows": rows,
    }
    return report


def migration_report(wave: Mapping[str, Any], instances: Mapping[str, list[Json]], *, base_url: str) -> Json:
    """``GET /api/migrations/{id}/report``: the report of the wave, from the wave and every machine's instances
    (those of ``migration.api_status.machines_to_read``)."""
    report = build_report(
        status_document(wave, instances, base_url=base_url), machine_records(wave, instances), report_clock(wave)
    )
    output = obj(decode(wave.get("output")))
    if isinstance(output.get("hooks"), dict) and output["hooks"]:
        report["hooks"] = redact_all(output["hooks"])  # each group's hooks, once the wave has ended
    return report


def csv_cell(value: Any) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text: a leading ``=``, ``+``, ``-``, ``@``, tab or carriage
    return would make Excel or Sheets run it as a formula (OWASP "CSV Injection"), so it gets a leading quote."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def report_csv(report: Mapping[str, Any]) -> str:
    """The report's rows as CSV (RFC 4180, header row, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in report.get("rows") or []:
        writer.writerow([csv_cell(row.get(column)) for column in COLUMNS])
    return buffer.getvalue()
