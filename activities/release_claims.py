"""Activity: release the machine claims an ending wave holds, so its machines may join another migration.

Orchestrations cannot raise events on one another, so the wave asks this activity to raise the release event,
naming itself as the owner, on each claim its plan (read from the wave's own input) made
(``migration.machine_claims``). A claim that has already ended is skipped; one that was taken over ignores an
event that names another owner.

Input :class:`migration.payloads.claims.ReleaseRequest`. Output ``{"released": [...]}`` (the claims told).
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.raise_events import raise_on_active
from migration import function_names as names
from migration.api_status import decode
from migration.commands import RELEASE_EVENT
from migration.instance_ids import wave_id
from migration.machine_claims import claims_of
from migration.payloads.claims import ReleaseRequest
from migration.payloads.wave import WaveInput
from migration.plan import validate_plan

name = names.RELEASE_CLAIMS
bp = df.Blueprint()


@bp.activity_trigger(input_name="request", activity=names.RELEASE_CLAIMS)
@bp.durable_client_input(client_name="client")
async def release_claims(request: dict[str, Any], client: df.DurableOrchestrationClient) -> dict[str, Any]:
    asked = ReleaseRequest.from_dict(request)
    wave = await client.get_status(wave_id(asked.owner), show_input=True)
    plan = validate_plan(WaveInput.from_dict(decode(wave.input_)).plan)
    claims = [claim.instance_id for claim in claims_of(plan)]
    return {"released": await raise_on_active(client, claims, RELEASE_EVENT, {"owner": asked.owner})}
