"""Contract tests with the real ``azure.servicebus.aio`` client (each test drives its own event loop)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from azure.servicebus import ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusReceiveMode, ServiceBusSubQueue
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver
from azure.servicebus.exceptions import MessageLockLostError, MessageSizeExceededError, MessagingEntityNotFoundError

from emulators.servicebus import EmulatorHandle
from tests.emulators.servicebus.conftest import (
    DEDUP_QUEUE,
    EXPIRING_QUEUE,
    FAST_CLOSE,
    FORWARDING_QUEUE,
    PLAIN_QUEUE,
    SHORT_LOCK_QUEUE,
    TOPIC,
)

pytestmark = pytest.mark.timeout(90)  # hang guard


async def _receive(receiver: ServiceBusReceiver, count: int) -> list[ServiceBusReceivedMessage]:
    messages: list[ServiceBusReceivedMessage] = []
    for _ in range(10):
        if len(messages) >= count:
            break
        messages += await receiver.receive_messages(max_message_count=count - len(messages), max_wait_time=5)
    return messages


def test_send_receive_settle_and_read_the_dead_letter_queue(emulator: EmulatorHandle) -> None:
    async def scenario() -> None:
        async with ServiceBusClient.from_connection_string(emulator.connection_string) as client:
            async with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
                await sender.send_messages(ServiceBusMessage("single", application_properties={"k": 1}))
                batch = await sender.create_message_batch()
                for body in ("abandon", "dead", "defer"):
                    batch.add_message(ServiceBusMessage(body))
                await sender.send_messages(batch)
            async with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
                single, abandon, dead, defer = await _receive(receiver, 4)
                assert [str(m) for m in (single, abandon, dead, defer)] == ["single", "abandon", "dead", "defer"]
                assert single.application_properties == {b"k": 1}
                await receiver.complete_message(single)
                await receiver.abandon_message(abandon)
                await receiver.dead_letter_message(dead, reason="Bad", error_description="why")
                await receiver.defer_message(defer)
                (again,) = await _receive(receiver, 1)
                assert str(again) == "abandon" and again.delivery_count == 1
                await receiver.renew_message_lock(again)
                await receiver.complete_message(again)
                assert defer.sequence_number is not None
                (deferred,) = await receiver.receive_deferred_messages([defer.sequence_number])
                await receiver.complete_message(deferred)
            async with client.get_queue_receiver(
                PLAIN_QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER, **FAST_CLOSE
            ) as dlq:
                (letter,) = await _receive(dlq, 1)
                assert (letter.dead_letter_reason, letter.dead_letter_error_description) == ("Bad", "why")
                await dlq.complete_message(letter)

    asyncio.run(scenario())
    inspection = emulator.inspect()
    assert inspection.total(PLAIN_QUEUE) == 0 and inspection.dead_lettered(PLAIN_QUEUE) == 0


def test_schedule_cancel_peek_and_receive_and_delete(emulator: EmulatorHandle) -> None:
    async def scenario() -> None:
        async with ServiceBusClient.from_connection_string(emulator.connection_string) as client:
            async with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
                await sender.send_messages([ServiceBusMessage("a"), ServiceBusMessage("b")])
                sequences = await sender.schedule_messages(
                    ServiceBusMessage("later"), datetime.now(UTC) + timedelta(hours=1)
                )
                await sender.cancel_scheduled_messages(sequences)
            async with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
                peeked = await receiver.peek_messages(max_message_count=5)
                assert [str(m) for m in peeked] == ["a", "b"]
            async with client.get_queue_receiver(
                PLAIN_QUEUE, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE, **FAST_CLOSE
            ) as receiver:
                assert [str(m) for m in await _receive(receiver, 2)] == ["a", "b"]

    asyncio.run(scenario())
    assert emulator.inspect().total(PLAIN_QUEUE) == 0


def test_topic_subscription_iterator_and_duplicate_detection(emulator: EmulatorHandle) -> None:
    async def scenario() -> list[str]:
        async with ServiceBusClient.from_connection_string(emulator.connection_string) as client:
            async with client.get_topic_sender(TOPIC, **FAST_CLOSE) as sender:
                for _ in range(2):
                    await sender.send_messages(
                        ServiceBusMessage("done", message_id="e-1", application_properties={"eventType": "completed"})
                    )
            async with client.get_queue_sender(DEDUP_QUEUE, **FAST_CLOSE) as sender:
                await sender.send_messages(
                    [ServiceBusMessage("x", message_id="d"), ServiceBusMessage("y", message_id="d")]
                )
            bodies = []
            async with client.get_subscription_receiver(TOPIC, "completed", max_wait_time=3, **FAST_CLOSE) as receiver:
                async for message in receiver:
                    bodies.append(str(message))
                    await receiver.complete_message(message)
            return bodies

    assert asyncio.run(scenario()) == ["done"]
    assert emulator.inspect().active(DEDUP_QUEUE) == 1


def test_errors_map_to_the_same_exceptions_as_the_sync_client(emulator: EmulatorHandle) -> None:
    async def scenario() -> None:
        async with ServiceBusClient.from_connection_string(
            emulator.connection_string, retry_total=0, **FAST_CLOSE
        ) as client:
            with pytest.raises(MessagingEntityNotFoundError):
                async with client.get_queue_sender("missing", **FAST_CLOSE) as sender:
                    await sender.send_messages(ServiceBusMessage("x"))
            with pytest.raises(MessagingEntityNotFoundError):
                async with client.get_queue_receiver("missing", **FAST_CLOSE) as receiver:
                    await receiver.receive_messages(max_wait_time=1)
            async with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
                with pytest.raises(MessageSizeExceededError):
                    await sender.send_messages(ServiceBusMessage(b"x" * (256 * 1024 + 1)))

    asyncio.run(scenario())
    assert emulator.inspect().total(PLAIN_QUEUE) == 0


def test_lock_expiry_lock_lost_and_max_delivery_count(emulator: EmulatorHandle) -> None:
    async def scenario() -> None:
        async with ServiceBusClient.from_connection_string(emulator.connection_string) as client:
            async with client.get_queue_sender(SHORT_LOCK_QUEUE, **FAST_CLOSE) as sender:
                await sender.send_messages(ServiceBusMessage("fragile"))
            async with client.get_queue_receiver(SHORT_LOCK_QUEUE, **FAST_CLOSE) as receiver:
                (first,) = await _receive(receiver, 1)
                for _ in range(300):  # the lock lasts 5 s; this only bounds the wait
                    if emulator.inspect().locked(SHORT_LOCK_QUEUE) == 0:
                        break
                    await asyncio.sleep(0.1)
                with pytest.raises(MessageLockLostError):
                    await receiver.complete_message(first)
                (second,) = await _receive(receiver, 1)
                assert (second.sequence_number, second.delivery_count) == (first.sequence_number, 1)
                await receiver.abandon_message(second)  # MaxDeliveryCount is 2
            async with client.get_queue_receiver(
                SHORT_LOCK_QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER, **FAST_CLOSE
            ) as dead:
                (letter,) = await _receive(dead, 1)
                assert letter.dead_letter_reason == "MaxDeliveryCountExceeded"
                await dead.complete_message(letter)

    asyncio.run(scenario())
    assert emulator.inspect().total(SHORT_LOCK_QUEUE) == 0


def test_expiry_dead_lettering_and_forwarding(emulator: EmulatorHandle) -> None:
    async def scenario() -> None:
        async with ServiceBusClient.from_connection_string(emulator.connection_string) as client:
            async with client.get_queue_sender(EXPIRING_QUEUE, **FAST_CLOSE) as sender:
                await sender.send_messages(ServiceBusMessage("stale", time_to_live=timedelta(seconds=1)))
            async with client.get_queue_sender(FORWARDING_QUEUE, **FAST_CLOSE) as sender:
                await sender.send_messages(ServiceBusMessage("forwarded"))
            async with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
                (message,) = await _receive(receiver, 1)
                assert str(message) == "forwarded"
                await receiver.complete_message(message)
            async with client.get_queue_receiver(
                EXPIRING_QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER, **FAST_CLOSE
            ) as dead:
                (letter,) = await _receive(dead, 1)  # appears once the second has passed
                assert (str(letter), letter.dead_letter_reason) == ("stale", "TTLExpiredException")
                await dead.complete_message(letter)

    asyncio.run(scenario())
    assert emulator.inspect().total(EXPIRING_QUEUE) == 0
    assert emulator.inspect().total(FORWARDING_QUEUE) == 0
