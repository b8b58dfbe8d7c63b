"""The live view's two renderings of a status document: the redrawn table and the plain change lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from cli.live_view import change_lines, machine_fraction, render, summary_line

RUNNING: dict[str, Any] = {
    "id": "wave-1",
    "name": "Wave one",
    "status": "Running",
    "phase": "awaitingApproval",
    "counts": {"byOutcome": {}, "byStage": {"cutoverGate": 1, "initialReplication": 1}, "total": 2},
    "gate": {"approvalRequired": True, "approved": False},
    "window": {"notBefore": None, "notAfter": None},
    "hold": None,
    "machines": [
        {"name": "db01", "group": "data", "stage": "cutoverGate", "status": "waiting", "outcome": None},
        {
            "name": "web01",
            "group": "web",
            "stage": "initialReplication",
            "status": "running",
            "outcome": None,
            "progressPercent": 40,
            "eta": "2026-12-05T03:10:00+00:00",
            "jobId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.RecoveryServices/vaults/v"
            "/replicationJobs/j-1",
        },
    ],
}


def test_the_table_shows_each_machine_its_stage_progress_and_eta() -> None:
    console = Console(record=True, width=160)
    console.print(render(RUNNING, now=datetime(2026, 12, 5, 1, 0, tzinfo=UTC)))
    text = console.export_text()
    assert "db01" in text and "cutoverGate" in text
    assert "initialReplication 40%" in text and "in 2h 10m" in text and "j-1" in text
    assert "waiting for approval" in text and "approval pending" in text
    assert "cutoverGate 1, initialReplication 1" in text


def test_progress_counts_finished_stages_and_replication_percent() -> None:
    db01, web01 = RUNNING["machines"]
    assert machine_fraction({"stage": "validate"}) == 0.0
    assert 0 < machine_fraction(web01) < machine_fraction(db01) < 1
    assert machine_fraction({"stage": "completeMigration", "outcome": "Migrated"}) == 1.0


def test_change_lines_report_only_what_changed() -> None:
    first = change_lines(None, RUNNING)
    assert first[-1].startswith("wave: Running · waiting for approval")
    assert change_lines(RUNNING, RUNNING) == []
    later = {**RUNNING, "machines": [{**RUNNING["machines"][0], "stage": "unplannedFailover"}, RUNNING["machines"][1]]}
    assert change_lines(RUNNING, later) == ["  db01 [data] → unplannedFailover"]
    failed = {
        **RUNNING,
        "machines": [
            RUNNING["machines"][0],
            {**RUNNING["machines"][1], "outcome": "Failed", "error": {"code": "28031", "message": "disk"}},
        ],
    }
    assert change_lines(RUNNING, failed) == ["  web01 [web] → failed: 28031 disk"]


def test_the_summary_names_a_hold_and_a_window() -> None:
    held = {
        **RUNNING,
        "phase": "held",
        "hold": {"reason": "windowMissed", "detail": "ended"},
        "window": {"notBefore": "a", "notAfter": "b"},
    }
    line = summary_line(held)
    assert "held: windowMissed (ended)" in line and "window a to b" in line
