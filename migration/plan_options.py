"""Wave-level options: how many machines at once, which gates guard the cutover, how long to wait.

Every option has a default that is safe for a first wave (test failover and approval
required, hold the wave when a machine fails), and every duration has bounds: a
``jobTimeout`` of ten seconds or an ``initialReplicationTimeout`` of a year is a typo,
and refusing it up front is cheaper than discovering it mid-wave.

Durations are ISO-8601 (``PT30M``, ``P2D``) or a number of seconds.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictBool, StrictInt, model_validator

from migration.check_options import WaveChecks
from migration.plan_types import (
    DurationBounds,
    PlanModel,
    ResourceName,
    UtcDatetime,
    arm_id,
    field_error,
    resource_group_id,
)

__all__ = [
    "ApprovalOptions",
    "CutoverWindow",
    "DrAfterMigration",
    "OnApprovalTimeout",
    "OnMachineFailure",
    "TestFailoverOptions",
    "WaveOptions",
    "DURATION_BOUNDS",
]

_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)

# (minimum, maximum) per duration option; the schema and the error messages both come from here.
DURATION_BOUNDS: dict[str, tuple[timedelta, timedelta]] = {
    # ASR answers long-running calls with Retry-After: 30 (the official examples); polling much faster only
    # spends ARM read quota, much slower makes a wave sluggish.
    "pollInterval": (timedelta(seconds=10), 30 * _MINUTE),
    # Initial replication of large disks takes days; the Terraform provider's 1h20m wait was too short
    # for users (hashicorp/terraform-provider-azurerm#13725).
    "initialReplicationTimeout": (10 * _MINUTE, 60 * _DAY),
    "stallWarningAfter": (5 * _MINUTE, 7 * _DAY),
    "jobTimeout": (_MINUTE, 2 * _DAY),
    "testVmSoak": (timedelta(0), 7 * _DAY),
    "approvalTimeout": (_MINUTE, 30 * _DAY),
}


PollInterval = Annotated[timedelta, DurationBounds(*DURATION_BOUNDS["pollInterval"])]
InitialReplicationTimeout = Annotated[timedelta, DurationBounds(*DURATION_BOUNDS["initialReplicationTimeout"])]
StallWarningAfter = Annotated[timedelta, DurationBounds(*DURATION_BOUNDS["stallWarningAfter"])]
JobTimeout = Annotated[timedelta, DurationBounds(*DURATION_BOUNDS["jobTimeout"])]
TestVmSoak = Annotated[timedelta, DurationBounds(*DURATION_BOUNDS["testVmSoak"])]
ApprovalTimeout = Annotated[timedelta, DurationBounds(*DURATION_BOUNDS["approvalTimeout"])]


class OnApprovalTimeout(StrEnum):
    """What happens when nobody approves the cutover in time."""

    HOLD = "hold"  # keep replicating and wait for an explicit approve or cancel
    CANCEL = "cancel"  # roll the wave back (clean up, disable replication); sources untouched


class OnMachineFailure(StrEnum):
    """What the wave does when one machine fails."""

    HOLD = "hold"  # stop before the next irreversible step and wait for retry or cancel
    CONTINUE = "continue"  # carry on with the healthy machines


class TestFailoverOptions(PlanModel):
    required: StrictBool = Field(
        default=True,
        description="Every machine (except those with skipTestFailover) passes a test failover before cutover.",
    )


class ApprovalOptions(PlanModel):
    required: StrictBool = Field(default=True, description="Wait for an approval before the first irreversible step.")
    timeout: ApprovalTimeout = Field(default=3 * _DAY, description="ISO-8601 duration or seconds.")
    on_timeout: OnApprovalTimeout = OnApprovalTimeout.HOLD


class CutoverWindow(PlanModel):
    """The failover starts inside this window (UTC); outside it the wave waits or, past the end, holds."""

    not_before: UtcDatetime | None = None
    not_after: UtcDatetime | None = None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> CutoverWindow:
        if self.not_before is not None and self.not_after is not None and self.not_after <= self.not_before:
            raise field_error(self, "notAfter", "window_order", "must be later than notBefore")
        return self


class DrAfterMigration(PlanModel):
    """A2A only: after the move, protect each migrated VM again toward a secondary region.

    A new replicated item is created under the migrated region's container (the machines'
    ``recoveryProtectionContainer``), paired by ``containerMapping`` with the secondary
    region's container. This is not ASR's reProtect, which would replicate back to the source.
    """

    recovery_fabric: ResourceName = Field(description="The secondary region's fabric.")
    recovery_protection_container: ResourceName = Field(description="The secondary region's protection container.")
    container_mapping: ResourceName = Field(description="Mapping from the migrated region's container.")
    policy: ResourceName = Field(description="A2A replication policy name in the vault.")
    recovery_resource_group_id: Annotated[str, resource_group_id]
    recovery_network_id: Annotated[str, arm_id("Microsoft.Network/virtualNetworks")] | None = None
    recovery_subnet: ResourceName | None = None
    staging_storage_account_id: Annotated[str, arm_id("Microsoft.Storage/storageAccounts")] = Field(
        description="Cache storage account in the migrated (new primary) region."
    )


class WaveOptions(PlanModel):
    """Options for the whole migration; see the module docstring for the reasoning behind defaults and bounds."""

    max_parallel: StrictInt = Field(
        default=10, ge=1, le=200, description="At most this many machines replicate or test at the same time."
    )
    test_failover: TestFailoverOptions = Field(default_factory=TestFailoverOptions)
    approval: ApprovalOptions = Field(default_factory=ApprovalOptions)
    cutover_window: CutoverWindow | None = None
    on_machine_failure: OnMachineFailure = OnMachineFailure.HOLD
    dr_after_migration: DrAfterMigration | None = None
    poll_interval: PollInterval = Field(default=_MINUTE, description="Base interval between ASR status reads.")
    initial_replication_timeout: InitialReplicationTimeout = Field(default=14 * _DAY)
    stall_warning_after: StallWarningAfter = Field(
        default=2 * _HOUR, description="Warn when replication progress has not moved for this long."
    )
    job_timeout: JobTimeout = Field(default=2 * _HOUR, description="Longest wait for one ASR job.")
    test_vm_soak: TestVmSoak = Field(
        default=15 * _MINUTE, description="How long the test VM runs before it is validated and cleaned up."
    )
    checks: WaveChecks = Field(
        default_factory=WaveChecks,
        description="What is checked on each test VM and migrated VM (migration.check_options); a machine's own "
        "checks replace these.",
    )

    @model_validator(mode="after")
    def _stall_warning_before_timeout(self) -> WaveOptions:
        if self.stall_warning_after >= self.initial_replication_timeout:
            raise field_error(
                self, "stallWarningAfter", "stall_after_timeout", "must be shorter than initialReplicationTimeout"
            )
        return self
