"""The live view in a real terminal (tmux): stages on screen, the approval question, Ctrl-C detaching.

tmux gives the command a terminal of its own, as a person's would be, and lets the test read the screen and type.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import MIXED, REPO, SPEED, cli, require_tool

pytestmark = pytest.mark.slow


class Terminal:
    def __init__(self, tmux: str, command: list[str]) -> None:
        self.tmux = tmux
        self.name = f"cli-{uuid.uuid4().hex[:8]}"
        script = f"cd {shlex.quote(str(REPO))} && {shlex.join(command)}; echo EXIT=$?; sleep 600"
        subprocess.run(
            [tmux, "new-session", "-d", "-s", self.name, "-x", "200", "-y", "50", "bash", "-c", script], check=True
        )

    def screen(self) -> str:
        shown = subprocess.run(
            [self.tmux, "capture-pane", "-p", "-J", "-S", "-2000", "-t", self.name], capture_output=True, text=True
        )
        return shown.stdout

    def wait_for(self, pattern: str, timeout: float = 150) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never appeared; the screen shows:\n{screen}")
            time.sleep(0.3)

    def type(self, *keys: str) -> None:
        subprocess.run([self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def close(self) -> None:
        subprocess.run([self.tmux, "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def terminal() -> Iterator[Callable[[list[str]], Terminal]]:
    tmux = require_tool("tmux")
    opened: list[Terminal] = []

    def open_terminal(command: list[str]) -> Terminal:
        term = Terminal(tmux, command)
        opened.append(term)
        return term

    yield open_terminal
    for term in opened:
        term.close()


def run_command(data: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "cli", "run", str(MIXED), "--speed", SPEED, "--data", str(data), *extra]


def test_the_live_view_shows_stages_and_asks_for_approval(
    terminal: Callable[[list[str]], Terminal], tmp_path: Path
) -> None:
    term = terminal(run_command(tmp_path, "--interval", "0.5"))
    screen = term.wait_for(r"Approve the cutover\?")
    assert "Approval needed" in screen
    assert "[y]es / [n]o (reject and roll back) / [w]ait" in screen
    for machine in ("db01", "hv-file01", "app01", "web01", "aws-web01"):
        assert machine in screen
    assert re.search(r"testFailoverCleanup|cutoverGate", screen), screen
    assert "waiting for approval" in screen
    term.type("y", "Enter")
    screen = term.wait_for(r"EXIT=\d+")
    assert "EXIT=0" in screen, screen
    assert "wave-2026-12: Migrated" in screen
    assert "Sent approve." in screen


def test_ctrl_c_detaches_and_watch_reattaches(terminal: Callable[[list[str]], Terminal], tmp_path: Path) -> None:
    term = terminal(run_command(tmp_path, "--approve", "never", "--interval", "0.5"))
    term.wait_for(r"initialReplication|testFailover")
    term.type("C-c")
    screen = term.wait_for(r"Reattach with: .*")
    assert "Detached; the migration was not cancelled" in screen
    reattach = re.search(r"Reattach with: (python -m cli watch .*)", screen)
    assert reattach, screen
    args = shlex.split(reattach.group(1).split(" The local stand-ins")[0])
    assert args[:4] == ["python", "-m", "cli", "watch"]
    watched = cli(*args[3:], "--approve", "auto", "--interval", "0.5", timeout=200)
    assert watched.code == 0, watched.text
    assert "wave-2026-12: Migrated" in watched.out
    term.wait_for(r"EXIT=0")  # the detached run saw the wave end and stopped its stand-ins


def test_ctrl_c_with_cancel_on_interrupt_cancels_the_wave(
    terminal: Callable[[list[str]], Terminal], tmp_path: Path
) -> None:
    term = terminal(run_command(tmp_path, "--approve", "never", "--cancel-on-interrupt", "--interval", "0.5"))
    term.wait_for(r"initialReplication|testFailover")
    term.type("C-c")
    screen = term.wait_for(r"EXIT=\d+")
    assert "cancelling the migration" in screen
    assert "wave-2026-12: Cancelled" in screen
    assert "EXIT=3" in screen
