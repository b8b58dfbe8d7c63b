"""The activity names, re-exported from their home, ``migration.function_names``.

Kept so modules that still spell ``activities.names.PUBLISH_EVENT`` work; new code imports
``migration.function_names``.
"""

from migration.function_names import (
    CHECK_MACHINE,
    POST_CALLBACK,
    PUBLISH_EVENT,
    READ_ASR_JOB,
    READ_PROTECTED_ITEM,
    START_ASR_STEP,
    START_CALLBACK_DELIVERY,
    TERMINATE_INSTANCES,
)

__all__ = [
    "CHECK_MACHINE",
    "POST_CALLBACK",
    "PUBLISH_EVENT",
    "READ_ASR_JOB",
    "READ_PROTECTED_ITEM",
    "START_ASR_STEP",
    "START_CALLBACK_DELIVERY",
    "TERMINATE_INSTANCES",
]
