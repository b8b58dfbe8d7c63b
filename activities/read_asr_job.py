"""Activity: read an ASR job and say where it stands, with the job's own error when it failed.

Input :class:`migration.payloads.asr_steps.JobReadInput`. Output
``{"outcome": running|succeeded|failed|cancelled, "state", "startTime", "endTime", "error"}``; transient read
failures are raised so the retry policy applies.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.site_recovery import site_recovery
from migration import function_names as names
from migration.arm_ids import VaultRef
from migration.errors import AsrPermanentError, error_from_failed_job
from migration.payloads.asr_steps import JobReadInput
from migration.steps import JobOutcome, job_outcome

name = names.READ_ASR_JOB
bp = df.Blueprint()


@bp.activity_trigger(input_name="request", activity=names.READ_ASR_JOB)
def read_asr_job(request: dict[str, Any]) -> dict[str, Any]:
    asked = JobReadInput.from_dict(request)
    vault = VaultRef(asked.vault["subscriptionId"], asked.vault["resourceGroup"], asked.vault["name"])
    stage = asked.stage
    try:
        job = site_recovery().get_job(vault, asked.job_name, stage=stage)
    except AsrPermanentError as refused:
        return {"outcome": JobOutcome.FAILED.value, "error": refused.to_dict()}
    outcome = job_outcome(job)
    properties = job.get("properties") or {}
    error = None
    if outcome in (JobOutcome.FAILED, JobOutcome.CANCELLED):
        error = error_from_failed_job(job, stage=stage).to_dict()
    return {
        "outcome": outcome.value,
        "state": properties.get("state"),
        "startTime": properties.get("startTime"),
        "endTime": properties.get("endTime"),
        "error": error,
    }
