"""Optional durability (``--data DIR``): the store's state in SQLite, so a restart loses nothing.

Each store operation ends in one transaction, committed before the broker acknowledges the
transfer or settlement that caused it, so a message the client saw accepted is on disk even if
the process is killed the next instant (WAL mode; ``synchronous=NORMAL`` survives a process
crash, which is what a kill is). Locks are deliberately not stored: after a restart every
message is unlocked and deliverable, with the delivery count it had.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from emulators.servicebus.codec import EncodedMessage
from emulators.servicebus.store import MessageState, Store, StoredMessage

DATABASE_NAME = "servicebus.sqlite3"
_log = logging.getLogger(__name__)
_DUPLICATE_HORIZON_SECONDS = 300.0  # the longest detection window Config.json allows (PT5M)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    queue TEXT NOT NULL,
    sequence_number INTEGER NOT NULL,
    state INTEGER NOT NULL,
    delivery_count INTEGER NOT NULL,
    enqueued_at REAL NOT NULL,
    expires_at REAL,
    message_id TEXT,
    durable INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    ttl_ms INTEGER,
    annotations BLOB NOT NULL,
    properties BLOB NOT NULL,
    application_properties BLOB NOT NULL,
    body BLOB NOT NULL,
    dead_letter_reason TEXT,
    dead_letter_description TEXT,
    dead_letter_properties BLOB,
    dead_letter_source TEXT,
    PRIMARY KEY (queue, sequence_number)
);
CREATE TABLE IF NOT EXISTS sequences (target TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS duplicates (
    target TEXT NOT NULL, message_id TEXT NOT NULL, seen_at REAL NOT NULL, PRIMARY KEY (target, message_id)
);
"""


class PersistenceError(RuntimeError):
    """The ``--data`` directory cannot hold the emulator's database."""


class SqliteJournal:
    """The :class:`~emulators.servicebus.store.Journal` that writes to ``DIR/servicebus.sqlite3``."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / DATABASE_NAME
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level="DEFERRED")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()
        except (OSError, sqlite3.Error) as error:
            raise PersistenceError(f"cannot keep messages in {self.path}: {error}") from None
        self._duplicates_written = 0

    def save_message(self, queue_path: str, message: StoredMessage) -> None:
        encoded = message.encoded
        self._db.execute(
            "INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                queue_path.lower(),
                message.sequence_number,
                int(message.state),
                message.delivery_count,
                message.enqueued_at,
                message.expires_at,
                message.message_id,
                int(encoded.durable),
                encoded.priority,
                encoded.ttl_ms,
                encoded.annotations,
                encoded.properties,
                encoded.application_properties,
                encoded.body,
                message.dead_letter_reason,
                message.dead_letter_description,
                message.dead_letter_properties,
                message.dead_letter_source,
            ),
        )

    def delete_message(self, queue_path: str, sequence_number: int) -> None:
        self._db.execute(
            "DELETE FROM messages WHERE queue = ? AND sequence_number = ?", (queue_path.lower(), sequence_number)
        )

    def save_sequence(self, target: str, value: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO sequences VALUES (?, ?)", (target.lower(), value))

    def save_duplicate(self, target: str, message_id: str, seen_at: float) -> None:
        self._db.execute("INSERT OR REPLACE INTO duplicates VALUES (?, ?, ?)", (target.lower(), message_id, seen_at))
        self._duplicates_written += 1
        if self._duplicates_written % 1000 == 0:
            self._db.execute("DELETE FROM duplicates WHERE seen_at < ?", (time.time() - _DUPLICATE_HORIZON_SECONDS,))

    def commit(self) -> None:
        self._db.commit()

    def close(self) -> None:
        self._db.commit()
        self._db.close()

    def restore_into(self, store: Store) -> None:
        """Load everything saved into a freshly built store (entities come from the config)."""
        for target, value in self._db.execute("SELECT target, value FROM sequences"):
            store.restore_sequence(target, value)
        horizon = time.time() - _DUPLICATE_HORIZON_SECONDS
        for target, message_id, seen_at in self._db.execute(
            "SELECT target, message_id, seen_at FROM duplicates WHERE seen_at >= ? ORDER BY seen_at", (horizon,)
        ):
            store.restore_duplicate(target, message_id, seen_at)
        skipped: dict[str, int] = {}
        try:
            rows = self._db.execute("SELECT * FROM messages ORDER BY queue, sequence_number").fetchall()
        except sqlite3.Error as error:
            raise PersistenceError(f"cannot read {self.path}: {error}") from None
        for row in rows:
            (queue, sequence, state, delivery_count, enqueued_at, expires_at, message_id) = row[:7]
            (durable, priority, ttl_ms, annotations, properties, application_properties, body) = row[7:14]
            (reason, description, dl_properties, source) = row[14:]
            message = StoredMessage(
                sequence_number=sequence,
                encoded=EncodedMessage(
                    durable=bool(durable),
                    priority=priority,
                    ttl_ms=ttl_ms,
                    annotations=annotations,
                    properties=properties,
                    application_properties=application_properties,
                    body=body,
                ),
                message_id=message_id,
                enqueued_at=enqueued_at,
                expires_at=expires_at,
                state=MessageState(state),
                delivery_count=delivery_count,
                dead_letter_reason=reason,
                dead_letter_description=description,
                dead_letter_properties=dl_properties,
                dead_letter_source=source,
            )
            if not store.restore_message(queue, message):
                skipped[queue] = skipped.get(queue, 0) + 1
        for queue, count in skipped.items():
            _log.warning("%d saved messages of '%s' are not loaded: the config has no such entity", count, queue)
