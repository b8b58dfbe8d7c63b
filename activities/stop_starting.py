"""Activity: tell running cutover batches to start no further machine, because the wave is being cancelled.

A cancel during cutover cannot stop machines that are failing over (a failover cannot be undone), but it must stop
every failover that has not started yet: the batch that owns a group's machines keeps a pool of running machines
and would otherwise start the rest as slots free. Orchestrations cannot raise events on one another, so the wave
asks this activity to raise the batch's ``stop`` event through the Durable client. A batch that has already ended
needs no telling and is skipped.

Input :class:`migration.payloads.instances.InstancesRequest`. Output ``{"stopped": [...]}`` (the instances told).
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.commands import STOP_EVENT
from migration.payloads.instances import InstancesRequest
from migration.runtime_status import is_active

name = names.STOP_STARTING
bp = df.Blueprint()


async def _active(client: df.DurableOrchestrationClient, instance_id: str) -> bool:
    return is_active((await client.get_status(instance_id)).runtime_status)


@bp.activity_trigger(input_name="request", activity=names.STOP_STARTING)
@bp.durable_client_input(client_name="client")
async def stop_starting(request: dict[str, Any], client: df.DurableOrchestrationClient) -> dict[str, Any]:
    asked = InstancesRequest.from_dict(request)
    stopped: list[str] = []
    for instance_id in asked.instance_ids:
        if not await _active(client, instance_id):
            continue
        try:
            await client.raise_event(instance_id, STOP_EVENT, {"reason": asked.reason})
        except Exception:  # the SDK raises for 404/410: it ended meanwhile, which is as good as stopped
            if await _active(client, instance_id):
                raise
            continue
        stopped.append(instance_id)
    return {"stopped": stopped}
