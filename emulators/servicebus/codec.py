"""AMQP 1.0 message sections: split what a client sent, rebuild what the broker delivers.

The broker keeps the bare message (properties, application-properties, body, footer) as the exact
bytes the sender encoded, so every value and type reaches the receiver untouched. It decodes only
what it routes on, and re-encodes only the parts a broker owns: the header (``delivery-count``)
and the message annotations (``x-opt-sequence-number``, ``x-opt-locked-until`` and friends).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from proton import Data, DataException, Described, symbol, timestamp, ubyte, uint, ulong

HEADER = 0x70
DELIVERY_ANNOTATIONS = 0x71
MESSAGE_ANNOTATIONS = 0x72
PROPERTIES = 0x73
APPLICATION_PROPERTIES = 0x74
DATA = 0x75
AMQP_SEQUENCE = 0x76
AMQP_VALUE = 0x77
FOOTER = 0x78
_SYMBOLIC_DESCRIPTORS = {
    "amqp:header:list": HEADER,
    "amqp:delivery-annotations:map": DELIVERY_ANNOTATIONS,
    "amqp:message-annotations:map": MESSAGE_ANNOTATIONS,
    "amqp:properties:list": PROPERTIES,
    "amqp:application-properties:map": APPLICATION_PROPERTIES,
    "amqp:data:binary": DATA,
    "amqp:amqp-sequence:list": AMQP_SEQUENCE,
    "amqp:amqp-value:*": AMQP_VALUE,
    "amqp:footer:map": FOOTER,
}
_BODY = (DATA, AMQP_SEQUENCE, AMQP_VALUE, FOOTER)
_PROPERTY_FIELDS = (
    "message_id",
    "user_id",
    "to",
    "subject",
    "reply_to",
    "correlation_id",
    "content_type",
    "content_encoding",
    "absolute_expiry_time",
    "creation_time",
    "group_id",
    "group_sequence",
    "reply_to_group_id",
)
# Annotations the broker sets on delivery; a sender's own values for these are dropped.
BROKER_ANNOTATIONS = frozenset(
    {
        "x-opt-sequence-number",
        "x-opt-enqueued-time",
        "x-opt-locked-until",
        "x-opt-message-state",
        "x-opt-deadletter-source",
        "x-opt-enqueue-sequence-number",
        "x-opt-lock-token",
    }
)


class MalformedMessage(ValueError):
    """The bytes of a transfer are not an AMQP 1.0 message."""


@dataclass(frozen=True, slots=True)
class EncodedMessage:
    """A message as stored: the sender's header fields plus its sections as encoded bytes."""

    durable: bool
    priority: int
    ttl_ms: int | None
    annotations: bytes
    properties: bytes
    application_properties: bytes
    body: bytes

    @property
    def size(self) -> int:
        return len(self.annotations) + len(self.properties) + len(self.application_properties) + len(self.body)


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What the broker routes on, decoded once when the message arrives."""

    message_id: str | None = None
    to: str | None = None
    subject: str | None = None
    reply_to: str | None = None
    correlation_id: str | None = None
    content_type: str | None = None
    session_id: str | None = None
    reply_to_session_id: str | None = None
    absolute_expiry_ms: int | None = None
    scheduled_enqueue_ms: int | None = None
    application_properties: dict[str, Any] = field(default_factory=dict)


def _owned(value: Any) -> Any:
    """Copy binaries out of proton's buffer: ``get_object`` returns memoryviews into memory it frees."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, Described):
        return Described(value.descriptor, _owned(value.value))
    if isinstance(value, list):
        return [_owned(item) for item in value]
    if isinstance(value, dict):
        return {_owned(key): _owned(item) for key, item in value.items()}
    return value


def _decode_one(buffer: bytes) -> tuple[Any, int]:
    data = Data()
    try:
        consumed = data.decode(buffer)
        data.rewind()
        data.next()
        value = _owned(data.get_object())
    except (DataException, KeyError, TypeError, ValueError) as error:
        raise MalformedMessage(f"not AMQP-encoded data: {error}") from None
    return value, consumed


def split_sections(encoded: bytes) -> list[tuple[int, bytes, Any]]:
    """Return ``(descriptor code, section bytes, decoded value)`` for each section in order."""
    sections: list[tuple[int, bytes, Any]] = []
    position = 0
    while position < len(encoded):
        value, consumed = _decode_one(encoded[position:])
        if consumed <= 0 or not isinstance(value, Described):
            raise MalformedMessage("an AMQP message is a sequence of described sections")
        descriptor = value.descriptor
        code = _SYMBOLIC_DESCRIPTORS.get(str(descriptor)) if isinstance(descriptor, symbol) else descriptor
        if not isinstance(code, int) or not HEADER <= code <= FOOTER:
            raise MalformedMessage(f"unknown message section descriptor {descriptor!r}")
        sections.append((int(code), encoded[position : position + consumed], value.value))
        position += consumed
    if not sections:
        raise MalformedMessage("an empty transfer is not a message")
    return sections


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _millis(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return int(value)


def parse_message(encoded: bytes) -> tuple[EncodedMessage, MessageFacts]:
    """Split one encoded message into what is stored and what is routed on."""
    durable, priority, ttl_ms = False, 4, None
    annotations = properties = application_properties = b""
    body = bytearray()
    facts: dict[str, Any] = {}
    for code, chunk, value in split_sections(encoded):
        if code == HEADER:
            fields = list(value or []) + [None] * 5
            durable = bool(fields[0])
            priority = int(fields[1]) if fields[1] is not None else 4
            ttl_ms = int(fields[2]) if fields[2] is not None else None
        elif code == MESSAGE_ANNOTATIONS:
            annotations_map = dict(value or {})
            scheduled = annotations_map.get(symbol("x-opt-scheduled-enqueue-time"))
            facts["scheduled_enqueue_ms"] = _millis(scheduled)
            if any(str(key) in BROKER_ANNOTATIONS for key in annotations_map):
                kept = {k: v for k, v in annotations_map.items() if str(k) not in BROKER_ANNOTATIONS}
                annotations = encode_section(MESSAGE_ANNOTATIONS, kept) if kept else b""
            else:
                annotations = chunk
        elif code == PROPERTIES:
            properties = chunk
            fields = list(value or []) + [None] * len(_PROPERTY_FIELDS)
            named = dict(zip(_PROPERTY_FIELDS, fields, strict=False))
            for name in ("message_id", "to", "subject", "reply_to", "correlation_id", "content_type"):
                facts[name] = _text(named[name])
            facts["session_id"] = _text(named["group_id"])
            facts["reply_to_session_id"] = _text(named["reply_to_group_id"])
            facts["absolute_expiry_ms"] = _millis(named["absolute_expiry_time"])
        elif code == APPLICATION_PROPERTIES:
            application_properties = chunk
            if value is not None and not isinstance(value, dict):
                raise MalformedMessage("application-properties must be a map")
            facts["application_properties"] = {str(k): v for k, v in (value or {}).items()}
        elif code in _BODY:
            body += chunk
    stored = EncodedMessage(
        durable=durable,
        priority=priority,
        ttl_ms=ttl_ms,
        annotations=annotations,
        properties=properties,
        application_properties=application_properties,
        body=bytes(body),
    )
    return stored, MessageFacts(**facts)


def unpack_batch(encoded: bytes) -> list[bytes] | None:
    """Return the inner messages if ``encoded`` is a batch envelope, else ``None``.

    The client sends a batch as one transfer with message-format 0x80013700 whose body is one
    ``data`` section per message, each a complete encoded message. proton's Python binding does
    not expose the transfer's message-format, so the envelope is recognised by its shape: only
    body sections, all ``data``, each of which parses as an AMQP message.
    """
    try:
        sections = split_sections(encoded)
    except MalformedMessage:
        return None
    inner: list[bytes] = []
    for code, _chunk, value in sections:
        if code in (HEADER, MESSAGE_ANNOTATIONS, PROPERTIES, APPLICATION_PROPERTIES, DELIVERY_ANNOTATIONS):
            continue
        if code != DATA:
            return None
        candidate = bytes(value)
        try:
            split_sections(candidate)
        except MalformedMessage:
            return None
        inner.append(candidate)
    return inner or None


def encode_section(code: int, value: Any) -> bytes:
    data = Data()
    data.put_object(Described(ulong(code), value))
    return bytes(data.encode())


def decode_section_value(chunk: bytes) -> Any:
    value, _ = _decode_one(chunk)
    return value.value if isinstance(value, Described) else None


def to_timestamp(seconds: float) -> timestamp:
    return timestamp(int(seconds * 1000))


def build_delivery(
    message: EncodedMessage,
    *,
    delivery_count: int,
    broker_annotations: dict[str, Any],
    application_properties: bytes | None = None,
) -> bytes:
    """Encode the message as a receiver sees it: fresh header and annotations, the sender's bare message."""
    header = [
        message.durable,
        ubyte(message.priority),
        uint(message.ttl_ms) if message.ttl_ms is not None else None,
        False,
        uint(delivery_count),
    ]
    annotations: dict[Any, Any] = {}
    if message.annotations:
        annotations.update(decode_section_value(message.annotations) or {})
    annotations.update({symbol(key): value for key, value in broker_annotations.items()})
    return b"".join(
        (
            encode_section(HEADER, header),
            encode_section(MESSAGE_ANNOTATIONS, annotations),
            message.properties,
            message.application_properties if application_properties is None else application_properties,
            message.body,
        )
    )


def with_application_properties(message: EncodedMessage, extra: dict[str, Any]) -> bytes:
    """Return the application-properties section with ``extra`` set (used for dead-letter reasons)."""
    current: dict[Any, Any] = {}
    if message.application_properties:
        current.update(decode_section_value(message.application_properties) or {})
    current.update(extra)
    return encode_section(APPLICATION_PROPERTIES, current)


def utc_from_millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)
