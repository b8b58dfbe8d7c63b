"""Fixtures: a fresh emulator per test on a free loopback port, with entities made for testing.

Lock durations and windows sit at the minimum Microsoft's emulator schema allows (PT5S), so the
tests that must watch a lock expire wait a few seconds, and the same file still drives the
Docker emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient

from emulators.servicebus import EmulatorHandle, start_emulator

SHORT_LOCK_QUEUE = "short-lock"
PLAIN_QUEUE = "plain"
DEDUP_QUEUE = "dedup"
EXPIRING_QUEUE = "expiring"
FORWARDING_QUEUE = "forwarding"
TOPIC = "events"


def _queue(name: str, **properties: Any) -> dict[str, Any]:
    return {"Name": name, "Properties": properties}


def _correlation(name: str, **filter_fields: Any) -> dict[str, Any]:
    return {"Name": name, "Properties": {"FilterType": "Correlation", "CorrelationFilter": filter_fields}}


def _sql(name: str, expression: str) -> dict[str, Any]:
    return {"Name": name, "Properties": {"FilterType": "Sql", "SqlFilter": {"SqlExpression": expression}}}


TEST_CONFIG: dict[str, Any] = {
    "UserConfig": {
        "Namespaces": [
            {
                "Name": "sbemulatorns",
                "Queues": [
                    _queue(PLAIN_QUEUE, MaxDeliveryCount=3),
                    _queue(SHORT_LOCK_QUEUE, LockDuration="PT5S", MaxDeliveryCount=2),
                    _queue(DEDUP_QUEUE, RequiresDuplicateDetection=True, DuplicateDetectionHistoryTimeWindow="PT5S"),
                    _queue(EXPIRING_QUEUE, DeadLetteringOnMessageExpiration=True),
                    _queue(FORWARDING_QUEUE, ForwardTo=PLAIN_QUEUE),
                ],
                "Topics": [
                    {
                        "Name": TOPIC,
                        "Properties": {"RequiresDuplicateDetection": True},
                        "Subscriptions": [
                            {"Name": "everything"},
                            {"Name": "completed", "Rules": [_correlation("c", Properties={"eventType": "completed"})]},
                            {
                                "Name": "failed-or-labelled",
                                "Rules": [
                                    _correlation("f", Properties={"eventType": "failed", "status": "Failed"}),
                                    _correlation("l", Label="urgent"),
                                ],
                            },
                            {
                                "Name": "sql-true",
                                "Rules": [
                                    {
                                        "Name": "t",
                                        "Properties": {"FilterType": "Sql", "SqlFilter": {"SqlExpression": "1=1"}},
                                    }
                                ],
                            },
                            {
                                "Name": "sql-failures",
                                "Rules": [_sql("s", "status = 'Failed' OR sys.Label LIKE 'urg%'")],
                            },
                            {
                                "Name": "sql-false",
                                "Rules": [
                                    {
                                        "Name": "f",
                                        "Properties": {"FilterType": "Sql", "SqlFilter": {"SqlExpression": "1=0"}},
                                    }
                                ],
                            },
                        ],
                    }
                ],
            }
        ],
        "Logging": {"Type": "Console"},
    }
}


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator(TEST_CONFIG) as handle:
        yield handle


# The client's keep-alive thread sleeps in one-second steps, so closing a sender or receiver waits
# about half a second for it. Keep-alive frames do not change what these tests check, so most
# handlers are opened with it off; the trigger-shaped test keeps the client's defaults.
FAST_CLOSE: dict[str, Any] = {"keep_alive": 0}


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[ServiceBusClient]:
    with ServiceBusClient.from_connection_string(emulator.connection_string, retry_total=0) as sb:
        yield sb
