"""The checked-in JSON Schema is the one the model generates."""

import json

from migration.machine import ONE_OF, REQUIREMENTS
from migration.schema import SCHEMA_PATH, main, plan_schema, render_plan_schema


def test_checked_in_schema_is_current():
    assert SCHEMA_PATH.is_file(), "schemas/plan.schema.json is missing; run: python -m migration.schema"
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_plan_schema(), (
        "schemas/plan.schema.json is stale; run: python -m migration.schema"
    )


def test_check_mode_reports_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "plan.schema.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err
    assert main([str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0
    assert json.loads(stale.read_text(encoding="utf-8")) == plan_schema()


def test_schema_speaks_the_wire_spelling_and_the_provider_rules():
    schema = plan_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"id", "name", "groups"} <= set(schema["required"])
    assert "callbackUrl" in schema["properties"]
    machine = schema["$defs"]["Machine"]
    assert machine["additionalProperties"] is False
    assert {"sourceKind", "asr", "replication", "target"} <= set(machine["required"])
    required_by_rule = [
        sorted(
            (section, name) for section, spec in rule["then"]["properties"].items() for name in spec.get("required", [])
        )
        for rule in machine["allOf"]
    ]
    assert required_by_rule == [sorted(paths) for paths in REQUIREMENTS.values()]
    one_of_by_rule = [
        [
            [(section, option["required"][0]) for option in spec["anyOf"]]
            for section, spec in rule["then"]["properties"].items()
            if "anyOf" in spec
        ]
        for rule in machine["allOf"]
    ]
    assert one_of_by_rule == [[list(group) for group in ONE_OF.get(provider, ())] for provider in REQUIREMENTS]
    timeout = schema["$defs"]["WaveOptions"]["properties"]["jobTimeout"]
    assert {"type": "number", "minimum": 60.0, "maximum": 172800.0} in timeout["anyOf"]
