"""Names of the orchestrators, in one place, so callers never spell them twice."""

MACHINE_RUNBOOK = "machine_runbook"
WAIT_FOR_JOB = "wait_for_asr_job"
WAIT_FOR_REPLICATION = "wait_for_initial_replication"
MACHINE_ROLLBACK = "machine_rollback"
WAVE = "migration_wave"
WAVE_BATCH = "wave_batch"
DELIVER_CALLBACK = "deliver_callback"
