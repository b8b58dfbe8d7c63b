"""Post-migration steps of an agentless machine: a script that fails on the test VM fails the machine at its test
migrate, with the job's error and no test VM left behind; once the script is fixed, a retry migrates it and every
step is recorded as passed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.stack import running_stack
from tests.support.machines import example_plan, runbook_input

pytestmark = pytest.mark.slow

MACHINE = "vmw-agentless01"
# TestMigrate's own tasks come first (prerequisites, create the test VM, start it); the first script is task 3.
FIRST_STEP_TASK = 3


def test_a_failing_script_on_the_test_vm_stops_the_machine_and_a_retry_migrates_it(tmp_path: Path) -> None:
    plan = example_plan("vmware-agentless.yaml")
    with running_stack(tmp_path) as stack:
        stack.asr.add_fault(
            {
                "kind": "jobFailure",
                "scenario": "TestMigrate",
                "machine": MACHINE,
                "errorCode": "70094",
                "task": FIRST_STEP_TASK,
                "times": 1,
            }
        )
        stack.start("machine_runbook", "steps:1", runbook_input(plan, MACHINE, stack.speed))
        failed = stack.wait("steps:1").output
        assert failed["outcome"] == "failed", failed
        assert (failed["error"]["stage"], failed["error"]["code"]) == ("testFailover", "70094")
        assert failed["error"]["cleanedUp"] is True, "the test VM the failed job left was cleaned up"
        assert [(s["name"], s["on"], s["outcome"]) for s in failed["postMigrationSteps"]] == [
            ("smoke-test", "test", "failed")
        ]
        assert failed["postMigrationSteps"][0]["error"]["code"] == "70094"
        assert "scriptUrl" not in str(failed) and "blob.core.windows.net" not in str(failed)
        assert stack.asr.calls.count("ReplicationMigrationItems_Migrate", MACHINE) == 0

        retry = runbook_input(plan, MACHINE, stack.speed, fromStage="testFailover", attempt=1, record=failed)
        stack.start("machine_runbook", "steps:2", retry)
        done = stack.wait("steps:2").output
        assert done["outcome"] == "migrated", done
        assert [(s["name"], s["on"], s["outcome"]) for s in done["postMigrationSteps"]] == [
            ("smoke-test", "test", "succeeded"),
            ("smoke-test", "migrate", "succeeded"),
            ("register-monitoring", "migrate", "succeeded"),
        ]
        counts = {
            op: stack.asr.calls.count(f"ReplicationMigrationItems_{op}", MACHINE, accepted_only=True)
            for op in ("Create", "TestMigrate", "TestMigrateCleanup", "Migrate", "Delete")
        }
        assert counts == {"Create": 1, "TestMigrate": 2, "TestMigrateCleanup": 2, "Migrate": 1, "Delete": 1}
