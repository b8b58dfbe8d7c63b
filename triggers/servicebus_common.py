"""What both Service Bus triggers share: when they are on, and how a refused message is answered.

**On only with a connection.** The triggers listen on the namespace named by the ``ServiceBusConnection`` settings
(a connection string locally; ``ServiceBusConnection__fullyQualifiedNamespace`` in Azure). An app deployed without
them (or with them empty) has no Service Bus: its events are switched off and, likewise, these triggers are not
registered, instead of failing the host's start for a queue nobody uses. Both follow the one rule in
``migration/servicebus.py`` (``configured``), which ``function_app.py`` applies.

**Refused, not retried.** A message that can never succeed (not JSON, an invalid plan, a command for an unknown or
ended migration) is answered with a ``migration.rejected`` event carrying the problems and the message id, then
completed: a redelivery would be refused the same way, ten times, and end in the dead-letter queue with no
explanation. The event (built by ``migration/rejections.py``) takes its id from the queue and the message id, so a
redelivered message cannot publish a second rejection. Publishing failures, like every other infrastructure
failure, raise: the broker redelivers and finally dead-letters, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from migration import servicebus
from migration.api_requests import ApiError
from migration.rejections import rejection_event

__all__ = ["message_key", "properties", "reject"]

log = logging.getLogger("triggers.servicebus")


def message_key(msg: func.ServiceBusMessage) -> str:
    """The message id, or its sequence number when a sender set none."""
    return str(msg.message_id or f"seq-{msg.sequence_number}")[:128]


def properties(msg: func.ServiceBusMessage) -> dict[str, Any]:
    found = msg.application_properties or msg.user_properties or {}
    return dict(found)


async def reject(queue: str, msg: func.ServiceBusMessage, error: ApiError, migration_id: Any = None) -> None:
    """Publish ``migration.rejected`` for ``msg`` (its problems, its id); raises if the event cannot be sent."""
    key = message_key(msg)
    event = rejection_event(queue, key, error, migration_id, now=datetime.now(UTC))
    await asyncio.to_thread(servicebus.publish_event, event)
    log.warning("refused message %s on %s: %s", key, queue, event.event["data"]["reason"][:500])
