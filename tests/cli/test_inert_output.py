"""What the app sends is shown as text: no markup, no escape sequences, no formulas in a CSV the CLI writes.

A plan's author is not always the person watching; a hostile or careless name must not crash ``cli watch``,
rewrite the terminal or run in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import Console

from cli.live_view import change_lines, render
from cli.report_files import to_csv
from cli.terminal_text import printable

HOSTILE = "[/x]web-01\x1b[2J\x07\u202e"


def _status(name: str, group: str, message: str) -> dict[str, Any]:
    return {
        "id": "wave-1",
        "name": f"[bold]{name}",
        "status": "Running",
        "phase": "preparing",
        "machines": [
            {
                "name": name,
                "group": group,
                "stage": "initialReplication",
                "outcome": "failed",
                "error": {"code": "AsrPermanent", "message": message},
            }
        ],
    }


def _shown(renderable: Any) -> str:
    console = Console(record=True, width=200, color_system=None, force_terminal=False)
    console.print(renderable)
    return console.export_text()


def test_the_live_view_shows_markup_and_control_characters_as_text() -> None:
    shown = _shown(render(_status(HOSTILE, "[red]db", "ASR said [link=http://x]here[/link]\x1b]0;t\x07")))
    assert "[/x]web-01\ufffd[2J\ufffd\ufffd" in shown
    assert "[red]db" in shown and "[link=http://x]here[/link]" in shown and "[bold][/x]web-01" in shown
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown


def test_change_lines_hold_no_control_characters() -> None:
    lines = change_lines(None, _status(HOSTILE, "g\x1b[1A", "boom\r\n"))
    assert lines and all(line == printable(line) for line in lines)
    assert "[/x]web-01\ufffd[2J" in lines[0]


def test_a_csv_the_cli_writes_is_inert_in_a_spreadsheet() -> None:
    report = {
        "columns": ["machine", "errorMessage", "downtimeSeconds"],
        "rows": [
            {"machine": '=HYPERLINK("http://x","y")', "errorMessage": "+cmd|' /C calc'!A0", "downtimeSeconds": 42}
        ],
    }
    rows = list(csv.reader(io.StringIO(to_csv(report))))
    assert rows[1] == ['\'=HYPERLINK("http://x","y")', "'+cmd|' /C calc'!A0", "42"]
    flat = {"machines": [{"name": "@SUM(A1)", "group": "-2+3", "outcome": "Failed", "stages": {}}]}
    flat_rows = list(csv.DictReader(io.StringIO(to_csv(flat))))
    assert flat_rows[0]["machine"] == "'@SUM(A1)" and flat_rows[0]["group"] == "'-2+3"
