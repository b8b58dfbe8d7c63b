"""Reading the Service Bus connection settings the way the triggers' extension does, and building the client."""

from __future__ import annotations

import pytest
from azure.identity import DefaultAzureCredential
from azure.servicebus import ServiceBusClient

from migration.servicebus import ServiceBusSettings, configured, create_client, read_settings

EMULATOR = "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=SECRETKEY;UseDevelopmentEmulator=true;"


def test_a_connection_string_wins_over_identity_settings() -> None:
    settings = read_settings(
        {
            "ServiceBusConnection": EMULATOR,
            "ServiceBusConnection__fullyQualifiedNamespace": "sb-x.servicebus.windows.net",
        }
    )
    assert settings == ServiceBusSettings(connection_string=EMULATOR)
    assert not settings.uses_identity
    assert "SECRETKEY" not in repr(settings)


def test_identity_settings_name_the_namespace_and_the_client_id() -> None:
    settings = read_settings(
        {
            "ServiceBusConnection__fullyQualifiedNamespace": "sb://sb-x.servicebus.windows.net/",
            "ServiceBusConnection__credential": "managedidentity",
            "ServiceBusConnection__clientId": "00000000-0000-0000-0000-000000000001",
        }
    )
    assert settings.uses_identity
    assert settings.fully_qualified_namespace == "sb-x.servicebus.windows.net"
    assert settings.client_id == "00000000-0000-0000-0000-000000000001"
    assert (
        read_settings({"ServiceBusConnection__fullyQualifiedNamespace": "sb-x.servicebus.windows.net"}).client_id
        is None
    )


def test_missing_or_malformed_settings_are_named_without_echoing_secrets() -> None:
    with pytest.raises(ValueError, match="no Service Bus connection: set ServiceBusConnection"):
        read_settings({})
    with pytest.raises(ValueError, match="ServiceBusConnection is not a Service Bus connection string") as caught:
        read_settings({"ServiceBusConnection": "SharedAccessKey=SECRETKEY"})
    assert "SECRETKEY" not in str(caught.value)
    with pytest.raises(ValueError, match="__fullyQualifiedNamespace 'not a host' is not a host name"):
        read_settings({"ServiceBusConnection__fullyQualifiedNamespace": "not a host"})


def test_clients_are_built_for_either_form_without_connecting() -> None:
    with create_client(ServiceBusSettings(connection_string=EMULATOR)) as local:
        assert isinstance(local, ServiceBusClient)
        assert local.fully_qualified_namespace == "127.0.0.1:5672"
    identity = ServiceBusSettings(fully_qualified_namespace="sb-x.servicebus.windows.net", client_id="abc")
    with create_client(identity) as azure:
        assert azure.fully_qualified_namespace == "sb-x.servicebus.windows.net"
        assert isinstance(azure._credential, DefaultAzureCredential)


def test_configured_means_some_setting_holds_more_than_whitespace() -> None:
    assert not configured({})
    assert not configured({"ServiceBusConnection": ""})
    assert not configured({"ServiceBusConnection": "  \t", "ServiceBusConnection__fullyQualifiedNamespace": " "})
    assert not configured({"ServiceBusConnectionString": EMULATOR, "OtherServiceBusConnection": EMULATOR})
    assert configured({"ServiceBusConnection": EMULATOR})
    assert configured({"ServiceBusConnection": "", "ServiceBusConnection__fullyQualifiedNamespace": "sb-x.example"})


def test_a_setting_that_is_set_but_names_no_namespace_is_a_mistake_not_a_switch() -> None:
    """A client id alone counts as configured, so publishing names the missing setting instead of going quiet."""
    half = {"ServiceBusConnection__clientId": "00000000-0000-0000-0000-000000000001"}
    assert configured(half)
    with pytest.raises(ValueError, match="no Service Bus connection: set ServiceBusConnection"):
        read_settings(half)
