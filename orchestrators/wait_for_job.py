"""Sub-orchestration: wait for one ASR job to end, reading it late and then with growing gaps.

Input ``{"vault": {...}, "jobName", "jobId", "step", "stage", "machine", "timeScale", "deadline" (ISO, UTC),
"retryAfterSeconds", "polls", "nextPollPlanSeconds"}``. Output ``{"outcome": succeeded|failed|cancelled|timedOut,
"jobId", "polls", "state", "startTime", "endTime", "error"}``.

Every read is a durable timer then an activity, so a host restart resumes the wait where it was. The history is
kept short by ``continue_as_new`` after a bounded number of reads, which a waiting parent does not notice.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import error_record
from migration.steps import Step
from orchestrators.timing import activity_retry, first_job_poll, next_job_poll, scaled

name = names.WAIT_FOR_JOB
bp = df.Blueprint()

# Reads per generation before continue_as_new (each read adds about six history events).
READS_PER_GENERATION = 20


@bp.orchestration_trigger(context_name="context", orchestration=names.WAIT_FOR_JOB)
def wait_for_asr_job(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    request: dict[str, Any] = context.get_input()
    scale = float(request.get("timeScale") or 1.0)
    step = Step(request["step"])
    deadline = datetime.fromisoformat(request["deadline"])
    polls = int(request.get("polls") or 0)
    delay = float(request.get("nextPollPlanSeconds") or first_job_poll(step, scale, request.get("retryAfterSeconds")))
    context.set_custom_status({"jobId": request.get("jobId"), "polls": polls, "stage": request.get("stage")})

    for _ in range(READS_PER_GENERATION):
        now = context.current_utc_datetime
        fire_at = min(now + scaled(delay, scale), max(deadline, now + timedelta(seconds=1)))
        yield context.create_timer(fire_at)
        job: dict[str, Any] = yield context.call_activity_with_retry(
            names.READ_ASR_JOB,
            activity_retry(scale),
            {"vault": request["vault"], "jobName": request["jobName"], "stage": request.get("stage")},
        )
        polls += 1
        if job["outcome"] != "running":
            return {**job, "jobId": request.get("jobId"), "polls": polls}
        if context.current_utc_datetime >= deadline:
            return {
                "outcome": "timedOut",
                "jobId": request.get("jobId"),
                "polls": polls,
                "state": job.get("state"),
                "error": error_record(
                    request.get("stage"),
                    "JobTimedOut",
                    f"ASR job {request['jobName']} was still {job.get('state')} at the plan's jobTimeout",
                    request.get("jobId"),
                ),
            }
        delay = next_job_poll(delay, None, scale)

    context.continue_as_new({**request, "polls": polls, "nextPollPlanSeconds": delay})
    return {}
