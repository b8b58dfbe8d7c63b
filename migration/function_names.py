"""The registered names of every orchestrator and activity, in the one place every layer can import.

A Durable call names its target by string (``call_activity("publish_event")``, ``start_new("migration_wave")``), so
a name spelled twice can drift and fail only at run time. The names live here, below every layer that calls them:
triggers start orchestrators, orchestrators call activities and sub-orchestrators, and an activity
(``start_callback_delivery``) starts an orchestrator; with the names in ``migration/`` none of them has to import a
layer above it. The module imports nothing, so orchestrators stay free of SDKs by importing it.
"""

from __future__ import annotations

__all__ = [
    "ACTIVITIES",
    "CHECK_MACHINE",
    "DELIVER_CALLBACK",
    "IDEMPOTENCY_RECORD",
    "MACHINE_CLAIM",
    "MACHINE_ROLLBACK",
    "MACHINE_RUNBOOK",
    "ORCHESTRATORS",
    "POST_CALLBACK",
    "PUBLISH_EVENT",
    "READ_ASR_JOB",
    "READ_PROTECTED_ITEM",
    "RELEASE_CLAIMS",
    "START_ASR_STEP",
    "START_CALLBACK_DELIVERY",
    "STOP_STARTING",
    "TERMINATE_INSTANCES",
    "WAIT_FOR_JOB",
    "WAIT_FOR_REPLICATION",
    "WAVE",
    "WAVE_BATCH",
]

# Orchestrators.
MACHINE_RUNBOOK = "machine_runbook"
WAIT_FOR_JOB = "wait_for_asr_job"
WAIT_FOR_REPLICATION = "wait_for_initial_replication"
MACHINE_ROLLBACK = "machine_rollback"
WAVE = "migration_wave"
WAVE_BATCH = "wave_batch"
DELIVER_CALLBACK = "deliver_callback"
MACHINE_CLAIM = "machine_claim"
IDEMPOTENCY_RECORD = "idempotency_record"

# Activities.
READ_PROTECTED_ITEM = "read_protected_item"
START_ASR_STEP = "start_asr_step"
READ_ASR_JOB = "read_asr_job"
CHECK_MACHINE = "check_machine"
TERMINATE_INSTANCES = "terminate_instances"
PUBLISH_EVENT = "publish_event"
START_CALLBACK_DELIVERY = "start_callback_delivery"
POST_CALLBACK = "post_callback"
RELEASE_CLAIMS = "release_claims"
STOP_STARTING = "stop_starting"

# Every name of each kind, for the check that the app registers all of them.
ORCHESTRATORS = frozenset(
    {
        MACHINE_RUNBOOK,
        WAIT_FOR_JOB,
        WAIT_FOR_REPLICATION,
        MACHINE_ROLLBACK,
        WAVE,
        WAVE_BATCH,
        DELIVER_CALLBACK,
        MACHINE_CLAIM,
        IDEMPOTENCY_RECORD,
    }
)
ACTIVITIES = frozenset(
    {
        READ_PROTECTED_ITEM,
        START_ASR_STEP,
        READ_ASR_JOB,
        CHECK_MACHINE,
        TERMINATE_INSTANCES,
        PUBLISH_EVENT,
        START_CALLBACK_DELIVERY,
        POST_CALLBACK,
        STOP_STARTING,
        RELEASE_CLAIMS,
    }
)
