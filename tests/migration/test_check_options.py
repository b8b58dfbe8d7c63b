"""The plan's VM checks (``migration.check_options``): defaults, overrides per machine, and refusals by path."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from migration.errors import PlanValidationError
from migration.plan import validate_plan
from migration.stages import Stage, runbook_for

from .plan_data import hyperv_machine, plan

SCRIPT = {"name": "web-answers", "script": "curl -fsS http://localhost/"}


def problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(PlanValidationError) as caught:
        validate_plan(data)
    return {p.path: p.message for p in caught.value.problems}


def with_checks(wave: dict[str, Any], machine: dict[str, Any] | None = None) -> dict[str, Any]:
    """A one-machine plan with the wave's ``options.checks`` and, if given, the machine's own ``checks``."""
    own = {"checks": machine} if machine is not None else {}
    document: dict[str, Any] = plan([{**hyperv_machine("m-1"), **own}])
    document.setdefault("options", {})["checks"] = wave
    return document


def test_by_default_both_vms_must_run_with_a_ready_agent_and_no_boot_failure() -> None:
    checks = validate_plan(plan([hyperv_machine("m-1")])).options.checks
    for phase in (checks.test_vm, checks.migrated_vm):
        assert (phase.enabled, phase.running, phase.agent_ready, phase.boot_diagnostics) == (True, True, True, True)
        assert phase.boot_timeout == timedelta(minutes=20) and phase.scripts == []
    assert checks.on_migrated_vm_failure.value == "hold"


def test_a_machine_s_own_set_replaces_the_wave_s_for_that_vm_only() -> None:
    document = with_checks(
        {"testVm": {"scripts": [SCRIPT]}, "migratedVm": {"scripts": [SCRIPT]}},
        {"testVm": {"enabled": False}},
    )
    validated = validate_plan(document)
    machine = validated.machine("m-1")
    own = validated.options.checks.for_machine(machine.checks, "testVm")
    assert own.enabled is False
    assert validated.options.checks.for_machine(machine.checks, "migratedVm").scripts[0].name == "web-answers"


def test_turning_the_migrated_vm_checks_off_drops_their_stage() -> None:
    on = validate_plan(plan([hyperv_machine("m-1")]))
    off = validate_plan(with_checks({"migratedVm": {"enabled": False}}))
    assert Stage.VALIDATE_MIGRATED_VM in runbook_for(on.machine("m-1"), on.options)
    assert Stage.VALIDATE_MIGRATED_VM not in runbook_for(off.machine("m-1"), off.options)


@pytest.mark.parametrize(
    ("script", "path", "message"),
    [
        ({"name": "x"}, "options.checks.testVm.scripts[0]", "give exactly one of script and scriptUri"),
        (
            {**SCRIPT, "scriptUri": "https://store.blob.core.windows.net/s/x.sh"},
            "options.checks.testVm.scripts[0]",
            "give exactly one of script and scriptUri",
        ),
        (
            {"name": "x", "scriptUri": "http://store.example.com/x.sh"},
            "options.checks.testVm.scripts[0].scriptUri",
            "an https URL of the script, without user info or fragment",
        ),
        ({**SCRIPT, "expectOutput": "(unclosed"}, "options.checks.testVm.scripts[0]", "not a regular expression"),
        (
            {**SCRIPT, "timeout": "PT2H"},
            "options.checks.testVm.scripts[0].timeout",
            "must be between PT30S and PT1H30M",
        ),
        ({**SCRIPT, "name": "bad name"}, "options.checks.testVm.scripts[0].name", "letters, digits"),
        ({**SCRIPT, "os": "macos"}, "options.checks.testVm.scripts[0].os", "'any', 'windows' or 'linux'"),
        ({**SCRIPT, "script": "x" * 8193}, "options.checks.testVm.scripts[0].script", "at most 8192 characters"),
        (
            {**SCRIPT, "parameters": [{"name": "1st", "value": "v"}]},
            "options.checks.testVm.scripts[0].parameters[0].name",
            "a parameter name",
        ),
    ],
)
def test_a_bad_script_is_refused_at_its_path(script: dict[str, Any], path: str, message: str) -> None:
    problems = problems_of(with_checks({"testVm": {"scripts": [script]}}))
    assert path in problems, problems
    assert message in problems[path]


def test_duplicate_script_names_too_many_scripts_and_scripts_without_the_agent_are_refused() -> None:
    twice = problems_of(with_checks({"testVm": {"scripts": [SCRIPT, {**SCRIPT, "name": "WEB-ANSWERS"}]}}))
    assert "script names must be unique" in twice["options.checks.testVm"]
    many = [{**SCRIPT, "name": f"s{i}"} for i in range(11)]
    assert "at most 10" in problems_of(with_checks({"testVm": {"scripts": many}}))["options.checks.testVm.scripts"]
    blind = problems_of(with_checks({"migratedVm": {"agentReady": False, "scripts": [SCRIPT]}}))
    assert "keep agentReady true" in blind["options.checks.migratedVm"]


def test_a_boot_timeout_outside_its_bounds_and_a_machine_s_unknown_key_are_refused() -> None:
    problems = problems_of(with_checks({"testVm": {"bootTimeout": "PT10S"}}, {"testVM": {}}))
    assert "must be between PT1M and PT2H" in problems["options.checks.testVm.bootTimeout"]
    assert any(path.endswith("checks.testVM") for path in problems), problems
