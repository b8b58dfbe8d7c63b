"""Publishing migration events from orchestration code.

The event id comes from the instance id and a key naming the moment (``{instanceId}/{key}``), so a replay or an
activity retry publishes the same id and the topic's duplicate detection keeps one copy. Publishing is retried
longer than ASR calls (Service Bus outages are usually short); if it still fails, the migration goes on: an event
is a report about the work, never a reason to stop it. The count of such failures is kept in the status.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.payloads.publishing import EventRequest
from orchestrators.timing import event_retry


def publish_task(
    context: df.DurableOrchestrationContext,
    *,
    event_type: str,
    key: str,
    migration_id: str,
    data: dict[str, Any],
    time_scale: float,
    machine: str | None = None,
    status: str | None = None,
) -> Any:
    """The task that publishes one event, for callers that must wait on it together with other tasks."""
    request = EventRequest(
        type=event_type,
        event_key=f"{context.instance_id}/{key}",
        time=context.current_utc_datetime.isoformat(),
        migration_id=migration_id,
        data=data,
        machine=machine,
        status=status,
    )
    return context.call_activity_with_retry(names.PUBLISH_EVENT, event_retry(time_scale), request.to_dict())


def publish(context: df.DurableOrchestrationContext, **event: Any) -> Generator[Any, Any, bool]:
    """Publish one event (the arguments of :func:`publish_task`); True once Service Bus has it or events are
    switched off, False if publishing failed after every retry."""
    try:
        yield publish_task(context, **event)
    except Exception:  # the activity's last failure, after every retry
        return False
    return True
