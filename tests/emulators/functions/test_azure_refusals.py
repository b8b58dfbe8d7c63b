"""The host fails where Azure's Durable extension fails, with its messages, through the SDK's real client and replay.

Each test drives ``tests/emulators/functions/apps/limits_app.py`` with ``DurableOrchestrationClient`` over HTTP and
checks the outcome the extension would produce (the README's "Refusals copied from Azure" lists the source of each
rule).
"""

from __future__ import annotations

import json
from typing import Any

import azure.durable_functions as df
import pytest

from emulators.functions import HostHandle
from emulators.functions import history as h
from tests.emulators.functions.apps.limits_app import SIX_DAYS_MS
from tests.emulators.functions.conftest import HostFactory, history_of, mgmt, wait_for, wait_until

APP = "tests.emulators.functions.apps.limits_app:app"
STATUS_PREFIX = "Orchestrator function '{}' failed: "
BAD_CHARACTERS = (
    "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.')"
)
TOO_LARGE = "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB."


@pytest.fixture
def limits(host_factory: HostFactory) -> HostHandle:
    return host_factory(APP)


def run(handle: HostHandle, name: str, payload: Any = None, instance_id: str | None = None) -> str:
    """Start ``name`` through the SDK's client, as an HTTP starter would."""
    result: str = handle.run(handle.client().start_new(name, instance_id, payload))
    return result


def types(events: list[dict[str, Any]]) -> list[int]:
    return [int(e["EventType"]) for e in events]


# ------------------------------------------------------------------------------------------ custom status


@pytest.mark.parametrize(
    ("status", "fits"),
    [
        ("x" * 8701, True),  # 8,703 UTF-16 units with the quotes: 17,406 bytes, 16 KB once truncated
        ("x" * 8702, False),  # 8,704 units: 17,408 bytes, 17 KB
        ("é" * 8701, True),  # counted raw, one unit each, not as the \u00e9 the SDK's JSON carries
        ("😀" * 4350 + "x", True),  # astral characters are two units each: 8,703
        ("😀" * 4351, False),  # 8,704 units in 4,351 characters
        ({"k": "x" * 8694}, True),  # compact JSON: {"k":"..."} is 8,702 units
        ({"k": "x" * 8696}, False),
    ],
)
def test_a_custom_status_over_16_kb_of_utf16_fails_the_orchestration(
    limits: HostHandle, status: Any, fits: bool
) -> None:
    iid = run(limits, "sized_status", status)
    done = wait_for(limits, iid, ("Completed", "Failed"))
    if fits:
        assert done["runtimeStatus"] == "Completed" and done["customStatus"] == status
        return
    assert done["runtimeStatus"] == "Failed"
    assert done["output"] == STATUS_PREFIX.format("sized_status") + TOO_LARGE
    assert done["customStatus"] is None  # SetCustomStatus threw before storing it
    assert h.TASK_SCHEDULED not in types(history_of(limits, iid))  # it throws before any action is replayed


def test_a_status_that_grows_after_work_was_scheduled_fails_as_non_deterministic(limits: HostHandle) -> None:
    """SetCustomStatus throws before the shim replays any action, so DTFx meets the stored TaskScheduled unmatched."""
    iid = run(limits, "status_grows", 8702)
    done = wait_for(limits, iid, ("Failed",))
    assert done["output"] == (
        "Non-Deterministic workflow detected: A previous execution of this orchestration scheduled an activity task "
        "with sequence ID 0 and name 'hello' (version ''), but the current replay execution hasn't (yet?) scheduled "
        "this task. Was a change made to the orchestrator code after this instance had already started running?"
    )
    scheduled = [e["Input"] for e in history_of(limits, iid) if e["EventType"] == h.TASK_SCHEDULED]
    assert scheduled == [json.dumps([json.dumps("first")])]  # the second activity never went out


def test_a_large_status_with_an_orchestrator_error_reports_the_bare_argument_exception(limits: HostHandle) -> None:
    iid = run(limits, "status_and_raise", 8702)
    assert wait_for(limits, iid, ("Failed",))["output"] == TOO_LARGE


# ------------------------------------------------------------------------------------------ external events


def test_an_event_goes_to_the_newest_wait_so_a_loop_that_recreates_its_wait_goes_on(limits: HostHandle) -> None:
    """Round 0 times out at once and abandons its wait; round 1's wait (with an hour's timeout) must get ``Go``."""
    client = limits.client()
    iid = run(limits, "event_rounds", [0, 3600])
    wait_until(lambda: types(history_of(limits, iid)).count(h.TIMER_CREATED) == 2)
    limits.run(client.raise_event(iid, "Go", "now"))
    done = wait_for(limits, iid)
    assert done["output"] == {"round": 1, "greeting": 'Hello "now"!'}


def test_early_events_the_sdk_keeps_only_the_last_and_hands_it_to_every_later_wait(limits: HostHandle) -> None:
    """azure-functions-durable-python#507: two early ``A``s, two waits, the second ``A`` twice."""
    client = limits.client()
    iid = run(limits, "twice_after_start")
    wait_for(limits, iid, ("Running",))
    for value in ("one", "two"):
        limits.run(client.raise_event(iid, "A", value))
    limits.run(client.raise_event(iid, "Start", None))
    done = wait_for(limits, iid)
    assert done["output"] == {"first": '"two"', "second": '"two"', "greeting": 'Hello "two"!'}


def test_one_early_event_satisfies_both_waits_in_the_sdk_but_only_one_in_the_extension(limits: HostHandle) -> None:
    """The SDK hands the single early ``A`` to both waits; the extension's second wait has nothing and blocks the
    activity behind it until another ``A`` comes, which the SDK then ignores."""
    client = limits.client()
    iid = run(limits, "twice_after_start")
    wait_for(limits, iid, ("Running",))
    limits.run(client.raise_event(iid, "A", "early"))
    limits.run(client.raise_event(iid, "Start", None))
    raised = wait_until(
        lambda: [e["Name"] for e in history_of(limits, iid) if e["EventType"] == h.EVENT_RAISED] == ["A", "Start"]
    )
    assert raised
    assert h.TASK_SCHEDULED not in types(history_of(limits, iid))
    assert limits.run(client.get_status(iid)).runtime_status == df.OrchestrationRuntimeStatus.Running
    limits.run(client.raise_event(iid, "A", "late"))
    done = wait_for(limits, iid)
    assert done["output"] == {"first": '"early"', "second": '"early"', "greeting": 'Hello "early"!'}


# ------------------------------------------------------------------------------------------ instance ids


@pytest.mark.parametrize(
    ("instance_id", "message"),
    [
        ("@entity", "instanceId (Parameter 'Orchestration instance ids must not start with @.')"),
        ("bell\x07ring", BAD_CHARACTERS),
        ("next\x85line", BAD_CHARACTERS),  # a C1 control character (char.IsControl)
        ("back\\slash", BAD_CHARACTERS),
        ("x" * 257, "Instance ID lengths must not exceed 256 characters."),
        ("😀" * 129, "Instance ID lengths must not exceed 256 characters."),  # 258 UTF-16 units
    ],
)
def test_start_new_refuses_the_instance_ids_the_extension_refuses(
    limits: HostHandle, instance_id: str, message: str
) -> None:
    with pytest.raises(Exception) as caught:
        run(limits, "hello_child", None, instance_id)
    assert str(caught.value) == message  # the SDK raises the 400's ExceptionMessage


@pytest.mark.parametrize("instance_id", ["   ", "x" * 256, "😀" * 128, "dots.and-dashes_ok"])
def test_start_new_accepts_what_the_extension_accepts(limits: HostHandle, instance_id: str) -> None:
    assert run(limits, "hello_child", None, instance_id) == instance_id
    inst = wait_until(lambda: (i := limits.hub.get_instance(instance_id)) and i.status == "Completed" and i)
    assert json.loads(inst.output) == "Hello child!"


@pytest.mark.parametrize("encoded", ["a%5Cb", "a%23b", "a%3Fb"])
def test_the_reserved_characters_are_refused_when_a_raw_caller_encodes_them(limits: HostHandle, encoded: str) -> None:
    reply = mgmt(limits, "POST", f"orchestrators/hello_child/{encoded}")
    assert reply.status == 400
    assert reply.json()["ExceptionMessage"].endswith("must not contain /, \\, #, ?, or control characters.')")
    assert reply.json()["ExceptionType"] == "System.ArgumentException"


def test_a_trailing_slash_after_the_function_name_starts_an_instance_with_a_new_id(limits: HostHandle) -> None:
    reply = mgmt(limits, "POST", "orchestrators/hello_child/")
    assert reply.status == 202 and len(reply.json()["id"]) == 32


@pytest.mark.parametrize(
    ("ask", "instance_id", "message"),
    [
        (
            {"id": "own"},
            "own-case",
            "The instance ID of a sub-orchestration must be different than the instance ID of a parent orchestration.",
        ),
        ({"id": "@kid"}, "at-kid", "instanceId (Parameter 'Orchestration instance ids must not start with @')"),
    ],
)
def test_a_child_may_not_reuse_its_parents_id_or_start_with_at(
    limits: HostHandle, ask: dict[str, str], instance_id: str, message: str
) -> None:
    iid = run(limits, "names_a_child", ask, instance_id)
    done = wait_for(limits, iid, ("Failed",))
    assert done["output"] == STATUS_PREFIX.format("names_a_child") + message
    assert h.SUB_CREATED not in types(history_of(limits, iid))


def test_a_grandchild_may_not_take_the_id_of_its_grandparent(limits: HostHandle) -> None:
    iid = run(limits, "grandparent", None, "the-elder")
    caught = wait_for(limits, iid)["output"]["caught"]
    assert "The instance ID of a sub-orchestration must be different than the instance ID of a parent" in caught
    assert wait_for(limits, "the-elder-kid", ("Failed",))["runtimeStatus"] == "Failed"


def test_a_child_id_with_characters_the_client_refuses_is_allowed(limits: HostHandle) -> None:
    iid = run(limits, "names_a_child", {"id": "kid/with#odd?chars"})
    assert wait_for(limits, iid)["output"] == "Hello child!"


# ------------------------------------------------------------------------------------------ action count, retries


def test_max_orchestration_actions_from_host_json_fails_the_action_past_it(host_factory: HostFactory) -> None:
    handle = host_factory(
        APP, host_json={"version": "2.0", "extensions": {"durableTask": {"maxOrchestrationActions": 3}}}
    )
    fits = run(handle, "many_actions", ["a", "b"])  # a timer and two activities: 3 actions
    assert wait_for(handle, fits)["output"] == ["Hello a!", "Hello b!"]
    over = run(handle, "many_actions", ["a", "b", "c"])
    done = wait_for(handle, over, ("Failed",))
    assert done["output"] == STATUS_PREFIX.format("many_actions") + (
        "Maximum amount of orchestration actions (3) has been reached. "
        "This value can be configured in host.json file as MaxOrchestrationActions."
    )
    assert types(history_of(handle, over)).count(h.TASK_SCHEDULED) == 2


@pytest.mark.parametrize(("first_retry_ms", "fails"), [(SIX_DAYS_MS, False), (SIX_DAYS_MS + 1, True)])
def test_a_retry_interval_over_six_days_fails_the_orchestration(
    limits: HostHandle, first_retry_ms: int, fails: bool
) -> None:
    iid = run(limits, "slow_retry", first_retry_ms)
    done = wait_for(limits, iid, ("Completed", "Failed"))
    if not fails:
        assert done["output"] == "Hello retried!"
        return
    assert done["output"] == STATUS_PREFIX.format("slow_retry") + (
        "The Azure Storage provider supports a maximum of 6 days for time-based delays (Parameter 'FirstRetryInterval')"
    )
    assert h.TASK_SCHEDULED not in types(history_of(limits, iid))


def test_an_orchestrator_that_raises_fails_only_once_nothing_it_started_is_open(limits: HostHandle) -> None:
    """DTFx fails a faulted orchestration only when no activity, timer or child is open (HasOpenTasks)."""
    client = limits.client()
    iid = run(limits, "raises_with_child_open")
    wait_until(lambda: h.TASK_COMPLETED in types(history_of(limits, iid)))
    assert limits.run(client.get_status(iid)).runtime_status == df.OrchestrationRuntimeStatus.Running
    limits.run(client.raise_event(f"{iid}-child", "Finish", "done"))
    done = wait_for(limits, iid, ("Failed",))
    assert done["output"].startswith(STATUS_PREFIX.format("raises_with_child_open") + "gave up after the first result")
    events = types(history_of(limits, iid))
    assert events.index(h.SUB_COMPLETED) < events.index(h.EXECUTION_COMPLETED)
