"""Simulated time.

ASR work is slow (initial replication takes hours, a failover minutes). The emulator runs on a
simulated clock so the same behaviour can take seconds in tests and minutes in a demo:
``now = start + wall_elapsed * speed + manual_offset``. Tests usually freeze the clock
(``speed=0``) and move it explicitly with :meth:`SimClock.advance`, so nothing depends on how
fast the machine is.

Wall time is the system's real-time clock (``time.time``), not ``time.monotonic``: the app maps its own
timestamps (Durable's ``current_utc_datetime``, which the host takes from the real-time clock) onto this
calendar, so both sides must read one clock, or a step of the machine's clock (NTP, a VM resumed) moves
one calendar and not the other, by ``speed`` times the step. A step backwards holds simulated time still
instead of reversing it, so the clock stays monotonic.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

DEFAULT_EPOCH = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)


class SimClock:
    """A monotonic simulated clock: wall time times ``speed`` plus manual advances."""

    def __init__(self, speed: float = 1.0, start: datetime = DEFAULT_EPOCH) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._lock = threading.Lock()
        self._start = start
        self._speed = speed
        self._latest_wall = time.time()
        self._wall_anchor = self._latest_wall
        self._sim_anchor = 0.0  # simulated seconds since start at _wall_anchor

    def _wall(self) -> float:
        """The real-time clock, never earlier than it was last read (call with the lock held)."""
        self._latest_wall = max(self._latest_wall, time.time())
        return self._latest_wall

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def start(self) -> datetime:
        return self._start

    def seconds(self) -> float:
        """Simulated seconds elapsed since :attr:`start`."""
        with self._lock:
            return self._sim_anchor + (self._wall() - self._wall_anchor) * self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.seconds())

    def at(self, seconds: float) -> datetime:
        """The datetime of a simulated instant given in seconds since start."""
        return self._start + timedelta(seconds=seconds)

    def advance(self, seconds: float) -> float:
        """Move simulated time forward; returns the new simulated seconds."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            wall = self._wall()
            self._sim_anchor += (wall - self._wall_anchor) * self._speed + seconds
            self._wall_anchor = wall
            return self._sim_anchor

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            wall = self._wall()
            self._sim_anchor += (wall - self._wall_anchor) * self._speed
            self._wall_anchor = wall
            self._speed = speed

    def wall_seconds_for(self, sim_seconds: float) -> float:
        """How long a client must wait in real time for ``sim_seconds`` to pass (inf if frozen)."""
        if self._speed == 0:
            return float("inf")
        return sim_seconds / self._speed


def iso(value: datetime) -> str:
    """ARM's timestamp spelling: ISO 8601 with 7 fractional digits and ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
