"""One machine's rollback under the SDK's replay, against a Site Recovery item whose state the test plays.

The rollback works from ASR's state, not from what the cancelled runbook was doing, so each test starts the item
in one state and lets the answers move it on as ASR would: a job the test waits for ends in a new state, a started
step's job, once waited for, leaves the item cleaned up or gone. Only the activity and sub-orchestration names and
their payload shapes are relied on (``read_protected_item``, ``start_asr_step``, ``wait_for_asr_job``,
``publish_event``), not how the rollback sequences its rounds.
"""

from __future__ import annotations

from typing import Any

from orchestrators.machine_rollback import machine_rollback
from tests.orchestrators.replay import Replay
from tests.orchestrators.views import item_view
from tests.support.machines import example_plan, runbook_input

Json = dict[str, Any]
VAULT = "/Subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
RUNNING_TFO = f"{VAULT}/replicationJobs/tfo"

PROTECTED = item_view()
TEST_FAILOVER_RUNNING = item_view(
    protectionStateDescription="Test failover in progress",
    testFailoverState="InProgress",
    currentScenario="TestFailover",
    currentJobId=RUNNING_TFO,
    allowedOperations=[],
)
AWAITING_CLEANUP = item_view(
    protectionStateDescription="Cleanup test failover pending",
    testFailoverState="WaitingForCompletion",
    currentScenario="TestFailover",
    currentJobId=RUNNING_TFO,
    allowedOperations=["TestFailoverCleanup"],
)
FAILED_OVER = item_view(
    protectionStateDescription="Failover completed",
    activeLocation="Recovery",
    allowedOperations=["Commit"],
)
# What each step leaves behind once its job succeeded (None: the item no longer exists).
AFTER_STEP: dict[str, Json | None] = {"testFailoverCleanup": PROTECTED, "disableReplication": None}


class Asr:
    """One protected item: reads show its state; a step's job, once waited for, moves it on."""

    def __init__(self, view: Json | None, after_running_job: Json | None = None) -> None:
        self.view = view
        self.after: dict[str, Json | None] = {RUNNING_TFO: after_running_job}
        self.calls: list[tuple[str, Any]] = []
        self.published: list[Json] = []

    def activity(self, name: str, payload: Any) -> Any:
        if name == "publish_event":
            self.published.append(payload)
            return {"eventId": payload["eventKey"], "published": True}
        self.calls.append((name, payload))
        if name == "read_protected_item":
            assert payload["machine"]["name"] == "web01"
            return {"exists": self.view is not None, "view": self.view, "failoverRecoveryPointId": None}
        if name == "start_asr_step":
            job = f"{VAULT}/replicationJobs/{payload['step']}"
            self.after[job] = AFTER_STEP[payload["step"]]
            return {"decision": "start", "reason": "", "jobName": payload["step"], "jobId": job}
        raise AssertionError(f"unexpected activity {name}")

    def sub_orchestration(self, name: str, payload: Any) -> Any:
        assert name == "wait_for_asr_job"
        self.calls.append((name, payload))
        self.view = self.after[payload["jobId"]]
        return {"outcome": "succeeded", "state": "Succeeded", "polls": 2, "error": None}

    # -- what the tests read ------------------------------------------------------------------------------

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def steps(self) -> list[str]:
        return [payload["step"] for name, payload in self.calls if name == "start_asr_step"]

    def waited(self) -> list[str]:
        return [payload["jobId"] for name, payload in self.calls if name == "wait_for_asr_job"]


def _roll_back(asr: Asr) -> tuple[Json, Replay]:
    request = runbook_input(example_plan("vmware.yaml"), "web01", 1.0, attempt=0)
    replay = Replay(
        machine_rollback,
        request,
        instance_id="migration~w~web01~rollback~0",
        activity=asr.activity,
        sub_orchestration=asr.sub_orchestration,
    )
    state = replay.run()
    assert replay.outcome == "completed", state.get("error")
    result: Json = state["output"]
    return result, replay


def _cancelled_events(asr: Asr) -> list[Json]:
    return [e for e in asr.published if e["type"] == "migration.machine.completed" and e["status"] == "Cancelled"]


def test_a_job_still_running_is_waited_for_before_anything_is_changed() -> None:
    """The cancelled runbook's test failover is still running (no operation allowed): the rollback waits for that
    job first, then cleans the test failover up and disables replication, each wait under its own instance."""
    asr = Asr(TEST_FAILOVER_RUNNING, after_running_job=AWAITING_CLEANUP)
    result, replay = _roll_back(asr)
    assert (result["machine"], result["outcome"], result["error"]) == ("web01", "cancelled", None)
    assert asr.waited()[0] == RUNNING_TFO
    assert asr.names().index("wait_for_asr_job") < asr.names().index("start_asr_step")
    assert asr.steps() == ["testFailoverCleanup", "disableReplication"]
    waits = [w.instance_id for w in replay.issued if w.name == "wait_for_asr_job"]
    assert len(waits) == 3 and len(set(waits)) == 3
    assert len(_cancelled_events(asr)) == 1


def test_a_test_failover_is_cleaned_up_before_replication_is_disabled() -> None:
    """Disabling replication with a test VM still in place would leave it behind; the cleanup's job must have
    ended before the disable starts."""
    asr = Asr(AWAITING_CLEANUP)
    result, _ = _roll_back(asr)
    assert result["outcome"] == "cancelled"
    assert asr.steps() == ["testFailoverCleanup", "disableReplication"]
    cleanup_job, disable_job = (f"{VAULT}/replicationJobs/{step}" for step in asr.steps())
    assert asr.waited() == [cleanup_job, disable_job]
    order = [
        (name, payload["jobId"] if name == "wait_for_asr_job" else payload.get("step")) for name, payload in asr.calls
    ]
    assert order.index(("wait_for_asr_job", cleanup_job)) < order.index(("start_asr_step", "disableReplication"))
    assert cleanup_job in result["jobs"] and disable_job in result["jobs"]
    starts = [payload for name, payload in asr.calls if name == "start_asr_step"]
    assert {(p["stage"], p["machine"]["name"]) for p in starts} == {("rollback", "web01")}


def test_an_item_that_already_failed_over_is_left_alone() -> None:
    """Past the point of no return nothing is undone: no step, no wait, and the result says ``failedOver`` so the
    wave reports the machine as migrated, not cancelled."""
    asr = Asr(FAILED_OVER)
    result, _ = _roll_back(asr)
    assert (result["outcome"], result["error"]) == ("failedOver", None)
    assert asr.names() == ["read_protected_item"]
    assert _cancelled_events(asr) == []


def test_an_item_that_is_gone_ends_cancelled_with_its_event() -> None:
    """Nothing left in Site Recovery (never enabled, or already removed): the machine is cancelled, and its
    ``migration.machine.completed`` event says so, once."""
    asr = Asr(None)
    result, _ = _roll_back(asr)
    assert (result["machine"], result["outcome"], result["error"]) == ("web01", "cancelled", None)
    assert asr.names() == ["read_protected_item"]
    (event,) = asr.published
    assert (event["type"], event["status"], event["machine"]) == ("migration.machine.completed", "Cancelled", "web01")
    assert event["data"]["outcome"] == "Cancelled" and event["data"]["machine"] == "web01"
