"""The activity names, re-exported from their home, ``migration.function_names``.

Kept so modules that still spell ``activities.names.PUBLISH_EVENT`` work; new code imports
``migration.function_names``.
"""

from migration.function_names import CHECK_MACHINE as CHECK_MACHINE
from migration.function_names import POST_CALLBACK as POST_CALLBACK
from migration.function_names import PUBLISH_EVENT as PUBLISH_EVENT
from migration.function_names import READ_ASR_JOB as READ_ASR_JOB
from migration.function_names import READ_PROTECTED_ITEM as READ_PROTECTED_ITEM
from migration.function_names import START_ASR_STEP as START_ASR_STEP
from migration.function_names import START_CALLBACK_DELIVERY as START_CALLBACK_DELIVERY
from migration.function_names import STOP_STARTING as STOP_STARTING
from migration.function_names import TERMINATE_INSTANCES as TERMINATE_INSTANCES
