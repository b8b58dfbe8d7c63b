"""Where the app's Service Bus is and how to sign in to it, read from the same settings the triggers use.

The Functions host reads the Service Bus triggers' connection from the settings named ``ServiceBusConnection``;
our own publisher reads the same names so that one set of settings serves both:

- ``ServiceBusConnection``: a connection string. Locally this is the emulator's
  (``Endpoint=sb://127.0.0.1:<port>;...;UseDevelopmentEmulator=true;``).
- ``ServiceBusConnection__fullyQualifiedNamespace`` (+ optional ``ServiceBusConnection__clientId``): the
  identity-based form the azd template sets in Azure, where the namespace has local (SAS) auth off. The
  client id picks the app's user-assigned identity for ``DefaultAzureCredential``.

A connection string wins when both are set, as it does for the Functions host's own extension. Errors never
repeat a connection string: it may hold a key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from azure.identity import DefaultAzureCredential
from azure.servicebus import ServiceBusClient

__all__ = ["CONNECTION_SETTING", "ServiceBusSettings", "create_client", "read_settings"]

CONNECTION_SETTING = "ServiceBusConnection"
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*(?::\d+)?$"
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
