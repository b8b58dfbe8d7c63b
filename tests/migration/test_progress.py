"""ETA, stall alarm and poll spacing from successive readings of a replicated item."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from migration.progress import ProgressState, next_poll_delay, observe, start_progress
from migration.scenarios.base import ProtectedItemView

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
STALL = timedelta(hours=2)


def view(percent, *, done=False, transferred=None, health=None):
    return ProtectedItemView(
        provider="InMageRcm",
        id=None,
        name="web-01",
        protection_state="Protected" if done else "UnprotectedStatesBegin",
        protection_state_description=None,
        protected=done,
        initial_replication_done=done,
        progress_percent=percent,
        bytes_processed=None,
        bytes_transferred=transferred,
        rpo_seconds=None,
        progress_health=health,
        replication_health="Normal",
        health_errors=(),
        test_failover_state="None",
        active_location="Primary",
        current_scenario=None,
        current_job_id=None,
    )


def test_eta_follows_the_observed_rate():
    state = start_progress(view(10), T0)
    state, report = observe(state, view(30), T0 + timedelta(hours=1), stall_after=STALL)
    assert report.percent_per_hour == 20
    assert report.eta == T0 + timedelta(hours=1) + timedelta(hours=70 / 20)
    assert not report.stalled and not report.done
    assert ProgressState.from_dict(state.to_dict()) == state
    assert report.to_dict()["eta"] == report.eta.isoformat()


def test_no_eta_before_progress_and_now_once_done():
    state = start_progress(view(0), T0)
    _, report = observe(state, view(0), T0 + timedelta(minutes=5), stall_after=STALL)
    assert report.eta is None
    _, done = observe(state, view(100, done=True), T0 + timedelta(hours=3), stall_after=STALL)
    assert done.done and done.eta == T0 + timedelta(hours=3) and not done.stalled


def test_stall_after_no_movement_or_when_the_provider_says_so():
    state = start_progress(view(40, transferred=1000), T0)
    state, report = observe(state, view(40, transferred=2000), T0 + timedelta(hours=1), stall_after=STALL)
    assert not report.stalled  # bytes moved even though the percentage did not
    state, report = observe(state, view(40, transferred=2000), T0 + timedelta(hours=3), stall_after=STALL)
    assert report.stalled and report.unchanged_for == timedelta(hours=2)
    _, report = observe(state, view(41, transferred=2500), T0 + timedelta(hours=4), stall_after=STALL)
    assert not report.stalled and report.unchanged_for == timedelta(0)
    _, said = observe(state, view(41, health="NoProgress"), T0 + timedelta(hours=4), stall_after=STALL)
    assert said.stalled


def test_poll_delay_is_a_quarter_of_the_time_left_within_bounds():
    state = start_progress(view(0), T0)
    now = T0 + timedelta(hours=1)
    _, slow = observe(state, view(1), now, stall_after=STALL)  # 99 hours left
    assert next_poll_delay(slow, now, base=timedelta(minutes=1)) == timedelta(minutes=30)
    _, fast = observe(state, view(95), now, stall_after=STALL)  # about 190 seconds left
    assert next_poll_delay(fast, now, base=timedelta(minutes=1)) == timedelta(minutes=1)
    _, mid = observe(state, view(50), now, stall_after=STALL)  # one hour left
    assert next_poll_delay(mid, now, base=timedelta(minutes=1)) == timedelta(minutes=15)
    assert next_poll_delay(mid, now, base=timedelta(minutes=1), retry_after=1200) == timedelta(minutes=20)
    stalled = replace(mid, stalled=True)
    assert next_poll_delay(stalled, now, base=timedelta(minutes=1)) == timedelta(minutes=1)


@given(
    readings=st.lists(st.integers(0, 100), min_size=1, max_size=20),
    minutes=st.lists(st.integers(1, 600), min_size=20, max_size=20),
)
def test_reports_are_consistent_over_any_reading_sequence(readings, minutes):
    readings = sorted(readings)
    state = start_progress(view(readings[0]), T0)
    now = T0
    for percent, step in zip(readings, minutes, strict=False):
        now += timedelta(minutes=step)
        state, report = observe(state, view(percent), now, stall_after=STALL)
        assert report.unchanged_for >= timedelta(0)
        assert report.stalled == (report.unchanged_for >= STALL)
        if report.eta is not None:
            assert report.eta >= now
        delay = next_poll_delay(report, now, base=timedelta(minutes=1))
        assert timedelta(minutes=1) <= delay <= timedelta(minutes=30)
