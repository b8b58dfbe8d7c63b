"""The protected-item and recovery-plan state machines: which operation is allowed when, which
job it starts, and what the job changes when it ends.

What an item shows in each state (``protectionState``, ``allowedOperations``, ``testFailoverState``, the
active side) is the table in ``item_states.py``, whose rows cite the official examples and Microsoft's
documents; this module decides which state an item is in and moves it between states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from emulators.siterecovery import providers
from emulators.siterecovery.errors import bad_request, conflict
from emulators.siterecovery.item_states import ItemState, row
from emulators.siterecovery.jobs import Job, JobError, TaskPlan
from emulators.siterecovery.state import (
    AzureVm,
    Container,
    ContainerMapping,
    Item,
    Machine,
    Phase,
    RecoveryPlan,
    Store,
    Vault,
)

# (task name, friendly name, simulated seconds) per job scenario.
TASKS: dict[str, list[tuple[str, str, float]]] = {
    "EnableDr": [
        ("PrerequisitesCheckTask", "Prerequisites check", 30),
        ("IdentifyTargetTask", "Identifying replication target", 45),
        ("EnableProtectionTask", "Enable replication", 120),
        ("StartInitialReplicationTask", "Starting initial replication", 60),
    ],
    "TestFailover": [
        ("PrerequisitesCheckForTestFailoverTask", "Prerequisites check for test failover", 30),
        ("CreateTestVirtualMachineTask", "Create test virtual machine", 240),
        ("StartTestVirtualMachineTask", "Start the virtual machine", 90),
    ],
    "TestFailoverCleanup": [
        ("DeleteTestVirtualMachineTask", "Delete test virtual machine", 120),
        ("CompleteTestFailoverTask", "Complete testing", 30),
    ],
    "UnplannedFailover": [
        ("PrerequisitesCheckForFailoverTask", "Prerequisites check for failover", 30),
        ("ShutdownSourceTask", "Shut down the source virtual machine", 60),
        ("FailoverTask", "Start failover", 240),
        ("StartReplicaVirtualMachineTask", "Start the replica virtual machine", 90),
    ],
    "PlannedFailover": [
        ("PrerequisitesCheckForFailoverTask", "Prerequisites check for planned failover", 30),
        ("ShutdownSourceTask", "Shut down the virtual machine", 60),
        ("SynchronizeDataTask", "Synchronize data", 120),
        ("FailoverTask", "Start failover", 240),
    ],
    "CommitFailover": [("CommitTask", "Commit", 60)],
    "CancelFailover": [("CancelFailoverTask", "Cancel failover", 120)],
    "Reprotect": [
        ("PrerequisitesCheckForReprotectTask", "Prerequisites check", 30),
        ("ReprotectTask", "Reverse replication", 180),
    ],
    "DisableDr": [
        ("DisableProtectionTask", "Disable replication", 90),
        ("CleanupTask", "Clean up replication resources", 30),
    ],
    "PurgeProtection": [("PurgeTask", "Remove replicated item", 30)],
}

FRIENDLY = {
    "EnableDr": "Enable replication",
    "TestFailover": "Test failover",
    "TestFailoverCleanup": "Cleanup test failover",
    "UnplannedFailover": "Failover",
    "PlannedFailover": "Planned failover",
    "CommitFailover": "Commit",
    "CancelFailover": "Cancel failover",
    "Reprotect": "Reprotect",
    "DisableDr": "Disable replication",
    "PurgeProtection": "Remove replicated item",
}

# operation -> the allowedOperations entry that permits it
PERMISSION = {
    "TestFailover": "TestFailover",
    "TestFailoverCleanup": "TestFailoverCleanup",
    "UnplannedFailover": "UnplannedFailover",
    "PlannedFailover": "PlannedFailover",
    "CommitFailover": "Commit",
    "CancelFailover": "CancelFailover",
    "Reprotect": "ReverseReplicate",
    "DisableDr": "DisableProtection",
}


@dataclass(frozen=True)
class ItemStatus:
    protection_state: str
    protection_description: str
    test_failover_state: str
    test_failover_description: str
    active_location: str
    allowed: list[str]
    health: str


def item_state(item: Item, now: float) -> ItemState:
    """The row of the state table an item is in at ``now`` (a running test failover or cleanup has its own)."""
    job = item.job if item.busy() else None
    if job is not None and job.scenario == "TestFailover":
        return ItemState.TEST_FAILOVER_RUNNING
    if job is not None and job.scenario == "TestFailoverCleanup":
        return ItemState.TEST_FAILOVER_CLEANUP_RUNNING
    phase = item.phase
    if phase == Phase.ENABLING:
        return ItemState.ENABLING
    if phase == Phase.ENABLE_FAILED:
        return ItemState.ENABLE_FAILED
    if phase == Phase.REPLICATING and item.ir_progress(now) < 100:
        return ItemState.INITIAL_REPLICATION
    if phase in (Phase.REPLICATING, Phase.PROTECTED):
        if item.test_failover == "WaitingForCompletion":
            return ItemState.TEST_FAILOVER_PENDING_CLEANUP
        return ItemState.REPLICATING_BACK if item.reversed else ItemState.PROTECTED
    if phase == Phase.FAILED_OVER:
        if item.failback:
            return ItemState.FAILED_BACK
        return ItemState.PLANNED_FAILED_OVER if item.failover_kind == "Planned" else ItemState.FAILED_OVER
    if phase == Phase.COMMITTED:
        if item.failback:
            return ItemState.FAILBACK_COMMITTED
        return ItemState.PLANNED_COMMITTED if item.failover_kind == "Planned" else ItemState.COMMITTED
    return ItemState.DISABLED


def status(item: Item, now: float) -> ItemStatus:
    """The state fields of an item at ``now`` (including a running job's effect on them)."""
    shown = row(item.provider, item_state(item, now))
    source, target = ("Recovery", "Primary") if item.reversed else ("Primary", "Recovery")
    health = "Normal"
    if shown.state == ItemState.ENABLE_FAILED:
        health = "Critical"
    elif shown.state == ItemState.INITIAL_REPLICATION and item.ir_break_percent is not None:
        if item.ir_progress(now) >= item.ir_break_percent:
            health = "Critical" if item.ir_factor == 0 else "Warning"
    tfo, tfo_description = shown.test_failover
    return ItemStatus(
        protection_state=shown.protection_state,
        protection_description=shown.description,
        test_failover_state=tfo,
        test_failover_description=tfo_description,
        active_location=source if shown.active == "source" else target,
        allowed=[] if item.busy() else list(shown.allowed),  # ASR allows nothing else while a job runs
        health=health,
    )


def _affected(item: Item) -> dict[str, str]:
    """Job ``affectedObjectDetails``; Hyper-V jobs name the VMM clouds (ReplicationJobs_Get example)."""
    target = item.mapping.target_container
    fabric = item.container.fabric
    if item.provider == "HyperVReplicaAzure":
        return {
            "PrimaryVmmId": fabric.internal_id,
            "PrimaryVmmName": fabric.friendly_name,
            "RecoveryVmmId": item.vault.id.rsplit("/", 1)[-1],
            "PrimaryFabricProviderId": fabric.kind,
            "RecoveryFabricProviderId": "Azure",
        }
    return {
        "ProtectedItemId": item.internal_id,
        "PrimaryFabricId": item.container.fabric.internal_id,
        "PrimaryFabricName": item.container.fabric.friendly_name,
        "PrimaryFabricProviderId": item.container.fabric.kind,
        "RecoveryFabricProviderId": target.fabric.kind if target else "Azure",
    }


def start_job(
    store: Store,
    vault: Vault,
    scenario: str,
    *,
    target_name: str,
    target_object_id: str,
    target_type: str,
    resource_id: str,
    machines: list[tuple[str, str]],
    result: Literal["resource", "none"],
    on_success: Callable[[float], None],
    on_failure: Callable[[float], None],
    affected: dict[str, str],
    tasks: list[tuple[str, str, float]] | None = None,
) -> Job:
    """Create, register and schedule a job; a matching ``jobFailure`` fault makes it fail, ``jobStall`` hang."""
    now = store.now()
    name = store.new_guid()
    plans = [
        TaskPlan(t, f, max(1.0, store.jitter(s * store.timing.job_scale, vault.id, name, t)))
        for t, f, s in (tasks or TASKS[scenario])
    ]
    job = Job(
        name=name,
        vault_id=vault.id,
        scenario=scenario,
        friendly_name=FRIENDLY.get(scenario, scenario),
        target_object_id=target_object_id,
        target_object_name=target_name,
        target_instance_type=target_type,
        resource_id=resource_id,
        tasks=plans,
        start=now,
        result=result,
        affected=affected,
        activity_id=f"{store.new_guid()} ActivityId: {store.new_guid()}",
    )
    failure = store.faults.job_failure(scenario, machines)
    if failure is not None:
        spec, _ = failure
        job.error = JobError(
            spec.error_code,
            spec.message,
            spec.possible_causes,
            spec.recommended_action,
            min(spec.task, len(plans) - 1),
        )
    stall = store.faults.job_stall(scenario, machines)
    if stall is not None:
        job.stall, job.stall_task = stall, min(stall.task, len(plans) - 1)
    job.on_success = on_success
    job.on_failure = on_failure
    vault.jobs[name.lower()] = job
    store.track(job)
    return job


# -- protected items ---------------------------------------------------------------------------


def _finish(item: Item) -> None:
    item.last_job = item.job
    item.job = None


def seed_item(
    vault: Vault,
    container: Container,
    name: str,
    machine: Machine,
    mapping: ContainerMapping,
    state: Literal["Protected", "Replicating"],
) -> Item:
    """An item that already exists when the emulator starts (no enable job)."""
    store = vault.store
    item = Item(
        vault=vault,
        name=name,
        container=container,
        machine=machine,
        provider=container.fabric.provider,
        mapping=mapping,
        enable_input=providers.seed_input(container),
        created=0.0,
        internal_id=store.new_guid(),
    )
    item.ir_seconds = providers.ir_seconds(store, item)
    item.phase = Phase.PROTECTED if state == "Protected" else Phase.REPLICATING
    if item.phase == Phase.PROTECTED:
        item.ir_completed_at = -3600.0  # replicated for an hour before the emulator started
    vault.items[item.id.lower()] = item
    return item


def enable(store: Store, vault: Vault, container: Container, name: str, props: dict[str, Any]) -> tuple[Item, Job]:
    """PUT replicationProtectedItems/{name}: enable replication (job ``EnableDr``)."""
    existing = vault.items.get(f"{container.id}/replicationProtectedItems/{name}".lower())
    if existing is not None:
        if existing.busy():
            raise conflict(
                "OperationInProgress",
                f"Another operation ({existing.job.scenario if existing.job else ''}) is in progress on "
                f"replicated item '{name}'. Retry after it completes.",
            )
        raise conflict("ProtectionAlreadyEnabled", f"Replication is already enabled for the item '{name}'.")
    details: dict[str, Any] = props.get("providerSpecificDetails") or {}
    providers.check_input_provider(container.fabric.provider, details, "properties.providerSpecificDetails")
    mapping = providers.resolve_mapping(vault, container, props.get("policyId"))
    if mapping.policy.provider != container.fabric.provider:
        raise bad_request("InvalidPolicyId", "The policy's provider does not match the container's provider.")
    recovery_container = details.get("recoveryContainerId")
    if isinstance(recovery_container, str) and mapping.target_container is not None:
        if recovery_container.lower() != mapping.target_container.id.lower():
            raise bad_request(
                "InvalidRecoveryContainerId",
                f"The recovery container '{recovery_container}' is not paired with '{container.name}'.",
                target="properties.providerSpecificDetails.recoveryContainerId",
            )
    machine = providers.resolve_machine(store, vault, container, props)
    item = Item(
        vault=vault,
        name=name,
        container=container,
        machine=machine,
        provider=container.fabric.provider,
        mapping=mapping,
        enable_input=dict(details),
        created=store.now(),
        internal_id=store.new_guid(),
    )
    item.ir_seconds = providers.ir_seconds(store, item)
    fault = store.faults.replication(item.name, machine.friendly_name)
    if fault is not None:
        item.bind_replication_fault(fault, store.now())
    vault.items[item.id.lower()] = item

    def ok(end: float) -> None:
        _finish(item)
        item.phase = Phase.REPLICATING
        item.ir_start = end

    def failed(end: float) -> None:
        _finish(item)
        item.phase = Phase.ENABLE_FAILED
        item.enable_error = item.last_job.error.code if item.last_job and item.last_job.error else None

    item.job = _item_job(store, item, "EnableDr", ok, failed)
    return item, item.job


def _item_job(
    store: Store,
    item: Item,
    scenario: str,
    ok: Callable[[float], None],
    failed: Callable[[float], None],
    result: Literal["resource", "none"] = "resource",
) -> Job:
    return start_job(
        store,
        item.vault,
        scenario,
        target_name=item.friendly_name,
        target_object_id=item.internal_id,
        target_type="ProtectionEntity",
        resource_id=item.id,
        machines=[(item.name, item.friendly_name)],
        result=result,
        on_success=ok,
        on_failure=failed,
        affected=_affected(item),
    )


def check_allowed(item: Item, scenario: str, now: float, permission: str | None = None) -> None:
    """Refuse like ASR: 409 while another job runs on the item, 400 if the state forbids it."""
    if item.busy():
        running = item.job.scenario if item.job else ""
        raise conflict(
            "OperationInProgress",
            f"The operation '{scenario}' cannot start: a '{running}' job is in progress on replicated item "
            f"'{item.name}'. Retry after it completes.",
        )
    needed = permission or PERMISSION[scenario]
    allowed = status(item, now).allowed
    if needed not in allowed:
        raise bad_request(
            "OperationNotAllowed",
            f"The operation '{needed}' is not allowed on replicated item '{item.name}' in its current state "
            f"({status(item, now).protection_description}). Allowed operations: {', '.join(allowed) or 'none'}.",
        )


def recovery_point_for(item: Item, point_id: object, now: float, where: str) -> str | None:
    """Validate an optional recoveryPointId against the item's recovery points."""
    from emulators.siterecovery.recovery_points import points

    if point_id is None:
        return None
    if not isinstance(point_id, str):
        raise bad_request("InvalidRecoveryPointId", "recoveryPointId must be a string.", target=where)
    for point in points(item, now):
        if point.id.lower() == point_id.lower():
            return point.id
    raise bad_request(
        "InvalidRecoveryPointId", f"The recovery point '{point_id}' was not found for this item.", target=where
    )


def _latest_point(item: Item, now: float) -> str | None:
    from emulators.siterecovery.recovery_points import points

    latest = points(item, now)
    return latest[0].id if latest else None


def _no_change(item: Item) -> Callable[[float], None]:
    def failed(end: float) -> None:
        _finish(item)

    return failed


def test_failover(store: Store, item: Item, props: dict[str, Any], now: float) -> Job:
    check_allowed(item, "TestFailover", now)
    details = props.get("providerSpecificDetails")
    providers.check_input_provider(item.provider, details, "properties.providerSpecificDetails")
    point = None
    if details:
        point = recovery_point_for(item, details.get("recoveryPointId"), now, "properties.providerSpecificDetails")
    network = props.get("networkId") or (details or {}).get("networkId")

    def ok(end: float) -> None:
        _finish(item)
        item.failover_recovery_point = point or _latest_point(item, end)
        item.test_failover = "WaitingForCompletion"
        item.last_test_failover_time = end
        item.test_network_id = network if isinstance(network, str) else None
        _register_vm(store, item, test_vm_id(item), end, test=True)

    item.job = _item_job(store, item, "TestFailover", ok, _no_change(item))
    return item.job


def test_failover_cleanup(store: Store, item: Item, now: float) -> Job:
    check_allowed(item, "TestFailoverCleanup", now)

    def ok(end: float) -> None:
        _finish(item)
        item.test_failover = "None"
        store.remove_vm(test_vm_id(item))

    item.job = _item_job(store, item, "TestFailoverCleanup", ok, _no_change(item))
    return item.job


def _failover_done(
    store: Store, item: Item, kind: Literal["Unplanned", "Planned"], point: str | None, end: float
) -> None:
    _finish(item)
    if item.phase == Phase.REPLICATING:
        item.ir_completed_at = item.ir_done_at()
    item.phase = Phase.FAILED_OVER
    item.failover_kind = kind
    item.failback = False
    item.last_failover_time = end
    item.failover_recovery_point = point or _latest_point(item, end)
    item.recovery_vm_id = providers.recovery_vm_id(item)


def _failback_done(item: Item, end: float) -> None:
    """A Hyper-V failback ended: the VM runs on its on-premises host again, until commit or cancel."""
    _finish(item)
    item.phase = Phase.FAILED_OVER
    item.failback = True
    item.last_failover_time = end


def failover(store: Store, item: Item, props: dict[str, Any], now: float, planned: bool) -> Job:
    """Unplanned or planned failover; a planned failover of a committed item is its failback (``Failback``).

    The direction must lead away from the active side (``PrimaryToRecovery`` while the item runs where it
    replicates from, ``RecoveryToPrimary`` to come back).
    """
    scenario = "PlannedFailover" if planned else "UnplannedFailover"
    failback = planned and item.phase == Phase.COMMITTED
    check_allowed(item, scenario, now, "Failback" if failback else None)
    details = props.get("providerSpecificDetails")
    if details and not (planned and details.get("instanceType") == f"{item.provider}Failback"):
        providers.check_input_provider(item.provider, details, "properties.providerSpecificDetails")
    direction = props.get("failoverDirection")
    active = status(item, now).active_location
    expected = "PrimaryToRecovery" if active == "Primary" else "RecoveryToPrimary"
    if direction is not None and direction != expected:
        raise bad_request(
            "InvalidFailoverDirection",
            f"failoverDirection must be '{expected}' for this item.",
            target="properties.failoverDirection",
        )
    if item.provider == "InMageRcm" and not planned and details is not None:
        shutdown = details.get("performShutdown")
        if str(shutdown).lower() not in ("true", "false"):
            raise bad_request(
                "InvalidParameter",
                "performShutdown must be 'true' or 'false'.",
                target="properties.providerSpecificDetails.performShutdown",
            )
    point = None
    if details:
        point = recovery_point_for(item, details.get("recoveryPointId"), now, "properties.providerSpecificDetails")
    kind: Literal["Unplanned", "Planned"] = "Planned" if planned else "Unplanned"

    def ok(end: float) -> None:
        if failback:
            _failback_done(item, end)
            return
        _failover_done(store, item, kind, point, end)
        _register_recovery_vm(store, item, end)

    item.job = _item_job(store, item, scenario, ok, _no_change(item))
    return item.job


def test_vm_id(item: Item) -> str:
    """The VM a test failover creates: the recovery VM's id with ``-test`` (inferred; README.md, Compute)."""
    return f"{providers.recovery_vm_id(item)}-test"


def _register_recovery_vm(store: Store, item: Item, end: float) -> None:
    """The VM a failover creates becomes an A2A source in its region (re-protection after migration)."""
    if item.recovery_vm_id is None:
        return
    _register_vm(store, item, item.recovery_vm_id, end, test=False)


def _register_vm(store: Store, item: Item, vm_id: str, end: float, *, test: bool) -> None:
    """The Azure VM ``vm_id`` a failover (or test failover) created, served by ``Microsoft.Compute`` from ``end`` on."""
    location = providers.target_location(item)
    name = vm_id.rsplit("/", 1)[-1]
    machine = Machine(
        name=name,
        friendly_name=name,
        kind="AzureVM",
        os_type=item.machine.os_type,
        disks_gb=list(item.machine.disks_gb),
        bandwidth_mbps=item.machine.bandwidth_mbps,
        vm_id=vm_id,
        location=location,
    )
    size = item.enable_input.get("targetVmSize") or item.enable_input.get("recoveryAzureVMSize")
    size = size if isinstance(size, str) else None
    network, subnet = providers.vm_network(item, test=test)
    vm = AzureVm(vm_id, name, location, machine, size=size, created=end, test=test, network_id=network, subnet=subnet)
    store.add_vm(vm)


def commit(store: Store, item: Item, now: float) -> Job:
    check_allowed(item, "CommitFailover", now)

    def ok(end: float) -> None:
        _finish(item)
        item.phase = Phase.COMMITTED

    item.job = _item_job(store, item, "CommitFailover", ok, _no_change(item))
    return item.job


def cancel_failover(store: Store, item: Item, now: float) -> Job:
    """Undo a pending planned failover: a cancelled failback leaves the item committed on the recovery side."""
    check_allowed(item, "CancelFailover", now)

    def ok(end: float) -> None:
        _finish(item)
        if item.failback:
            item.phase = Phase.COMMITTED
            item.failback = False
            return
        item.phase = Phase.PROTECTED
        item.failover_kind = None

    item.job = _item_job(store, item, "CancelFailover", ok, _no_change(item))
    return item.job


def reprotect(store: Store, item: Item, props: dict[str, Any], now: float) -> Job:
    """Replicate from where the item runs now: back toward the source after a failover, or (after a Hyper-V
    failback) from the on-premises host to Azure again, the item's original direction."""
    check_allowed(item, "Reprotect", now)
    details = props.get("providerSpecificDetails")
    providers.check_input_provider(item.provider, details, "properties.providerSpecificDetails")

    def ok(end: float) -> None:
        _finish(item)
        if not item.failback:
            item.reversed = not item.reversed
        item.failback = False
        item.phase = Phase.REPLICATING
        item.failover_kind = None
        item.ir_start = end
        item.ir_seconds = providers.ir_seconds(store, item, reverse=True)
        item.ir_break_percent = None
        item.ir_fault = None

    item.job = _item_job(store, item, "Reprotect", ok, _no_change(item))
    return item.job


def disable(store: Store, item: Item, props: dict[str, Any], now: float) -> Job:
    reason = props.get("disableProtectionReason") or "NotSpecified"
    if reason not in ("NotSpecified", "MigrationComplete"):
        raise bad_request(
            "InvalidParameter",
            f"disableProtectionReason '{reason}' is not one of NotSpecified, MigrationComplete.",
            target="properties.disableProtectionReason",
        )
    permission = "CompleteMigration" if reason == "MigrationComplete" else "DisableProtection"
    check_allowed(item, "DisableDr", now, permission)
    return _remove(store, item, "DisableDr")


def purge(store: Store, item: Item, now: float) -> Job:
    if item.busy() and item.job is not None and item.job.scenario == "PurgeProtection":
        raise conflict("OperationInProgress", f"The replicated item '{item.name}' is already being removed.")
    if item.busy() and item.job is not None:
        item.job.cancelled_at = now  # purge wins over whatever was running
        item.job.settle(now)
    return _remove(store, item, "PurgeProtection")


def _remove(store: Store, item: Item, scenario: str) -> Job:
    def ok(end: float) -> None:
        _finish(item)
        item.phase = Phase.REMOVED
        item.vault.items.pop(item.id.lower(), None)

    item.job = _item_job(store, item, scenario, ok, _no_change(item), result="none")
    return item.job


# -- recovery plans ------------------------------------------------------------------------------


def plan_status(plan: RecoveryPlan, now: float) -> tuple[list[str], str | None]:
    """allowedOperations of a plan (intersection over its items) and the running scenario."""
    if plan.job is not None and plan.job.settled == "InProgress":
        return [], plan.job.scenario
    if not plan.items:
        return ["PlannedFailover", "UnplannedFailover", "TestFailover"], None
    sets = [set(status(i, now).allowed) for i in plan.items]
    common = set.intersection(*sets)
    order = [
        "PlannedFailover",
        "UnplannedFailover",
        "TestFailover",
        "TestFailoverCleanup",
        "Commit",
        "CancelFailover",
        "Failback",
        "ReverseReplicate",
    ]
    return [op for op in order if op in common], None


def plan_operation(store: Store, plan: RecoveryPlan, scenario: str, now: float, per_item: Callable[[Item], Any]) -> Job:
    """Run one scenario over all items of a plan as a single plan job (tasks per item)."""
    if plan.job is not None and plan.job.settled == "InProgress":
        raise conflict("OperationInProgress", f"A '{plan.job.scenario}' job is in progress on plan '{plan.name}'.")
    for item in plan.items:
        check_allowed(item, scenario, now)
    effects: list[Callable[[float], None]] = []
    for item in plan.items:
        effects.append(per_item(item))

    tasks: list[tuple[str, str, float]] = [("PlanPrerequisitesCheckTask", "Prerequisites check", 30)]
    for item in plan.items:
        for t, f, s in TASKS[scenario][1:]:
            tasks.append((t, f"{f} ({item.friendly_name})", s / 2))

    def ok(end: float) -> None:
        plan.last_job, plan.job = plan.job, None
        for effect in effects:
            effect(end)
        if scenario == "TestFailover":
            plan.last_test_failover = end
        if scenario == "UnplannedFailover":
            plan.last_unplanned_failover = end

    def failed(end: float) -> None:
        plan.last_job, plan.job = plan.job, None
        for item in plan.items:
            _finish(item)

    job = start_job(
        store,
        plan.vault,
        scenario,
        target_name=plan.name,
        target_object_id=plan.name,
        target_type="RecoveryPlan",
        resource_id=plan.id,
        machines=[(i.name, i.friendly_name) for i in plan.items],
        result="resource",
        on_success=ok,
        on_failure=failed,
        affected={"RecoveryPlanName": plan.name},
        tasks=tasks,
    )
    plan.job = job
    for item in plan.items:
        item.job = job
    return job


def plan_item_effect(store: Store, scenario: str, props: dict[str, Any]) -> Callable[[Item], Callable[[float], None]]:
    """The per-item effect of a plan scenario (the same transitions as the item operations)."""

    def build(item: Item) -> Callable[[float], None]:
        def effect(end: float) -> None:
            _finish(item)
            if scenario == "TestFailover":
                item.failover_recovery_point = _latest_point(item, end)
                item.test_failover = "WaitingForCompletion"
                item.last_test_failover_time = end
                network = props.get("networkId")
                item.test_network_id = network if isinstance(network, str) else None
                _register_vm(store, item, test_vm_id(item), end, test=True)
            elif scenario == "TestFailoverCleanup":
                item.test_failover = "None"
                store.remove_vm(test_vm_id(item))
            elif scenario == "UnplannedFailover":
                _failover_done(store, item, "Unplanned", None, end)
                _register_recovery_vm(store, item, end)
            elif scenario == "CommitFailover":
                item.phase = Phase.COMMITTED

        return effect

    return build
