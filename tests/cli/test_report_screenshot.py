"""The HTML report in headless Chromium: the timeline renders, one bar row per machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cli.report_html import STAGE_COLOURS
from tests.cli.conftest import FinishedRun
from tests.cli.helpers import require_tool
from tests.cli.png import read_png

pytestmark = pytest.mark.slow


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def bar_rows(shot: Path) -> list[tuple[int, int]]:
    """Bands of screen rows that show stage-coloured pixels and are as tall as a bar (legend swatches are shorter)."""
    colours = {_hex(c) for c in STAGE_COLOURS.values()}
    _, _, pixels = read_png(shot)
    coloured = [sum(1 for p in row if p in colours) >= 20 for row in pixels]
    bands, start = [], None
    for y, hit in enumerate([*coloured, False]):
        if hit and start is None:
            start = y
        elif not hit and start is not None:
            bands.append((start, y - start))
            start = None
    return [(y, height) for y, height in bands if height >= 14]


def test_the_timeline_renders_a_row_per_machine(finished_run: FinishedRun, tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=1200,900",
            f"--screenshot={shot}",
            finished_run.reports["html"].as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    rows = bar_rows(shot)
    assert len(rows) == 6, rows
    gaps = [b[0] - a[0] for a, b in zip(rows, rows[1:], strict=False)]
    assert all(gap >= 20 for gap in gaps), gaps  # separate rows, not one smeared block
