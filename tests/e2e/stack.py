"""The app on the local Functions host against the Site Recovery emulator: what every end-to-end test runs on.

Nothing of the app is replaced: ``function_app:app`` is loaded by ``emulators.functions`` exactly as the Azure
host would load it, its activities call the real SDK, and the SDK talks to ``emulators.siterecovery`` over
loopback. Only settings differ from Azure (endpoint, allow-list, time scale).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from emulators.functions import HostHandle, start_host
from emulators.siterecovery import EmulatorHandle, start_emulator
from migration.plan import Plan, validate_plan

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
# Simulated seconds per wall second: a 7-hour initial replication takes about 7 s.
SPEED = 3600.0


@dataclass
class Stack:
    asr: EmulatorHandle
    host: HostHandle
    speed: float

    def start(self, orchestrator: str, instance_id: str, payload: dict[str, Any]) -> str:
        client = self.host.client()
        started: str = self.host.run(client.start_new(orchestrator, instance_id, payload))
        return started

    def status(self, instance_id: str) -> Any:
        return self.host.run(self.host.client().get_status(instance_id, show_history=False))

    def wait(self, instance_id: str, timeout: float = 180) -> Any:
        """The instance's final status; the timeout only guards against a hang."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(instance_id)
            runtime = getattr(status.runtime_status, "value", status.runtime_status)
            if runtime in ("Completed", "Failed", "Terminated"):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"{instance_id} still {runtime} after {timeout}s: {status.custom_status}")
            time.sleep(0.2)


@contextmanager
def running_stack(data_dir: Path, *, speed: float = SPEED, topology: Path | None = None) -> Iterator[Stack]:
    asr = start_emulator(topology or EXAMPLES / "topology.yaml", speed=speed)
    vault_ids = ",".join(
        f"/subscriptions/{v.subscription_id}/resourceGroups/{v.resource_group}"
        f"/providers/Microsoft.RecoveryServices/vaults/{v.name}"
        for v in asr.store.topology.vaults
    )
    try:
        host = start_host(
            "function_app:app",
            app_dir=REPO,
            data_dir=data_dir,
            settings={"ASR_ARM_ENDPOINT": asr.base_url, "ASR_ALLOWED_VAULT_IDS": vault_ids},
        )
        try:
            yield Stack(asr, host, speed)
        finally:
            host.stop()
    finally:
        asr.stop()


def example_plan(name: str) -> Plan:
    return validate_plan(yaml.safe_load((EXAMPLES / "plans" / name).read_text(encoding="utf-8")))


def runbook_input(plan: Plan, machine_name: str, speed: float, **extra: Any) -> dict[str, Any]:
    return {
        "migrationId": plan.id,
        "machine": plan.machine(machine_name).model_dump(by_alias=True, mode="json", exclude_none=True),
        "options": plan.options.model_dump(by_alias=True, mode="json", exclude_none=True),
        "timeScale": speed,
        **extra,
    }
