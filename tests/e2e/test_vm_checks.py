"""Checks on the test VM and the migrated VM (``migration.check_options``), through the app on the local stack.

A machine whose test VM passes its scripts migrates, with every check in its record; one whose script fails, whose
VM never boots or whose script hangs is ``failed`` at ``validateTestVm`` with what failed and the script's output, and
its test VM is gone; a migrated VM that fails its checks is still migrated (nothing can be undone) and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from emulators.siterecovery.client import emulator_compute_client
from migration.plan import Plan, validate_plan
from tests.e2e.stack import Stack, running_stack
from tests.support.machines import example_plan, runbook_input

pytestmark = pytest.mark.slow

MACHINE = "hv-file01"
TARGET_RG = "rg-target-westeurope"
SCRIPT = {"name": "web-answers", "script": "curl -fsS http://localhost/health", "expectOutput": "^curl"}


def plan_with_checks(test_vm: dict[str, Any], migrated_vm: dict[str, Any] | None = None) -> Plan:
    document = example_plan("hyperv.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)
    document["options"]["checks"] = {"testVm": test_vm, "migratedVm": migrated_vm or {}}
    return validate_plan(document)


def run(stack: Stack, plan: Plan, instance: str) -> dict[str, Any]:
    stack.start("machine_runbook", instance, runbook_input(plan, MACHINE, stack.speed))
    output: dict[str, Any] = stack.wait(instance).output
    return output


def vm_exists(stack: Stack, name: str) -> bool:
    # Closed at once: a client left to the garbage collector closes its socket in whichever test runs then.
    with emulator_compute_client(stack.asr.base_url, stack.asr.subscription_id, retry_total=0) as compute:
        try:
            compute.virtual_machines.get(TARGET_RG, name)
        except ResourceNotFoundError:
            return False
        return True


def test_scripts_that_pass_on_both_vms_let_the_machine_migrate_with_every_check_recorded(tmp_path: Path) -> None:
    plan = plan_with_checks({"scripts": [SCRIPT]}, {"scripts": [{**SCRIPT, "name": "service-up"}]})
    with running_stack(tmp_path) as stack:
        done = run(stack, plan, "checks:pass")
        assert done["outcome"] == "migrated", done
        test_vm, migrated_vm = done["checks"]["testVm"], done["checks"]["migratedVm"]
        assert (test_vm["vm"], test_vm["outcome"]) == (f"{MACHINE}-test", "passed")
        assert [(c["name"], c["outcome"]) for c in test_vm["checks"]] == [
            ("running", "passed"),
            ("agentReady", "passed"),
            ("bootDiagnostics", "passed"),
            ("network", "passed"),
            ("web-answers", "passed"),
        ]
        assert test_vm["checks"][-1]["exitCode"] == 0 and test_vm["checks"][-1]["output"].startswith("curl")
        assert (migrated_vm["vm"], migrated_vm["outcome"]) == (MACHINE, "passed")
        assert migrated_vm["checks"][-1]["name"] == "service-up"
        assert "validateMigratedVm" in done["stages"]
        assert stack.asr.calls.count("VirtualMachineRunCommands_CreateOrUpdate", accepted_only=True) == 2
        assert not vm_exists(stack, f"{MACHINE}-test") and vm_exists(stack, MACHINE)


def test_a_failing_script_fails_the_machine_at_validate_test_vm_and_a_retry_tests_again(tmp_path: Path) -> None:
    plan = plan_with_checks({"scripts": [SCRIPT]})
    with running_stack(tmp_path) as stack:
        stack.asr.add_fault(
            {"kind": "runCommand", "vm": f"{MACHINE}-test", "exitCode": 7, "stderr": "port 80: connection refused"}
        )
        failed = run(stack, plan, "checks:fail")
        assert failed["outcome"] == "failed", failed
        error = failed["error"]
        assert (error["stage"], error["code"]) == ("validateTestVm", "TestVmCheckFailed")
        assert "web-answers failed: exit code 7, expected 0" in error["message"]
        assert "port 80: connection refused" in error["message"]
        assert error["cleanedUp"] is True
        script = failed["checks"]["testVm"]["checks"][-1]
        assert (script["outcome"], script["exitCode"], script["errorOutput"]) == (
            "failed",
            7,
            "port 80: connection refused",
        )
        assert not vm_exists(stack, f"{MACHINE}-test"), "nothing of the test is left running"
        assert stack.asr.calls.count("ReplicationProtectedItems_UnplannedFailover") == 0

        # The script is fixed (the fault was used up); a retry from the failed stage tests again on a new test VM.
        retry = runbook_input(plan, MACHINE, stack.speed, fromStage="validateTestVm", attempt=1, record=failed)
        stack.start("machine_runbook", "checks:retry", retry)
        done = stack.wait("checks:retry").output
        assert done["outcome"] == "migrated", done
        assert done["checks"]["testVm"]["checks"][-1]["outcome"] == "passed"
        assert stack.asr.calls.count("ReplicationProtectedItems_TestFailover", accepted_only=True) == 2


def test_a_vm_that_never_boots_fails_by_its_boot_timeout_and_runs_no_script(tmp_path: Path) -> None:
    plan = plan_with_checks({"bootTimeout": "PT10M", "scripts": [SCRIPT]})
    with running_stack(tmp_path) as stack:
        stack.asr.add_fault({"kind": "vmBoot", "vm": f"{MACHINE}-test", "mode": "neverBoots"})
        failed = run(stack, plan, "checks:boot")
        assert (failed["outcome"], failed["error"]["code"]) == ("failed", "TestVmCheckFailed"), failed
        checks = {c["name"]: c for c in failed["checks"]["testVm"]["checks"]}
        assert checks["running"]["outcome"] == "failed"
        assert "power state starting after PT10M" in checks["running"]["detail"]
        assert checks["agentReady"]["outcome"] == "failed" and "Not Ready" in checks["agentReady"]["detail"]
        assert "web-answers" not in checks
        assert stack.asr.calls.count("VirtualMachineRunCommands_CreateOrUpdate") == 0
        reads = stack.asr.calls.count("VirtualMachines_Get")
        assert 2 <= reads <= 12, f"the boot wait reads at the poll interval, not in a loop ({reads} reads)"
        assert failed["error"]["cleanedUp"] is True and not vm_exists(stack, f"{MACHINE}-test")


def test_a_test_vm_on_another_network_fails_before_any_script_runs(tmp_path: Path) -> None:
    plan = plan_with_checks({"scripts": [SCRIPT]})
    production = plan.machine(MACHINE).target.network_id
    with running_stack(tmp_path) as stack:
        stack.asr.add_fault({"kind": "vmNetwork", "vm": f"{MACHINE}-test", "networkId": production})
        failed = run(stack, plan, "checks:network")
        assert (failed["outcome"], failed["error"]["code"]) == ("failed", "TestVmCheckFailed"), failed
        network = failed["checks"]["testVm"]["checks"][-1]
        test_network = str(plan.machine(MACHINE).target.test_network_id).rsplit("/", 1)[-1]
        assert network["name"] == "network" and network["outcome"] == "failed"
        assert network["detail"] == f"a network interface is in {production.rsplit('/', 1)[-1]}, not {test_network}"
        assert stack.asr.calls.count("VirtualMachineRunCommands_CreateOrUpdate") == 0
        assert failed["error"]["cleanedUp"] is True


def test_a_script_that_hangs_is_stopped_by_its_timeout(tmp_path: Path) -> None:
    plan = plan_with_checks({"scripts": [{**SCRIPT, "timeout": "PT2M"}]})
    with running_stack(tmp_path) as stack:
        stack.asr.add_fault({"kind": "runCommand", "vm": f"{MACHINE}-test", "mode": "hang"})
        failed = run(stack, plan, "checks:hang")
        assert failed["outcome"] == "failed", failed
        script = failed["checks"]["testVm"]["checks"][-1]
        assert (script["outcome"], script["executionState"]) == ("failed", "TimedOut")
        assert script["detail"] == "timed out after PT2M"


def test_a_migrated_vm_that_fails_its_checks_is_still_migrated_and_says_so(tmp_path: Path) -> None:
    plan = plan_with_checks({}, {"scripts": [SCRIPT]})
    with running_stack(tmp_path) as stack:
        stack.asr.add_fault({"kind": "runCommand", "vm": MACHINE, "exitCode": 2, "stderr": "service not running"})
        done = run(stack, plan, "checks:after")
        assert done["outcome"] == "migrated", "a failover cannot be undone: the machine completes its migration"
        assert done["error"] is None
        report = done["checks"]["migratedVm"]
        assert (report["outcome"], report["checks"][-1]["errorOutput"]) == ("failed", "service not running")
        assert done["checks"]["testVm"]["outcome"] == "passed"
        assert stack.asr.calls.count("ReplicationProtectedItems_FailoverCommit", accepted_only=True) == 1


def test_checks_turned_off_read_no_vm(tmp_path: Path) -> None:
    plan = plan_with_checks({"enabled": False}, {"enabled": False})
    with running_stack(tmp_path) as stack:
        done = run(stack, plan, "checks:off")
        assert done["outcome"] == "migrated", done
        assert done["checks"] == {} and "validateMigratedVm" not in done["stages"]
        assert stack.asr.calls.count("VirtualMachines_Get") == 0
        assert stack.asr.calls.count("NetworkInterfaces_Get") == 0
