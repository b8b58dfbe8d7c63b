"""Timer triggers: NCRONTAB schedules (six fields, seconds first) or a TimeSpan interval, in UTC.

The function receives a ``func.TimerRequest`` built by the worker's own converter from the JSON the host
sends (``Schedule``, ``ScheduleStatus`` with ``Last``/``Next``/``LastUpdated``, ``IsPastDue``). As with
the real host's schedule monitor, the last and next occurrences are kept on disk: after a restart, an
occurrence missed while the host was down runs once, at start, with ``IsPastDue`` true. ``%Name%`` in the
schedule is replaced by that app setting, as the host does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.functions import meta
from azure.functions.timer import TimerRequestConverter

from .app_loader import FunctionSpec, LoadedApp
from .invoke import call

log = logging.getLogger("emulators.functions")

_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
_NONE: dict[str, int] = {}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("second", 0, 59, _NONE),
    ("minute", 0, 59, _NONE),
    ("hour", 0, 23, _NONE),
    ("day", 1, 31, _NONE),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _DAYS),
)


class ScheduleError(ValueError):
    """A schedule this host cannot parse; the message names the schedule and the field."""


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"{name}: bad step {step_text!r}")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, name, names), _value(b, name, names)
        else:
            start = _value(part, name, names)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise ScheduleError(f"{name}: {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def _value(text: str, name: str, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ScheduleError(f"{name}: {text!r} is not a number")
    number = int(text)
    return 0 if name == "day of week" and number == 7 else number


@dataclass
class Schedule:
    text: str
    interval: timedelta | None = None
    fields: tuple[set[int], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Schedule:
        if re.fullmatch(r"(\d+\.)?\d{1,2}:\d{2}(:\d{2})?", text.strip()):
            days = 0
            body = text.strip()
            if "." in body.split(":")[0]:
                d, body = body.split(".", 1)
                days = int(d)
            numbers = [int(p) for p in body.split(":")] + [0]
            span = timedelta(days=days, hours=numbers[0], minutes=numbers[1], seconds=numbers[2])
            if span <= timedelta(0):
                raise ScheduleError(f"schedule {text!r}: the interval must be positive")
            return cls(text, interval=span)
        parts = text.split()
        if len(parts) != 6:
            raise ScheduleError(f"schedule {text!r}: expected 6 fields (second minute hour day month day-of-week)")
        try:
            fields = tuple(_field(p, n, lo, hi, names) for p, (n, lo, hi, names) in zip(parts, _FIELDS, strict=True))
        except ScheduleError as exc:
            raise ScheduleError(f"schedule {text!r}: {exc}") from exc
        return cls(text, fields=fields)

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment`` (UTC)."""
        if self.interval is not None:
            return moment + self.interval
        seconds, minutes, hours, days, months, weekdays = self.fields
        start = moment.replace(microsecond=0) + timedelta(seconds=1)
        day = start.replace(hour=0, minute=0, second=0)
        for _ in range(366 * 5):
            weekday = (day.weekday() + 1) % 7  # NCRONTAB: Sunday = 0
            if day.month in months and day.day in days and weekday in weekdays:
                for h in sorted(hours):
                    for m in sorted(minutes):
                        for s in sorted(seconds):
                            candidate = day.replace(hour=h, minute=m, second=s)
                            if candidate >= start:
                                return candidate
            day += timedelta(days=1)
        raise ScheduleError(f"schedule {self.text!r} has no occurrence in the next five years")


def _resolve(text: str, settings: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise ScheduleError(f"schedule {text!r}: app setting {name!r} is not defined")
        return settings[name]

    return re.sub(r"%([^%]+)%", sub, text)


class _TimerListener:
    def __init__(self, spec: FunctionSpec, schedule: Schedule, status_file: Path, executor: Executor, client: Any):
        self.spec = spec
        self.schedule = schedule
        self.status_file = status_file
        self.executor = executor
        self.client = client
        self.task: asyncio.Task[None] | None = None
        self.run_on_startup = bool(spec.trigger.get("runOnStartup"))
        self.use_monitor = spec.trigger.get("useMonitor") is not False
        self.invocations = 0

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.status_file.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, json.JSONDecodeError):
            return {}

    def _save(self, last: datetime, nxt: datetime) -> None:
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        doc = {"Last": last.isoformat(), "Next": nxt.isoformat(), "LastUpdated": datetime.now(UTC).isoformat()}
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        tmp.replace(self.status_file)

    async def run(self) -> None:
        now = datetime.now(UTC)
        status = self._load()
        stored_next = datetime.fromisoformat(status["Next"]) if status.get("Next") else None
        if self.use_monitor and stored_next is not None and stored_next <= now:
            await self._invoke(past_due=True, last=now)
        elif self.run_on_startup:
            await self._invoke(past_due=False, last=now)
        while True:
            now = datetime.now(UTC)
            nxt = self.schedule.next_after(now)
            self._save(now, nxt)
            await asyncio.sleep(max(0.0, (nxt - datetime.now(UTC)).total_seconds()))
            await self._invoke(past_due=False, last=nxt)

    async def _invoke(self, past_due: bool, last: datetime) -> None:
        nxt = self.schedule.next_after(last)
        payload = {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": {"Last": last.isoformat(), "Next": nxt.isoformat(), "LastUpdated": last.isoformat()},
            "IsPastDue": past_due,
        }
        request = TimerRequestConverter.decode(
            meta.Datum(type="json", value=json.dumps(payload)), trigger_metadata=None
        )
        kwargs: dict[str, Any] = {self.spec.param: request}
        if self.spec.client_param:
            kwargs[self.spec.client_param] = self.client()
        self.invocations += 1
        try:
            await call(self.spec, kwargs, self.executor)
        except Exception:
            log.exception("timer function %r raised", self.spec.name)


class TimerListeners:
    """One scheduler per timer trigger; schedules are parsed (and refused) at start."""

    def __init__(
        self, app: LoadedApp, settings: dict[str, str], data_dir: Path, executor: Executor, client: Any
    ) -> None:
        self.listeners: list[_TimerListener] = []
        for spec in app.functions:
            if spec.kind != "timer":
                continue
            try:
                schedule = Schedule.parse(_resolve(str(spec.trigger.get("schedule", "")), settings))
            except ScheduleError as exc:
                raise ScheduleError(f"function {spec.name!r}: {exc}") from exc
            status_file = data_dir / "timers" / f"{spec.name}.status.json"
            self.listeners.append(_TimerListener(spec, schedule, status_file, executor, client))

    async def start(self) -> None:
        for listener in self.listeners:
            listener.task = asyncio.ensure_future(listener.run())

    async def stop(self) -> None:
        tasks = [listener.task for listener in self.listeners if listener.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
