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

from cli.local_stack import fence_settings
from emulators.functions import HostHandle, start_host
from emulators.siterecovery import EmulatorHandle, start_emulator
from tests.support.machines import EXAMPLES, REPO

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
def running_stack(
    data_dir: Path, *, speed: float = SPEED, topology: Path | dict[str, Any] | None = None
) -> Iterator[Stack]:
    asr = start_emulator(topology or EXAMPLES / "topology.yaml", speed=speed)
    try:
        host = start_host(
            "function_app:app",
            app_dir=REPO,
            data_dir=data_dir,
            settings={"ASR_ARM_ENDPOINT": asr.base_url, **fences(asr)},
        )
        try:
            yield Stack(asr, host, speed)
        finally:
            host.stop()
    finally:
        asr.stop()


def fences(asr: EmulatorHandle) -> dict[str, str]:
    """The app settings that fence it to the emulator's topology (``cli.local_stack.fence_settings``)."""
    return fence_settings(vault.arm_id for vault in asr.store.topology.vaults)


# -- helpers for fault, crash and cost tests -----------------------------------------------------

MUTATING_OPERATIONS = (
    "ReplicationProtectedItems_Create",
    "ReplicationProtectedItems_TestFailover",
    "ReplicationProtectedItems_TestFailoverCleanup",
    "ReplicationProtectedItems_UnplannedFailover",
    "ReplicationProtectedItems_FailoverCommit",
    "ReplicationProtectedItems_Delete",
)


def runtime_of(status: Any) -> str:
    return str(getattr(status.runtime_status, "value", status.runtime_status))


def wait_for_stall(stack: Stack, wait_instance: str, timeout: float = 120) -> dict[str, Any]:
    """The replication wait's custom status once it reports a stall (the test fails after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        status = stack.status(wait_instance)
        custom: dict[str, Any] = (status.custom_status if status else None) or {}
        if custom.get("stalled"):
            return custom
        assert time.monotonic() < deadline, f"no stall reported: {custom}"
        time.sleep(0.1)


def accepted_calls(asr: EmulatorHandle, item: str) -> dict[str, int]:
    """Mutating calls ASR accepted for ``item``, per operation (what "exactly once" is checked on)."""
    return {op: asr.calls.count(op, item, accepted_only=True) for op in MUTATING_OPERATIONS}


def requests_for(asr: EmulatorHandle, items: set[str], job_ids: list[str]) -> list[Any]:
    """Every request the emulator received for these items (by name) and these jobs (by name, in the path)."""
    names = {name.lower() for name in items}
    jobs = {job_id.rstrip("/").rsplit("/", 1)[-1].lower() for job_id in job_ids}
    found = []
    for call in asr.calls.calls():
        path = call.path.lower()
        if (call.item or "").lower() in names or any(f"/replicationjobs/{job}" in path for job in jobs):
            found.append(call)
    return found


# -- agentless VMware (VMwareCbt migration items): inputs, topologies and call counts ------------------------

_MIGRATION_ITEMS = "ReplicationMigrationItems"
# What the runbook calls on a migration item, once each in a migration that meets no failure.
MIGRATION_ITEM_RUNBOOK_OPERATIONS = tuple(
    f"{_MIGRATION_ITEMS}_{op}" for op in ("Create", "TestMigrate", "TestMigrateCleanup", "Migrate", "Delete")
)
# Every mutating migration-item operation the emulator serves: the runbook's, and those nobody asked it to call.
MIGRATION_ITEM_MUTATING_OPERATIONS = (
    *MIGRATION_ITEM_RUNBOOK_OPERATIONS,
    *(f"{_MIGRATION_ITEMS}_{op}" for op in ("Resync", "PauseReplication", "ResumeReplication", "Update")),
)


def accepted_migration_calls(asr: EmulatorHandle, item: str) -> dict[str, int]:
    """Mutating calls ASR accepted for migration item ``item``, per operation (what "exactly once" is checked on)."""
    return {op: asr.calls.count(op, item, accepted_only=True) for op in MIGRATION_ITEM_MUTATING_OPERATIONS}


def migration_calls_once_each(**more: int) -> dict[str, int]:
    """The accepted calls of an agentless migration that met no failure, plus ``more`` (operation without its
    ``ReplicationMigrationItems_`` prefix → extra calls)."""
    expected = {op: int(op in MIGRATION_ITEM_RUNBOOK_OPERATIONS) for op in MIGRATION_ITEM_MUTATING_OPERATIONS}
    for operation, extra in more.items():
        expected[f"{_MIGRATION_ITEMS}_{operation}"] += extra
    return expected
