"""Orchestration: a source machine's claim by one migration, held until that migration's wave releases it.

It does nothing but exist: while it runs, the Durable runtime refuses a second start under its id, which names the
source (``migration.machine_claims``). Its custom status names the owner, so a refused submission can say whose the
machine is. A release event that names another owner (a wave that took this claim over after it went stale, then
lost it) is ignored; after :data:`IGNORED_PER_GENERATION` of those the history restarts, so it stays short.

Input :class:`migration.payloads.claims.ClaimInput`. Output ``{"owner", "released": true}``.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.commands import RELEASE_EVENT
from migration.json_types import Json
from migration.payloads.claims import ClaimInput

name = names.MACHINE_CLAIM
bp = df.Blueprint()

IGNORED_PER_GENERATION = 20


def _owner_named(event: Any) -> Any:
    if isinstance(event, str):  # raised event data may arrive as its JSON text
        try:
            event = json.loads(event)
        except ValueError:
            return None
    return event.get("owner") if isinstance(event, dict) else None


@bp.orchestration_trigger(context_name="context", orchestration=names.MACHINE_CLAIM)
def machine_claim(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Json | None]:
    claim = ClaimInput.from_dict(context.get_input())
    context.set_custom_status({"owner": claim.owner, "machine": claim.machine})
    for _ in range(IGNORED_PER_GENERATION):
        event = yield context.wait_for_external_event(RELEASE_EVENT)
        if _owner_named(event) == claim.owner:
            return {"owner": claim.owner, "released": True}
    context.continue_as_new(claim.to_dict())
    return None
