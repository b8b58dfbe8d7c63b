"""JSON of a VMwareCbt migration item (``MigrationItem`` with ``VMwareCbtMigrationDetails``), shaped like the
ReplicationMigrationItems_* examples; field names and types are the SDK 2.0 models' (booleans ASR sends as the
strings ``"true"``/``"false"``, progress as integers)."""

from __future__ import annotations

from typing import Any

from emulators.siterecovery.clock import iso
from emulators.siterecovery.jobs import NO_JOB_START, Job
from emulators.siterecovery.migration_items import MigrationItem, Stage
from emulators.siterecovery.migration_lifecycle import allowed_ops, state_of, test_state
from emulators.siterecovery.migration_points import points
from emulators.siterecovery.migration_states import TEST_STATES, MigState, row
from emulators.siterecovery.views import T_CONTAINER, compact

T_MIGRATION_ITEM = f"{T_CONTAINER}/replicationMigrationItems"
MAX_HISTORY = 10


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _current_job(item: MigrationItem) -> dict[str, Any]:
    """``currentJob``: the running job, else the examples' placeholder (job ``None``)."""
    clock = item.vault.store.clock
    job = item.job if item.busy() else None
    if job is None:
        return {"jobName": "None", "jobId": f"{item.vault.id}/replicationJobs/None", "startTime": NO_JOB_START}
    return {"jobName": job.scenario, "jobId": job.id, "startTime": iso(clock.at(job.start))}


def _history(item: MigrationItem, now: float) -> list[dict[str, Any]]:
    clock = item.vault.store.clock
    return [
        {"jobName": j.scenario, "jobId": j.id, "startTime": iso(clock.at(j.start)), "jobStatus": j.outcome_at(now)}
        for j in item.history[:MAX_HISTORY]
    ]


def _job_progress(job: Job | None, now: float) -> int:
    if job is None:
        return 0
    end = job.end
    if end == float("inf") or end <= job.start:
        return 0
    return max(0, min(100, int((now - job.start) * 100 / (end - job.start))))


def _health_errors(item: MigrationItem, state: MigState, now: float) -> list[dict[str, Any]]:
    clock = item.vault.store.clock
    created = iso(clock.at(now))
    if state == MigState.ENABLE_FAILED:
        return [
            _error(
                item.enable_error or "EnableMigrationFailed",
                "Enable migration failed for the virtual machine.",
                "Error",
                "Remove the migration item and enable migration again.",
                created,
            )
        ]
    if state == MigState.SEEDING_FAILED and item.seed_failure is not None:
        spec = item.seed_failure
        return [_error(spec.error_code, spec.message, "Error", spec.recommended_action, created, spec.possible_causes)]
    if state == MigState.RESYNC_REQUIRED:
        faults = item.vault.store.faults.resync_required(item.name, item.friendly_name)
        pending = [spec for fid, spec in faults if fid not in item.resynced_faults]
        spec0 = pending[0]
        return [_error(spec0.error_code, spec0.message, "Warning", "Resynchronize the virtual machine.", created)]
    if state == MigState.SEEDING and item.break_percent is not None:
        if item.seed_progress(now) >= item.break_percent:
            stalled = item.factor == 0
            # the codes of stalled / slow replication the protected items use (their README: inferred)
            return [
                _error(
                    "78122" if stalled else "78144",
                    "No data has been uploaded from the source machine for a while."
                    if stalled
                    else "The data upload rate from the source machine is lower than expected.",
                    "Error" if stalled else "Warning",
                    "Check the network connectivity and the Azure Migrate appliance.",
                    created,
                )
            ]
    if state == MigState.MIGRATION_FAILED and item.history and item.history[0].error is not None:
        err = item.history[0].error
        return [_error(err.code, err.message, "Error", err.recommended_action, created, err.possible_causes)]
    return []


def _error(code: str, message: str, level: str, action: str, created: str, causes: str | None = None) -> dict[str, Any]:
    return {
        "errorCode": code,
        "errorMessage": message,
        "possibleCauses": causes,
        "recommendedAction": action,
        "errorLevel": level,
        "creationTimeUtc": created,
        "customerResolvability": "Allowed",
    }


def _health(state: MigState, errors: list[dict[str, Any]]) -> str:
    """Critical with an error, Warning with a warning, else the state's (a failed state is Critical anyway)."""
    if any(e["errorLevel"] == "Error" for e in errors):
        return "Critical"
    if errors:
        return "Warning"
    return row(state).health


def _disks(item: MigrationItem, now: float, migrated: bool) -> list[dict[str, Any]]:
    rg = item.settings["targetResourceGroupId"]
    progress = int(item.seed_progress(now))
    seeding = item.stage == Stage.SYNCING and not item.seeded(now)
    out = []
    for included in item.disks:
        disk = included.disk
        target_name = included.target_name or f"{item.settings['targetVmName']}-{disk.name}"
        out.append(
            {
                "diskId": disk.id,
                "diskName": disk.name,
                "diskType": included.disk_type,
                "diskPath": f"[datastore1] {item.machine.name}/{disk.name}.vmdk",
                "isOSDisk": _flag(disk.is_os_disk),
                "capacityInBytes": disk.size_gb * 1024**3,
                "logStorageAccountId": included.log_storage_account_id,
                "logStorageAccountSasSecretName": included.sas_secret_name,
                "seedManagedDiskId": f"{rg}/providers/Microsoft.Compute/disks/{target_name}-seed",
                "targetManagedDiskId": f"{rg}/providers/Microsoft.Compute/disks/{target_name}" if migrated else None,
                "targetDiskName": target_name,
                "diskSizeInGB": disk.size_gb,
                "gatewayOperationDetails": {"state": "InitialSeeding", "progressPercentage": progress}
                if seeding
                else None,
            }
        )
    return out


def details_view(item: MigrationItem, state: MigState, now: float) -> dict[str, Any]:
    """``VMwareCbtMigrationDetails``."""
    clock = item.vault.store.clock
    s = item.settings
    latest = points(item, now)
    resyncing = item.resyncing(now)
    resync_needed = state == MigState.RESYNC_REQUIRED
    migrating = state == MigState.MIGRATING
    os_disk = next(d for d in item.disks if d.disk.is_os_disk)
    resync_progress = 0
    if item.resync_start is not None:
        resync_progress = min(100, int((now - item.resync_start) * 100 / max(1.0, item.resync_seconds)))
    resume_progress = 0
    if item.resume_start is not None:
        resume_progress = min(100, int((now - item.resume_start) * 100 / max(1.0, item.resume_seconds)))
    return {
        "instanceType": "VMwareCbt",
        "vmwareMachineId": item.machine.id,
        "osType": item.machine.os_type,
        "osName": item.machine.os_name,
        "firmwareType": item.machine.firmware_type,
        "targetGeneration": "2" if item.machine.firmware_type == "EFI" else "1",
        "licenseType": s.get("licenseType", "NoLicenseType"),
        "sqlServerLicenseType": s.get("sqlServerLicenseType", "NotSpecified"),
        "linuxLicenseType": s.get("linuxLicenseType"),
        "dataMoverRunAsAccountId": s["dataMoverRunAsAccountId"],
        "snapshotRunAsAccountId": s["snapshotRunAsAccountId"],
        "storageAccountId": os_disk.log_storage_account_id,
        "targetVmName": s["targetVmName"],
        "targetVmSize": s.get("targetVmSize"),
        "targetLocation": item.vault.location,
        "targetResourceGroupId": s["targetResourceGroupId"],
        "targetAvailabilitySetId": s.get("targetAvailabilitySetId"),
        "targetAvailabilityZone": s.get("targetAvailabilityZone"),
        "targetProximityPlacementGroupId": s.get("targetProximityPlacementGroupId"),
        "targetBootDiagnosticsStorageAccountId": s.get("targetBootDiagnosticsStorageAccountId"),
        "protectedDisks": _disks(item, now, item.stage == Stage.MIGRATED),
        "targetNetworkId": s["targetNetworkId"],
        "testNetworkId": item.test_network_id or s.get("testNetworkId"),
        "vmNics": [],
        "migrationRecoveryPointId": item.migration_point_id,
        "lastRecoveryPointReceived": iso(clock.at(latest[0].at)) if latest else None,
        "lastRecoveryPointId": latest[0].id if latest else None,
        "initialSeedingProgressPercentage": int(item.seed_progress(now)),
        "migrationProgressPercentage": _job_progress(item.job, now)
        if migrating
        else (100 if item.stage == Stage.MIGRATED else 0),
        "resyncProgressPercentage": resync_progress,
        "resumeProgressPercentage": resume_progress,
        "initialSeedingRetryCount": 0,
        "resyncRetryCount": 0,
        "resumeRetryCount": 0,
        "deltaSyncRetryCount": 0,
        "resyncRequired": _flag(resync_needed),
        "resyncState": "StartedResynchronization"
        if resyncing
        else ("PreparedForResynchronization" if resync_needed else "None"),
        "performAutoResync": s.get("performAutoResync", "false"),  # as sent; ASR's default is not public
    }


def migration_item_view(item: MigrationItem, now: float) -> dict[str, Any]:
    """``MigrationItem`` JSON (the examples' properties, plus what the SDK model has and ASR fills in)."""
    clock = item.vault.store.clock
    state = state_of(item, now)
    shown = row(state)
    test_value, test_description = TEST_STATES[test_state(item)]
    errors = _health_errors(item, state, now)
    props: dict[str, Any] = {
        "machineName": item.machine.display_name,
        "policyId": item.mapping.policy.id,
        "policyFriendlyName": item.mapping.policy.name,
        "migrationState": shown.migration_state,
        "migrationStateDescription": shown.description,
        "lastTestMigrationTime": iso(clock.at(item.last_test_time)) if item.last_test_time is not None else None,
        "lastTestMigrationStatus": item.last_test_status,
        "lastMigrationTime": iso(clock.at(item.last_migration_time)) if item.last_migration_time is not None else None,
        "lastMigrationStatus": item.last_migration_status,
        "testMigrateState": test_value,
        "testMigrateStateDescription": test_description,
        "health": _health(state, errors),
        "healthErrors": errors,
        "allowedOperations": allowed_ops(item, now),
        "currentJob": _current_job(item),
        "criticalJobHistory": _history(item, now),
        "eventCorrelationId": item.internal_id,
        "providerSpecificDetails": details_view(item, state, now),
    }
    view: dict[str, Any] = compact({"id": item.id, "name": item.name, "type": T_MIGRATION_ITEM, "properties": props})
    return view
