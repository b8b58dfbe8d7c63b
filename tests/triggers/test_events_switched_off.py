"""An app whose ``ServiceBusConnection`` setting is empty has no Service Bus: events off, Service Bus triggers off.

App settings are often templated, and an unset value arrives as an empty string (or blanks) rather than as no
setting at all. The whole stack runs here with the Service Bus emulator up but the app's setting empty, and the
app must treat that as it treats a missing setting, on both sides at once: the host registers no Service Bus
trigger, and every ``publish_event`` answers ``published: false`` on its first attempt (no failure, no retry), so
the migration runs to its end with no event counted as failed and nothing sent to the topic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from migration import function_names
from migration.instance_ids import wave_id
from tests.triggers.stack import ApiStack, api_stack, small_plan

pytestmark = pytest.mark.slow

SERVICEBUS_TRIGGERS = {"servicebus_migration_request", "servicebus_migration_control"}


@pytest.fixture(scope="module", params=["", "  "], ids=["empty", "blank"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    setting: str = request.param
    with api_stack(tmp_path_factory.mktemp("events-off"), settings={"ServiceBusConnection": setting}) as running:
        yield running


def listed_functions(stack: ApiStack) -> set[str]:
    """The function names the host printed when it started (its ``func start``-style listing)."""
    return set(re.findall(r"^\t([A-Za-z0-9_]+): ", stack.host_log(), flags=re.MULTILINE))


def history(stack: ApiStack, instance_id: str) -> list[dict[str, Any]]:
    reply = stack.management("GET", f"instances/{instance_id}?showHistory=true&showHistoryOutput=true")
    assert reply.status == 200, reply.body
    events: list[dict[str, Any]] = reply.json()["historyEvents"]
    return events


def test_the_host_registers_no_service_bus_trigger(stack: ApiStack) -> None:
    listed = listed_functions(stack)
    assert {"submit_migration", function_names.PUBLISH_EVENT} <= listed, listed
    assert listed & SERVICEBUS_TRIGGERS == set()


def test_every_publish_answers_not_published_at_once_and_the_migration_runs_on(stack: ApiStack) -> None:
    plan = small_plan("events-off", "db01", approval={"required": False})
    assert stack.call("POST", "/migrations", plan).status == 202
    final = stack.wait_final("events-off")
    assert final.status == 200 and final.json()["status"] == "Migrated", final.body

    listed = stack.management("GET", f"instances/?instanceIdPrefix={wave_id('events-off')}&showInput=false")
    instance_ids = sorted(str(item["instanceId"]) for item in listed.json())
    answers: list[dict[str, Any]] = []
    failures: list[str] = []
    for instance_id in instance_ids:
        for event in history(stack, instance_id):
            if event.get("FunctionName") != function_names.PUBLISH_EVENT:
                continue
            if event["EventType"] == "TaskFailed":
                failures.append(f"{instance_id}: {event.get('Reason')}")
            elif event["EventType"] == "TaskCompleted":
                answers.append(json.loads(event["Result"]))
    assert failures == []
    assert answers, f"no publish_event ran in {instance_ids}"
    assert {(a["published"], a["reason"]) for a in answers} == {(False, "no ServiceBusConnection setting")}

    wave = stack.management("GET", f"instances/{wave_id('events-off')}").json()
    assert wave["output"]["eventsFailed"] == 0
    assert stack.events() == [], "the app sent events to a Service Bus it has no setting for"
