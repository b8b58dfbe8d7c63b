"""Service Bus trigger on ``migration-control``: approve, reject, cancel, retry, postpone, pause or resume a migration.

Body: ``{"migrationId", "action", "actor", "reason", "machines"?, "window"?}`` (JSON), the same command the HTTP
routes take. The message id becomes the command's id, so a redelivered command acts once (the wave ignores an id
it has seen). A command that can never apply (malformed, an unknown migration, one that has ended) is answered with
a ``migration.rejected`` event and completed; an infrastructure failure raises, so the broker redelivers.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from migration.api_requests import MAX_CONTROL_BYTES, ApiError, decode_json, parse_control_body
from migration.commands import ACTIONS
from migration.servicebus import CONNECTION_SETTING
from triggers import durable_access
from triggers.http_common import require_migration_id
from triggers.servicebus_common import message_key, reject

name = "servicebus_control"
bp = df.Blueprint()

QUEUE = "migration-control"


@bp.function_name("servicebus_migration_control")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE, connection=CONNECTION_SETTING)
@bp.durable_client_input(client_name="client")
async def migration_control(msg: func.ServiceBusMessage, client: df.DurableOrchestrationClient) -> None:
    """Raise the command on the migration's wave; refuse what can never apply with a ``migration.rejected`` event."""
    claimed: Any = None
    try:
        data = decode_json(msg.get_body(), what="message body", limit=MAX_CONTROL_BYTES)
        if not isinstance(data, dict):
            raise ApiError(400, "InvalidCommand", "a command is a JSON object")
        claimed = data.get("migrationId")
        action = data.get("action")
        if not isinstance(action, str) or action not in ACTIONS:
            raise ApiError(
                400,
                "InvalidCommand",
                f"action must be one of {', '.join(ACTIONS)}",
                [{"path": "action", "message": f"must be one of {', '.join(ACTIONS)}"}],
            )
        if not isinstance(claimed, str):
            raise ApiError(
                400, "InvalidCommand", "migrationId is required", [{"path": "migrationId", "message": "required"}]
            )
        migration_id = require_migration_id(claimed)
        command = parse_control_body(action, data, command_id=message_key(msg))
        await durable_access.raise_control(client, migration_id, command.payload())
    except ApiError as error:
        await reject(QUEUE, msg, error, claimed)
