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

from cli.local_stack import fence_settings
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


# -- helpers for fault, crash and cost tests -----------------------------------------------------

MUTATING_OPERATIONS = (
    "ReplicationProtectedItems_Create",
    "ReplicationProtectedItems_TestFailover",
    "ReplicationProtectedItems_TestFailoverCleanup",
    "ReplicationProtectedItems_UnplannedFailover",
    "ReplicationProtectedItems_FailoverCommit",
    "ReplicationProtectedItems_Delete",
)
_FLEET_ITEM_PREFIX = "10000000-0000-0000-0000-0000000010"


def fleet_topology(
    count: int, *, disks_gb: list[int] | None = None, bandwidth_mbps: float | None = None
) -> dict[str, Any]:
    """The example topology plus ``count`` VMware machines ``vm00``… on the appliance's container.

    The example has one machine per source kind; tests that run many scenarios side by side, each on its own
    machine, and the cost benchmark need more of the same kind. Small disks keep initial replication short.
    """
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / "topology.yaml").read_text(encoding="utf-8"))
    fabric = next(f for f in doc["vaults"][0]["fabrics"] if f["name"] == "vmware-appliance")
    container = fabric["containers"][0]
    site = container["machines"][0]["vmId"].rsplit("/", 1)[0]
    for index in range(count):
        machine: dict[str, Any] = {
            "name": f"{_FLEET_ITEM_PREFIX}{index:02d}",
            "friendlyName": fleet_name(index),
            "kind": "VMware",
            "disksGB": list(disks_gb or [32]),
            "vmId": f"{site}/{fleet_name(index)}",
        }
        if bandwidth_mbps is not None:
            machine["bandwidthMbps"] = bandwidth_mbps
        container["machines"].append(machine)
    return doc


def fleet_name(index: int) -> str:
    return f"vm{index:02d}"


def fleet_machine(index: int, plan: Plan | None = None) -> dict[str, Any]:
    """The plan JSON of fleet machine ``index``: the VMware example's web01 with the fleet machine's names."""
    source = plan or example_plan("vmware.yaml")
    machine = source.machine("web01").model_dump(by_alias=True, mode="json", exclude_none=True)
    name = fleet_name(index)
    machine["name"] = name
    machine["asr"]["protectableItem"] = f"{_FLEET_ITEM_PREFIX}{index:02d}"
    machine["asr"]["discoveredMachineId"] = machine["asr"]["discoveredMachineId"].rsplit("/", 1)[0] + f"/{name}"
    machine.get("target", {}).pop("vmName", None)
    return machine


def fleet_input(index: int, speed: float, *, options: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A ``machine_runbook`` input for fleet machine ``index`` under the VMware example's options (overridable)."""
    plan = example_plan("vmware.yaml")
    merged = {**plan.options.model_dump(by_alias=True, mode="json", exclude_none=True), **(options or {})}
    return {
        "migrationId": plan.id,
        "machine": fleet_machine(index, plan),
        "options": merged,
        "timeScale": speed,
        **extra,
    }


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
_AGENTLESS_SITE = "vmware-agentless-site"


def agentless_name(index: int) -> str:
    return f"vmw-al{index:02d}"


def agentless_topology(count: int, *, disk_gb: int = 32) -> dict[str, Any]:
    """The example topology plus ``count`` machines ``vmw-al00``… discovered by the agentless appliance's site.

    The example has two agentless machines; tests that run a scenario per machine need more. One small disk over
    the appliance's bandwidth keeps initial seeding short.
    """
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / "topology.yaml").read_text(encoding="utf-8"))
    site = next(s for s in doc["vaults"][0]["vmwareSites"] if s["name"] == _AGENTLESS_SITE)
    for index in range(count):
        name = agentless_name(index)
        disk = {"id": f"6000C299-0000-4000-8000-{index:012d}", "name": f"{name}_os", "sizeGB": disk_gb}
        site["machines"].append(
            {
                "name": name,
                "displayName": name,
                "osType": "Linux",
                "osName": "Ubuntu Linux (64-bit)",
                "firmwareType": "EFI",
                "bandwidthMbps": 500,
                "disks": [{**disk, "isOSDisk": True}],
            }
        )
    return doc


def agentless_input(index: int, speed: float, *, options: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A ``machine_runbook`` input for agentless machine ``index``: the agentless example's vmw-agentless02 (one
    disk; every disk the appliance discovered) under that machine's names, with the example's options (overridable)."""
    plan = example_plan("vmware-agentless.yaml")
    machine = plan.machine("vmw-agentless02").model_dump(by_alias=True, mode="json", exclude_none=True)
    name = agentless_name(index)
    machine["name"] = name
    machine["asr"]["discoveredMachineId"] = machine["asr"]["discoveredMachineId"].rsplit("/", 1)[0] + f"/{name}"
    machine.get("target", {}).pop("vmName", None)
    merged = {**plan.options.model_dump(by_alias=True, mode="json", exclude_none=True), **(options or {})}
    return {"migrationId": plan.id, "machine": machine, "options": merged, "timeScale": speed, **extra}


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


# -- both VMware paths side by side, for the cost and chaos benchmarks --------------------------------------


def with_agentless_fleet(
    doc: dict[str, Any], count: int, *, disk_gb: int = 32, bandwidth_mbps: float | None = None
) -> dict[str, Any]:
    """``doc`` (a topology built on the example's, such as ``fleet_topology``'s) with ``count`` agentless machines
    ``vmw-al00``… on the agentless appliance's site, as ``agentless_topology`` adds them, at ``bandwidth_mbps``.

    The cost benchmarks and the chaos run migrate both VMware paths on one emulator: agent-based fleet machines
    and agentless ones, each with one disk of the same size at the same bandwidth, so their figures compare.
    """
    names = {agentless_name(index) for index in range(count)}
    added = next(
        s
        for s in agentless_topology(count, disk_gb=disk_gb)["vaults"][0]["vmwareSites"]
        if s["name"] == _AGENTLESS_SITE
    )
    site = next(s for s in doc["vaults"][0]["vmwareSites"] if s["name"] == _AGENTLESS_SITE)
    for machine in added["machines"]:
        if machine["name"] in names:
            site["machines"].append(machine if bandwidth_mbps is None else {**machine, "bandwidthMbps": bandwidth_mbps})
    return doc


def agentless_machine(index: int) -> dict[str, Any]:
    """The plan JSON of agentless machine ``index`` (``agentless_input``'s machine), for waves and baselines."""
    machine: dict[str, Any] = agentless_input(index, SPEED)["machine"]
    return machine
