"""Replay consistency: re-run an instance's stored history through the SDK and compare with what was stored.

This is the oracle from the research note (durable-host.md §7): if replaying the persisted history from
scratch does not reproduce the stored status, output and custom status, or if the replay schedules
something the history does not hold, the host recorded something the real extension would not have.
"""

from __future__ import annotations

import json
from typing import Any

from .app_loader import LoadedApp
from .replay import NonDeterminismError, Shim, ShimError, build_context_json, call_orchestrator, flatten_actions
from .taskhub import TaskHub


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def check_instance(hub: TaskHub, app: LoadedApp, instance_id: str) -> list[str]:
    """Problems found for one instance (empty when the stored state replays to itself)."""
    inst = hub.get_instance(instance_id)
    if inst is None:
        return [f"{instance_id}: no such instance"]
    history = hub.get_history(inst)
    if not history or inst.status in ("Pending", "ContinuedAsNew"):
        return []
    spec = app.orchestrators.get(inst.name)
    if spec is None:
        return [] if inst.status == "Failed" else [f"{instance_id}: orchestrator {inst.name!r} is unknown"]
    problems: list[str] = []
    state, plain_error = call_orchestrator(
        spec.user_function, build_context_json(history, inst.instance_id, inst.input, inst.parent_instance_id)
    )
    prefix = f"Orchestrator function '{inst.name}' failed: "
    if state is None:
        if inst.status != "Failed" or inst.output != prefix + str(plain_error):
            problems.append(f"{instance_id}: replay raised {plain_error!r} but the instance is {inst.status}")
        return problems
    shim = Shim(inst.execution_id, set(app.activities), set(app.orchestrators))
    shim_error: str | None = None
    try:
        actions = flatten_actions(state)
        for event in history:
            shim.process(event, actions)
    except (NonDeterminismError, ShimError) as exc:
        shim_error = str(exc)
    if shim_error is not None:
        if inst.status != "Failed" or inst.output != prefix + shim_error:
            problems.append(f"{instance_id}: replay is not deterministic against its history: {shim_error}")
        return problems
    if shim.actions and inst.status not in ("Failed", "Terminated"):
        ids = sorted(shim.actions)
        problems.append(f"{instance_id}: replay scheduled work the history lacks (ids {ids})")
    custom = state.get("customStatus")
    if custom and _loads(inst.custom_status) != custom:
        problems.append(f"{instance_id}: custom status {inst.custom_status!r} != replayed {custom!r}")
    finished = shim.body_done and bool(state.get("isDone") or state.get("error"))
    if inst.status == "Completed":
        if not finished or state.get("error") or shim.open:
            problems.append(f"{instance_id}: stored Completed but the replay is not finished")
        elif _loads(inst.output) != state.get("output"):
            problems.append(f"{instance_id}: output {inst.output!r} != replayed {state.get('output')!r}")
    elif inst.status == "Failed":
        if not state.get("error"):
            problems.append(f"{instance_id}: stored Failed but the replay reports no error")
        elif inst.output != prefix + str(state["error"]):
            problems.append(f"{instance_id}: failure {inst.output!r} != replayed {state['error']!r}")
    elif inst.status in ("Running", "Suspended"):
        if finished and not shim.open and not shim.continued:
            problems.append(f"{instance_id}: stored {inst.status} but the replay says it is finished")
    return problems


def check_hub(hub: TaskHub, app: LoadedApp) -> list[str]:
    problems: list[str] = []
    after: tuple[float, str] | None = None
    while True:
        page = hub.query_instances(limit=500, after=after)
        if not page:
            return problems
        for inst in page:
            problems += check_instance(hub, app, inst.instance_id)
        after = (page[-1].created, page[-1].instance_id)
