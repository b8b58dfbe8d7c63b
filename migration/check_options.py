"""What the plan asks to see on a VM before it is trusted: the test VM before the cutover, the migrated VM after it.

A job that succeeded says ASR made a VM, not that the server works. A check set names what "works" means: the VM
exists and runs (``PowerState/running``), its VM agent reports ``Ready``, boot diagnostics report no failure, its
network interfaces are in the network it should be in (the test network for a test VM), and each listed script,
run on the VM as a managed Run Command, ends with the expected exit code (and output). Scripts are what AWS
Application Migration Service calls post-launch actions (it allows ten, each able to block the cutover); ten is the
bound here too.

The plan's ``options.checks`` sets them for every machine; a machine's ``checks`` replaces the wave's set for the
phase it names (``testVm``, ``migratedVm``), so one odd server does not change the others. ``enabled: false`` turns a
phase's checks off. What a failed check does: on the test VM, the machine fails at ``validateTestVm`` and its test
failover is still cleaned up; on the migrated VM (nothing can be undone by then), the wave holds before its next
group or carries on, as ``options.checks.onMigratedVmFailure`` says.

Inline scripts are kept small (``MAX_INLINE_SCRIPT``): the plan travels in every activity's input, so a long
script belongs in a blob named by ``scriptUri``, which the VM fetches and the app never does.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from migration.plan_types import DurationBounds, Pattern, PlainText, PlanModel, ScriptUrl

__all__ = [
    "MAX_CHECK_SCRIPTS",
    "MAX_INLINE_SCRIPT",
    "CheckPhase",
    "CheckScript",
    "CheckSet",
    "MachineChecks",
    "OnMigratedVmFailure",
    "ScriptParameter",
    "WaveChecks",
]

MAX_CHECK_SCRIPTS = 10
MAX_INLINE_SCRIPT = 8192
# Run Command's own ceiling: a script runs at most 90 minutes (Microsoft Learn, "Run scripts in your VM by using
# managed Run Commands": "the maximum ... run time is 90 minutes").
_SCRIPT_TIMEOUT = DurationBounds(timedelta(seconds=30), timedelta(minutes=90))
# How long a new VM may take to run with its agent ready: a Windows VM's first boot after a migration installs
# drivers and can take many minutes; two hours is a VM that will not come up.
_BOOT_TIMEOUT = DurationBounds(timedelta(minutes=1), timedelta(hours=2))

CheckPhase = Literal["testVm", "migratedVm"]
CheckName = Annotated[
    str, Pattern(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", "letters, digits, '_' and '-', at most 64 characters")
]


class OnMigratedVmFailure(StrEnum):
    """What the wave does when a migrated VM fails its checks (it cannot be rolled back)."""

    HOLD = "hold"  # finish this group, then wait for an operator (approve goes on, cancel ends the wave)
    CONTINUE = "continue"  # report it and cut the next group over


class ScriptParameter(PlanModel):
    """One named parameter of a script (Run Command ``parameters``: ``{name, value}``)."""

    name: Annotated[
        str, Pattern(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$", "a parameter name: letters, digits and '_', at most 128")
    ]
    value: Annotated[str, StringConstraints(max_length=4096), PlainText] = ""


def _check_pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as error:
        raise PydanticCustomError("output_pattern", f"not a regular expression: {error}") from None
    return value


OutputPattern = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class CheckScript(PlanModel):
    """A script run on the VM as a managed Run Command; it passes when it ends in time with ``expectExitCode`` and,
    if given, output matching ``expectOutput`` (a Python regular expression, searched anywhere in the output)."""

    name: CheckName = Field(description="Unique among the set's scripts; names the run command and the result.")
    script: Annotated[str, StringConstraints(min_length=1, max_length=MAX_INLINE_SCRIPT)] | None = Field(
        default=None,
        description=f"The script itself (shell on Linux, PowerShell on Windows), at most {MAX_INLINE_SCRIPT} "
        "characters; longer ones by scriptUri.",
    )
    script_uri: ScriptUrl | None = Field(
        default=None, description="https URL the VM fetches the script from (a SAS URL is never recorded)."
    )
    os: Literal["any", "windows", "linux"] = Field(
        default="any", description="Run only on VMs of this OS (the VM's OS disk says); others skip it."
    )
    parameters: list[ScriptParameter] = Field(default_factory=list, max_length=20)
    timeout: Annotated[timedelta, _SCRIPT_TIMEOUT] = Field(
        default=timedelta(minutes=10), description="The script is stopped (and fails) when it runs longer."
    )
    expect_exit_code: StrictInt = Field(default=0, description="The exit code that means the check passed.")
    expect_output: OutputPattern | None = Field(
        default=None, description="A regular expression the script's output must contain."
    )

    @model_validator(mode="after")
    def _one_source(self) -> CheckScript:
        if (self.script is None) == (self.script_uri is None):
            raise PydanticCustomError("script_source", "give exactly one of script and scriptUri")
        if self.expect_output is not None:
            _check_pattern(self.expect_output)
        return self


class CheckSet(PlanModel):
    """The checks of one VM; by default the VM must run with a ready agent and no boot diagnostics failure."""

    enabled: StrictBool = Field(default=True, description="false: no checks on this VM.")
    running: StrictBool = Field(default=True, description="The VM exists and its power state is running.")
    agent_ready: StrictBool = Field(default=True, description="Its VM agent reports Ready (scripts need it).")
    boot_diagnostics: StrictBool = Field(default=True, description="Boot diagnostics report no failure.")
    network: StrictBool = Field(
        default=True,
        description="Its network interfaces are in the expected network: the test VM in target.testNetworkId, the "
        "migrated VM in target.networkId (a test VM on the production network would clash with the source).",
    )
    boot_timeout: Annotated[timedelta, _BOOT_TIMEOUT] = Field(
        default=timedelta(minutes=20),
        description="How long the VM may take to run with its agent ready before the check fails.",
    )
    scripts: list[CheckScript] = Field(
        default_factory=list, max_length=MAX_CHECK_SCRIPTS, description=f"At most {MAX_CHECK_SCRIPTS}, run in order."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> CheckSet:
        names = [script.name.lower() for script in self.scripts]
        if len(names) != len(set(names)):
            raise PydanticCustomError("unique_scripts", "script names must be unique within a check set")
        if self.scripts and not self.agent_ready:
            raise PydanticCustomError("scripts_need_agent", "scripts run through the VM agent: keep agentReady true")
        return self


class MachineChecks(PlanModel):
    """A machine's own check sets; each one given replaces the wave's for that VM."""

    test_vm: CheckSet | None = Field(default=None, description="The test failover's VM.")
    migrated_vm: CheckSet | None = Field(default=None, description="The migrated VM, after the failover.")


class WaveChecks(PlanModel):
    """The checks of every machine, unless a machine gives its own."""

    test_vm: CheckSet = Field(default_factory=CheckSet, description="The test failover's VM, before cleanup.")
    migrated_vm: CheckSet = Field(
        default_factory=CheckSet,
        description="The migrated VM, after the failover (before the commit where there is one).",
    )
    on_migrated_vm_failure: OnMigratedVmFailure = OnMigratedVmFailure.HOLD

    def for_machine(self, own: MachineChecks | None, phase: CheckPhase) -> CheckSet:
        """The set that applies to a machine's VM in ``phase``: the machine's own, else the wave's."""
        mine = None if own is None else (own.test_vm if phase == "testVm" else own.migrated_vm)
        if mine is not None:
            return mine
        return self.test_vm if phase == "testVm" else self.migrated_vm
