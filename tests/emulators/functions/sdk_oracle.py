"""Oracle hook run inside the SDK's own orchestrator tests (loaded from the 1.7.0 source distribution).

Every history those tests build with their ``ContextBuilder`` is replayed through our shim as well: the
SDK's tests pin which ids the extension gives each activity, retry timer and sub-orchestration, so every
``TaskScheduled``/``TimerCreated``/``SubOrchestrationInstanceCreated`` id in their histories must match
an action our shim derived, or it raises the non-determinism error the host would report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from azure.durable_functions.orchestrator import Orchestrator

from emulators.functions.replay import Shim, call_orchestrator, flatten_actions


class _Everything(set[str]):
    """Any function name is known: the SDK's tests do not register functions."""

    def __contains__(self, item: object) -> bool:
        return True


def check_history(context_json: str, user_code: Any) -> None:
    doc = json.loads(context_json)
    doc["upperSchemaVersion"], doc["upperSchemaVersionNew"] = 1, 2  # what the extension sends: V3 actions
    if not any(e.get("EventType") == 0 for e in doc["history"]):
        return
    handle = Orchestrator.create(user_code)
    state, _ = call_orchestrator(handle, json.dumps(doc))
    if state is None:
        return
    actions = flatten_actions(state)
    if any(_entity_or_http(a) for a in actions):
        return  # entities and call_http are refused by the host; nothing to compare
    # Ids and kinds are what their histories pin; their event names are often placeholders ("Hello" for
    # any activity) because the SDK never reads TaskScheduled names, so names are not compared here.
    shim = Shim("oracle-execution", _Everything(), _Everything(), check_names=False)
    matched = 0
    for event in doc["history"]:
        if state.get("error") and shim.body_done:
            # The orchestrator has failed at this point; some of their histories go on scheduling work a
            # failed instance never would (the builder is not a real DTFx history), so stop here.
            break
        shim.process(event, actions)  # raises NonDeterminismError on an id our numbering disagrees with
        matched += event.get("EventType") in (4, 7, 10)
    assert shim.fault is None, f"the shim refused an action of the SDK's own test: {shim.fault}"
    out = os.environ.get("ORACLE_LOG")
    if out:
        with Path(out).open("a", encoding="utf-8") as f:
            f.write(f"{matched}\n")


def _entity_or_http(action: dict[str, Any]) -> bool:
    if action.get("actionType") in (7, 8, 9, 10):
        return True
    return any(_entity_or_http(c) for c in action.get("compoundActions") or [])
