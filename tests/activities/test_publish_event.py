"""The publish_event activity, called through its blueprint, against the Service Bus emulator over real AMQP.

The emulator runs with the project's own configuration (``emulators/servicebus/config.json``), so the topic,
its duplicate detection and the ``approvals`` / ``final-results`` filters are the ones the app meets.
"""

from __future__ import annotations

import copy
import json
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import azure.durable_functions as df
import pytest
from azure.servicebus import ServiceBusClient, ServiceBusReceivedMessage
from azure.servicebus.exceptions import ServiceBusError

from activities import publish_event as module
from emulators.servicebus import DEFAULT_CONFIG, EmulatorHandle, start_emulator
from migration import servicebus
from migration.events import CONTENT_TYPE, TOPIC, EventType, event_id
from tests.migration.event_data import MIGRATION, TIME, VALID_DATA


def activity_function() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The user code the Functions host would call, taken from the blueprint as the app registers it."""
    app = df.DFApp()
    app.register_functions(module.bp)
    functions = {f.get_function_name(): f for f in app.get_functions()}
    assert module.name in functions, sorted(functions)
    binding = functions[module.name].get_bindings()[0]
    assert binding.type == "activityTrigger"
    user_code: Callable[[dict[str, Any]], dict[str, Any]] = functions[module.name].get_user_function()
    return user_code


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorHandle]:
    with start_emulator(DEFAULT_CONFIG) as handle:
        monkeypatch.delenv("ServiceBusConnection__fullyQualifiedNamespace", raising=False)
        monkeypatch.setenv("ServiceBusConnection", handle.connection_string)
        try:
            yield handle
        finally:
            servicebus.close_client()


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[ServiceBusClient]:
    with ServiceBusClient.from_connection_string(emulator.connection_string, retry_total=0) as sb:
        yield sb


def receive_all(client: ServiceBusClient, subscription: str, expected: int) -> list[ServiceBusReceivedMessage]:
    """The ``expected`` messages the subscription should hold, plus any extra that arrives within a short wait."""
    received: list[ServiceBusReceivedMessage] = []
    with client.get_subscription_receiver(TOPIC, subscription) as receiver:
        deadline = time.monotonic() + 15
        while len(received) < expected and time.monotonic() < deadline:
            batch = receiver.receive_messages(max_message_count=50, max_wait_time=1)
            for message in batch:
                receiver.complete_message(message)
            received.extend(batch)
        # Anything beyond what was expected (a duplicate, a misrouted event) shows up here.
        extra = receiver.receive_messages(max_message_count=50, max_wait_time=0.5)
        for message in extra:
            receiver.complete_message(message)
        received.extend(extra)
    return received


def request(kind: EventType, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind.value,
        "eventKey": key,
        "time": TIME,
        "migrationId": MIGRATION,
        "data": copy.deepcopy(VALID_DATA[kind]),
        **extra,
    }


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def test_publishes_a_cloudevent_with_its_properties(client: ServiceBusClient) -> None:
    publish = activity_function()
    key = "inst-1/web-01/initialReplication/running/1"
    result = publish(request(EventType.STAGE_CHANGED, key, machine="web-01", status="running"))
    assert result == {"eventId": event_id(EventType.STAGE_CHANGED, key), "published": True}

    [message] = receive_all(client, "all-events", 1)
    event = json.loads(b"".join(message.body))
    assert event["id"] == result["eventId"] == message.message_id
    assert event["specversion"] == "1.0" and event["source"] == f"/migrations/{MIGRATION}"
    assert event["type"] == "migration.machine.stage_changed" == message.subject
    assert event["time"] == TIME
    assert event["data"]["machine"] == "web-01" and event["data"]["progressPercent"] == 42
    assert message.content_type == CONTENT_TYPE
    assert message.correlation_id == MIGRATION
    properties = {text(k): text(v) for k, v in (message.application_properties or {}).items()}
    assert properties == {
        "eventType": "migration.machine.stage_changed",
        "migrationId": MIGRATION,
        "machine": "web-01",
        "status": "running",
    }


def test_publishing_the_same_event_twice_delivers_it_once(client: ServiceBusClient) -> None:
    publish = activity_function()
    first = publish(request(EventType.STAGE_CHANGED, "inst-1/web-01/testFailover/succeeded/1"))
    replay = publish(request(EventType.STAGE_CHANGED, "inst-1/web-01/testFailover/succeeded/1"))
    other = publish(request(EventType.STAGE_CHANGED, "inst-1/web-01/testFailover/succeeded/2"))
    assert first == replay and other["eventId"] != first["eventId"]
    ids = [message.message_id for message in receive_all(client, "all-events", 2)]
    assert ids == [first["eventId"], other["eventId"]]


def test_subscription_filters_route_on_the_event_type(client: ServiceBusClient) -> None:
    publish = activity_function()
    for kind in EventType:
        publish(request(kind, f"route/{kind.value}"))
    assert len(receive_all(client, "all-events", len(EventType))) == len(EventType)
    [approval] = receive_all(client, "approvals", 1)
    assert approval.subject == "migration.awaiting_approval"
    approval_data = json.loads(b"".join(approval.body))["data"]
    assert approval_data["approveUri"] == "/api/migrations/wave-1/approve"
    [final] = receive_all(client, "final-results", 1)
    assert final.subject == "migration.completed"
    assert text((final.application_properties or {})[b"status"]) == "PartiallyMigrated"


def test_secrets_in_data_never_reach_the_topic(client: ServiceBusClient) -> None:
    publish = activity_function()
    payload = request(EventType.MACHINE_COMPLETED, "redact/1")
    payload["data"]["error"]["message"] = "PUT https://x.blob.core.windows.net/c?sv=1&sig=TOPSECRET returned 403"
    publish(payload)
    [message] = receive_all(client, "all-events", 1)
    body = b"".join(message.body).decode()
    assert "TOPSECRET" not in body and "sig=***" in body


def test_invalid_input_is_a_value_error_and_sends_nothing(client: ServiceBusClient) -> None:
    publish = activity_function()
    with pytest.raises(
        ValueError, match="publish_event input lacks the required key 'eventKey'; publish_event input: unknown colour"
    ):
        publish({"type": "migration.control", "time": TIME, "migrationId": MIGRATION, "data": {}, "colour": "red"})
    with pytest.raises(ValueError, match="migration.control data is invalid: action: Input should be"):
        publish(request(EventType.CONTROL, "bad/1", data={**VALID_DATA[EventType.CONTROL], "action": "explode"}))
    with pytest.raises(ValueError, match="publish_event input takes a JSON object, not list"):
        publish([])  # type: ignore[arg-type]
    assert receive_all(client, "all-events", 0) == []


@pytest.mark.slow
def test_a_service_bus_failure_raises_so_the_retry_policy_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(
        "ServiceBusConnection",
        f"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
    )
    publish = activity_function()
    started = time.monotonic()
    try:
        with pytest.raises(ServiceBusError):
            publish(request(EventType.CONTROL, "down/1"))
    finally:
        servicebus.close_client()
    assert time.monotonic() - started < 60


def test_without_any_connection_setting_events_are_switched_off_but_still_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ServiceBusConnection", raising=False)
    monkeypatch.delenv("ServiceBusConnection__fullyQualifiedNamespace", raising=False)
    result = activity_function()(request(EventType.CONTROL, "nosettings/1"))
    assert result["published"] is False
    assert "ServiceBusConnection" in result["reason"]
    broken = request(EventType.CONTROL, "nosettings/2")
    broken["data"] = {**broken["data"], "action": "explode"}
    with pytest.raises(ValueError):
        activity_function()(broken)


@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_connection_setting_switches_events_off_like_no_setting(
    monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    """An empty setting is no Service Bus: not a connection to try, fail, and retry twelve times."""
    monkeypatch.setenv("ServiceBusConnection", blank)
    monkeypatch.setenv("ServiceBusConnection__fullyQualifiedNamespace", blank)
    result = activity_function()(request(EventType.CONTROL, "blank/1"))
    assert result == {
        "eventId": event_id(EventType.CONTROL, "blank/1"),
        "published": False,
        "reason": "no ServiceBusConnection setting",
    }


def test_a_malformed_connection_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ServiceBusConnection", "not a connection string")
    with pytest.raises(ValueError, match="setting ServiceBusConnection is not a Service Bus connection string"):
        activity_function()(request(EventType.CONTROL, "badsettings/1"))


def test_concurrent_activities_share_one_client_safely(client: ServiceBusClient) -> None:
    """The worker runs sync activities on a thread pool; every publish from every thread must arrive once."""
    publish = activity_function()
    keys = [f"threads/{n}" for n in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda key: publish(request(EventType.CONTROL, key)), keys))
    assert [r["eventId"] for r in results] == [event_id(EventType.CONTROL, key) for key in keys]
    received = receive_all(client, "all-events", len(keys))
    assert sorted(str(m.message_id) for m in received) == sorted(r["eventId"] for r in results)
