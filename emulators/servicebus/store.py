"""The namespace's state: entities, messages, locks, sequence numbers, dead-lettering, schedules.

Pure Python with no AMQP in it, so every Service Bus rule can be tested directly; the broker only
translates link events into these calls. Time comes from an injected clock. All public methods
hold one re-entrant lock, so tests may inspect state from another thread while the broker runs.

Service Bus behaviour copied here on purpose:
- ``delivery_count`` counts failed deliveries (AMQP header semantics): 0 on first delivery. An
  abandon or an expired lock adds one; reaching ``MaxDeliveryCount`` moves the message to the
  dead-letter queue with reason ``MaxDeliveryCountExceeded``.
- A deferred message leaves the normal flow and is only reachable by sequence number.
- Messages in a dead-letter queue never expire and have no delivery limit.
- A duplicate (same message id within the detection window) is accepted and silently dropped.
- A message whose time to live ends while it is locked expires when the lock ends.
"""

from __future__ import annotations

import heapq
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Protocol

from emulators.servicebus.codec import EncodedMessage, MessageFacts, parse_message, with_application_properties
from emulators.servicebus.config import EmulatorConfig, parse_duration
from emulators.servicebus.errors import EntityNotFound, InvalidRequest, MessageLockLost, MessageNotFound, NotAllowed
from emulators.servicebus.filters import Predicate, any_rule_matches, compile_sql_filter, correlation_filter

DEAD_LETTER_SUFFIX = "/$DeadLetterQueue"
SUBSCRIPTIONS_SEGMENT = "/Subscriptions/"
MAX_FORWARD_HOPS = 4
MAX_DELIVERY_COUNT_REASON = "MaxDeliveryCountExceeded"
TTL_EXPIRED_REASON = "TTLExpiredException"
TTL_EXPIRED_DESCRIPTION = "The message expired and was dead lettered."


class MessageState(IntEnum):
    """Values of the ``x-opt-message-state`` annotation."""

    ACTIVE = 0
    DEFERRED = 1
    SCHEDULED = 2


class Outcome(IntEnum):
    COMPLETE = 1
    ABANDON = 2
    DEFER = 3
    DEAD_LETTER = 4
    RELEASE = 5


@dataclass(slots=True, eq=False)
class StoredMessage:
    sequence_number: int
    encoded: EncodedMessage
    message_id: str | None
    enqueued_at: float
    expires_at: float | None
    state: MessageState = MessageState.ACTIVE
    delivery_count: int = 0
    dead_letter_reason: str | None = None
    dead_letter_description: str | None = None
    dead_letter_properties: bytes | None = None
    dead_letter_source: str | None = None
    lock_token: uuid.UUID | None = None
    locked_until: float = 0.0
    queued: bool = False

    @property
    def application_properties(self) -> bytes:
        """The section receivers get: the sender's, or the one extended with dead-letter reasons."""
        if self.dead_letter_properties is not None:
            return self.dead_letter_properties
        return self.encoded.application_properties


class Journal(Protocol):
    """Where state changes go to survive a restart (see ``persistence.py``)."""

    def save_message(self, queue_path: str, message: StoredMessage) -> None: ...

    def delete_message(self, queue_path: str, sequence_number: int) -> None: ...

    def save_sequence(self, target: str, value: int) -> None: ...

    def save_duplicate(self, target: str, message_id: str, seen_at: float) -> None: ...

    def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class QueueSettings:
    lock_duration: float
    max_delivery_count: int
    default_ttl: float | None
    dead_letter_on_expiration: bool
    forward_to: str = ""
    forward_dead_letters_to: str = ""


_DEAD_LETTER_SETTINGS = QueueSettings(
    lock_duration=60.0, max_delivery_count=0, default_ttl=None, dead_letter_on_expiration=False
)


class MessageQueue:
    """A queue-like store messages are received from: a queue, a subscription or a dead-letter queue."""

    def __init__(self, path: str, settings: QueueSettings, *, dead_letter_of: MessageQueue | None = None) -> None:
        self.path = path
        self.settings = settings
        self.messages: dict[int, StoredMessage] = {}
        self.available: list[int] = []
        self.locked: dict[uuid.UUID, StoredMessage] = {}
        self.is_dead_letter_queue = dead_letter_of is not None
        self.dead_letter_queue: MessageQueue | None = None
        if dead_letter_of is None:
            self.dead_letter_queue = MessageQueue(path + DEAD_LETTER_SUFFIX, _DEAD_LETTER_SETTINGS, dead_letter_of=self)

    def __repr__(self) -> str:
        return f"MessageQueue({self.path!r})"


@dataclass(eq=False)
class Subscription:
    queue: MessageQueue
    rules: list[Predicate]


@dataclass(eq=False)
class SendTarget:
    """A queue or topic: what senders address. Owns sequence numbers, duplicate detection, schedules."""

    name: str
    default_ttl: float
    requires_duplicate_detection: bool
    duplicate_window: float
    queue: MessageQueue | None = None
    subscriptions: list[Subscription] = field(default_factory=list)
    last_sequence: int = 0
    seen_ids: OrderedDict[str, float] = field(default_factory=OrderedDict)
    scheduled: dict[int, StoredMessage] = field(default_factory=dict)

    @property
    def is_topic(self) -> bool:
        return self.queue is None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    encoded: EncodedMessage
    facts: MessageFacts


@dataclass(frozen=True, slots=True)
class QueueCounts:
    active: int
    locked: int
    deferred: int
    scheduled: int
    dead_letter: int


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    sequence_number: int
    message_id: str | None
    reason: str | None
    description: str | None
    delivery_count: int


def _seconds(duration: str) -> float:
    return parse_duration(duration).total_seconds()


def _rules_from_config(rules: Iterable[object]) -> list[Predicate]:
    from emulators.servicebus.config import Rule

    predicates: list[Predicate] = []
    for rule in rules:
        assert isinstance(rule, Rule)
        props = rule.properties
        if props.correlation_filter is not None:
            cf = props.correlation_filter
            predicates.append(
                correlation_filter(
                    system={
                        "content_type": cf.content_type,
                        "correlation_id": cf.correlation_id,
                        "subject": cf.label,
                        "message_id": cf.message_id,
                        "reply_to": cf.reply_to,
                        "reply_to_session_id": cf.reply_to_session_id,
                        "session_id": cf.session_id,
                        "to": cf.to,
                    },
                    properties=cf.properties,
                )
            )
        elif props.sql_filter is not None:
            predicates.append(compile_sql_filter(props.sql_filter.sql_expression))
    return predicates


class Store:
    """All entities of the one namespace and every operation on their messages."""

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        clock: Callable[[], float] = time.time,
        journal: Journal | None = None,
    ) -> None:
        self._clock = clock
        self._journal = journal
        self._mutex = threading.RLock()
        self.targets: dict[str, SendTarget] = {}
        self.sources: dict[str, MessageQueue] = {}
        self._locks: dict[uuid.UUID, MessageQueue] = {}
        self._lock_deadlines: list[tuple[float, uuid.UUID]] = []
        self._expiry_deadlines: list[tuple[float, str, int]] = []
        self._schedule_deadlines: list[tuple[float, str, int]] = []
        self.ready: set[MessageQueue] = set()
        self._build(config)

    # ----- construction -------------------------------------------------------------------

    def _register_source(self, queue: MessageQueue) -> None:
        self.sources[queue.path.lower()] = queue
        if queue.dead_letter_queue is not None:
            self.sources[queue.dead_letter_queue.path.lower()] = queue.dead_letter_queue

    def _build(self, config: EmulatorConfig) -> None:
        namespace = config.namespace
        for queue_config in namespace.queues:
            p = queue_config.properties
            queue = MessageQueue(
                queue_config.name,
                QueueSettings(
                    lock_duration=_seconds(p.lock_duration),
                    max_delivery_count=p.max_delivery_count,
                    default_ttl=_seconds(p.default_message_time_to_live),
                    dead_letter_on_expiration=p.dead_lettering_on_message_expiration,
                    forward_to=p.forward_to,
                    forward_dead_letters_to=p.forward_dead_lettered_messages_to,
                ),
            )
            self._register_source(queue)
            self.targets[queue_config.name.lower()] = SendTarget(
                name=queue_config.name,
                default_ttl=_seconds(p.default_message_time_to_live),
                requires_duplicate_detection=p.requires_duplicate_detection,
                duplicate_window=_seconds(p.duplicate_detection_history_time_window),
                queue=queue,
            )
        for topic_config in namespace.topics:
            tp = topic_config.properties
            topic = SendTarget(
                name=topic_config.name,
                default_ttl=_seconds(tp.default_message_time_to_live),
                requires_duplicate_detection=tp.requires_duplicate_detection,
                duplicate_window=_seconds(tp.duplicate_detection_history_time_window),
            )
            for sub_config in topic_config.subscriptions:
                sp = sub_config.properties
                queue = MessageQueue(
                    f"{topic_config.name}{SUBSCRIPTIONS_SEGMENT}{sub_config.name}",
                    QueueSettings(
                        lock_duration=_seconds(sp.lock_duration),
                        max_delivery_count=sp.max_delivery_count,
                        default_ttl=min(_seconds(sp.default_message_time_to_live), topic.default_ttl),
                        dead_letter_on_expiration=sp.dead_lettering_on_message_expiration,
                        forward_to=sp.forward_to,
                        forward_dead_letters_to=sp.forward_dead_lettered_messages_to,
                    ),
                )
                self._register_source(queue)
                topic.subscriptions.append(Subscription(queue=queue, rules=_rules_from_config(sub_config.rules)))
            self.targets[topic_config.name.lower()] = topic

    # ----- lookup -------------------------------------------------------------------------

    def send_target(self, path: str) -> SendTarget:
        target = self.targets.get(path.lower())
        if target is None:
            if path.lower() in self.sources:
                raise NotAllowed(f"Cannot send to '{path}': messages are sent to a queue or a topic.")
            raise EntityNotFound(f"The messaging entity 'sbemulatorns:{path}' could not be found.")
        return target

    def source(self, path: str) -> MessageQueue:
        queue = self.sources.get(path.lower())
        if queue is None:
            target = self.targets.get(path.lower())
            if target is not None and target.is_topic:
                raise NotAllowed(f"Cannot receive from topic '{path}': receive from one of its subscriptions.")
            raise EntityNotFound(f"The messaging entity 'sbemulatorns:{path}' could not be found.")
        return queue

    # ----- sending ------------------------------------------------------------------------

    def _now(self) -> float:
        return self._clock()

    def _commit(self) -> None:
        if self._journal is not None:
            self._journal.commit()

    def _next_sequence(self, target: SendTarget) -> int:
        target.last_sequence += 1
        if self._journal is not None:
            self._journal.save_sequence(target.name, target.last_sequence)
        return target.last_sequence

    def _is_duplicate(self, target: SendTarget, message_id: str | None, now: float) -> bool:
        if not target.requires_duplicate_detection or message_id is None:
            return False
        horizon = now - target.duplicate_window
        while target.seen_ids:
            oldest_id, seen_at = next(iter(target.seen_ids.items()))
            if seen_at >= horizon:
                break
            del target.seen_ids[oldest_id]
        if message_id in target.seen_ids:
            return True
        target.seen_ids[message_id] = now
        if self._journal is not None:
            self._journal.save_duplicate(target.name, message_id, now)
        return False

    def send(self, path: str, messages: list[IncomingMessage]) -> None:
        """Enqueue messages sent to a queue or topic (one transfer: all or nothing)."""
        with self._mutex:
            target = self.send_target(path)
            now = self._now()
            for message in messages:
                scheduled_ms = message.facts.scheduled_enqueue_ms
                if scheduled_ms is not None and scheduled_ms / 1000 > now:
                    self._schedule_one(target, message, scheduled_ms / 1000)
                    continue
                if self._is_duplicate(target, message.facts.message_id, now):
                    continue
                self._enqueue(target, message, self._next_sequence(target), now, hops=0)
            self._commit()

    def _enqueue(self, target: SendTarget, message: IncomingMessage, sequence: int, now: float, *, hops: int) -> None:
        ttl = message.encoded.ttl_ms / 1000 if message.encoded.ttl_ms is not None else None
        if target.queue is not None:
            self._place(target.queue, message, sequence, now, ttl, hops=hops)
            return
        for subscription in target.subscriptions:
            if any_rule_matches(subscription.rules, message.facts):
                self._place(subscription.queue, message, sequence, now, ttl, hops=hops)

    def _place(
        self, queue: MessageQueue, message: IncomingMessage, sequence: int, now: float, ttl: float | None, *, hops: int
    ) -> None:
        forward_to = queue.settings.forward_to
        if forward_to and hops < MAX_FORWARD_HOPS:
            target = self.targets[forward_to.lower()]
            if not self._is_duplicate(target, message.facts.message_id, now):
                self._enqueue(target, message, self._next_sequence(target), now, hops=hops + 1)
            return
        limits = [value for value in (ttl, queue.settings.default_ttl) if value is not None]
        expires_at = now + min(limits) if limits else None
        stored = StoredMessage(
            sequence_number=sequence,
            encoded=message.encoded,
            message_id=message.facts.message_id,
            enqueued_at=now,
            expires_at=expires_at,
        )
        self._add(queue, stored)

    def _add(self, queue: MessageQueue, message: StoredMessage) -> None:
        queue.messages[message.sequence_number] = message
        if message.state == MessageState.ACTIVE:
            self._make_available(queue, message)
        if message.expires_at is not None and not queue.is_dead_letter_queue:
            heapq.heappush(self._expiry_deadlines, (message.expires_at, queue.path.lower(), message.sequence_number))
        if self._journal is not None:
            self._journal.save_message(queue.path, message)

    def _make_available(self, queue: MessageQueue, message: StoredMessage) -> None:
        if not message.queued:
            message.queued = True
            heapq.heappush(queue.available, message.sequence_number)
        self.ready.add(queue)

    def _remove(self, queue: MessageQueue, message: StoredMessage) -> None:
        queue.messages.pop(message.sequence_number, None)
        if message.lock_token is not None:
            self._locks.pop(message.lock_token, None)
            queue.locked.pop(message.lock_token, None)
            message.lock_token = None
        if self._journal is not None:
            self._journal.delete_message(queue.path, message.sequence_number)

    # ----- scheduling ---------------------------------------------------------------------

    def _schedule_one(self, target: SendTarget, message: IncomingMessage, at: float) -> int:
        sequence = self._next_sequence(target)
        stored = StoredMessage(
            sequence_number=sequence,
            encoded=message.encoded,
            message_id=message.facts.message_id,
            enqueued_at=at,
            expires_at=None,
            state=MessageState.SCHEDULED,
        )
        target.scheduled[sequence] = stored
        heapq.heappush(self._schedule_deadlines, (at, target.name.lower(), sequence))
        if self._journal is not None:
            self._journal.save_message(target.name, stored)
        return sequence

    def schedule(self, path: str, messages: list[IncomingMessage], default_at: float | None = None) -> list[int]:
        """Hold messages until their scheduled enqueue time; return their sequence numbers."""
        with self._mutex:
            target = self.send_target(path)
            sequences = []
            for message in messages:
                scheduled_ms = message.facts.scheduled_enqueue_ms
                at = scheduled_ms / 1000 if scheduled_ms is not None else default_at
                if at is None:
                    raise InvalidRequest("A scheduled message needs x-opt-scheduled-enqueue-time.")
                sequences.append(self._schedule_one(target, message, at))
            self._commit()
            return sequences

    def cancel_scheduled(self, path: str, sequence_numbers: list[int]) -> None:
        """Drop scheduled messages; unknown or already enqueued sequence numbers are an error."""
        with self._mutex:
            target = self.send_target(path)
            missing = [n for n in sequence_numbers if n not in target.scheduled]
            if missing:
                raise MessageNotFound(f"No scheduled message with sequence number {missing[0]} in '{target.name}'.")
            for number in sequence_numbers:
                del target.scheduled[number]
                if self._journal is not None:
                    self._journal.delete_message(target.name, number)
            self._commit()

    # ----- receiving ----------------------------------------------------------------------

    def _expired(self, message: StoredMessage, now: float) -> bool:
        return message.expires_at is not None and message.expires_at <= now

    def _lock(self, queue: MessageQueue, message: StoredMessage, now: float) -> None:
        token = uuid.uuid4()
        message.lock_token = token
        message.locked_until = now + queue.settings.lock_duration
        self._locks[token] = queue
        queue.locked[token] = message
        heapq.heappush(self._lock_deadlines, (message.locked_until, token))

    def receive(self, path_or_queue: str | MessageQueue, *, peek_lock: bool) -> StoredMessage | None:
        """Take the next available message: lock it (peek-lock) or remove it (receive-and-delete)."""
        with self._mutex:
            queue = path_or_queue if isinstance(path_or_queue, MessageQueue) else self.source(path_or_queue)
            now = self._now()
            while queue.available:
                sequence = heapq.heappop(queue.available)
                message = queue.messages.get(sequence)
                if message is None or not message.queued:
                    continue
                message.queued = False
                if message.state != MessageState.ACTIVE or message.lock_token is not None:
                    continue
                if self._expired(message, now):
                    self._expire(queue, message)
                    continue
                if peek_lock:
                    self._lock(queue, message, now)
                else:
                    self._remove(queue, message)
                    self._commit()
                return message
            self._commit()
            return None

    def receive_deferred(self, path: str, sequence_numbers: list[int], *, peek_lock: bool) -> list[StoredMessage]:
        """Fetch deferred messages by sequence number (the only way to reach them)."""
        with self._mutex:
            queue = self.source(path)
            now = self._now()
            found = []
            for number in sequence_numbers:
                message = queue.messages.get(number)
                if message is None or message.state != MessageState.DEFERRED:
                    raise MessageNotFound(f"No deferred message with sequence number {number} in '{queue.path}'.")
                if message.lock_token is not None and message.locked_until > now:
                    raise MessageNotFound(f"The deferred message {number} in '{queue.path}' is locked by a receiver.")
                found.append(message)
            for message in found:
                if peek_lock:
                    self._lock(queue, message, now)
                else:
                    self._remove(queue, message)
            self._commit()
            return found

    def peek(self, path: str, from_sequence: int, count: int) -> list[StoredMessage]:
        """Browse messages (any state, locked or not) without locking them, in sequence order."""
        with self._mutex:
            queue = self.source(path)
            numbers = sorted(n for n in queue.messages if n >= from_sequence)[: max(count, 0)]
            result = [queue.messages[n] for n in numbers]
            target = self.targets.get(path.lower())
            if target is not None and target.queue is queue:
                scheduled = sorted(n for n in target.scheduled if n >= from_sequence)
                merged = sorted(result + [target.scheduled[n] for n in scheduled], key=lambda m: m.sequence_number)
                result = merged[: max(count, 0)]
            return result

    # ----- settlement ---------------------------------------------------------------------

    def _locked_message(self, token: uuid.UUID, now: float) -> tuple[MessageQueue, StoredMessage]:
        queue = self._locks.get(token)
        if queue is not None:
            message = queue.locked.get(token)
            if message is not None:
                if message.locked_until > now:
                    return queue, message
                self._lock_expired(queue, message)
        raise MessageLockLost(
            "The lock supplied is invalid. Either the lock expired, or the message has already been removed from "
            "the queue, or was received by a different receiver instance."
        )

    def settle(
        self,
        token: uuid.UUID,
        outcome: Outcome,
        *,
        reason: str | None = None,
        description: str | None = None,
    ) -> None:
        """Apply a receiver's settlement to a locked message; an unknown or expired lock is an error."""
        self.settle_all([token], outcome, reason=reason, description=description)

    def settle_all(
        self,
        tokens: list[uuid.UUID],
        outcome: Outcome,
        *,
        reason: str | None = None,
        description: str | None = None,
    ) -> None:
        """Settle several locks at once: all of them, or (if any lock is lost) none of them."""
        with self._mutex:
            now = self._now()
            try:
                locked = [self._locked_message(token, now) for token in dict.fromkeys(tokens)]
            finally:
                self._commit()  # a lock found expired on the way has been released: keep that
            if outcome == Outcome.DEAD_LETTER and any(queue.is_dead_letter_queue for queue, _ in locked):
                raise InvalidRequest("A message in a dead-letter queue cannot be dead-lettered again.")
            for queue, message in locked:
                self._unlock(queue, message)
                if outcome == Outcome.COMPLETE:
                    self._remove(queue, message)
                elif outcome == Outcome.ABANDON:
                    self._count_failed_delivery(queue, message, now)
                elif outcome == Outcome.RELEASE:
                    self._return(queue, message, now)
                elif outcome == Outcome.DEFER:
                    message.state = MessageState.DEFERRED
                    self._save(queue, message)
                elif outcome == Outcome.DEAD_LETTER:
                    self._dead_letter(queue, message, reason, description)
            self._commit()

    def _unlock(self, queue: MessageQueue, message: StoredMessage) -> None:
        if message.lock_token is not None:
            self._locks.pop(message.lock_token, None)
            queue.locked.pop(message.lock_token, None)
        message.lock_token = None
        message.locked_until = 0.0

    def _save(self, queue: MessageQueue, message: StoredMessage) -> None:
        if self._journal is not None:
            self._journal.save_message(queue.path, message)

    def _return(self, queue: MessageQueue, message: StoredMessage, now: float) -> None:
        """Put an unlocked message back where receivers find it (or expire it, if its time is up)."""
        if self._expired(message, now) and not queue.is_dead_letter_queue:
            self._expire(queue, message)
            return
        if message.state == MessageState.ACTIVE:
            self._make_available(queue, message)
        self._save(queue, message)

    def _count_failed_delivery(self, queue: MessageQueue, message: StoredMessage, now: float) -> None:
        message.delivery_count += 1
        limit = queue.settings.max_delivery_count
        if not queue.is_dead_letter_queue and message.delivery_count >= limit:
            self._dead_letter(
                queue,
                message,
                MAX_DELIVERY_COUNT_REASON,
                f"Message could not be consumed after {limit} delivery attempts.",
            )
            return
        self._return(queue, message, now)

    def _dead_letter(
        self, queue: MessageQueue, message: StoredMessage, reason: str | None, description: str | None
    ) -> None:
        self._remove(queue, message)
        extra = {}
        if reason is not None:
            extra["DeadLetterReason"] = reason
        if description is not None:
            extra["DeadLetterErrorDescription"] = description
        properties = with_application_properties(message.encoded, extra) if extra else message.application_properties
        dead = StoredMessage(
            sequence_number=message.sequence_number,
            encoded=message.encoded,
            message_id=message.message_id,
            enqueued_at=message.enqueued_at,
            expires_at=None,
            state=MessageState.ACTIVE,
            delivery_count=message.delivery_count,
            dead_letter_reason=reason,
            dead_letter_description=description,
            dead_letter_properties=properties,
            dead_letter_source=queue.path,
        )
        forward = queue.settings.forward_dead_letters_to
        if forward:
            target = self.targets[forward.lower()]
            forwarded = replace(message.encoded, application_properties=properties)
            incoming = IncomingMessage(forwarded, MessageFacts(message_id=message.message_id))
            self._enqueue(target, incoming, self._next_sequence(target), self._now(), hops=1)
            return
        assert queue.dead_letter_queue is not None
        self._add(queue.dead_letter_queue, dead)

    def _expire(self, queue: MessageQueue, message: StoredMessage) -> None:
        if queue.settings.dead_letter_on_expiration:
            self._dead_letter(queue, message, TTL_EXPIRED_REASON, TTL_EXPIRED_DESCRIPTION)
        else:
            self._remove(queue, message)

    def _lock_expired(self, queue: MessageQueue, message: StoredMessage) -> None:
        self._unlock(queue, message)
        self._count_failed_delivery(queue, message, self._now())

    def renew_locks(self, tokens: list[uuid.UUID]) -> list[float]:
        """Extend each lock by the entity's lock duration from now; return the new expiry times."""
        with self._mutex:
            now = self._now()
            expirations = []
            try:
                for token in tokens:
                    queue, message = self._locked_message(token, now)
                    message.locked_until = now + queue.settings.lock_duration
                    heapq.heappush(self._lock_deadlines, (message.locked_until, token))
                    expirations.append(message.locked_until)
            finally:
                self._commit()
            return expirations

    # ----- time ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Apply everything whose time has come: lock expiry, message expiry, scheduled enqueues."""
        with self._mutex:
            now = self._now()
            while self._lock_deadlines and self._lock_deadlines[0][0] <= now:
                _, token = heapq.heappop(self._lock_deadlines)
                queue = self._locks.get(token)
                if queue is None:
                    continue
                message = queue.locked.get(token)
                if message is not None and message.locked_until <= now:
                    self._lock_expired(queue, message)
            while self._expiry_deadlines and self._expiry_deadlines[0][0] <= now:
                _, path, sequence = heapq.heappop(self._expiry_deadlines)
                queue_or_none = self.sources.get(path)
                if queue_or_none is None:
                    continue
                message = queue_or_none.messages.get(sequence)
                if message is None or message.lock_token is not None or not self._expired(message, now):
                    continue
                self._expire(queue_or_none, message)
            while self._schedule_deadlines and self._schedule_deadlines[0][0] <= now:
                _, name, sequence = heapq.heappop(self._schedule_deadlines)
                target = self.targets[name]
                scheduled = target.scheduled.pop(sequence, None)
                if scheduled is None:
                    continue
                if self._journal is not None:
                    self._journal.delete_message(target.name, sequence)
                incoming = IncomingMessage(scheduled.encoded, facts_of(scheduled))
                self._enqueue(target, incoming, sequence, now, hops=0)
            self._commit()

    # ----- inspection ---------------------------------------------------------------------

    def counts(self) -> dict[str, QueueCounts]:
        with self._mutex:
            result: dict[str, QueueCounts] = {}
            for target in self.targets.values():
                queues = [target.queue] if target.queue is not None else [s.queue for s in target.subscriptions]
                for queue in queues:
                    for each in (queue, queue.dead_letter_queue):
                        if each is None:
                            continue
                        messages = list(each.messages.values())
                        result[each.path] = QueueCounts(
                            active=sum(1 for m in messages if m.state == MessageState.ACTIVE and m.lock_token is None),
                            locked=sum(1 for m in messages if m.lock_token is not None),
                            deferred=sum(1 for m in messages if m.state == MessageState.DEFERRED),
                            scheduled=len(target.scheduled) if each is target.queue else 0,
                            dead_letter=len(each.dead_letter_queue.messages) if each.dead_letter_queue else 0,
                        )
                if target.is_topic:
                    result[target.name] = QueueCounts(0, 0, 0, len(target.scheduled), 0)
            return result

    def dead_letters(self, path: str) -> list[DeadLetterRecord]:
        with self._mutex:
            queue = self.source(path)
            dead = queue if queue.is_dead_letter_queue else queue.dead_letter_queue
            assert dead is not None
            return [
                DeadLetterRecord(
                    m.sequence_number, m.message_id, m.dead_letter_reason, m.dead_letter_description, m.delivery_count
                )
                for m in sorted(dead.messages.values(), key=lambda m: m.sequence_number)
            ]

    # ----- restore ------------------------------------------------------------------------

    def restore_message(self, queue_path: str, message: StoredMessage) -> bool:
        """Load a persisted message at start-up; ``False`` if the config no longer has its entity.

        Locks are not persisted: every message comes back unlocked.
        """
        with self._mutex:
            target = self.targets.get(queue_path.lower())
            if message.state == MessageState.SCHEDULED and target is not None:
                target.scheduled[message.sequence_number] = message
                heapq.heappush(
                    self._schedule_deadlines, (message.enqueued_at, target.name.lower(), message.sequence_number)
                )
                return True
            queue = self.sources.get(queue_path.lower())
            if queue is None:
                return False
            message.lock_token = None
            message.queued = False
            queue.messages[message.sequence_number] = message
            if message.state == MessageState.ACTIVE:
                self._make_available(queue, message)
            if message.expires_at is not None and not queue.is_dead_letter_queue:
                heapq.heappush(
                    self._expiry_deadlines, (message.expires_at, queue.path.lower(), message.sequence_number)
                )
            return True

    def restore_sequence(self, target_name: str, value: int) -> None:
        with self._mutex:
            target = self.targets.get(target_name.lower())
            if target is not None:
                target.last_sequence = max(target.last_sequence, value)

    def restore_duplicate(self, target_name: str, message_id: str, seen_at: float) -> None:
        with self._mutex:
            target = self.targets.get(target_name.lower())
            if target is not None:
                target.seen_ids[message_id] = seen_at


def facts_of(message: StoredMessage) -> MessageFacts:
    """Decode routing facts again (scheduled messages are fanned out when they become due)."""
    encoded = message.encoded
    _, facts = parse_message(encoded.properties + encoded.application_properties + encoded.body)
    return facts
