"""One ASR step as orchestration code: start or adopt it, wait for its job, and say how it ended.

The machine runbook runs its stages through it and the rollback its cleanup and removal, so both start, wait and
judge a step the same way:

- **start or adopt**: the ``start_asr_step`` activity reads the item first and starts the step, adopts the job
  already running it, or answers that it is done (``migration.steps.decide``);
- **clear**: enabling again needs the item of a failed enable removed first; the activity starts (or adopts) the
  removal and answers ``clear`` with its job. Once that job ended the step is asked again, and the next job is
  waited for under its own instance (``migration.instance_ids.round_id``), never the removal's;
- **wait**: a job is waited for in the ``wait_for_asr_job`` sub-orchestration, under the job name the activity
  returned. A wait that fails (its reads outlasted their retries) comes back as an error, as an activity whose
  retries ran out does: left to propagate, it would fail the runbook or rollback too, and the wave would get no
  record of the machine;
- **outcome**: a job that did not succeed fails the step with the job's own error (or ``JobFailed``) and job id.

Every failure is a :func:`migration.errors.error_record`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import error_record
from migration.instance_ids import round_id
from migration.json_types import Json
from migration.payloads.asr_steps import StartStepInput, StepStarted
from migration.payloads.waits import JobWaitInput
from migration.steps import Decision, Step
from orchestrators.timing import activity_retry, scaled

__all__ = ["StepResult", "call", "run_step", "wait", "wait_for_job"]


# A removal (``clear``) then the step itself, and one round spare for a removal ASR had begun already.
_ROUNDS = 3


def _exhausted(stage: str, failure: Exception) -> Json:
    return error_record(stage, "TransientFailuresExhausted", str(failure)[:500])


def call(
    context: df.DurableOrchestrationContext, activity: str, payload: Json, stage: str, time_scale: float
) -> Generator[Any, Any, Json]:
    """An activity with the retry policy; transient failures that outlast it come back as ``{"error": ...}``."""
    try:
        result: Json = yield context.call_activity_with_retry(activity, activity_retry(time_scale), payload)
    except Exception as failure:  # the SDK rethrows the activity's last failure here
        return {"error": _exhausted(stage, failure)}
    return result


def wait(
    context: df.DurableOrchestrationContext, orchestrator: str, payload: Json, instance_id: str, stage: str
) -> Generator[Any, Any, Json]:
    """A wait sub-orchestration; one that failed comes back as ``{"outcome": "failed", "error": ...}``."""
    try:
        waited: Json = yield context.call_sub_orchestrator(orchestrator, payload, instance_id)
    except Exception as failure:  # the SDK rethrows the sub-orchestration's failure here
        return {"outcome": "failed", "error": _exhausted(stage, failure)}
    return waited


def wait_for_job(
    context: df.DurableOrchestrationContext,
    *,
    vault: Json,
    job_name: str,
    job_id: str,
    step: Step,
    stage: str,
    time_scale: float,
    timeout: timedelta,
    instance_id: str,
    retry_after_seconds: float | None = None,
) -> Generator[Any, Any, Json]:
    """Wait for one job, for at most ``timeout``; ``step`` sets how late the first read comes."""
    deadline = context.current_utc_datetime + scaled(timeout.total_seconds(), time_scale)
    payload = JobWaitInput(vault, job_name, job_id, step, stage, deadline, time_scale, retry_after_seconds)
    return (yield from wait(context, names.WAIT_FOR_JOB, payload.to_dict(), instance_id, stage))


@dataclass(frozen=True)
class StepResult:
    """How a step ended: ``ok``, or the error; the last decision the activity made, the last job waited for."""

    ok: bool
    decision: str | None = None
    job_id: str | None = None
    error: Json | None = None


def run_step(
    context: df.DurableOrchestrationContext,
    *,
    machine: Json,
    options: Json,
    step: Step,
    stage: str,
    time_scale: float,
    timeout: timedelta,
    instance_id: str,
    on_started: Callable[[StepStarted], None] | None = None,
) -> Generator[Any, Any, StepResult]:
    """Start (or adopt) ``step`` and wait for its job under ``instance_id``.

    ``on_started`` sees every answer of the start activity before its job is waited for (the runbook records the
    decision and the job, and says it is waiting).
    """
    decision: str | None = None
    job_id: str | None = None
    for round_ in range(_ROUNDS):
        asked = StartStepInput(machine, step, options, stage)
        answer = yield from call(context, names.START_ASR_STEP, asked.to_dict(), stage, time_scale)
        if "error" in answer:
            return StepResult(False, decision, job_id, answer["error"])
        started = StepStarted.from_dict(answer)
        decision = started.decision
        if on_started is not None:
            on_started(started)
        if not started.job_name:
            return StepResult(True, decision, job_id)  # ASR shows the step as done already
        job_id = str(started.job_id)
        removal = decision == Decision.CLEAR.value
        waited = yield from wait_for_job(
            context,
            vault=machine["asr"]["vault"],
            job_name=started.job_name,
            job_id=job_id,
            step=Step.DISABLE_REPLICATION if removal else step,  # a removal is polled like one
            stage=stage,
            time_scale=time_scale,
            timeout=timeout,
            instance_id=round_id(instance_id, round_),
            retry_after_seconds=started.retry_after_seconds,
        )
        if waited["outcome"] != "succeeded":
            failure = waited.get("error") or error_record(stage, "JobFailed", f"ASR job ended {waited.get('state')}")
            return StepResult(False, decision, job_id, {**failure, "jobId": failure.get("jobId") or job_id})
        if not removal:
            return StepResult(True, decision, job_id)
    return StepResult(
        False, decision, job_id, error_record(stage, "ItemNotCleared", "the failed enable's item was not removed")
    )
