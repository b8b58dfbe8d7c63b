"""The report shows every VM check and group hook: pass or fail per check, a failed script's output, each hook's
outcome; in HTML (escaped), in the JSON rows and as the CSV's two check columns."""

from __future__ import annotations

from typing import Any

from cli.report_html import render_html
from migration.report import build_report, report_csv

FAILED_SCRIPT = {
    "name": "web-answers",
    "kind": "script",
    "outcome": "failed",
    "detail": "exit code 7, expected 0",
    "exitCode": 7,
    "output": "<html>502 Bad Gateway</html>",
    "errorOutput": "curl: (22) The requested URL returned error: 502",
}
RECORD: dict[str, Any] = {
    "machine": "web01",
    "outcome": "failed",
    "stage": "validateTestVm",
    "stages": {"validateTestVm": {"startedAt": "2026-12-05T22:00:00+00:00", "endedAt": "2026-12-05T22:05:00+00:00"}},
    "error": {"stage": "validateTestVm", "code": "TestVmCheckFailed", "message": "web01-test: web-answers failed"},
    "checks": {
        "testVm": {
            "phase": "testVm",
            "vm": "web01-test",
            "outcome": "failed",
            "checks": [
                {"name": "running", "kind": "boot", "outcome": "passed", "detail": "power state running"},
                FAILED_SCRIPT,
            ],
        }
    },
}
MIGRATED: dict[str, Any] = {
    "machine": "db01",
    "outcome": "migrated",
    "stage": "migrated",
    "stages": {},
    "error": None,
    "checks": {
        "testVm": {"phase": "testVm", "vm": "db01-test", "outcome": "passed", "checks": [{"name": "running"}] * 4},
        "migratedVm": {"phase": "migratedVm", "vm": "db01", "outcome": "passed", "checks": [{"name": "running"}] * 4},
    },
}
HOOKS = {
    "web": {
        "beforeCutover": {
            "outcome": "failed",
            "attempt": 1,
            "hooks": [{"name": "drain-lb", "type": "http", "outcome": "failed", "attempts": 3, "detail": "HTTP 500"}],
        }
    }
}


def test_the_html_report_shows_each_check_and_a_failed_script_s_output_escaped_and_each_hook() -> None:
    page = render_html(
        {"id": "wave-1", "name": "Wave", "machines": {"web01": RECORD, "db01": MIGRATED}, "hooks": HOOKS}
    )
    assert "web-answers" in page and "exit code 7, expected 0" in page
    assert "&lt;html&gt;502 Bad Gateway&lt;/html&gt;" in page and "<html>502" not in page
    assert "curl: (22) The requested URL returned error: 502" in page
    assert "test VM</b> web01-test" in page and "migrated VM</b> db01" in page
    assert "<h2>Hooks</h2>" in page and "drain-lb" in page and "HTTP 500" in page


def test_the_rows_and_the_csv_carry_each_vm_s_checks() -> None:
    status = {"id": "wave-1", "machines": [{"name": "web01", "group": "web"}, {"name": "db01", "group": "data"}]}
    report = build_report(status, {"web01": RECORD, "db01": MIGRATED})
    web, db = report["rows"]
    assert web["testVmChecks"] == "failed: web-answers: exit code 7, expected 0"
    assert web["migratedVmChecks"] is None
    assert (db["testVmChecks"], db["migratedVmChecks"]) == ("passed (4 checks)", "passed (4 checks)")
    assert web["checks"]["testVm"]["checks"][1]["errorOutput"].startswith("curl: (22)")
    csv = report_csv(report)
    header = csv.splitlines()[0].split(",")
    assert "testVmChecks" in header and "migratedVmChecks" in header
    assert "failed: web-answers: exit code 7" in csv
