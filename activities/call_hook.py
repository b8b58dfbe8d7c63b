"""Activity: one call of a group's ``http`` hook, a POST of its CloudEvent, and what the answer means.

The URL is somebody else's address with, often, a signature in its query: it is checked again here against the
callback rule (``migration.outbound``; the host may resolve elsewhere since submission), the POST goes to the
address that was checked and follows no redirect (``migration.outbound.post_json``), and the answer names the host
alone. The body is the structured CloudEvent the wave built (``migration.group.hook``), sent as
``application/cloudevents+json``, the CloudEvents HTTP binding's structured mode.

It never raises for an answer: the wave decides about further calls, on durable timers, so this says whether one
may help (no answer, 408, 429, a 5xx). The excerpt of the answer is the receiver's text: decoded leniently, control
characters blanked, secrets redacted, clipped.

Input :class:`migration.payloads.hooks.HookPost`. Output :class:`migration.payloads.hooks.HookAnswer`.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlsplit

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import redact
from migration.events import CONTENT_TYPE
from migration.hook_options import HttpHook
from migration.outbound import CallbackPolicy, DestinationRefused, post_json, worth_retrying
from migration.payloads.hooks import HookAnswer, HookPost
from migration.status_bounds import clipped

name = names.CALL_HOOK
bp = df.Blueprint()

log = logging.getLogger("activities.call_hook")
EXCERPT = 300


def excerpt(body: bytes) -> str:
    """The start of an answer as text that is safe to show: control characters blanked, secrets redacted."""
    text = body[: EXCERPT * 4].decode("utf-8", errors="replace")
    shown = "".join(char if char.isprintable() else " " for char in text)
    return clipped(redact(" ".join(shown.split())), EXCERPT)


def call(asked: HookPost, policy: CallbackPolicy | None = None) -> HookAnswer:
    """POST the event once to the hook's URL, if the callback rule still allows it, and judge the answer."""
    hook = HttpHook.model_validate(asked.hook)
    host = (urlsplit(hook.url).hostname or "").lower()
    try:
        answer = post_json(
            hook.url,
            asked.event,
            policy=policy or CallbackPolicy.from_settings(os.environ),
            timeout=hook.timeout.total_seconds(),
            content_type=CONTENT_TYPE,
        )
    except DestinationRefused as error:
        log.warning("hook %s refused: %s", hook.name, error)
        return HookAnswer("failed", retry=False, host=host, detail=f"refused: {error}"[:500])
    status = answer.status
    if status is None:
        log.warning("hook %s: no answer from %s: %s", hook.name, host, answer.problem)
        return HookAnswer("failed", retry=True, host=host, detail=f"no answer: {answer.problem}"[:500])
    shown = excerpt(answer.body)
    if hook.passes(status):
        return HookAnswer("passed", status=status, host=host, excerpt=shown, detail=f"HTTP {status}")
    expected = ", ".join(str(s) for s in hook.expect_status) if hook.expect_status else "a 2xx"
    log.warning("hook %s: %s answered %s", hook.name, host, status)
    detail = f"HTTP {status}, expected {expected}"
    return HookAnswer("failed", retry=worth_retrying(status), status=status, host=host, excerpt=shown, detail=detail)


@bp.activity_trigger(input_name="request", activity=names.CALL_HOOK)
def call_hook(request: dict[str, Any]) -> dict[str, Any]:
    """POST the hook's event once; classify the answer (see the module docstring)."""
    return call(HookPost.from_dict(request)).to_dict()
