"""VMwareCbt (Azure Migrate's agentless VMware migration): migration items instead of protected items.

The runbook's steps map onto a migration item's operations: enable replication is *create* (enable migration),
the test failover is *testMigrate* into the test network at a migration recovery point, its cleanup is
*testMigrateCleanup*, the failover is *migrate* (``performShutdown``), and there is no commit: a succeeded migrate
is final. Completing the migration is the item's *delete*, which stops replication and leaves the migrated VM in
place (Microsoft Learn, "Migrate VMware VMs to Azure (agentless)", *Complete the migration*); a rollback is the
same delete on an item that never migrated. Pause, resume and resync are operations of their own.

Request fields follow the SDK 2.0 models: ``VMwareCbtEnableMigrationInput`` (required ``vmwareMachineId``,
``disksToInclude``, ``dataMoverRunAsAccountId``, ``snapshotRunAsAccountId``, ``targetResourceGroupId``,
``targetNetworkId``; per disk ``diskId``, ``isOSDisk``, ``logStorageAccountId``, ``logStorageAccountSasSecretName``),
``VMwareCbtTestMigrateInput`` (required ``recoveryPointId``, ``networkId``) and ``VMwareCbtMigrateInput``
(required ``performShutdown``, a string). Booleans travel as the strings "true"/"false", as the examples send them.

An item reads back as ``MigrationItem``: ``migrationState`` and ``testMigrateState`` (SDK enums MigrationState and
TestMigrationState), ``currentJob``, ``health``, ``allowedOperations`` (MigrationItemOperation) and
``VMwareCbtMigrationDetails`` (``initialSeedingProgressPercentage``, ``resyncRequired``, ``resyncState``,
``resyncProgressPercentage``, ``migrationRecoveryPointId``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from migration.machine import Machine, StepPhase
from migration.scenarios.base import (
    DisableReason,
    ItemAddress,
    ItemKind,
    JsonDict,
    ProtectedItemView,
    ProviderSteps,
    cleanup_body,
    compact,
    health_issues,
    provider_details,
    target_settings,
    to_int,
)
from migration.source_kinds import Provider
from migration.vmware_discovery import VMwareSource, choose_disks, sas_secret_name

__all__ = ["VMwareCbtScenario"]

INSTANCE_TYPE = Provider.VMWARE_CBT.value
_NONE = "none"

# migrationState values (SDK enum MigrationState) after which the migrated VM runs in Azure.
_MIGRATED = frozenset({"migrationsucceeded"})
# ...in which replication is paused or being paused.
_PAUSED = frozenset({"protectionsuspended", "suspendingprotection"})
# ...in which initial seeding has ended and delta replication runs (or ran, for a failed migrate, which keeps
# replicating so the migrate can be tried again).
_SEEDED = frozenset({"replicating", "migrationfailed", "migrationinprogress"})
# resyncState values (SDK enum ResyncState) while a resynchronization is pending or running.
_RESYNCING = frozenset({"preparedforresynchronization", "startedresynchronization"})


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_true(value: object) -> bool:
    return isinstance(value, str) and value.lower() == "true" or value is True


def _steps(machine: Machine, phase: StepPhase) -> JsonDict:
    """``postMigrationSteps`` (``ManagedRunCommandScriptInput``) for the test VM or the migrated VM; nothing when
    the plan names none, so the body stays what the examples send."""
    steps = machine.post_migration_steps_on(phase)
    if not steps:
        return {}
    return {
        "postMigrationSteps": [
            {"stepName": step.name, "scriptUrl": step.script_url, "scriptParameters": step.parameters} for step in steps
        ]
    }


def _allowed(properties: Mapping[str, Any]) -> frozenset[str]:
    """``allowedOperations``, without a TestMigrateCleanup that has no test migration to clean up.

    ASR lists TestMigrateCleanup on an item whose ``testMigrateState`` is ``None`` (ReplicationMigrationItems_Get.json
    does); taken at its word, it would make a test migration that never ran look as if it waited for its cleanup.
    """
    ops = frozenset(op for op in properties.get("allowedOperations") or [] if isinstance(op, str))
    test_state = str(properties.get("testMigrateState") or _NONE).lower()
    if test_state == _NONE:
        ops = frozenset(op for op in ops if op.lower() != "testmigratecleanup")
    return ops


class VMwareCbtScenario(ProviderSteps):
    """Bodies and reading for Azure Migrate's agentless VMware provider (migration items)."""

    provider = Provider.VMWARE_CBT
    # testMigrate names its recovery point; the step activity lists the item's migration recovery points for it.
    needs_recovery_point_for_test = True

    def protected_item(self, machine: Machine) -> ItemAddress:
        """The machine's migration item under its VMwareV2 fabric's container."""
        asr = machine.asr
        return ItemAddress(
            machine.vault, asr.fabric, asr.protection_container, machine.protected_item_name, ItemKind.MIGRATION
        )

    def enable_protection(
        self,
        machine: Machine,
        *,
        discovered_machine_id: str | None = None,
        disk_ids: Sequence[str] | None = None,
        source: VMwareSource | None = None,
    ) -> JsonDict:
        """``EnableMigrationInput``; ``source`` (discovery) fills in what the plan leaves out: the disks, the run-as
        account of the machine's vCenter, the container mapping's log storage account."""
        replication = machine.replication
        machine_id = self.required(
            discovered_machine_id or machine.asr.discovered_machine_id, "asr.discoveredMachineId", machine
        )
        disks, problems = choose_disks(machine, source)
        if problems:
            raise ValueError("; ".join(f"{machine.name}: {path}: {message}" for path, message in problems))
        if disk_ids is not None:
            wanted = {disk.lower() for disk in disk_ids}
            disks = tuple(disk for disk in disks if disk.disk_id.lower() in wanted)
        run_as = self.required(
            replication.run_as_account_id or (source.run_as_account_id if source else None),
            "replication.runAsAccountId (or a vCenter with a run-as account in discovery)",
            machine,
        )
        log_storage = self.required(
            replication.log_storage_account_id or (source.log_storage_account_id if source else None),
            "replication.logStorageAccountId (or a container mapping with a storage account)",
            machine,
        )
        details = compact(
            {
                "instanceType": INSTANCE_TYPE,
                "vmwareMachineId": machine_id,
                "disksToInclude": [
                    compact(
                        {
                            "diskId": disk.disk_id,
                            "isOSDisk": _flag(disk.is_os_disk),
                            "logStorageAccountId": log_storage,
                            "logStorageAccountSasSecretName": sas_secret_name(log_storage),
                            "diskType": replication.disk_type.value if replication.disk_type else None,
                        }
                    )
                    for disk in disks
                ],
                # Az.Migrate passes the vCenter's one run-as account as both: the appliance moves data and takes
                # snapshots with the same credentials.
                "dataMoverRunAsAccountId": run_as,
                "snapshotRunAsAccountId": run_as,
                **target_settings(machine),
                # Az.Migrate's default: the service resynchronizes by itself when a source change needs it.
                "performAutoResync": "true",
            }
        )
        return {"properties": {"policyId": machine.policy_id, "providerSpecificDetails": details}}

    def test_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        """``TestMigrateInput`` into the test network at ``recovery_point_id`` (which testMigrate requires)."""
        network = self.required(machine.target.test_network_id, "target.testNetworkId", machine)
        point = self.required(recovery_point_id, "a migration recovery point", machine)
        details = {"instanceType": INSTANCE_TYPE, "recoveryPointId": point, "networkId": network}
        return {"properties": {"providerSpecificDetails": {**details, **_steps(machine, "test")}}}

    def test_failover_cleanup(self, machine: Machine, *, comments: str | None = None) -> JsonDict:
        """``TestMigrateCleanupInput``: the same ``comments`` envelope as a test failover cleanup."""
        return cleanup_body(comments)

    def unplanned_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        """``MigrateInput``: migrate takes the latest data after shutting the source down (``performShutdown``)."""
        details = {"instanceType": INSTANCE_TYPE, "performShutdown": _flag(machine.options.perform_shutdown)}
        return {"properties": {"providerSpecificDetails": {**details, **_steps(machine, "migrate")}}}

    def disable_protection(self, machine: Machine, *, reason: DisableReason) -> JsonDict:
        """The delete takes no body and no option here: with or without a migration it stops replication and
        removes the item, and the migrated VM is never the delete's to remove (module doc). ``reason`` only says why.
        """
        return {}

    def resync(self, machine: Machine) -> JsonDict:
        """``ResyncInput``: resynchronize with a fresh changed-block tracking baseline (``skipCbtReset`` "false"):
        ASR asks for a resync when it can no longer trust the changes it tracked."""
        details = {"instanceType": INSTANCE_TYPE, "skipCbtReset": "false"}
        return {"properties": {"providerSpecificDetails": details}}

    def pause_replication(self, machine: Machine) -> JsonDict:
        """``PauseReplicationInput`` (its properties carry the discriminator directly)."""
        return {"properties": {"instanceType": INSTANCE_TYPE}}

    def resume_replication(self, machine: Machine) -> JsonDict:
        """``ResumeReplicationInput``: resume and keep the replica disks (``deleteMigrationResources`` "false")."""
        details = {"instanceType": INSTANCE_TYPE, "deleteMigrationResources": "false"}
        return {"properties": {"providerSpecificDetails": details}}

    def recovery_point_used(self, item: Mapping[str, Any]) -> str | None:
        point = provider_details(item, INSTANCE_TYPE).get("migrationRecoveryPointId")
        return point if isinstance(point, str) and point else None

    def read_protected_item(self, item: Mapping[str, Any]) -> ProtectedItemView:
        """The migration item as the runbook's one view: ``migrationState`` stands for the protection state, a
        succeeded migrate for a failover, ``currentJob`` for the current scenario."""
        properties = item.get("properties") or {}
        details = provider_details(item, INSTANCE_TYPE)
        state = _text(properties.get("migrationState"))
        lowered = (state or "").lower()
        job = properties.get("currentJob") or {}
        job_name = _text(job.get("jobName"))
        job_id = _text(job.get("jobId"))
        if job_id is not None and job_id.rsplit("/", 1)[-1].lower() == _NONE:
            job_id = None
        resync_state = str(details.get("resyncState") or "").lower()
        resync = _is_true(details.get("resyncRequired")) or resync_state in _RESYNCING
        # A migrated item whose removal failed shows DisableMigrationFailed; it still runs in Azure, as its last
        # migration's status says (MigrationItemProperties.lastMigrationStatus).
        last_migration = str(properties.get("lastMigrationStatus") or "").lower()
        migrated = lowered in _MIGRATED or last_migration == "succeeded"
        seeded = migrated or (lowered in _SEEDED and not resync)
        percent = to_int(details.get("resyncProgressPercentage" if resync else "initialSeedingProgressPercentage"))
        return ProtectedItemView(
            provider=INSTANCE_TYPE,
            id=_text(item.get("id")),
            name=_text(item.get("name")),
            protection_state=state,
            protection_state_description=_text(properties.get("migrationStateDescription")),
            protected=seeded and not migrated,
            initial_replication_done=seeded,
            progress_percent=100 if seeded and percent is None else percent,
            bytes_processed=None,
            bytes_transferred=None,
            rpo_seconds=None,
            progress_health=None,
            replication_health=_text(properties.get("health")),
            health_errors=health_issues(properties),
            test_failover_state=_text(properties.get("testMigrateState")),
            active_location="Recovery" if migrated else "Primary",
            current_scenario=None if job_name is None or job_name.lower() == _NONE else job_name,
            current_job_id=job_id,
            allowed_operations=_allowed(properties),
            resync_required=_is_true(details.get("resyncRequired")),
            paused=lowered in _PAUSED,
        )
