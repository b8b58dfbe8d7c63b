"""Timer triggers: NCRONTAB schedules, settings in schedules, run on startup, past-due after downtime."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emulators.functions import start_host
from emulators.functions.timer_triggers import Schedule, ScheduleError
from tests.emulators.functions.apps import timer_app
from tests.emulators.functions.conftest import HostFactory, wait_until

T0 = datetime(2026, 1, 30, 23, 59, 58, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("* * * * * *", T0 + timedelta(seconds=1)),
        ("0 */5 * * * *", datetime(2026, 1, 31, 0, 0, 0, tzinfo=UTC)),
        ("30 15 9 * * MON-FRI", datetime(2026, 2, 2, 9, 15, 30, tzinfo=UTC)),
        ("0 0 0 1 * *", datetime(2026, 2, 1, tzinfo=UTC)),
        ("0 0 12 29 FEB *", datetime(2028, 2, 29, 12, tzinfo=UTC)),
        ("0 0 8 * * 0", datetime(2026, 2, 1, 8, tzinfo=UTC)),
        ("0 0 8 * * 7", datetime(2026, 2, 1, 8, tzinfo=UTC)),
        ("0 10,40 * * * *", datetime(2026, 1, 31, 0, 10, tzinfo=UTC)),
        ("00:05:00", T0 + timedelta(minutes=5)),
        ("1.00:00:00", T0 + timedelta(days=1)),
    ],
)
def test_next_occurrence(schedule: str, expected: datetime) -> None:
    assert Schedule.parse(schedule).next_after(T0) == expected


@pytest.mark.parametrize("schedule", ["* * * * *", "0 61 * * * *", "0 0 0 * 13 *", "0 */0 * * * *", "x * * * * *"])
def test_bad_schedules_are_refused(schedule: str) -> None:
    with pytest.raises(ScheduleError, match="schedule"):
        Schedule.parse(schedule)


def test_timers_fire_and_run_on_startup(host_factory: HostFactory) -> None:
    timer_app.TICKS.clear()
    host_factory("tests.emulators.functions.apps.timer_app:app", local_settings={"NIGHTLY_SCHEDULE": "0 0 3 * * *"})
    wait_until(lambda: len([t for t in timer_app.TICKS if t["fn"] == "every_second"]) >= 2, timeout=30)
    nightly = [t for t in timer_app.TICKS if t["fn"] == "nightly"]
    assert len(nightly) == 1 and nightly[0]["past_due"] is False  # runOnStartup
    assert str(nightly[0]["next"]).endswith("03:00:00+00:00")


def test_an_occurrence_missed_while_down_runs_once_past_due(tmp_path: Path) -> None:
    timer_app.TICKS.clear()
    status = tmp_path / "d" / "timers" / "nightly.status.json"
    status.parent.mkdir(parents=True)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    status.write_text(json.dumps({"Last": (yesterday - timedelta(days=1)).isoformat(), "Next": yesterday.isoformat()}))
    handle = start_host(
        "tests.emulators.functions.apps.timer_app:app",
        app_dir=tmp_path,
        data_dir=tmp_path / "d",
        settings={"NIGHTLY_SCHEDULE": "0 0 3 * * *"},
    )
    try:
        wait_until(lambda: [t for t in timer_app.TICKS if t["fn"] == "nightly"], timeout=30)
        nightly = [t for t in timer_app.TICKS if t["fn"] == "nightly"]
        assert [t["past_due"] for t in nightly] == [True]
    finally:
        handle.stop()


def test_an_invalid_schedule_or_missing_setting_fails_the_start(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="function 'bad_minute'"):
        start_host("tests.emulators.functions.apps.timer_app:bad", app_dir=tmp_path, data_dir=tmp_path / "d")
    with pytest.raises(ScheduleError, match="app setting 'NIGHTLY_SCHEDULE' is not defined"):
        start_host("tests.emulators.functions.apps.timer_app:app", app_dir=tmp_path, data_dir=tmp_path / "d2")
