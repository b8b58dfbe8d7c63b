"""HTTP routes that steer a running migration: approve, reject, cancel, retry, postpone, pause, resume.

Each checks the caller's app role (approvers approve and reject, operators cancel, retry, postpone, pause and
resume) and the body (a reason; a window for postpone), records the signed-in principal as the actor (the body's
``actor`` only as a note), then raises the wave's ``control`` event with a command id (the ``Idempotency-Key``
header, or a new one) so a repeated request acts once. 202 means the wave
received the command; whether it accepted it is the wave's decision, shown as ``lastControl`` in the status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import azure.durable_functions as df
import azure.functions as func

from migration.access import ACTION_ROLES
from migration.api_requests import (
    MAX_CONTROL_BYTES,
    check_json_content_type,
    decode_json,
    parse_control_body,
    parse_idempotency_key,
)
from migration.api_status import Links
from migration.commands import ACTIONS, ControlAction
from migration.payloads.idempotency import KeyRecord
from triggers import durable_access, idempotency_keys
from triggers.http_common import api_base, caller, guarded, json_response, require_migration_id

name = "http_control"
bp = df.Blueprint()

Route = Callable[[func.HttpRequest, df.DurableOrchestrationClient], Awaitable[func.HttpResponse]]


async def send_command(req: func.HttpRequest, client: df.DurableOrchestrationClient, action: str) -> func.HttpResponse:
    async def handle() -> func.HttpResponse:
        principal = caller(req, ACTION_ROLES[ControlAction(action)], f"the {action} command")
        migration_id = require_migration_id(req.route_params.get("id"))
        check_json_content_type(req.headers.get("Content-Type"))
        command_id = parse_idempotency_key(req.headers.get("Idempotency-Key"))
        data = decode_json(req.get_body(), what="command", limit=MAX_CONTROL_BYTES)
        signed_in = (principal.name, principal.object_id)
        command = parse_control_body(action, data, command_id=command_id, caller=signed_in)
        scope = f"commands of {migration_id}"
        record = (
            KeyRecord(scope, command_id, command.fingerprint, migration_id, f"the {action} command")
            if command_id
            else None
        )
        await idempotency_keys.once_per_key(
            client, record, lambda: durable_access.raise_control(client, migration_id, command.payload())
        )
        links = Links(api_base(req), migration_id).to_dict()
        body = {"accepted": True, "action": action, "commandId": command.id, "links": links}
        return json_response(body, 202, {"Location": links["self"]})

    return await guarded(f"POST {action}", handle)


def _route(action: str) -> Route:
    async def control(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
        return await send_command(req, client, action)

    control.__name__ = f"{action}_migration"
    control.__doc__ = f"Send the {action} command to a running migration."
    return control


for _action in ACTIONS:
    bp.function_name(f"{_action}_migration")(
        bp.route(route=f"migrations/{{id}}/{_action}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)(
            bp.durable_client_input(client_name="client")(_route(_action))
        )
    )
