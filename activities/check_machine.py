"""Activity: the validate stage: read-only checks that Site Recovery knows everything the machine's plan names.

A plan can be well-formed and still name a fabric, container, machine, policy or mapping the vault does not have;
finding that out at enable time would waste the wave's first hours. Every problem is listed with the plan path it
concerns, and nothing is changed. An item that is already protected is reported, not refused: the runbook adopts
it where it stands.

Input ``{"machine": {...}}``. Output ``{"ok": bool, "problems": [{"path", "message"}], "protected": bool}``.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities import names
from activities.site_recovery import machine_from, site_recovery
from migration.errors import AsrPermanentError
from migration.scenarios import scenario_for
from migration.source_kinds import Provider

name = names.CHECK_MACHINE
bp = df.Blueprint()


def _last_segment(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


@bp.activity_trigger(input_name="request", activity=names.CHECK_MACHINE)
def check_machine(request: dict[str, Any]) -> dict[str, Any]:
    machine = machine_from(request)
    asr = site_recovery()
    vault, coordinates = machine.vault, machine.asr
    problems: list[dict[str, str]] = []

    def missing(path: str, what: str) -> None:
        problems.append({"path": path, "message": f"{what} does not exist in vault {vault.name}"})

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
    except AsrPermanentError as error:
        return {"ok": False, "problems": [{"path": "asr.vault", "message": error.message}], "protected": False}
    return {"ok": not problems, "problems": problems, "protected": protected is not None}
