"""The VMwareCbt migration-item state machine: which operation is allowed when, which job it starts, what the job
changes when it ends.

What an item shows per state is ``migration_states.py``; this module moves items between states. Refusals are
those of protected items (``lifecycle.py``): 409 ``OperationInProgress`` while a job runs on the item, 400
``OperationNotAllowed`` when ``allowedOperations`` does not list the operation (the message lists what is).

Job scenario names: ``Migrate``, ``TestMigrate``, ``TestMigrateCleanup`` and ``Update`` are those the Az.Migrate
cmdlet help shows in its job outputs (Azure/azure-powershell, ``src/Migrate``: Start-AzMigrateServerMigration,
Start-AzMigrateTestMigration, Start-AzMigrateTestMigrationCleanup, Set-AzMigrateServerReplication);
``EnableMigration``, ``DisableMigration``, ``Resync``, ``PauseReplication`` and ``ResumeReplication`` are not in any
public source found and are named after the operations (inferred). Task names are inferred.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulators.siterecovery import providers
from emulators.siterecovery.errors import bad_request, conflict
from emulators.siterecovery.jobs import Job
from emulators.siterecovery.lifecycle import start_job
from emulators.siterecovery.migration_inputs import (
    DETAILS,
    check_bool,
    check_id,
    check_targets,
    resolve_disks,
    resolve_run_as_accounts,
)
from emulators.siterecovery.migration_inputs import resolve_machine as resolve_discovered
from emulators.siterecovery.migration_items import MigrationItem, Stage, mig_state
from emulators.siterecovery.migration_points import find_point, points
from emulators.siterecovery.migration_states import MigState, TrialPhase, allowed, row
from emulators.siterecovery.state import GIB, AzureVm, Container, Machine, Store, Vault

TASKS: dict[str, list[tuple[str, str, float]]] = {
    "EnableMigration": [
        ("PrerequisitesCheckTask", "Prerequisites check", 30),
        ("CreateSeedDisksTask", "Creating seed disks", 90),
        ("EnableReplicationTask", "Enabling replication on the appliance", 60),
    ],
    "TestMigrate": [
        ("PrerequisitesCheckForTestMigrationTask", "Prerequisites check for test migration", 30),
        ("CreateTestVirtualMachineTask", "Create test virtual machine", 240),
        ("StartTestVirtualMachineTask", "Start the virtual machine", 90),
    ],
    "TestMigrateCleanup": [
        ("DeleteTestVirtualMachineTask", "Delete test virtual machine", 120),
        ("CompleteTestMigrationTask", "Complete testing", 30),
    ],
    "Migrate": [
        ("PrerequisitesCheckForMigrationTask", "Prerequisites check for migration", 30),
        ("ShutdownSourceTask", "Shut down the source virtual machine", 60),
        ("FinalDeltaSyncTask", "Final delta replication", 120),
        ("CreateVirtualMachineTask", "Create the Azure virtual machine", 240),
        ("StartVirtualMachineTask", "Start the virtual machine", 90),
    ],
    "Resync": [("StartResyncTask", "Start resynchronization", 60)],
    "PauseReplication": [("PauseReplicationTask", "Pause replication", 60)],
    "ResumeReplication": [("ResumeReplicationTask", "Resume replication", 60)],
    "DisableMigration": [
        ("DisableReplicationTask", "Disable replication on the appliance", 90),
        ("CleanupTask", "Clean up seed disks and replication resources", 60),
    ],
    "Update": [("UpdateMigrationItemTask", "Update the replication settings", 30)],
}

# operation scenario -> the allowedOperations entry that permits it
PERMISSION = {
    "TestMigrate": "TestMigrate",
    "TestMigrateCleanup": "TestMigrateCleanup",
    "Migrate": "Migrate",
    "Resync": "StartResync",
    "PauseReplication": "PauseReplication",
    "ResumeReplication": "ResumeReplication",
    "DisableMigration": "DisableMigration",
}


def resync_required(item: MigrationItem, now: float) -> bool:
    """A ``resyncRequired`` fault the item has not been resynchronised for, once it is seeded and syncing."""
    if item.stage != Stage.SYNCING or not item.seeded(now):
        return False
    faults = item.vault.store.faults.resync_required(item.name, item.friendly_name)
    return any(fid not in item.resynced_faults for fid, _ in faults)


def state_of(item: MigrationItem, now: float) -> MigState:
    return mig_state(item, now, resync_required(item, now))


def test_state(item: MigrationItem) -> TrialPhase:
    job = item.job if item.busy() else None
    if job is not None and job.scenario == "TestMigrate":
        return TrialPhase.RUNNING
    if job is not None and job.scenario == "TestMigrateCleanup":
        return TrialPhase.CLEANUP_RUNNING
    return item.test


def allowed_ops(item: MigrationItem, now: float) -> list[str]:
    return allowed(state_of(item, now), test_state(item), item.busy())


def seed_seconds(store: Store, item: MigrationItem) -> float:
    """Initial seeding: the included disks over the machine's bandwidth, plus the fixed overhead, with jitter."""
    bandwidth = item.machine.bandwidth_mbps or store.timing.default_bandwidth_mbps
    seconds = sum(d.disk.size_gb for d in item.disks) * GIB * 8 / (bandwidth * 1_000_000)
    total = seconds + store.timing.replication_overhead_seconds
    return max(1.0, store.jitter(total, item.id, "seed"))


def _finish(item: MigrationItem) -> None:
    item.last_job = item.job
    if item.job is not None:
        item.history.insert(0, item.job)
    item.job = None


def _no_change(item: MigrationItem) -> Callable[[float], None]:
    def failed(end: float) -> None:
        _finish(item)

    return failed


def post_migration_tasks(details: dict[str, Any]) -> list[tuple[str, str, float]]:
    """One task per ``postMigrationSteps`` entry, after the VM started: ASR runs each as a managed Run Command on
    the test or migrated VM within the job (SDK 2.0 ``ManagedRunCommandScriptInput``; task names inferred). A
    ``jobFailure`` fault on such a task's index is a script that failed."""
    steps = details.get("postMigrationSteps") or []
    return [
        ("RunPostMigrationStepTask", f"Run post-migration step '{step.get('stepName')}'", 120)
        for step in steps
        if isinstance(step, dict)
    ]


def _job(
    store: Store,
    item: MigrationItem,
    scenario: str,
    ok: Callable[[float], None],
    failed: Callable[[float], None],
    result: str = "resource",
    extra_tasks: list[tuple[str, str, float]] | None = None,
) -> Job:
    job = start_job(
        store,
        item.vault,
        scenario,
        target_name=item.friendly_name,
        target_object_id=item.internal_id,
        target_type="ProtectionEntity",  # the Az.Migrate job outputs show it for migration-item jobs
        resource_id=item.id,
        machines=[(item.name, item.friendly_name)],
        result="none" if result == "none" else "resource",
        on_success=ok,
        on_failure=failed,
        affected={
            "ProtectedItemId": item.internal_id,
            "PrimaryFabricId": item.container.fabric.internal_id,
            "PrimaryFabricName": item.container.fabric.friendly_name,
            "PrimaryFabricProviderId": item.container.fabric.kind,
            "RecoveryFabricProviderId": "Azure",
        },
        tasks=[*TASKS[scenario], *(extra_tasks or [])],
    )
    item.job = job
    return job


def check_allowed(item: MigrationItem, scenario: str, now: float) -> None:
    """409 while another job runs on the item; 400 if allowedOperations does not list the operation."""
    if item.busy():
        running = item.job.scenario if item.job else ""
        raise conflict(
            "OperationInProgress",
            f"The operation '{scenario}' cannot start: a '{running}' job is in progress on migration item "
            f"'{item.name}'. Retry after it completes.",
        )
    needed = PERMISSION[scenario]
    ops = allowed_ops(item, now)
    if needed not in ops:
        shown = row(state_of(item, now))
        raise bad_request(
            "OperationNotAllowed",
            f"The operation '{needed}' is not allowed on migration item '{item.name}' in its current state "
            f"({shown.migration_state}: {shown.description}). Allowed operations: {', '.join(ops) or 'none'}.",
        )


# -- enable ------------------------------------------------------------------------------------------


def enable(store: Store, vault: Vault, container: Container, name: str, props: dict[str, Any]) -> MigrationItem:
    """PUT replicationMigrationItems/{name}: enable migration (job ``EnableMigration``)."""
    existing = vault.migration_items.get(f"{container.id}/replicationMigrationItems/{name}".lower())
    if existing is not None:
        if existing.busy():
            raise conflict(
                "OperationInProgress",
                f"Another operation ({existing.job.scenario if existing.job else ''}) is in progress on migration "
                f"item '{name}'. Retry after it completes.",
            )
        raise conflict("ProtectionAlreadyEnabled", f"Migration is already enabled for the item '{name}'.")
    details: dict[str, Any] = props["providerSpecificDetails"]
    providers.check_input_provider(container.fabric.provider, details, DETAILS)
    mapping = providers.resolve_mapping(vault, container, props.get("policyId"))
    if mapping.policy.provider != "VMwareCbt":
        raise bad_request("InvalidPolicyId", "The policy's provider is not VMwareCbt.", target="properties.policyId")
    machine = resolve_discovered(container, details)
    resolve_run_as_accounts(machine, details)
    targets = check_targets(details)
    disks = resolve_disks(machine, list(details["disksToInclude"]))
    for other in vault.migration_items.values():
        if other.machine is machine and other.stage != Stage.REMOVED:
            raise conflict(
                "ProtectionAlreadyEnabled",
                f"Migration is already enabled for the VMware machine '{machine.id}' (migration item '{other.name}').",
            )
    settings = {
        "dataMoverRunAsAccountId": details["dataMoverRunAsAccountId"],
        "snapshotRunAsAccountId": details["snapshotRunAsAccountId"],
        "targetVmName": machine.display_name,
        **targets,
    }
    item = MigrationItem(
        vault=vault,
        name=name,
        container=container,
        machine=machine,
        mapping=mapping,
        settings=settings,
        disks=disks,
        created=store.now(),
        internal_id=store.new_guid(),
    )
    item.seed_seconds = seed_seconds(store, item)
    fault = store.faults.replication(item.name, item.friendly_name)
    if fault is not None:
        item.bind_replication_fault(fault, store.now())
    item.seed_failure = store.faults.seeding_failure(item.name, item.friendly_name)
    vault.migration_items[item.id.lower()] = item

    def ok(end: float) -> None:
        _finish(item)
        item.stage = Stage.SYNCING
        item.seed_start = end

    def failed(end: float) -> None:
        _finish(item)
        item.stage = Stage.ENABLE_FAILED
        item.enable_error = item.last_job.error.code if item.last_job and item.last_job.error else None

    _job(store, item, "EnableMigration", ok, failed)
    return item


# -- update ------------------------------------------------------------------------------------------


def update(store: Store, item: MigrationItem, props: dict[str, Any], now: float) -> Job:
    """PATCH: change the target settings (job ``Update``). Refused while any job runs (a migration included) and
    once the item has been migrated: its VM exists (inferred: the Azure Migrate portal greys out Compute and Network
    settings after migration)."""
    if item.busy():
        raise conflict(
            "OperationInProgress",
            f"The migration item '{item.name}' cannot be updated: a '{item.job.scenario if item.job else ''}' job is "
            "in progress on it. Retry after it completes.",
        )
    state = state_of(item, now)
    if state in (MigState.MIGRATED, MigState.ENABLE_FAILED, MigState.DISABLE_FAILED):
        raise bad_request(
            "OperationNotAllowed",
            f"The migration item '{item.name}' cannot be updated in its current state ({row(state).migration_state}).",
        )
    details: dict[str, Any] = props.get("providerSpecificDetails") or {}
    providers.check_input_provider("VMwareCbt", details, DETAILS)
    targets = check_targets(details)
    disk_names: dict[str, str] = {}
    known = {d.disk.id.lower() for d in item.disks}
    for i, entry in enumerate(details.get("vmDisks") or []):
        if str(entry["diskId"]).lower() not in known:
            raise bad_request(
                "InvalidDiskInput",
                f"The disk '{entry['diskId']}' is not a disk of migration item '{item.name}'.",
                target=f"{DETAILS}.vmDisks[{i}].diskId",
            )
        if entry.get("targetDiskName"):
            disk_names[str(entry["diskId"]).lower()] = str(entry["targetDiskName"])

    def ok(end: float) -> None:
        _finish(item)
        item.settings.update(targets)
        item.disks = [
            type(d)(
                d.disk,
                d.log_storage_account_id,
                d.sas_secret_name,
                d.disk_type,
                disk_names.get(d.disk.id.lower(), d.target_name),
            )
            for d in item.disks
        ]

    return _job(store, item, "Update", ok, _no_change(item))


# -- the Azure VM a (test) migration creates ----------------------------------------------------------


def target_vm_id(item: MigrationItem, *, test: bool) -> str:
    """The VM a migration creates: ``targetVmName`` in ``targetResourceGroupId``; a test migration's VM has ``-test``
    after the name (inferred; README.md, Compute)."""
    name = str(item.settings["targetVmName"]) + ("-test" if test else "")
    return f"{item.settings['targetResourceGroupId']}/providers/Microsoft.Compute/virtualMachines/{name}"


def _register_vm(store: Store, item: MigrationItem, end: float, *, test: bool) -> None:
    vm_id = target_vm_id(item, test=test)
    name = vm_id.rsplit("/", 1)[-1]
    source = item.machine
    machine = Machine(
        name=name,
        friendly_name=name,
        kind="AzureVM",
        os_type=source.os_type,
        disks_gb=[d.disk.size_gb for d in item.disks],
        bandwidth_mbps=source.bandwidth_mbps,
        vm_id=vm_id,
        location=item.vault.location,
    )
    size = item.settings.get("targetVmSize")
    size = size if isinstance(size, str) else None
    network = item.test_network_id if test else item.settings.get("targetNetworkId")
    subnet = item.settings.get("testSubnetName" if test else "targetSubnetName")
    vm = AzureVm(
        vm_id,
        name,
        item.vault.location,
        machine,
        size=size,
        created=end,
        test=test,
        network_id=network if isinstance(network, str) else None,
        subnet=subnet if isinstance(subnet, str) else None,
    )
    store.add_vm(vm)


# -- test migration ----------------------------------------------------------------------------------


def test_migrate(store: Store, item: MigrationItem, props: dict[str, Any], now: float) -> Job:
    check_allowed(item, "TestMigrate", now)
    details: dict[str, Any] = props["providerSpecificDetails"]
    providers.check_input_provider("VMwareCbt", details, DETAILS)
    network = check_id(details, "networkId")
    point = find_point(item, now, str(details["recoveryPointId"]))
    if point is None:
        raise bad_request(
            "InvalidRecoveryPointId",
            f"The recovery point '{details['recoveryPointId']}' was not found for migration item '{item.name}'.",
            target=f"{DETAILS}.recoveryPointId",
        )

    def ok(end: float) -> None:
        _finish(item)
        item.test = TrialPhase.SUCCEEDED
        item.test_network_id = network
        item.last_test_time = end
        item.last_test_status = "Succeeded"
        _register_vm(store, item, end, test=True)

    def failed(end: float) -> None:
        _finish(item)
        item.test = TrialPhase.FAILED
        item.last_test_time = end
        item.last_test_status = "Failed"

    return _job(store, item, "TestMigrate", ok, failed, extra_tasks=post_migration_tasks(details))


def test_migrate_cleanup(store: Store, item: MigrationItem, now: float) -> Job:
    """Refused without a test migration to clean up (TestMigrateCleanup is not in allowedOperations then)."""
    check_allowed(item, "TestMigrateCleanup", now)

    def ok(end: float) -> None:
        _finish(item)
        item.test = TrialPhase.NONE
        item.test_network_id = None
        store.remove_vm(target_vm_id(item, test=True))

    return _job(store, item, "TestMigrateCleanup", ok, _no_change(item))


# -- migration ---------------------------------------------------------------------------------------


def migrate(store: Store, item: MigrationItem, props: dict[str, Any], now: float) -> Job:
    """Migrate (job ``Migrate``): a final delta sync from the latest point, the Azure VM created; refused before
    seeding completes (Migrate is not in allowedOperations until the item replicates)."""
    check_allowed(item, "Migrate", now)
    details: dict[str, Any] = props["providerSpecificDetails"]
    providers.check_input_provider("VMwareCbt", details, DETAILS)
    check_bool(details, "performShutdown", required=True)

    def ok(end: float) -> None:
        _finish(item)
        latest = points(item, end)
        item.migration_point_id = latest[0].id if latest else None
        item.close_window(end)
        item.stage = Stage.MIGRATED
        item.last_migration_time = end
        item.last_migration_status = "Succeeded"
        _register_vm(store, item, end, test=False)

    def failed(end: float) -> None:
        _finish(item)
        item.last_migration_time = end
        item.last_migration_status = "Failed"

    return _job(store, item, "Migrate", ok, failed, extra_tasks=post_migration_tasks(details))


# -- resync, pause, resume ---------------------------------------------------------------------------


def resync(store: Store, item: MigrationItem, props: dict[str, Any], now: float) -> Job:
    """Resynchronise (job ``Resync``): only when needed (StartResync listed: a resync is required, or seeding
    failed); ``skipCbtReset`` must be a boolean string."""
    check_allowed(item, "Resync", now)
    details: dict[str, Any] = props["providerSpecificDetails"]
    providers.check_input_provider("VMwareCbt", details, DETAILS)
    check_bool(details, "skipCbtReset", required=True)
    seed_failed = item.seed_failed(now)
    pending = [fid for fid, _ in store.faults.resync_required(item.name, item.friendly_name)]

    def ok(end: float) -> None:
        _finish(item)
        item.resynced_faults.update(pending)
        if seed_failed:
            item.restart_seeding(end)
            return
        item.resync_start = end
        item.resync_seconds = max(60.0, 0.2 * item.seed_seconds)

    return _job(store, item, "Resync", ok, _no_change(item))


def pause(store: Store, item: MigrationItem, props: dict[str, Any], now: float) -> Job:
    check_allowed(item, "PauseReplication", now)
    kind = props.get("instanceType")
    if kind != "VMwareCbt":
        raise bad_request(
            "InvalidProviderSpecificInput",
            f"The provider input '{kind}' does not match the replication provider 'VMwareCbt' of the item.",
            target="properties.instanceType",
        )

    def ok(end: float) -> None:
        _finish(item)
        item.close_window(end)
        item.stage = Stage.PAUSED

    return _job(store, item, "PauseReplication", ok, _no_change(item))


def resume(store: Store, item: MigrationItem, props: dict[str, Any], now: float) -> Job:
    """Resume a paused item, or replicate a migrated one again (Az.Migrate Resume-AzMigrateServerReplication):
    ``deleteMigrationResources: "true"`` is refused unless the item was migrated (the cmdlet's own check)."""
    check_allowed(item, "ResumeReplication", now)
    details: dict[str, Any] = props["providerSpecificDetails"]
    providers.check_input_provider("VMwareCbt", details, DETAILS)
    delete_resources = check_bool(details, "deleteMigrationResources")
    if delete_resources and item.stage != Stage.MIGRATED:
        raise bad_request(
            "OperationNotAllowed",
            "Cannot delete migration resources as the VM has not been migrated.",
            target=f"{DETAILS}.deleteMigrationResources",
        )

    def ok(end: float) -> None:
        _finish(item)
        if item.stage == Stage.MIGRATED:
            item.last_migration_status = None
        item.stage = Stage.SYNCING
        item.resume_start = end
        item.resume_seconds = max(60.0, 0.1 * item.seed_seconds)
        item.sync_since = end + item.resume_seconds

    return _job(store, item, "ResumeReplication", ok, _no_change(item))


# -- removal -----------------------------------------------------------------------------------------

DELETE_OPTIONS = ("Default", "MigrationComplete", "true", "false")


def delete(store: Store, item: MigrationItem, option: str | None, now: float) -> Job:
    """DELETE (job ``DisableMigration``). ``deleteOption`` is a free string in the spec; the emulator takes:

    - absent, ``Default`` or ``false``: stop replicating; needs DisableMigration, no job running;
    - ``MigrationComplete``: Azure Migrate's "complete migration": the same delete, only once the item is
      migrated; the migrated VM stays (it is not the emulator's to remove);
    - ``true``: Az.Migrate's ``Remove-AzMigrateServerReplication -ForceRemove true`` (passed through as
      ``deleteOption``): removes the item whatever runs on it (a running job is cancelled).
    """
    chosen = next((o for o in DELETE_OPTIONS if option is not None and option.lower() == o.lower()), None)
    if option is not None and chosen is None:
        raise bad_request(
            "InvalidParameter",
            f"deleteOption '{option}' is not one of {', '.join(DELETE_OPTIONS)}.",
            target="deleteOption",
        )
    if chosen == "true":
        if item.busy() and item.job is not None:
            if item.job.scenario == "DisableMigration":
                raise conflict("OperationInProgress", f"The migration item '{item.name}' is already being removed.")
            item.job.cancelled_at = now
            item.job.settle(now)
    else:
        check_allowed(item, "DisableMigration", now)
        if chosen == "MigrationComplete" and item.stage != Stage.MIGRATED:
            raise bad_request(
                "OperationNotAllowed",
                f"deleteOption 'MigrationComplete' completes a migration: the migration item '{item.name}' has not "
                "been migrated.",
                target="deleteOption",
            )

    def ok(end: float) -> None:
        _finish(item)
        item.stage = Stage.REMOVED
        item.vault.migration_items.pop(item.id.lower(), None)

    def failed(end: float) -> None:
        _finish(item)
        item.close_window(end)
        item.stage = Stage.DISABLE_FAILED

    return _job(store, item, "DisableMigration", ok, failed, result="none")
