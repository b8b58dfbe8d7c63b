"""Running the command line as a user does: ``python -m cli ...`` in a child process, from the repository root."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
MIXED = EXAMPLES / "plans" / "mixed-wave.yaml"
TOPOLOGY = EXAMPLES / "topology.yaml"
# Simulated seconds per wall second for test runs: the mixed wave's longest replication (about 7 simulated hours)
# passes in a few wall seconds. Timeouts below only guard against hangs.
SPEED = "3600"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def cli(*args: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path = REPO) -> Result:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, "COLUMNS": "200", **(env or {})},
    )
    return Result(done.returncode, done.stdout, done.stderr)


def assert_clean_error(result: Result, *fragments: str) -> None:
    """A non-zero exit, one readable error paragraph naming what went wrong, and no traceback."""
    assert result.code != 0, result
    assert "Traceback" not in result.text, result.text
    assert result.err.startswith("error: "), result.err
    message = " ".join(result.err.split())
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_closed(url: str) -> bool:
    match = re.match(r"http://([\d.]+):(\d+)", url)
    assert match, url
    with socket.socket() as probe:
        return probe.connect_ex((match.group(1), int(match.group(2)))) != 0


def require_tool(name: str) -> str:
    """The tool's path; skip only when it is missing and scripts/install-test-deps cannot install it here."""
    path = shutil.which(name)
    if path:
        return path
    can_install = shutil.which("apt-get") is not None and os.geteuid() == 0
    if not can_install:
        pytest.skip(f"{name} is not installed and scripts/install-test-deps cannot install it (no root or no apt-get)")
    pytest.fail(f"{name} is not installed: run scripts/install-test-deps first")
