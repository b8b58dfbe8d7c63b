"""``import CSV``: a plan from an inventory spreadsheet, one row per machine.

Inventories live in spreadsheets; writing the plan's nested YAML by hand for 300 servers is where typos come from.
The columns are the plan's own fields, flattened (``COLUMNS`` maps each to its path in a machine), and groups are
cut over in the order they first appear. Every problem is reported with its line (and column) at once, and
nothing is written unless the whole file is good: an unknown column (a typo would otherwise drop a setting
silently), a missing required value, a value the plan schema refuses, a machine named twice.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from rich.console import Console

from cli.errors import CliError
from cli.plan_file import load_document
from migration.errors import PlanValidationError
from migration.json_types import Json
from migration.machine import Machine
from migration.plan import problems_from_validation_error, validate_plan

__all__ = ["COLUMNS", "REQUIRED", "build_plan", "import_command", "read_inventory"]

# column → path of the value in a plan machine (the plan's camelCase spelling)
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "group": (),
    "sourceKind": ("sourceKind",),
    "replicationMethod": ("replication", "method"),
    "subscriptionId": ("asr", "vault", "subscriptionId"),
    "resourceGroup": ("asr", "vault", "resourceGroup"),
    "vault": ("asr", "vault", "name"),
    "fabric": ("asr", "fabric"),
    "protectionContainer": ("asr", "protectionContainer"),
    "protectableItem": ("asr", "protectableItem"),
    "discoveredMachineId": ("asr", "discoveredMachineId"),
    "sourceVmId": ("asr", "sourceVmId"),
    "recoveryFabric": ("asr", "recoveryFabric"),
    "recoveryProtectionContainer": ("asr", "recoveryProtectionContainer"),
    "protectedItemName": ("asr", "protectedItemName"),
    "policy": ("replication", "policy"),
    "containerMapping": ("replication", "containerMapping"),
    "processServerId": ("replication", "processServerId"),
    "runAsAccountId": ("replication", "runAsAccountId"),
    "logStorageAccountId": ("replication", "logStorageAccountId"),
    "stagingStorageAccountId": ("replication", "stagingStorageAccountId"),
    "diskType": ("replication", "diskType"),
    "osDiskId": ("replication", "osDiskId"),
    "disksToInclude": ("replication", "disksToInclude"),
    "targetResourceGroupId": ("target", "resourceGroupId"),
    "targetNetworkId": ("target", "networkId"),
    "targetSubnet": ("target", "subnet"),
    "targetVmName": ("target", "vmName"),
    "targetVmSize": ("target", "vmSize"),
    "testNetworkId": ("target", "testNetworkId"),
    "testSubnet": ("target", "testSubnet"),
    "availabilityZone": ("target", "availabilityZone"),
    "licenseType": ("target", "licenseType"),
    "performShutdown": ("options", "performShutdown"),
    "skipTestFailover": ("options", "skipTestFailover"),
    "drAfterMigration": ("options", "drAfterMigration"),
}
REQUIRED = (
    "name",
    "group",
    "sourceKind",
    "subscriptionId",
    "resourceGroup",
    "vault",
    "fabric",
    "protectionContainer",
    "policy",
    "targetResourceGroupId",
    "targetNetworkId",
    "targetSubnet",
)
_BOOLEANS = {"performShutdown", "skipTestFailover", "drAfterMigration"}
# Columns that hold a list in one cell, its items separated by ';' (a comma would split the cell).
_LISTS = {"disksToInclude"}
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}
_BY_PATH = {".".join(path): column for column, path in COLUMNS.items() if path}


def _column_for(path: str) -> str | None:
    """The column a machine-relative problem path (``asr.fabric``, ``target.networkId``) comes from."""
    best = None
    for known, column in _BY_PATH.items():
        if (path == known or path.startswith(known + ".") or path.startswith(known + "[")) and (
            best is None or len(known) > len(best[0])
        ):
            best = (known, column)
    return best[1] if best else None


def read_inventory(text: str, source: str) -> tuple[list[tuple[int, str, Json]], list[str]]:
    """Rows as ``(line, group, machine JSON)`` and every problem found, each starting with its line."""
    problems: list[str] = []
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        return [], [f"{source}: the file is empty; the first line must name the columns ({', '.join(REQUIRED)})"]
    reader.fieldnames = header
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        problems.append(
            f"line 1: unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)} "
            f"(known columns: {', '.join(COLUMNS)})"
        )
    absent = [c for c in REQUIRED if c not in header]
    if absent:
        problems.append(f"line 1: missing required column{'s' if len(absent) > 1 else ''} {', '.join(absent)}")
        return [], problems  # every row would repeat the same complaint
    rows: list[tuple[int, str, Json]] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if None in record:
            problems.append(f"line {line}: more cells than columns ({len(header)})")
            continue
        values = {k: (v or "").strip() for k, v in record.items() if k in COLUMNS}
        if not any(values.values()):
            continue  # a blank line
        empty = [c for c in REQUIRED if c in header and not values.get(c)]
        if empty:
            problems.append(f"line {line}: no value for {', '.join(empty)}")
            continue
        machine: Json = {}
        bad = False
        for column, value in values.items():
            path = COLUMNS[column]
            if not value or not path:
                continue
            parsed: Any = value
            if column in _BOOLEANS:
                if value.lower() not in _TRUE | _FALSE:
                    problems.append(f"line {line}, column {column}: {value!r} is not true or false")
                    bad = True
                    continue
                parsed = value.lower() in _TRUE
            elif column in _LISTS:
                parsed = [item.strip() for item in value.split(";") if item.strip()]
            node = machine
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = parsed
        if bad:
            continue
        try:
            Machine.model_validate(machine)
        except (ValidationError, PlanValidationError) as error:
            found = error.problems if isinstance(error, PlanValidationError) else problems_from_validation_error(error)
            for problem in found:
                column = _column_for(problem.path)
                where = f", column {column}" if column else (f", {problem.path}" if problem.path else "")
                problems.append(f"line {line}{where}: {problem.message}")
            continue
        name = machine["name"]
        if name.lower() in seen:
            problems.append(f"line {line}: machine {name!r} is already on line {seen[name.lower()]}")
            continue
        seen[name.lower()] = line
        rows.append((line, values["group"], machine))
    return rows, problems


def build_plan(rows: list[tuple[int, str, Json]], plan_id: str, name: str, options: Json | None) -> Json:
    """The plan: groups in order of first appearance, machines in file order."""
    groups: dict[str, list[Json]] = {}
    for _, group, machine in rows:
        groups.setdefault(group, []).append(machine)
    plan: Json = {"id": plan_id, "name": name, "groups": [{"name": g, "machines": m} for g, m in groups.items()]}
    if options:
        plan["options"] = options
    return plan


def import_command(
    path: Path, plan_id: str, name: str | None, output: Path | None, options_file: Path | None, console: Console
) -> int:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"The inventory file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"The inventory file {path} cannot be read as UTF-8 text: {error}.") from None
    options = load_document(options_file, "options") if options_file else None
    if options is not None and not isinstance(options, dict):
        raise CliError(f"The options file {options_file} must hold a mapping of wave options.")
    try:
        rows, problems = read_inventory(text, str(path))
    except csv.Error as error:
        raise CliError(f"The inventory file {path} is not valid CSV: {error}.") from None
    if not problems and not rows:
        problems.append("no machine rows after the header")
    if problems:
        listing = "; ".join(problems[:30]) + (f"; and {len(problems) - 30} more" if len(problems) > 30 else "")
        raise CliError(f"The inventory {path} has {len(problems)} problem(s), so no plan was written: {listing}.")
    plan = build_plan(rows, plan_id, name or plan_id, options)
    try:
        validate_plan(plan)
    except PlanValidationError as error:
        listing = "; ".join(str(p) for p in error.problems[:20])
        raise CliError(f"The plan built from {path} is invalid: {listing}.") from None
    text_out = yaml.safe_dump(plan, sort_keys=False, allow_unicode=True)
    if output is None:
        console.print(text_out, markup=False, highlight=False, end="")
        return 0
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text_out, encoding="utf-8")
    except OSError as error:
        raise CliError(f"Cannot write the plan to {output}: {error.strerror or error}.") from None
    console.print(f"Wrote {output}: {len(rows)} machines in {len(plan['groups'])} groups.", markup=False)
    return 0
