"""One machine of each source kind (and both VMware paths) migrated end to end: app on the local host, real SDK,
Site Recovery emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.stack import running_stack
from tests.support.machines import example_plan, runbook_input

pytestmark = pytest.mark.slow

MUTATING = ("Create", "TestFailover", "TestFailoverCleanup", "UnplannedFailover", "FailoverCommit", "Delete")
# A migration item's: no commit, and the migrate is final.
MIGRATION_MUTATING = ("Create", "TestMigrate", "TestMigrateCleanup", "Migrate", "Delete")
# (plan file, machine)
MACHINES = [
    ("vmware.yaml", "web01"),
    ("physical.yaml", "db01"),
    ("aws.yaml", "aws-web01"),
    ("hyperv.yaml", "hv-file01"),
    ("azure.yaml", "app01"),
    ("vmware-agentless.yaml", "vmw-agentless01"),
    ("vmware-agentless.yaml", "vmw-agentless02"),
]
AGENTLESS = {"vmw-agentless01", "vmw-agentless02"}


def test_one_machine_of_each_source_kind_is_migrated(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        instances = {}
        for plan_file, machine in MACHINES:
            plan = example_plan(plan_file)
            instance = f"{plan.id}:{machine}"
            stack.start("machine_runbook", instance, runbook_input(plan, machine, stack.speed))
            instances[machine] = instance
        results = {machine: stack.wait(instance) for machine, instance in instances.items()}

        for machine, status in results.items():
            record = status.output
            assert record["outcome"] == "migrated", (machine, record.get("error"), status.custom_status, record)
            assert record["error"] is None
            stages = record["stages"]
            for stage in ("validate", "enableReplication", "initialReplication", "testFailover", "unplannedFailover"):
                assert stages[stage]["endedAt"] >= stages[stage]["startedAt"], (machine, stage)
            assert record["downtime"]["seconds"] > 0
            assert record["recoveryPointId"], machine
            group, operations = (
                ("ReplicationMigrationItems", MIGRATION_MUTATING)
                if machine in AGENTLESS
                else ("ReplicationProtectedItems", MUTATING)
            )
            for operation in operations:
                calls = stack.asr.calls.count(f"{group}_{operation}", machine, accepted_only=True)
                assert calls == 1, (machine, operation, calls)
            assert ("commit" in stages) is (machine not in AGENTLESS), machine
            # Every provider's test VM and migrated VM run, with a ready agent, in the network the plan names.
            checks = {phase: report["outcome"] for phase, report in record["checks"].items()}
            assert checks == {"testVm": "passed", "migratedVm": "passed"}, (machine, record["checks"])
            network = {c["name"]: c for c in record["checks"]["testVm"]["checks"]}["network"]
            assert network["outcome"] == "passed", (machine, network)
        steps = [(s["name"], s["on"], s["outcome"]) for s in results["vmw-agentless01"].output["postMigrationSteps"]]
        assert steps == [
            ("smoke-test", "test", "succeeded"),
            ("smoke-test", "migrate", "succeeded"),
            ("register-monitoring", "migrate", "succeeded"),
        ]
        # DR after migration: the A2A machine is protected again, from its new region toward the secondary one.
        items = {item["name"]: item for item in stack.asr.items()}
        assert items["app01-dr"]["protectionState"] in ("Protected", "UnprotectedStatesBegin"), items["app01-dr"]
        migrated = {machine for _, machine in MACHINES}
        assert not migrated & set(items), "completed migrations leave no protected item behind"
        assert not stack.asr.migration_items(), "completed agentless migrations leave no migration item behind"
