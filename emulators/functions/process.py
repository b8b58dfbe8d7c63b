"""Run the host as a child process (``python -m emulators.functions``), e.g. to kill it with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .host import free_port
from .local_entra import LocalEntra


class HostProcess:
    """A host in a child process. ``kill()`` is SIGKILL (a crash); ``stop()`` is a clean shutdown."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        port: int,
        data_dir: Path,
        log_path: Path,
        entra: LocalEntra | None = None,
    ) -> None:
        self.proc = proc
        self.port = port
        self.data_dir = data_dir
        self.log_path = log_path
        self._entra = entra

    @property
    def entra(self) -> LocalEntra:
        """The local token issuer the child's App Service authentication trusts (``<data>/entra``)."""
        if self._entra is None:
            raise RuntimeError("this host runs without App Service authentication (start it with easy_auth=...)")
        return self._entra

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _secrets(self) -> dict[str, object]:
        doc: dict[str, object] = json.loads((self.data_dir / "secrets" / "host.json").read_text(encoding="utf-8"))
        return doc

    @property
    def admin_key(self) -> str:
        return str(self._secrets()["masterKey"]["value"])  # type: ignore[index]

    @property
    def function_key(self) -> str:
        keys = self._secrets()["functionKeys"]
        return str(next(k["value"] for k in keys if k["name"] == "default"))  # type: ignore[attr-defined]

    @property
    def system_key(self) -> str:
        keys = self._secrets()["systemKeys"]
        return str(keys[0]["value"])  # type: ignore[index]

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"host exited with code {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/admin/host/ping", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"host did not answer within {timeout}s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a crash."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> HostProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_host_process(
    app: str = "function_app:app",
    *,
    app_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
    wait: bool = True,
    python: str | None = None,
    easy_auth: str | Path | None = None,
) -> HostProcess:
    """Start ``python -m emulators.functions`` for ``app`` and (by default) wait until it answers."""
    app_path = Path(app_dir) if app_dir else Path.cwd()
    data = Path(data_dir) if data_dir else app_path / ".data" / "functions"
    data.mkdir(parents=True, exist_ok=True)
    chosen = port or free_port()
    repo_root = Path(__file__).resolve().parents[2]
    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(repo_root), str(app_path), child_env.get("PYTHONPATH", "")] if p
    )
    child_env.update(env or {})
    entra = None
    extra_args: list[str] = []
    if easy_auth:
        # Created here, before the child starts, so parent and child never race to create two different keys.
        entra = LocalEntra.of_host(data)
        extra_args = ["--easy-auth", str(Path(easy_auth).resolve())]
    log_path = data / "host.log"
    log_file = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed when the parent exits
    proc = subprocess.Popen(
        [
            python or sys.executable,
            "-m",
            "emulators.functions",
            "--app",
            app,
            "--port",
            str(chosen),
            "--data",
            str(data),
            *extra_args,
        ],
        cwd=str(app_path),
        env=child_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    log_file.close()
    handle = HostProcess(proc, chosen, data, log_path, entra)
    if wait:
        handle.wait_ready()
    return handle
