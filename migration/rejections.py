"""The ``migration.rejected`` event a Service Bus trigger publishes for a message it refuses.

A message that can never succeed (not JSON, an invalid plan, a command for an unknown or ended migration) is
answered with this event, carrying the problems and the message id, and then completed (see
``triggers/servicebus_common.py``). The event key derives from the queue and the message id, so a redelivered
message rebuilds the same event id and the topic's duplicate detection keeps one rejection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from migration.api_requests import ApiError
from migration.events import EventMessage, EventType, build_event

__all__ = ["MAX_PROBLEMS", "rejection_event"]

# A rejection lists at most this many problems (a Service Bus message holds 256 KB).
MAX_PROBLEMS = 100


def rejection_event(queue: str, message_key: str, error: ApiError, claimed: Any, *, now: datetime) -> EventMessage:
    """The event refusing message ``message_key`` on ``queue`` for ``error``; ``claimed`` is the migration id the
    message named, if it named one (kept only when it is a plain string or number)."""
    problems = error.details[:MAX_PROBLEMS]
    more = len(error.details) - len(problems)
    reason = f"{error.code}: {error.message}" + (f" (and {more} more problems)" if more > 0 else "")
    migration_id = str(claimed)[:200] if isinstance(claimed, str | int) and str(claimed) else None
    return build_event(
        EventType.REJECTED,
        event_key=f"servicebus/{queue}/{message_key}",
        time=now,
        migration_id=None,
        data={
            "migrationId": migration_id,
            "messageId": message_key,
            "reason": reason[:1000],
            "problems": [{"path": p["path"][:500], "message": p["message"][:1000]} for p in problems],
        },
    )
