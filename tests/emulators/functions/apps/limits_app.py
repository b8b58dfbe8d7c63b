# mypy: allow-untyped-decorators
"""Orchestrators that run into the places where Azure's Durable extension refuses or picks, one per rule.

Each is written the way an app would plausibly write it; the tests check that the host fails (or picks) exactly
where and how the extension does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

SIX_DAYS_MS = 6 * 24 * 3600 * 1000


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}!"


@app.orchestration_trigger(context_name="context")
def sized_status(context: df.DurableOrchestrationContext):
    """Sets the custom status it is given, then does one activity: the status is checked before anything runs."""
    context.set_custom_status(context.get_input())
    return (yield context.call_activity("hello", "sized"))


@app.orchestration_trigger(context_name="context")
def status_grows(context: df.DurableOrchestrationContext):
    """A status that is small at first and too large after the first activity."""
    first = yield context.call_activity("hello", "first")
    context.set_custom_status("x" * context.get_input())
    second = yield context.call_activity("hello", "second")
    return [first, second]


@app.orchestration_trigger(context_name="context")
def status_and_raise(context: df.DurableOrchestrationContext):
    """Sets a status that is too large and raises in the same episode."""
    context.set_custom_status("x" * context.get_input())
    raise ValueError("raised with a large status")
    yield  # pragma: no cover


@app.orchestration_trigger(context_name="context")
def event_rounds(context: df.DurableOrchestrationContext):
    """Waits for ``Go`` with a timeout each round, creating a new wait every round (the abandoned one stays open)."""
    for round_, seconds in enumerate(context.get_input()):
        timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
        event = context.wait_for_external_event("Go")
        winner = yield context.task_any([event, timer])
        if winner == event:
            greeting = yield context.call_activity("hello", event.result)
            timer.cancel()
            return {"round": round_, "greeting": greeting}
    return "no event"


@app.orchestration_trigger(context_name="context")
def twice_after_start(context: df.DurableOrchestrationContext):
    """Waits for ``Start``, then for ``A`` twice: any ``A`` raised before ``Start`` arrives early."""
    yield context.wait_for_external_event("Start")
    first = yield context.wait_for_external_event("A")
    second = yield context.wait_for_external_event("A")
    greeting = yield context.call_activity("hello", second)
    return {"first": first, "second": second, "greeting": greeting}


@app.orchestration_trigger(context_name="context")
def many_actions(context: df.DurableOrchestrationContext):
    """One activity per name, in sequence, plus one timer due at once: as many actions as names + 1."""
    yield context.create_timer(context.current_utc_datetime)
    out = []
    for name in context.get_input():
        out.append((yield context.call_activity("hello", name)))
    return out


@app.orchestration_trigger(context_name="context")
def slow_retry(context: df.DurableOrchestrationContext):
    """An activity retried after ``first_retry`` milliseconds."""
    options = df.RetryOptions(context.get_input(), 2)
    return (yield context.call_activity_with_retry("hello", options, "retried"))


@app.orchestration_trigger(context_name="context")
def names_a_child(context: df.DurableOrchestrationContext):
    """Starts a child under the id its input asks for: its own id (other case), its parent's, or a literal."""
    ask: dict[str, Any] = context.get_input()
    if ask["id"] == "own":
        child_id = context.instance_id.upper()
    elif ask["id"] == "parent":
        child_id = context.parent_instance_id
    else:
        child_id = ask["id"]
    return (yield context.call_sub_orchestrator("hello_child", None, child_id))


@app.orchestration_trigger(context_name="context")
def grandparent(context: df.DurableOrchestrationContext):
    """Starts ``names_a_child`` as its child, which then names its own child after this instance."""
    try:
        yield context.call_sub_orchestrator("names_a_child", {"id": "parent"}, f"{context.instance_id}-kid")
    except Exception as exc:
        return {"caught": str(exc)}
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def hello_child(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("hello", "child"))


@app.orchestration_trigger(context_name="context")
def waits_for_finish(context: df.DurableOrchestrationContext):
    return (yield context.wait_for_external_event("Finish"))


@app.orchestration_trigger(context_name="context")
def raises_with_child_open(context: df.DurableOrchestrationContext):
    """Raises after the first of an activity and a child that waits: the child is still open when it raises."""
    child = context.call_sub_orchestrator("waits_for_finish", None, f"{context.instance_id}-child")
    yield context.task_any([context.call_activity("hello", "quick"), child])
    raise RuntimeError("gave up after the first result")
