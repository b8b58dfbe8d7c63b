"""The machine runbook under the SDK's replay: branches that need a misbehaving ASR at just the wrong moment.

Activities and the wait sub-orchestrations are answered by the test, in the shapes they return; the orchestrator
is the registered one, replayed by the real SDK from the history the driver builds.
"""

from __future__ import annotations

from typing import Any

from orchestrators.machine_runbook import machine_runbook
from tests.orchestrators.replay import Fail, Replay
from tests.orchestrators.script import VAULT, Script
from tests.orchestrators.script import job as _job
from tests.orchestrators.script import read as _read
from tests.orchestrators.script import started as _started
from tests.orchestrators.views import item_view
from tests.support.machines import example_plan, runbook_input

AWAITING_CLEANUP = item_view(
    protectionStateDescription="Cleanup test failover pending",
    testFailoverState="WaitingForCompletion",
    currentScenario="TestFailover",
    currentJobId=f"{VAULT}/replicationJobs/tfo",
    allowedOperations=["TestFailoverCleanup"],
)
PROTECTED = item_view()
ENABLE_FAILED = item_view(
    protectionState="UnprotectedStatesBegin",
    protectionStateDescription="Enable protection failed",
    protected=False,
    initialReplicationDone=False,
    progressPercent=None,
    replicationHealth="Critical",
    allowedOperations=["DisableProtection"],
)


def _input(**extra: Any) -> dict[str, Any]:
    return runbook_input(example_plan("vmware.yaml"), "web01", 1.0, **extra)


def _replay(request: dict[str, Any], script: Script) -> tuple[dict[str, Any], Replay]:
    replay = Replay(
        machine_runbook,
        request,
        instance_id="m:web01",
        activity=script.activity,
        sub_orchestration=script.sub_orchestration,
    )
    state = replay.run()
    assert "error" not in state, state.get("error")
    return state["output"], replay


def _wait_instances(replay: Replay) -> list[str]:
    return [a["instanceId"] for a in replay.scheduled if a["actionType"] == 2]


def test_transient_failures_that_outlast_the_retry_policy_fail_the_machine() -> None:
    script = Script({"check_machine": [Fail("ServiceUnavailable")]}, [])
    record, replay = _replay(_input(), script)
    assert record["outcome"] == "failed" and record["stage"] == "validate"
    error = record["error"]
    assert (error["stage"], error["code"]) == ("validate", "TransientFailuresExhausted")
    assert "ServiceUnavailable" in error["message"]
    assert [name for name, _ in script.asked] == ["check_machine"] * 6  # the policy's attempts, then no more
    reported = [(e["type"], e["data"].get("stage"), e["status"]) for e in script.published]
    assert reported == [
        ("migration.machine.stage_changed", "validate", "running"),
        ("migration.machine.stage_changed", "validate", "failed"),
        ("migration.machine.completed", None, "Failed"),
    ]
    assert script.published[-1]["data"]["error"]["code"] == "TransientFailuresExhausted"


def test_a_test_failover_that_fails_after_creating_the_test_vm_is_cleaned_up_before_failing() -> None:
    script = Script(
        {
            "read_protected_item": [_read(PROTECTED), _read(AWAITING_CLEANUP)],
            "start_asr_step": [_started("tfo"), _started("cleanup")],
        },
        [_job("failed", "28092", "tfo"), _job("succeeded")],
    )
    record, replay = _replay(_input(fromStage="testFailover"), script)
    assert record["outcome"] == "failed" and record["stage"] == "testFailover"
    error = record["error"]
    assert (error["stage"], error["code"], error["cleanedUp"]) == ("testFailover", "28092", True)
    assert error["jobId"].endswith("/replicationJobs/tfo")
    steps = [payload["step"] for name, payload in script.asked if name == "start_asr_step"]
    assert steps == ["testFailover", "testFailoverCleanup"]
    assert record["stages"]["testFailoverCleanup"]["endedAt"] is not None
    assert record["jobs"] == [f"{VAULT}/replicationJobs/tfo", f"{VAULT}/replicationJobs/cleanup"]


def test_a_failed_test_failover_that_left_no_test_vm_needs_no_cleanup() -> None:
    script = Script(
        {"read_protected_item": [_read(PROTECTED)], "start_asr_step": [_started("tfo")]},
        [_job("failed", "28092", "tfo")],
    )
    record, _ = _replay(_input(fromStage="testFailover"), script)
    assert record["outcome"] == "failed" and "cleanedUp" not in record["error"]
    assert [payload["step"] for name, payload in script.asked if name == "start_asr_step"] == ["testFailover"]


def test_a_failed_cleanup_is_tried_again_under_its_own_wait_instance() -> None:
    """Make-safe after a failed cleanup starts a second wait; it must not reuse the failed wait's instance id,
    which would overwrite the history that holds the failed job."""
    script = Script(
        {
            "read_protected_item": [_read(AWAITING_CLEANUP), _read(AWAITING_CLEANUP)],
            "start_asr_step": [_started("cleanup-1"), _started("cleanup-2")],
        },
        [_job("failed", "28127", "cleanup-1"), _job("succeeded")],
    )
    record, replay = _replay(_input(fromStage="testFailoverCleanup"), script)
    assert record["outcome"] == "failed" and record["error"]["code"] == "28127"
    assert record["error"]["cleanedUp"] is True
    assert _wait_instances(replay) == ["m:web01:testFailoverCleanup:0", "m:web01:testFailoverCleanup:0:makeSafe"]


def test_a_retry_after_a_failed_enable_removes_the_failed_item_then_enables_again() -> None:
    script = Script(
        {
            "read_protected_item": [_read(ENABLE_FAILED)],
            "start_asr_step": [_started("remove", decision="clear"), _started("enable")],
        },
        [_job("succeeded"), _job("succeeded"), {"outcome": "done", "polls": 3, "percent": 100}],
    )
    request = _input(fromStage="enableReplication", attempt=1, stopAt="testFailover")
    record, replay = _replay(request, script)
    assert record["outcome"] == "ready" and record["stage"] == "testFailover"
    waits = [(name, payload) for name, payload in script.asked if name == "wait_for_asr_job"]
    assert [payload["jobName"] for _, payload in waits] == ["remove", "enable"]
    assert waits[0][1]["step"] == "disableReplication"  # polled like a removal, not an enable
    instances = _wait_instances(replay)  # the enable asked again waits under an id of its own
    assert instances == ["m:web01:enableReplication:1", "m:web01:enableReplication:1:1", "m:web01:initialReplication:1"]
    assert record["stages"]["enableReplication"]["jobId"].endswith("/enable")


def test_a_job_that_times_out_fails_the_stage_with_the_wait_error() -> None:
    timed_out = {
        "outcome": "timedOut",
        "polls": 9,
        "state": "InProgress",
        "error": {"stage": "commit", "code": "JobTimedOut", "message": "still InProgress", "jobId": None},
    }
    script = Script(
        {
            "read_protected_item": [_read(item_view(activeLocation="Recovery", allowedOperations=["Commit"]))],
            "start_asr_step": [_started("commit")],
        },
        [timed_out],
    )
    record, _ = _replay(_input(fromStage="commit"), script)
    assert record["outcome"] == "failed"
    assert (record["error"]["stage"], record["error"]["code"]) == ("commit", "JobTimedOut")
    assert record["error"]["jobId"].endswith("/replicationJobs/commit")  # the wait did not know it; the step did


def test_a_wait_whose_reads_keep_failing_fails_the_stage_instead_of_the_orchestration() -> None:
    """A job or replication wait fails when its read activity's retries run out (ARM throttling for minutes).
    The runbook must still end with a record (``failed``, TransientFailuresExhausted, the stage and job), not die
    with an exception that leaves the wave no result to act on."""
    script = Script(
        {"read_protected_item": [_read(PROTECTED)], "start_asr_step": [_started("tfo")]},
        [Fail("Activity function 'read_asr_job' failed: TooManyRequests")],
    )
    record, _ = _replay(_input(fromStage="testFailover"), script)
    assert record["outcome"] == "failed" and record["stage"] == "testFailover"
    error = record["error"]
    assert (error["stage"], error["code"]) == ("testFailover", "TransientFailuresExhausted")
    assert "TooManyRequests" in error["message"]
    assert error["jobId"].endswith("/replicationJobs/tfo")


def test_a_replication_wait_that_fails_fails_the_stage() -> None:
    script = Script(
        {"read_protected_item": [_read(None)], "start_asr_step": [_started("enable")]},
        [_job("succeeded"), Fail("Activity function 'read_protected_item' failed: ServiceUnavailable")],
    )
    record, _ = _replay(_input(fromStage="enableReplication"), script)
    assert record["outcome"] == "failed" and record["stage"] == "initialReplication"
    assert record["error"]["code"] == "TransientFailuresExhausted"
