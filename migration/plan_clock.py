"""The migration's clock: wall time, or a faster simulated time that agrees with the Site Recovery emulator.

A cutover window is an absolute time ("not before Saturday 22:00 UTC"). In Azure, plan time is wall time. Against
the emulator, simulated hours pass in wall seconds, and the emulator keeps its own calendar; a window must be judged
on that calendar, or a test of "cutover waits for the window" would prove nothing. So the app's notion of time is
``plan = simAnchor + (wall - wallAnchor) × speed``: the settings ``MIGRATION_CLOCK_SPEED`` and
``MIGRATION_CLOCK_ANCHOR`` (``"<sim ISO>@<wall ISO>"``, read off the emulator when it starts) describe it, and
the mapping travels in each migration's input so every replay sees the same one. Unset, it is the identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["PlanClock"]


def _utc(text: str, setting: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{setting}: {text!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise ValueError(f"{setting}: {text!r} has no UTC offset")
    return value


@dataclass(frozen=True)
class PlanClock:
    speed: float
    sim_anchor: datetime
    wall_anchor: datetime

    @classmethod
    def identity(cls, now: datetime) -> PlanClock:
        return cls(1.0, now, now)

    @classmethod
    def from_settings(cls, environ: Mapping[str, str], now: datetime) -> PlanClock:
        """From ``MIGRATION_CLOCK_SPEED`` and ``MIGRATION_CLOCK_ANCHOR``; wall time when neither is set."""
        speed_text = environ.get("MIGRATION_CLOCK_SPEED") or "1"
        try:
            speed = float(speed_text)
        except ValueError:
            raise ValueError(f"MIGRATION_CLOCK_SPEED: {speed_text!r} is not a number") from None
        if not 0 < speed <= 1_000_000:
            raise ValueError(f"MIGRATION_CLOCK_SPEED: {speed} is outside (0, 1000000]")
        anchor = environ.get("MIGRATION_CLOCK_ANCHOR")
        if not anchor:
            return cls(speed, now, now)
        sim_text, separator, wall_text = anchor.partition("@")
        if not separator:
            raise ValueError("MIGRATION_CLOCK_ANCHOR: expected '<simulated ISO time>@<wall ISO time>'")
        return cls(speed, _utc(sim_text, "MIGRATION_CLOCK_ANCHOR"), _utc(wall_text, "MIGRATION_CLOCK_ANCHOR"))

    def plan_time(self, wall: datetime) -> datetime:
        return self.sim_anchor + (wall - self.wall_anchor) * self.speed

    def wall_time(self, plan: datetime) -> datetime:
        return self.wall_anchor + (plan - self.sim_anchor) / self.speed

    def wall_duration(self, plan: timedelta) -> timedelta:
        return plan / self.speed

    def to_dict(self) -> dict[str, Any]:
        return {
            "speed": self.speed,
            "simAnchor": self.sim_anchor.isoformat(),
            "wallAnchor": self.wall_anchor.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanClock:
        return cls(
            float(data["speed"]),
            datetime.fromisoformat(data["simAnchor"]),
            datetime.fromisoformat(data["wallAnchor"]),
        )
