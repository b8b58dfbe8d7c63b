"""The orchestrator names, re-exported from their home, ``migration.function_names``.

Kept so modules that still spell ``orchestrators.names.WAVE`` work; new code imports ``migration.function_names``.
"""

from migration.function_names import (
    DELIVER_CALLBACK,
    MACHINE_ROLLBACK,
    MACHINE_RUNBOOK,
    WAIT_FOR_JOB,
    WAIT_FOR_REPLICATION,
    WAVE,
    WAVE_BATCH,
)

__all__ = [
    "DELIVER_CALLBACK",
    "MACHINE_ROLLBACK",
    "MACHINE_RUNBOOK",
    "WAIT_FOR_JOB",
    "WAIT_FOR_REPLICATION",
    "WAVE",
    "WAVE_BATCH",
]
