"""The checked-in event schemas are the ones the models generate, and real events validate against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from migration.events import SCHEMA_DIR, EventType, build_event, event_schema, main, render_event_schemas
from tests.migration.event_data import MIGRATION, TIME, VALID_DATA


def test_checked_in_schemas_are_current() -> None:
    assert main(["--check"]) == 0, "schemas/events is stale; run: python -m migration.events"
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.schema.json")) == sorted(render_event_schemas())


def test_check_mode_reports_stale_missing_and_unknown_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", str(tmp_path)]) == 1
    assert "migration.completed.schema.json is stale or missing" in capsys.readouterr().err
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    (tmp_path / "migration.control.schema.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "migration.exploded.schema.json").write_text("{}\n", encoding="utf-8")
    assert main(["--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "migration.control.schema.json is stale" in err
    assert "migration.exploded.schema.json is not written by python -m migration.events" in err


@pytest.mark.parametrize("kind", list(EventType), ids=str)
def test_built_events_validate_against_the_checked_in_schema(kind: EventType) -> None:
    schema = json.loads((SCHEMA_DIR / f"{kind.value}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    event = build_event(kind, event_key="k", time=TIME, migration_id=MIGRATION, data=VALID_DATA[kind]).event
    assert list(validator.iter_errors(event)) == []
    # The schema is strict enough to catch a wrong type and an unknown field.
    wrong = {**event, "type": "migration.other"}
    assert list(validator.iter_errors(wrong))
    extra = {**event, "data": {**event["data"], "surprise": 1}}
    assert list(validator.iter_errors(extra))


def test_schema_pins_type_and_subject_and_describes_data() -> None:
    schema = event_schema(EventType.STAGE_CHANGED)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["properties"]["type"]["const"] == "migration.machine.stage_changed"
    assert schema["properties"]["subject"]["const"] == "migration.machine.stage_changed"
    data = schema["$defs"]["StageChangedData"]
    assert data["additionalProperties"] is False
    assert {"migrationId", "machine", "stage", "status"} <= set(data["required"])
    assert set(schema["$defs"]["StepStatus"]["enum"]) == {"running", "waiting", "succeeded", "failed", "cancelled"}
