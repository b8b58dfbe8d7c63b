# mypy: allow-untyped-decorators
"""A purpose-built Durable app: one orchestrator per feature the host must replay faithfully."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

# Test-controlled knobs and side-effect records (the host runs in the test process).
CALLS: dict[str, int] = {}
_lock = threading.Lock()
VARIANT = {"value": 1}


def _count(key: str) -> int:
    with _lock:
        CALLS[key] = CALLS.get(key, 0) + 1
        return CALLS[key]


# ------------------------------------------------------------------------------------------ HTTP starters
@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(
        req.route_params["name"], req.params.get("id"), json.loads(body) if body else None
    )
    response: func.HttpResponse = client.create_check_status_response(req, instance_id)
    return response


@app.route(route="wait/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start_wait(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["name"], None, req.get_json())
    response: func.HttpResponse = await client.wait_for_completion_or_create_check_status_response(
        req, instance_id, int(req.params.get("timeout", "20000")), 50
    )
    return response


# ------------------------------------------------------------------------------------------ activities
@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}!"


@app.activity_trigger(input_name="value")
async def double(value: int) -> int:
    return value * 2


@app.activity_trigger(input_name="key")
def flaky(key: str) -> str:
    """Fails until its third call for a key."""
    if _count(f"flaky:{key}") < 3:
        raise ValueError(f"flaky {key} not yet")
    return f"ok {key}"


@app.activity_trigger(input_name="key")
def always_fails(key: str) -> str:
    _count(f"fail:{key}")
    raise RuntimeError(f"boom {key}")


@app.activity_trigger(input_name="payload")
def echo(payload: Any) -> Any:
    return payload


@app.activity_trigger(input_name="target")
@app.durable_client_input(client_name="client")
async def notify(target: str, client: df.DurableOrchestrationClient) -> str:
    """An activity with a durable client: raises an event on another instance."""
    await client.raise_event(target, "Finish", "from an activity")
    return "sent"


# ------------------------------------------------------------------------------------------ orchestrators
@app.orchestration_trigger(context_name="context")
def sequence(context: df.DurableOrchestrationContext):
    names = context.get_input() or ["Tokyo", "Seattle", "London"]
    out = []
    for n in names:
        out.append((yield context.call_activity("hello", n)))
    return out


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    n = context.get_input() or 5
    results = yield context.task_all([context.call_activity("double", i) for i in range(n)])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def retry_activity(context: df.DurableOrchestrationContext):
    key = context.get_input()
    return (yield context.call_activity_with_retry("flaky", df.RetryOptions(50, 3), key))


@app.orchestration_trigger(context_name="context")
def retry_exhausted(context: df.DurableOrchestrationContext):
    key = context.get_input()
    try:
        yield context.call_activity_with_retry("always_fails", df.RetryOptions(50, 3), key)
    except Exception as exc:
        return {"caught": str(exc)[:200]}
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def timer_then_activity(context: df.DurableOrchestrationContext):
    seconds = context.get_input() or 0.3
    start = context.current_utc_datetime
    yield context.create_timer(start + timedelta(seconds=seconds))
    after = context.current_utc_datetime
    done = yield context.call_activity("hello", "timer")
    return {"waited": (after - start).total_seconds() >= seconds, "result": done}


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    """Waits for an event or a timeout; cancels the timer when the event wins."""
    timeout = context.get_input() or 30
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=timeout))
    event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([event, timer])
    if winner == event:
        timer.cancel()
        return {"approved": event.result}
    return {"approved": None, "timedOut": True}


@app.orchestration_trigger(context_name="context")
def early_events(context: df.DurableOrchestrationContext):
    """Does work first, then waits for events that may already have arrived."""
    yield context.call_activity("hello", "first")
    a = yield context.wait_for_external_event("A")
    b = yield context.wait_for_external_event("B")
    return [a, b]


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    n = context.get_input() or 2
    named = yield context.call_sub_orchestrator("sequence", ["Child"], f"{context.instance_id}-named")
    unnamed = yield context.task_all([context.call_sub_orchestrator("fan_out", i + 1) for i in range(n)])
    return {"named": named, "unnamed": unnamed}


@app.orchestration_trigger(context_name="context")
def failing_child(context: df.DurableOrchestrationContext):
    raise ValueError("child exploded: " + str(context.get_input()))
    yield  # pragma: no cover


@app.orchestration_trigger(context_name="context")
def parent_of_failing(context: df.DurableOrchestrationContext):
    try:
        yield context.call_sub_orchestrator_with_retry("failing_child", df.RetryOptions(50, 2), "x")
    except Exception as exc:
        return {"caught": str(exc)[:300]}
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def parent_of_failing_named(context: df.DurableOrchestrationContext):
    """Retries a failing child under one explicit instance id: each attempt replaces the failed child."""
    try:
        yield context.call_sub_orchestrator_with_retry(
            "failing_child", df.RetryOptions(50, 2), "y", f"{context.instance_id}-child"
        )
    except Exception as exc:
        return {"caught": str(exc)[:300]}
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def notifier(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("notify", context.get_input()))


@app.orchestration_trigger(context_name="context")
def week_long_timer(context: df.DurableOrchestrationContext):
    """A 7-day timer: the SDK splits it into legs of at most 3 days (longRunningTimerIntervalDuration)."""
    yield context.create_timer(context.current_utc_datetime + timedelta(days=7))
    return "a week later"


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    """continue_as_new loop: add each "Add" event's value until it reaches the target."""
    state = context.get_input() or {"total": 0, "target": 3}
    if state["total"] >= state["target"]:
        return state
    value = yield context.wait_for_external_event("Add")
    state = {"total": state["total"] + int(value), "target": state["target"]}
    context.set_custom_status({"total": state["total"]})
    context.continue_as_new(state)


@app.orchestration_trigger(context_name="context")
def status_and_ids(context: df.DurableOrchestrationContext):
    first = context.new_uuid()
    context.set_custom_status({"stage": "started", "uuid": first})
    yield context.call_activity("hello", "a")
    second = context.new_uuid()
    t1 = context.current_utc_datetime.isoformat()
    context.set_custom_status({"stage": "middle"})
    yield context.call_activity("hello", "b")
    context.set_custom_status({"stage": "done"})
    return {"uuids": [first, second], "t1": t1, "replaying": context.is_replaying}


@app.orchestration_trigger(context_name="context")
def raises(context: df.DurableOrchestrationContext):
    yield context.call_activity("hello", "before")
    raise RuntimeError("orchestrator failed on purpose")


@app.orchestration_trigger(context_name="context")
def calls_unknown(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("no_such_activity", 1))


@app.orchestration_trigger(context_name="context")
def changes_code(context: df.DurableOrchestrationContext):
    """Schedules a different activity depending on a knob the test flips: non-determinism."""
    name = "hello" if VARIANT["value"] == 1 else "double"
    yield context.call_activity(name, 1)
    yield context.wait_for_external_event("Go")
    return "done"


@app.orchestration_trigger(context_name="context")
def long_wait(context: df.DurableOrchestrationContext):
    context.set_custom_status("waiting")
    value = yield context.wait_for_external_event("Finish")
    return value


@app.orchestration_trigger(context_name="context")
def unawaited_timer(context: df.DurableOrchestrationContext):
    """Returns while a timer it created is still pending: the instance stays Running until it fires."""
    seconds = context.get_input() or 0.5
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    quick = context.call_activity("hello", "quick")
    yield context.task_any([quick, timer])
    return "returned"
