"""A VMwareCbt migration item (``replicationMigrationItems``): Azure Migrate's agentless replication of one VMware VM.

Its progress is computed from the simulated clock when read, as for protected items: initial seeding runs from
``seed_start`` for ``seed_seconds`` (slowed or stopped by a ``replication`` fault, failed at a point by a
``seedingFailure`` fault); once seeded the item delta-syncs (a recovery point per cycle) until it is paused,
migrated or removed. :func:`mig_state` says which row of ``migration_states.TABLE`` the item is in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from emulators.siterecovery.faults import ReplicationFault, SeedingFailureFault
from emulators.siterecovery.jobs import Job
from emulators.siterecovery.migration_states import MigState, TrialPhase
from emulators.siterecovery.state import Container, ContainerMapping, DiscoveredDisk, DiscoveredMachine, Vault


class Stage(Enum):
    """Where an item stands between jobs (a running job is ``MigrationItem.job``)."""

    ENABLING = "Enabling"
    ENABLE_FAILED = "EnableFailed"
    SYNCING = "Syncing"  # initial seeding, then delta sync once seeded
    PAUSED = "Paused"
    MIGRATED = "Migrated"
    DISABLE_FAILED = "DisableFailed"
    REMOVED = "Removed"


# Jobs that are the item's state while they run (the migrationState names them).
STATE_OF_JOB = {
    "EnableMigration": MigState.ENABLING,
    "Migrate": MigState.MIGRATING,
    "PauseReplication": MigState.SUSPENDING,
    "ResumeReplication": MigState.RESUME_INITIATED,
    "DisableMigration": MigState.DISABLING,
}


@dataclass(frozen=True)
class IncludedDisk:
    """A disk an enable included, with the settings it named."""

    disk: DiscoveredDisk
    log_storage_account_id: str
    sas_secret_name: str
    disk_type: str
    target_name: str | None = None


@dataclass(eq=False)
class MigrationItem:
    vault: Vault
    name: str
    container: Container
    machine: DiscoveredMachine
    mapping: ContainerMapping
    settings: dict[str, Any]  # the enable input's target settings, as updated since
    disks: list[IncludedDisk]
    created: float
    internal_id: str
    stage: Stage = Stage.ENABLING
    job: Job | None = None
    last_job: Job | None = None
    history: list[Job] = field(default_factory=list)
    seed_start: float = 0.0
    seed_seconds: float = 1.0
    break_percent: float | None = None
    factor: float = 1.0
    seed_fault: ReplicationFault | None = None
    seed_failure: SeedingFailureFault | None = None
    sync_since: float | None = None  # start of the current delta-sync window (None: when seeding completes)
    closed_windows: list[tuple[float, float]] = field(default_factory=list)
    resync_start: float | None = None
    resync_seconds: float = 0.0
    resynced_faults: set[int] = field(default_factory=set)
    resume_start: float | None = None
    resume_seconds: float = 0.0
    test: TrialPhase = TrialPhase.NONE
    test_network_id: str | None = None
    last_test_time: float | None = None
    last_test_status: str | None = None
    last_migration_time: float | None = None
    last_migration_status: str | None = None
    migration_point_id: str | None = None
    enable_error: str | None = None

    @property
    def id(self) -> str:
        return f"{self.container.id}/replicationMigrationItems/{self.name}"

    @property
    def friendly_name(self) -> str:
        return self.machine.display_name

    def busy(self) -> bool:
        return self.job is not None and self.job.settled == "InProgress"

    # -- initial seeding ---------------------------------------------------------------------------
    def seed_progress(self, now: float) -> float:
        """Initial seeding in percent (a failed seeding stays where it failed)."""
        if self.stage in (Stage.ENABLING, Stage.ENABLE_FAILED):
            return 0.0
        if self.stage != Stage.SYNCING:
            return 100.0
        rate = 100.0 / self.seed_seconds
        natural = max(0.0, (now - self.seed_start) * rate)
        if self.break_percent is None or natural <= self.break_percent:
            value = min(100.0, natural)
        else:
            t_break = self.seed_start + self.break_percent / rate
            value = min(100.0, self.break_percent + (now - t_break) * rate * self.factor)
        if self.seed_failure is not None:
            value = min(value, float(self.seed_failure.at_percent))
        return value

    def seed_failed(self, now: float) -> bool:
        return (
            self.stage == Stage.SYNCING
            and self.seed_failure is not None
            and self.seed_progress(now) >= self.seed_failure.at_percent
        )

    def seed_done_at(self) -> float | None:
        """When initial seeding completes (None: never, as things stand: stalled or failing)."""
        if self.stage != Stage.SYNCING or self.seed_failure is not None:
            return None
        if self.break_percent is None:
            return self.seed_start + self.seed_seconds
        if self.factor == 0:
            return None
        rate = 100.0 / self.seed_seconds
        t_break = self.seed_start + self.break_percent / rate
        return t_break + (100.0 - self.break_percent) / (rate * self.factor)

    def seeded(self, now: float) -> bool:
        done = self.seed_done_at()
        return done is not None and done <= now

    def bind_replication_fault(self, spec: ReplicationFault, now: float) -> None:
        """Seeding stalls or slows from ``atPercent`` (or from where it is now, if past it)."""
        if self.stage not in (Stage.ENABLING, Stage.SYNCING) or self.seeded(now):
            return
        current = self.seed_progress(now)
        self.break_percent = max(float(spec.at_percent), current) if self.stage == Stage.SYNCING else spec.at_percent
        self.factor = 0.0 if spec.mode == "stall" else spec.factor
        self.seed_fault = spec

    def clear_replication_fault(self, now: float) -> None:
        """The cause is gone: seeding continues from where it is at the normal rate."""
        if self.stage == Stage.SYNCING and not self.seeded(now):
            current = self.seed_progress(now)
            self.seed_start = now - current * self.seed_seconds / 100.0
        self.break_percent = None
        self.factor = 1.0
        self.seed_fault = None

    def restart_seeding(self, at: float) -> None:
        """A resync after a failed seeding: seeding starts over, without the failure that stopped it."""
        self.stage = Stage.SYNCING
        self.seed_start = at
        self.seed_failure = None
        self.break_percent = None
        self.factor = 1.0
        self.seed_fault = None

    # -- delta sync windows (recovery points) --------------------------------------------------------
    def sync_windows(self, now: float) -> list[tuple[float, float]]:
        """The spans during which delta sync ran (a recovery point per cycle)."""
        out = list(self.closed_windows)
        if self.stage == Stage.SYNCING:
            start = self.sync_since if self.sync_since is not None else self.seed_done_at()
            if start is not None and start <= now:
                out.append((start, now))
        return out

    def close_window(self, at: float) -> None:
        """Delta sync stops (pause, migrate): the points taken so far stay."""
        start = self.sync_since if self.sync_since is not None else self.seed_done_at()
        if start is not None and start <= at:
            self.closed_windows.append((start, at))
        self.sync_since = None

    def resyncing(self, now: float) -> bool:
        return self.resync_start is not None and now < self.resync_start + self.resync_seconds

    def resuming(self, now: float) -> bool:
        return self.resume_start is not None and now < self.resume_start + self.resume_seconds


def mig_state(item: MigrationItem, now: float, resync_required: bool) -> MigState:
    """The state-table row an item is in at ``now``."""
    job = item.job if item.busy() else None
    if job is not None and job.scenario in STATE_OF_JOB:
        return STATE_OF_JOB[job.scenario]
    stage = item.stage
    if stage == Stage.ENABLING:
        return MigState.ENABLING
    if stage == Stage.ENABLE_FAILED:
        return MigState.ENABLE_FAILED
    if stage == Stage.PAUSED:
        return MigState.SUSPENDED
    if stage == Stage.MIGRATED:
        return MigState.MIGRATED
    if stage == Stage.DISABLE_FAILED:
        return MigState.DISABLE_FAILED
    if item.seed_failed(now):
        return MigState.SEEDING_FAILED
    if not item.seeded(now):
        return MigState.SEEDING
    if item.resuming(now):
        return MigState.RESUMING
    if item.resyncing(now):
        return MigState.RESYNCING
    if resync_required:
        return MigState.RESYNC_REQUIRED
    if item.last_migration_status == "Failed":
        return MigState.MIGRATION_FAILED  # replication went on: the migration can be retried
    return MigState.REPLICATING
