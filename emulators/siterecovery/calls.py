"""A record of every ARM call the emulator received, for tests that assert "exactly once"."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Call:
    operation: str
    method: str
    path: str
    item: str | None
    status: int


class CallLog:
    """Thread-safe list of calls, counted per operation and per (operation, item)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def count(self, operation: str, item: str | None = None, *, accepted_only: bool = False) -> int:
        """How many calls of ``operation`` (optionally on one item; optionally only those answered < 400)."""
        with self._lock:
            return sum(
                1
                for c in self._calls
                if c.operation == operation
                and (item is None or (c.item or "").lower() == item.lower())
                and (not accepted_only or c.status < 400)
            )

    def summary(self) -> dict[str, object]:
        with self._lock:
            by_op: Counter[str] = Counter(c.operation for c in self._calls)
            accepted: Counter[str] = Counter(c.operation for c in self._calls if c.status < 400)
            by_item: dict[str, Counter[str]] = {}
            for c in self._calls:
                if c.item is not None:
                    by_item.setdefault(c.item, Counter())[c.operation] += 1
            return {
                "total": len(self._calls),
                "byOperation": {op: {"received": n, "accepted": accepted[op]} for op, n in sorted(by_op.items())},
                "byItem": {item: dict(sorted(ops.items())) for item, ops in sorted(by_item.items())},
            }
