"""Activities: the Compute calls of the VM checks, one small call each so the orchestrator waits between them.

``read_vm`` reads a VM with its instance view, ``start_run_command`` puts a managed Run Command (adopting one
already there: a retried activity must not run a script twice), ``read_run_command`` reads its instance view. The
calls and their refusals live in :mod:`migration.compute`; a permanent failure is returned as ``{"error": ...}``, a
transient one raised so the retry policy applies.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.site_recovery import compute
from migration import function_names as names
from migration.compute import RunCommandRequest
from migration.errors import AsrPermanentError
from migration.payloads.vm_checks import RunCommandRead, RunCommandStart, VmRead

__all__ = ["read_run_command", "read_vm", "start_run_command"]

bp = df.Blueprint()


def _refused(error: AsrPermanentError) -> dict[str, Any]:
    return {"error": error.to_dict()}


@bp.activity_trigger(input_name="request", activity=names.READ_VM)
def read_vm(request: dict[str, Any]) -> dict[str, Any]:
    asked = VmRead.from_dict(request)
    try:
        return compute().read_vm(asked.vm_id, network=asked.network, stage=asked.stage)
    except AsrPermanentError as error:
        return _refused(error)


@bp.activity_trigger(input_name="request", activity=names.START_RUN_COMMAND)
def start_run_command(request: dict[str, Any]) -> dict[str, Any]:
    asked = RunCommandStart.from_dict(request)
    command = RunCommandRequest(
        asked.name, asked.script, asked.script_uri, tuple(asked.parameters), asked.timeout_seconds
    )
    try:
        return compute().start_run_command(asked.vm_id, asked.location, command, stage=asked.stage)
    except AsrPermanentError as error:
        return _refused(error)


@bp.activity_trigger(input_name="request", activity=names.READ_RUN_COMMAND)
def read_run_command(request: dict[str, Any]) -> dict[str, Any]:
    asked = RunCommandRead.from_dict(request)
    try:
        return compute().read_run_command(asked.vm_id, asked.name, stage=asked.stage)
    except AsrPermanentError as error:
        return _refused(error)
