"""The tests mirror the code: one folder per layer and per stand-in, unique file names, a replay test per orchestrator.

A newcomer looking for the test of a behaviour finds it from the folder names (``tests/README.md`` is the map);
two test files with one name would make a failure's file name ambiguous in a CI log, and an orchestrator without a
replay test has its branches checked only end to end, where the rare ones are never reached.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
# Code folders and the test folder each has.
MIRRORED = {
    "triggers": "triggers",
    "orchestrators": "orchestrators",
    "activities": "activities",
    "migration": "migration",
    "cli": "cli",
    "infra": "infra",
    **{
        f"emulators/{p.name}": f"emulators/{p.name}"
        for p in (REPO / "emulators").iterdir()
        if (p / "__init__.py").exists()
    },
}
# Folders of tests that belong to no single layer: the whole stack, shared helpers, published data.
ACROSS_LAYERS = {"e2e", "support", "fixtures", "emulators"}


def test_every_layer_and_every_stand_in_has_its_test_folder() -> None:
    assert len(MIRRORED) >= 9, "the emulator scan found no stand-ins: the check would pass while checking nothing"
    missing = [f"tests/{tests}" for tests in MIRRORED.values() if not list((TESTS / tests).glob("test_*.py"))]
    assert not missing, f"layers without tests: {missing}"


def test_no_test_folder_is_unexplained() -> None:
    allowed = {tests.split("/")[0] for tests in MIRRORED.values()} | ACROSS_LAYERS
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= allowed, f"test folders that mirror no code: {sorted(folders - allowed)}"


def test_test_file_names_are_unique() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert len(names) > 100, "the scan found almost no tests"
    assert not [name for name, count in names.items() if count > 1], [n for n, c in names.items() if c > 1]


def test_every_orchestrator_has_a_replay_test() -> None:
    orchestrators = [
        path.stem
        for path in sorted((REPO / "orchestrators").glob("*.py"))
        if "orchestration_trigger" in path.read_text(encoding="utf-8")
    ]
    assert len(orchestrators) >= 7
    imported: set[str] = set()
    for path in (TESTS / "orchestrators").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orchestrators."):
                imported.add((node.module or "").removeprefix("orchestrators."))
    assert not [name for name in orchestrators if name not in imported], sorted(set(orchestrators) - imported)
