"""Orchestration: deliver a migration's final result to its ``callbackUrl``, retrying with growing pauses.

Logic Apps' HTTP Webhook action waits for one POST to the URL it handed out. The receiver may be briefly down or
throttling, so a failed POST is tried again after durable timers that grow (30 s, 1 min, 2 min, … up to 30 min,
or longer when the receiver's ``Retry-After`` asks), for at most a day; a 4xx other than 408/429 is final (the URL is
wrong or was used). It runs apart from the wave (see ``activities/start_callback_delivery.py``), so the migration's
completion never waits on it.

Input :class:`migration.payloads.callbacks.CallbackDelivery`. Custom status ``{"callbackUrl" (query
redacted), "attempts", "lastStatus", "outcome", "nextAttemptAt"}``. Output ``{"delivered", "attempts",
"lastStatus", "outcome"}``.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import redact_all
from migration.json_types import Json
from migration.payloads.callbacks import CallbackDelivery, CallbackPost, PostAnswer
from orchestrators.timing import scaled

name = names.DELIVER_CALLBACK
bp = df.Blueprint()

FIRST_PAUSE_SECONDS = 30.0
MAX_PAUSE_SECONDS = 1800.0
GIVE_UP_AFTER = timedelta(days=1)


def shown_url(url: str) -> str:
    """The URL without its query (where Logic Apps puts the signature) for status pages."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def pause_seconds(attempt: int, retry_after: float | None) -> float:
    """Plan-seconds before attempt ``attempt + 1``: doubling from 30 s, capped at 30 min, never below Retry-After."""
    grown = min(FIRST_PAUSE_SECONDS * float(2 ** min(attempt - 1, 16)), MAX_PAUSE_SECONDS)
    return max(grown, retry_after or 0.0)


@bp.orchestration_trigger(context_name="context", orchestration=names.DELIVER_CALLBACK)
def deliver_callback(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Json]:
    request = CallbackDelivery.from_dict(context.get_input())
    url = request.callback_url
    scale = request.time_scale
    body = {"migrationId": request.migration_id, **redact_all(request.result or {})}
    deadline = context.current_utc_datetime + scaled(GIVE_UP_AFTER.total_seconds(), scale)
    attempts = 0
    while True:
        attempts += 1
        answer = yield context.call_activity(names.POST_CALLBACK, CallbackPost(url, body).to_dict())
        last = PostAnswer.from_dict(answer)
        status: Json = {
            "callbackUrl": shown_url(url),
            "attempts": attempts,
            "lastStatus": last.status,
            "outcome": last.outcome,
            "nextAttemptAt": None,
        }
        if last.outcome != "retry":
            context.set_custom_status(status)
            break
        wait = scaled(pause_seconds(attempts, last.retry_after), scale)
        next_at = context.current_utc_datetime + wait
        if next_at > deadline:
            status["outcome"] = "gaveUp"
            context.set_custom_status(status)
            break
        status["nextAttemptAt"] = next_at.isoformat()
        context.set_custom_status(status)
        yield context.create_timer(next_at)
    return {
        "delivered": last.outcome == "delivered",
        "attempts": attempts,
        "lastStatus": last.status,
        "outcome": "gaveUp" if last.outcome == "retry" else last.outcome,
    }
