"""Service Bus triggers against ``emulators/servicebus`` with the real ``azure-servicebus`` client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage

from emulators.servicebus import start_emulator
from tests.emulators.functions.apps import sb_app
from tests.emulators.functions.conftest import HostFactory, wait_for, wait_until

pytestmark = pytest.mark.slow


def _entity(name: str, max_delivery: int) -> dict[str, Any]:
    return {
        "Name": name,
        "Properties": {
            "DeadLetteringOnMessageExpiration": False,
            "DefaultMessageTimeToLive": "PT1H",
            "DuplicateDetectionHistoryTimeWindow": "PT20S",
            "ForwardDeadLetteredMessagesTo": "",
            "ForwardTo": "",
            "LockDuration": "PT1M",
            "MaxDeliveryCount": max_delivery,
            "RequiresDuplicateDetection": False,
            "RequiresSession": False,
        },
    }


CONFIG = {
    "UserConfig": {
        "Namespaces": [
            {
                "Name": "sbemulatorns",
                "Queues": [_entity("orders", 3), _entity("starts", 5), _entity("slow", 3), _entity("manual", 3)],
                "Topics": [
                    {
                        "Name": "events",
                        "Properties": {
                            "DefaultMessageTimeToLive": "PT1H",
                            "DuplicateDetectionHistoryTimeWindow": "PT20S",
                            "RequiresDuplicateDetection": False,
                        },
                        "Subscriptions": [
                            {
                                "Name": "audit",
                                "Properties": {
                                    "DeadLetteringOnMessageExpiration": False,
                                    "DefaultMessageTimeToLive": "PT1H",
                                    "LockDuration": "PT1M",
                                    "MaxDeliveryCount": 3,
                                    "ForwardDeadLetteredMessagesTo": "",
                                    "ForwardTo": "",
                                    "RequiresSession": False,
                                },
                                "Rules": [],
                            }
                        ],
                    }
                ],
            }
        ],
        "Logging": {"Type": "File"},
    }
}


@pytest.fixture
def broker() -> Iterator[Any]:
    handle = start_emulator(CONFIG)
    yield handle
    handle.stop()


@pytest.fixture
def sb_host(host_factory: HostFactory, broker: Any) -> Iterator[Any]:
    sb_app.SEEN.clear()
    sb_app.ACTIVE.update(now=0, max=0)
    handle = host_factory(
        "tests.emulators.functions.apps.sb_app:app",
        local_settings={"SB_CONN": broker.connection_string},
        host_json={"version": "2.0", "extensions": {"serviceBus": {"maxConcurrentCalls": 2}}},
    )
    yield handle
    handle.quiesce()  # close the receivers while the broker is still up


def _send(broker: Any, entity: str, *messages: ServiceBusMessage) -> None:
    with ServiceBusClient.from_connection_string(broker.connection_string) as client:
        with client.get_queue_sender(entity) if entity != "events" else client.get_topic_sender(entity) as sender:
            sender.send_messages(list(messages))


def test_a_queue_message_reaches_the_trigger_with_its_properties_and_is_completed(sb_host, broker) -> None:
    _send(
        broker,
        "orders",
        ServiceBusMessage(
            b'{"order": 1}',
            message_id="order-1",
            correlation_id="corr-1",
            content_type="application/json",
            subject="new-order",
            application_properties={"tenant": "contoso", "priority": 5},
        ),
    )
    seen = wait_until(lambda: [s for s in sb_app.SEEN if s["message_id"] == "order-1"])
    msg = seen[0]
    assert msg["body"] == '{"order": 1}' and msg["correlation_id"] == "corr-1"
    assert msg["content_type"] == "application/json" and msg["subject"] == "new-order"
    assert msg["application_properties"] == {"tenant": "contoso", "priority": 5}
    assert msg["user_properties"] == msg["application_properties"]
    assert msg["delivery_count"] == 1  # the host's .NET client counts from 1
    assert msg["enqueued"] and msg["lock_token"]
    wait_until(lambda: broker.inspect().total("orders") == 0)  # completed, not just locked


def test_a_raising_trigger_sees_the_message_again_then_it_is_dead_lettered(sb_host, broker) -> None:
    _send(broker, "orders", ServiceBusMessage(b"poison pill", message_id="poison-1"))
    wait_until(lambda: broker.inspect().dead_lettered("orders") == 1)
    attempts = [s["delivery_count"] for s in sb_app.SEEN if s["message_id"] == "poison-1"]
    assert attempts == [1, 2, 3]  # MaxDeliveryCount 3
    assert broker.inspect().dead_letter_reasons("orders") == ["MaxDeliveryCountExceeded"]
    assert broker.inspect().total("orders") == 0


def test_topic_subscription_trigger(sb_host, broker) -> None:
    _send(broker, "events", ServiceBusMessage(b"evt", message_id="evt-1", application_properties={"kind": "x"}))
    seen = wait_until(lambda: [s for s in sb_app.SEEN if s["message_id"] == "evt-1"])
    assert seen[0]["trigger"] == "events" and seen[0]["application_properties"] == {"kind": "x"}
    wait_until(lambda: broker.inspect().total("events/Subscriptions/audit") == 0)


def test_a_service_bus_starter_starts_an_orchestration_once(sb_host, broker) -> None:
    _send(broker, "starts", ServiceBusMessage(b"hello", message_id="start-1"))
    assert wait_for(sb_host, "start-1")["output"] == "HELLO"
    _send(broker, "starts", ServiceBusMessage(b"again", message_id="start-1"))
    wait_until(lambda: broker.inspect().total("starts") == 0)
    assert wait_for(sb_host, "start-1")["output"] == "HELLO"


def test_a_missing_connection_setting_fails_loudly(host_factory: HostFactory) -> None:
    with pytest.raises(Exception, match="function 'on_order': the Service Bus connection setting 'SB_CONN'"):
        host_factory("tests.emulators.functions.apps.sb_app:app")


def test_max_concurrent_calls_caps_overlapping_invocations(sb_host, broker) -> None:
    _send(broker, "slow", *[ServiceBusMessage(f"m{i}".encode(), message_id=f"slow-{i}") for i in range(8)])
    wait_until(lambda: len([s for s in sb_app.SEEN if s["trigger"] == "slow"]) == 8)
    assert 1 <= sb_app.ACTIVE["max"] <= 2
    wait_until(lambda: broker.inspect().total("slow") == 0)


def test_auto_complete_off_leaves_the_message_locked(sb_host, broker) -> None:
    _send(broker, "manual", ServiceBusMessage(b"keep", message_id="manual-1"))
    wait_until(lambda: [s for s in sb_app.SEEN if s["message_id"] == "manual-1"])
    wait_until(lambda: broker.inspect().locked("manual") == 1)
    assert broker.inspect().total("manual") == 1  # neither completed nor abandoned
