"""A read-only snapshot of the namespace for tests: counts per entity and sub-queue, dead-letter reasons.

It reads the store directly (under its lock), never over AMQP, so asserting on it cannot change
what a receiver sees: nothing is peeked, locked or counted as a delivery.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulators.servicebus.store import DEAD_LETTER_SUFFIX, DeadLetterRecord, QueueCounts, Store


@dataclass(frozen=True)
class Inspection:
    """Counts keyed by entity path (``queue``, ``topic/Subscriptions/sub``, ``…/$DeadLetterQueue``)."""

    counts: dict[str, QueueCounts]
    dead_letter_records: dict[str, list[DeadLetterRecord]]

    def _key(self, path: str) -> str:
        for key in self.counts:
            if key.lower() == path.lower():
                return key
        raise KeyError(f"no entity {path!r}; known: {sorted(self.counts)}")

    def active(self, path: str) -> int:
        """Messages a receiver could get now (not locked, deferred or scheduled)."""
        return self.counts[self._key(path)].active

    def locked(self, path: str) -> int:
        return self.counts[self._key(path)].locked

    def deferred(self, path: str) -> int:
        return self.counts[self._key(path)].deferred

    def scheduled(self, path: str) -> int:
        return self.counts[self._key(path)].scheduled

    def dead_lettered(self, path: str) -> int:
        """Messages in the dead-letter sub-queue of ``path``."""
        return (
            self.counts[self._key(path + DEAD_LETTER_SUFFIX)].active
            + self.counts[self._key(path + DEAD_LETTER_SUFFIX)].locked
        )

    def dead_letter_reasons(self, path: str) -> list[str | None]:
        return [record.reason for record in self.dead_letters(path)]

    def dead_letters(self, path: str) -> list[DeadLetterRecord]:
        return self.dead_letter_records[self._key(path)]

    def total(self, path: str) -> int:
        """Every message held by ``path`` itself (not its dead-letter queue)."""
        counts = self.counts[self._key(path)]
        return counts.active + counts.locked + counts.deferred + counts.scheduled


def inspect_store(store: Store) -> Inspection:
    counts = store.counts()
    receivable = [path for path in counts if path.lower() in store.sources and not path.endswith(DEAD_LETTER_SUFFIX)]
    records = {path: store.dead_letters(path) for path in receivable}
    return Inspection(counts=counts, dead_letter_records=records)
