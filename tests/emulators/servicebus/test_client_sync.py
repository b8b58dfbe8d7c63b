"""Contract tests: the real ``azure-servicebus`` 7.15 sync client against the emulator over a socket."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.servicebus import (
    ServiceBusClient,
    ServiceBusMessage,
    ServiceBusReceivedMessage,
    ServiceBusReceiveMode,
    ServiceBusSubQueue,
)

from emulators.servicebus import EmulatorHandle
from tests.emulators.servicebus.conftest import (
    DEDUP_QUEUE,
    EXPIRING_QUEUE,
    FAST_CLOSE,
    FORWARDING_QUEUE,
    PLAIN_QUEUE,
    TOPIC,
)

WAIT = 5  # seconds a receive may wait: a hang guard, never an assertion on speed


def _receive(client: ServiceBusClient, entity: str, count: int, **kwargs) -> list[ServiceBusReceivedMessage]:
    """Receive until ``count`` messages arrived or the wait ran out (the client returns early otherwise)."""
    messages: list[ServiceBusReceivedMessage] = []
    receiver = kwargs.pop("receiver")
    deadline = time.monotonic() + 20
    while len(messages) < count and time.monotonic() < deadline:
        messages += receiver.receive_messages(max_message_count=count - len(messages), max_wait_time=WAIT)
    return messages


def test_send_one_then_receive_and_complete(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(
            ServiceBusMessage(
                "hello",
                message_id="m-1",
                application_properties={"k": "v", "n": 7},
                subject="greeting",
                correlation_id="c-1",
                content_type="text/plain",
            )
        )
    assert emulator.inspect().active(PLAIN_QUEUE) == 1
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        (message,) = _receive(client, PLAIN_QUEUE, 1, receiver=receiver)
        assert str(message) == "hello"
        assert message.message_id == "m-1"
        assert message.subject == "greeting"
        assert message.correlation_id == "c-1"
        assert message.content_type == "text/plain"
        assert message.application_properties == {b"k": b"v", b"n": 7}
        assert message.sequence_number == 1
        assert message.delivery_count == 0
        assert message.lock_token is not None
        assert message.locked_until_utc is not None and message.locked_until_utc > datetime.now(UTC)
        assert message.enqueued_time_utc is not None
        assert emulator.inspect().locked(PLAIN_QUEUE) == 1
        receiver.complete_message(message)
    assert emulator.inspect().total(PLAIN_QUEUE) == 0


def test_batch_send_arrives_as_separate_messages_in_order(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages([ServiceBusMessage(f"list-{i}") for i in range(3)])
        batch = sender.create_message_batch()
        for i in range(3):
            batch.add_message(ServiceBusMessage(f"batch-{i}"))
        sender.send_messages(batch)
    assert emulator.inspect().active(PLAIN_QUEUE) == 6
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        messages = _receive(client, PLAIN_QUEUE, 6, receiver=receiver)
        assert [str(m) for m in messages] == [f"list-{i}" for i in range(3)] + [f"batch-{i}" for i in range(3)]
        assert [m.sequence_number for m in messages] == [1, 2, 3, 4, 5, 6]
        for message in messages:
            receiver.complete_message(message)
    assert emulator.inspect().total(PLAIN_QUEUE) == 0


def test_abandon_redelivers_with_a_higher_delivery_count(client: ServiceBusClient) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("again"))
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        (first,) = _receive(client, PLAIN_QUEUE, 1, receiver=receiver)
        receiver.abandon_message(first)
        (second,) = _receive(client, PLAIN_QUEUE, 1, receiver=receiver)
        assert second.sequence_number == first.sequence_number
        assert second.delivery_count == 1
        assert second.lock_token != first.lock_token
        receiver.complete_message(second)


def test_dead_letter_keeps_reason_and_description_readable_from_the_sub_queue(
    client: ServiceBusClient, emulator: EmulatorHandle
) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("poison", message_id="p-1"))
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        (message,) = _receive(client, PLAIN_QUEUE, 1, receiver=receiver)
        receiver.dead_letter_message(message, reason="InvalidPlan", error_description="machines[0]: missing")
    assert emulator.inspect().dead_letter_reasons(PLAIN_QUEUE) == ["InvalidPlan"]
    with client.get_queue_receiver(PLAIN_QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER, **FAST_CLOSE) as dead:
        (letter,) = _receive(client, PLAIN_QUEUE, 1, receiver=dead)
        assert str(letter) == "poison"
        assert letter.message_id == "p-1"
        assert letter.dead_letter_reason == "InvalidPlan"
        assert letter.dead_letter_error_description == "machines[0]: missing"
        dead.complete_message(letter)
    assert emulator.inspect().dead_lettered(PLAIN_QUEUE) == 0


def test_max_delivery_count_moves_the_message_to_the_dead_letter_queue(
    client: ServiceBusClient, emulator: EmulatorHandle
) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("never works"))
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        for attempt in range(3):  # MaxDeliveryCount is 3
            (message,) = _receive(client, PLAIN_QUEUE, 1, receiver=receiver)
            assert message.delivery_count == attempt
            receiver.abandon_message(message)
        assert receiver.receive_messages(max_message_count=1, max_wait_time=1) == []
    inspection = emulator.inspect()
    assert inspection.total(PLAIN_QUEUE) == 0
    assert inspection.dead_letter_reasons(PLAIN_QUEUE) == ["MaxDeliveryCountExceeded"]
    with client.get_queue_receiver(PLAIN_QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER, **FAST_CLOSE) as dead:
        (letter,) = _receive(client, PLAIN_QUEUE, 1, receiver=dead)
        assert letter.dead_letter_reason == "MaxDeliveryCountExceeded"
        assert letter.dead_letter_error_description == "Message could not be consumed after 3 delivery attempts."
        assert letter.delivery_count == 3


def test_defer_then_receive_deferred_by_sequence_number(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages([ServiceBusMessage("later"), ServiceBusMessage("now")])
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        later, now = _receive(client, PLAIN_QUEUE, 2, receiver=receiver)
        receiver.defer_message(later)
        receiver.complete_message(now)
        assert receiver.receive_messages(max_message_count=1, max_wait_time=1) == []
        assert emulator.inspect().deferred(PLAIN_QUEUE) == 1
        assert later.sequence_number is not None
        (deferred,) = receiver.receive_deferred_messages([later.sequence_number])
        assert str(deferred) == "later"
        assert deferred.state.value == 1  # ServiceBusMessageState.DEFERRED
        receiver.complete_message(deferred)
    assert emulator.inspect().total(PLAIN_QUEUE) == 0


def test_receive_deferred_of_an_unknown_sequence_number_is_message_not_found(client: ServiceBusClient) -> None:
    from azure.servicebus.exceptions import MessageNotFoundError

    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver, pytest.raises(MessageNotFoundError):
        receiver.receive_deferred_messages([12345])


def test_receive_and_delete_removes_on_delivery(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages([ServiceBusMessage("a"), ServiceBusMessage("b")])
    with client.get_queue_receiver(
        PLAIN_QUEUE, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE, **FAST_CLOSE
    ) as receiver:
        messages = _receive(client, PLAIN_QUEUE, 2, receiver=receiver)
        assert [str(m) for m in messages] == ["a", "b"]
    assert emulator.inspect().total(PLAIN_QUEUE) == 0


def test_peek_browses_without_locking(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages([ServiceBusMessage(f"p{i}") for i in range(5)])
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        first = receiver.peek_messages(max_message_count=3)
        rest = receiver.peek_messages(max_message_count=10)
        assert [str(m) for m in first] == ["p0", "p1", "p2"]
        assert [str(m) for m in rest] == ["p3", "p4"]
        assert receiver.peek_messages(max_message_count=1, sequence_number=5)[0].sequence_number == 5
    assert emulator.inspect().active(PLAIN_QUEUE) == 5


def test_duplicate_message_id_is_dropped_within_the_window(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(DEDUP_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("one", message_id="same"))
        sender.send_messages(ServiceBusMessage("two", message_id="same"))
        sender.send_messages(
            [ServiceBusMessage("three", message_id="same"), ServiceBusMessage("x", message_id="other")]
        )
    assert emulator.inspect().active(DEDUP_QUEUE) == 2
    with client.get_queue_receiver(DEDUP_QUEUE, **FAST_CLOSE) as receiver:
        messages = _receive(client, DEDUP_QUEUE, 2, receiver=receiver)
        assert [str(m) for m in messages] == ["one", "x"]


def test_scheduled_message_stays_invisible_until_due_and_can_be_cancelled(
    client: ServiceBusClient, emulator: EmulatorHandle
) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        far = datetime.now(UTC) + timedelta(hours=1)
        far_seqs = sender.schedule_messages([ServiceBusMessage("far-1"), ServiceBusMessage("far-2")], far)
        assert len(set(far_seqs)) == 2
        assert emulator.inspect().scheduled(PLAIN_QUEUE) == 2
        assert emulator.inspect().active(PLAIN_QUEUE) == 0
        sender.cancel_scheduled_messages(far_seqs)
        assert emulator.inspect().scheduled(PLAIN_QUEUE) == 0
        soon = datetime.now(UTC) + timedelta(seconds=1)
        (soon_seq,) = sender.schedule_messages(ServiceBusMessage("soon"), soon)
        assert soon_seq not in far_seqs
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        (message,) = _receive(client, PLAIN_QUEUE, 1, receiver=receiver)
        assert str(message) == "soon"
        assert message.sequence_number == soon_seq
        assert message.enqueued_time_utc is not None
        assert message.enqueued_time_utc >= soon - timedelta(milliseconds=1)
        receiver.complete_message(message)
    assert emulator.inspect().total(PLAIN_QUEUE) == 0


def test_cancelling_an_unknown_scheduled_message_fails_and_changes_nothing(
    client: ServiceBusClient, emulator: EmulatorHandle
) -> None:
    from azure.servicebus.exceptions import MessageNotFoundError

    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        (seq,) = sender.schedule_messages(ServiceBusMessage("kept"), datetime.now(UTC) + timedelta(hours=1))
        with pytest.raises(MessageNotFoundError):
            sender.cancel_scheduled_messages([seq, seq + 100])
    assert emulator.inspect().scheduled(PLAIN_QUEUE) == 1


def test_message_time_to_live_dead_letters_on_expiry(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(EXPIRING_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("stale", time_to_live=timedelta(seconds=1)))
        sender.send_messages(ServiceBusMessage("fresh"))
    deadline = time.monotonic() + 20
    while emulator.inspect().dead_lettered(EXPIRING_QUEUE) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert emulator.inspect().dead_letter_reasons(EXPIRING_QUEUE) == ["TTLExpiredException"]
    with client.get_queue_receiver(EXPIRING_QUEUE, **FAST_CLOSE) as receiver:
        (message,) = _receive(client, EXPIRING_QUEUE, 1, receiver=receiver)
        assert str(message) == "fresh"
    with client.get_queue_receiver(EXPIRING_QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER, **FAST_CLOSE) as dead:
        (letter,) = _receive(client, EXPIRING_QUEUE, 1, receiver=dead)
        assert str(letter) == "stale"
        assert letter.dead_letter_reason == "TTLExpiredException"


def test_expired_message_without_dead_lettering_is_dropped(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("stale", time_to_live=timedelta(seconds=1)))
    deadline = time.monotonic() + 20
    while emulator.inspect().total(PLAIN_QUEUE) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert emulator.inspect().total(PLAIN_QUEUE) == 0
    assert emulator.inspect().dead_lettered(PLAIN_QUEUE) == 0


def test_forward_to_moves_messages_to_the_target_queue(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(FORWARDING_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("passing through"))
    assert emulator.inspect().total(FORWARDING_QUEUE) == 0
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        (message,) = _receive(client, PLAIN_QUEUE, 1, receiver=receiver)
        assert str(message) == "passing through"


def test_topic_fans_out_to_subscriptions_by_correlation_filter(
    client: ServiceBusClient, emulator: EmulatorHandle
) -> None:
    with client.get_topic_sender(TOPIC, **FAST_CLOSE) as sender:
        sender.send_messages(
            [
                ServiceBusMessage("c", application_properties={"eventType": "completed"}),
                ServiceBusMessage("f", application_properties={"eventType": "failed", "status": "Failed"}),
                ServiceBusMessage("f-partial", application_properties={"eventType": "failed", "status": "Ok"}),
                ServiceBusMessage("u", subject="urgent"),
            ]
        )
    inspection = emulator.inspect()
    assert inspection.active(f"{TOPIC}/Subscriptions/everything") == 4
    assert inspection.active(f"{TOPIC}/Subscriptions/completed") == 1
    assert inspection.active(f"{TOPIC}/Subscriptions/failed-or-labelled") == 2
    assert inspection.active(f"{TOPIC}/Subscriptions/sql-true") == 4
    assert inspection.active(f"{TOPIC}/Subscriptions/sql-false") == 0
    assert inspection.active(f"{TOPIC}/Subscriptions/sql-failures") == 2
    with client.get_subscription_receiver(TOPIC, "failed-or-labelled", **FAST_CLOSE) as receiver:
        messages = _receive(client, TOPIC, 2, receiver=receiver)
        assert [str(m) for m in messages] == ["f", "u"]
        assert messages[1].subject == "urgent"
        for message in messages:
            receiver.complete_message(message)
    with client.get_subscription_receiver(TOPIC, "everything", **FAST_CLOSE) as receiver:
        messages = _receive(client, TOPIC, 4, receiver=receiver)
        assert [m.sequence_number for m in messages] == [1, 2, 3, 4]


def test_topic_duplicate_detection_drops_a_replayed_event(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_topic_sender(TOPIC, **FAST_CLOSE) as sender:
        event: dict[str | bytes, Any] = {"eventType": "completed"}
        sender.send_messages(ServiceBusMessage("e", message_id="evt-1", application_properties=event))
        sender.send_messages(ServiceBusMessage("e", message_id="evt-1", application_properties=event))
    assert emulator.inspect().active(f"{TOPIC}/Subscriptions/completed") == 1
    assert emulator.inspect().active(f"{TOPIC}/Subscriptions/everything") == 1


def test_scheduled_enqueue_time_on_a_plain_send_and_scheduling_on_a_topic(
    client: ServiceBusClient, emulator: EmulatorHandle
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1)
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("held", scheduled_enqueue_time_utc=soon))
    with client.get_topic_sender(TOPIC, **FAST_CLOSE) as sender:
        (topic_seq,) = sender.schedule_messages(
            ServiceBusMessage("event", application_properties={"eventType": "completed"}), soon
        )
    not_before = soon - timedelta(milliseconds=1)  # the wire carries milliseconds
    with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
        (message,) = _receive(client, PLAIN_QUEUE, 1, receiver=receiver)
        assert str(message) == "held"
        assert message.enqueued_time_utc is not None and message.enqueued_time_utc >= not_before
        receiver.complete_message(message)
    with client.get_subscription_receiver(TOPIC, "completed", **FAST_CLOSE) as receiver:
        (event,) = _receive(client, TOPIC, 1, receiver=receiver)
        assert (str(event), event.sequence_number) == ("event", topic_seq)
        assert event.enqueued_time_utc is not None and event.enqueued_time_utc >= not_before
        receiver.complete_message(event)
    assert emulator.inspect().scheduled(TOPIC) == 0


def test_subscription_dead_letter_queue_is_read_through_the_sub_queue(
    client: ServiceBusClient, emulator: EmulatorHandle
) -> None:
    with client.get_topic_sender(TOPIC, **FAST_CLOSE) as sender:
        sender.send_messages(ServiceBusMessage("bad event", application_properties={"eventType": "completed"}))
    with client.get_subscription_receiver(TOPIC, "completed", **FAST_CLOSE) as receiver:
        (message,) = _receive(client, TOPIC, 1, receiver=receiver)
        receiver.dead_letter_message(message, reason="Unroutable")
    assert emulator.inspect().dead_letter_reasons(f"{TOPIC}/Subscriptions/completed") == ["Unroutable"]
    assert emulator.inspect().active(f"{TOPIC}/Subscriptions/everything") == 1
    with client.get_subscription_receiver(
        TOPIC, "completed", sub_queue=ServiceBusSubQueue.DEAD_LETTER, **FAST_CLOSE
    ) as dead:
        (letter,) = _receive(client, TOPIC, 1, receiver=dead)
        assert (str(letter), letter.dead_letter_reason) == ("bad event", "Unroutable")
        dead.complete_message(letter)


def test_a_batch_filled_to_the_clients_limit_is_accepted(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        batch = sender.create_message_batch()
        count = 0
        while True:
            try:
                batch.add_message(ServiceBusMessage(b"y" * 1000))
            except ValueError:  # MessageSizeExceededError: full
                break
            count += 1
        sender.send_messages(batch)
    assert count > 200
    assert emulator.inspect().active(PLAIN_QUEUE) == count


def test_competing_receivers_each_get_a_message_once(client: ServiceBusClient, emulator: EmulatorHandle) -> None:
    bodies = [f"job-{i}" for i in range(20)]
    with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
        sender.send_messages([ServiceBusMessage(body) for body in bodies])
    seen: list[str] = []
    with (
        client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as first,
        client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as second,
    ):
        for _ in range(40):
            if len(seen) >= len(bodies):
                break
            for receiver in (first, second):
                for message in receiver.receive_messages(max_message_count=3, max_wait_time=1):
                    seen.append(str(message))
                    receiver.complete_message(message)
    assert sorted(seen) == sorted(bodies)
    assert emulator.inspect().total(PLAIN_QUEUE) == 0
