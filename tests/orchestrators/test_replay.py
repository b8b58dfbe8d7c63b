"""The replay driver keeps the Durable protocol's facts that the orchestrator tests lean on.

Small probe orchestrations (registered like the app's, calling an activity the app has) show what the driver does
with fan-outs, the order actions are issued in, and external events; if it drifted from the extension, the wave and
batch tests would prove things about a host that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from migration.function_names import PUBLISH_EVENT
from tests.orchestrators.replay import Replay, Work

bp = df.Blueprint()


def _fan_out_probe(context: df.DurableOrchestrationContext) -> Generator[Any, Any, list[Any]]:
    tasks = [context.call_activity(PUBLISH_EVENT, index) for index in range(3)]
    results: list[Any] = yield context.task_all(tasks)
    return results


def _pool_probe(context: df.DurableOrchestrationContext) -> Generator[Any, Any, list[str]]:
    """Two running, one started after the first ends, joined to a task_any with the one still running."""
    first, second = context.call_activity(PUBLISH_EVENT, "a"), context.call_activity(PUBLISH_EVENT, "b")
    yield context.task_any([first, second])
    third = context.call_activity(PUBLISH_EVENT, "c")
    yield context.task_any([second, third])
    fourth = context.call_activity(PUBLISH_EVENT, "d")  # what the extension issues only once ``third`` resolved
    yield context.task_all([second, third, fourth])
    return ["done"]


def _event_probe(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Any]:
    timer = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    winner = yield context.task_any([context.wait_for_external_event("control"), timer])
    if winner is timer:
        return "timed out"
    timer.cancel()
    return winner.result


# Registered as the app registers its orchestrators (a call, since the SDK's decorators carry no types).
fan_out_probe = bp.orchestration_trigger(context_name="context", orchestration="fan_out_probe")(_fan_out_probe)
pool_probe = bp.orchestration_trigger(context_name="context", orchestration="pool_probe")(_pool_probe)
event_probe = bp.orchestration_trigger(context_name="context", orchestration="event_probe")(_event_probe)


def _echo(name: str, payload: Any) -> Any:
    return payload


def test_a_fan_out_is_issued_in_one_episode_with_consecutive_ids_and_completes_in_the_chosen_order() -> None:
    minutes = {0: 30, 1: 10, 2: 20}

    def duration(work: Work) -> timedelta:
        return timedelta(minutes=minutes[work.payload])

    replay = Replay(fan_out_probe, None, activity=_echo, duration=duration)
    assert replay.run()["output"] == [0, 1, 2]  # WhenAll keeps the order of its tasks, not of their completions
    assert [w.id for w in replay.issued] == [0, 1, 2] and len({w.issued_at for w in replay.issued}) == 1
    finished = sorted(replay.issued, key=lambda w: w.completed_at or w.issued_at)
    assert [w.payload for w in finished] == [1, 2, 0]


def test_an_action_after_a_task_any_of_old_and_new_tasks_waits_for_a_new_one() -> None:
    """The extension issues actions in order, each only once the one before it resolved, and it sees
    ``task_any([second, third])`` as a WhenAny of ``third`` alone, so ``fourth`` waits for ``third`` even though
    ``second`` ended first."""
    minutes = {"a": 1, "b": 2, "c": 60, "d": 1}
    replay = Replay(pool_probe, None, activity=_echo, duration=lambda w: timedelta(minutes=minutes[w.payload]))
    assert replay.run()["output"] == ["done"]
    issued = {w.payload: w for w in replay.issued}
    assert issued["b"].completed_at and issued["c"].completed_at
    assert issued["b"].completed_at < issued["c"].completed_at == issued["d"].issued_at


def test_event_data_reaches_the_orchestrator_as_the_json_text_the_extension_stores() -> None:
    """``raise_event`` data is double-encoded by the SDK client and stored as sent, so the wait yields the JSON
    text, not the object (azure-functions-durable-python#295); the history event is ``EventRaised`` (type 15)."""
    command = {"action": "approve", "machines": ["db01"]}
    replay = Replay(event_probe, None)
    replay.raise_event("control", command, at=replay.now + timedelta(minutes=5))
    output = replay.run()["output"]
    assert isinstance(output, str) and json.loads(output) == command
    (raised,) = [e for e in replay.history if e["EventType"] == 15]
    assert raised["Name"] == "control" and json.loads(json.loads(raised["Input"])) == command


def test_a_timer_fires_at_its_time_when_no_event_comes() -> None:
    replay = Replay(event_probe, None)
    assert replay.run()["output"] == "timed out"
    (timer,) = replay.issued
    assert timer.kind == "timer" and timer.fire_at and timer.completed_at == timer.fire_at
    assert timer.fire_at - timer.issued_at == timedelta(hours=1)
