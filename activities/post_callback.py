"""Activity: one POST of a migration's final result to its ``callbackUrl``, and what the answer means.

It never raises for an HTTP answer: the orchestration decides about retries, so this says which case it is:

- ``delivered``: a 2xx;
- ``retry``: no answer (connection refused, reset, timeout), 408, 429 or a 5xx; ``retryAfter`` is the receiver's
  ``Retry-After`` in seconds when it sent one;
- ``final``: any other answer (a 4xx: the URL is wrong or was already used; a redirect, which is not followed, as a
  POST must not be replayed elsewhere), and a destination ``migration.outbound`` refuses (checked again here: the
  host may resolve elsewhere since submission, and the connection goes to the address that was checked).

The URL carries a signature (Logic Apps' ``sig=``), so it is never logged or returned: messages go through
``migration.errors.redact``.

Input :class:`migration.payloads.callbacks.CallbackPost`. Output :class:`migration.payloads.callbacks.PostAnswer`.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import parse_retry_after, redact
from migration.outbound import CallbackPolicy, Destination, DestinationRefused
from migration.payloads.callbacks import CallbackPost, PostAnswer

name = names.POST_CALLBACK
bp = df.Blueprint()

log = logging.getLogger("activities.post_callback")
TIMEOUT_SECONDS = 30
_RETRY_STATUSES = frozenset({408, 429})


def classify(status: int | None) -> str:
    if status is None or status in _RETRY_STATUSES or status >= 500:
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    return "final"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host resolves to now (``migration.outbound``, check 3)."""

    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._address = destination.addresses[0]

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The https form: TCP to the checked address, TLS (certificate and SNI) for the host the URL names."""

    def __init__(self, destination: Destination, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(destination.host, destination.port, timeout=timeout, context=self._tls)
        self._address = destination.addresses[0]

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _target(url: str) -> str:
    """The request target: the URL's path and query, as the receiver signed them."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def post(url: str, body: Any, timeout: float = TIMEOUT_SECONDS, policy: CallbackPolicy | None = None) -> dict[str, Any]:
    """POST ``body`` once to ``url`` if the callback policy (``CALLBACK_ALLOWED_HOSTS``) still allows it."""
    try:
        destination = (policy or CallbackPolicy.from_settings(os.environ)).check(url)
    except DestinationRefused as error:
        log.warning("callback refused: %s", error)
        return PostAnswer("final", None, None, f"refused: {error}"[:500]).to_dict()
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    connection_type = _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    connection = connection_type(destination, timeout)
    status: int | None = None
    headers: dict[str, str] = {}
    message = ""
    try:
        connection.request("POST", _target(url), body=data, headers={"Content-Type": "application/json; charset=utf-8"})
        response = connection.getresponse()
        status = response.status
        headers = dict(response.getheaders())
        response.read(64 * 1024)
        if status >= 300:
            message = f"HTTP {status}"
    except (http.client.HTTPException, OSError, ValueError) as error:
        message = redact(f"{type(error).__name__}: {error}")[:500]
    finally:
        connection.close()
    outcome = classify(status)
    if outcome != "delivered":
        log.warning("callback POST answered %s: %s", status, message)
    return PostAnswer(outcome, status, parse_retry_after(headers), message).to_dict()


@bp.activity_trigger(input_name="request", activity=names.POST_CALLBACK)
def post_callback(request: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` to ``callbackUrl`` once; classify the answer (see the module docstring)."""
    asked = CallbackPost.from_dict(request)
    return post(asked.callback_url, asked.body)
