"""Read-only pre-flight of one machine: does Site Recovery know everything the machine's plan names?

A plan can be well-formed and still name a fabric, container, machine, policy or mapping the vault does not have;
finding that out at enable time would waste the wave's first hours. The validate stage of every runbook (the
``check_machine`` activity) and the command line's ``validate`` ask the same questions through this one
function, so a plan the command line passes is a plan the app accepts. Every problem is listed with the plan path
it concerns, and nothing is changed. An item that is already protected is reported, not refused: the runbook
adopts it where it stands.
"""

from __future__ import annotations

from typing import Any

from migration.asr import SiteRecovery
from migration.errors import AsrPermanentError
from migration.machine import Machine
from migration.scenarios import scenario_for
from migration.source_kinds import Provider
from migration.target_scopes import target_refusal
from migration.vmware_discovery import choose_disks, read_vmware_source

__all__ = ["check_machine"]


def _last_segment(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


def check_machine(asr: SiteRecovery, machine: Machine) -> dict[str, Any]:
    """``{"ok": bool, "problems": [{"path", "message"}], "protected": bool}`` for ``machine``; reads only."""
    vault, coordinates = machine.vault, machine.asr
    problems: list[dict[str, str]] = []

    def missing(path: str, what: str) -> None:
        problems.append({"path": path, "message": f"{what} does not exist in vault {vault.name}"})

    if not asr.settings.allows_target(machine.target.resource_group_id):
        problems.append({"path": "target.resourceGroupId", "message": target_refusal(machine.target.resource_group_id)})

    try:
        protected = asr.get_protected_item(scenario_for(machine).protected_item(machine), stage="validate")
        if asr.get_fabric(vault, coordinates.fabric, stage="validate") is None:
            missing("asr.fabric", f"fabric {coordinates.fabric!r}")
        elif asr.get_container(vault, coordinates.fabric, coordinates.protection_container, stage="validate") is None:
            missing("asr.protectionContainer", f"protection container {coordinates.protection_container!r}")
        elif protected is None and machine.provider is not Provider.A2A and coordinates.protectable_item:
            found = asr.get_protectable_item(
                vault, coordinates.fabric, coordinates.protection_container, coordinates.protectable_item
            )
            if found is None:
                missing("asr.protectableItem", f"protectable item {coordinates.protectable_item!r}")
        if asr.get_policy(vault, _last_segment(machine.replication.policy), stage="validate") is None:
            missing("replication.policy", f"replication policy {machine.replication.policy!r}")
        mapping = machine.replication.container_mapping
        if mapping and coordinates.protection_container:
            found_mapping = asr.get_container_mapping(
                vault, coordinates.fabric, coordinates.protection_container, mapping, stage="validate"
            )
            if found_mapping is None:
                missing("replication.containerMapping", f"protection container mapping {mapping!r}")
        if protected is None and machine.provider is Provider.VMWARE_CBT:
            problems.extend(_agentless_problems(asr, machine))
    except AsrPermanentError as error:
        return {"ok": False, "problems": [{"path": "asr.vault", "message": error.message}], "protected": False}
    return {"ok": not problems, "problems": problems, "protected": protected is not None}


def _agentless_problems(asr: SiteRecovery, machine: Machine) -> list[dict[str, str]]:
    """An agentless machine's enable reads discovery: the machine must be discovered, the plan's disks must be its
    disks, and the run-as account and log storage account must be found (in the plan or through discovery)."""
    source = read_vmware_source(asr, machine, stage="validate")
    if source is None:
        where = machine.asr.discovered_machine_id
        return [{"path": "asr.discoveredMachineId", "message": f"Azure Migrate has not discovered {where}"}]
    problems = [{"path": path, "message": message} for path, message in choose_disks(machine, source)[1]]
    replication = machine.replication
    if replication.run_as_account_id is None and source.run_as_account_id is None:
        message = "no run-as account: the plan names none and discovery gives the machine no vCenter with one"
        problems.append({"path": "replication.runAsAccountId", "message": message})
    if replication.log_storage_account_id is None and source.log_storage_account_id is None:
        message = "no log storage account: the plan names none and the container mapping has none"
        problems.append({"path": "replication.logStorageAccountId", "message": message})
    return problems
