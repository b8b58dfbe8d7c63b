"""Orchestration: run one batch of a wave's machines, at most ``cap`` at a time.

A wave of 1,000 machines fans out in two levels (wave → batches → machines) so that no single history holds
thousands of events: this level keeps a pool of at most ``cap`` machine orchestrations running and starts the next
as soon as one ends. The wave gives each running batch its share of the plan's ``maxParallel``, so the caps add up
to no more than the plan allows.

The Durable extension replays an out-of-process orchestrator's actions one after the other and issues action
*k+1* only once action *k* has resolved. A ``task_any`` over machines already running plus one just started is
sent as a WhenAny of the *new* child alone, so every later start would wait for that child to end and the pool
would shrink to one after the first fan-out. Each refill therefore adds a timer due at once to its ``task_any``
(``orchestrators.timing.kick``): the action resolves on the next episode and later starts go out as soon as a
slot frees.

A cutover batch listens for the wave's ``stop`` event (``migration.commands.STOP_EVENT``), which a cancel sends:
from then on it starts no further machine, lets the running ones finish (a failover cannot be undone) and hands
back the machines it never started, for the wave to roll back. The wait for it is part of every wait of the batch,
so an early stop is never missed.

Input :class:`migration.payloads.runbook.BatchInput` (phase prepare, cutover or rollback; one
:class:`~migration.payloads.runbook.BatchEntry` per machine). Output :class:`migration.payloads.runbook.BatchOutput`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.commands import STOP_EVENT
from migration.errors import error_record
from migration.instance_ids import machine_id, rollback_id
from migration.json_types import Json
from migration.payloads.runbook import BatchEntry, BatchInput, BatchOutput, RollbackInput, RunbookInput, failed_record
from migration.stages import Stage
from migration.status_bounds import first_names
from orchestrators.timing import kick

name = names.WAVE_BATCH
bp = df.Blueprint()


def _child(request: BatchInput, entry: BatchEntry) -> tuple[str, str, Json]:
    """The orchestration, instance id and input that move one machine through this batch's phase."""
    migration, phase, attempt = request.migration_id, request.phase, entry.attempt
    if phase == "rollback":
        rollback = RollbackInput(migration, entry.machine, request.options, request.time_scale, attempt)
        return names.MACHINE_ROLLBACK, rollback_id(migration, entry.name, attempt), rollback.to_dict()
    prepare = phase == "prepare"
    runbook = RunbookInput(
        migration,
        entry.machine,
        request.options,
        request.time_scale,
        attempt,
        record=entry.record,
        from_stage=entry.from_stage or (Stage.VALIDATE if prepare else Stage.CUTOVER_GATE).value,
        stop_at=Stage.CUTOVER_GATE.value if prepare else None,
    )
    return names.MACHINE_RUNBOOK, machine_id(migration, entry.name, phase, attempt), runbook.to_dict()


@bp.orchestration_trigger(context_name="context", orchestration=names.WAVE_BATCH)
def wave_batch(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Json]:
    request = BatchInput.from_dict(context.get_input())
    cap = max(1, request.cap)
    pending = list(request.machines)
    running: dict[Any, str] = {}  # task → machine name (tasks are the same objects across one replay)
    results: dict[str, Json] = {}
    stop = context.wait_for_external_event(STOP_EVENT) if request.phase == "cutover" else None

    not_started: list[str] = []
    first = True
    while pending or running:
        refilled = False
        while pending and len(running) < cap:
            entry = pending.pop(0)
            orchestrator, instance, payload = _child(request, entry)
            running[context.call_sub_orchestrator(orchestrator, payload, instance)] = entry.name
            refilled = True
        names = sorted(running.values())
        context.set_custom_status(
            {"phase": request.phase, "runningCount": len(names), "running": first_names(names), "done": len(results)}
        )
        timer = kick(context) if refilled and not first else None
        first = False
        extra = [task for task in (stop, timer) if task is not None]
        winner = yield context.task_any([*running, *extra])
        if winner is timer:
            continue
        if winner is stop:
            stop = None
            not_started = [entry.name for entry in pending]
            pending.clear()
            continue
        machine = running.pop(winner)
        value = winner.result
        if isinstance(value, Exception):
            # The machine's orchestration itself failed (not its migration): report it, never lose it.
            value = failed_record(machine, error_record(request.phase, "OrchestrationFailed", str(value)[:500]))
        results[machine] = value
    return BatchOutput(results, tuple(not_started)).to_dict()
