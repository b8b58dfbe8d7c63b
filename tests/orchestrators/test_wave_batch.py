"""The wave's batch under the SDK's replay: its pool of machine orchestrations, failures, and the cutover's stop.

Each machine's runbook (or rollback) is a child the test answers in the shape it returns, after a duration the
test picks per machine, so the pool's refills happen in a known order. The Durable extension's rule that an action
is issued only once the one before it resolved is played by the driver, which is what makes the refill's ``kick``
timer visible: without it a machine would wait for the wrong one to end.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from migration.instance_ids import machine_id, rollback_id
from orchestrators.wave_batch import wave_batch
from tests.orchestrators.replay import LATENCY, Fail, Replay, Work
from tests.support.machines import example_plan, fleet_machine

Json = dict[str, Any]
MIGRATION = "wave-2026-12"
OPTIONS: Json = example_plan("vmware.yaml").options.model_dump(by_alias=True, mode="json", exclude_none=True)
DONE = {"prepare": "ready", "cutover": "migrated", "rollback": "cancelled"}
STOP = {"reason": "migration cancelled"}  # what activities.stop_starting raises


def _request(phase: str, cap: int, count: int, **entries: Json) -> Json:
    machines: list[Json] = []
    for index in range(count):
        machine = fleet_machine(index)
        machines.append({"machine": machine, "attempt": 0, "record": None, **entries.get(machine["name"], {})})
    return {
        "migrationId": MIGRATION,
        "phase": phase,
        "cap": cap,
        "timeScale": 1.0,
        "options": OPTIONS,
        "machines": machines,
    }


class Machines:
    """Answers each machine's child orchestration with its phase's record, or a failure for those in ``failing``."""

    def __init__(self, phase: str, failing: dict[str, str] | None = None) -> None:
        self.phase = phase
        self.failing = failing or {}
        self.ran: list[str] = []

    def __call__(self, name: str, payload: Any) -> Any:
        machine = payload["machine"]["name"]
        self.ran.append(machine)
        if machine in self.failing:
            return Fail(self.failing[machine])
        return {"machine": machine, "outcome": DONE[self.phase], "stage": "cutoverGate", "error": None}


def _replay(request: Json, machines: Machines, minutes: dict[str, int] | None = None) -> Replay:
    def duration(work: Work) -> timedelta:
        if work.kind == "sub":
            return timedelta(minutes=(minutes or {}).get(work.payload["machine"]["name"], 1))
        return LATENCY

    return Replay(wave_batch, request, instance_id="migration~w~batch~x", sub_orchestration=machines, duration=duration)


def _children(replay: Replay) -> list[Work]:
    return [w for w in replay.issued if w.kind == "sub"]


def _output(replay: Replay) -> Json:
    state = replay.run()
    assert replay.outcome == "completed", state.get("error")
    output: Json = state["output"]
    return output


def test_the_pool_stays_full_without_exceeding_its_cap_while_machines_wait() -> None:
    """Cap 2, five machines of different lengths: whenever one ends and others wait, the next starts in the same
    episode, so the pool is full until the queue is empty, and never holds more than 2. The refills after the first
    fan-out carry the ``kick`` timer (due at once) that lets the extension issue them."""
    minutes = {"vm00": 10, "vm01": 60, "vm02": 100, "vm03": 30, "vm04": 20}
    replay = _replay(_request("prepare", 2, 5), Machines("prepare"), minutes)
    output = _output(replay)
    assert sorted(output["results"]) == sorted(minutes) and output["notStarted"] == []
    children = _children(replay)
    assert [w.payload["machine"]["name"] for w in children] == list(minutes)
    last_start = max(w.issued_at for w in children)
    for moment in sorted({w.issued_at for w in children} | {w.completed_at for w in children if w.completed_at}):
        running = [w for w in children if w.issued_at <= moment and (w.completed_at is None or w.completed_at > moment)]
        assert len(running) <= 2, (moment, running)
        if moment < last_start:
            assert len(running) == 2, f"a slot stayed free at {moment} while machines waited"
    kicks = [w for w in replay.issued if w.kind == "timer" and w.fire_at == w.issued_at]
    refills = [w for w in children if w.issued_at > children[0].issued_at]
    assert sorted(k.issued_at for k in kicks) == sorted(w.issued_at for w in refills)
    assert not [k for k in kicks if k.issued_at == children[0].issued_at], "the first fan-out needs no kick"
    assert all(status["runningCount"] <= 2 for status in replay.statuses if status)


def test_a_child_that_fails_is_reported_failed_not_lost() -> None:
    """A machine's orchestration that fails (not its migration: the orchestration itself) still has a record, so the
    wave holds or retries it instead of waiting for a machine that will never report."""
    machines = Machines("prepare", failing={"vm01": "ValueError: the runbook crashed"})
    output = _output(_replay(_request("prepare", 2, 3), machines))
    assert sorted(output["results"]) == ["vm00", "vm01", "vm02"]
    failed = output["results"]["vm01"]
    assert (failed["machine"], failed["outcome"]) == ("vm01", "failed")
    assert (failed["error"]["stage"], failed["error"]["code"]) == ("prepare", "OrchestrationFailed")
    assert "the runbook crashed" in failed["error"]["message"]
    assert [output["results"][m]["outcome"] for m in ("vm00", "vm02")] == ["ready", "ready"]


def test_a_cutover_batch_told_to_stop_starts_no_further_machine_and_hands_the_rest_back() -> None:
    """The wave's cancel reaches a cutover batch as ``stop``: machines failing over finish (and keep their
    records), the ones still queued never start and come back as ``notStarted`` for the wave to roll back."""
    machines = Machines("cutover")
    replay = _replay(_request("cutover", 2, 5), machines, {"vm00": 10, "vm01": 60, "vm02": 60})

    def refilled(r: Replay) -> bool:
        return any(w.payload["machine"]["name"] == "vm02" for w in r.running(kind="sub"))

    stop = replay.raise_event("stop", STOP, when=refilled)
    output = _output(replay)
    assert output["notStarted"] == ["vm03", "vm04"]
    assert sorted(output["results"]) == ["vm00", "vm01", "vm02"]
    assert {r["outcome"] for r in output["results"].values()} == {"migrated"}
    assert machines.ran == ["vm00", "vm01", "vm02"]
    assert stop.raised_at and all(w.issued_at < stop.raised_at for w in _children(replay))
    assert all(w.payload["fromStage"] == "cutoverGate" for w in _children(replay))


@pytest.mark.parametrize(("phase", "orchestrator"), [("prepare", "machine_runbook"), ("rollback", "machine_rollback")])
def test_a_prepare_or_rollback_batch_runs_every_machine_it_is_given(phase: str, orchestrator: str) -> None:
    """Only a cutover listens for ``stop`` (the others are terminated or must finish): a stray ``stop`` changes
    nothing, every machine runs under its phase's orchestration and instance id, with its attempt, the stage to
    resume from and its last record, and every record comes back."""
    record = {"machine": "vm01", "outcome": "failed", "stages": {}}
    request = _request(phase, 1, 3, vm01={"attempt": 2, "fromStage": "testFailover", "record": record})
    machines = Machines(phase)
    replay = _replay(request, machines)
    replay.raise_event("stop", STOP, when=lambda r: bool(r.running(kind="sub")))
    output = _output(replay)
    assert output["notStarted"] == [] and sorted(output["results"]) == ["vm00", "vm01", "vm02"]
    assert {r["outcome"] for r in output["results"].values()} == {DONE[phase]}
    children = _children(replay)
    assert {w.name for w in children} == {orchestrator}
    if phase == "prepare":
        expected_ids = [machine_id(MIGRATION, m, "prepare", a) for m, a in (("vm00", 0), ("vm01", 2), ("vm02", 0))]
        assert [w.payload["fromStage"] for w in children] == ["validate", "testFailover", "validate"]
        assert {w.payload["stopAt"] for w in children} == {"cutoverGate"}
        assert children[1].payload["record"] == record
    else:
        expected_ids = [rollback_id(MIGRATION, m, a) for m, a in (("vm00", 0), ("vm01", 2), ("vm02", 0))]
    assert [w.instance_id for w in children] == expected_ids
    assert [w.payload["attempt"] for w in children] == [0, 2, 0]
