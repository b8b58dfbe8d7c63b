"""What both Service Bus triggers share: when they are on, and how a refused message is answered.

**On only with a connection.** The triggers listen on the namespace named by the ``ServiceBusConnection`` settings
(a connection string locally; ``ServiceBusConnection__fullyQualifiedNamespace`` in Azure). An app deployed without
any of them has no Service Bus: its events are switched off (``activities/publish_event.py``) and, likewise, these
triggers are not registered, instead of failing the host's start for a queue nobody uses.

**Refused, not retried.** A message that can never succeed (not JSON, an invalid plan, a command for an unknown or
ended migration) is answered with a ``migration.rejected`` event carrying the problems and the message id, then
completed: a redelivery would be refused the same way, ten times, and end in the dead-letter queue with no
explanation. The event id derives from the queue and the message id, so a redelivered message cannot publish a
second rejection. Publishing failures, like every other infrastructure failure, raise: the broker redelivers and
finally dead-letters, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from activities.publish_event import publish
from migration.api_requests import ApiError
from migration.errors import redact
from migration.events import EventType
from migration.servicebus_settings import CONNECTION_SETTING

__all__ = ["CONNECTION", "enabled", "message_key", "properties", "reject"]

log = logging.getLogger("triggers.servicebus")
CONNECTION = CONNECTION_SETTING
# A rejection lists at most this many problems (a Service Bus message holds 256 KB).
_MAX_PROBLEMS = 100


def enabled(environ: Mapping[str, str]) -> bool:
    """True when the app has a Service Bus connection setting of either form."""
    return any(key == CONNECTION or key.startswith(f"{CONNECTION}__") for key in environ if environ.get(key))


def message_key(msg: func.ServiceBusMessage) -> str:
    """The message id, or its sequence number when a sender set none."""
    return str(msg.message_id or f"seq-{msg.sequence_number}")[:128]


def properties(msg: func.ServiceBusMessage) -> dict[str, Any]:
    found = msg.application_properties or msg.user_properties or {}
    return dict(found)


async def reject(queue: str, msg: func.ServiceBusMessage, error: ApiError, migration_id: Any = None) -> None:
    """Publish ``migration.rejected`` for ``msg`` (its problems, its id); raises if the event cannot be sent."""
    key = message_key(msg)
    problems = error.details[:_MAX_PROBLEMS]
    more = len(error.details) - len(problems)
    reason = f"{error.code}: {error.message}" + (f" (and {more} more problems)" if more > 0 else "")
    claimed = str(migration_id)[:200] if isinstance(migration_id, str | int) and str(migration_id) else None
    payload = {
        "type": EventType.REJECTED.value,
        "eventKey": f"servicebus/{queue}/{key}",
        "time": datetime.now(UTC).isoformat(),
        "migrationId": None,
        "data": {
            "migrationId": claimed,
            "messageId": key,
            "reason": reason[:1000],
            "problems": [{"path": p["path"][:500], "message": p["message"][:1000]} for p in problems],
        },
    }
    await asyncio.to_thread(publish, payload)
    log.warning("refused message %s on %s: %s", key, queue, redact(reason)[:500])
