"""The local stand-ins as child processes: Site Recovery, Service Bus and the Functions host running the app.

``run`` without an endpoint must show the whole product on one machine, with nothing installed beyond the
venv. Each stand-in runs as its own process (as it would in a terminal), on a free port, with its output in a
log file under the run's data folder, so a crash of one shows up in its log rather than in the live view.
Whatever happens (an error, Ctrl-C, SIGTERM, the parent dying), the children are stopped: ``stop()`` runs in
``finally``, SIGTERM and SIGHUP are turned into an exception that reaches it, and on Linux every child is
started with a parent-death signal so that even a ``kill -9`` of this process does not leave them behind.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from cli.errors import CliError
from cli.local_identity import ISSUER_FOLDER, LOCAL_USER, LocalPrincipal
from cli.local_identity import prepare as prepare_sign_in
from emulators.functions.local_entra import LocalEntra

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TOPOLOGY = REPO / "examples" / "topology.yaml"
SERVICEBUS_CONFIG = REPO / "emulators" / "servicebus" / "config.json"
# How long a stand-in may take to print its address (the Functions host imports the whole app and the SDKs).
START_TIMEOUT = 90.0


def free_port() -> int:
    """A port nobody listens on right now (the host binds it a moment later; a clash fails its start loudly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send the child SIGTERM when its parent dies, so no stand-in outlives the command."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        except OSError:
            pass
    os.setpgrp()  # Ctrl-C in the terminal reaches only this command, which then stops the children in order


@dataclass
class Child:
    """One stand-in process and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def first_line(self, marker: Callable[[str], bool], timeout: float) -> str:
        """The first line of the child's output that ``marker`` accepts; a clear error if it exits or hangs."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
            for line in text.splitlines():
                if marker(line.strip()):
                    return line.strip()
            if self.process.poll() is not None:
                raise CliError(
                    f"The local {self.name} stopped while starting (exit status {self.process.returncode}). "
                    f"Its output is in {self.log}; the last lines were: {_tail(text)}"
                )
            if time.monotonic() > deadline:
                raise CliError(
                    f"The local {self.name} did not start within {timeout:.0f} seconds. Its output is in {self.log}."
                )
            time.sleep(0.1)

    def stop(self, grace: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            self.process.terminate()
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=grace)
        except ProcessLookupError:
            pass


def _tail(text: str, lines: int = 5) -> str:
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept) if kept else "(nothing)"


@dataclass
class LocalStack:
    """Where the running stand-ins answer, and how to reach the app on the local host."""

    data_dir: Path
    speed: float
    topology: Path
    asr_url: str = ""
    servicebus_connection: str = ""
    app_url: str = ""
    master_key: str = ""
    entra: LocalEntra | None = None
    children: list[Child] = field(default_factory=list)

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        log = self.data_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, *args],
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                preexec_fn=_die_with_parent,
            )
        child = Child(name.replace("-", " "), process, log)
        self.children.append(child)
        return child

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        asr = self._spawn(
            "site-recovery",
            [
                "-m",
                "emulators.siterecovery",
                "--topology",
                str(self.topology),
                "--port",
                "0",
                "--speed",
                _num(self.speed),
            ],
        )
        bus = self._spawn(
            "service-bus", ["-m", "emulators.servicebus", "--config", str(SERVICEBUS_CONFIG), "--port", "0"]
        )
        self.asr_url = asr.first_line(lambda line: line.startswith("http://"), START_TIMEOUT)
        self.servicebus_connection = bus.first_line(lambda line: line.startswith("Endpoint=sb://"), START_TIMEOUT)
        clock = _get_json(f"{self.asr_url}/_emulator/clock")
        wall = datetime.now(UTC)
        self.master_key = secrets.token_urlsafe(24)
        port = free_port()
        vaults = vault_ids(self.topology)
        settings = {
            "ASR_ARM_ENDPOINT": self.asr_url,
            **fence_settings(vaults),
            "ServiceBusConnection": self.servicebus_connection,
            "MIGRATION_CLOCK_SPEED": _num(self.speed),
            "MIGRATION_CLOCK_ANCHOR": f"{clock['now']}@{wall.isoformat()}",
            "FUNCTIONS_MASTER_KEY": self.master_key,
        }
        functions_data = self.data_dir / "functions"
        self.entra, auth_settings = prepare_sign_in(functions_data)
        app = self._spawn(
            "functions-host",
            [
                "-m",
                "emulators.functions",
                "--port",
                str(port),
                "--data",
                str(functions_data),
                "--easy-auth",
                str(auth_settings),
            ],
            settings,
        )
        app.first_line(lambda line: line.startswith("Host started on"), START_TIMEOUT)
        self.app_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop the app first (it talks to the others), then the emulators; never raises."""
        for child in reversed(self.children):
            try:
                child.stop()
            except Exception:  # noqa: BLE001 - cleanup must go on to the next child whatever happened
                pass

    def sign_in(self, principal: LocalPrincipal = LOCAL_USER) -> Callable[[], str]:
        """Bearer tokens for ``principal`` from this stack's token issuer (the demo user by default)."""
        if self.entra is None:
            raise CliError("The local stack is not started: no token issuer to sign in with.")
        return principal.token_provider(self.entra)

    @property
    def sign_in_folder(self) -> Path:
        """Where the local token issuer keeps its keys (``--local-sign-in`` from another terminal)."""
        return self.data_dir / "functions" / ISSUER_FOLDER

    @property
    def logs(self) -> list[Path]:
        return [child.log for child in self.children]


def _num(value: float) -> str:
    return f"{value:g}"


def _get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise CliError(f"The local Site Recovery emulator did not answer {url}: {error}.") from None


def vault_ids(topology: Path) -> list[str]:
    """The ARM ids of the topology's vaults: the app's allow-list of vaults it may touch."""
    doc = yaml.safe_load(topology.read_text(encoding="utf-8")) or {}
    return [
        f"/subscriptions/{v['subscriptionId']}/resourceGroups/{v['resourceGroup']}"
        f"/providers/Microsoft.RecoveryServices/vaults/{v['name']}"
        for v in doc.get("vaults") or []
    ]


def fence_settings(vaults: Iterable[str]) -> dict[str, str]:
    """The app settings that fence it to the emulators' topology: its vaults (``ASR_ALLOWED_VAULT_IDS``), and their
    subscriptions as the places VMs may be created (``ASR_ALLOWED_TARGET_SCOPES``; in Azure the template lists the
    target resource groups instead)."""
    vault_list = list(vaults)
    return {
        "ASR_ALLOWED_VAULT_IDS": ",".join(vault_list),
        "ASR_ALLOWED_TARGET_SCOPES": ",".join(sorted({v.split("/resourceGroups/")[0] for v in vault_list})),
    }


class Terminated(Exception):
    """SIGTERM or SIGHUP arrived: unwind so every ``finally`` (and the children's cleanup) runs."""


@contextmanager
def signals_unwind() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` while the block runs (Ctrl-C already unwinds)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def local_stack(data_dir: Path, *, speed: float, topology: Path | None = None) -> Iterator[LocalStack]:
    """Start the three stand-ins, yield where they are, and always stop them."""
    stack = LocalStack(data_dir=data_dir, speed=speed, topology=(topology or DEFAULT_TOPOLOGY).resolve())
    with signals_unwind():
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()
