"""The official Site Recovery examples the contract tests use, kept in the repository as fixtures.

Where they came from, and under which licence: ``tests/fixtures/siterecovery/README.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

API_VERSION = "2025-08-01"
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "siterecovery" / API_VERSION


def example_path(name: str) -> Path:
    """The fixture file of an example, by its file name with or without ``.json``."""
    file_name = name if name.endswith(".json") else f"{name}.json"
    path = EXAMPLES_DIR / file_name
    if not path.is_file():
        raise FileNotFoundError(f"official example {file_name} is not among the fixtures in {EXAMPLES_DIR}")
    return path


def example(name: str) -> dict[str, Any]:
    """An example's JSON document (``parameters`` and ``responses``)."""
    return cast(dict[str, Any], json.loads(example_path(name).read_text(encoding="utf-8")))
