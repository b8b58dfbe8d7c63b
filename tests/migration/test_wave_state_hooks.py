"""The wave's rules for a group's hooks and for migrated VMs that failed their checks (``migration.wave_state``).

The hooks' results and the machines' records are written by hand in the shapes ``orchestrators.group_hooks`` and
the runbook return, so the rules are tested without a host: when hooks run, what a failure holds, what retry,
approve and cancel do then, and what is reported.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from migration.events import build_event
from migration.plan import validate_plan
from migration.status_bounds import CUSTOM_STATUS_MAX_BYTES, utf16_size
from migration.wave_state import AwaitApproval, Cutover, Hold, HookRun, RunHooks, WaveState

from .plan_data import inmage_machine, plan

NOW = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
URL = "https://prod-12.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=S3CR3T"


def wave(
    before: list[dict[str, Any]] | None = None,
    after: list[dict[str, Any]] | None = None,
    *,
    on_failure: str = "hold",
    hooked: int = 1,
) -> WaveState:
    """Group ``db`` (db-01) then group ``web`` (web-01, web-02); ``hooked`` says which one has the hooks."""
    document = plan([inmage_machine("db-01")], [inmage_machine("web-01"), inmage_machine("web-02")])
    document["groups"][0]["name"], document["groups"][1]["name"] = "db", "web"
    document["groups"][hooked]["hooks"] = {"beforeCutover": before or [], "afterCutover": after or []}
    document["options"] = {"approval": {"required": False}, "checks": {"onMigratedVmFailure": on_failure}}
    state = WaveState(validate_plan(document), NOW, timedelta(hours=1))
    for name in state.machines:
        state.absorb(name, {"machine": name, "outcome": "ready", "stage": "cutoverGate", "stages": {}})
    return state


def http(name: str) -> dict[str, Any]:
    return {"name": name, "type": "http", "url": URL}


def migrate(state: WaveState, *machines: str, checks: str | None = None) -> None:
    for name in machines:
        record: dict[str, Any] = {"machine": name, "outcome": "migrated", "stage": "migrated", "stages": {}}
        if checks is not None:
            record["checks"] = {
                "migratedVm": {
                    "phase": "migratedVm",
                    "vm": name,
                    "outcome": checks,
                    "checks": [{"name": "running", "kind": "boot", "outcome": checks, "detail": "power state"}],
                }
            }
        state.absorb(name, record)


def result(name: str, outcome: str, **extra: Any) -> dict[str, Any]:
    """One hook's result as ``orchestrators.group_hooks`` returns it."""
    return {
        "name": name,
        "type": "http",
        "outcome": outcome,
        "attempts": 3 if outcome == "failed" else 1,
        "host": "prod-12.westeurope.logic.azure.com",
        "httpStatus": 500 if outcome == "failed" else 200,
        "excerpt": "busy" if outcome == "failed" else None,
        "detail": "HTTP 500, expected a 2xx (after 3 calls)" if outcome == "failed" else "HTTP 200",
        "startedAt": NOW.isoformat(),
        "endedAt": NOW.isoformat(),
        "durationSeconds": 61.0,
        **extra,
    }


def command(state: WaveState, action: str, **extra: Any) -> dict[str, Any]:
    state.apply_command({"action": action, "actor": "ops@example.com", "reason": "CAB-7", **extra}, NOW)
    return state.controls[-1]


def run_hooks(state: WaveState, decision: Any, *outcomes: str) -> HookRun:
    """Start the run the gate asked for and record one result per hook, with the outcomes given."""
    assert isinstance(decision, RunHooks), decision
    run = state.start_hooks(decision, NOW)
    assert state.phase == "runningHooks" and state.hooks_running is not None
    results = [result(hook.name, outcome) for hook, outcome in zip(run.hooks, outcomes, strict=False)]
    results += [
        {"name": h.name, "type": h.type, "outcome": "skipped", "detail": "…"} for h in run.hooks[len(results) :]
    ]
    state.record_hooks(run, results, NOW)
    return run


def hold(state: WaveState) -> Hold:
    decision = state.gate(NOW)
    assert isinstance(decision, Hold), decision
    state.start_hold(decision, NOW)
    return decision


def test_a_failed_before_cutover_hook_holds_the_group_unfailed_over_until_a_retry_runs_the_hooks_again() -> None:
    state = wave(before=[http("drain-lb"), http("stop-app")])
    assert state.gate(NOW) == Cutover(["db-01"]), "the first group has no hooks"
    migrate(state, "db-01")
    decision = state.gate(NOW)
    assert decision == RunHooks(1, "beforeCutover")
    first = run_hooks(state, decision, "failed")
    assert (first.group_name, first.attempt, first.machines) == ("web", 0, ("web-01", "web-02"))
    assert first.migrated == frozenset({"db-01"}) and first.started_at == NOW

    held = hold(state)
    assert (held.reason, held.group, held.phase) == ("hookFailed", "web", "beforeCutover")
    assert "'drain-lb': HTTP 500" in held.detail and "retry" in held.detail
    assert state.status(NOW, NOW)["hold"] == {
        "reason": "hookFailed",
        "detail": held.detail,
        "since": NOW.isoformat(),
        "group": "web",
        "phase": "beforeCutover",
    }
    assert state.with_outcome("ready") == ["web-01", "web-02"], "no machine of the group failed over"
    assert state.with_outcome("migrated") == ["db-01"], "the earlier group stays migrated"

    approval = command(state, "approve")
    assert approval["accepted"] and "retry them or cancel" in approval["detail"]
    assert isinstance(state.gate(NOW), Hold), "an approval does not skip a failed hook before the cutover"

    retried = command(state, "retry")
    assert retried["accepted"] and retried["detail"] == "retrying the beforeCutover hooks of group 'web'"
    state.hold = None
    again = state.gate(NOW)
    assert again == RunHooks(1, "beforeCutover")
    assert run_hooks(state, again, "passed", "passed").attempt == 1
    assert state.gate(NOW) == Cutover(["web-01", "web-02"])

    # Two events for the first run (the skipped hook has none), two for the second, each keyed by its run.
    events = [e for e in state.outbox if e.type == "migration.group.hook_completed"]
    assert [(e.data["hook"], e.data["attempt"], e.status) for e in events] == [
        ("drain-lb", 0, "failed"),
        ("drain-lb", 1, "passed"),
        ("stop-app", 1, "passed"),
    ]
    assert len({e.key for e in events}) == 3
    for event in events:
        built = build_event(event.type, event_key=event.key, time=NOW, migration_id=state.plan.id, data=event.data)
        assert built.application_properties["status"] == event.status
        assert "S3CR3T" not in built.body and "sig=" not in built.body

    migrate(state, "web-01", "web-02")
    assert state.gate(NOW) is None
    hooks = state.result(NOW)["hooks"]
    assert list(hooks) == ["web"] and list(hooks["web"]) == ["beforeCutover"]
    last = hooks["web"]["beforeCutover"]
    assert (last["outcome"], last["attempt"]) == ("passed", 1)
    assert [(h["name"], h["outcome"], h["httpStatus"]) for h in last["hooks"]] == [
        ("drain-lb", "passed", 200),
        ("stop-app", "passed", 200),
    ]


def test_a_cancel_while_a_before_cutover_hook_holds_rolls_back_the_group_and_keeps_the_earlier_one() -> None:
    state = wave(before=[http("drain-lb")])
    migrate(state, "db-01")
    run_hooks(state, state.gate(NOW), "failed")
    hold(state)
    assert command(state, "cancel")["accepted"]
    assert state.to_roll_back() == ["web-01", "web-02"]
    assert command(state, "retry")["detail"] == "the wave is being cancelled"


def test_a_retry_of_named_machines_leaves_the_hooks_alone() -> None:
    state = wave(before=[http("drain-lb")])
    migrate(state, "db-01")
    run_hooks(state, state.gate(NOW), "failed")
    assert command(state, "retry", machines=["web-01"])["detail"] == "no failed machine to retry"
    assert state.failed_hooks() == [(1, "beforeCutover")]


def test_a_failed_after_cutover_hook_holds_before_the_next_group_until_an_approval() -> None:
    state = wave(after=[http("switch-dns"), http("smoke")], hooked=0)
    assert state.gate(NOW) == Cutover(["db-01"])
    migrate(state, "db-01")
    decision = state.gate(NOW)
    assert decision == RunHooks(0, "afterCutover")
    assert run_hooks(state, decision, "failed").migrated == frozenset({"db-01"})
    held = hold(state)
    assert (held.reason, held.group, held.phase) == ("hookFailed", "db", "afterCutover")
    approval = command(state, "approve")
    assert approval["detail"] == "approved; going on past the failed afterCutover hooks of group 'db'"
    state.hold = None
    assert state.gate(NOW) == Cutover(["web-01", "web-02"])
    assert state.result(NOW)["hooks"]["db"]["afterCutover"]["acknowledged"] is True


def test_a_retry_runs_failed_after_cutover_hooks_again() -> None:
    state = wave(after=[http("switch-dns")], hooked=0)
    migrate(state, "db-01")
    run_hooks(state, state.gate(NOW), "failed")
    hold(state)
    assert command(state, "retry")["detail"] == "retrying the afterCutover hooks of group 'db'"
    state.hold = None
    again = state.gate(NOW)
    assert again == RunHooks(0, "afterCutover")
    assert run_hooks(state, again, "passed").attempt == 1
    assert state.gate(NOW) == Cutover(["web-01", "web-02"])


def test_a_failed_after_cutover_hook_is_only_reported_when_the_plan_says_continue() -> None:
    state = wave(after=[http("switch-dns")], hooked=0, on_failure="continue")
    migrate(state, "db-01")
    run_hooks(state, state.gate(NOW), "failed")
    assert state.gate(NOW) == Cutover(["web-01", "web-02"])
    assert state.result(NOW)["hooks"]["db"]["afterCutover"]["outcome"] == "failed"
    assert [e.status for e in state.outbox if e.type == "migration.group.hook_completed"] == ["failed"]


def test_the_last_groups_after_cutover_hooks_run_and_a_failure_there_holds_nothing() -> None:
    state = wave(after=[http("switch-dns")])
    migrate(state, "db-01")
    assert state.gate(NOW) == Cutover(["web-01", "web-02"])
    migrate(state, "web-01")
    assert state.gate(NOW) == Cutover(["web-02"]), "the group is not finished while a machine is still ready"
    migrate(state, "web-02")
    run_hooks(state, state.gate(NOW), "failed")
    assert state.gate(NOW) is None, "nothing is left to hold for"
    assert state.result(NOW)["status"] == "Migrated"


def test_a_group_whose_machines_all_failed_runs_no_after_cutover_hook() -> None:
    state = wave(after=[http("switch-dns")], hooked=0, on_failure="continue")
    state.continue_with_healthy = True
    state.absorb("db-01", {"machine": "db-01", "outcome": "failed", "stage": "unplannedFailover", "stages": {}})
    assert state.gate(NOW) == Cutover(["web-01", "web-02"])


def test_a_migrated_vm_that_failed_its_checks_holds_before_the_next_group_until_an_approval() -> None:
    state = wave()
    migrate(state, "db-01", checks="failed")
    assert state.machines["db-01"].outcome == "migrated", "it migrated all the same"
    held = hold(state)
    assert held.reason == "migratedVmChecksFailed" and "db-01" in held.detail
    assert state.result(NOW)["migratedVmChecksFailed"] == ["db-01"]
    assert command(state, "approve")["detail"] == "approved; going on past failed checks of db-01"
    state.hold = None
    assert state.gate(NOW) == Cutover(["web-01", "web-02"])
    migrate(state, "web-01", "web-02", checks="passed")
    assert state.gate(NOW) is None
    assert state.result(NOW)["migratedVmChecksFailed"] == ["db-01"]


def test_a_migrated_vm_that_failed_its_checks_is_only_reported_when_the_plan_says_continue() -> None:
    state = wave(on_failure="continue")
    migrate(state, "db-01", checks="failed")
    assert state.gate(NOW) == Cutover(["web-01", "web-02"])
    migrate(state, "web-01", "web-02", checks="failed")
    assert state.gate(NOW) is None
    assert state.result(NOW)["migratedVmChecksFailed"] == ["db-01", "web-01", "web-02"]


def test_a_check_failure_of_the_last_group_holds_nothing_and_passed_checks_hold_nothing() -> None:
    state = wave()
    migrate(state, "db-01", checks="passed")
    assert state.gate(NOW) == Cutover(["web-01", "web-02"])
    migrate(state, "web-01", "web-02", checks="failed")
    assert state.gate(NOW) is None


def test_the_gate_asks_for_the_approval_before_it_runs_the_hooks() -> None:
    state = wave(before=[http("drain-lb")])
    state.approved_all = False
    assert isinstance(state.gate(NOW), AwaitApproval)
    state.approved_all = True
    assert state.gate(NOW) == Cutover(["db-01"])


def test_the_status_stays_bounded_with_hooks_running_and_held() -> None:
    state = wave(before=[http(f"hook-{i}") for i in range(10)])
    migrate(state, "db-01")
    decision = state.gate(NOW)
    assert isinstance(decision, RunHooks)
    state.start_hooks(decision, NOW)
    assert state.status(NOW, NOW)["hooksRunning"] == {"group": "web", "phase": "beforeCutover", "attempt": 0}
    state.record_hooks(state.start_hooks(decision, NOW), [result("hook-0", "failed", detail="x" * 5000)], NOW)
    hold(state)
    status = state.status(NOW, NOW)
    assert status["hooksRunning"] is None and len(status["hold"]["detail"]) <= 300
    assert utf16_size(status) < CUSTOM_STATUS_MAX_BYTES
    assert all(len(e.data["detail"]) <= 1000 for e in state.outbox)
