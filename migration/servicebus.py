"""The one door to the app's Service Bus: whether there is one, how to reach it, and sending events to it.

Activities and triggers both come through here (``activities/publish_event.py`` publishes the migration events, the
Service Bus triggers publish ``migration.rejected``); it is the only code that imports the Service Bus SDK.

**Settings.** The Functions host reads the Service Bus triggers' connection from the settings named
``ServiceBusConnection``; this adapter reads the same names, so one set of settings serves both:

- ``ServiceBusConnection``: a connection string. Locally this is the emulator's
  (``Endpoint=sb://127.0.0.1:<port>;...;UseDevelopmentEmulator=true;``).
- ``ServiceBusConnection__fullyQualifiedNamespace`` (+ optional ``ServiceBusConnection__clientId``): the
  identity-based form the azd template sets in Azure, where the namespace has local (SAS) auth off. The
  client id picks the app's user-assigned identity for ``DefaultAzureCredential``.

A connection string wins when both are set, as it does for the Functions host's own extension. Errors never
repeat a connection string: it may hold a key.

**One rule for "configured"** (:func:`configured`). The app has a Service Bus when any setting of that name, or
under it (``ServiceBusConnection__*``), holds something other than whitespace. An absent, empty or blank setting
is the same thing, *no Service Bus*: events are switched off (a publish answers "not published" at once) and the
Service Bus triggers are not registered. A setting that holds something but does not name a namespace (a client
id alone, a string without ``Endpoint=``) is a mistake, not a switch: publishing raises a ValueError naming the
setting, and the triggers are registered so the host reports it too. Deciding this once keeps the triggers and the
publisher from disagreeing (an empty setting that turned the triggers off while every publish failed its retries).

**Sending.** The client is created on first use and kept for the process (each new one costs a connection and a
token exchange); a lock serialises its use, since the SDK's clients are not thread-safe and the Python worker runs
sync activities on a thread pool. A link that breaks (the broker restarted, a connection idled out) is reopened by
the SDK's own retry policy within the send. A send that still fails closes the client before the error is raised,
so the caller's next attempt (the orchestrator's retry policy, the broker's redelivery) starts on a new connection
instead of a poisoned one.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.identity import DefaultAzureCredential
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSender

from migration.events import TOPIC, EventMessage

__all__ = [
    "CONNECTION_SETTING",
    "ServiceBusSettings",
    "close_client",
    "configured",
    "create_client",
    "publish_event",
    "read_settings",
]

CONNECTION_SETTING = "ServiceBusConnection"
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*(?::\d+)?$"
)


def configured(environ: Mapping[str, str], prefix: str = CONNECTION_SETTING) -> bool:
    """True when a setting named ``prefix`` or ``prefix__*`` holds more than whitespace (see the module docstring)."""
    return any(
        (key == prefix or key.startswith(f"{prefix}__")) and bool(str(value).strip()) for key, value in environ.items()
    )


@dataclass(frozen=True)
class ServiceBusSettings:
    """Either a connection string, or a namespace (and optionally a managed identity's client id)."""

    connection_string: str | None = field(default=None, repr=False)
    fully_qualified_namespace: str | None = None
    client_id: str | None = None

    @property
    def uses_identity(self) -> bool:
        return self.connection_string is None


def read_settings(environ: Mapping[str, str], prefix: str = CONNECTION_SETTING) -> ServiceBusSettings:
    """The settings under ``prefix``; ValueError naming the setting to fix when they are missing or malformed."""
    connection_string = environ.get(prefix, "").strip()
    if connection_string:
        if "endpoint=" not in connection_string.lower():
            raise ValueError(f"setting {prefix} is not a Service Bus connection string (it has no Endpoint=)")
        return ServiceBusSettings(connection_string=connection_string)
    namespace = environ.get(f"{prefix}__fullyQualifiedNamespace", "").strip()
    if not namespace:
        raise ValueError(
            f"no Service Bus connection: set {prefix} (a connection string) or "
            f"{prefix}__fullyQualifiedNamespace (with {prefix}__clientId for a user-assigned identity)"
        )
    host = namespace.removeprefix("sb://").removeprefix("https://").rstrip("/")
    if not _HOSTNAME.match(host):
        raise ValueError(f"setting {prefix}__fullyQualifiedNamespace {namespace!r} is not a host name")
    client_id = environ.get(f"{prefix}__clientId", "").strip() or None
    return ServiceBusSettings(fully_qualified_namespace=host, client_id=client_id)


def create_client(settings: ServiceBusSettings) -> ServiceBusClient:
    """A new client for ``settings``; it connects lazily, on the first send."""
    if settings.connection_string is not None:
        return ServiceBusClient.from_connection_string(settings.connection_string)
    assert settings.fully_qualified_namespace is not None  # read_settings guarantees one of the two
    credential = DefaultAzureCredential(managed_identity_client_id=settings.client_id)
    return ServiceBusClient(settings.fully_qualified_namespace, credential)


class _EventPublisher:
    """One client and one sender on the events topic per process, recreated when the settings change or a send
    fails."""

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


_publisher = _EventPublisher()


def publish_event(message: EventMessage, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``message`` to the events topic: True once Service Bus has it, False when the app has no Service Bus.

    A Service Bus error is raised as is (the caller's retry applies); so is a ValueError for settings that are set
    but malformed. ``environ`` defaults to the process's settings.
    """
    environ = os.environ if environ is None else environ
    if not configured(environ):
        return False
    _publisher.send(message, read_settings(environ))
    return True


def close_client() -> None:
    """Close the cached client (tests, and a clean shutdown); the next publish opens a new one."""
    _publisher.close()
