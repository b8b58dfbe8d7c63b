"""Reads the azd template offline: tree-sitter-bicep for syntax, pycep for structure.

The tests check the template's security promises (no secrets, local auth off, narrowly scoped roles) without
deploying it, so they must understand Bicep's structure rather than grep its text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tree_sitter
import tree_sitter_bicep
from pycep import BicepParser

INFRA = Path(__file__).resolve().parents[2] / "infra"


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


# tree-sitter-bicep 1.1 predates Bicep's `extension <alias>` statement (the Microsoft Graph extension) and still
# knows it by its former keyword, `import '<name>'`. A line holding exactly that statement is read in the older
# form, on the same line, so every other error keeps its position; anything else on such a line is left as it is.
EXTENSION_STATEMENT = re.compile(r"^extension ([A-Za-z_][A-Za-z0-9_]*)[ \t]*$", re.MULTILINE)


def tree_sitter_text(text: str) -> str:
    return EXTENSION_STATEMENT.sub(r"import '\1'", text)


def syntax_errors(path: Path) -> list[str]:
    """Every ERROR or MISSING node tree-sitter finds, as `file:line:column node`."""
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))
    tree = parser.parse(tree_sitter_text(path.read_text(encoding="utf-8")).encode())
    problems: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            row, column = node.start_point
            problems.append(f"{path.name}:{row + 1}:{column + 1} {node.type}")
        stack.extend(node.children)
    return problems


@cache
def parsed(path: Path) -> dict[str, Any]:
    # pycep types its result as a TypedDict; the tests index it freely, so it is read as a plain dict.
    result: dict[str, Any] = dict(BicepParser().parse(file_path=path))
    return result


def unwrap(config: dict[str, Any]) -> dict[str, Any]:
    """A conditional (`if (...)`) or looped (`[for ...]`) declaration nests its body one level deeper."""
    while "config" in config and ("condition" in config or "loop_type" in config):
        config = config["config"]
    return config


@dataclass(frozen=True)
class RoleAssignment:
    file: str
    symbol: str
    role_id: str
    scope: str | None
    scope_type: str | None


def variables(path: Path) -> dict[str, Any]:
    return {name: spec["value"] for name, spec in parsed(path).get("variables", {}).items()}


def role_assignments(path: Path) -> Iterator[RoleAssignment]:
    """Every `Microsoft.Authorization/roleAssignments` resource in a file, with its role GUID and its scope."""
    document = parsed(path)
    resources = document.get("resources", {})
    names = variables(path)
    for symbol, resource in resources.items():
        if resource["type"] != "Microsoft.Authorization/roleAssignments":
            continue
        config = unwrap(resource["config"])
        role = config["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        role_id = names.get(role, role)
        scope = config.get("scope")
        scope_type = resources[scope]["type"] if isinstance(scope, str) and scope in resources else None
        yield RoleAssignment(path.name, symbol, str(role_id), scope if isinstance(scope, str) else None, scope_type)


def module_role_assignments(path: Path) -> Iterator[tuple[str, str, str]]:
    """`roleAssignments` passed to registry modules (AVM's built-in form): (module path, role name, principal type)."""
    for module in parsed(path).get("modules", {}).values():
        config = unwrap(module["config"])
        for assignment in config.get("params", {}).get("roleAssignments", []) or []:
            yield module["detail"]["full"], assignment["roleDefinitionIdOrName"], assignment["principalType"]


def app_settings(path: Path) -> dict[str, Any]:
    """The Function App's settings as declared in the web/site module call: name → value expression."""
    for module in parsed(path).get("modules", {}).values():
        if module["detail"].get("path") == "avm/res/web/site":
            settings = unwrap(module["config"])["params"]["siteConfig"]["appSettings"]
            return {setting["name"]: setting["value"] for setting in settings}
    raise AssertionError(f"{path.name} declares no avm/res/web/site module")


UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
