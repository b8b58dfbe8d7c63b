"""Activity: stop a cancelled wave's batches and machine runbooks, and every wait those runbooks started.

A runbook left running after a cancel would go on changing Site Recovery (it could even enable replication again
after the rollback removed it), and a wait left running goes on reading ASR and holding a job the rollback is
about to change, so the wave stops them all first. The given instances (batches, then runbooks) are terminated
first, so that none starts another child meanwhile; then every instance of those machines still running is found
by its id prefix (``migration.instance_ids.machine_prefix``) through the Durable client's instance query (the
management API's ``instanceIdPrefix`` and ``runtimeStatus`` filters), whatever its id ends with: waits of any stage,
attempt, make-safe or round, and runbooks of earlier attempts. Rollbacks are left alone: they are what comes next.

Terminating is asynchronous (the instance ends on its next episode), so each round waits until what it
terminated has ended before it looks again; a child whose creation was in flight shows up in the next round.
Terminating an instance that has already ended is not an error: it is simply skipped.

Input :class:`migration.payloads.instances.InstancesRequest` (its ``attempts`` is not needed).
Output ``{"terminated": [...]}``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from migration import function_names as names
from migration.instance_ids import InstanceId, Kind, machine_prefix, parse
from migration.payloads.instances import InstancesRequest
from migration.runtime_status import ACTIVE

name = names.TERMINATE_INSTANCES
bp = df.Blueprint()

# The query filter takes the SDK's enum; which statuses are alive is migration.runtime_status's to say.
_ACTIVE = [OrchestrationRuntimeStatus(status) for status in ACTIVE]
# Rounds of "find what still runs, terminate it": the first finds the waits, a second what was being created.
_ROUNDS = 5
# How long one round waits for its terminations to take effect before it looks again (wall seconds).
_SETTLE_SECONDS = 30.0
_POLL_SECONDS = 0.2


def _stopped_by_cancel(instance: InstanceId, machine: InstanceId) -> bool:
    """A runbook of ``machine``'s or one of its waits; never a rollback or a rollback's wait."""
    owner = instance.owner if instance.kind is Kind.WAIT else instance
    return (
        owner is not None
        and owner.kind is Kind.RUNBOOK
        and (instance.migration_id, instance.machine) == (machine.migration_id, machine.machine)
    )


def _runtime(status: Any) -> str | None:
    if not status:
        return None
    return str(getattr(status.runtime_status, "value", status.runtime_status))


async def terminate_and_settle(
    client: df.DurableOrchestrationClient, instance_ids: list[str], reason: str
) -> list[str]:
    """Terminate those of ``instance_ids`` still active, in order; wait until they have ended (or time is up).

    Also what a submission uses to take over a stale machine claim (``triggers.machine_claiming``)."""
    terminated: list[str] = []
    for instance_id in instance_ids:
        if _runtime(await client.get_status(instance_id)) in ACTIVE:
            await client.terminate(instance_id, reason)
            terminated.append(instance_id)
    deadline = time.monotonic() + _SETTLE_SECONDS
    pending = list(terminated)
    while pending and time.monotonic() < deadline:
        pending = [i for i in pending if _runtime(await client.get_status(i)) in ACTIVE]
        if pending:
            await asyncio.sleep(_POLL_SECONDS)
    return terminated


async def _still_running(client: df.DurableOrchestrationClient, machines: list[InstanceId]) -> list[str]:
    found: list[str] = []
    for machine in machines:
        prefix = machine_prefix(str(machine.migration_id), str(machine.machine))
        for status in await client.get_status_by(instance_id_prefix=prefix, runtime_status=_ACTIVE):
            if _stopped_by_cancel(parse(status.instance_id), machine) and status.instance_id not in found:
                found.append(status.instance_id)
    return found


@bp.activity_trigger(input_name="request", activity=names.TERMINATE_INSTANCES)
@bp.durable_client_input(client_name="client")
async def terminate_instances(request: dict[str, Any], client: df.DurableOrchestrationClient) -> dict[str, Any]:
    asked = InstancesRequest.from_dict(request)
    reason = asked.reason
    given = list(asked.instance_ids)
    runbooks = [parsed for parsed in map(parse, given) if parsed.kind is Kind.RUNBOOK]
    machines = list({(r.migration_id, r.machine): r for r in runbooks}.values())
    terminated = await terminate_and_settle(client, given, reason)
    for _ in range(_ROUNDS):
        running = await _still_running(client, machines)
        if not running:
            break
        terminated += [i for i in await terminate_and_settle(client, running, reason) if i not in terminated]
    return {"terminated": terminated}
