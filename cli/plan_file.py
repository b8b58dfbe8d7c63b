"""Reading a plan file (YAML or JSON) into a validated plan, with errors a person can act on.

Every command that takes a plan goes through here, so a missing file, a YAML syntax error (with its line and
column) or an invalid plan (every problem with its path) reads the same everywhere and nothing is sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from cli.errors import CliError
from migration.errors import PlanValidationError
from migration.plan import Plan, validate_plan

__all__ = ["load_document", "load_plan", "plan_json"]


def load_document(path: Path, what: str = "plan") -> Any:
    """The parsed YAML or JSON document at ``path`` (JSON is YAML, but its errors read better as JSON's)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(
            f"The {what} file {path} does not exist. Check the path (it is relative to {Path.cwd()})."
        ) from None
    except IsADirectoryError:
        raise CliError(f"The {what} file {path} is a directory; give the path of a YAML or JSON file.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"The {what} file {path} cannot be read: {error}.") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise CliError(
                f"The {what} file {path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise CliError(f"The {what} file {path} is not valid YAML: {problem}{where}.") from None


def load_plan(path: Path) -> Plan:
    """The validated plan in ``path``; a :class:`CliError` listing every problem by path otherwise."""
    document = load_document(path)
    if not isinstance(document, dict):
        kind = "empty" if document is None else f"a {type(document).__name__}"
        raise CliError(f"The plan file {path} is {kind}; a plan is a mapping with id, name, groups and options.")
    try:
        return validate_plan(document)
    except PlanValidationError as error:
        raise CliError(invalid_plan_message(str(path), [(p.path, p.message) for p in error.problems])) from None


def invalid_plan_message(where: str, problems: list[tuple[str, str]]) -> str:
    count = len(problems)
    listing = "; ".join(f"{path}: {message}" if path else message for path, message in problems[:20])
    more = f"; and {count - 20} more" if count > 20 else ""
    return f"The plan {where} is invalid ({count} problem{'s' if count != 1 else ''}): {listing}{more}."


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as the app's routes take it (camelCase JSON, nothing unset)."""
    data: dict[str, Any] = plan.model_dump(by_alias=True, mode="json", exclude_none=True)
    return data
