"""Orchestration code: run one list of a group's hooks (``migration.hook_options``) for the wave, in order.

The wave runs a list when its gate says so (``migration.wave_state.RunHooks``) and hands over its own waits
(:class:`HookWaits`): every task here is awaited through the wave's wait, which listens for the ``control`` event
too, so a command that comes while a hook runs is applied at once (``orchestrators.wave`` explains why every wait
must), and a cancel stops the list before its next call. Hooks run one after the other and stop at the first that
fails; those after it are reported as skipped.

- **http**: each call is one ``call_hook`` activity, asked without a retry policy (a retried activity inside the
  wave's wait cannot be replayed safely, ``orchestrators.wave``); the hook's own ``retries`` are further calls after
  a durable timer of ``retryDelay``, never a sleep in an activity. The body is the ``migration.group.hook``
  CloudEvent, built once per run of the list: every call of a run sends the same id and time, so a receiver can drop
  a repeated call, and a ``retry`` command's run sends a new one.
- **runCommand**: the script runs on each named machine's migrated VM in the ``hook_run_command`` sub-orchestration
  (below), all machines at once; it reads the VM (where it runs, whether it exists) and runs the script as a managed
  Run Command through ``orchestrators.vm_checks.run_script``, polled on durable timers. A machine that did not
  migrate fails the hook without a call.

Each hook's result: ``{"name", "type", "outcome": passed|failed|skipped, "attempts", "detail", "startedAt",
"endedAt", "durationSeconds"}`` with, for http, ``host`` (never the URL), ``httpStatus`` and ``excerpt``, and for
runCommand ``machines`` [{``machine``, ``outcome``, ``exitCode``, ``detail``}] and ``excerpt`` (the end of the first
failed output). Durations are the orchestration's clock.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from typing import Any, Protocol

import azure.durable_functions as df

from migration import function_names as names
from migration.events import EventType, build_event
from migration.hook_options import HookPhase, HttpHook, RunCommandHook
from migration.json_types import Json
from migration.payloads.hooks import HookAnswer, HookCommandInput, HookCommandOutput, HookPost
from migration.payloads.vm_checks import VmRead
from migration.plan import Plan
from migration.stages import Stage
from migration.status_bounds import clipped, clipped_tail
from migration.wave_state import HookRun
from orchestrators import asr_step
from orchestrators.timing import scaled
from orchestrators.vm_checks import run_command_name, run_script

__all__ = ["HookWaits", "hook_event", "hook_run_command", "run_hooks"]

name = names.HOOK_RUN_COMMAND
bp = df.Blueprint()

Wait = Generator[Any, Any, Any]
# What a hook's result keeps of an answer or an output (the activity clips its excerpt already).
_EXCERPT = 300
# Where the errors of a hook's Site Recovery and Compute calls are recorded.
_STAGE: dict[HookPhase, str] = {"beforeCutover": Stage.CUTOVER_GATE.value, "afterCutover": Stage.MIGRATED.value}


class HookWaits(Protocol):
    """The wave's waits, which apply control events while they wait."""

    def result_of(self, task: Any) -> Wait:
        """``task``'s result (an Exception when it failed)."""
        ...

    def sleep_until(self, moment: datetime) -> Wait:
        """Wait until ``moment``, or less once :meth:`stopping`."""
        ...

    def stopping(self) -> bool:
        """Whether the wave is being cancelled: no further call starts."""
        ...


def hook_event(context: df.DurableOrchestrationContext, plan: Plan, run: HookRun, hook: HttpHook) -> Json:
    """The ``migration.group.hook`` CloudEvent of one run of ``hook``: its id names the wave, group, phase, hook and
    run, and its time is the run's start, so every call of the run sends the same document."""
    key = f"{context.instance_id}/hook/{run.group}/{run.phase}/{hook.name}/{run.attempt}"
    data = {
        "group": run.group_name,
        "machines": list(run.machines),
        "phase": run.phase,
        "hook": hook.name,
        "attempt": run.attempt,
    }
    message = build_event(
        EventType.GROUP_HOOK, event_key=key, time=run.started_at, migration_id=plan.id, data=data, status=run.phase
    )
    return message.event


def _now(context: df.DurableOrchestrationContext) -> datetime:
    now: datetime = context.current_utc_datetime
    return now


def _first_line(failure: Exception) -> str:
    text = str(failure).strip()
    return text.splitlines()[0][:300] if text else type(failure).__name__


def _timing(started: datetime, ended: datetime) -> Json:
    return {
        "startedAt": started.isoformat(),
        "endedAt": ended.isoformat(),
        "durationSeconds": round(max(0.0, (ended - started).total_seconds()), 3),
    }


def _http(
    context: df.DurableOrchestrationContext, plan: Plan, run: HookRun, hook: HttpHook, waits: HookWaits, scale: float
) -> Wait:
    """Call an http hook until it passes, says calling again will not help, runs out of retries or the wave stops."""
    started = _now(context)
    post = HookPost(
        hook.model_dump(by_alias=True, mode="json", exclude_none=True), hook_event(context, plan, run, hook)
    )
    attempts = 0
    while True:
        attempts += 1
        result = yield from waits.result_of(context.call_activity(names.CALL_HOOK, post.to_dict()))
        if isinstance(result, Exception):
            answer = HookAnswer("failed", retry=True, detail=f"call_hook failed: {_first_line(result)}")
        else:
            answer = HookAnswer.from_dict(result)
        if answer.outcome == "passed" or not answer.retry or attempts > hook.retries or waits.stopping():
            break
        yield from waits.sleep_until(_now(context) + scaled(hook.retry_delay.total_seconds(), scale))
        if waits.stopping():
            break
    detail = answer.detail or answer.outcome
    if answer.outcome != "passed" and attempts > 1:
        detail = f"{detail} (after {attempts} calls)"
    return {
        "name": hook.name,
        "type": "http",
        "outcome": "passed" if answer.outcome == "passed" else "failed",
        "attempts": attempts,
        "host": answer.host or None,
        "httpStatus": answer.status,
        "excerpt": clipped(answer.excerpt, _EXCERPT) or None,
        "detail": detail,
        **_timing(started, _now(context)),
    }


def _run_command(
    context: df.DurableOrchestrationContext,
    plan: Plan,
    run: HookRun,
    hook: RunCommandHook,
    waits: HookWaits,
    scale: float,
) -> Wait:
    """Run the script on every named machine's migrated VM at once; it passes when it passed on all of them."""
    started = _now(context)
    script = hook.model_dump(by_alias=True, mode="json", exclude_none=True)
    tag = f"g{run.group}-{'before' if run.phase == 'beforeCutover' else 'after'}"
    outputs: dict[str, HookCommandOutput] = {}
    tasks: dict[str, Any] = {}
    for named in hook.machines:
        machine = plan.machine(named)
        if machine.name not in run.migrated:
            outputs[machine.name] = HookCommandOutput(machine.name, "failed", "the machine has not migrated")
            continue
        run_name = run_command_name(tag, hook.name, run.attempt)
        asked = HookCommandInput(machine.name, machine.target_vm_id, script, run_name, _STAGE[run.phase], scale)
        tasks[machine.name] = context.call_sub_orchestrator(names.HOOK_RUN_COMMAND, asked.to_dict())
    if tasks:
        yield from waits.result_of(context.task_all(list(tasks.values())))
        for task in tasks.values():  # a fan-out fails at its first failure: let the others finish too
            if not task.is_completed:
                yield from waits.result_of(task)
    for machine_name, task in tasks.items():
        value = task.result
        if isinstance(value, Exception):
            detail = f"the run command's orchestration failed: {_first_line(value)}"
            outputs[machine_name] = HookCommandOutput(machine_name, "failed", detail)
        else:
            outputs[machine_name] = HookCommandOutput.from_dict(value)
    ordered = [outputs[plan.machine(named).name] for named in hook.machines]
    failed = [output for output in ordered if output.outcome != "passed"]
    if failed:
        detail = f"failed on {', '.join(o.machine for o in failed)}: {failed[0].detail}"
    else:
        detail = f"passed on {', '.join(o.machine for o in ordered)}"
    shown = (failed or ordered)[0].output
    return {
        "name": hook.name,
        "type": "runCommand",
        "outcome": "failed" if failed else "passed",
        "attempts": 1,
        "machines": [
            {
                "machine": o.machine,
                "outcome": o.outcome,
                "exitCode": o.exit_code,
                "detail": clipped(o.detail or o.outcome),
            }
            for o in ordered
        ],
        "excerpt": clipped_tail(shown, _EXCERPT) or None,
        "detail": clipped(detail, 1000),
        **_timing(started, _now(context)),
    }


def run_hooks(
    context: df.DurableOrchestrationContext, plan: Plan, run: HookRun, waits: HookWaits, *, time_scale: float
) -> Generator[Any, Any, list[Json]]:
    """Every hook of ``run`` in order, until one fails or the wave stops; one result per hook, skipped ones too."""
    results: list[Json] = []
    why_skipped: str | None = None
    for hook in run.hooks:
        if why_skipped is None and waits.stopping():
            why_skipped = "the wave is being cancelled"
        if why_skipped is not None:
            results.append({"name": hook.name, "type": hook.type, "outcome": "skipped", "detail": why_skipped})
            continue
        if isinstance(hook, HttpHook):
            result = yield from _http(context, plan, run, hook, waits, time_scale)
        else:
            result = yield from _run_command(context, plan, run, hook, waits, time_scale)
        results.append(result)
        if result["outcome"] == "failed":
            why_skipped = f"hook {hook.name!r} failed before it"
    return results


# -- the sub-orchestration: one runCommand hook on one machine ------------------------------------------------------


@bp.orchestration_trigger(context_name="context", orchestration=names.HOOK_RUN_COMMAND)
def hook_run_command(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Json]:
    """Read the migrated VM, then run the hook's script on it and judge it as a check's script is judged."""
    asked = HookCommandInput.from_dict(context.get_input())
    hook = RunCommandHook.model_validate(asked.script)
    read = yield from asr_step.call(
        context, names.READ_VM, VmRead(asked.vm_id, asked.stage).to_dict(), asked.stage, asked.time_scale
    )
    if "error" in read:
        message = str(read["error"].get("message") or "the VM could not be read")
        return HookCommandOutput(asked.machine, "failed", clipped(message, 1000)).to_dict()
    if not read.get("exists"):
        return HookCommandOutput(asked.machine, "failed", "the migrated VM does not exist").to_dict()
    os_type = str(read.get("osType") or "").lower()
    if hook.os != "any" and os_type and hook.os != os_type:
        detail = f"the script is for {hook.os} and the VM runs {os_type}"
        return HookCommandOutput(asked.machine, "failed", detail).to_dict()
    result = yield from run_script(
        context,
        vm_id=asked.vm_id,
        location=str(read.get("location") or ""),
        script=hook,
        run_name=asked.run_name,
        stage=asked.stage,
        time_scale=asked.time_scale,
    )
    exit_code = result.get("exitCode")
    output = str(result.get("errorOutput") or "") if result.get("outcome") != "passed" else ""
    output = output or str(result.get("output") or "")
    return HookCommandOutput(
        asked.machine,
        "passed" if result.get("outcome") == "passed" else "failed",
        clipped(str(result.get("detail") or ""), 1000),
        exit_code if isinstance(exit_code, int) else None,
        clipped_tail(output, _EXCERPT),
    ).to_dict()
