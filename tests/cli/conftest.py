"""One finished local run of the mixed wave, shared by the tests that look at what it leaves behind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.helpers import MIXED, SPEED, Result, cli


@dataclass
class FinishedRun:
    result: Result
    data: Path
    reports: dict[str, Path]


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    """``python -m cli run`` of the mixed wave on the local stand-ins, approving at the gate, writing three reports."""
    root = tmp_path_factory.mktemp("run")
    reports = {fmt: root / "reports" / f"wave.{fmt}" for fmt in ("json", "csv", "html")}
    args = ["run", str(MIXED), "--approve", "auto", "--speed", SPEED, "--data", str(root / "data"), "--interval", "0.5"]
    for path in reports.values():
        args += ["--report", str(path)]
    return FinishedRun(cli(*args, timeout=280), root / "data", reports)
