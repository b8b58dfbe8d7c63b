"""The wave's rules without a host: commands, the gate, batches and the documents (``migration.wave_state``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from migration.plan import validate_plan
from migration.status_bounds import CUSTOM_STATUS_MAX_BYTES, utf16_size
from migration.steps import Step
from migration.wave_state import (
    BATCH_SIZE,
    AwaitApproval,
    Cutover,
    Hold,
    WaitForWindow,
    WaveState,
    batch_caps,
    split_batches,
)

from .plan_data import agentless_machine, inmage_machine, plan

NOW = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)


def wave(*groups: list[str], **options: Any) -> WaveState:
    document = plan(*[[inmage_machine(name) for name in names] for names in groups], options=options)
    return WaveState(validate_plan(document), NOW, timedelta(hours=1))


def prepared(state: WaveState, *failed: str) -> WaveState:
    for name in state.machines:
        outcome = "failed" if name in failed else "ready"
        state.absorb(name, {"machine": name, "outcome": outcome, "stage": "cutoverGate", "stages": {}})
    return state


def command(state: WaveState, action: str, **extra: Any) -> dict[str, Any]:
    state.apply_command({"action": action, "actor": "ops@example.com", "reason": "CAB-1", **extra}, NOW)
    return state.controls[-1]


def test_the_gate_asks_for_approval_group_by_group_and_a_per_machine_approval_opens_one_group() -> None:
    state = prepared(wave(["a", "b"], ["c"]))
    assert isinstance(state.gate(NOW), AwaitApproval)
    state.request_approval(NOW)
    assert [e.type for e in state.outbox] == ["migration.awaiting_approval"]
    assert state.outbox[0].data["machines"] == ["a", "b", "c"]
    assert state.approval_deadline() == NOW + timedelta(hours=1)
    state.request_approval(NOW + timedelta(minutes=5))
    assert len(state.outbox) == 1, "asked once"
    assert command(state, "approve", machines=["a", "b"])["accepted"]
    assert state.gate(NOW) == Cutover(["a", "b"])
    for name in ("a", "b"):
        state.absorb(name, {"machine": name, "outcome": "migrated", "stage": "migrated", "stages": {}})
    assert isinstance(state.gate(NOW), AwaitApproval), "group 2 is not approved yet"
    command(state, "approve")
    assert state.gate(NOW) == Cutover(["c"])


def test_failed_machines_hold_the_wave_until_an_approval_says_go_on_with_the_healthy_ones() -> None:
    state = prepared(wave(["a", "b"]), "b")
    decision = state.gate(NOW)
    assert isinstance(decision, Hold) and decision.reason == "machinesFailed" and decision.detail.endswith(": b")
    state.start_hold(decision, NOW)
    command(state, "approve")
    assert state.continue_with_healthy
    state.hold = None
    assert state.gate(NOW) == Cutover(["a"])


def test_continue_on_failure_goes_on_without_asking() -> None:
    state = prepared(wave(["a", "b"], onMachineFailure="continue", approval={"required": False}), "b")
    assert state.gate(NOW) == Cutover(["a"])


def test_the_window_is_waited_for_and_a_missed_one_holds() -> None:
    window = {"notBefore": "2026-12-05T22:00:00Z", "notAfter": "2026-12-06T04:00:00Z"}
    state = prepared(wave(["a"], approval={"required": False}, cutoverWindow=window))
    assert state.gate(NOW) == WaitForWindow(datetime(2026, 12, 5, 22, 0, tzinfo=UTC))
    assert state.gate(datetime(2026, 12, 5, 23, 0, tzinfo=UTC)) == Cutover(["a"])
    missed = state.gate(datetime(2026, 12, 6, 5, 0, tzinfo=UTC))
    assert isinstance(missed, Hold) and missed.reason == "windowMissed"
    postponed = command(state, "postpone", window={"notBefore": "2026-12-06T22:00Z", "notAfter": "2026-12-07T02:00Z"})
    assert postponed["accepted"] and state.window["notBefore"] == "2026-12-06T22:00:00+00:00"
    assert isinstance(state.gate(datetime(2026, 12, 6, 5, 0, tzinfo=UTC)), WaitForWindow)


@pytest.mark.parametrize(
    ("window", "detail"),
    [
        (None, "window needs notBefore and notAfter as ISO 8601 UTC times"),
        ({"notBefore": "2026-12-06T22:00", "notAfter": "2026-12-07T02:00"}, "window must be in UTC and end after it"),
        ({"notBefore": "2026-12-07T22:00Z", "notAfter": "2026-12-07T02:00Z"}, "window must be in UTC and end after it"),
    ],
)
def test_a_bad_postpone_is_refused_and_changes_nothing(window: Any, detail: str) -> None:
    state = wave(["a"])
    before = dict(state.window)
    control = command(state, "postpone", window=window)
    assert not control["accepted"] and control["detail"].startswith(detail)
    assert state.window == before


def test_an_approval_timeout_holds_or_cancels_as_the_plan_says() -> None:
    held = prepared(wave(["a"]))
    held.request_approval(NOW)
    held.approval_expired(NOW)
    decision = held.gate(NOW)
    assert isinstance(decision, Hold) and decision.reason == "approvalTimedOut"
    cancelled = prepared(wave(["a"], approval={"required": True, "onTimeout": "cancel"}))
    cancelled.request_approval(NOW)
    cancelled.approval_expired(NOW)
    assert cancelled.cancel_requested and cancelled.controls[-1]["actor"] == "system"


def test_a_cancel_refuses_every_later_command_but_another_cancel() -> None:
    state = wave(["a"])
    assert command(state, "reject")["accepted"] and state.cancel_requested
    assert command(state, "approve")["detail"] == "the wave is being cancelled"
    assert command(state, "cancel")["accepted"]
    assert [e.status for e in state.outbox] == ["accepted", "refused", "accepted"]


def test_retry_resumes_failed_machines_from_their_failed_stage_with_a_new_attempt() -> None:
    state = wave(["a", "b"])
    state.absorb(
        "a",
        {"machine": "a", "outcome": "failed", "stage": "testFailover", "error": {"stage": "testFailover", "code": "X"}},
    )
    assert command(state, "retry", machines=["b"])["detail"] == "no failed machine to retry"
    assert command(state, "retry")["detail"] == "retrying a"
    machine = state.machines["a"]
    assert machine.outcome is None and machine.attempt == 1 and machine.retry_from == "testFailover"
    assert state.unsettled() == ["a", "b"]
    assert state.batch_entry("a", {"name": "a"}).from_stage == "testFailover"


def test_unknown_machines_unknown_actions_and_repeated_ids_are_handled_once_and_refused_cleanly() -> None:
    state = wave(["a"])
    assert command(state, "approve", machines=["ghost"])["detail"] == "unknown machines: ghost"
    state.apply_command("not json at all", NOW)
    state.apply_command('{"action": "approve", "id": "m-1"}', NOW)  # JSON text, as the extension delivers it
    state.apply_command({"action": "approve", "id": "m-1"}, NOW)
    assert [c["detail"] for c in state.controls] == ["unknown machines: ghost", "unknown action", "approved"]
    assert [e.type for e in state.outbox] == ["migration.control", "migration.control"], "no event for junk"
    assert state.approved_all


def test_one_id_for_a_different_command_is_refused_visibly_and_does_not_act() -> None:
    """An Idempotency-Key or message id reused for another command: not dropped as a repeat, not applied."""
    state = wave(["a"])
    command(state, "approve", id="k-1")
    refused = command(state, "cancel", id="k-1")
    assert (refused["action"], refused["accepted"]) == ("cancel", False)
    assert "'k-1' was already used for another command" in refused["detail"]
    assert not state.cancel_requested
    assert [e.data["accepted"] for e in state.outbox] == [True, False]  # both told as events
    command(state, "approve", id="k-1")  # the first command again: a repeat, silently
    assert len(state.controls) == 2


def test_the_signed_in_caller_and_the_asserted_actor_are_recorded_apart() -> None:
    """The audit trail keeps whom App Service authentication vouched for, and what the body claimed beside it."""
    state = wave(["a"])
    oid = "5f6b1a2e-0c1d-4e7f-9a8b-0123456789ab"
    recorded = command(state, "approve", actor="ana@contoso.example", actorId=oid, assertedActor="ceo@contoso.example")
    assert (recorded["actor"], recorded["actorId"], recorded["assertedActor"]) == (
        "ana@contoso.example",
        oid,
        "ceo@contoso.example",
    )
    event = state.outbox[-1].data
    assert (event["actorId"], event["assertedActor"]) == (oid, "ceo@contoso.example")
    assert state.status(NOW, NOW)["lastControl"]["actorId"] == oid
    asserted_only = command(state, "retry")  # a Service Bus command: no object id, nothing vouched for
    assert "actorId" not in asserted_only and "actorId" not in state.outbox[-1].data


def test_pause_and_resume_are_checked_queued_and_recorded_once_site_recovery_answered() -> None:
    document = plan([inmage_machine("web-01"), agentless_machine("vmw-01"), agentless_machine("vmw-02")])
    state = WaveState(validate_plan(document), NOW, timedelta(hours=1))
    assert not command(state, "pause", machines=["web-01"])["accepted"]
    assert state.controls[-1]["detail"] == "pause exists for agentless VMware machines only, not web-01"
    assert state.replication_commands == []
    before = len(state.controls)
    state.apply_command({"action": "pause", "actor": "ops@example.com", "reason": "month end"}, NOW)
    assert len(state.controls) == before, "recorded once Site Recovery answered, not before"
    (queued,) = state.replication_commands
    assert queued.step is Step.PAUSE_REPLICATION and queued.machines == ("vmw-01", "vmw-02")
    state.record_replication(queued, {"vmw-01": None, "vmw-02": "ASR is running TestMigrate on the item"}, NOW)
    record = state.controls[-1]
    assert not record["accepted"] and record["reason"] == "month end"
    assert record["detail"] == "not pausing vmw-02: vmw-02: ASR is running TestMigrate on the item"
    state.absorb("vmw-01", {"machine": "vmw-01", "outcome": "migrated", "stage": "migrated", "stages": {}})
    assert not command(state, "resume", machines=["vmw-01"])["accepted"]
    assert state.controls[-1]["detail"] == "no longer replicating: vmw-01"
    state.apply_command({"action": "resume", "actor": "ops", "reason": "r", "machines": ["vmw-02"]}, NOW)
    state.record_replication(state.replication_commands[-1], {"vmw-02": None}, NOW)
    assert state.controls[-1]["accepted"] and state.controls[-1]["detail"] == "resuming replication of vmw-02"
    assert [e.data["action"] for e in state.outbox][-1] == "resume"


def test_the_status_of_the_largest_wave_stays_far_below_the_limit() -> None:
    names = [f"{'n' * 60}{index:04d}" for index in range(1000)]
    state = prepared(wave(names[:500], names[500:]), *names[::2])
    for name in names:
        command(state, "approve", machines=[name], reason="r" * 5000, actorId="f" * 500, assertedActor="a" * 5000)
    command(state, "retry", machines=names)
    state.start_hold(Hold("machinesFailed", "x" * 300), NOW)
    assert utf16_size(state.status(NOW, NOW)) < CUSTOM_STATUS_MAX_BYTES // 2


def test_the_result_says_what_became_of_the_machines() -> None:
    state = wave(["a"], ["b"])
    state.absorb("a", {"machine": "a", "outcome": "migrated", "stage": "migrated", "stages": {"commit": {}}})
    state.absorb("b", {"machine": "b", "outcome": "failedOver", "stage": "rollback"})
    result = state.result(NOW)
    assert result["status"] == "Migrated" and result["machines"]["b"]["outcome"] == "migrated"
    assert result["machines"]["a"]["group"] == "group-0" and "stages" in result["machines"]["a"]
    event = state.completed_event(result)
    assert event.data["counts"] == {"migrated": 2, "failed": 0, "cancelled": 0}
    state.absorb("b", {"machine": "b", "outcome": "cancelled", "stage": "rollback"})
    assert state.result(NOW)["status"] == "PartiallyMigrated"
    state.absorb("a", {"machine": "a", "outcome": "failed", "stage": "commit"})
    assert state.result(NOW)["status"] == "Failed"
    state.cancel_requested = True
    assert state.result(NOW)["status"] == "Cancelled"


@pytest.mark.parametrize(
    ("machines", "sizes"),
    [(1, [1]), (50, [50]), (60, [30, 30]), (101, [34, 34, 33]), (1000, [50] * 20)],
)
def test_batches_are_as_few_and_as_even_as_the_batch_size_allows(machines: int, sizes: list[int]) -> None:
    names = [f"vm{index}" for index in range(machines)]
    batches = split_batches(names)
    assert [len(batch) for batch in batches] == sizes
    assert [name for batch in batches for name in batch] == names
    assert all(len(batch) <= BATCH_SIZE for batch in batches)


@pytest.mark.parametrize(("batches", "slots", "caps"), [(1, 10, [10]), (3, 10, [4, 3, 3]), (20, 8, [1] * 8)])
def test_caps_add_up_to_max_parallel(batches: int, slots: int, caps: list[int]) -> None:
    assert batch_caps(batches, slots) == caps
