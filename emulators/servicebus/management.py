"""The ``$management`` request/response operations the Python client uses.

Each request names an operation (``com.microsoft:renew-lock`` and so on) in its application
properties and carries an AMQP-value map; the answer carries ``statusCode``/``statusDescription``
(camelCase here, unlike CBS), an optional ``errorCondition`` the client maps to an exception, and
a map body. Bodies follow the Service Bus AMQP request/response reference.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from proton import UNDESCRIBED, Array, Data, Message, symbol

from emulators.servicebus.codec import MalformedMessage, parse_message, to_timestamp
from emulators.servicebus.errors import BrokerError, InvalidRequest
from emulators.servicebus.outgoing import render
from emulators.servicebus.store import IncomingMessage, Outcome, Store

_UNDESCRIBED = cast(Any, UNDESCRIBED)  # typed as a Constant, accepted by Array as "no descriptor"
_DISPOSITIONS = {
    "completed": Outcome.COMPLETE,
    "abandoned": Outcome.ABANDON,
    "defered": Outcome.DEFER,  # sic: the spelling Service Bus uses on the wire
    "deferred": Outcome.DEFER,
    "suspended": Outcome.DEAD_LETTER,
}


@dataclass
class Reply:
    status_code: int
    description: str
    body: dict[str, Any] | None = None
    condition: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _elements(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Array):
        return list(value.elements)
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _uuids(values: Iterable[Any]) -> list[uuid.UUID]:
    tokens = []
    for value in values:
        if isinstance(value, uuid.UUID):
            tokens.append(value)
        else:
            try:
                tokens.append(uuid.UUID(str(value)))
            except ValueError:
                raise InvalidRequest(f"{value!r} is not a lock token") from None
    return tokens


def _ints(values: Iterable[Any], what: str) -> list[int]:
    numbers = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRequest(f"{value!r} is not a {what}")
        numbers.append(int(value))
    return numbers


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _string_keys(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be an AMQP map.")
    return {str(key): value for key, value in body.items()}


def handle(store: Store, entity: str, request: Message) -> Reply:
    """Run one management request against the store; every refusal becomes an error reply."""
    properties: dict[Any, Any] = dict(request.properties or {})
    operation = str(properties.get("operation", ""))
    try:
        body = _string_keys(request.body)
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise InvalidRequest(f"The operation {operation!r} is not supported by this emulator.")
        return handler(store, entity, body)
    except BrokerError as error:
        return Reply(error.status_code, error.description, condition=error.condition)


def _renew_lock(store: Store, entity: str, body: dict[str, Any]) -> Reply:
    tokens = _uuids(_elements(body.get("lock-tokens")))
    expirations = store.renew_locks(tokens)
    array = Array(_UNDESCRIBED, Data.TIMESTAMP, *[to_timestamp(value) for value in expirations])
    return Reply(200, "OK", {"expirations": array})


def _update_disposition(store: Store, entity: str, body: dict[str, Any]) -> Reply:
    status = str(body.get("disposition-status", ""))
    outcome = _DISPOSITIONS.get(status)
    if outcome is None:
        raise InvalidRequest(f"Unknown disposition-status {status!r}.")
    tokens = _uuids(_elements(body.get("lock-tokens")))
    reason = _text(body.get("deadletter-reason")) or None
    description = _text(body.get("deadletter-description")) or None
    store.settle_all(tokens, outcome, reason=reason, description=description)
    return Reply(200, "OK", {})


def _incoming(encoded: Any) -> IncomingMessage:
    try:
        stored, facts = parse_message(bytes(encoded))
    except (MalformedMessage, TypeError) as error:
        raise InvalidRequest(f"A scheduled message is not an encoded AMQP message: {error}") from None
    return IncomingMessage(stored, facts)


def _schedule(store: Store, entity: str, body: dict[str, Any]) -> Reply:
    messages = []
    for item in _elements(body.get("messages")):
        entry = _string_keys(item)
        messages.append(_incoming(entry.get("message")))
    if not messages:
        raise InvalidRequest("schedule-message needs at least one message.")
    sequences = store.schedule(entity, messages)
    return Reply(200, "OK", {"sequence-numbers": Array(_UNDESCRIBED, Data.LONG, *sequences)})


def _cancel_scheduled(store: Store, entity: str, body: dict[str, Any]) -> Reply:
    store.cancel_scheduled(entity, _ints(_elements(body.get("sequence-numbers")), "sequence number"))
    return Reply(200, "OK", {})


def _receive_by_sequence(store: Store, entity: str, body: dict[str, Any]) -> Reply:
    numbers = _ints(_elements(body.get("sequence-numbers")), "sequence number")
    mode = body.get("receiver-settle-mode", 1)
    peek_lock = int(mode) != 0
    messages = store.receive_deferred(entity, numbers, peek_lock=peek_lock)
    items: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"message": render(message, locked=peek_lock)}
        if peek_lock and message.lock_token is not None:
            item["lock-token"] = message.lock_token
        items.append(item)
    return Reply(200, "OK", {"messages": items})


def _peek(store: Store, entity: str, body: dict[str, Any]) -> Reply:
    start = body.get("from-sequence-number", 0)
    count = body.get("message-count", 1)
    if isinstance(start, bool) or not isinstance(start, int) or isinstance(count, bool) or not isinstance(count, int):
        raise InvalidRequest("peek-message needs integer from-sequence-number and message-count.")
    messages = store.peek(entity, int(start), int(count))
    if not messages:
        return Reply(204, "No messages")
    return Reply(200, "OK", {"messages": [{"message": render(m, locked=False)} for m in messages]})


_OPERATIONS = {
    "com.microsoft:renew-lock": _renew_lock,
    "com.microsoft:update-disposition": _update_disposition,
    "com.microsoft:schedule-message": _schedule,
    "com.microsoft:cancel-scheduled-message": _cancel_scheduled,
    "com.microsoft:receive-by-sequence-number": _receive_by_sequence,
    "com.microsoft:peek-message": _peek,
}


def encode_reply(reply: Reply, correlation_id: Any, *, cbs: bool = False) -> bytes:
    """Encode the response; CBS uses hyphenated status names, ``$management`` camelCase ones."""
    code_key, text_key = ("status-code", "status-description") if cbs else ("statusCode", "statusDescription")
    properties: dict[str, Any] = {code_key: reply.status_code, text_key: reply.description}
    if reply.condition is not None:
        properties["errorCondition"] = symbol(reply.condition)
    message = Message(correlation_id=correlation_id, properties=properties, body=reply.body)
    return bytes(message.encode())
