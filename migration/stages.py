"""The per-machine runbook: its stages in order, and which of them cannot be undone.

Every machine walks the same path::

    validate → enableReplication → initialReplication → testFailover → validateTestVm
      → testFailoverCleanup → cutoverGate → unplannedFailover → validateMigratedVm → commit
      → completeMigration → [drProtection, A2A only] → migrated

(agentless VMware has no ``commit``: its migrate is final as it succeeds; ``validateMigratedVm`` is left out when the
plan turns the migrated VM's checks off)
and ends in one of three outcomes: ``migrated``, ``failed`` or ``cancelled``. The
cutover gate (approval, cutover window) is decided by the wave, not the machine; the
machine only waits at it.

Nothing from ``unplannedFailover`` on can be rolled back: ASR warns that a cancelled
failover leaves a VM that "won't replicate again", and a completed migration cannot fail
back. So the orchestrator asks :func:`is_irreversible` before every step and refuses to
retry or cancel across that line without the guards the plan asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from migration.machine import Machine
from migration.plan_options import WaveOptions
from migration.source_kinds import Provider

__all__ = [
    "Stage",
    "Runbook",
    "FULL_RUNBOOK",
    "TERMINAL",
    "IRREVERSIBLE",
    "TEST_FAILOVER_STAGES",
    "is_terminal",
    "is_irreversible",
    "can_roll_back",
    "has_commit",
    "runbook",
    "runbook_for",
]


class Stage(StrEnum):
    """A step of the runbook, or a terminal outcome; values are the names used in status, events and results."""

    VALIDATE = "validate"
    ENABLE_REPLICATION = "enableReplication"
    INITIAL_REPLICATION = "initialReplication"
    TEST_FAILOVER = "testFailover"
    VALIDATE_TEST_VM = "validateTestVm"
    TEST_FAILOVER_CLEANUP = "testFailoverCleanup"
    CUTOVER_GATE = "cutoverGate"
    UNPLANNED_FAILOVER = "unplannedFailover"
    VALIDATE_MIGRATED_VM = "validateMigratedVm"
    COMMIT = "commit"
    COMPLETE_MIGRATION = "completeMigration"
    DR_PROTECTION = "drProtection"
    MIGRATED = "migrated"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Every step, in order, when nothing is skipped (declaration order of the enum up to MIGRATED).
FULL_RUNBOOK: tuple[Stage, ...] = tuple(Stage)[: list(Stage).index(Stage.MIGRATED)]
TERMINAL = frozenset({Stage.MIGRATED, Stage.FAILED, Stage.CANCELLED})
IRREVERSIBLE = frozenset(
    {
        Stage.UNPLANNED_FAILOVER,
        Stage.VALIDATE_MIGRATED_VM,
        Stage.COMMIT,
        Stage.COMPLETE_MIGRATION,
        Stage.DR_PROTECTION,
        Stage.MIGRATED,
    }
)
TEST_FAILOVER_STAGES = (Stage.TEST_FAILOVER, Stage.VALIDATE_TEST_VM, Stage.TEST_FAILOVER_CLEANUP)


def is_terminal(stage: Stage) -> bool:
    """``migrated``, ``failed`` or ``cancelled``: nothing follows."""
    return stage in TERMINAL


def is_irreversible(stage: Stage) -> bool:
    """True from the unplanned failover on: the source has been failed over and cannot come back."""
    return stage in IRREVERSIBLE


def can_roll_back(stage: Stage) -> bool:
    """A machine at this stage can still be cancelled (test failover cleaned up, replication disabled)."""
    return not is_irreversible(stage) and not is_terminal(stage)


@dataclass(frozen=True)
class Runbook:
    """The stages one machine goes through, in order, ending with ``migrated``."""

    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        if not self.stages or self.stages[-1] is not Stage.MIGRATED:
            raise ValueError("a runbook ends with 'migrated'")
        order = [FULL_RUNBOOK.index(s) for s in self.stages[:-1]]
        if order != sorted(set(order)):
            raise ValueError("runbook stages must follow the full runbook's order without repeats")

    def __contains__(self, stage: object) -> bool:
        return stage in self.stages

    def first(self) -> Stage:
        return self.stages[0]

    def next(self, stage: Stage) -> Stage:
        """The stage after ``stage``; ValueError for a terminal stage or one not in this runbook."""
        if is_terminal(stage):
            raise ValueError(f"{stage.value} is terminal; nothing follows it")
        if stage not in self.stages:
            raise ValueError(f"{stage.value} is not part of this runbook")
        return self.stages[self.stages.index(stage) + 1]

    def remaining(self, stage: Stage) -> tuple[Stage, ...]:
        """``stage`` and everything after it (empty for terminal outcomes other than ``migrated``)."""
        if stage not in self.stages:
            return ()
        return self.stages[self.stages.index(stage) :]


def runbook(
    *, test_failover: bool = True, dr_protection: bool = False, commit: bool = True, migrated_vm_checks: bool = True
) -> Runbook:
    """The runbook with or without the test-failover stages, the migrated VM's checks, the commit and the A2A DR
    stage."""
    stages = [
        stage
        for stage in FULL_RUNBOOK
        if (test_failover or stage not in TEST_FAILOVER_STAGES)
        and (dr_protection or stage is not Stage.DR_PROTECTION)
        and (commit or stage is not Stage.COMMIT)
        and (migrated_vm_checks or stage is not Stage.VALIDATE_MIGRATED_VM)
    ]
    return Runbook((*stages, Stage.MIGRATED))


# Providers whose failover is final as it succeeds: VMwareCbt's migrate has no commit to follow it.
_NO_COMMIT = frozenset({Provider.VMWARE_CBT})


def has_commit(provider: Provider) -> bool:
    """Whether the provider's failover waits for a commit (every one but Azure Migrate's agentless migrate)."""
    return provider not in _NO_COMMIT


def runbook_for(machine: Machine, options: WaveOptions) -> Runbook:
    """A machine's runbook under the wave's options.

    Test failover runs when the wave requires it and the machine does not skip it; DR
    protection runs for A2A machines when the wave configures ``drAfterMigration`` and the
    machine does not opt out; the commit runs for providers that have one (:func:`has_commit`); the migrated VM is
    checked unless the checks that apply to it (``migration.check_options``) are off.
    """
    test_failover = options.test_failover.required and not machine.options.skip_test_failover
    dr = (
        machine.provider is Provider.A2A
        and options.dr_after_migration is not None
        and machine.options.dr_after_migration
    )
    checks = options.checks.for_machine(machine.checks, "migratedVm").enabled
    return runbook(
        test_failover=test_failover, dr_protection=dr, commit=has_commit(machine.provider), migrated_vm_checks=checks
    )
