"""Orchestration: the durable record of an ``Idempotency-Key``'s first use; it holds its input and ends at once.

The HTTP routes read it (its id names the key: ``migration.instance_ids.idempotency_id``) before acting on a keyed
request, and start it after acting; an ended instance keeps its input until the task hub is purged.

Input and output :class:`migration.payloads.idempotency.KeyRecord`.
"""

from __future__ import annotations

import azure.durable_functions as df

from migration import function_names as names
from migration.json_types import Json
from migration.payloads.idempotency import KeyRecord

name = names.IDEMPOTENCY_RECORD
bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration=names.IDEMPOTENCY_RECORD)
def idempotency_record(context: df.DurableOrchestrationContext) -> Json:
    """No yield: the SDK completes a plain function's orchestration with its return value in one episode."""
    return KeyRecord.from_dict(context.get_input()).to_dict()
