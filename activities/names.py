"""Names of the activities, importable without the SDKs the activities use (orchestrators import only this)."""

READ_PROTECTED_ITEM = "read_protected_item"
START_ASR_STEP = "start_asr_step"
READ_ASR_JOB = "read_asr_job"
CHECK_MACHINE = "check_machine"
TERMINATE_INSTANCES = "terminate_instances"
PUBLISH_EVENT = "publish_event"
