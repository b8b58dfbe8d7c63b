"""What ASR shows on a VMwareCbt migration item (Azure Migrate, agentless VMware) in each state: one table.

Every row gives ``migrationState`` (a value of the SDK 2.0 ``MigrationState`` enum) with its description and the
``allowedOperations`` (values of ``MigrationItemOperation``) an idle item in that state shows, and cites what it
copies. The official 2025-08-01 examples (``tests/fixtures/siterecovery/2025-08-01/ReplicationMigrationItems_*``)
show three states; the other rows are based on the Az.Migrate cmdlets that drive this API (Azure/azure-powershell,
``src/Migrate/Migrate.Autorest/custom/*.ps1``) or are *inferred* (README.md, "Migration items", lists them).

While a job runs on an item ASR allows nothing on it: :func:`allowed` returns ``[]`` then. The states whose
name says a job runs (``EnableMigrationInProgress``, ``MigrationInProgress``, ...) are those jobs' states.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class MigState(Enum):
    """Where a migration item stands, as far as what ASR shows about it differs."""

    ENABLING = "enabling"
    ENABLE_FAILED = "enableFailed"
    SEEDING = "seeding"
    SEEDING_FAILED = "seedingFailed"
    REPLICATING = "replicating"
    RESYNC_REQUIRED = "resyncRequired"
    RESYNCING = "resyncing"
    MIGRATING = "migrating"
    MIGRATED = "migrated"
    MIGRATION_FAILED = "migrationFailed"
    SUSPENDING = "suspending"
    SUSPENDED = "suspended"
    RESUME_INITIATED = "resumeInitiated"
    RESUMING = "resuming"
    DISABLING = "disabling"
    DISABLE_FAILED = "disableFailed"


class TrialPhase(Enum):
    """The item's test migration, shown as ``testMigrateState`` (not named Test…: pytest would collect it)."""

    NONE = "none"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CLEANUP_RUNNING = "cleanupRunning"


@dataclass(frozen=True)
class Row:
    state: MigState
    migration_state: str
    description: str
    allowed: tuple[str, ...]  # with no test migration in place; see allowed()
    health: str
    source: str
    tests: bool = False  # the row's operations change with the test migration (TestMigrate / TestMigrateCleanup)


# The order of allowedOperations: the examples' (Migrate, DisableMigration, TestMigrate, TestMigrateCleanup), then
# the SDK enum's for the rest.
ORDER = (
    "Migrate",
    "DisableMigration",
    "TestMigrate",
    "TestMigrateCleanup",
    "StartResync",
    "PauseReplication",
    "ResumeReplication",
)

_AZ_MIGRATE = "Az.Migrate"
ROWS: tuple[Row, ...] = (
    Row(MigState.ENABLING, "EnableMigrationInProgress", "Enabling migration", (), "Normal", "inferred"),
    Row(
        MigState.ENABLE_FAILED,
        "EnableMigrationFailed",
        "Enable migration failed",
        ("DisableMigration",),
        "Critical",
        "inferred (a failed enable leaves an item to remove, as for protected items)",
    ),
    Row(
        MigState.SEEDING,
        "InitialSeedingInProgress",
        "Initial replication in progress",
        ("DisableMigration",),
        "Normal",
        "inferred (no operation but removal before the first recovery point exists)",
    ),
    Row(
        MigState.SEEDING_FAILED,
        "InitialSeedingFailed",
        "Initial replication failed",
        ("DisableMigration", "StartResync"),
        "Critical",
        "inferred (a resync restarts the seeding)",
    ),
    Row(
        MigState.REPLICATING,
        "Replicating",
        "Ready to migrate",
        ("Migrate", "DisableMigration", "TestMigrate", "PauseReplication"),
        "Normal",
        "ReplicationMigrationItems_Get.json (state, description, the first operations); PauseReplication: "
        f"{_AZ_MIGRATE} Suspend-AzMigrateServerReplication pauses only an item that allows it; TestMigrateCleanup "
        "only with a test migration in place (the examples list it on an item without one: see README)",
        tests=True,
    ),
    Row(
        MigState.RESYNC_REQUIRED,
        "Replicating",
        "Resynchronization required",
        ("DisableMigration", "StartResync"),
        "Warning",
        "state: the SDK's resyncRequired flag on a replicating item; operations inferred",
    ),
    Row(
        MigState.RESYNCING,
        "Replicating",
        "Resynchronization in progress",
        ("DisableMigration",),
        "Normal",
        "inferred (resyncState StartedResynchronization, resyncProgressPercentage advancing)",
    ),
    Row(MigState.MIGRATING, "MigrationInProgress", "Migration in progress", (), "Normal", "inferred"),
    Row(
        MigState.MIGRATED,
        "MigrationSucceeded",
        "Migration succeeded",
        ("DisableMigration", "ResumeReplication"),
        "Normal",
        f"{_AZ_MIGRATE} Resume-AzMigrateServerReplication (resuming a migrated item, deleteMigrationResources); "
        "DisableMigration: Microsoft Learn, 'Migrate VMware VMs to Azure (agentless)' (complete the migration)",
    ),
    Row(
        MigState.MIGRATION_FAILED,
        "MigrationFailed",
        "Migration failed",
        ("Migrate", "DisableMigration", "TestMigrate"),
        "Critical",
        "inferred (replication goes on: the migration can be retried)",
        tests=True,
    ),
    Row(MigState.SUSPENDING, "SuspendingProtection", "Pausing replication", (), "Normal", "inferred"),
    Row(
        MigState.SUSPENDED,
        "ProtectionSuspended",
        "Paused",
        ("DisableMigration", "ResumeReplication"),
        "Normal",
        "ReplicationMigrationItems_PauseReplication.json (state, description, DisableMigration); ResumeReplication: "
        f"{_AZ_MIGRATE} Resume-AzMigrateServerReplication resumes only an item that allows it",
    ),
    Row(
        MigState.RESUME_INITIATED,
        "ResumeInitiated",
        "Resuming",
        (),
        "Normal",
        "ReplicationMigrationItems_ResumeReplication.json (state, description); no operation while the job runs",
    ),
    Row(
        MigState.RESUMING,
        "ResumeInProgress",
        "Resuming",
        ("DisableMigration",),
        "Normal",
        "ReplicationMigrationItems_ResumeReplication.json (DisableMigration); state after the job inferred",
    ),
    Row(MigState.DISABLING, "DisableMigrationInProgress", "Disabling migration", (), "Normal", "inferred"),
    Row(
        MigState.DISABLE_FAILED,
        "DisableMigrationFailed",
        "Disable migration failed",
        ("DisableMigration",),
        "Critical",
        "inferred",
    ),
)

# testMigrateState / description per test phase (values of the SDK's TestMigrationState; descriptions inferred
# but None's, which the examples show as "None").
TEST_STATES: dict[TrialPhase, tuple[str, str]] = {
    TrialPhase.NONE: ("None", "None"),
    TrialPhase.RUNNING: ("TestMigrationInProgress", "Test migration in progress"),
    TrialPhase.SUCCEEDED: ("TestMigrationSucceeded", "Test migration succeeded"),
    TrialPhase.FAILED: ("TestMigrationFailed", "Test migration failed"),
    TrialPhase.CLEANUP_RUNNING: ("TestMigrationCleanupInProgress", "Test migration cleanup in progress"),
}

TABLE: dict[MigState, Row] = {r.state: r for r in ROWS}


def row(state: MigState) -> Row:
    return TABLE[state]


def allowed(state: MigState, test: TrialPhase, busy: bool) -> list[str]:
    """allowedOperations of an item: none while a job runs; a live test migration swaps TestMigrate for its cleanup
    (and stops a pause), a failed one adds its cleanup."""
    if busy:
        return []
    shown = row(state)
    ops = set(shown.allowed)
    if shown.tests and test == TrialPhase.SUCCEEDED:
        ops -= {"TestMigrate", "PauseReplication"}
        ops.add("TestMigrateCleanup")
    elif shown.tests and test == TrialPhase.FAILED:
        ops.add("TestMigrateCleanup")
    elif test in (TrialPhase.SUCCEEDED, TrialPhase.FAILED) and state != MigState.MIGRATING:
        ops.add("TestMigrateCleanup")  # a test VM left behind can always be cleaned up
    return [op for op in ORDER if op in ops]
