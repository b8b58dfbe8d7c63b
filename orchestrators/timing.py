"""How long orchestrations wait: pure arithmetic on ``timedelta``, shared by every orchestrator.

``timeScale`` is how many plan-seconds pass per wall second. In Azure it is 1. Against the Site Recovery emulator
it is the emulator's speed, so a plan's "poll every minute" or "soak the test VM for 15 minutes" keeps its meaning
in simulated time while the durable timers (wall time) fire sooner. It is fixed when the migration starts and
travels in the orchestration input, so every replay sees the same value.

ASR jobs are polled late first (a test failover takes minutes, so the first read comes after the typical time)
and then with growing gaps, never sooner than the service's ``Retry-After``. This keeps a machine's whole
migration to a few dozen ARM requests.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from migration.steps import Step

# Typical duration of each step's ASR job (plan-seconds), used as the first poll: reading sooner only costs
# ARM requests. Enable replication's job ends when initial replication starts, not when it finishes.
_TYPICAL_JOB_SECONDS: dict[Step, float] = {
    Step.ENABLE_REPLICATION: 180,
    Step.TEST_FAILOVER: 300,
    Step.TEST_FAILOVER_CLEANUP: 120,
    Step.UNPLANNED_FAILOVER: 360,
    Step.COMMIT: 60,
    Step.COMPLETE_MIGRATION: 90,
    Step.DR_PROTECTION: 180,
    Step.DISABLE_REPLICATION: 90,
    Step.RESYNC: 60,
    Step.PAUSE_REPLICATION: 60,
    Step.RESUME_REPLICATION: 60,
}
_MIN_JOB_POLL = 30.0  # ASR's own Retry-After in the official examples
_MAX_JOB_POLL = 600.0
_JOB_POLL_GROWTH = 1.5
# Transient activity failures (throttling that outlasted the SDK's own retries, 5xx, conflicts).
_RETRY_FIRST_SECONDS = 10.0
_RETRY_ATTEMPTS = 6


# The shortest durable wait. Timers must move forward; a coarser floor would stretch every simulated wait (at
# 3,600x, a one-second floor makes each poll an hour of simulated time, and downtime figures measure polling
# instead of Site Recovery).
_MIN_WAIT_SECONDS = 0.1


def scaled(plan_seconds: float, time_scale: float) -> timedelta:
    """A plan duration as a wall-clock wait."""
    return timedelta(seconds=max(_MIN_WAIT_SECONDS, plan_seconds / time_scale))


def first_job_poll(step: Step, time_scale: float, retry_after_seconds: float | None = None) -> float:
    """Plan-seconds before the first read of a step's job."""
    return max(_TYPICAL_JOB_SECONDS[step], (retry_after_seconds or 0) * time_scale)


def next_job_poll(previous_plan_seconds: float, retry_after_seconds: float | None, time_scale: float) -> float:
    """Plan-seconds before the next read of a job still running."""
    grown = max(_MIN_JOB_POLL, previous_plan_seconds * _JOB_POLL_GROWTH)
    return min(max(grown, (retry_after_seconds or 0) * time_scale), _MAX_JOB_POLL)


def activity_retry(time_scale: float) -> df.RetryOptions:
    """Retry policy for ASR activities: a few spaced attempts, then the failure reaches the orchestrator."""
    first_ms = int(max(1.0, _RETRY_FIRST_SECONDS / time_scale) * 1000)
    # RetryOptions in azure-functions-durable 1.7 carries only these two fields (no backoff coefficient).
    return df.RetryOptions(first_retry_interval_in_milliseconds=first_ms, max_number_of_attempts=_RETRY_ATTEMPTS)


def event_retry(time_scale: float) -> df.RetryOptions:
    """Retry policy for publishing events: more attempts than ASR calls, since a report should not be lost."""
    first_ms = int(max(1.0, _RETRY_FIRST_SECONDS / time_scale) * 1000)
    return df.RetryOptions(first_retry_interval_in_milliseconds=first_ms, max_number_of_attempts=2 * _RETRY_ATTEMPTS)


def kick(context: df.DurableOrchestrationContext) -> Any:
    """A timer due now: joined to a ``task_any`` that mixes running tasks with new ones, it lets the extension go on.

    The Durable extension issues an orchestrator's actions one after the other, and a ``task_any`` over tasks
    already running plus new ones reaches it as a WhenAny of the new ones alone: without this timer it would hold
    every later action until one of the *new* tasks ends (``orchestrators.wave_batch`` explains).
    """
    return context.create_timer(context.current_utc_datetime)
