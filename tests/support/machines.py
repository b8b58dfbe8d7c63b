"""Plans, machines, runbook inputs and topologies built from the repository's examples: data only, nothing started.

End-to-end tests, unit tests and benchmarks all build their machines here, so a test that needs a fleet of
VMware machines or a runbook input does not have to import the end-to-end stack (``tests.e2e.stack``) to get one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from migration.plan import Plan, validate_plan

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


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


# -- agent-based VMware fleet machines (InMageRcm protected items) --------------------------------------------

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


# -- agentless VMware machines (VMwareCbt migration items) ----------------------------------------------------

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


def agentless_machine(index: int, plan: Plan | None = None) -> dict[str, Any]:
    """The plan JSON of agentless machine ``index``: the agentless example's vmw-agentless02 (one disk; every disk
    the appliance discovered) under that machine's names."""
    source = plan or example_plan("vmware-agentless.yaml")
    machine = source.machine("vmw-agentless02").model_dump(by_alias=True, mode="json", exclude_none=True)
    name = agentless_name(index)
    machine["name"] = name
    machine["asr"]["discoveredMachineId"] = machine["asr"]["discoveredMachineId"].rsplit("/", 1)[0] + f"/{name}"
    machine.get("target", {}).pop("vmName", None)
    return machine


def agentless_input(index: int, speed: float, *, options: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A ``machine_runbook`` input for agentless machine ``index`` under the agentless example's options
    (overridable)."""
    plan = example_plan("vmware-agentless.yaml")
    merged = {**plan.options.model_dump(by_alias=True, mode="json", exclude_none=True), **(options or {})}
    machine = agentless_machine(index, plan)
    return {"migrationId": plan.id, "machine": machine, "options": merged, "timeScale": speed, **extra}


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
