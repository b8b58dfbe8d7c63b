"""The stand-ins never outlive ``run``: SIGTERM in the middle of a wave stops every child process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.helpers import MIXED, REPO, SPEED

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_sigterm_stops_every_stand_in(tmp_path: Path) -> None:
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "run",
            str(MIXED),
            "--approve",
            "never",
            "--speed",
            SPEED,
            "--data",
            str(tmp_path),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            for line in process.stdout:
                if re.search(r"Submitted wave-2026-12", line):
                    break
            children = _children(process.pid)
            assert len(children) == 3, children
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 143
            assert "Stopped by SIGTERM" in process.stderr.read()
            deadline = time.monotonic() + 30
            while any(_alive(pid) for pid in children):
                assert time.monotonic() < deadline, [pid for pid in children if _alive(pid)]
                time.sleep(0.2)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
