"""The app's imports run downward only: triggers → orchestrators → activities → migration → SDKs.

Each layer may use the ones below it and never one above: an orchestrator that imported a trigger, or an activity
that imported an orchestrator, would tie replay-safe code to entry points (or a side effect to the code that
schedules it), and the arrow that points up is where two copies of a concept start. The emulators stand in for
Azure, so they import nothing of the app: a test against them then checks the app, not the app against itself.

The modules are read as text with ``ast`` (never imported), so the check sees every import, including those
inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Higher numbers sit higher: a module may import its own layer and lower ones.
LAYERS = {"function_app": 5, "triggers": 4, "orchestrators": 3, "activities": 2, "migration": 1}
# What an orchestrator may import besides the app and the standard library: replays must not touch I/O or clocks,
# so the Durable SDK is the only SDK allowed.
ORCHESTRATOR_SDKS = ("azure.durable_functions",)
# The domain runs without a Functions host (the command line and the benchmarks import it).
MIGRATION_FORBIDDEN = ("azure.functions", "azure.durable_functions")


def modules(*roots: str) -> Iterator[tuple[str, Path]]:
    """``(dotted module name, path)`` of every Python file under the given files and folders of the repository."""
    for root in roots:
        path = REPO / root
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            parts = list(file.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), file


def imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """``(line, imported module)`` for each import in ``path``; relative imports resolved against ``module``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            # ``from migration import function_names`` imports migration.function_names: name it as such.
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def layer_of(imported: str) -> int | None:
    return LAYERS.get(imported.split(".", 1)[0])


def within(imported: str, packages: tuple[str, ...]) -> bool:
    return any(imported == package or imported.startswith(f"{package}.") for package in packages)


def offending(roots: tuple[str, ...], breaks: Callable[[str, str], bool]) -> list[str]:
    """``path:line imports name`` for each import under ``roots`` for which ``breaks(module, imported)`` holds."""
    return sorted(
        {
            f"{path.relative_to(REPO)}:{line} imports {imported}"
            for module, path in modules(*roots)
            for line, imported in imports(module, path)
            if breaks(module, imported)
        }
    )


def upward(module: str, imported: str) -> bool:
    own, target = layer_of(module), layer_of(imported)
    assert own is not None, module
    return target is not None and target > own


def foreign_to_orchestrators(module: str, imported: str) -> bool:
    top = imported.split(".", 1)[0]
    ours_or_stdlib = layer_of(imported) is not None or top in sys.stdlib_module_names or top == "__future__"
    return not ours_or_stdlib and not within(imported, ORCHESTRATOR_SDKS)


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert offending(tuple(f"{name}.py" if name == "function_app" else name for name in LAYERS), upward) == []


def test_the_emulators_import_nothing_of_the_app() -> None:
    assert offending(("emulators",), lambda _module, imported: layer_of(imported) is not None) == []


def test_orchestrators_import_no_sdk_but_durable_functions() -> None:
    assert offending(("orchestrators",), foreign_to_orchestrators) == []


def test_the_domain_does_not_need_the_functions_sdks() -> None:
    assert offending(("migration",), lambda _module, imported: within(imported, MIGRATION_FORBIDDEN)) == []


def test_the_import_reader_sees_absolute_relative_and_nested_imports(tmp_path: Path) -> None:
    """The reader itself: a check that missed a form of import would pass whatever the code did."""
    source = tmp_path / "probe.py"
    source.write_text(
        "import triggers.http_common\n"
        "from orchestrators import names\n"
        "from . import sibling\n"
        "def late():\n"
        "    from ..other import thing\n",
        encoding="utf-8",
    )
    found = set(imports("activities.sub.probe", source))
    assert (1, "triggers.http_common") in found
    assert (2, "orchestrators.names") in found
    assert (3, "activities.sub.sibling") in found
    assert (5, "activities.other.thing") in found
