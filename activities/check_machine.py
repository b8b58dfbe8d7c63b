"""Activity: the validate stage: read-only checks that Site Recovery knows everything the machine's plan names.

The checks live in :func:`migration.preflight.check_machine`, shared with the command line's ``validate`` so both
judge a plan the same way; this activity only builds the adapter from the app settings and calls it.

Input :class:`migration.payloads.asr_steps.MachineRequest`.
Output ``{"ok": bool, "problems": [{"path", "message"}], "protected": bool}``.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.site_recovery import machine_from, site_recovery
from migration import function_names as names
from migration import preflight
from migration.payloads.asr_steps import MachineRequest

name = names.CHECK_MACHINE
bp = df.Blueprint()


@bp.activity_trigger(input_name="request", activity=names.CHECK_MACHINE)
def check_machine(request: dict[str, Any]) -> dict[str, Any]:
    return preflight.check_machine(site_recovery(), machine_from(MachineRequest.from_dict(request).machine))
