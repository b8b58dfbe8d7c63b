"""The activity that publishes one migration event to the ``migration-events`` topic.

Input (one JSON object)::

    {"type": "migration.machine.stage_changed",          # an EventType value
     "eventKey": "{instanceId}/{machine}/{stage}/{status}/{attempt}",
     "time": "2026-11-27T07:00:00Z",                     # context.current_utc_datetime, ISO-8601 with offset
     "migrationId": "wave-1",                            # null only for migration.rejected
     "machine": "vm-01",                                 # optional cross-check of the routing property
     "status": "running",                                # optional cross-check of the routing property
     "data": {...}}                                      # the event's data (see docs/events.md)

Output: ``{"eventId": "<uuid>", "published": true}``; ``published: false`` with a ``reason`` at once when the app
has no Service Bus (events switched off: no ``ServiceBusConnection`` setting with a value, the rule in
``migration/servicebus.py``). The event is built and validated either way, so a bad event is caught the same way.

Activities are at-least-once: a retry, or a worker that dies after the send but before its result is
recorded, runs this again. The message id is derived from the type and ``eventKey``, so the topic's duplicate
detection drops the second copy. A Service Bus error is raised as is, so the orchestrator's retry policy
applies; input that does not make a valid event is a programming error and raises ValueError, as do settings
that are set but malformed. Sending (the process's one client, reconnecting after a failure) is the adapter's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration import servicebus
from migration.events import build_event

__all__ = ["name", "bp", "publish", "publish_event"]

name = names.PUBLISH_EVENT
bp = df.Blueprint()

_REQUIRED = ("type", "eventKey", "time", "migrationId", "data")
_OPTIONAL = ("machine", "status")


def _parse_input(payload: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise ValueError(f"publish_event takes a JSON object, not {type(payload).__name__}")
    missing = [key for key in _REQUIRED if key not in payload]
    unknown = sorted(set(payload) - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise ValueError(f"publish_event input: {'; '.join(problems)}")
    for key in ("machine", "status"):
        if payload.get(key) is not None and not isinstance(payload[key], str):
            raise ValueError(f"publish_event input: {key} must be a string")
    if payload["migrationId"] is not None and not isinstance(payload["migrationId"], str):
        raise ValueError("publish_event input: migrationId must be a string or null")
    return dict(payload)


def publish(payload: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the event described by ``payload`` and send it; ``published`` says whether events are switched on."""
    fields = _parse_input(payload)
    message = build_event(
        fields["type"],
        event_key=fields["eventKey"],
        time=fields["time"],
        migration_id=fields["migrationId"],
        data=fields["data"],
        machine=fields.get("machine"),
        status=fields.get("status"),
    )
    if not servicebus.publish_event(message, environ):
        return {
            "eventId": message.message_id,
            "published": False,
            "reason": f"no {servicebus.CONNECTION_SETTING} setting",
        }
    return {"eventId": message.message_id, "published": True}


@bp.activity_trigger(input_name="payload", activity=name)
def publish_event(payload: dict[str, Any]) -> dict[str, Any]:
    """Publish one migration event (see the module docstring for the input); idempotent by ``eventKey``."""
    return publish(payload)
