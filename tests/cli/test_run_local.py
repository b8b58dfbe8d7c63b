"""``run`` with no endpoint: the stand-ins start, the wave runs to the end, reports are written, nothing is left."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

import pytest

from tests.cli.conftest import FinishedRun
from tests.cli.helpers import port_closed

pytestmark = pytest.mark.slow
MACHINES = ["db01", "hv-file01", "app01", "web01", "aws-web01", "vmw-agentless01"]


def test_the_mixed_wave_migrates_every_machine(finished_run: FinishedRun) -> None:
    result = finished_run.result
    assert result.code == 0, result.text
    assert "Traceback" not in result.text
    for machine in MACHINES:
        assert re.search(rf"{machine} \[\w+\] → migrated", result.out), (machine, result.out)
    assert "Sent approve." in result.out
    assert "wave-2026-12: Migrated" in result.out


def test_the_stand_ins_are_stopped_afterwards(finished_run: FinishedRun) -> None:
    match = re.search(r"local app at (http://127\.0\.0\.1:\d+)", finished_run.result.out)
    assert match, finished_run.result.out
    assert port_closed(match.group(1)), "the Functions host still listens"
    logs = sorted(p.name for p in finished_run.data.glob("run-*/*.log"))
    assert logs == ["functions-host.log", "service-bus.log", "site-recovery.log"]


def test_the_json_and_csv_reports_have_a_row_per_machine(finished_run: FinishedRun) -> None:
    report = json.loads(finished_run.reports["json"].read_text(encoding="utf-8"))
    assert report["status"] == "Migrated"
    rows = report.get("rows") or list((report.get("machines") or {}).values())
    assert sorted(r.get("machine") for r in rows) == sorted(MACHINES)
    table = list(csv.DictReader(io.StringIO(finished_run.reports["csv"].read_text(encoding="utf-8"))))
    assert [row["machine"] for row in table] == [r.get("machine") for r in rows]
    assert {row["outcome"].lower() for row in table} == {"migrated"}
    assert all(row["downtimeSeconds"] for row in table)


def test_the_html_report_is_self_contained_with_a_row_per_machine(finished_run: FinishedRun) -> None:
    page = finished_run.reports["html"].read_text(encoding="utf-8")
    assert (
        "<script src" not in page
        and "<link" not in page
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert page.count('class="machine-row"') == len(MACHINES)
    assert page.count('class="downtime"') == len(MACHINES)
    for group in ("group 1: data", "group 2: app", "group 3: web"):
        assert group in page


def test_the_reports_tell_time_on_the_migrations_clock(finished_run: FinishedRun) -> None:
    """Stage times, the axis and the durations share one clock: the wave's hours, not its wall seconds."""
    report = json.loads(finished_run.reports["json"].read_text(encoding="utf-8"))
    assert report["clock"]["simulated"] is True and report["clock"]["speed"] > 1
    row = report["rows"][0]
    started = datetime.fromisoformat(row["validateStartedAt"])
    ended = datetime.fromisoformat(row["completeMigrationEndedAt"])
    assert ended - started > timedelta(hours=1), "a replication of hours shows as hours"
    down_started = datetime.fromisoformat(row["downtimeStartedAt"])
    down_ended = datetime.fromisoformat(row["downtimeEndedAt"])
    measured = (down_ended - down_started).total_seconds()
    assert abs(measured - float(row["downtimeSeconds"])) <= max(5.0, 0.05 * measured), (measured, row)
    page = finished_run.reports["html"].read_text(encoding="utf-8")
    assert "simulated clock" in page
    ticks = re.findall(r'<text class="axis"[^>]*>([^<]+)</text>', page)
    hours = {tick.split(":")[0] for tick in ticks}
    assert len(hours) > 1, f"the axis spans hours, not seconds: {ticks}"
