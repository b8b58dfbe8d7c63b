"""Service Bus trigger on ``migration-requests``: a message whose body is a plan starts its migration once.

The body is the plan as JSON (UTF-8). The message id is the idempotency key (stored with the migration); the plan's
id names the migration, so a redelivered or resent message finds the migration it started and does nothing. String
application properties override two plan fields, for senders that cannot edit the body (a Logic Apps workflow
relaying a file):

- ``migrationId``: replaces the plan's ``id``;
- ``callbackUrl``: replaces the plan's ``callbackUrl``.

An invalid message (not JSON, an invalid plan, an id taken by another plan) is answered with a
``migration.rejected`` event and completed; a failure of Durable Functions or of the event's publication raises,
so the broker redelivers and finally dead-letters the message.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from migration.api_requests import ApiError, decode_json, prepare_start
from migration.servicebus import CONNECTION_SETTING
from triggers import starting
from triggers.servicebus_common import message_key, properties, reject

name = "servicebus_requests"
bp = df.Blueprint()

QUEUE = "migration-requests"
OVERRIDES = ("migrationId", "callbackUrl")
_PLAN_FIELD = {"migrationId": "id", "callbackUrl": "callbackUrl"}


def overrides_of(props: dict[str, Any]) -> dict[str, str]:
    """The plan fields the message's application properties replace; ApiError 400 when one is not a string."""
    found: dict[str, str] = {}
    for key in OVERRIDES:
        value = props.get(key)
        if value is None:
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            raise ApiError(
                400,
                "InvalidMessage",
                f"application property {key} must be a string",
                [{"path": f"applicationProperties.{key}", "message": "must be a string"}],
            )
        found[_PLAN_FIELD[key]] = value
    return found


@bp.function_name("servicebus_migration_request")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE, connection=CONNECTION_SETTING)
@bp.durable_client_input(client_name="client")
async def migration_request(msg: func.ServiceBusMessage, client: df.DurableOrchestrationClient) -> None:
    """Validate the plan and start its wave once; refuse an invalid message with a ``migration.rejected`` event."""
    claimed: Any = None
    try:
        overrides = overrides_of(properties(msg))
        data = decode_json(msg.get_body(), what="message body")
        claimed = overrides.get("id") or (data.get("id") if isinstance(data, dict) else None)
        start = prepare_start(
            data,
            via="servicebus",
            now=datetime.now(UTC),
            environ=os.environ,
            idempotency_key=message_key(msg),
            overrides=overrides,
        )
        await starting.start_once(client, start)
    except ApiError as error:
        await reject(QUEUE, msg, error, claimed)
