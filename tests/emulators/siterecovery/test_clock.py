"""The simulated clock reads the same real-time clock the app's timestamps come from, and never runs back."""

from __future__ import annotations

import time

import pytest

from emulators.siterecovery.clock import SimClock


class _SteppedClock:
    """The machine's real-time clock, stepped by hand as NTP or a resumed VM would step it."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> _SteppedClock:
    stepped = _SteppedClock()
    monkeypatch.setattr(time, "time", stepped)
    return stepped


def test_a_forward_step_of_the_real_time_clock_moves_simulated_time_with_it(wall: _SteppedClock) -> None:
    clock = SimClock(speed=3600)
    wall.now += 0.5  # the app's Durable timestamps jump half a second: so must the emulator's calendar
    assert clock.seconds() == pytest.approx(1800)


def test_a_backward_step_holds_simulated_time_still(wall: _SteppedClock) -> None:
    clock = SimClock(speed=10)
    wall.now += 2
    before = clock.seconds()
    wall.now -= 5
    assert clock.seconds() == before
    wall.now += 6  # one second past the latest reading
    assert clock.seconds() == pytest.approx(before + 10)
