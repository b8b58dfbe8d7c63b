"""A migration's report as a file: JSON (everything), CSV (one row per machine) or HTML (a timeline to look at).

The report document comes from the app (``GET /api/migrations/{id}/report`` or the wave's output); this module
only normalises its machine records and writes them. The format follows the file name (``.json``, ``.csv``,
``.html``) unless one is given, so ``--report reports/wave.html`` does what it says.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from cli.errors import CliError
from migration.json_types import Json
from migration.report import csv_cell
from migration.stages import FULL_RUNBOOK

__all__ = ["FORMATS", "format_for", "machine_records", "to_csv", "write_report"]

FORMATS = ("json", "csv", "html")
STAGES = [stage.value for stage in FULL_RUNBOOK]


def format_for(path: Path, wanted: str | None = None) -> str:
    if wanted:
        return wanted
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("htm", "html"):
        return "html"
    if suffix in FORMATS:
        return suffix
    raise CliError(f"Cannot tell the report format from {path.name}: name it .json, .csv or .html, or pass --format.")


def _from_row(row: Json) -> Json:
    """A machine record from one of the app report's flat rows (``{stage}StartedAt``, ``downtimeSeconds``…)."""
    stages = {
        stage: {"startedAt": row.get(f"{stage}StartedAt"), "endedAt": row.get(f"{stage}EndedAt")}
        for stage in STAGES
        if row.get(f"{stage}StartedAt")
    }
    error = {k: row.get(f"error{k.title()}") for k in ("stage", "code", "message")} if row.get("errorCode") else None
    downtime = None
    if row.get("downtimeStartedAt"):
        downtime = {
            "startedAt": row.get("downtimeStartedAt"),
            "endedAt": row.get("downtimeEndedAt"),
            "seconds": row.get("downtimeSeconds"),
        }
    jobs = row.get("jobIds")
    return {
        **row,
        "name": row.get("machine"),
        "stages": stages,
        "error": error,
        "downtime": downtime,
        "jobs": jobs.split() if isinstance(jobs, str) else jobs or [],
    }


def machine_records(report: Json) -> list[Json]:
    """The report's machines as records with ``name``, ``group``, ``outcome`` (lower case) and ``stages``.

    Accepts the app's report (flat ``rows``) and a wave's output (``machines``, a mapping or a list of runbook
    records), so a report reads the same whichever way it was obtained.
    """
    if isinstance(report.get("rows"), list):
        items = [_from_row(row) for row in report["rows"] if isinstance(row, dict)]
    else:
        raw = report.get("machines") or []
        items = list(raw.values()) if isinstance(raw, dict) else list(raw)
    records = []
    for item in items:
        if not isinstance(item, dict):
            continue
        record = dict(item)
        record["name"] = record.get("name") or record.get("machine")
        record["stages"] = record.get("stages") if isinstance(record.get("stages"), dict) else {}
        record["outcome"] = str(record["outcome"]).lower() if record.get("outcome") else None
        records.append(record)
    return records


def to_csv(report: Json) -> str:
    """One row per machine: outcome, group, each stage's start and end, job ids, recovery point, downtime, error.

    The app's report names its columns; they are kept as they are, so a CSV made here matches the route's.
    """
    if isinstance(report.get("columns"), list) and isinstance(report.get("rows"), list):
        out = io.StringIO()
        writer = csv.DictWriter(out, report["columns"], extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(_inert(row) for row in report["rows"] if isinstance(row, dict))
        return out.getvalue()
    columns = ["machine", "group", "sourceKind", "outcome", "stage"]
    for stage in STAGES:
        columns += [f"{stage}.startedAt", f"{stage}.endedAt", f"{stage}.jobId"]
    columns += [
        "recoveryPointId",
        "downtimeStartedAt",
        "downtimeEndedAt",
        "downtimeSeconds",
        "errorCode",
        "errorMessage",
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for record in machine_records(report):
        row: dict[str, Any] = {
            "machine": record["name"],
            "group": record.get("group"),
            "sourceKind": record.get("sourceKind"),
            "outcome": record.get("outcome"),
            "stage": record.get("stage"),
            "recoveryPointId": record.get("recoveryPointId"),
        }
        for stage, times in record["stages"].items():
            if stage in STAGES and isinstance(times, dict):
                for key in ("startedAt", "endedAt", "jobId"):
                    row[f"{stage}.{key}"] = times.get(key)
        downtime = record.get("downtime") or {}
        if isinstance(downtime, dict):
            row.update(
                downtimeStartedAt=downtime.get("startedAt"),
                downtimeEndedAt=downtime.get("endedAt"),
                downtimeSeconds=downtime.get("seconds"),
            )
        error = record.get("error") or {}
        if isinstance(error, dict):
            row.update(errorCode=error.get("code"), errorMessage=error.get("message"))
        writer.writerow(_inert(row))
    return out.getvalue()


def _inert(row: Json) -> dict[str, str]:
    """The row with every cell made spreadsheet-safe by the app's own rule (``migration.report.csv_cell``)."""
    return {key: csv_cell(value) for key, value in row.items()}


def write_report(report: Any, path: Path, wanted: str | None = None) -> Path:
    """Write ``report`` (the JSON document, or CSV text from the app) to ``path`` in the chosen format."""
    fmt = format_for(path, wanted)
    if isinstance(report, str):
        if fmt != "csv":
            raise CliError("The app sent CSV, but a JSON or HTML report was asked for.")
        text = report
    elif not isinstance(report, dict):
        raise CliError("The app's report is not a JSON document; is the endpoint this app?")
    elif fmt == "json":
        text = json.dumps(report, indent=2) + "\n"
    elif fmt == "csv":
        text = to_csv(report)
    else:
        from cli.report_html import render_html

        text = render_html(report)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CliError(f"Cannot write the report to {path}: {error.strerror or error}.") from None
    return path
