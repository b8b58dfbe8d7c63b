"""Files written from code and checked in (the plan schema, the event schemas): one rule to write or check them.

A checked-in schema that drifts from the code misleads every tool that reads it, so the tests run the check and
a maintainer runs the write. ``--check`` compares without writing and reports each stale, missing or orphaned file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = ["Render", "write_or_check"]

# Given the folder or file to write, each file's path and text.
Render = Callable[[Path], Mapping[Path, str]]


def write_or_check(
    argv: Sequence[str] | None,
    default: Path,
    render: Render,
    *,
    command: str,
    orphan_glob: str | None = None,
) -> int:
    """Write ``render(target)`` (``{path: text}``) under the path given in ``argv`` or ``default``; with
    ``--check`` only compare, and with ``orphan_glob`` also report files in that folder that nothing renders."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [arg for arg in args if arg != "--check"]
    target = Path(paths[0]) if paths else default
    expected = render(target)
    if check:
        stale = [path for path, text in expected.items() if not path.is_file() or path.read_text("utf-8") != text]
        orphans = sorted(set(target.glob(orphan_glob)) - set(expected)) if orphan_glob and target.is_dir() else []
        for path in stale:
            print(f"{path} is stale or missing; run: {command}", file=sys.stderr)
        for path in orphans:
            print(f"{path} is not written by {command}; delete it", file=sys.stderr)
        return 1 if stale or orphans else 0
    for path, text in expected.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(expected)} file(s): {', '.join(str(path) for path in expected)}")
    return 0
