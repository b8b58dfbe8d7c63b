"""The plan's JSON Schema, generated from the model; ``python -m migration.schema`` rewrites the checked-in copy.

The schema is for editors and for people integrating (Logic Apps, other tools): it describes
fields, types, defaults and the per-provider required fields. The model stays the authority;
a test fails when ``schemas/plan.schema.json`` no longer matches it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migration.generated_files import write_or_check
from migration.plan import Plan

__all__ = ["SCHEMA_PATH", "plan_schema", "render_plan_schema", "main"]

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "plan.schema.json"


def plan_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a plan in its wire spelling (camelCase)."""
    schema = Plan.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Migration plan",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def render_plan_schema() -> str:
    """The schema as the checked-in file holds it (stable key order, two-space indent, final newline)."""
    return json.dumps(plan_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the schema (to ``schemas/plan.schema.json``, or the path given); ``--check`` only compares."""
    return write_or_check(
        argv, SCHEMA_PATH, lambda path: {path: render_plan_schema()}, command="python -m migration.schema"
    )


if __name__ == "__main__":
    raise SystemExit(main())
