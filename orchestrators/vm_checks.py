"""Orchestration code: check one VM as the plan asks (``migration.check_options``), on durable timers.

The runbook calls :func:`run_checks` on the test VM before its cleanup and on the migrated VM after the failover;
group hooks call :func:`run_script` for a Run Command on a migrated VM. Nothing here waits in a worker: each read is
one activity, and the gaps between reads are durable timers, so a VM that takes twenty minutes to boot or a script
that runs for ten costs a few reads, not a blocked thread.

1. **Boot**: the VM is read (one GET with its instance view, and one per NIC for its network) until it runs with its
   agent ready, or until the set's ``bootTimeout``; a VM that does not exist fails at once (its job said it was
   made), a boot diagnostics error too. Then its NICs must be in the expected network.
2. **Scripts**, in plan order, each as a managed Run Command named after the phase, script and attempt (so a replay
   or a retried activity adopts the command already running instead of running the script twice); a script meant
   for the other OS is skipped. A script passes when it ends in time with the expected exit code and, if asked,
   output matching the pattern.

The report is bounded by construction: at most three boot checks and ``MAX_CHECK_SCRIPTS`` scripts, each with an
excerpt of its output (``migration.compute.OUTPUT_EXCERPT`` when it failed, less when it passed).
"""

from __future__ import annotations

import re
from collections.abc import Generator
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from migration import function_names as names
from migration.check_options import CheckPhase, CheckScript, CheckSet
from migration.json_types import Json
from migration.payloads.vm_checks import RunCommandRead, RunCommandStart, VmRead
from migration.plan_types import format_duration
from migration.status_bounds import clipped_tail
from orchestrators import asr_step
from orchestrators.timing import next_job_poll, scaled

__all__ = ["failure_summary", "run_checks", "run_command_name", "run_script"]

Steps = Generator[Any, Any, Json]

# A script is read first after this many plan-seconds, then at growing gaps (orchestrators.timing.next_job_poll): the
# Run Command extension takes tens of seconds to start even a one-line script, so a sooner read only costs a request.
_FIRST_SCRIPT_READ = 60.0
# How long past its own timeout a script may still report before the check gives up on it: Run Command ends a script
# at its timeoutInSeconds (TimedOut); the margin covers the agent's reporting.
_SCRIPT_GRACE_SECONDS = 120.0
# Output kept of a script that passed (a failed one keeps migration.compute.OUTPUT_EXCERPT).
_PASSED_OUTPUT = 120
_PHASE_TAG: dict[CheckPhase, str] = {"testVm": "test", "migratedVm": "migrated"}


def run_command_name(tag: str, script: str, attempt: int) -> str:
    """The run command's resource name: one per use (``test``, ``migrated``, a hook's phase), script and attempt."""
    return f"mig-{tag}-{script}-a{attempt}"


def _result(name: str, kind: str, outcome: str, detail: str, **extra: Any) -> Json:
    return {"name": name, "kind": kind, "outcome": outcome, "detail": detail, **extra}


def _now(context: df.DurableOrchestrationContext) -> datetime:
    now: datetime = context.current_utc_datetime
    return now


def _sleep(context: df.DurableOrchestrationContext, plan_seconds: float, until: datetime, time_scale: float) -> Any:
    """A timer for ``plan_seconds`` (wall-scaled), never past ``until``."""
    due = min(_now(context) + scaled(plan_seconds, time_scale), until)
    return context.create_timer(max(due, _now(context) + scaled(0, time_scale)))


def _boot_checks(
    context: df.DurableOrchestrationContext,
    *,
    vm_id: str,
    checks: CheckSet,
    expected_network: str | None,
    stage: str,
    time_scale: float,
    poll_seconds: float,
) -> Generator[Any, Any, tuple[list[Json], Json | None]]:
    """Read the VM until it runs with its agent ready (as far as ``checks`` asks); the results and the last read."""
    deadline = _now(context) + scaled(checks.boot_timeout.total_seconds(), time_scale)
    reads = 0
    network = checks.network and expected_network is not None
    asked = VmRead(vm_id, stage, network).to_dict()
    while True:
        read = yield from asr_step.call(context, names.READ_VM, asked, stage, time_scale)
        reads += 1
        if "error" in read:
            message = str(read["error"].get("message") or "the VM could not be read")
            return [_result("running", "boot", "failed", message)], None
        if not read.get("exists"):
            return [_result("running", "boot", "failed", "the VM does not exist")], None
        results: list[Json] = []
        power = read.get("powerState")
        running = power == "running"
        agent = read.get("agent")
        agent_ready = agent == "Ready"
        boot_error = read.get("bootDiagnosticsError")
        if checks.boot_diagnostics and boot_error:
            results.append(_result("bootDiagnostics", "boot", "failed", str(boot_error)))
            return results, read
        waiting = (checks.running and not running) or ((checks.agent_ready or checks.scripts) and not agent_ready)
        timed_out = _now(context) >= deadline
        if waiting and not timed_out:
            yield _sleep(context, poll_seconds, deadline, time_scale)
            continue
        after = f"after {format_duration(checks.boot_timeout)} ({reads} reads)"
        if checks.running:
            detail = f"power state {power}" if running else f"power state {power or 'unknown'} {after}"
            results.append(_result("running", "boot", "passed" if running else "failed", detail))
        if checks.agent_ready or checks.scripts:
            message = read.get("agentMessage") or ""
            detail = f"VM agent {agent}" if agent_ready else f"VM agent {agent or 'not reporting'} {after}: {message}"
            results.append(_result("agentReady", "boot", "passed" if agent_ready else "failed", detail.strip(": ")))
        if checks.boot_diagnostics:
            results.append(_result("bootDiagnostics", "boot", "passed", "no boot failure reported"))
        if network and expected_network is not None:
            results.append(_network_result(read.get("networks") or [], expected_network))
        return results, read


def _network_result(networks: list[str], expected: str) -> Json:
    """Every NIC in the expected network, or which network it is in instead (by name: ids are long)."""
    others = [n for n in networks if n.lower() != expected.lower()]
    want = expected.rsplit("/", 1)[-1]
    if not networks:
        return _result("network", "boot", "failed", f"no network interface in a subnet (expected {want})")
    if others:
        found = ", ".join(n.rsplit("/", 1)[-1] for n in others)
        return _result("network", "boot", "failed", f"a network interface is in {found}, not {want}")
    return _result("network", "boot", "passed", f"in {want}")


def _judge(script: CheckScript, read: Json) -> Json:
    """A finished run command against what the script expects."""
    state = str(read.get("executionState"))
    exit_code = read.get("exitCode")
    output, error = str(read.get("output") or ""), str(read.get("errorOutput") or "")
    extra = {"exitCode": exit_code, "executionState": state}
    if state == "TimedOut":
        detail = f"timed out after {format_duration(script.timeout)}"
        return _result(script.name, "script", "failed", detail, output=output, errorOutput=error, **extra)
    if state == "Canceled":
        return _result(script.name, "script", "failed", "the run command was cancelled", output=output, **extra)
    if exit_code != script.expect_exit_code:
        detail = f"exit code {exit_code}, expected {script.expect_exit_code}"
        return _result(script.name, "script", "failed", detail, output=output, errorOutput=error, **extra)
    if script.expect_output is not None and re.search(script.expect_output, read.get("output") or "") is None:
        detail = f"output does not match {script.expect_output!r}"
        return _result(script.name, "script", "failed", detail, output=output, errorOutput=error, **extra)
    kept = clipped_tail(output, _PASSED_OUTPUT)
    return _result(script.name, "script", "passed", f"exit code {exit_code}", output=kept, **extra)


def run_script(
    context: df.DurableOrchestrationContext,
    *,
    vm_id: str,
    location: str,
    script: CheckScript,
    run_name: str,
    stage: str,
    time_scale: float,
) -> Steps:
    """Run ``script`` on the VM as the run command ``run_name`` and judge it: ``{"name", "kind": "script",
    "outcome": passed|failed, "detail", "exitCode", "executionState", "output", "errorOutput"}``."""
    start = RunCommandStart(
        vm_id=vm_id,
        location=location,
        name=run_name,
        script=script.script,
        script_uri=script.script_uri,
        parameters=[(p.name, p.value) for p in script.parameters],
        timeout_seconds=int(script.timeout.total_seconds()),
        stage=stage,
    )
    read = yield from asr_step.call(context, names.START_RUN_COMMAND, start.to_dict(), stage, time_scale)
    if "error" in read:
        return _result(script.name, "script", "failed", str(read["error"].get("message") or "not started"))
    allowed = script.timeout.total_seconds() + _SCRIPT_GRACE_SECONDS
    deadline = _now(context) + scaled(allowed, time_scale)
    gap = _FIRST_SCRIPT_READ
    asked = RunCommandRead(vm_id, run_name, stage).to_dict()
    while not read.get("finished"):
        if _now(context) >= deadline:
            detail = f"still {read.get('executionState') or 'running'} {format_duration(script.timeout)} after start"
            return _result(script.name, "script", "failed", detail, executionState=read.get("executionState"))
        yield _sleep(context, gap, deadline, time_scale)
        gap = next_job_poll(gap, None, time_scale)
        read = yield from asr_step.call(context, names.READ_RUN_COMMAND, asked, stage, time_scale)
        if "error" in read:
            return _result(script.name, "script", "failed", str(read["error"].get("message") or "not readable"))
        if not read.get("exists"):
            return _result(script.name, "script", "failed", "the run command disappeared before it finished")
    return _judge(script, read)


def run_checks(
    context: df.DurableOrchestrationContext,
    *,
    vm_id: str,
    checks: CheckSet,
    phase: CheckPhase,
    expected_network: str | None,
    attempt: int,
    stage: str,
    time_scale: float,
    poll_seconds: float,
) -> Steps:
    """Every check of ``checks`` on the VM ``vm_id`` (``expected_network``: the virtual network its NICs must be in):
    ``{"phase", "vm", "outcome": passed|failed, "checks": [results], "startedAt", "endedAt"}``. Stops at the first
    failure: a VM that does not boot runs no script, and a script that fails says enough to act on."""
    started = _now(context).isoformat()
    results, read = yield from _boot_checks(
        context,
        vm_id=vm_id,
        checks=checks,
        expected_network=expected_network,
        stage=stage,
        time_scale=time_scale,
        poll_seconds=poll_seconds,
    )
    failed = any(result["outcome"] == "failed" for result in results)
    if read is not None and not failed:
        os_type = str(read.get("osType") or "").lower()
        for script in checks.scripts:
            if script.os != "any" and os_type and script.os != os_type:
                results.append(_result(script.name, "script", "skipped", f"for {script.os}; the VM runs {os_type}"))
                continue
            result = yield from run_script(
                context,
                vm_id=vm_id,
                location=str(read.get("location") or ""),
                script=script,
                run_name=run_command_name(_PHASE_TAG[phase], script.name, attempt),
                stage=stage,
                time_scale=time_scale,
            )
            results.append(result)
            if result["outcome"] == "failed":
                failed = True
                break
    return {
        "phase": phase,
        "vm": vm_id.rsplit("/", 1)[-1],
        "outcome": "failed" if failed else "passed",
        "checks": results,
        "startedAt": started,
        "endedAt": _now(context).isoformat(),
    }


def failure_summary(report: Json) -> str:
    """One line naming the failed check and why, for the machine's error record."""
    for result in report.get("checks") or []:
        if result.get("outcome") == "failed":
            tail = f"; output: {result['output']}" if result.get("output") else ""
            error = f"; error output: {result['errorOutput']}" if result.get("errorOutput") else ""
            return f"{report.get('vm')}: {result['name']} failed: {result['detail']}{tail}{error}"
    return f"{report.get('vm')}: checks failed"
