"""Activity: one POST of a migration's final result to its ``callbackUrl``, and what the answer means.

It never raises for an HTTP answer: the orchestration decides about retries, so this says which case it is:

- ``delivered``: a 2xx;
- ``retry``: no answer (connection refused, reset, timeout), 408, 429 or a 5xx; ``retryAfter`` is the receiver's
  ``Retry-After`` in seconds when it sent one;
- ``final``: any other answer (a 4xx: the URL is wrong or was already used; a redirect, which is not followed, as a
  POST must not be replayed elsewhere), and a destination ``migration.outbound`` refuses (checked again here: the
  host may resolve elsewhere since submission, and the connection goes to the address that was checked:
  ``migration.outbound.post_json``).

The URL carries a signature (Logic Apps' ``sig=``), so it is never logged or returned: messages go through
``migration.errors.redact``.

Input :class:`migration.payloads.callbacks.CallbackPost`. Output :class:`migration.payloads.callbacks.PostAnswer`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import parse_retry_after
from migration.outbound import CallbackPolicy, DestinationRefused, post_json, worth_retrying
from migration.payloads.callbacks import CallbackPost, PostAnswer

name = names.POST_CALLBACK
bp = df.Blueprint()

log = logging.getLogger("activities.post_callback")
TIMEOUT_SECONDS = 30


def classify(status: int | None) -> str:
    if worth_retrying(status):
        return "retry"
    if status is not None and 200 <= status < 300:
        return "delivered"
    return "final"


def post(url: str, body: Any, timeout: float = TIMEOUT_SECONDS, policy: CallbackPolicy | None = None) -> dict[str, Any]:
    """POST ``body`` once to ``url`` if the callback policy (``CALLBACK_ALLOWED_HOSTS``) still allows it."""
    try:
        answer = post_json(url, body, policy=policy or CallbackPolicy.from_settings(os.environ), timeout=timeout)
    except DestinationRefused as error:
        log.warning("callback refused: %s", error)
        return PostAnswer("final", None, None, f"refused: {error}"[:500]).to_dict()
    status = answer.status
    message = answer.problem[:500] if status is None else (f"HTTP {status}" if status >= 300 else "")
    outcome = classify(status)
    if outcome != "delivered":
        log.warning("callback POST answered %s: %s", status, message)
    return PostAnswer(outcome, status, parse_retry_after(answer.headers), message).to_dict()


@bp.activity_trigger(input_name="request", activity=names.POST_CALLBACK)
def post_callback(request: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` to ``callbackUrl`` once; classify the answer (see the module docstring)."""
    asked = CallbackPost.from_dict(request)
    return post(asked.callback_url, asked.body)
