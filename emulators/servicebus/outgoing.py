"""How a stored message looks on the wire when the broker hands it to a receiver."""

from __future__ import annotations

from typing import Any

from proton import int32

from emulators.servicebus.codec import build_delivery, to_timestamp
from emulators.servicebus.store import MessageState, StoredMessage


def render(message: StoredMessage, *, locked: bool) -> bytes:
    """Encode with the broker annotations the client reads (sequence number, enqueued time, lock expiry).

    ``locked`` adds ``x-opt-locked-until``; peeked and received-and-deleted messages carry no lock.
    """
    annotations: dict[str, Any] = {
        "x-opt-sequence-number": message.sequence_number,  # a Python int encodes as AMQP long
        "x-opt-enqueued-time": to_timestamp(message.enqueued_at),
    }
    if locked:
        annotations["x-opt-locked-until"] = to_timestamp(message.locked_until)
    if message.state != MessageState.ACTIVE:
        annotations["x-opt-message-state"] = int32(int(message.state))
    if message.state == MessageState.SCHEDULED:
        annotations["x-opt-scheduled-enqueue-time"] = to_timestamp(message.enqueued_at)
    return build_delivery(
        message.encoded,
        delivery_count=message.delivery_count,
        broker_annotations=annotations,
        application_properties=message.application_properties,
    )
