"""``--data``: messages and their state survive the emulator being killed (SIGKILL) and restarted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSubQueue

from emulators.servicebus.process import ServiceBusProcess
from tests.emulators.servicebus.conftest import FAST_CLOSE, PLAIN_QUEUE, TEST_CONFIG, TOPIC

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(TEST_CONFIG), encoding="utf-8")
    return path


@pytest.fixture
def processes() -> Iterator[list[ServiceBusProcess]]:
    started: list[ServiceBusProcess] = []
    yield started
    for process in started:
        process.kill()


def _drain(client: ServiceBusClient, expected: int, **receiver_args) -> list[str]:
    bodies: list[str] = []
    with client.get_queue_receiver(PLAIN_QUEUE, **receiver_args, **FAST_CLOSE) as receiver:
        for _ in range(20):
            if len(bodies) >= expected:
                break
            for message in receiver.receive_messages(max_message_count=expected - len(bodies), max_wait_time=3):
                bodies.append(str(message))
                receiver.complete_message(message)
        assert receiver.receive_messages(max_message_count=1, max_wait_time=1) == []
    return bodies


def test_messages_survive_sigkill_and_restart_unlocked_and_not_duplicated(
    tmp_path: Path, config_file: Path, processes: list[ServiceBusProcess]
) -> None:
    data = tmp_path / "data"
    first = ServiceBusProcess(config_file, data)
    processes.append(first)
    sent = [f"m-{i}" for i in range(50)]
    with ServiceBusClient.from_connection_string(first.connection_string) as client:
        with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
            sender.send_messages([ServiceBusMessage(body, message_id=body) for body in sent[:40]])
            for body in sent[40:]:
                sender.send_messages(ServiceBusMessage(body, message_id=body))
            sender.send_messages(ServiceBusMessage("deferred"))
            sender.send_messages(ServiceBusMessage("dead"))
            (scheduled_seq,) = sender.schedule_messages(
                ServiceBusMessage("scheduled"), datetime.now(UTC) + timedelta(hours=1)
            )
        with client.get_topic_sender(TOPIC, **FAST_CLOSE) as topic:
            topic.send_messages(
                ServiceBusMessage("event", message_id="evt", application_properties={"eventType": "completed"})
            )
        with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
            locked = receiver.receive_messages(max_message_count=5, max_wait_time=5)
            assert [str(m) for m in locked] == sent[:5]
            special = receiver.peek_messages(max_message_count=2, sequence_number=51)
            assert [str(m) for m in special] == ["deferred", "dead"]
            extra = receiver.receive_messages(max_message_count=50, max_wait_time=5)
            by_body = {str(m): m for m in extra}
            receiver.defer_message(by_body["deferred"])
            receiver.dead_letter_message(by_body["dead"], reason="Kept", error_description="across restarts")
            deferred_seq = by_body["deferred"].sequence_number
    # Clients closed first (a client whose peer dies leaks its socket); all 50 messages are still locked.
    first.kill()

    second = ServiceBusProcess(config_file, data, port=first.port)
    processes.append(second)
    with ServiceBusClient.from_connection_string(second.connection_string) as client:
        bodies = _drain(client, len(sent))
        assert sorted(bodies) == sorted(sent)  # every message, once, and none still locked
        with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
            assert deferred_seq is not None
            (deferred,) = receiver.receive_deferred_messages([deferred_seq])
            assert str(deferred) == "deferred"
            receiver.complete_message(deferred)
            (scheduled,) = receiver.peek_messages(max_message_count=1, sequence_number=scheduled_seq)
            assert str(scheduled) == "scheduled"
        with client.get_queue_receiver(PLAIN_QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER, **FAST_CLOSE) as dead:
            (letter,) = dead.receive_messages(max_message_count=1, max_wait_time=5)
            assert (str(letter), letter.dead_letter_reason) == ("dead", "Kept")
            dead.complete_message(letter)
        with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
            sender.send_messages(ServiceBusMessage("after restart"))
        with client.get_queue_receiver(PLAIN_QUEUE, **FAST_CLOSE) as receiver:
            (newest,) = receiver.receive_messages(max_message_count=1, max_wait_time=5)
            assert newest.sequence_number is not None and newest.sequence_number > scheduled_seq
            receiver.complete_message(newest)
        with client.get_subscription_receiver(TOPIC, "completed", **FAST_CLOSE) as events:
            (event,) = events.receive_messages(max_message_count=1, max_wait_time=5)
            assert str(event) == "event"
            events.complete_message(event)
        with client.get_topic_sender(TOPIC, **FAST_CLOSE) as topic:  # duplicate detection history survives too
            topic.send_messages(
                ServiceBusMessage("event", message_id="evt", application_properties={"eventType": "completed"})
            )
        with client.get_subscription_receiver(TOPIC, "completed", **FAST_CLOSE) as events:
            assert events.receive_messages(max_message_count=1, max_wait_time=1) == []


def test_without_data_the_emulator_starts_empty(config_file: Path, tmp_path: Path) -> None:
    from emulators.servicebus import start_emulator

    with start_emulator(config_file, data_dir=tmp_path / "d") as emulator:
        with ServiceBusClient.from_connection_string(emulator.connection_string) as client:
            with client.get_queue_sender(PLAIN_QUEUE, **FAST_CLOSE) as sender:
                sender.send_messages(ServiceBusMessage("kept"))
    with start_emulator(config_file) as emulator:
        assert emulator.inspect().total(PLAIN_QUEUE) == 0
    with start_emulator(config_file, data_dir=tmp_path / "d") as emulator:
        assert emulator.inspect().active(PLAIN_QUEUE) == 1
