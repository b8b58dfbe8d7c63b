"""What ASR shows on a replication protected item in each state, per replication provider: one table.

Every row gives, for the providers it lists, ``protectionState`` / ``protectionStateDescription``, the
``allowedOperations`` (in the examples' order), ``testFailoverState`` / ``…Description`` and which side is
active, and cites what it copies. The official 2025-08-01 examples (``tests/fixtures/siterecovery/``) show
Hyper-V items only; a row for InMageRcm or A2A says what it is based on instead. Rows marked *inferred*
copy no example or document value (README.md, "Item states", lists them with the same sources).

The table says what an *idle* item allows. While a job runs on an item ASR allows nothing more on it; the
state machine (``lifecycle.status``) empties ``allowedOperations`` then, and a running test failover or
cleanup has rows of its own because it changes ``testFailoverState``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from emulators.siterecovery.topology import Provider

HYPER_V: Provider = "HyperVReplicaAzure"
RCM: Provider = "InMageRcm"
A2A: Provider = "A2A"
ALL: tuple[Provider, ...] = (HYPER_V, RCM, A2A)


class ItemState(Enum):
    """Where an item stands, as far as what ASR shows about it differs."""

    ENABLING = "enabling"
    ENABLE_FAILED = "enableFailed"
    INITIAL_REPLICATION = "initialReplication"
    PROTECTED = "protected"
    # protected again after a reprotect from the recovery side: replication runs recovery -> primary
    REPLICATING_BACK = "replicatingBack"
    TEST_FAILOVER_RUNNING = "testFailoverRunning"
    TEST_FAILOVER_PENDING_CLEANUP = "testFailoverPendingCleanup"
    TEST_FAILOVER_CLEANUP_RUNNING = "testFailoverCleanupRunning"
    FAILED_OVER = "failedOver"
    PLANNED_FAILED_OVER = "plannedFailedOver"
    COMMITTED = "committed"
    PLANNED_COMMITTED = "plannedCommitted"
    # Hyper-V: a planned failover from Azure back to the on-premises host, pending commit / committed
    FAILED_BACK = "failedBack"
    FAILBACK_COMMITTED = "failbackCommitted"
    DISABLED = "disabled"


NO_TEST_FAILOVER = ("None", "None")

# Sources, cited by the rows (file names are the official examples; "learn:" is learn.microsoft.com).
EX_GET = "ReplicationProtectedItems_Get.json (same in _Create, _List, _ListByReplicationProtectionContainers)"
EX_TFO = "ReplicationProtectedItems_TestFailover.json"
EX_CLEANUP = "ReplicationProtectedItems_TestFailoverCleanup.json"
EX_UNPLANNED = "ReplicationProtectedItems_UnplannedFailover.json"
EX_PLANNED = "ReplicationProtectedItems_PlannedFailover.json"
EX_COMMIT = "ReplicationProtectedItems_FailoverCommit.json"
EX_CANCEL = "ReplicationProtectedItems_FailoverCancel.json (an InMageRcmFailback item)"
DOC_TFO_STATE = (
    "learn: the TestFailoverState enum of Az.Migrate and Azure.ResourceManager.RecoveryServicesDataReplication: "
    "MarkedForDeletion is the transient state after a cleanup ended, before None"
)
DOC_HYPER_V_FAILBACK = (
    "learn: Site Recovery, 'Fail over Hyper-V VMs to Azure' (hyper-v-azure-failover-failback-tutorial): "
    "failover to Azure, then failback to on-premises, then reverse replicate; change recovery point until commit"
)
DOC_A2A_REPROTECT = (
    "learn: Site Recovery, azure-to-azure-tutorial-failover-failback: after failover, reprotect replicates "
    "back to the primary region (failing back by another unplanned failover is inferred)"
)
DOC_RCM_REST = (
    "learn: Azure Migrate, 'Automate VMware to Azure agent-based migration using Azure Site Recovery REST API' "
    "(InMageRcm): after a successful failover, disable replication to complete the migration"
)
SDK_PLANNED = (
    "SDK 2.0.0: PlannedFailoverProviderSpecificFailoverInput has only HyperVReplicaAzure, "
    "HyperVReplicaAzureFailback and InMageRcmFailback subtypes (no planned failover to Azure for A2A/InMageRcm)"
)


@dataclass(frozen=True)
class Row:
    """What ASR shows for ``state`` on the items of ``providers``."""

    state: ItemState
    providers: tuple[Provider, ...]
    protection_state: str
    description: str
    allowed: tuple[str, ...]
    active: Literal["source", "target"]  # the side replication runs from, or the side failed over to
    source: str
    test_failover: tuple[str, str] = NO_TEST_FAILOVER
    # the example whose protectionState, description and allowedOperations the row copies as they are
    # (for the first of ``providers``); None where the row is based on one, or inferred
    copies: str | None = None


TABLE: tuple[Row, ...] = (
    Row(
        ItemState.ENABLING,
        ALL,
        "UnprotectedStatesBegin",
        "Enabling protection",
        (),
        "source",
        "inferred: no example shows an item before its enable job ends",
    ),
    Row(
        ItemState.ENABLE_FAILED,
        ALL,
        "UnprotectedStatesBegin",
        "Enable protection failed",
        ("DisableProtection",),
        "source",
        "inferred: ASR keeps the item of a failed enable; only disabling it helps",
    ),
    Row(
        ItemState.INITIAL_REPLICATION,
        ALL,
        "UnprotectedStatesBegin",
        "Initial replication in progress",
        ("DisableProtection",),
        "source",
        "inferred: no failover before initial replication has made a recovery point",
    ),
    Row(
        ItemState.PROTECTED,
        (HYPER_V,),
        "Protected",
        "Protected",
        ("PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"),
        "source",
        EX_GET,
        copies="ReplicationProtectedItems_Get",
    ),
    Row(
        ItemState.PROTECTED,
        (RCM, A2A),
        "Protected",
        "Protected",
        ("UnplannedFailover", "DisableProtection", "TestFailover"),
        "source",
        f"based on {EX_GET} without PlannedFailover: {SDK_PLANNED}",
    ),
    Row(
        ItemState.REPLICATING_BACK,
        (A2A,),
        "Protected",
        "Protected",
        ("UnplannedFailover", "DisableProtection", "TestFailover"),
        "source",
        f"based on {EX_GET}; {DOC_A2A_REPROTECT}",
    ),
    Row(
        ItemState.REPLICATING_BACK,
        (RCM,),
        "Protected",
        "Protected",
        ("PlannedFailover", "DisableProtection"),
        "source",
        f"{EX_CANCEL}: replicating back to on-premises, failback is a planned failover (InMageRcmFailback)",
        copies="ReplicationProtectedItems_FailoverCancel",
    ),
    Row(
        ItemState.TEST_FAILOVER_RUNNING,
        ALL,
        "Protected",
        "Protected",
        (),
        "source",
        "inferred: no example shows a test failover job running",
        ("InProgress", "Test failover in progress"),
    ),
    Row(
        ItemState.TEST_FAILOVER_PENDING_CLEANUP,
        ALL,
        "Protected",
        "Cleanup test failover pending",
        ("TestFailoverCleanup",),
        "source",
        f"{EX_TFO} (Hyper-V); the same for InMageRcm and A2A, whose test failover also waits for a cleanup",
        ("WaitingForCompletion", "Waiting for user input"),
        copies="ReplicationProtectedItems_TestFailover",
    ),
    Row(
        ItemState.TEST_FAILOVER_CLEANUP_RUNNING,
        ALL,
        "Protected",
        "Protected",
        (),
        "source",
        f"value and description from {EX_CLEANUP}; shown while the cleanup runs: {DOC_TFO_STATE}",
        ("MarkedForDeletion", "Cleaning up test environment"),
    ),
    Row(
        ItemState.FAILED_OVER,
        (HYPER_V,),
        "UnplannedFailoverCommitPendingStatesBegin",
        "Failover completed",
        ("CompleteMigration", "Commit", "DisableProtection", "ChangePit"),
        "target",
        f"{EX_UNPLANNED} (its testFailoverState MarkedForDeletion is not copied: {DOC_TFO_STATE})",
        copies="ReplicationProtectedItems_UnplannedFailover",
    ),
    Row(
        ItemState.FAILED_OVER,
        (RCM,),
        "UnplannedFailoverCommitPendingStatesBegin",
        "Failover completed",
        ("CompleteMigration", "Commit", "DisableProtection", "ChangePit"),
        "target",
        f"based on {EX_UNPLANNED}; {DOC_RCM_REST}; ChangePit: SDK InMageRcmApplyRecoveryPointInput",
    ),
    Row(
        ItemState.FAILED_OVER,
        (A2A,),
        "UnplannedFailoverCommitPendingStatesBegin",
        "Failover completed",
        ("CompleteMigration", "Commit", "DisableProtection", "ChangePit"),
        "target",
        f"based on {EX_UNPLANNED}; ChangePit: SDK A2AApplyRecoveryPointInput",
    ),
    Row(
        ItemState.PLANNED_FAILED_OVER,
        (HYPER_V,),
        "PlannedFailoverCommitRequired",
        "Planned failover finished",
        ("CompleteMigration", "Commit", "DisableProtection", "ChangePit"),
        "target",
        f"{EX_PLANNED} (its testFailoverState MarkedForDeletion is not copied)",
        copies="ReplicationProtectedItems_PlannedFailover",
    ),
    Row(
        ItemState.PLANNED_FAILED_OVER,
        (RCM,),
        "PlannedFailoverCommitRequired",
        "Planned failover finished",
        ("Commit", "CancelFailover", "DisableProtection"),
        "target",
        f"based on {EX_PLANNED}; the failback to on-premises can be cancelled: {EX_CANCEL}",
    ),
    Row(
        ItemState.COMMITTED,
        (HYPER_V,),
        "UnplannedFailoverCommittedStatesBegin",
        "Failover committed",
        ("CompleteMigration", "DisableProtection", "Failback"),
        "target",
        f"{EX_COMMIT} (after a planned failover; the state names after an unplanned one are inferred)",
    ),
    Row(
        ItemState.COMMITTED,
        (RCM, A2A),
        "UnplannedFailoverCommittedStatesBegin",
        "Failover committed",
        ("CompleteMigration", "DisableProtection", "ReverseReplicate"),
        "target",
        f"based on {EX_COMMIT}, failing back starting with a reprotect: {DOC_A2A_REPROTECT}; "
        "InMageRcm: SDK InMageRcmReprotectInput, then InMageRcmFailback",
    ),
    Row(
        ItemState.PLANNED_COMMITTED,
        (HYPER_V,),
        "PlannedFailoverStatesBegin",
        "Planned failover committed",
        ("CompleteMigration", "DisableProtection", "Failback"),
        "target",
        f"{EX_COMMIT} (its testFailoverState MarkedForDeletion is not copied)",
        copies="ReplicationProtectedItems_FailoverCommit",
    ),
    Row(
        ItemState.PLANNED_COMMITTED,
        (RCM,),
        "PlannedFailoverStatesBegin",
        "Planned failover committed",
        ("DisableProtection", "ReverseReplicate"),
        "target",
        f"inferred from {EX_COMMIT}: back on-premises after a failback, a reprotect replicates to Azure again",
    ),
    Row(
        ItemState.FAILED_BACK,
        (HYPER_V,),
        "PlannedFailoverCommitRequired",
        "Planned failover finished",
        ("Commit", "CancelFailover", "DisableProtection"),
        "source",
        f"based on {EX_PLANNED} and {DOC_HYPER_V_FAILBACK}; CancelFailover as for a failback in {EX_CANCEL}",
    ),
    Row(
        ItemState.FAILBACK_COMMITTED,
        (HYPER_V,),
        "PlannedFailoverStatesBegin",
        "Planned failover committed",
        ("DisableProtection", "ReverseReplicate"),
        "source",
        f"based on {EX_COMMIT}; {DOC_HYPER_V_FAILBACK}",
    ),
    Row(
        ItemState.DISABLED,
        ALL,
        "UnprotectedStatesBegin",
        "Disabled",
        (),
        "source",
        "inferred: the item is gone once its disable job ends",
    ),
)


def _index(rows: tuple[Row, ...]) -> dict[tuple[ItemState, Provider], Row]:
    """The table by (state, provider); a pair in two rows is a mistake in the table."""
    out: dict[tuple[ItemState, Provider], Row] = {}
    for row in rows:
        for provider in row.providers:
            key = (row.state, provider)
            if key in out:
                raise ValueError(f"two rows for {provider} in state {row.state.value}")
            out[key] = row
    return out


_ROWS = _index(TABLE)


def row(provider: Provider, state: ItemState) -> Row:
    """The row for ``provider`` in ``state``; a pair no row covers is a state the provider cannot reach."""
    found = _ROWS.get((state, provider))
    if found is None:
        raise LookupError(f"no item-state row for {provider} in state {state.value}")
    return found
