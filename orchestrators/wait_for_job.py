"""Sub-orchestration: wait for one ASR job to end, reading it late and then with growing gaps.

Input :class:`migration.payloads.waits.JobWaitInput`. Output ``{"outcome": succeeded|failed|cancelled|timedOut,
"jobId", "polls", "state", "startTime", "endTime", "error"}``.

Every read is a durable timer then an activity, so a host restart resumes the wait where it was. The history is
kept short by ``continue_as_new`` after a bounded number of reads, which a waiting parent does not notice.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import error_record
from migration.payloads.asr_steps import JobReadInput
from migration.payloads.waits import JobWaitInput
from orchestrators.timing import activity_retry, first_job_poll, next_job_poll, scaled

name = names.WAIT_FOR_JOB
bp = df.Blueprint()

# Reads per generation before continue_as_new (each read adds about six history events).
READS_PER_GENERATION = 20


@bp.orchestration_trigger(context_name="context", orchestration=names.WAIT_FOR_JOB)
def wait_for_asr_job(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    request = JobWaitInput.from_dict(context.get_input())
    scale = request.time_scale
    deadline = request.deadline
    polls = request.polls
    delay = request.next_poll_plan_seconds or float(first_job_poll(request.step, scale, request.retry_after_seconds))
    context.set_custom_status({"jobId": request.job_id, "polls": polls, "stage": request.stage})

    for _ in range(READS_PER_GENERATION):
        now = context.current_utc_datetime
        fire_at = min(now + scaled(delay, scale), max(deadline, now + timedelta(seconds=1)))
        yield context.create_timer(fire_at)
        job: dict[str, Any] = yield context.call_activity_with_retry(
            names.READ_ASR_JOB,
            activity_retry(scale),
            JobReadInput(request.vault, request.job_name, request.stage).to_dict(),
        )
        polls += 1
        if job["outcome"] != "running":
            return {**job, "jobId": request.job_id, "polls": polls}
        if context.current_utc_datetime >= deadline:
            return {
                "outcome": "timedOut",
                "jobId": request.job_id,
                "polls": polls,
                "state": job.get("state"),
                "error": error_record(
                    request.stage,
                    "JobTimedOut",
                    f"ASR job {request.job_name} was still {job.get('state')} at the plan's jobTimeout",
                    request.job_id,
                ),
            }
        delay = next_job_poll(delay, None, scale)

    context.continue_as_new(replace(request, polls=polls, next_poll_plan_seconds=delay).to_dict())
    return {}
