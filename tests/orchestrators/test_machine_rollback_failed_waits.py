"""The rollback under the SDK's replay: a wait that fails must end the rollback with a record, never fail it.

A wait sub-orchestration fails when its reads outlast their retries (ARM throttling for minutes). Left to
propagate, that failure fails the rollback orchestration, and the wave gets ``OrchestrationFailed`` instead of
the machine's outcome; the rollback treats it as the runbook does, as an error of its stage.
"""

from __future__ import annotations

from typing import Any

from orchestrators.machine_rollback import machine_rollback
from tests.orchestrators.replay import Fail, Replay
from tests.orchestrators.script import VAULT, Script, read, started
from tests.orchestrators.views import item_view
from tests.support.machines import example_plan, runbook_input

INSTANCE = "migration~wave-a~web01~rollback~0"
THROTTLED = Fail("Orchestrator function 'wait_for_asr_job' failed: TooManyRequests")
TEST_FAILOVER_RUNNING = item_view(
    testFailoverState="InProgress",
    currentScenario="TestFailover",
    currentJobId=f"{VAULT}/replicationJobs/tfo",
    allowedOperations=[],
)


def _rollback(script: Script) -> tuple[dict[str, Any], Replay]:
    request = runbook_input(example_plan("vmware.yaml"), "web01", 1.0)
    replay = Replay(
        machine_rollback,
        request,
        instance_id=INSTANCE,
        activity=script.activity,
        sub_orchestration=script.sub_orchestration,
    )
    state = replay.run()
    assert "error" not in state, state.get("error")
    return state["output"], replay


def test_a_failed_removal_wait_ends_the_rollback_failed_with_the_job() -> None:
    script = Script(
        {"read_protected_item": [read(item_view())], "start_asr_step": [started("disable")]},
        [THROTTLED],
    )
    result, replay = _rollback(script)
    assert result["outcome"] == "failed"
    error = result["error"]
    assert (error["stage"], error["code"]) == ("rollback", "TransientFailuresExhausted")
    assert "TooManyRequests" in error["message"]
    assert error["jobId"] == f"{VAULT}/replicationJobs/disable"
    assert result["jobs"] == [f"{VAULT}/replicationJobs/disable"]
    assert [a["instanceId"] for a in replay.scheduled if a["actionType"] == 2] == [f"{INSTANCE}:0"]


def test_a_failed_wait_for_the_runbook_s_job_reads_the_item_again() -> None:
    """The job the cancelled runbook left running is waited for; if that wait fails, the next round reads ASR."""
    script = Script(
        {"read_protected_item": [read(TEST_FAILOVER_RUNNING), read(None)]},
        [THROTTLED],
    )
    result, replay = _rollback(script)
    assert result["outcome"] == "cancelled"
    waits = [payload for name, payload in script.asked if name == "wait_for_asr_job"]
    assert [(w["jobName"], w["jobId"]) for w in waits] == [("tfo", f"{VAULT}/replicationJobs/tfo")]
    assert [name for name, _ in script.asked].count("read_protected_item") == 2
    assert [e["type"] for e in script.published] == ["migration.machine.completed"]
