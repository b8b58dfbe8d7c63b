"""Activity: one POST of a migration's final result to its ``callbackUrl``, and what the answer means.

It never raises for an HTTP answer: the orchestration decides about retries, so this says which case it is:

- ``delivered``: a 2xx;
- ``retry``: no answer (connection refused, reset, timeout), 408, 429 or a 5xx; ``retryAfter`` is the receiver's
  ``Retry-After`` in seconds when it sent one;
- ``final``: any other answer (a 4xx: the URL is wrong or was already used; a redirect, which is not followed, as a
  POST must not be replayed elsewhere).

The URL carries a signature (Logic Apps' ``sig=``), so it is never logged or returned: messages go through
``migration.errors.redact``.

Input ``{"callbackUrl", "body"}``. Output ``{"outcome", "status", "retryAfter", "message"}``.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import parse_retry_after, redact

name = names.POST_CALLBACK
bp = df.Blueprint()

log = logging.getLogger("activities.post_callback")
TIMEOUT_SECONDS = 30
_RETRY_STATUSES = frozenset({408, 429})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect())


def classify(status: int | None) -> str:
    if status is None or status in _RETRY_STATUSES or status >= 500:
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    return "final"


def post(url: str, body: Any, timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    status: int | None = None
    headers: dict[str, str] = {}
    message = ""
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
            headers = dict(response.headers.items())
    except urllib.error.HTTPError as error:
        status = error.code
        headers = dict(error.headers.items()) if error.headers else {}
        message = f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        message = redact(f"{type(error).__name__}: {error}")[:500]
    outcome = classify(status)
    if outcome != "delivered":
        log.warning("callback POST answered %s: %s", status, message)
    return {"outcome": outcome, "status": status, "retryAfter": parse_retry_after(headers), "message": message}


@bp.activity_trigger(input_name="request", activity=names.POST_CALLBACK)
def post_callback(request: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` to ``callbackUrl`` once; classify the answer (see the module docstring)."""
    return post(str(request["callbackUrl"]), request.get("body"))
