"""Bad input gets a clear error and changes nothing; nothing a peer sends can stop the broker."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage
from proton import Message
from proton.utils import BlockingConnection

from emulators.servicebus import EmulatorHandle
from tests.emulators.servicebus.conftest import PLAIN_QUEUE

pytestmark = pytest.mark.timeout(90)


def _still_serves(emulator: EmulatorHandle) -> None:
    """A cheap round trip on a new connection: the broker answers, and the queue is as it was."""
    reply = _request(emulator, f"{PLAIN_QUEUE}/$management", "com.microsoft:peek-message", {"message-count": 1})
    assert reply["statusCode"] == 204


@pytest.mark.parametrize(
    "payload",
    [b"GET / HTTP/1.1\r\n\r\n", b"AMQP\x00\x01\x00\x00" + b"\xff" * 64, b"AMQP\x03\x01\x00\x00\x00", b"\x00" * 4096],
)
def test_garbage_on_the_socket_closes_that_connection_only(emulator: EmulatorHandle, payload: bytes) -> None:
    with socket.create_connection((emulator.host, emulator.port), timeout=10) as raw:
        raw.sendall(payload)
        raw.shutdown(socket.SHUT_WR)
        try:
            while raw.recv(4096):
                pass
        except OSError:
            pass
    _still_serves(emulator)


def _request(emulator: EmulatorHandle, node: str, operation: str, body: Any) -> dict[str, Any]:
    """Send one management request with proton's own client; return the reply's application properties."""
    connection = BlockingConnection(f"amqp://{emulator.host}:{emulator.port}", timeout=10)
    try:
        replies = connection.create_receiver(node)
        requests = connection.create_sender(node)
        request_id = str(uuid.uuid4())
        requests.send(Message(id=request_id, reply_to=node, properties={"operation": operation}, body=body))
        reply = replies.receive(timeout=10)
        assert reply.correlation_id == request_id
        return dict(reply.properties or {})
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("operation", "body", "status", "condition", "text"),
    [
        (
            "com.microsoft:renew-lock",
            {"lock-tokens": ["not-a-uuid"]},
            400,
            "com.microsoft:argument-error",
            "lock token",
        ),
        ("com.microsoft:renew-lock", {"lock-tokens": [uuid.uuid4()]}, 410, "com.microsoft:message-lock-lost", "lock"),
        ("com.microsoft:peek-message", {"from-sequence-number": "one"}, 400, "com.microsoft:argument-error", "integer"),
        ("com.microsoft:schedule-message", {"messages": [{"message": b"junk"}]}, 400, None, "not an encoded"),
        ("com.microsoft:update-disposition", {"disposition-status": "eaten"}, 400, None, "disposition-status"),
        ("com.microsoft:no-such-operation", {}, 400, None, "not supported"),
        ("com.microsoft:peek-message", "not a map", 400, None, "map"),
    ],
)
def test_bad_management_requests_get_a_specific_error(
    emulator: EmulatorHandle, operation: str, body: Any, status: int, condition: str | None, text: str
) -> None:
    reply = _request(emulator, f"{PLAIN_QUEUE}/$management", operation, body)
    assert reply["statusCode"] == status
    assert text in reply["statusDescription"]
    if condition is not None:
        assert reply["errorCondition"] == condition
    assert emulator.inspect().total(PLAIN_QUEUE) == 0
    _still_serves(emulator)


@pytest.mark.parametrize("node", [PLAIN_QUEUE, f"{PLAIN_QUEUE}/$management", "$cbs"])
def test_a_transfer_that_is_not_an_amqp_message_is_rejected(emulator: EmulatorHandle, node: str) -> None:
    connection = BlockingConnection(f"amqp://{emulator.host}:{emulator.port}", timeout=10)
    try:
        link: Any = connection.create_sender(node).link
        delivery = link.delivery(b"raw-1")
        link.send(b"\x00\x53\x77\xa1")  # an amqp-value section cut off in the middle
        link.advance()
        connection.wait(lambda: delivery.remote_state != 0, timeout=10, msg="no disposition")
        assert delivery.remote_state == delivery.REJECTED
        assert delivery.remote.condition is not None
        assert delivery.remote.condition.name == "com.microsoft:argument-error"
    finally:
        connection.close()
    assert emulator.inspect().total(PLAIN_QUEUE) == 0
    with ServiceBusClient.from_connection_string(emulator.connection_string) as client:
        with client.get_queue_sender(PLAIN_QUEUE) as sender:
            sender.send_messages(ServiceBusMessage("still here"))
    assert emulator.inspect().active(PLAIN_QUEUE) == 1
