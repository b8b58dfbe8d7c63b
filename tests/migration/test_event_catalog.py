"""The builder: CloudEvent shape, deterministic ids, routing properties, redaction and clear refusals."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from migration.events import (
    CONTENT_TYPE,
    EVENT_ID_NAMESPACE,
    EVENT_MODELS,
    MAX_MESSAGE_BYTES,
    EventType,
    build_event,
    event_id,
)
from migration.stages import Stage
from tests.migration.event_data import MIGRATION, TIME, VALID_DATA


def build(kind: EventType, key: str = "key-1", **changes):
    data = copy.deepcopy(VALID_DATA[kind])
    data.update(changes)
    return build_event(kind, event_key=key, time=TIME, migration_id=MIGRATION, data=data)


@pytest.mark.parametrize("kind", list(EventType), ids=str)
def test_every_type_builds_a_cloudevent_with_service_bus_properties(kind: EventType) -> None:
    message = build(kind)
    event = json.loads(message.body)
    assert event == message.event
    assert list(event) == ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"]
    assert event["specversion"] == "1.0"
    assert event["type"] == event["subject"] == kind.value == message.subject
    assert event["source"] == f"/migrations/{MIGRATION}"
    assert event["time"] == TIME
    assert event["datacontenttype"] == "application/json"
    assert event["data"]["migrationId"] == MIGRATION
    assert message.message_id == event["id"] == str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{kind.value} key-1"))
    assert message.correlation_id == MIGRATION
    assert message.content_type == CONTENT_TYPE == "application/cloudevents+json; charset=utf-8"
    properties = message.application_properties
    assert set(properties) == {"eventType", "migrationId", "machine", "status"}
    assert all(isinstance(value, str) for value in properties.values())
    assert properties["eventType"] == kind.value and properties["migrationId"] == MIGRATION
    # The per-type envelope model accepts what the builder produced (the schemas are generated from it).
    EVENT_MODELS[kind].model_validate(event)


def test_routing_properties_follow_the_data() -> None:
    expected = {
        EventType.ACCEPTED: ("", "accepted"),
        EventType.REJECTED: ("", "rejected"),
        EventType.STAGE_CHANGED: ("web-01", "running"),
        EventType.AWAITING_APPROVAL: ("", "waiting"),
        EventType.CONTROL: ("", "accepted"),
        EventType.MACHINE_COMPLETED: ("web-02", "Failed"),
        EventType.MACHINE_CHECKED: ("web-02", "failed"),
        EventType.COMPLETED: ("", "PartiallyMigrated"),
    }
    for kind, (machine, status) in expected.items():
        properties = build(kind).application_properties
        assert (properties["machine"], properties["status"]) == (machine, status), kind
    assert build(EventType.CONTROL, accepted=False).application_properties["status"] == "refused"


def test_the_id_depends_on_type_and_key_only() -> None:
    key = "i-1/web-01/initialReplication/running/1"
    first = build(EventType.STAGE_CHANGED, key=key)
    again = build(EventType.STAGE_CHANGED, key=key, progressPercent=43)
    other_key = build(EventType.STAGE_CHANGED, key="i-1/web-01/initialReplication/running/2")
    assert first.message_id == again.message_id == event_id(EventType.STAGE_CHANGED, key)
    assert other_key.message_id != first.message_id
    # The same key on another type is another event, not a duplicate to be dropped.
    assert build(EventType.CONTROL, key="k").message_id != build(EventType.ACCEPTED, key="k").message_id


def test_time_is_the_callers_in_utc_and_never_naive() -> None:
    paris = datetime(2026, 11, 27, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    message = build_event(
        EventType.CONTROL, event_key="k", time=paris, migration_id=MIGRATION, data=VALID_DATA[EventType.CONTROL]
    )
    assert message.event["time"] == "2026-11-27T07:00:00Z"
    with_micro = datetime(2026, 11, 27, 7, 0, 0, 123456, tzinfo=UTC)
    assert build_event(
        EventType.CONTROL, event_key="k", time=with_micro, migration_id=MIGRATION, data=VALID_DATA[EventType.CONTROL]
    ).event["time"] == ("2026-11-27T07:00:00.123456Z")
    with pytest.raises(ValueError, match="no UTC offset"):
        build_event(
            EventType.CONTROL,
            event_key="k",
            time=datetime(2026, 11, 27, 7, 0),
            migration_id=MIGRATION,
            data=VALID_DATA[EventType.CONTROL],
        )
    with pytest.raises(ValueError, match="not an ISO-8601"):
        build_event(
            EventType.CONTROL,
            event_key="k",
            time="yesterday",
            migration_id=MIGRATION,
            data=VALID_DATA[EventType.CONTROL],
        )


def test_stage_changed_normalises_eta_to_utc() -> None:
    event = build(EventType.STAGE_CHANGED).event
    assert event["data"]["eta"] == "2026-11-27T08:30:00Z"
    assert event["data"]["stage"] == Stage.INITIAL_REPLICATION.value


def test_every_string_in_data_is_redacted() -> None:
    leaky = (
        "GET https://acct.blob.core.windows.net/c?sv=2024&sig=SECRETSIG failed; Authorization: Bearer eyJabc.def.ghi"
    )
    failed = build(
        EventType.MACHINE_COMPLETED,
        error={"stage": "commit", "code": "Boom", "message": leaky, "jobId": "sig=JOBSECRET"},
    )
    body = failed.body
    for secret in ("SECRETSIG", "eyJabc", "JOBSECRET"):
        assert secret not in body
    assert "sig=***" in body and "Bearer ***" in body
    control = build(EventType.CONTROL, reason="key is AccountKey=abc123==;", detail="code=fnkey123")
    assert "abc123" not in control.body and "fnkey123" not in control.body


def test_rejected_may_have_no_migration_id() -> None:
    message = build_event(
        EventType.REJECTED,
        event_key="msg-1",
        time=TIME,
        migration_id=None,
        data={"messageId": "msg-1", "reason": "the message is not JSON"},
    )
    assert message.event["source"] == "/migrations"
    assert message.correlation_id == "msg-1"
    assert message.application_properties["migrationId"] == ""
    assert message.event["data"]["problems"] == []
    with pytest.raises(ValueError, match="migration.completed needs a migrationId"):
        build_event(
            EventType.COMPLETED, event_key="k", time=TIME, migration_id=None, data=VALID_DATA[EventType.COMPLETED]
        )


@pytest.mark.parametrize(
    ("kind", "changes", "message"),
    [
        (EventType.STAGE_CHANGED, {"stage": "warpDrive"}, "data is invalid: stage: Input should be"),
        (EventType.STAGE_CHANGED, {"status": "done"}, "status: Input should be"),
        (EventType.STAGE_CHANGED, {"progressPercent": 101}, "progressPercent: Input should be less than or equal"),
        (EventType.STAGE_CHANGED, {"eta": "2026-11-27T09:30:00"}, "eta: Input should have timezone info"),
        (EventType.STAGE_CHANGED, {"machine": "bad name!"}, "machine: must be letters"),
        (EventType.STAGE_CHANGED, {"colour": "red"}, "colour: Extra inputs are not permitted"),
        (EventType.ACCEPTED, {"machineCount": 2}, "machineCount is 2 but the groups list 3 machines"),
        (EventType.AWAITING_APPROVAL, {"approveUri": "https://app/api/x?code=k"}, "approveUri: String should match"),
        (EventType.AWAITING_APPROVAL, {"machines": []}, "machines: List should have at least 1 item"),
        (EventType.CONTROL, {"action": "explode"}, "action: Input should be"),
        (EventType.CONTROL, {"actor": ""}, "actor: String should have at least 1 character"),
        (EventType.MACHINE_COMPLETED, {"error": None}, "a Failed outcome needs an error"),
        (EventType.MACHINE_COMPLETED, {"outcome": "Migrated"}, "a Migrated outcome carries no error"),
        (EventType.MACHINE_COMPLETED, {"downtimeSeconds": -1}, "downtimeSeconds: Input should be greater than"),
        (EventType.COMPLETED, {"status": "Migrated"}, "status Migrated needs every machine Migrated"),
        (
            EventType.COMPLETED,
            {"counts": {"migrated": 3, "failed": 0, "cancelled": 0}},
            "counts do not match the machines listed (Migrated 2, Failed 1, Cancelled 0)",
        ),
        (EventType.REJECTED, {"reason": ""}, "reason: String should have at least 1 character"),
    ],
)
def test_bad_data_is_refused_with_the_field_named(kind: EventType, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        build(kind, **changes)
    assert str(caught.value).startswith(f"{kind.value} data is invalid: ")
    assert message in str(caught.value)


def test_bad_envelope_arguments_are_refused() -> None:
    data = VALID_DATA[EventType.STAGE_CHANGED]
    with pytest.raises(
        ValueError, match=r"unknown event type 'migration\.exploded'; expected one of: migration\.accepted"
    ):
        build_event("migration.exploded", event_key="k", time=TIME, migration_id=MIGRATION, data=data)
    with pytest.raises(ValueError, match="eventKey must be a non-empty string"):
        build_event(EventType.STAGE_CHANGED, event_key=" ", time=TIME, migration_id=MIGRATION, data=data)
    with pytest.raises(ValueError, match="data.migrationId 'wave-2' differs from migrationId 'wave-1'"):
        build_event(
            EventType.STAGE_CHANGED,
            event_key="k",
            time=TIME,
            migration_id=MIGRATION,
            data={**data, "migrationId": "wave-2"},
        )
    with pytest.raises(ValueError, match="machine 'web-09' does not match the event's machine 'web-01'"):
        build_event(
            EventType.STAGE_CHANGED, event_key="k", time=TIME, migration_id=MIGRATION, data=data, machine="web-09"
        )
    with pytest.raises(ValueError, match="machine 'web-01' does not match the event's machine ''"):
        build_event(
            EventType.COMPLETED,
            event_key="k",
            time=TIME,
            migration_id=MIGRATION,
            data=VALID_DATA[EventType.COMPLETED],
            machine="web-01",
        )
    with pytest.raises(ValueError, match="status 'succeeded' does not match the status 'running'"):
        build_event(
            EventType.STAGE_CHANGED, event_key="k", time=TIME, migration_id=MIGRATION, data=data, status="succeeded"
        )
    with pytest.raises(ValueError, match="data must be a JSON object, not list"):
        build_event(EventType.STAGE_CHANGED, event_key="k", time=TIME, migration_id=MIGRATION, data=[])  # type: ignore[arg-type]


def test_an_event_too_big_for_service_bus_is_refused() -> None:
    machines = [{"name": f"vm-{i:05d}-{'x' * 50}", "outcome": "Migrated"} for i in range(4000)]
    counts = {"migrated": len(machines), "failed": 0, "cancelled": 0}
    with pytest.raises(ValueError, match=rf"bytes; Service Bus Standard accepts {MAX_MESSAGE_BYTES}"):
        build(EventType.COMPLETED, status="Migrated", counts=counts, machines=machines)
    # A 1,000-machine wave (the plan's limit) fits comfortably.
    thousand = [{"name": f"vm-{i:05d}-{'x' * 50}", "outcome": "Migrated"} for i in range(1000)]
    fits = build(
        EventType.COMPLETED,
        status="Migrated",
        counts={"migrated": 1000, "failed": 0, "cancelled": 0},
        machines=thousand,
    )
    assert len(fits.body.encode()) < MAX_MESSAGE_BYTES
