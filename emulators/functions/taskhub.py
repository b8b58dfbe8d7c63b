"""The SQLite task hub: instances, history, one inbox of orchestration messages, activity work items.

It plays the role Azure Storage plays for the real extension. Every orchestration episode commits in one
transaction (history chunk, consumed inbox rows, new activity/timer/child rows, status), so a process killed
at any moment restarts from a consistent state: an activity that had not reported back is still a work
item and runs again (at-least-once, as in Azure), a completed one is an inbox message or history, never both.
Timers are inbox messages that become visible at their FireAt, like Azure Storage's delayed queue messages.
History is stored as one JSON array per episode, so a replay reads a handful of rows, not one per event.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import history as h
from .history import Event

TERMINAL = ("Completed", "Failed", "Terminated", "Canceled")
RUNNING_STATES = ("Pending", "Running", "Suspended", "ContinuedAsNew")

SCHEMA = """
CREATE TABLE IF NOT EXISTS instances(
  instance_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  custom_status TEXT,
  created REAL NOT NULL,
  updated REAL NOT NULL,
  parent_instance_id TEXT,
  parent_execution_id TEXT,
  parent_task_id INTEGER,
  parent_name TEXT,
  history_len INTEGER NOT NULL DEFAULT 0,
  history_chunks INTEGER NOT NULL DEFAULT 0,
  suspended_at TEXT,
  suspend_reason TEXT,
  version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS instances_created ON instances(created);
CREATE TABLE IF NOT EXISTS history(
  instance_id TEXT NOT NULL,
  chunk INTEGER NOT NULL,
  events TEXT NOT NULL,
  PRIMARY KEY(instance_id, chunk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT,
  kind INTEGER NOT NULL,
  visible_at REAL NOT NULL,
  event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_visible ON inbox(visible_at);
CREATE INDEX IF NOT EXISTS inbox_instance ON inbox(instance_id, seq);
CREATE TABLE IF NOT EXISTS activities(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  task_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  input TEXT
);
CREATE INDEX IF NOT EXISTS activities_instance ON activities(instance_id);
"""


@dataclass
class Instance:
    instance_id: str
    name: str
    execution_id: str
    status: str
    input: str | None
    output: str | None
    custom_status: str | None
    created: float
    updated: float
    parent_instance_id: str | None
    parent_execution_id: str | None
    parent_task_id: int | None
    parent_name: str | None
    history_len: int
    history_chunks: int
    suspended_at: str | None
    suspend_reason: str | None
    version: int


@dataclass
class InboxMessage:
    seq: int
    instance_id: str
    execution_id: str | None
    kind: int
    visible_at: float
    event: Event


@dataclass
class ActivityItem:
    seq: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None


class InstanceExists(Exception):
    """Starting an instance whose id is in a running state (DTFx OrchestrationAlreadyExistsException)."""


# Inbox kinds that are not ordinary orchestration events.
KIND_SUSPEND = h.EXECUTION_SUSPENDED
KIND_RESUME = h.EXECUTION_RESUMED
KIND_TERMINATE = h.EXECUTION_TERMINATED


def new_execution_id() -> str:
    return uuid.uuid4().hex


class TaskHub:
    """Thread-safe access to the hub. One connection, one lock: SQLite serializes writers anyway."""

    def __init__(self, path: Path, history_cache_size: int = 4096) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(SCHEMA)
        self.lock = threading.RLock()
        self._cache: OrderedDict[str, tuple[str, int, list[Event]]] = OrderedDict()
        self._cache_size = history_cache_size
        self.listeners: list[Any] = []  # callables notified (kind) when work appears

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def _notify(self, kind: str) -> None:
        for listener in list(self.listeners):
            listener(kind)

    # ----------------------------------------------------------------------------------- reads
    @staticmethod
    def _instance(row: sqlite3.Row | tuple[Any, ...]) -> Instance:
        return Instance(*row)

    def get_instance(self, instance_id: str) -> Instance | None:
        with self.lock:
            row = self._db.execute("SELECT * FROM instances WHERE instance_id=?", (instance_id,)).fetchone()
        return self._instance(row) if row else None

    def query_instances(
        self,
        created_from: float | None = None,
        created_to: float | None = None,
        statuses: list[str] | None = None,
        prefix: str | None = None,
        limit: int = 100,
        after: tuple[float, str] | None = None,
    ) -> list[Instance]:
        where, args = self._filters(created_from, created_to, statuses, prefix)
        if after is not None:
            where.append("(created > ? OR (created = ? AND instance_id > ?))")
            args += [after[0], after[0], after[1]]
        sql = "SELECT * FROM instances"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created, instance_id LIMIT ?"
        args.append(limit)
        with self.lock:
            rows = self._db.execute(sql, args).fetchall()
        return [self._instance(r) for r in rows]

    @staticmethod
    def _filters(
        created_from: float | None, created_to: float | None, statuses: list[str] | None, prefix: str | None
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if created_from is not None:
            where.append("created >= ?")
            args.append(created_from)
        if created_to is not None:
            where.append("created <= ?")
            args.append(created_to)
        if statuses:
            where.append("status IN ({})".format(",".join("?" * len(statuses))))
            args += statuses
        if prefix:
            where.append("substr(instance_id, 1, ?) = ?")
            args += [len(prefix), prefix]
        return where, args

    def get_history(self, inst: Instance) -> list[Event]:
        """The current execution's history, from the cache when it is up to date."""
        with self.lock:
            cached = self._cache.get(inst.instance_id)
            if cached and cached[0] == inst.execution_id and cached[1] == inst.history_chunks:
                self._cache.move_to_end(inst.instance_id)
                return list(cached[2])
            rows = self._db.execute(
                "SELECT events FROM history WHERE instance_id=? ORDER BY chunk", (inst.instance_id,)
            ).fetchall()
            events: list[Event] = []
            for (text,) in rows:
                events.extend(json.loads(text))
            self._remember(inst.instance_id, inst.execution_id, len(rows), events)
            return list(events)

    def _remember(self, instance_id: str, execution_id: str, chunks: int, events: list[Event]) -> None:
        self._cache[instance_id] = (execution_id, chunks, events)
        self._cache.move_to_end(instance_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def inbox_for(self, instance_id: str, now: float) -> list[InboxMessage]:
        with self.lock:
            rows = self._db.execute(
                "SELECT seq, instance_id, execution_id, kind, visible_at, event FROM inbox "
                "WHERE instance_id=? AND visible_at<=? ORDER BY seq",
                (instance_id, now),
            ).fetchall()
        return [InboxMessage(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def ready_instances(self, now: float, exclude: set[str], limit: int) -> list[str]:
        """Instances with visible inbox messages; suspended ones only for resume/terminate."""
        with self.lock:
            rows = self._db.execute(
                "SELECT DISTINCT i.instance_id FROM inbox i JOIN instances s ON s.instance_id = i.instance_id "
                "WHERE i.visible_at <= ? AND (s.status != 'Suspended' OR i.kind IN (?, ?)) "
                "ORDER BY i.seq LIMIT ?",
                (now, KIND_RESUME, KIND_TERMINATE, limit + len(exclude)),
            ).fetchall()
            orphan = self._db.execute(
                "SELECT DISTINCT instance_id FROM inbox WHERE visible_at <= ? AND instance_id NOT IN "
                "(SELECT instance_id FROM instances) LIMIT 100",
                (now,),
            ).fetchall()
        if orphan:
            with self.lock:
                self._db.executemany("DELETE FROM inbox WHERE instance_id=?", orphan)
        return [r[0] for r in rows if r[0] not in exclude][:limit]

    def next_visible(self, now: float) -> float | None:
        with self.lock:
            row = self._db.execute("SELECT MIN(visible_at) FROM inbox WHERE visible_at > ?", (now,)).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def claim_activities(self, exclude: set[int], limit: int) -> list[ActivityItem]:
        if limit <= 0:
            return []
        with self.lock:
            rows = self._db.execute(
                "SELECT seq, instance_id, execution_id, task_id, name, input FROM activities ORDER BY seq LIMIT ?",
                (limit + len(exclude),),
            ).fetchall()
        items = [ActivityItem(*r) for r in rows if r[0] not in exclude]
        return items[:limit]

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {
                "instances": self._db.execute("SELECT COUNT(*) FROM instances").fetchone()[0],
                "inbox": self._db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0],
                "activities": self._db.execute("SELECT COUNT(*) FROM activities").fetchone()[0],
            }

    # ----------------------------------------------------------------------------------- writes
    def _insert_inbox(
        self, instance_id: str, execution_id: str | None, event: Event, visible_at: float | None = None
    ) -> None:
        self._db.execute(
            "INSERT INTO inbox(instance_id, execution_id, kind, visible_at, event) VALUES(?,?,?,?,?)",
            (instance_id, execution_id, event["EventType"], visible_at or 0.0, json.dumps(event)),
        )

    def _delete_instance(self, instance_id: str) -> None:
        for table in ("instances", "history", "inbox", "activities"):
            self._db.execute(f"DELETE FROM {table} WHERE instance_id=?", (instance_id,))
        self._cache.pop(instance_id, None)

    def _create(
        self,
        instance_id: str,
        name: str,
        input_json: str | None,
        parent: dict[str, Any] | None = None,
    ) -> None:
        now = time.time()
        execution_id = new_execution_id()
        pinst = parent["OrchestrationInstance"] if parent else None
        self._db.execute(
            "INSERT INTO instances(instance_id, name, execution_id, status, input, created, updated, "
            "parent_instance_id, parent_execution_id, parent_task_id, parent_name) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            (
                instance_id,
                name,
                execution_id,
                "Pending",
                input_json,
                now,
                now,
                pinst["InstanceId"] if pinst else None,
                pinst["ExecutionId"] if pinst else None,
                parent["TaskScheduleId"] if parent else None,
                parent["Name"] if parent else None,
            ),
        )
        ts = h.fmt_ts(datetime.fromtimestamp(now, UTC))
        es = h.execution_started(ts, instance_id, execution_id, name, input_json, parent)
        self._insert_inbox(instance_id, execution_id, es)

    def create_instance(self, instance_id: str, name: str, input_json: str | None) -> None:
        """Start an orchestration: terminal instances with the same id are replaced, running ones refused."""
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT status FROM instances WHERE instance_id=?", (instance_id,)).fetchone()
                if row and row[0] in RUNNING_STATES:
                    raise InstanceExists(f"An Orchestration instance with the status {row[0]} already exists.")
                if row:
                    self._delete_instance(instance_id)
                self._create(instance_id, name, input_json)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        self._notify("orchestration")

    def send_event(self, instance_id: str, event: Event, execution_id: str | None = None) -> None:
        """Queue an event (raise, terminate, suspend, resume) for an instance's next episode."""
        with self.lock:
            self._insert_inbox(instance_id, execution_id, event)
        self._notify("orchestration")

    def purge(self, instance_ids: Iterable[str]) -> int:
        count = 0
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for iid in instance_ids:
                    if self._db.execute("SELECT 1 FROM instances WHERE instance_id=?", (iid,)).fetchone():
                        self._delete_instance(iid)
                        count += 1
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return count

    def purge_by(self, created_from: float | None, created_to: float | None, statuses: list[str] | None) -> int:
        where, args = self._filters(created_from, created_to, statuses, None)
        sql = "SELECT instance_id FROM instances" + (" WHERE " + " AND ".join(where) if where else "")
        with self.lock:
            ids = [r[0] for r in self._db.execute(sql, args).fetchall()]
        return self.purge(ids)

    def complete_activity(self, item: ActivityItem, event: Event) -> None:
        """Report an activity's result: drop the work item and queue the completion in one transaction."""
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute("DELETE FROM activities WHERE seq=?", (item.seq,))
                if cur.rowcount:
                    self._insert_inbox(item.instance_id, item.execution_id, event)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        self._notify("orchestration")

    def commit_episode(
        self,
        inst: Instance,
        consumed: list[int],
        new_events: list[Event],
        status: str,
        output: str | None = None,
        custom_status: str | None = None,
        custom_status_set: bool = False,
        activities: list[tuple[int, str, str | None]] | None = None,
        timers: list[tuple[Event, float]] | None = None,
        children: list[tuple[str, str, str | None, dict[str, Any]]] | None = None,
        parent_message: Event | None = None,
        continue_as_new: tuple[str | None, list[Event]] | None = None,
        suspended: tuple[str | None, str | None] | None = None,
        clear_suspended: bool = False,
    ) -> bool:
        """Apply one episode atomically; False when the instance changed meanwhile (nothing is written)."""
        now = time.time()
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT version, execution_id FROM instances WHERE instance_id=?", (inst.instance_id,)
                ).fetchone()
                if not row or row[0] != inst.version or row[1] != inst.execution_id:
                    self._db.execute("ROLLBACK")
                    return False
                if consumed:
                    self._db.executemany("DELETE FROM inbox WHERE seq=?", [(s,) for s in consumed])
                chunks = inst.history_chunks
                hist_len = inst.history_len
                if new_events:
                    self._db.execute(
                        "INSERT INTO history(instance_id, chunk, events) VALUES(?,?,?)",
                        (inst.instance_id, chunks, json.dumps(new_events)),
                    )
                    chunks += 1
                    hist_len += len(new_events)
                for task_id, name, input_json in activities or []:
                    self._db.execute(
                        "INSERT INTO activities(instance_id, execution_id, task_id, name, input) VALUES(?,?,?,?,?)",
                        (inst.instance_id, inst.execution_id, task_id, name, input_json),
                    )
                for event, fire_at in timers or []:
                    self._insert_inbox(inst.instance_id, inst.execution_id, event, fire_at)
                for child_id, child_name, child_input, parent in children or []:
                    existing = self._db.execute(
                        "SELECT status FROM instances WHERE instance_id=?", (child_id,)
                    ).fetchone()
                    if existing and existing[0] in RUNNING_STATES:
                        continue  # as with Azure Storage: the creation message for a live instance is dropped
                    if existing:
                        self._delete_instance(child_id)
                    self._create(child_id, child_name, child_input, parent)
                execution_id = inst.execution_id
                input_json = inst.input
                if continue_as_new is not None:
                    next_input, carried = continue_as_new
                    self._db.execute("DELETE FROM history WHERE instance_id=?", (inst.instance_id,))
                    self._cache.pop(inst.instance_id, None)
                    chunks, hist_len = 0, 0
                    execution_id = new_execution_id()
                    input_json = next_input
                    ts = h.fmt_ts(datetime.fromtimestamp(now, UTC))
                    parent_ref: dict[str, Any] | None = None
                    if inst.parent_instance_id:
                        parent_ref = {
                            "Name": inst.parent_name,
                            "Version": "",
                            "TaskScheduleId": inst.parent_task_id,
                            "OrchestrationInstance": {
                                "InstanceId": inst.parent_instance_id,
                                "ExecutionId": inst.parent_execution_id,
                            },
                        }
                    es = h.execution_started(ts, inst.instance_id, execution_id, inst.name, next_input, parent_ref)
                    self._insert_inbox(inst.instance_id, execution_id, es)
                    for ev in carried:
                        self._insert_inbox(inst.instance_id, None, ev)
                if status in TERMINAL:
                    self._db.execute("DELETE FROM activities WHERE instance_id=?", (inst.instance_id,))
                    self._db.execute(
                        "DELETE FROM inbox WHERE instance_id=? AND kind=?", (inst.instance_id, h.TIMER_FIRED)
                    )
                if parent_message is not None and inst.parent_instance_id:
                    self._insert_inbox(inst.parent_instance_id, inst.parent_execution_id, parent_message)
                sets = [
                    "status=?",
                    "updated=?",
                    "history_len=?",
                    "history_chunks=?",
                    "execution_id=?",
                    "input=?",
                    "version=version+1",
                ]
                args: list[Any] = [status, now, hist_len, chunks, execution_id, input_json]
                if status in TERMINAL:
                    sets.append("output=?")
                    args.append(output)
                if continue_as_new is not None:
                    sets.append("output=NULL")
                if custom_status_set:
                    sets.append("custom_status=?")
                    args.append(custom_status)
                if suspended is not None:
                    sets += ["suspended_at=?", "suspend_reason=?"]
                    args += list(suspended)
                if clear_suspended:
                    sets += ["suspended_at=NULL", "suspend_reason=NULL"]
                args.append(inst.instance_id)
                self._db.execute(f"UPDATE instances SET {', '.join(sets)} WHERE instance_id=?", args)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            if status in TERMINAL:
                # A finished instance replays no more; its history would only hold memory that running ones need.
                self._cache.pop(inst.instance_id, None)
            elif new_events and continue_as_new is None:
                cached = self._cache.get(inst.instance_id)
                if cached and cached[0] == inst.execution_id and cached[1] == inst.history_chunks:
                    self._remember(inst.instance_id, inst.execution_id, chunks, cached[2] + new_events)
        if activities:
            self._notify("activity")
        self._notify("orchestration")
        return True

    def drop_messages(self, inst: Instance, consumed: list[int]) -> None:
        with self.lock:
            self._db.executemany("DELETE FROM inbox WHERE seq=?", [(s,) for s in consumed])
