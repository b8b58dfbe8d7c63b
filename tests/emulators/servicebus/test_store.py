"""The store's Service Bus rules, checked without AMQP and with a clock the test moves."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from emulators.servicebus import parse_config
from emulators.servicebus.codec import MessageFacts, encode_section, parse_message
from emulators.servicebus.errors import EntityNotFound, InvalidRequest, MessageLockLost, MessageNotFound, NotAllowed
from emulators.servicebus.store import IncomingMessage, MessageState, Outcome, Store
from tests.emulators.servicebus.conftest import (
    DEDUP_QUEUE,
    EXPIRING_QUEUE,
    PLAIN_QUEUE,
    SHORT_LOCK_QUEUE,
    TEST_CONFIG,
    TOPIC,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _message(
    body: str, *, message_id: str | None = None, ttl_ms: int | None = None, **properties: Any
) -> IncomingMessage:
    sections = b""
    if ttl_ms is not None:
        sections += encode_section(0x70, [False, None, ttl_ms])
    sections += encode_section(0x73, [message_id])
    if properties:
        sections += encode_section(0x74, properties)
    sections += encode_section(0x77, body)
    encoded, facts = parse_message(sections)
    return IncomingMessage(encoded, facts)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> Store:
    return Store(parse_config(TEST_CONFIG), clock=clock)


def test_lock_expiry_redelivers_then_dead_letters_at_max_delivery_count(store: Store, clock: Clock) -> None:
    store.send(SHORT_LOCK_QUEUE, [_message("slow")])  # MaxDeliveryCount 2, lock 5 s
    first = store.receive(SHORT_LOCK_QUEUE, peek_lock=True)
    assert first is not None and first.delivery_count == 0
    clock.now += 5.01
    store.tick()
    second = store.receive(SHORT_LOCK_QUEUE, peek_lock=True)
    assert second is first and second.delivery_count == 1
    clock.now += 5.01
    store.tick()
    assert store.receive(SHORT_LOCK_QUEUE, peek_lock=True) is None
    (record,) = store.dead_letters(SHORT_LOCK_QUEUE)
    assert (record.reason, record.delivery_count) == ("MaxDeliveryCountExceeded", 2)


def test_settling_with_an_expired_or_unknown_lock_is_lock_lost(store: Store, clock: Clock) -> None:
    store.send(PLAIN_QUEUE, [_message("m")])
    message = store.receive(PLAIN_QUEUE, peek_lock=True)
    assert message is not None and message.lock_token is not None
    token = message.lock_token
    clock.now += 61
    with pytest.raises(MessageLockLost):
        store.settle(token, Outcome.COMPLETE)
    again = store.receive(PLAIN_QUEUE, peek_lock=True)
    assert again is message and again.delivery_count == 1
    with pytest.raises(MessageLockLost):
        store.settle(token, Outcome.COMPLETE)  # the old token stays dead after the new lock
    assert again.lock_token is not None
    store.renew_locks([again.lock_token])
    store.settle(again.lock_token, Outcome.COMPLETE)
    with pytest.raises(MessageLockLost):
        store.settle(again.lock_token, Outcome.COMPLETE)


def test_released_messages_come_back_without_counting_a_delivery(store: Store) -> None:
    store.send(PLAIN_QUEUE, [_message("m")])
    message = store.receive(PLAIN_QUEUE, peek_lock=True)
    assert message is not None and message.lock_token is not None
    store.settle(message.lock_token, Outcome.RELEASE)
    again = store.receive(PLAIN_QUEUE, peek_lock=True)
    assert again is message and again.delivery_count == 0


def test_ttl_uses_the_shorter_of_message_and_entity_and_dead_letters_when_asked(store: Store, clock: Clock) -> None:
    store.send(EXPIRING_QUEUE, [_message("short", ttl_ms=1000), _message("default")])
    clock.now += 2
    store.tick()
    assert [r.reason for r in store.dead_letters(EXPIRING_QUEUE)] == ["TTLExpiredException"]
    clock.now += 3600
    store.tick()
    assert len(store.dead_letters(EXPIRING_QUEUE)) == 2
    clock.now += 10 * 3600
    store.tick()
    assert len(store.dead_letters(EXPIRING_QUEUE)) == 2  # dead-lettered messages never expire


def test_a_locked_message_expires_when_its_lock_ends(store: Store, clock: Clock) -> None:
    store.send(EXPIRING_QUEUE, [_message("busy", ttl_ms=1000)])
    message = store.receive(EXPIRING_QUEUE, peek_lock=True)
    assert message is not None and message.lock_token is not None
    clock.now += 2
    store.tick()
    assert store.dead_letters(EXPIRING_QUEUE) == []
    store.settle(message.lock_token, Outcome.ABANDON)
    assert [r.reason for r in store.dead_letters(EXPIRING_QUEUE)] == ["TTLExpiredException"]


def test_duplicate_detection_forgets_ids_after_the_window(store: Store, clock: Clock) -> None:
    store.send(DEDUP_QUEUE, [_message("a", message_id="x"), _message("b", message_id="x")])
    clock.now += 4
    store.send(DEDUP_QUEUE, [_message("c", message_id="x")])
    clock.now += 5.5  # window PT5S, counted from the first sighting
    store.send(DEDUP_QUEUE, [_message("d", message_id="x")])
    assert store.counts()[DEDUP_QUEUE].active == 2


def test_scheduled_messages_enqueue_when_due_and_cancel_is_checked(store: Store, clock: Clock) -> None:
    (seq,) = store.schedule(TOPIC, [_message("later", eventType="completed")], default_at=clock.now + 10)
    with pytest.raises(MessageNotFound):
        store.cancel_scheduled(TOPIC, [seq + 1])
    assert store.counts()[TOPIC].scheduled == 1
    clock.now += 10
    store.tick()
    assert store.counts()[f"{TOPIC}/Subscriptions/completed"].active == 1
    assert store.counts()[f"{TOPIC}/Subscriptions/everything"].active == 1
    with pytest.raises(MessageNotFound):
        store.cancel_scheduled(TOPIC, [seq])


def test_defer_and_receive_by_sequence_number(store: Store) -> None:
    store.send(PLAIN_QUEUE, [_message("d")])
    message = store.receive(PLAIN_QUEUE, peek_lock=True)
    assert message is not None and message.lock_token is not None
    store.settle(message.lock_token, Outcome.DEFER)
    assert store.receive(PLAIN_QUEUE, peek_lock=True) is None
    (deferred,) = store.receive_deferred(PLAIN_QUEUE, [message.sequence_number], peek_lock=True)
    assert deferred.state == MessageState.DEFERRED
    with pytest.raises(MessageNotFound):
        store.receive_deferred(PLAIN_QUEUE, [message.sequence_number], peek_lock=True)
    assert deferred.lock_token is not None
    store.settle(deferred.lock_token, Outcome.COMPLETE)
    assert store.counts()[PLAIN_QUEUE].deferred == 0


def test_dead_letter_queue_refuses_dead_lettering_again(store: Store) -> None:
    store.send(PLAIN_QUEUE, [_message("x")])
    message = store.receive(PLAIN_QUEUE, peek_lock=True)
    assert message is not None and message.lock_token is not None
    store.settle(message.lock_token, Outcome.DEAD_LETTER, reason="r", description="d")
    dead = store.receive(f"{PLAIN_QUEUE}/$DeadLetterQueue", peek_lock=True)
    assert dead is not None and dead.lock_token is not None
    with pytest.raises(InvalidRequest):
        store.settle(dead.lock_token, Outcome.DEAD_LETTER)
    store.settle(dead.lock_token, Outcome.ABANDON)  # no delivery limit in a dead-letter queue
    assert store.counts()[f"{PLAIN_QUEUE}/$DeadLetterQueue"].active == 1


def test_forwarding_of_dead_letters() -> None:
    document = copy.deepcopy(TEST_CONFIG)
    document["UserConfig"]["Namespaces"][0]["Queues"][0]["Properties"]["ForwardDeadLetteredMessagesTo"] = DEDUP_QUEUE
    store = Store(parse_config(document))
    store.send(PLAIN_QUEUE, [_message("x")])
    message = store.receive(PLAIN_QUEUE, peek_lock=True)
    assert message is not None and message.lock_token is not None
    store.settle(message.lock_token, Outcome.DEAD_LETTER, reason="moved")
    assert store.counts()[f"{PLAIN_QUEUE}/$DeadLetterQueue"].active == 0
    assert store.counts()[DEDUP_QUEUE].active == 1


def test_addressing_mistakes_are_named(store: Store) -> None:
    with pytest.raises(EntityNotFound, match="nope"):
        store.send_target("nope")
    with pytest.raises(NotAllowed, match="subscriptions"):
        store.source(TOPIC)
    with pytest.raises(NotAllowed, match="queue or a topic"):
        store.send_target(f"{TOPIC}/Subscriptions/everything")
    assert store.source(PLAIN_QUEUE.upper()).path == PLAIN_QUEUE  # names are case-insensitive


def test_correlation_filters_compare_types_as_service_bus_does(store: Store) -> None:
    store.send(TOPIC, [_message("yes", eventType="failed", status="Failed"), _message("no", eventType="failed")])
    assert store.counts()[f"{TOPIC}/Subscriptions/failed-or-labelled"].active == 1
    assert MessageFacts().application_properties == {}


def test_settling_several_locks_is_all_or_nothing(store: Store) -> None:
    store.send(PLAIN_QUEUE, [_message("a"), _message("b")])
    first = store.receive(PLAIN_QUEUE, peek_lock=True)
    second = store.receive(PLAIN_QUEUE, peek_lock=True)
    assert first is not None and second is not None
    assert first.lock_token is not None and second.lock_token is not None
    with pytest.raises(MessageLockLost):
        store.settle_all([first.lock_token, uuid.uuid4()], Outcome.COMPLETE)
    assert store.counts()[PLAIN_QUEUE].locked == 2
    store.settle_all([first.lock_token, second.lock_token, first.lock_token], Outcome.COMPLETE)
    assert store.counts()[PLAIN_QUEUE].locked == 0 and store.counts()[PLAIN_QUEUE].active == 0
