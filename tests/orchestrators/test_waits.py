"""The wait orchestrations under the SDK's replay: job timeout, replication timeout and stall, continue_as_new.

These branches take simulated hours or days; end to end they would cost minutes even at the emulator's speed.
Here the history is built by :class:`tests.orchestrators.replay.Replay`, whose clock moves only with the events.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from migration.steps import Step
from orchestrators.timing import first_job_poll
from orchestrators.wait_for_job import READS_PER_GENERATION, wait_for_asr_job
from orchestrators.wait_for_replication import wait_for_initial_replication
from tests.orchestrators.replay import START, Replay, _parse
from tests.orchestrators.views import item_view

JOB_ID = "/Subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/replicationJobs/j-1"


def _job_input(deadline: timedelta, **extra: Any) -> dict[str, Any]:
    return {
        "vault": {"subscriptionId": "s", "resourceGroup": "rg", "name": "v"},
        "jobName": "j-1",
        "jobId": JOB_ID,
        "step": "commit",
        "stage": "commit",
        "timeScale": 1.0,
        "deadline": (START + deadline).isoformat(),
        **extra,
    }


def _running(name: str, payload: Any) -> dict[str, Any]:
    assert name == "read_asr_job" and payload["jobName"] == "j-1"
    return {"outcome": "running", "state": "InProgress", "error": None}


def _continued(state: dict[str, Any]) -> bool:
    return any(a.get("actionType") == 4 for group in state["actions"] for a in group)


def _continued_input(state: dict[str, Any]) -> dict[str, Any]:
    """The input a ``continue_as_new`` hands to the next generation."""
    import json

    (action,) = [a for group in state["actions"] for a in group if a.get("actionType") == 4]
    carried: dict[str, Any] = json.loads(action["input"])
    return carried


def _timers(replay: Replay) -> list[Any]:
    return [_parse(a["fireAt"]) for a in replay.scheduled if a["actionType"] == 5]


def test_a_job_still_running_at_the_job_timeout_ends_timed_out() -> None:
    replay = Replay(wait_for_asr_job, _job_input(timedelta(hours=2)), activity=_running)
    state = replay.run()
    output = state["output"]
    assert output["outcome"] == "timedOut"
    assert output["error"]["code"] == "JobTimedOut"
    assert output["error"]["jobId"] == JOB_ID and output["error"]["stage"] == "commit"
    assert "InProgress" in output["error"]["message"]
    # Read late, then with growing gaps up to the cap, and never past the deadline.
    timers = _timers(replay)
    gaps = [(b - a).total_seconds() for a, b in zip([START + timedelta(seconds=1), *timers], timers, strict=False)]
    assert gaps[0] >= 60 and gaps == sorted(gaps[:-1]) + gaps[-1:]
    assert max(timers) <= START + timedelta(hours=2, seconds=1)
    assert output["polls"] == len(timers) < READS_PER_GENERATION


def test_a_long_job_wait_continues_as_new_and_carries_its_polls_and_gap() -> None:
    first = Replay(wait_for_asr_job, _job_input(timedelta(days=30)), activity=_running)
    state = first.run()
    assert state["isDone"] and _continued(state)
    carried = _continued_input(state)
    assert carried["polls"] == READS_PER_GENERATION
    assert carried["nextPollPlanSeconds"] == 600  # grown to the cap
    assert carried["deadline"] == _job_input(timedelta(days=30))["deadline"]
    # The history of one generation stays small whatever the wait's length.
    assert len(first.history) < 300

    def succeeded(name: str, payload: Any) -> dict[str, Any]:
        return {"outcome": "succeeded", "state": "Succeeded", "error": None}

    second = Replay(wait_for_asr_job, carried, activity=succeeded, now=first.now)
    output = second.run()["output"]
    assert output["outcome"] == "succeeded" and output["polls"] == READS_PER_GENERATION + 1
    assert output["jobId"] == JOB_ID
    (timer,) = _timers(second)
    assert timer - first.now >= timedelta(seconds=600)


def _replication_input(deadline: timedelta, **extra: Any) -> dict[str, Any]:
    return {
        "machine": {"name": "web01"},
        "timeScale": 1.0,
        "pollIntervalSeconds": 60,
        "stallWarningAfterSeconds": 2 * 3600,
        "deadline": (START + deadline).isoformat(),
        **extra,
    }


class Replication:
    """Initial replication as a function of the simulated clock: linear, optionally stuck between two hours."""

    def __init__(self, hours: float, stuck: tuple[float, float] | None = None) -> None:
        self.hours = hours
        self.stuck = stuck
        self.replay: Replay | None = None
        self.reads = 0

    def percent(self) -> int:
        assert self.replay is not None
        elapsed = (self.replay.now - START).total_seconds() / 3600
        if self.stuck and elapsed >= self.stuck[0]:
            elapsed = self.stuck[0] if elapsed < self.stuck[1] else elapsed - (self.stuck[1] - self.stuck[0])
        return min(100, int(100 * elapsed / self.hours))

    def __call__(self, name: str, payload: Any) -> dict[str, Any]:
        assert name == "read_protected_item" and payload["stage"] == "initialReplication"
        self.reads += 1
        percent = self.percent()
        done = percent >= 100
        view = item_view(
            protectionState="Protected" if done else "UnprotectedStatesBegin",
            protected=done,
            initialReplicationDone=done,
            progressPercent=percent,
            allowedOperations=["TestFailover"] if done else ["DisableProtection"],
        )
        return {"exists": True, "view": view, "failoverRecoveryPointId": None}


def _run_generations(request: dict[str, Any], source: Replication) -> tuple[dict[str, Any], list[Replay]]:
    """Follow continue_as_new from generation to generation until the wait returns."""
    replays: list[Replay] = []
    now = START
    while True:
        replay = Replay(wait_for_initial_replication, request, activity=source, now=now)
        source.replay = replay
        replays.append(replay)
        state = replay.run()
        if not _continued(state):
            return state["output"], replays
        request, now = _continued_input(state), replay.now


@pytest.mark.parametrize(
    ("hours", "most_reads"),
    [
        (6, 22),  # polling every 30 s would be 720 reads
        (24, 60),  # the percentage moves every 15 minutes: no reading every minute until it does
    ],
)
def test_a_replication_is_read_a_few_dozen_times_not_every_minute(hours: int, most_reads: int) -> None:
    source = Replication(hours=hours)
    output, replays = _run_generations(_replication_input(timedelta(days=14)), source)
    assert output["outcome"] == "done" and output["percent"] == 100
    assert source.reads == output["polls"] <= most_reads
    assert max(len(r.history) for r in replays) < 300
    # Done is noticed soon after it happens, for all the sparse reading.
    assert replays[-1].now - (START + timedelta(hours=hours)) < timedelta(minutes=20)


def test_a_stall_is_reported_across_generations_and_the_wait_goes_on_when_replication_resumes() -> None:
    source = Replication(hours=10, stuck=(3, 8))  # 30 % after 3 h, then nothing for 5 h
    output, replays = _run_generations(_replication_input(timedelta(days=14)), source)
    assert output["outcome"] == "done"
    assert len(replays) > 1, "the stall outlasts one generation of reads"
    statuses = [s for r in replays for s in r.statuses if s]
    stalled = [s for s in statuses if s["stalled"]]
    assert stalled, "the stall was never reported"
    assert {s["progressPercent"] for s in stalled} == {30}
    # Reported once two hours passed without movement, and still counted across continue_as_new.
    assert min(s["unchangedForSeconds"] for s in stalled) >= 2 * 3600
    assert max(s["unchangedForSeconds"] for s in stalled) >= 4.5 * 3600
    assert statuses[-1]["stalled"] is False and statuses[-1]["progressPercent"] > 30


def test_a_replication_that_stays_stuck_times_out_with_its_last_percentage() -> None:
    source = Replication(hours=10, stuck=(3, 1000))
    output, _ = _run_generations(_replication_input(timedelta(hours=12)), source)
    assert output["outcome"] == "timedOut" and output["stalled"] is True
    assert output["error"]["code"] == "InitialReplicationTimedOut"
    assert output["error"]["stage"] == "initialReplication"
    assert "30%" in output["error"]["message"]


def test_continue_as_new_carries_the_progress_state() -> None:
    source = Replication(hours=20)
    replay = Replay(wait_for_initial_replication, _replication_input(timedelta(days=14)), activity=source)
    source.replay = replay
    state = replay.run()
    carried = _continued_input(state)
    assert carried["polls"] == READS_PER_GENERATION
    progress = carried["progress"]
    assert progress["startPercent"] == 0 and progress["lastPercent"] == source.percent()
    assert START < _parse(progress["startedAt"]) < START + timedelta(minutes=1)  # the first reading
    assert carried["nextDelaySeconds"] > 60  # ETA-driven, not the base interval
    assert carried["stalled"] is False


@pytest.mark.parametrize("step", list(Step))
def test_every_step_has_a_first_poll_for_its_job(step: Step) -> None:
    """A step without a typical duration would fail its job wait before the first read (a KeyError in replay)."""
    assert first_job_poll(step, 1.0) >= 30
    assert first_job_poll(step, 1.0, retry_after_seconds=120) >= 120
