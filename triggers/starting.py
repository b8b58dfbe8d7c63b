"""Starting a migration once: the same plan again answers the migration it started, its machines are claimed first.

A repeated submission (an HTTP retry, a redelivered Service Bus message) of a plan whose wave exists is that
migration, returned as is; a different plan under the same id is a conflict. A new one claims its machines
(``triggers.machine_claiming``, 409 when another migration owns one) and then starts its wave.
"""

from __future__ import annotations

import azure.durable_functions as df

from migration import function_names as names
from migration.api_requests import ApiError, StartRequest, plan_sha256
from migration.json_types import Json
from migration.plan import validate_plan
from triggers.durable_access import read_instance
from triggers.machine_claiming import claim_machines

__all__ = ["StartOutcome", "start_once"]


class StartOutcome:
    """What a start did: ``created`` (a new wave) or not (the same plan was already submitted), and the instance."""

    def __init__(self, created: bool, instance: Json) -> None:
        self.created = created
        self.instance = instance


def _same_plan(existing: Json, request: StartRequest) -> bool:
    wave_input = existing.get("input")
    if not isinstance(wave_input, dict):
        return False
    known = wave_input.get("planSha256")
    if isinstance(known, str):
        return known == request.sha256
    try:  # a wave started without a fingerprint (by a tool): compare the plans themselves
        return plan_sha256(validate_plan(wave_input.get("plan"))) == request.sha256
    except Exception:
        return False


def _existing(existing: Json, request: StartRequest) -> StartOutcome:
    if not _same_plan(existing, request):
        raise ApiError(
            409,
            "MigrationExists",
            f"migration {request.plan.id!r} exists with a different plan; give the new plan another id",
        )
    return StartOutcome(False, existing)


async def start_once(client: df.DurableOrchestrationClient, request: StartRequest) -> StartOutcome:
    """Start the wave unless a migration with this id exists (then the same plan → it, another plan → 409), after
    claiming its machines (409 ``MachineOwned`` when another migration owns one)."""
    existing = await read_instance(client, request.instance_id, show_input=True)
    if existing is not None:
        return _existing(existing, request)
    await claim_machines(client, request)
    try:
        await client.start_new(names.WAVE, request.instance_id, request.input)
    except Exception:
        # Another start of the same id won the race (the extension answers 500); read what it started.
        existing = await read_instance(client, request.instance_id, show_input=True)
        if existing is None:
            raise
        return _existing(existing, request)
    started = await read_instance(client, request.instance_id, show_input=True)
    return StartOutcome(True, started or {"instanceId": request.instance_id, "runtimeStatus": "Pending"})
