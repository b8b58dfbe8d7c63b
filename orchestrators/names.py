"""The orchestrator names, re-exported from their home, ``migration.function_names``.

Kept so modules that still spell ``orchestrators.names.WAVE`` work; new code imports ``migration.function_names``.
"""

from migration.function_names import DELIVER_CALLBACK as DELIVER_CALLBACK
from migration.function_names import MACHINE_ROLLBACK as MACHINE_ROLLBACK
from migration.function_names import MACHINE_RUNBOOK as MACHINE_RUNBOOK
from migration.function_names import WAIT_FOR_JOB as WAIT_FOR_JOB
from migration.function_names import WAIT_FOR_REPLICATION as WAIT_FOR_REPLICATION
from migration.function_names import WAVE as WAVE
from migration.function_names import WAVE_BATCH as WAVE_BATCH
