"""Errors surface as the exception types the client raises against Azure, and change nothing."""

from __future__ import annotations

import time

import pytest
from azure.servicebus import AutoLockRenewer, ServiceBusClient, ServiceBusMessage
from azure.servicebus.exceptions import (
    MessageLockLostError,
    MessageSizeExceededError,
    MessagingEntityNotFoundError,
)

from emulators.servicebus import EmulatorHandle
from tests.emulators.servicebus.conftest import FAST_CLOSE, PLAIN_QUEUE, SHORT_LOCK_QUEUE, TOPIC

STANDARD_TIER_LIMIT = 256 * 1024
pytestmark = pytest.mark.timeout(90)  # a hang guard far above the few seconds these take


def _one(receiver):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        messages = receiver.receive_messages(max_message_count=1, max_wait_time=5)
        if messages:
            return messages[0]
    raise AssertionError("no message arrived")


def test_sending_to_an_unknown_queue_is_entity_not_found(client: ServiceBusClient) -> None:
    with pytest.raises(MessagingEntityNotFoundError):
        with client.get_queue_sender("no-such-queue", **FAST_CLOSE) as sender:
            sender.send_messages(ServiceBusMessage("lost"))


def test_receiving_from_an_unknown_queue_is_entity_not_found(client: ServiceBusClient) -> None:
    with pytest.raises(MessagingEntityNotFoundError):
        with client.get_queue_receiver("no-such-queue", **FAST_CLOSE) as receiver:
            receiver.receive_messages(max_message_count=1, max_wait_time=1)


def test_receiving_from_an_unknown_subscription_is_entity_not_found(client: ServiceBusClient) -> None:
    with pytest.raises(MessagingEntityNotFoundError):
        with client.get_subscription_receiver(TOPIC, "no-such-subscription", **FAST_CLOSE) as receiver:
            receiver.receive_messages(max_message_count=1, max_wait_time=1)


def test_a_message_over_the_standard_tier_limit_is_refused(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        with pytest.raises(MessageSizeExceededError):
            sender.send_messages(ServiceBusMessage(b"x" * (STANDARD_TIER_LIMIT + 1)))
        sender.send_messages(ServiceBusMessage(b"x" * (STANDARD_TIER_LIMIT - 1024)))
        batch = sender.create_message_batch()
        assert batch.max_size_in_bytes <= STANDARD_TIER_LIMIT
    assert emulator.inspect().active(PLAIN_QUEUE) == 1


def test_settling_after_the_lock_expired_is_lock_lost_and_the_message_comes_back(
    client: ServiceBusClient, emulator: EmulatorHandle
) -> None:
    with client.get_queue_sender(SHORT_LOCK_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("slow consumer"))
    with client.get_queue_receiver(SHORT_LOCK_QUEUE, **FAST_CLOSE) as receiver:
        message = _one(receiver)
        assert message.locked_until_utc is not None
        deadline = time.monotonic() + 30
        while emulator.inspect().locked(SHORT_LOCK_QUEUE) and time.monotonic() < deadline:
            time.sleep(0.2)
        with pytest.raises(MessageLockLostError):
            receiver.complete_message(message)
        again = _one(receiver)
        assert again.sequence_number == message.sequence_number
        assert again.delivery_count == 1
        receiver.complete_message(again)
    assert emulator.inspect().total(SHORT_LOCK_QUEUE) == 0


def test_renew_lock_extends_it_and_auto_lock_renewer_keeps_it(
    client: ServiceBusClient, emulator: EmulatorHandle
) -> None:
    with client.get_queue_sender(SHORT_LOCK_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages([ServiceBusMessage("renewed"), ServiceBusMessage("auto")])
    with client.get_queue_receiver(SHORT_LOCK_QUEUE, **FAST_CLOSE) as receiver:
        message = _one(receiver)
        before = message.locked_until_utc
        assert before is not None
        time.sleep(1.1)
        after = receiver.renew_message_lock(message)
        assert after > before
        assert message.locked_until_utc == after
        receiver.complete_message(message)
        auto = _one(receiver)
        with AutoLockRenewer(max_lock_renewal_duration=30) as renewer:
            renewer.register(receiver, auto)
            first_lock = auto.locked_until_utc
            assert first_lock is not None
            deadline = time.monotonic() + 30
            while auto.locked_until_utc == first_lock and time.monotonic() < deadline:
                time.sleep(0.2)
            assert auto.locked_until_utc is not None and auto.locked_until_utc > first_lock
            receiver.complete_message(auto)
    assert emulator.inspect().total(SHORT_LOCK_QUEUE) == 0


def test_a_session_receiver_is_refused_with_a_clear_error(client: ServiceBusClient) -> None:
    from azure.servicebus.exceptions import ServiceBusError

    with pytest.raises(ServiceBusError, match="Sessions are not supported"):
        with client.get_queue_receiver(PLAIN_QUEUE, session_id="s-1", **FAST_CLOSE) as receiver:
            receiver.receive_messages(max_message_count=1, max_wait_time=1)
