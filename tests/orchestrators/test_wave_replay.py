"""The wave under the SDK's replay: the gate, cancels at each phase, retries, timeouts and windows.

End to end each of these costs a host, an ASR emulator and simulated days (an approval timeout is three days);
here the wave is the registered orchestrator replayed by the real SDK, its batches and activities are answered in
the shapes they return (``wave_batch``: ``{"results", "notStarted"}``; ``publish_event``, ``terminate_instances``,
``stop_starting``), and operator commands arrive as ``control`` events at the moment each test names. Every test
also checks the custom status of every episode against Azure's 16 KB.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from migration.instance_ids import batch_id, machine_id, wave_id
from migration.plan_clock import PlanClock
from migration.status_bounds import CUSTOM_STATUS_MAX_BYTES, utf16_size
from orchestrators.wave import migration_wave
from tests.orchestrators.replay import LATENCY, START, Fail, Replay, Work
from tests.support.machines import example_plan, fleet_machine

Json = dict[str, Any]
MIXED: Json = example_plan("mixed-wave.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)
PLAN_ID = MIXED["id"]
DATA, APP = ["db01", "hv-file01"], ["app01"]
OPERATOR = {"actor": "operator@example.com", "reason": "change board said so"}


def _plan(**options: Any) -> Json:
    """The example wave cut to two groups (data: db01 and hv-file01, then app: app01), options changed."""
    plan = copy.deepcopy(MIXED)
    plan["options"].pop("drAfterMigration", None)
    plan["options"].update(options)
    groups = []
    for group in plan["groups"]:
        machines = [m for m in group["machines"] if m["name"] in DATA + APP]
        if machines:
            groups.append({**group, "machines": machines})
    plan["groups"] = groups
    return plan


def _record(machine: str, outcome: str, stage: str = "cutoverGate", error: Json | None = None) -> Json:
    """A machine's result as its runbook (or rollback) returns it, reduced to what the wave reads."""
    return {"machine": machine, "outcome": outcome, "stage": stage, "stages": {}, "error": error, "jobs": []}


DONE = {"prepare": "ready", "cutover": "migrated", "rollback": "cancelled"}


class Script:
    """Answers the wave's batches and activities, and keeps what it was asked.

    ``failing`` names machines whose preparation fails (once each); a cutover batch told to stop (through
    ``stop_starting``) runs only its first machine and hands the rest back as ``notStarted``, as ``wave_batch`` does.
    """

    def __init__(self, failing: set[str] | None = None) -> None:
        self.failing = set(failing or ())
        self.batches: list[Json] = []  # the payloads of completed batches, in completion order
        self.published: list[Json] = []
        self.terminated: list[Json] = []
        self.stopped: list[Json] = []
        self.released: list[Json] = []
        self.fit_checks: list[Json] = []  # the target pre-flight: asked once, before the first batch
        self.replay: Replay | None = None

    def activity(self, name: str, payload: Any) -> Any:
        if name == "publish_event":
            self.published.append(payload)
            return {"eventId": payload["eventKey"], "published": True}
        if name == "terminate_instances":
            self.terminated.append(payload)
            return {"terminated": payload["instanceIds"]}
        if name == "stop_starting":
            self.stopped.append(payload)
            return {"stopped": payload["instanceIds"]}
        if name == "release_claims":
            self.released.append(payload)
            return {"released": []}
        if name == "check_target_fit":
            self.fit_checks.append(payload)
            return {"problems": [], "warnings": [], "notes": []}  # the target fits: nothing to refuse
        raise AssertionError(f"unexpected activity {name}")

    def sub_orchestration(self, name: str, payload: Any) -> Any:
        assert name == "wave_batch"
        self.batches.append(payload)
        phase = payload["phase"]
        machines = [entry["machine"]["name"] for entry in payload["machines"]]
        if phase == "prepare" and self.terminated:
            return Fail("Terminated: migration cancelled")  # what a terminated child reports to its parent
        started, not_started = machines, []
        if phase == "cutover" and self.stopped:
            started, not_started = machines[:1], machines[1:]
        results = {}
        for machine in started:
            if phase == "prepare" and machine in self.failing:
                self.failing.discard(machine)
                error = {"stage": "testFailover", "code": "28092", "message": "failed", "jobId": None}
                results[machine] = _record(machine, "failed", "testFailover", error)
            else:
                results[machine] = _record(machine, DONE[phase])
        return {"results": results, "notStarted": not_started}

    # -- what the tests read ------------------------------------------------------------------------------

    def types(self) -> list[str]:
        return [event["type"] for event in self.published]

    def phases(self) -> list[tuple[str, list[str]]]:
        return [(b["phase"], [e["machine"]["name"] for e in b["machines"]]) for b in self.batches]


def _replay(plan: Json, script: Script, duration: Callable[[Work], timedelta] | None = None) -> Replay:
    replay = Replay(
        migration_wave,
        {"plan": plan, "clock": PlanClock(1.0, START, START).to_dict()},
        instance_id=wave_id(plan["id"]),
        activity=script.activity,
        sub_orchestration=script.sub_orchestration,
        duration=duration or (lambda work: LATENCY),
    )
    script.replay = replay
    return replay


def _finish(replay: Replay) -> Json:
    """Run the wave to its end; its result, once every status it set was checked against Azure's limit."""
    state = replay.run()
    assert replay.outcome == "completed", state.get("error")
    sizes = [utf16_size(status) for status in replay.statuses if status is not None]
    assert sizes and max(sizes) <= CUSTOM_STATUS_MAX_BYTES
    output: Json = state["output"]
    return output


def _control(action: str, **extra: Any) -> Json:
    return {"action": action, **OPERATOR, **extra}


def _phase(name: str) -> Callable[[Replay], bool]:
    return lambda replay: (replay.status or {}).get("phase") == name


def _batch_running(phase: str) -> Callable[[Replay], bool]:
    return lambda replay: any(w.payload["phase"] == phase for w in replay.running(name="wave_batch"))


def _published(script: Script, event_type: str) -> Callable[[Replay], bool]:
    """True once the wave's ``event_type`` event was published (its activity completed)."""
    return lambda replay: event_type in script.types()


def _batches(replay: Replay) -> list[Work]:
    return [w for w in replay.issued if w.name == "wave_batch"]


def _outcomes(result: Json) -> dict[str, str]:
    return {name: record["outcome"] for name, record in result["machines"].items()}


def test_a_two_group_wave_asks_once_at_the_gate_and_cuts_over_group_by_group() -> None:
    """Preparation runs every machine, then the gate asks for an approval once (one ``awaiting_approval``) even
    when the approval comes group by group, and a group's cutover starts only after the group before it ended."""
    script = Script()
    replay = _replay(_plan(), script)

    def asked_again(r: Replay) -> bool:
        """At the gate a second time: the data group has cut over, the app group is not approved yet."""
        data_done = any(w.payload["phase"] == "cutover" and w.completed_at for w in _batches(r))
        return data_done and _phase("awaitingApproval")(r)

    first = replay.raise_event(
        "control", _control("approve", machines=DATA), when=_published(script, "migration.awaiting_approval")
    )
    second = replay.raise_event("control", _control("approve", machines=APP), when=asked_again)
    result = _finish(replay)
    assert result["status"] == "Migrated" and set(_outcomes(result).values()) == {"migrated"}
    assert len(script.fit_checks) == 1, "the target is checked once, for the whole plan"
    assert script.phases() == [("prepare", DATA + APP), ("cutover", DATA), ("cutover", APP)]
    assert script.types().count("migration.awaiting_approval") == 1
    asked = next(e for e in script.published if e["type"] == "migration.awaiting_approval")
    assert asked["data"]["machines"] == DATA + APP and asked["data"]["onApprovalTimeout"] == "hold"
    # No cutover before its approval; the app group only after the data group's batch ended.
    prepare, data, app = _batches(replay)
    assert prepare.completed_at and first.raised_at and data.issued_at >= first.raised_at >= prepare.completed_at
    assert data.completed_at and second.raised_at and app.issued_at >= max(data.completed_at, second.raised_at)
    assert [(c["action"], c["accepted"], c["machines"]) for c in result["controls"]] == [
        ("approve", True, DATA),
        ("approve", True, APP),
    ]
    assert script.types()[0] == "migration.accepted" and script.types()[-1] == "migration.completed"
    # The machines' claims are released once, after the last cutover, naming this migration.
    assert script.released == [{"owner": result["migrationId"]}]
    (release,) = [w for w in replay.issued if w.name == "release_claims"]
    assert app.completed_at and release.issued_at >= app.completed_at


def test_an_early_approval_is_kept_for_the_gate() -> None:
    """An approval raised while the machines are still being prepared opens the gate when they are ready: no
    ``awaiting_approval``, no approval timer, the cutover starts as soon as preparation ends, and the app group
    still waits for the data group's cutover (an hour here) to end."""
    script = Script()
    replay = _replay(_plan(), script, duration=lambda w: timedelta(hours=1) if w.name == "wave_batch" else LATENCY)
    replay.raise_event("control", _control("approve"), when=_batch_running("prepare"))
    result = _finish(replay)
    assert result["status"] == "Migrated"
    assert "migration.awaiting_approval" not in script.types()
    assert script.phases() == [("prepare", DATA + APP), ("cutover", DATA), ("cutover", APP)]
    prepare, data, app = _batches(replay)
    assert prepare.completed_at and data.issued_at - prepare.completed_at < timedelta(minutes=1)
    assert data.completed_at and data.completed_at <= app.issued_at < data.completed_at + timedelta(minutes=1)
    assert result["controls"][0]["accepted"] is True


@pytest.mark.parametrize(("action", "next_phase"), [("approve", "cutover"), ("cancel", "rollback")])
def test_a_command_that_comes_while_the_gate_is_announced_acts_at_once(action: str, next_phase: str) -> None:
    """Operators (or a Logic App) answer the ``awaiting_approval`` event; an answer quicker than the publish
    activity's completion reaches the wave while it is still publishing, and must act then, not an hour later."""
    script = Script()
    replay = _replay(_plan(approval={"required": True, "timeout": "PT1H", "onTimeout": "cancel"}), script)

    def announcing(r: Replay) -> bool:
        return any(w.payload["type"] == "migration.awaiting_approval" for w in r.running(name="publish_event"))

    command = replay.raise_event("control", _control(action), when=announcing)
    result = _finish(replay)
    assert [(c["action"], c["actor"]) for c in result["controls"]] == [(action, OPERATOR["actor"])]
    following = next(w for w in _batches(replay) if w.payload["phase"] == next_phase)
    assert command.raised_at and following.issued_at - command.raised_at < timedelta(minutes=1)


def test_a_cancel_during_preparation_terminates_the_runbooks_then_rolls_every_machine_back() -> None:
    """Runbooks in flight would go on changing Site Recovery: the batch and each machine's runbook are terminated
    first, the wave lets activities already running finish, and only then rolls every machine back."""
    script = Script()
    replay = _replay(_plan(), script, duration=lambda w: timedelta(hours=1) if w.name == "wave_batch" else LATENCY)
    cancel = replay.raise_event("control", _control("cancel"), when=_batch_running("prepare"))
    result = _finish(replay)
    assert result["status"] == "Cancelled" and set(_outcomes(result).values()) == {"cancelled"}
    (terminate,) = script.terminated
    machines = DATA + APP
    assert terminate["instanceIds"] == [
        batch_id(PLAN_ID, "prepare", 1, 0),
        *[machine_id(PLAN_ID, m, "prepare", 0) for m in machines],
    ]
    assert terminate["attempts"] == 0
    # The rollback comes after the termination and its grace timer; no cutover ever starts.
    (terminate_work,) = [w for w in replay.issued if w.name == "terminate_instances"]
    rollback = next(w for w in _batches(replay) if w.payload["phase"] == "rollback")
    assert cancel.raised_at and terminate_work.issued_at >= cancel.raised_at
    assert terminate_work.completed_at and rollback.issued_at - terminate_work.completed_at >= timedelta(seconds=60)
    grace = [w for w in replay.issued if w.kind == "timer" and terminate_work.id < w.id < rollback.id]
    assert any(t.fire_at and t.fire_at - t.issued_at >= timedelta(seconds=60) for t in grace)
    assert rollback.instance_id == batch_id(PLAN_ID, "rollback", 2, 0)
    assert [e["machine"]["name"] for e in rollback.payload["machines"]] == machines
    assert not [w for w in _batches(replay) if w.payload["phase"] == "cutover"]


def test_a_cancel_during_cutover_stops_the_running_batch_and_rolls_back_what_it_never_started() -> None:
    """A failover cannot be undone, so the batch cutting over is not terminated: ``stop_starting`` tells it (by its
    instance id) to start no further machine; what it hands back as ``notStarted`` is rolled back with the groups
    that never cut over, and the machine that did fail over is reported migrated."""
    script = Script()
    replay = _replay(_plan(), script, duration=lambda w: timedelta(hours=1) if w.name == "wave_batch" else LATENCY)
    replay.raise_event("control", _control("approve"), when=_batch_running("prepare"))
    replay.raise_event("control", _control("cancel"), when=_batch_running("cutover"))
    result = _finish(replay)
    (stop,) = script.stopped
    assert stop["instanceIds"] == [batch_id(PLAN_ID, "cutover", 2, 0)]
    assert not script.terminated, "a cutover in progress is never terminated"
    assert script.phases() == [("prepare", DATA + APP), ("cutover", DATA), ("rollback", ["hv-file01", "app01"])]
    assert _outcomes(result) == {"db01": "migrated", "hv-file01": "cancelled", "app01": "cancelled"}
    assert result["status"] == "PartiallyMigrated"
    # A machine the batch never started is not a failure, at any moment.
    assert not [s for s in replay.statuses if s and s["counts"].get("failed")]
    # The stop went out while the batch was still running.
    cutover = next(w for w in _batches(replay) if w.payload["phase"] == "cutover")
    (stop_work,) = [w for w in replay.issued if w.name == "stop_starting"]
    assert cutover.completed_at and stop_work.completed_at and stop_work.completed_at < cutover.completed_at


def test_a_retry_after_a_failed_machine_runs_a_second_prepare_round_for_it_alone() -> None:
    """A machine that failed holds the wave (``onMachineFailure: hold``); ``retry`` prepares it again from the
    stage it failed at, in a batch whose instance id carries round 2 (round 1's id belongs to a finished batch)."""
    script = Script(failing={"hv-file01"})
    replay = _replay(_plan(), script)
    held: list[Any] = []

    def is_held(r: Replay) -> bool:
        if _phase("held")(r):
            held.append(r.status)
            return True
        return False

    replay.raise_event("control", _control("retry"), when=is_held)
    replay.raise_event("control", _control("approve"), when=_published(script, "migration.awaiting_approval"))
    result = _finish(replay)
    assert held[0]["hold"]["reason"] == "machinesFailed" and "hv-file01" in held[0]["hold"]["detail"]
    assert result["status"] == "Migrated"
    first, second = [w for w in _batches(replay) if w.payload["phase"] == "prepare"]
    assert first.instance_id == batch_id(PLAN_ID, "prepare", 1, 0)
    assert second.instance_id == batch_id(PLAN_ID, "prepare", 2, 0)
    (entry,) = second.payload["machines"]
    assert entry["machine"]["name"] == "hv-file01"
    assert (entry["attempt"], entry["fromStage"]) == (1, "testFailover")
    assert not any(w.payload["phase"] == "cutover" for w in _batches(replay) if w.issued_at < second.issued_at)


def test_an_approval_timeout_with_on_timeout_cancel_rolls_every_machine_back() -> None:
    """No approval within the plan's timeout and ``onTimeout: cancel``: the wave cancels itself (recorded as the
    system's command) at the deadline it announced, and rolls back without any failover."""
    script = Script()
    replay = _replay(_plan(approval={"required": True, "timeout": "PT1H", "onTimeout": "cancel"}), script)
    result = _finish(replay)
    assert result["status"] == "Cancelled" and set(_outcomes(result).values()) == {"cancelled"}
    assert [(c["action"], c["actor"]) for c in result["controls"]] == [("cancel", "system")]
    asked = next(e for e in script.published if e["type"] == "migration.awaiting_approval")
    deadline = datetime.fromisoformat(asked["data"]["approvalDeadline"])
    assert script.phases() == [("prepare", DATA + APP), ("rollback", DATA + APP)]
    (rollback,) = [w for w in _batches(replay) if w.payload["phase"] == "rollback"]
    assert deadline <= rollback.issued_at < deadline + timedelta(minutes=5)
    assert any(w.kind == "timer" and w.fire_at == deadline for w in replay.issued)


def test_a_missed_window_holds_the_wave_until_it_is_postponed() -> None:
    """A window that ended before the wave reached it holds the wave (no failover outside the window); a
    postpone with a new window releases it, and the cutover waits for the new window's start."""
    past = START - timedelta(days=2)
    window = {"notBefore": past.isoformat(), "notAfter": (past + timedelta(hours=4)).isoformat()}
    script = Script()
    replay = _replay(_plan(approval={"required": False}, cutoverWindow=window), script)
    opens: list[datetime] = []

    def postpone_when_held(r: Replay) -> bool:
        return _phase("held")(r) and (r.status or {}).get("hold", {}).get("reason") == "windowMissed"

    def new_window() -> Json:
        opens.append(START + timedelta(hours=6))
        return {"notBefore": opens[0].isoformat(), "notAfter": (opens[0] + timedelta(hours=8)).isoformat()}

    postpone = replay.raise_event("control", _control("postpone", window=new_window()), when=postpone_when_held)
    result = _finish(replay)
    assert result["status"] == "Migrated"
    assert [c["action"] for c in result["controls"]] == ["postpone"]
    cutovers = [w for w in _batches(replay) if w.payload["phase"] == "cutover"]
    assert postpone.raised_at and postpone.raised_at < opens[0]
    assert cutovers and all(w.issued_at >= opens[0] for w in cutovers)
    assert any(s and s.get("phase") == "waitingForWindow" for s in replay.statuses)


def test_a_large_wave_with_long_commands_keeps_its_status_within_azures_limit() -> None:
    """The status carries counts and a few names, never lists that grow with the plan or texts as long as the
    commands': 250 machines waiting at the gate, commands with 1,000-character reasons naming all of them."""
    plan = _plan(approval={"required": True, "timeout": "P3D", "onTimeout": "hold"}, maxParallel=20)
    machines = [fleet_machine(index) for index in range(250)]
    for index, machine in enumerate(machines):
        machine["name"] = f"machine-with-a-rather-long-name-{index:04d}"
    plan["groups"] = [{"name": "fleet", "machines": machines}]
    names = [m["name"] for m in machines]
    script = Script()
    replay = _replay(plan, script)
    long = {"actor": "a" * 200, "reason": "r" * 1000, "machines": names}
    replay.raise_event("control", {"action": "postpone", "window": "soon", **long}, when=_batch_running("prepare"))
    gate = _published(script, "migration.awaiting_approval")
    replay.raise_event("control", {"action": "approve", **long}, when=gate)
    result = _finish(replay)
    assert result["status"] == "Migrated"
    assert [c["accepted"] for c in result["controls"]] == [False, True]
    at_gate = [s for s in replay.statuses if s and s["phase"] == "awaitingApproval"]
    assert at_gate and max(s["gate"]["awaiting"]["count"] for s in at_gate) == 250
    assert len({b.instance_id for b in _batches(replay)}) == 10  # 250 machines in batches of 50, twice
