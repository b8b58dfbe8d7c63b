"""Initial replication over time: an ETA from the provider's own figures, a stall alarm, the next poll.

ASR reports *where* replication is (a percentage; InMageRcm also bytes) but not *when* it
will finish. Successive readings give a rate, the rate gives an ETA, and the ETA sets
how long to wait before the next read: a disk that needs two days is not read every
minute, which keeps a 1,000-machine wave far below ARM's read limits.

Everything here is pure: the state is a small JSON dict the orchestrator keeps between
polls, and the clock is passed in (``context.current_utc_datetime`` in an orchestrator).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from migration.scenarios.base import ProtectedItemView

__all__ = ["ProgressReport", "ProgressState", "next_poll_delay", "observe", "start_progress"]

# InMageRcm's progress verdict when nothing moves (VmReplicationProgressHealth).
_NO_PROGRESS = "noprogress"


def _iso(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class ProgressState:
    """What the previous readings left behind: where replication started, and when it last moved."""

    started_at: datetime
    start_percent: int
    last_change_at: datetime
    last_percent: int | None
    last_bytes: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "startedAt": _iso(self.started_at),
            "startPercent": self.start_percent,
            "lastChangeAt": _iso(self.last_change_at),
            "lastPercent": self.last_percent,
            "lastBytes": self.last_bytes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProgressState:
        return cls(
            started_at=datetime.fromisoformat(data["startedAt"]),
            start_percent=int(data["startPercent"]),
            last_change_at=datetime.fromisoformat(data["lastChangeAt"]),
            last_percent=data.get("lastPercent"),
            last_bytes=data.get("lastBytes"),
        )


@dataclass(frozen=True)
class ProgressReport:
    """One reading, interpreted: percent, ETA (None until there is a rate), and whether it stalled."""

    percent: int | None
    done: bool
    eta: datetime | None
    percent_per_hour: float | None
    stalled: bool
    unchanged_for: timedelta

    def to_dict(self) -> dict[str, Any]:
        return {
            "percent": self.percent,
            "done": self.done,
            "eta": _iso(self.eta) if self.eta else None,
            "percentPerHour": self.percent_per_hour,
            "stalled": self.stalled,
            "unchangedForSeconds": int(self.unchanged_for.total_seconds()),
        }


def _moved_bytes(view: ProtectedItemView) -> int | None:
    return view.bytes_transferred if view.bytes_transferred is not None else view.bytes_processed


def start_progress(view: ProtectedItemView, now: datetime) -> ProgressState:
    """The state for the first reading after replication was enabled."""
    return ProgressState(now, view.progress_percent or 0, now, view.progress_percent, _moved_bytes(view))


def observe(
    state: ProgressState, view: ProtectedItemView, now: datetime, *, stall_after: timedelta
) -> tuple[ProgressState, ProgressReport]:
    """Fold a new reading into the state; report percent, ETA and stall.

    Progress counts as movement when the percentage or the byte counter changed. A stall
    is ``stall_after`` without movement, or the provider itself saying ``NoProgress``.
    """
    moved_bytes = _moved_bytes(view)
    moved = view.progress_percent != state.last_percent or moved_bytes != state.last_bytes
    last_change_at = now if moved else state.last_change_at
    new_state = ProgressState(state.started_at, state.start_percent, last_change_at, view.progress_percent, moved_bytes)
    unchanged_for = now - last_change_at
    done = view.initial_replication_done
    rate: float | None = None
    eta: datetime | None = now if done else None
    elapsed_hours = (now - state.started_at).total_seconds() / 3600
    if not done and view.progress_percent is not None and elapsed_hours > 0:
        gained = view.progress_percent - state.start_percent
        if gained > 0:
            rate = gained / elapsed_hours
            eta = now + timedelta(hours=(100 - view.progress_percent) / rate)
    provider_says_stuck = (view.progress_health or "").lower() == _NO_PROGRESS
    stalled = not done and (unchanged_for >= stall_after or provider_says_stuck)
    report = ProgressReport(view.progress_percent, done, eta, rate, stalled, unchanged_for)
    return new_state, report


def next_poll_delay(
    report: ProgressReport,
    now: datetime,
    *,
    base: timedelta,
    maximum: timedelta = timedelta(minutes=30),
    retry_after: float | None = None,
    previous: timedelta | None = None,
    share_of_time_left: float = 0.25,
) -> timedelta:
    """How long to wait before reading the item again.

    A share of the time left (a quarter by default, so the last stretch is watched closely), never less than
    ``base`` or than the server's ``Retry-After``, never more than ``maximum``. While replication has stalled,
    ``base`` (to notice it recover). While there is no ETA yet (the percentage has not moved since the first
    reading), ``base``; or, given the ``previous`` delay, twice that, so a replication of days whose percentage
    moves once an hour is not read every minute until it does.
    """
    floor = max(base, timedelta(seconds=retry_after or 0))
    if report.done or report.stalled:
        return floor
    if report.eta is None:
        return floor if previous is None else max(floor, min(previous * 2, maximum))
    share = (report.eta - now) * share_of_time_left
    return max(floor, min(share, maximum))
