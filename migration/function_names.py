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
    "CALL_HOOK",
    "CHECK_MACHINE",
    "CHECK_TARGET_FIT",
    "DELIVER_CALLBACK",
    "HOOK_RUN_COMMAND",
    "IDEMPOTENCY_RECORD",
    "MACHINE_CLAIM",
    "MACHINE_ROLLBACK",
    "MACHINE_RUNBOOK",
    "ORCHESTRATORS",
    "POST_CALLBACK",
    "PUBLISH_EVENT",
    "READ_ASR_JOB",
    "READ_PROTECTED_ITEM",
    "READ_RUN_COMMAND",
    "READ_VM",
    "RELEASE_CLAIMS",
    "START_ASR_STEP",
    "START_CALLBACK_DELIVERY",
    "START_RUN_COMMAND",
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
HOOK_RUN_COMMAND = "hook_run_command"

# Activities.
READ_PROTECTED_ITEM = "read_protected_item"
START_ASR_STEP = "start_asr_step"
READ_ASR_JOB = "read_asr_job"
CHECK_MACHINE = "check_machine"
CHECK_TARGET_FIT = "check_target_fit"
TERMINATE_INSTANCES = "terminate_instances"
PUBLISH_EVENT = "publish_event"
START_CALLBACK_DELIVERY = "start_callback_delivery"
POST_CALLBACK = "post_callback"
RELEASE_CLAIMS = "release_claims"
STOP_STARTING = "stop_starting"
CALL_HOOK = "call_hook"
READ_VM = "read_vm"
START_RUN_COMMAND = "start_run_command"
READ_RUN_COMMAND = "read_run_command"

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
        HOOK_RUN_COMMAND,
    }
)
ACTIVITIES = frozenset(
    {
        READ_PROTECTED_ITEM,
        START_ASR_STEP,
        READ_ASR_JOB,
        CHECK_MACHINE,
        CHECK_TARGET_FIT,
        TERMINATE_INSTANCES,
        PUBLISH_EVENT,
        START_CALLBACK_DELIVERY,
        POST_CALLBACK,
        STOP_STARTING,
        RELEASE_CLAIMS,
        CALL_HOOK,
        READ_VM,
        START_RUN_COMMAND,
        READ_RUN_COMMAND,
    }
)
