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

from activities.raise_events import raise_on_active
from migration import function_names as names
from migration.commands import STOP_EVENT
from migration.payloads.instances import InstancesRequest

name = names.STOP_STARTING
bp = df.Blueprint()


@bp.activity_trigger(input_name="request", activity=names.STOP_STARTING)
@bp.durable_client_input(client_name="client")
async def stop_starting(request: dict[str, Any], client: df.DurableOrchestrationClient) -> dict[str, Any]:
    asked = InstancesRequest.from_dict(request)
    return {"stopped": await raise_on_active(client, asked.instance_ids, STOP_EVENT, {"reason": asked.reason})}
