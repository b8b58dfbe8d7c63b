"""Replay consistency: re-run an instance's stored history through the SDK and compare with what was stored.

This is the oracle from the research note (durable-host.md §7): if replaying the persisted history from
scratch does not reproduce the stored status, output and custom status, or if the replay schedules
something the history does not hold, the host recorded something the real extension would not have.
"""

from __future__ import annotations

import json
from typing import Any

from .app_loader import LoadedApp
from .limits import Limits
from .replay import run_episode
from .taskhub import TaskHub


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def check_instance(hub: TaskHub, app: LoadedApp, instance_id: str, limits: Limits | None = None) -> list[str]:
    """Problems found for one instance (empty when the stored state replays to itself).

    The stored history is replayed as one episode by the same code the host runs (``run_episode``), so the
    verdict of a replay from scratch (outcome, output, custom status, new work) must equal what was stored.
    """
    inst = hub.get_instance(instance_id)
    if inst is None:
        return [f"{instance_id}: no such instance"]
    history = hub.get_history(inst)
    if not history or inst.status in ("Pending", "ContinuedAsNew"):
        return []
    spec = app.orchestrators.get(inst.name)
    if spec is None:
        return [] if inst.status == "Failed" else [f"{instance_id}: orchestrator {inst.name!r} is unknown"]
    res = run_episode(
        spec.user_function,
        inst.name,
        history,
        inst.instance_id,
        inst.execution_id,
        inst.input,
        inst.parent_instance_id,
        set(app.activities),
        set(app.orchestrators),
        limits,
    )
    problems: list[str] = []
    if res.outcome == "failed" and inst.status != "Failed":
        problems.append(f"{instance_id}: the replay fails ({res.output_json!r}) but the instance is {inst.status}")
        return problems
    if res.new_actions and inst.status not in ("Failed", "Terminated"):
        ids = [a.id for a in res.new_actions]
        problems.append(f"{instance_id}: replay scheduled work the history lacks (ids {ids})")
    if res.custom_status_set and _loads(inst.custom_status) != res.custom_status:
        problems.append(f"{instance_id}: custom status {inst.custom_status!r} != replayed {res.custom_status!r}")
    if inst.status == "Completed":
        if res.outcome != "completed":
            problems.append(f"{instance_id}: stored Completed but the replay is {res.outcome}")
        elif _loads(inst.output) != _loads(res.output_json):
            problems.append(f"{instance_id}: output {inst.output!r} != replayed {res.output_json!r}")
    elif inst.status == "Failed":
        if res.outcome != "failed":
            problems.append(f"{instance_id}: stored Failed but the replay is {res.outcome}")
        elif inst.output != res.output_json:
            problems.append(f"{instance_id}: failure {inst.output!r} != replayed {res.output_json!r}")
    elif inst.status in ("Running", "Suspended") and res.outcome == "completed":
        problems.append(f"{instance_id}: stored {inst.status} but the replay says it is finished")
    return problems


def check_hub(hub: TaskHub, app: LoadedApp, limits: Limits | None = None) -> list[str]:
    problems: list[str] = []
    after: tuple[float, str] | None = None
    while True:
        page = hub.query_instances(limit=500, after=after)
        if not page:
            return problems
        for inst in page:
            problems += check_instance(hub, app, inst.instance_id, limits)
        after = (page[-1].created, page[-1].instance_id)
