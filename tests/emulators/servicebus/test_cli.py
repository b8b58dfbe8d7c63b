"""``python -m emulators.servicebus``: clear refusals for bad input, with distinct exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulators.servicebus.conftest import TEST_CONFIG

REPOSITORY = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.timeout(60)


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulators.servicebus", *arguments],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        check=False,
    )


def test_an_invalid_config_exits_2_listing_every_problem(tmp_path: Path) -> None:
    document = json.loads(json.dumps(TEST_CONFIG))
    document["UserConfig"]["Namespaces"][0]["Queues"][0]["Properties"]["LockDuration"] = "PT1S"
    document["UserConfig"]["Namespaces"][0]["Topics"][0]["Subscriptions"][0]["Name"] = "bad name"
    config = tmp_path / "config.json"
    config.write_text(json.dumps(document), encoding="utf-8")
    result = _run("--config", str(config), "--port", "0")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Queues[0].Properties.LockDuration: PT1S is below the minimum PT5S" in result.stderr
    assert "Topics[0].Subscriptions[0].Name: 'bad name' is not a valid entity name" in result.stderr


def test_a_missing_config_exits_2(tmp_path: Path) -> None:
    result = _run("--config", str(tmp_path / "absent.json"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_an_unusable_data_directory_exits_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = _run("--port", "0", "--data", str(blocker / "data"))
    assert result.returncode == 1
    assert "cannot keep messages in" in result.stderr
