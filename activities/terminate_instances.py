"""Activity: stop a cancelled wave's machine orchestrations, and the waits they started, before rolling back.

A runbook left running after a cancel would go on changing Site Recovery (it could even enable replication again
after the rollback removed it), so the wave terminates them first. Children are found by their deterministic ids
(``{parent}:{stage}:{attempt}``, see ``orchestrators``), parents before children. Terminating an instance that has
already ended is not an error: it is simply skipped.

Input ``{"instanceIds": [...], "attempts": int, "reason": str}``. Output ``{"terminated": [...]}``.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities import names
from migration.stages import Stage

name = names.TERMINATE_INSTANCES
bp = df.Blueprint()

_ACTIVE = {"Running", "Pending", "Suspended", "ContinuedAsNew"}


def _children(instance_id: str, attempts: int) -> list[str]:
    return [f"{instance_id}:{stage.value}:{attempt}" for attempt in range(attempts + 1) for stage in Stage]


@bp.activity_trigger(input_name="request", activity=names.TERMINATE_INSTANCES)
@bp.durable_client_input(client_name="client")
async def terminate_instances(request: dict[str, Any], client: df.DurableOrchestrationClient) -> dict[str, Any]:
    reason = str(request.get("reason") or "migration cancelled")
    attempts = int(request.get("attempts") or 0)
    terminated: list[str] = []
    for instance_id in request["instanceIds"]:
        for candidate in [instance_id, *_children(instance_id, attempts)]:
            status = await client.get_status(candidate)
            runtime = getattr(status.runtime_status, "value", status.runtime_status)
            if runtime in _ACTIVE:
                await client.terminate(candidate, reason)
                terminated.append(candidate)
    return {"terminated": terminated}
