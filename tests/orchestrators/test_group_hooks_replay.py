"""A group's hooks under the SDK's replay: the wave's calls, durable timers between them, commands while they wait,
and ``hook_run_command`` on one migrated VM (``orchestrators.group_hooks``).

The wave's batches are answered as ``wave_batch`` answers (every machine reaches its phase's outcome), ``call_hook``
with the answers each test lists, and the Compute activities in the shapes ``migration.compute`` returns.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from migration.instance_ids import wave_id
from migration.plan_clock import PlanClock
from migration.status_bounds import CUSTOM_STATUS_MAX_BYTES, utf16_size
from orchestrators.group_hooks import hook_run_command
from orchestrators.wave import migration_wave
from tests.orchestrators.replay import START, Replay
from tests.support.machines import example_plan

Json = dict[str, Any]
MIXED: Json = example_plan("mixed-wave.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)
URL = "https://prod-12.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=S3CR3T"
FAILED = {
    "outcome": "failed",
    "retry": True,
    "status": 500,
    "host": "h.example",
    "excerpt": "busy",
    "detail": "HTTP 500",
}
PASSED = {"outcome": "passed", "retry": False, "status": 200, "host": "h.example", "excerpt": "", "detail": "HTTP 200"}
DONE = {"prepare": "ready", "cutover": "migrated", "rollback": "cancelled"}
VM = "/subscriptions/s/resourceGroups/rg-target/providers/Microsoft.Compute/virtualMachines/db01"


def hooked_plan() -> Json:
    """db01 (group data), then app01 (group app), whose cutover waits for a drain hook (one retry, 30 s apart)."""
    plan = copy.deepcopy(MIXED)
    plan["options"].pop("drAfterMigration", None)
    plan["options"]["approval"] = {"required": False}
    groups = []
    for group in plan["groups"]:
        machines = [m for m in group["machines"] if m["name"] in ("db01", "app01")]
        if machines:
            groups.append({**group, "machines": machines})
    groups[1]["hooks"] = {
        "beforeCutover": [{"name": "drain", "type": "http", "url": URL, "retries": 1, "retryDelay": "PT30S"}]
    }
    plan["groups"] = groups
    return plan


class Wave:
    """Answers the wave's batches and activities; ``call_hook`` from ``answers`` (the last one repeats)."""

    def __init__(self, answers: list[Json]) -> None:
        self.answers = answers
        self.calls: list[Json] = []
        self.batches: list[tuple[str, list[str]]] = []
        self.published: list[Json] = []
        plan = hooked_plan()
        self.replay = Replay(
            migration_wave,
            {"plan": plan, "clock": PlanClock(1.0, START, START).to_dict()},
            instance_id=wave_id(plan["id"]),
            activity=self.activity,
            sub_orchestration=self.sub_orchestration,
        )

    def activity(self, name: str, payload: Any) -> Any:
        if name == "call_hook":
            self.calls.append(payload)
            return self.answers[min(len(self.calls), len(self.answers)) - 1]
        if name == "publish_event":
            self.published.append(payload)
            return {"eventId": payload["eventKey"], "published": True}
        if name == "check_target_fit":
            return {"problems": [], "warnings": [], "notes": []}  # the target fits
        if name in ("release_claims", "terminate_instances", "stop_starting"):
            return {"released": [], "terminated": [], "stopped": []}
        raise AssertionError(f"unexpected activity {name}")

    def sub_orchestration(self, name: str, payload: Any) -> Any:
        assert name == "wave_batch"
        machines = [entry["machine"]["name"] for entry in payload["machines"]]
        self.batches.append((payload["phase"], machines))
        records = {m: {"machine": m, "outcome": DONE[payload["phase"]], "stage": "x", "stages": {}} for m in machines}
        return {"results": records, "notStarted": []}

    def run(self) -> Json:
        state = self.replay.run()
        assert self.replay.outcome == "completed", state.get("error")
        assert max(utf16_size(s) for s in self.replay.statuses if s) <= CUSTOM_STATUS_MAX_BYTES
        output: Json = state["output"]
        return output

    def held(self, replay: Replay) -> bool:
        return bool(((replay.status or {}).get("hold") or {}).get("reason") == "hookFailed")

    def hook_events(self) -> list[tuple[str, int, str, int]]:
        return [
            (e["data"]["hook"], e["data"]["attempt"], e["data"]["outcome"], e["data"]["attempts"])
            for e in self.published
            if e["type"] == "migration.group.hook_completed"
        ]


def test_a_failed_hook_is_called_again_after_a_durable_timer_then_holds_until_a_retry() -> None:
    wave = Wave([FAILED, FAILED, PASSED])
    wave.replay.raise_event("control", {"action": "retry", "actor": "ops", "reason": "fixed"}, when=wave.held)
    output = wave.run()

    assert output["status"] == "Migrated"
    assert wave.batches == [("prepare", ["db01", "app01"]), ("cutover", ["db01"]), ("cutover", ["app01"])]
    assert len(wave.calls) == 3, "two calls (one retry) in the first run, one after the retry command"
    first, second, third = wave.calls
    assert first == second, "every call of one run sends the same event"
    assert third["event"]["id"] != first["event"]["id"] and third["event"]["data"]["attempt"] == 1
    assert first["event"]["data"] == {
        "migrationId": MIXED["id"],
        "group": "app",
        "machines": ["app01"],
        "phase": "beforeCutover",
        "hook": "drain",
        "attempt": 0,
    }
    # The hook's own retry waited on a durable timer of retryDelay, not in an activity.
    timers = [w for w in wave.replay.issued if w.kind == "timer" and w.fire_at is not None]
    calls = [w for w in wave.replay.issued if w.name == "call_hook"]
    gap = [t for t in timers if calls[0].due <= t.issued_at and t.fire_at and t.fire_at <= calls[1].issued_at]
    assert gap and gap[0].fire_at is not None and gap[0].fire_at - gap[0].issued_at == timedelta(seconds=30)
    cutover_of_app = next(
        w
        for w in wave.replay.issued
        if w.kind == "sub" and w.payload["phase"] == "cutover" and "app01" in str(w.payload)
    )
    assert cutover_of_app.issued_at > calls[2].due, "no failover of the group before its hook passed"

    assert wave.hook_events() == [("drain", 0, "failed", 2), ("drain", 1, "passed", 1)]
    run = output["hooks"]["app"]["beforeCutover"]
    assert (run["outcome"], run["attempt"], run["hooks"][0]["host"]) == ("passed", 1, "h.example")
    assert "S3CR3T" not in str(output) and all("S3CR3T" not in str(s) for s in wave.replay.statuses)


def test_a_cancel_while_a_hook_waits_to_be_called_again_stops_it_and_rolls_the_group_back() -> None:
    wave = Wave([FAILED])
    waiting = lambda replay: bool(replay.running("timer")) and len(wave.calls) == 1  # noqa: E731
    wave.replay.raise_event("control", {"action": "cancel", "actor": "ops", "reason": "abort"}, when=waiting)
    output = wave.run()

    assert len(wave.calls) == 1, "no further call once the wave is cancelled"
    assert output["status"] == "PartiallyMigrated"
    assert (output["machines"]["db01"]["outcome"], output["machines"]["app01"]["outcome"]) == ("migrated", "cancelled")
    assert ("rollback", ["app01"]) in wave.batches and ("cutover", ["app01"]) not in wave.batches
    assert output["hooks"]["app"]["beforeCutover"]["outcome"] == "failed"


# -- hook_run_command ----------------------------------------------------------------------------------------------

SCRIPT = {"name": "db-ready", "type": "runCommand", "machines": ["db01"], "script": "echo ready", "timeout": "PT5M"}
RUNNING_VM = {"exists": True, "powerState": "running", "agent": "Ready", "osType": "Linux", "location": "westeurope"}


def command_replay(vm: Json, finished: Json, script: Json | None = None) -> tuple[Json, list[tuple[str, Any]]]:
    asked: list[tuple[str, Any]] = []

    def activity(name: str, payload: Any) -> Any:
        asked.append((name, payload))
        if name == "read_vm":
            return vm
        if name == "start_run_command":
            return {"exists": True, "finished": False, "executionState": "Running"}
        assert name == "read_run_command"
        return finished

    request = {
        "machine": "db01",
        "vmId": VM,
        "script": script or SCRIPT,
        "runName": "mig-g0-after-db-ready-a0",
        "stage": "migrated",
        "timeScale": 60.0,
    }
    replay = Replay(hook_run_command, request, activity=activity)
    state = replay.run()
    assert replay.outcome == "completed", state.get("error")
    output: Json = state["output"]
    return output, asked


def test_a_run_command_hook_runs_the_script_on_the_migrated_vm_under_its_own_name() -> None:
    done = {"exists": True, "finished": True, "executionState": "Succeeded", "exitCode": 0, "output": "ready\n"}
    output, asked = command_replay(RUNNING_VM, done)
    assert output == {
        "machine": "db01",
        "outcome": "passed",
        "detail": "exit code 0",
        "exitCode": 0,
        "output": "ready\n",
    }
    assert [name for name, _ in asked] == ["read_vm", "start_run_command", "read_run_command"]
    start = asked[1][1]
    assert (start["vmId"], start["location"], start["name"]) == (VM, "westeurope", "mig-g0-after-db-ready-a0")
    assert (start["script"], start["timeoutSeconds"]) == ("echo ready", 300)


def test_a_failing_script_fails_the_hook_on_that_machine_with_its_exit_code_and_output() -> None:
    done = {"exists": True, "finished": True, "executionState": "Failed", "exitCode": 3, "errorOutput": "db not up"}
    output, _ = command_replay(RUNNING_VM, done)
    assert output["outcome"] == "failed" and output["exitCode"] == 3
    assert output["detail"] == "exit code 3, expected 0" and output["output"] == "db not up"


def test_no_run_command_starts_on_a_vm_that_is_missing_or_runs_another_os() -> None:
    missing, asked = command_replay({"exists": False}, {})
    assert missing["outcome"] == "failed" and missing["detail"] == "the migrated VM does not exist"
    assert [name for name, _ in asked] == ["read_vm"]
    other, asked = command_replay(RUNNING_VM, {}, {**SCRIPT, "os": "windows"})
    assert other["outcome"] == "failed" and other["detail"] == "the script is for windows and the VM runs linux"
    assert [name for name, _ in asked] == ["read_vm"]
