"""Activity: read a machine's replicated item and normalize it, so the orchestrator decides on one shape.

Input :class:`migration.payloads.asr_steps.MachineRequest` (``dr``: the A2A item protecting the migrated VM
toward the secondary region). Output :class:`migration.payloads.asr_steps.ItemReading`; a permanent failure is
returned as ``{"error": {...}}``, a transient one raised so the retry policy applies.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.site_recovery import machine_from, site_recovery
from migration import function_names as names
from migration.errors import AsrPermanentError
from migration.payloads.asr_steps import ItemReading, MachineRequest
from migration.scenarios import scenario_for
from migration.scenarios.a2a import A2AScenario

name = names.READ_PROTECTED_ITEM
bp = df.Blueprint()


@bp.activity_trigger(input_name="request", activity=names.READ_PROTECTED_ITEM)
def read_protected_item(request: dict[str, Any]) -> dict[str, Any]:
    asked = MachineRequest.from_dict(request)
    machine = machine_from(asked.machine)
    scenario = scenario_for(machine)
    item = scenario.protected_item(machine)
    if asked.dr:
        if not isinstance(scenario, A2AScenario):
            raise ValueError(f"machine {machine.name}: DR protection exists for A2A machines only")
        item = scenario.dr_protected_item(machine)
    try:
        body = site_recovery().get_protected_item(item, stage=asked.stage)
    except AsrPermanentError as error:
        return {"error": error.to_dict()}
    if body is None:
        return ItemReading(exists=False).to_dict()
    view = scenario.read_protected_item(body).to_dict()
    return ItemReading(True, view, scenario.recovery_point_used(body)).to_dict()
