"""The activity that publishes one migration event to the ``migration-events`` topic.

Input: :class:`migration.payloads.publishing.EventRequest` (the event's type, ``eventKey``, time, migration id,
data, and optionally the routing properties ``machine`` and ``status``; see docs/events.md for the data).

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
from migration.payloads.publishing import EventRequest

__all__ = ["name", "bp", "publish", "publish_event"]

name = names.PUBLISH_EVENT
bp = df.Blueprint()


def publish(payload: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the event described by ``payload`` and send it; ``published`` says whether events are switched on."""
    fields = EventRequest.from_dict(payload)
    message = build_event(
        fields.type,
        event_key=fields.event_key,
        time=fields.time,
        migration_id=fields.migration_id,
        data=fields.data,
        machine=fields.machine,
        status=fields.status,
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
