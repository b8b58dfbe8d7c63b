"""Run the emulator as a child process (``python -m emulators.servicebus``), e.g. to kill it with SIGKILL.

A restart on the same port and ``--data`` folder is what a broker outage looks like to clients: their links drop,
they reconnect, and every message the broker had accepted is there again, unlocked.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parents[2]


class ServiceBusProcess:
    """The emulator in a child process; ``kill()`` is SIGKILL (a crash), ``stop()`` a clean shutdown."""

    def __init__(self, config: str | Path, data: str | Path | None = None, port: int = 0, timeout: float = 60) -> None:
        command = [sys.executable, "-m", "emulators.servicebus", "--config", str(config), "--port", str(port)]
        if data is not None:
            command += ["--data", str(data)]
        self.process = subprocess.Popen(
            command,
            cwd=_REPOSITORY,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(_REPOSITORY)},
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        first = self.process.stdout.readline().strip() if ready else ""
        if not first.startswith("Endpoint=sb://"):
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(timeout=30)
            error = self.process.stderr.read() if self.process.stderr else ""
            self._close_pipes()
            raise RuntimeError(f"the Service Bus emulator did not start (first line {first!r}): {error[-2000:]}")
        self.connection_string = first
        self.port = int(first.split(";")[0].rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close_pipes()

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> ServiceBusProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
