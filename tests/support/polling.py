"""Waiting for something a child process or a stand-in does in its own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["wait_until"]


def wait_until(predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.05) -> Any:
    """Poll until ``predicate`` is truthy and return its value; the timeout only guards against a hang."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
