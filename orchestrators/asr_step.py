"""One ASR step as orchestration code: start it idempotently, then wait for its job in a sub-orchestration.

Shared by the runbooks that change Site Recovery (rollback, and the steps of the machine runbook).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from activities import names as activities
from migration.steps import Step
from orchestrators import names
from orchestrators.timing import activity_retry, scaled

Json = dict[str, Any]


def error(stage: str, code: str, message: str, job_id: str | None = None) -> Json:
    """The error shape results and events carry."""
    return {"stage": stage, "code": code, "message": message, "jobId": job_id, "transient": False}


def call(
    context: df.DurableOrchestrationContext, activity: str, payload: Json, stage: str, time_scale: float
) -> Generator[Any, Any, Json]:
    """An activity with the retry policy; transient failures that outlast it come back as ``{"error": ...}``."""
    try:
        result: Json = yield context.call_activity_with_retry(activity, activity_retry(time_scale), payload)
    except Exception as failure:  # the SDK rethrows the activity's last failure here
        return {"error": error(stage, "TransientFailuresExhausted", str(failure)[:500])}
    return result


def wait_for_job(
    context: df.DurableOrchestrationContext,
    *,
    vault: Json,
    job_id: str,
    step: Step,
    stage: str,
    time_scale: float,
    timeout: timedelta,
    instance_id: str,
    retry_after_seconds: float | None = None,
) -> Generator[Any, Any, Json]:
    deadline = context.current_utc_datetime + scaled(timeout.total_seconds(), time_scale)
    waited: Json = yield context.call_sub_orchestrator(
        names.WAIT_FOR_JOB,
        {
            "vault": vault,
            "jobName": job_id.rstrip("/").rsplit("/", 1)[-1],
            "jobId": job_id,
            "step": step.value,
            "stage": stage,
            "timeScale": time_scale,
            "deadline": deadline.isoformat(),
            "retryAfterSeconds": retry_after_seconds,
        },
        instance_id,
    )
    return waited


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
) -> Generator[Any, Any, Json]:
    """``{"ok": True, "decision", "jobId"}`` when the step is done, else ``{"ok": False, "error", "jobId"}``."""
    started = yield from call(
        context,
        activities.START_ASR_STEP,
        {"machine": machine, "step": step.value, "options": options, "stage": stage},
        stage,
        time_scale,
    )
    if "error" in started:
        return {"ok": False, "error": started["error"], "jobId": None}
    job_id = started.get("jobId")
    if not job_id:
        return {"ok": True, "decision": started["decision"], "jobId": None}
    waited = yield from wait_for_job(
        context,
        vault=machine["asr"]["vault"],
        job_id=job_id,
        step=step,
        stage=stage,
        time_scale=time_scale,
        timeout=timeout,
        instance_id=instance_id,
        retry_after_seconds=started.get("retryAfterSeconds"),
    )
    if waited["outcome"] != "succeeded":
        failure = waited.get("error") or error(stage, "JobFailed", f"ASR job ended {waited.get('state')}", job_id)
        return {"ok": False, "error": {**failure, "jobId": failure.get("jobId") or job_id}, "jobId": job_id}
    return {"ok": True, "decision": started["decision"], "jobId": job_id}
