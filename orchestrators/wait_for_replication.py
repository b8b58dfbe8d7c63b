"""Sub-orchestration: wait for a machine's initial replication, reading it as often as its ETA deserves.

Initial replication takes hours to days. Reading the item every 30 seconds, as at-scale scripts do, would cost
hundreds of ARM requests per machine; here successive readings give a rate, the rate an ETA, and the next read
comes after half the time left; until there is a rate, after twice the previous gap (``migration.progress``). A
stall (no movement for the plan's ``stallWarningAfter``, or ASR's own ``NoProgress``) is reported in the custom
status and the wait goes on, polling at the base interval to see it recover, until the plan's
``initialReplicationTimeout``.

A migration item (agentless VMware) may ask for a resynchronization (``resyncRequired``, or a failed seeding that
a resync restarts): the wait starts it as the step ``resync`` (``orchestrators.asr_step``, so a replayed or
repeated start adopts the running job instead of starting another), waits for its job, and goes on waiting with the
readings reset, since a resync's progress starts again from zero. After :data:`MAX_RESYNCS` the wait fails: a
source that keeps losing its changes needs a person.

Input :class:`migration.payloads.waits.ReplicationWaitInput`.
Output ``{"outcome": done|timedOut|failed, "polls", "percent", "eta", "stalled", "error"}``.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.errors import error_record
from migration.instance_ids import resync_wait_id
from migration.payloads.asr_steps import MachineRequest
from migration.payloads.waits import ReplicationWaitInput
from migration.plan_options import WaveOptions
from migration.progress import next_poll_delay, observe, start_progress
from migration.scenarios import ProtectedItemView
from migration.stages import Stage
from migration.steps import Step
from orchestrators import asr_step
from orchestrators.timing import activity_retry, scaled

name = names.WAIT_FOR_REPLICATION
bp = df.Blueprint()

READS_PER_GENERATION = 20
MAX_RESYNCS = 3
_STAGE = Stage.INITIAL_REPLICATION.value
_MAX_GAP_PLAN_SECONDS = 30 * 60
# The next read comes after half the time the ETA leaves (not a quarter): the ETA is a rate averaged since the
# first reading, steady enough that a quarter spent a dozen reads on the last two hours of a 6-hour replication.
_SHARE_OF_TIME_LEFT = 0.5


@bp.orchestration_trigger(context_name="context", orchestration=names.WAIT_FOR_REPLICATION)
def wait_for_initial_replication(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    request = ReplicationWaitInput.from_dict(context.get_input())
    scale = request.time_scale
    deadline = request.deadline
    base = scaled(request.poll_interval_seconds, scale)
    stall_after = scaled(request.stall_warning_after_seconds, scale)
    maximum = scaled(_MAX_GAP_PLAN_SECONDS, scale)
    polls = request.polls
    state = request.progress
    stalled = request.stalled
    resyncs = request.resyncs
    delay = timedelta(seconds=request.next_delay_seconds)

    for _ in range(READS_PER_GENERATION):
        if delay > timedelta(0):
            yield context.create_timer(min(context.current_utc_datetime + delay, deadline + timedelta(seconds=1)))
        read: dict[str, Any] = yield context.call_activity_with_retry(
            names.READ_PROTECTED_ITEM,
            activity_retry(scale),
            MachineRequest(request.machine, _STAGE).to_dict(),
        )
        polls += 1
        now = context.current_utc_datetime
        if "error" in read or not read.get("exists"):
            error = read.get("error") or error_record(
                _STAGE,
                "ItemDisappeared",
                "the replicated item no longer exists; replication was disabled outside this migration",
            )
            return {"outcome": "failed", "polls": polls, "error": error}
        view = ProtectedItemView.from_dict(read["view"])
        if view.needs_resync and not view.initial_replication_done:
            if resyncs >= MAX_RESYNCS:
                message = f"Site Recovery asked for a resynchronization again after {resyncs} of them"
                return {
                    "outcome": "failed",
                    "polls": polls,
                    "error": error_record(_STAGE, "ResyncKeptFailing", message),
                }
            context.set_custom_status({"stage": _STAGE, "resyncing": True, "resyncs": resyncs + 1, "polls": polls})
            resynced = yield from asr_step.run_step(
                context,
                machine=request.machine,
                options=request.options,
                step=Step.RESYNC,
                stage=_STAGE,
                time_scale=scale,
                timeout=WaveOptions.model_validate(request.options).job_timeout,
                instance_id=resync_wait_id(context.instance_id, resyncs),
            )
            resyncs += 1
            if not resynced.ok:
                return {"outcome": "failed", "polls": polls, "error": resynced.error}
            state, delay = None, base
            continue
        if state is None:
            state = start_progress(view, now)
        state, report = observe(state, view, now, stall_after=stall_after)
        if report.done:
            return {"outcome": "done", "polls": polls, "percent": 100, "stalled": stalled}
        stalled = report.stalled
        context.set_custom_status(
            {
                "stage": _STAGE,
                "progressPercent": report.percent,
                "eta": report.eta.isoformat() if report.eta else None,
                "stalled": report.stalled,
                "unchangedForSeconds": int(report.unchanged_for.total_seconds() * scale),
                "polls": polls,
                "resyncs": resyncs,
                "paused": view.paused,
                "updatedAt": now.isoformat(),
            }
        )
        if now >= deadline:
            return {
                "outcome": "timedOut",
                "polls": polls,
                "percent": report.percent,
                "stalled": stalled,
                "error": error_record(
                    _STAGE,
                    "InitialReplicationTimedOut",
                    f"initial replication was at {report.percent}% when the plan's initialReplicationTimeout ran out",
                ),
            }
        delay = next_poll_delay(
            report, now, base=base, maximum=maximum, previous=delay or None, share_of_time_left=_SHARE_OF_TIME_LEFT
        )

    carried = replace(
        request,
        polls=polls,
        stalled=stalled,
        progress=state,
        next_delay_seconds=delay.total_seconds(),
        resyncs=resyncs,
    )
    context.continue_as_new(carried.to_dict())
    return {}
