"""Activity: hand the final result to its own orchestration, which POSTs it to the plan's ``callbackUrl``.

The wave calls this as its last step and gets an answer at once: the delivery (with its retries over hours, if the
receiver is down) runs in ``deliver_callback``, so a slow or dead callback never keeps the migration from
completing. The delivery's instance id is ``migration.instance_ids.callback_id``, one per migration: starting it
again (this activity runs at least once) finds it and does nothing, so the receiver is called once.

Input :class:`migration.payloads.callbacks.CallbackDelivery`, handed on to ``deliver_callback``.
Output ``{"instanceId", "started": bool}``.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.instance_ids import callback_id
from migration.payloads.callbacks import CallbackDelivery

name = names.START_CALLBACK_DELIVERY
bp = df.Blueprint()


@bp.activity_trigger(input_name="request", activity=names.START_CALLBACK_DELIVERY)
@bp.durable_client_input(client_name="client")
async def start_callback_delivery(request: dict[str, Any], client: df.DurableOrchestrationClient) -> dict[str, Any]:
    """Start ``deliver_callback`` once per migration; return without waiting for it."""
    delivery = CallbackDelivery.from_dict(request)
    instance_id = callback_id(delivery.migration_id)
    existing = await client.get_status(instance_id)
    if existing:
        return {"instanceId": instance_id, "started": False}
    try:
        await client.start_new(names.DELIVER_CALLBACK, instance_id, delivery.to_dict())
    except Exception:
        # A retry of this activity raced its first run, which started it (the extension answers 500).
        if not await client.get_status(instance_id):
            raise
        return {"instanceId": instance_id, "started": False}
    return {"instanceId": instance_id, "started": True}
