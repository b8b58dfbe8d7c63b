"""A consumer shaped like a Functions Service Bus trigger: peek-lock, handle, complete or abandon.

The local Functions host drives its triggers this way against the emulator, so a message that
always fails must end in the dead-letter queue after ``MaxDeliveryCount`` attempts with reason
``MaxDeliveryCountExceeded``, exactly as in Azure, while good messages are completed once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusSubQueue

from emulators.servicebus import EmulatorHandle, load_config, start_emulator
from emulators.servicebus.server import DEFAULT_CONFIG

REQUESTS = "migration-requests"
pytestmark = pytest.mark.timeout(120)


def run_trigger(
    client: ServiceBusClient, queue: str, function: Callable[[ServiceBusReceivedMessage], None], *, idle_rounds: int
) -> None:
    """Poll like the trigger listener until the queue has stayed empty for ``idle_rounds`` receives."""
    idle = 0
    with client.get_queue_receiver(queue, prefetch_count=0) as receiver:
        while idle < idle_rounds:
            messages = receiver.receive_messages(max_message_count=4, max_wait_time=1)
            idle = 0 if messages else idle + 1
            for message in messages:
                try:
                    function(message)
                except Exception:
                    receiver.abandon_message(message)
                else:
                    receiver.complete_message(message)


@pytest.fixture
def shipped() -> Iterator[EmulatorHandle]:
    with start_emulator(DEFAULT_CONFIG) as handle:
        yield handle


def test_a_message_that_always_fails_reaches_the_dead_letter_queue_after_max_delivery_count(
    shipped: EmulatorHandle,
) -> None:
    max_delivery_count = load_config(DEFAULT_CONFIG).namespace.queues[0].properties.max_delivery_count
    seen: dict[str, list[int]] = {"good": [], "poison": []}

    def function(message: ServiceBusReceivedMessage) -> None:
        body = str(message)
        assert message.delivery_count is not None
        seen[body].append(message.delivery_count)
        if body == "poison":
            raise ValueError("this plan can never be processed")

    with ServiceBusClient.from_connection_string(shipped.connection_string) as client:
        with client.get_queue_sender(REQUESTS) as sender:
            sender.send_messages(
                [ServiceBusMessage("poison", message_id="p"), ServiceBusMessage("good", message_id="g")]
            )
        deadline = time.monotonic() + 60
        while shipped.inspect().dead_lettered(REQUESTS) == 0 and time.monotonic() < deadline:
            run_trigger(client, REQUESTS, function, idle_rounds=1)
        assert seen["good"] == [0]
        assert seen["poison"] == list(range(max_delivery_count))
        inspection = shipped.inspect()
        assert inspection.total(REQUESTS) == 0
        assert inspection.dead_letter_reasons(REQUESTS) == ["MaxDeliveryCountExceeded"]
        with client.get_queue_receiver(REQUESTS, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dead:
            (letter,) = dead.receive_messages(max_message_count=1, max_wait_time=5)
            assert str(letter) == "poison"
            assert letter.message_id == "p"
            assert letter.dead_letter_reason == "MaxDeliveryCountExceeded"
            assert letter.delivery_count == max_delivery_count
            dead.complete_message(letter)
