"""The README's main command on a fresh clone, as a new user runs it: its own venv, its own setup, to the end."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.helpers import REPO

pytestmark = pytest.mark.slow
MACHINES = ["db01", "hv-file01", "app01", "web01", "aws-web01", "vmw-agentless01"]


@pytest.mark.timeout(1800)
def test_scripts_demo_runs_the_mixed_wave_on_a_fresh_clone(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=120)
    assert not (clone / ".venv").exists()
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH") and not k.startswith("MIGRATION_")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    done = subprocess.run(
        ["scripts/demo"], cwd=clone, capture_output=True, text=True, timeout=1700, env=env, stdin=subprocess.DEVNULL
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "Traceback" not in output
    for machine in MACHINES:
        assert re.search(rf"{machine} \[\w+\] → migrated", done.stdout), (machine, done.stdout[-3000:])
    assert "wave-2026-12: Migrated" in done.stdout
    report = clone / ".data" / "reports" / "mixed-wave.html"
    assert report.exists(), output[-2000:]
    assert report.read_text(encoding="utf-8").count('class="machine-row"') == len(MACHINES)
