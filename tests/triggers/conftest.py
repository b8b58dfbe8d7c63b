"""Each test of a module-wide stack leaves no migration running: the next one may use the same machines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.triggers.stack import ApiStack


@pytest.fixture(autouse=True)
def _no_migration_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "stack" in request.fixturenames:
        stack: ApiStack = request.getfixturevalue("stack")
        stack.end_running()
