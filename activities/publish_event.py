"""The activity that publishes one migration event to the ``migration-events`` topic.

Input (one JSON object)::

    {"type": "migration.machine.stage_changed",          # an EventType value
     "eventKey": "{instanceId}/{machine}/{stage}/{status}/{attempt}",
     "time": "2026-11-27T07:00:00Z",                     # context.current_utc_datetime, ISO-8601 with offset
     "migrationId": "wave-1",                            # null only for migration.rejected
     "machine": "vm-01",                                 # optional cross-check of the routing property
     "status": "running",                                # optional cross-check of the routing property
     "data": {...}}                                      # the event's data (see docs/events.md)

Output: ``{"eventId": "<uuid>", "published": true}``; ``published: false`` with a ``reason`` when the app has no
Service Bus connection setting at all (events switched off).

Activities are at-least-once: a retry, or a worker that dies after the send but before its result is
recorded, runs this again. The message id is derived from the type and ``eventKey``, so the topic's duplicate
detection drops the second copy. A Service Bus error is raised as is, so the orchestrator's retry policy
applies; input that does not make a valid event is a programming error and raises ValueError.

The client is created on first use and kept for the process (each new sender costs a connection and a
token exchange); a lock serialises its use, since the SDK's clients are not thread-safe and the Python
worker runs sync activities on a thread pool.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

import azure.durable_functions as df
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSender

from migration import function_names as names
from migration.events import TOPIC, EventMessage, build_event
from migration.servicebus_settings import CONNECTION_SETTING, ServiceBusSettings, create_client, read_settings

__all__ = ["name", "bp", "publish", "publish_event", "close_client"]

name = names.PUBLISH_EVENT
bp = df.Blueprint()

_REQUIRED = ("type", "eventKey", "time", "migrationId", "data")
_OPTIONAL = ("machine", "status")


class _Publisher:
    """One client and one topic sender per process, recreated when the settings change or a send fails."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings: ServiceBusSettings | None = None
        self._client: ServiceBusClient | None = None
        self._sender: ServiceBusSender | None = None

    def send(self, message: EventMessage, settings: ServiceBusSettings) -> None:
        with self._lock:
            if self._settings != settings:
                self._close()
            if self._client is None:
                self._client = create_client(settings)
                self._settings = settings
            if self._sender is None:
                self._sender = self._client.get_topic_sender(TOPIC)
            properties: dict[str | bytes, Any] = {key: value for key, value in message.application_properties.items()}
            try:
                self._sender.send_messages(
                    ServiceBusMessage(
                        message.body,
                        content_type=message.content_type,
                        message_id=message.message_id,
                        correlation_id=message.correlation_id,
                        subject=message.subject,
                        application_properties=properties,
                    )
                )
            except BaseException:
                # A broken link must not poison the next attempt: reconnect from scratch.
                self._close()
                raise

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        sender, client = self._sender, self._client
        self._sender, self._client, self._settings = None, None, None
        for handler in (sender, client):
            if handler is not None:
                try:
                    handler.close()
                except Exception:  # closing a half-broken connection may fail; the object is dropped anyway
                    pass


_publisher = _Publisher()


def _parse_input(payload: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise ValueError(f"publish_event takes a JSON object, not {type(payload).__name__}")
    missing = [key for key in _REQUIRED if key not in payload]
    unknown = sorted(set(payload) - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise ValueError(f"publish_event input: {'; '.join(problems)}")
    for key in ("machine", "status"):
        if payload.get(key) is not None and not isinstance(payload[key], str):
            raise ValueError(f"publish_event input: {key} must be a string")
    if payload["migrationId"] is not None and not isinstance(payload["migrationId"], str):
        raise ValueError("publish_event input: migrationId must be a string or null")
    return dict(payload)


def publish(payload: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the event described by ``payload`` and send it; returns ``{eventId, published: true}``."""
    fields = _parse_input(payload)
    message = build_event(
        fields["type"],
        event_key=fields["eventKey"],
        time=fields["time"],
        migration_id=fields["migrationId"],
        data=fields["data"],
        machine=fields.get("machine"),
        status=fields.get("status"),
    )
    environ = os.environ if environ is None else environ
    if not any(key == CONNECTION_SETTING or key.startswith(f"{CONNECTION_SETTING}__") for key in environ):
        # An app with no Service Bus connection at all has events switched off; the event was still built and
        # validated, so a bad event is caught the same way. A connection that is set but malformed raises.
        return {"eventId": message.message_id, "published": False, "reason": f"no {CONNECTION_SETTING} setting"}
    _publisher.send(message, read_settings(environ))
    return {"eventId": message.message_id, "published": True}


def close_client() -> None:
    """Close the cached client (tests, and a clean shutdown); the next publish opens a new one."""
    _publisher.close()


@bp.activity_trigger(input_name="payload", activity=name)
def publish_event(payload: dict[str, Any]) -> dict[str, Any]:
    """Publish one migration event (see the module docstring for the input); idempotent by ``eventKey``."""
    return publish(payload)
