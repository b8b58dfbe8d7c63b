"""What every ASR provider scenario offers, and the parts they share.

A scenario knows one replication provider (``instanceType``): how to spell the request
bodies of each runbook step for it, and how to read its replicated item back into a
:class:`ProtectedItemView`, the one normalized shape the orchestrator decides on. Bodies
are plain JSON dicts in the REST spelling, so an activity can log them, hash them for
idempotency, and hand them to the SDK unchanged (the SDK accepts dicts for every body).

Only the provider-specific parts differ; the envelope (``properties``,
``failoverDirection``, cleanup comments, the disable reason, the common item fields) is
built and read here once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from migration.arm_ids import VaultRef
from migration.machine import Machine
from migration.plan_options import DrAfterMigration
from migration.source_kinds import Provider

__all__ = [
    "JsonDict",
    "DisableReason",
    "HealthIssue",
    "ItemAddress",
    "ItemKind",
    "Operation",
    "ProtectedItemView",
    "ProviderSteps",
    "ReplicationProgress",
    "Scenario",
    "common_view_fields",
    "DrScenario",
    "cleanup_body",
    "compact",
    "disable_protection_body",
    "failed_over",
    "health_issues",
    "point_details",
    "provider_details",
    "source_item",
    "source_site_operations",
    "target_settings",
    "to_int",
    "test_failover_body",
    "unplanned_failover_body",
    "vm_protected",
]

JsonDict = dict[str, Any]

# ASR shows an idle item as scenarioName "None" with the job id ".../replicationJobs/None"
# (ReplicationProtectedItems_Get.json).
_NONE = "none"


class DisableReason(StrEnum):
    """``DisableProtectionReason``: ``MigrationComplete`` after a cutover, ``NotSpecified`` for cancel/rollback."""

    MIGRATION_COMPLETE = "MigrationComplete"
    NOT_SPECIFIED = "NotSpecified"


class Operation(StrEnum):
    """Values of ``allowedOperations`` the runbook relies on: a protected item's (enum
    ReplicationProtectedItemOperation) and a migration item's (enum MigrationItemOperation)."""

    TEST_FAILOVER = "TestFailover"
    TEST_FAILOVER_CLEANUP = "TestFailoverCleanup"
    UNPLANNED_FAILOVER = "UnplannedFailover"
    COMMIT = "Commit"
    COMPLETE_MIGRATION = "CompleteMigration"
    DISABLE_PROTECTION = "DisableProtection"
    CANCEL_FAILOVER = "CancelFailover"
    CHANGE_PIT = "ChangePit"
    TEST_MIGRATE = "TestMigrate"
    TEST_MIGRATE_CLEANUP = "TestMigrateCleanup"
    MIGRATE = "Migrate"
    DISABLE_MIGRATION = "DisableMigration"
    START_RESYNC = "StartResync"
    PAUSE_REPLICATION = "PauseReplication"
    RESUME_REPLICATION = "ResumeReplication"


class ItemKind(StrEnum):
    """The two kinds of replicated item under a protection container, spelled as their collection in the URL.

    Site Recovery's providers replicate *protected items*; Azure Migrate's agentless VMware provider (VMwareCbt)
    replicates *migration items*, with operations of their own (testMigrate, migrate, delete).
    """

    PROTECTED = "replicationProtectedItems"
    MIGRATION = "replicationMigrationItems"


@dataclass(frozen=True)
class ItemAddress:
    """Where a replicated item lives (vault, fabric, container, name, kind): the arguments of every item call."""

    vault: VaultRef
    fabric: str
    container: str
    name: str
    kind: ItemKind = ItemKind.PROTECTED

    @property
    def id(self) -> str:
        if self.kind is ItemKind.MIGRATION:
            return self.vault.migration_item_id(self.fabric, self.container, self.name)
        return self.vault.protected_item_id(self.fabric, self.container, self.name)


@dataclass(frozen=True)
class HealthIssue:
    """One entry of ``healthErrors``: what ASR says is wrong, and what it recommends."""

    code: str
    message: str
    level: str | None = None
    recommended_action: str | None = None

    def to_dict(self) -> JsonDict:
        return {
            "code": self.code,
            "message": self.message,
            "level": self.level,
            "recommendedAction": self.recommended_action,
        }


@dataclass(frozen=True)
class ProtectedItemView:
    """A replicated item as the runbook needs it, whatever the provider.

    ``progress_percent`` is the provider's own initial-replication figure;
    ``bytes_processed``/``bytes_transferred`` exist for InMageRcm only (ETA from bytes);
    ``progress_health`` is the provider's progress verdict (InMageRcm: None, InProgress,
    SlowProgress, NoProgress) where it has one. ``resync_required`` and ``paused`` exist for migration items
    (VMwareCbt): the service asks for a resynchronization, or replication is paused.
    """

    provider: str
    id: str | None
    name: str | None
    protection_state: str | None
    protection_state_description: str | None
    protected: bool
    initial_replication_done: bool
    progress_percent: int | None
    bytes_processed: int | None
    bytes_transferred: int | None
    rpo_seconds: int | None
    progress_health: str | None
    replication_health: str | None
    health_errors: tuple[HealthIssue, ...]
    test_failover_state: str | None
    active_location: str | None
    current_scenario: str | None
    current_job_id: str | None
    allowed_operations: frozenset[str] = field(default_factory=frozenset)
    resync_required: bool = False
    paused: bool = False

    def allows(self, operation: Operation | str) -> bool:
        """Whether ASR currently allows ``operation`` on the item (``allowedOperations``, case-insensitive)."""
        wanted = str(operation).lower()
        return any(op.lower() == wanted for op in self.allowed_operations)

    @property
    def busy(self) -> bool:
        """ASR names a current scenario: a running job, or a test failover that waits for cleanup (ASR keeps
        ``TestFailover`` as the current scenario until then, per the official examples)."""
        return self.current_scenario is not None

    @property
    def can_test_failover(self) -> bool:
        return self.allows(Operation.TEST_FAILOVER) or self.allows(Operation.TEST_MIGRATE)

    @property
    def can_clean_up_test_failover(self) -> bool:
        return self.allows(Operation.TEST_FAILOVER_CLEANUP) or self.allows(Operation.TEST_MIGRATE_CLEANUP)

    @property
    def can_fail_over(self) -> bool:
        return self.allows(Operation.UNPLANNED_FAILOVER) or self.allows(Operation.MIGRATE)

    @property
    def can_commit(self) -> bool:
        return self.allows(Operation.COMMIT)

    @property
    def can_complete_migration(self) -> bool:
        return self.allows(Operation.COMPLETE_MIGRATION) or self.can_disable_protection

    @property
    def can_disable_protection(self) -> bool:
        return self.allows(Operation.DISABLE_PROTECTION) or self.allows(Operation.DISABLE_MIGRATION)

    @property
    def can_resync(self) -> bool:
        return self.allows(Operation.START_RESYNC)

    @property
    def needs_resync(self) -> bool:
        """The service asks for a resynchronization, or initial seeding failed and a resync restarts it (VMwareCbt
        migration items; a protected item never does)."""
        failed = "failed" in (self.protection_state or "").lower()
        return self.resync_required or (failed and self.can_resync)

    @property
    def can_pause(self) -> bool:
        return self.allows(Operation.PAUSE_REPLICATION)

    @property
    def can_resume(self) -> bool:
        return self.allows(Operation.RESUME_REPLICATION)

    def to_dict(self) -> JsonDict:
        """JSON for status pages and events (camelCase, like the rest of the wire format)."""
        return {
            "provider": self.provider,
            "id": self.id,
            "name": self.name,
            "protectionState": self.protection_state,
            "protectionStateDescription": self.protection_state_description,
            "protected": self.protected,
            "initialReplicationDone": self.initial_replication_done,
            "progressPercent": self.progress_percent,
            "bytesProcessed": self.bytes_processed,
            "bytesTransferred": self.bytes_transferred,
            "rpoSeconds": self.rpo_seconds,
            "progressHealth": self.progress_health,
            "replicationHealth": self.replication_health,
            "healthErrors": [issue.to_dict() for issue in self.health_errors],
            "testFailoverState": self.test_failover_state,
            "activeLocation": self.active_location,
            "currentScenario": self.current_scenario,
            "currentJobId": self.current_job_id,
            "allowedOperations": sorted(self.allowed_operations),
            "resyncRequired": self.resync_required,
            "paused": self.paused,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProtectedItemView:
        """The inverse of :meth:`to_dict`: orchestrators decide on the view an activity returned as JSON."""
        return cls(
            provider=data["provider"],
            id=data.get("id"),
            name=data.get("name"),
            protection_state=data.get("protectionState"),
            protection_state_description=data.get("protectionStateDescription"),
            protected=bool(data.get("protected")),
            initial_replication_done=bool(data.get("initialReplicationDone")),
            progress_percent=data.get("progressPercent"),
            bytes_processed=data.get("bytesProcessed"),
            bytes_transferred=data.get("bytesTransferred"),
            rpo_seconds=data.get("rpoSeconds"),
            progress_health=data.get("progressHealth"),
            replication_health=data.get("replicationHealth"),
            health_errors=tuple(
                HealthIssue(
                    code=issue["code"],
                    message=issue["message"],
                    level=issue.get("level"),
                    recommended_action=issue.get("recommendedAction"),
                )
                for issue in data.get("healthErrors") or []
            ),
            test_failover_state=data.get("testFailoverState"),
            active_location=data.get("activeLocation"),
            current_scenario=data.get("currentScenario"),
            current_job_id=data.get("currentJobId"),
            allowed_operations=frozenset(data.get("allowedOperations") or []),
            resync_required=bool(data.get("resyncRequired")),
            paused=bool(data.get("paused")),
        )


class Scenario(Protocol):
    """One ASR provider's runbook: request bodies to send, and the replicated item read back."""

    provider: Provider
    # The test failover must name a recovery point (VMwareCbt's testMigrate); the step activity finds the latest.
    needs_recovery_point_for_test: bool

    def protected_item(self, machine: Machine) -> ItemAddress:
        """Where the machine's replicated item lives."""
        ...

    def enable_protection(
        self, machine: Machine, *, discovered_machine_id: str | None = None, disk_ids: Sequence[str] | None = None
    ) -> JsonDict:
        """``EnableProtectionInput`` for the machine."""
        ...

    def test_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        """``TestFailoverInput`` into the machine's test network (latest recovery point unless given)."""
        ...

    def test_failover_cleanup(self, machine: Machine, *, comments: str | None = None) -> JsonDict:
        """``TestFailoverCleanupInput``."""
        ...

    def unplanned_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        """``UnplannedFailoverInput`` (the cutover)."""
        ...

    def failover_commit(self, machine: Machine) -> None:
        """Commit takes no body; kept so every step has a builder."""
        ...

    def disable_protection(self, machine: Machine, *, reason: DisableReason) -> JsonDict:
        """``DisableProtectionInput``: ``MigrationComplete`` to finish, ``NotSpecified`` to roll back."""
        ...

    def read_protected_item(self, item: Mapping[str, Any]) -> ProtectedItemView:
        """The normalized view of a replicated item (REST JSON, as GET returns it)."""
        ...

    def recovery_point_used(self, item: Mapping[str, Any]) -> str | None:
        """The recovery point the item failed over (migrated) to, as its JSON names it."""
        ...


class DrScenario(Scenario, Protocol):
    """A provider that can protect the migrated VM again toward a secondary region (A2A)."""

    def dr_protected_item(self, machine: Machine) -> ItemAddress: ...

    def dr_enable_protection(
        self,
        machine: Machine,
        dr: DrAfterMigration,
        *,
        migrated_vm_id: str | None = None,
        disk_ids: Sequence[str] | None = None,
    ) -> JsonDict: ...


@dataclass(frozen=True)
class ReplicationProgress:
    """What a provider's own details say of initial replication; the rest of an item's view is the same for all."""

    complete: bool
    percent: int | None
    rpo_seconds: int | None
    bytes_processed: int | None = None
    bytes_transferred: int | None = None
    health: str | None = None


class ProviderSteps:
    """The steps whose request bodies differ between providers only in their ``providerSpecificDetails``.

    Every provider addresses its item under the machine's own fabric and container, sends the same envelopes for a
    test failover, its cleanup, a failover and a disable, and has nothing to commit for a migration; a scenario
    derives from this, names its ``provider`` and overrides the provider details (or a whole step) it changes.
    """

    provider: Provider
    needs_recovery_point_for_test = False

    def required(self, value: str | None, what: str, machine: Machine) -> str:
        """``value``, or the ValueError that names the machine, the plan field and the provider that needs it."""
        if value is None:
            raise ValueError(f"{machine.name}: {what} is required for {self.provider.value}")
        return value

    def protected_item(self, machine: Machine) -> ItemAddress:
        return source_item(machine)

    def test_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        network = self.required(machine.target.test_network_id, "target.testNetworkId", machine)
        return test_failover_body(network, self.test_failover_details(machine, network, recovery_point_id))

    def test_failover_details(self, machine: Machine, network_id: str, recovery_point_id: str | None) -> JsonDict:
        return point_details(self.provider.value, recovery_point_id)

    def test_failover_cleanup(self, machine: Machine, *, comments: str | None = None) -> JsonDict:
        return cleanup_body(comments)

    def unplanned_failover(self, machine: Machine, *, recovery_point_id: str | None = None) -> JsonDict:
        return unplanned_failover_body(machine, self.failover_details(machine, recovery_point_id))

    def failover_details(self, machine: Machine, recovery_point_id: str | None) -> JsonDict:
        return point_details(self.provider.value, recovery_point_id)

    def failover_commit(self, machine: Machine) -> None:
        return None

    def disable_protection(self, machine: Machine, *, reason: DisableReason) -> JsonDict:
        return disable_protection_body(reason)

    def read_protected_item(self, item: Mapping[str, Any]) -> ProtectedItemView:
        common = common_view_fields(item)
        progress = self.replication_progress(provider_details(item, self.provider.value))
        done = bool(common["protected"] or failed_over(common) or progress.complete)
        return ProtectedItemView(
            provider=self.provider.value,
            initial_replication_done=done,
            progress_percent=100 if done and progress.percent is None else progress.percent,
            bytes_processed=progress.bytes_processed,
            bytes_transferred=progress.bytes_transferred,
            rpo_seconds=progress.rpo_seconds,
            progress_health=progress.health,
            **common,
        )

    def recovery_point_used(self, item: Mapping[str, Any]) -> str | None:
        point = (item.get("properties") or {}).get("failoverRecoveryPointId")
        return point if isinstance(point, str) and point else None

    def replication_progress(self, details: Mapping[str, Any]) -> ReplicationProgress:
        """Initial replication as the provider's ``providerSpecificDetails`` report it."""
        raise NotImplementedError(f"{type(self).__name__} does not read {self.provider.value} replication details")


def compact(values: Mapping[str, Any]) -> JsonDict:
    """``values`` without the keys whose value is None: optional REST fields are omitted, not sent as null."""
    return {key: value for key, value in values.items() if value is not None}


def to_int(value: object) -> int | None:
    """An integer from ASR's number-or-string fields (HyperVReplicaAzure sends its percentage as a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return None
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def health_issues(properties: Mapping[str, Any]) -> tuple[HealthIssue, ...]:
    """``healthErrors`` (the same ``HealthError`` shape on protected and migration items)."""
    issues = []
    for error in properties.get("healthErrors") or []:
        if not isinstance(error, Mapping):
            continue
        code = _text(error.get("errorCode")) or _text(error.get("errorId")) or "Unknown"
        message = _text(error.get("errorMessage")) or _text(error.get("summaryMessage")) or ""
        issues.append(HealthIssue(code, message, _text(error.get("errorLevel")), _text(error.get("recommendedAction"))))
    return tuple(issues)


def common_view_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The provider-independent fields of a :class:`ProtectedItemView`, read from an item's REST JSON."""
    properties = item.get("properties") or {}
    scenario = properties.get("currentScenario") or {}
    scenario_name = _text(scenario.get("scenarioName"))
    job_id = _text(scenario.get("jobId"))
    if job_id is not None and job_id.rsplit("/", 1)[-1].lower() == _NONE:
        job_id = None
    state = _text(properties.get("protectionState"))
    return {
        "id": _text(item.get("id")),
        "name": _text(item.get("name")),
        "protection_state": state,
        "protection_state_description": _text(properties.get("protectionStateDescription")),
        "protected": state is not None and state.lower() == "protected",
        "replication_health": _text(properties.get("replicationHealth")),
        "health_errors": health_issues(properties),
        "test_failover_state": _text(properties.get("testFailoverState")),
        "active_location": _text(properties.get("activeLocation")),
        "current_scenario": None if scenario_name is None or scenario_name.lower() == _NONE else scenario_name,
        "current_job_id": job_id,
        "allowed_operations": frozenset(op for op in properties.get("allowedOperations") or [] if isinstance(op, str)),
    }


def provider_details(item: Mapping[str, Any], instance_type: str) -> Mapping[str, Any]:
    """``properties.providerSpecificDetails`` of an item ({} when absent).

    Raises ValueError when the item belongs to another provider: reading an A2A item with
    the InMageRcm reader would silently report no progress at all.
    """
    details = (item.get("properties") or {}).get("providerSpecificDetails")
    if not isinstance(details, Mapping):
        return {}
    found = details.get("instanceType")
    if isinstance(found, str) and found.lower() != instance_type.lower():
        raise ValueError(f"the item is replicated by {found}, not {instance_type}")
    return details


def vm_protected(details: Mapping[str, Any]) -> bool:
    """``vmProtectionState`` says Protected: A2A and Hyper-V report the end of initial replication so."""
    state = details.get("vmProtectionState")
    return isinstance(state, str) and state.lower() == "protected"


def failed_over(common: Mapping[str, Any]) -> bool:
    """The item already runs in Azure (failover done): initial replication is necessarily behind it."""
    location = common.get("active_location")
    return isinstance(location, str) and location.lower() == "recovery"


def source_item(machine: Machine) -> ItemAddress:
    """The machine's replicated item under its source fabric and container."""
    return ItemAddress(machine.vault, machine.asr.fabric, machine.asr.protection_container, machine.protected_item_name)


def point_details(instance_type: str, recovery_point_id: str | None, **extra: str | None) -> JsonDict:
    """Provider input of a (test) failover: the discriminator, the recovery point (latest when None), extras."""
    return compact({"instanceType": instance_type, **extra, "recoveryPointId": recovery_point_id})


def test_failover_body(network_id: str, details: JsonDict) -> JsonDict:
    """``TestFailoverInput`` into an isolated test network: the envelope is the same for every provider."""
    return {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "networkType": "VmNetworkAsInput",
            "networkId": network_id,
            "providerSpecificDetails": details,
        }
    }


def unplanned_failover_body(machine: Machine, details: JsonDict) -> JsonDict:
    """``UnplannedFailoverInput``: the envelope is the same for every provider."""
    return {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "sourceSiteOperations": source_site_operations(machine),
            "providerSpecificDetails": details,
        }
    }


def cleanup_body(comments: str | None) -> JsonDict:
    """``TestFailoverCleanupInput`` (the same for every provider)."""
    return {"properties": compact({"comments": comments or "Test failover validated; cleaning up"})}


def disable_protection_body(reason: DisableReason) -> JsonDict:
    """``DisableProtectionInput``; the provider input is InMage-only, so it is left out."""
    return {"properties": {"disableProtectionReason": reason.value}}


def target_settings(machine: Machine) -> JsonDict:
    """The target fields the appliance-based providers (InMageRcm, VMwareCbt) spell alike in their enable input:
    group, network and subnet, the test network (its subnet defaults to the target's), VM name and size, zone,
    licence. None values are left for :func:`compact` to drop."""
    target = machine.target
    return {
        "targetResourceGroupId": target.resource_group_id,
        "targetNetworkId": target.network_id,
        "targetSubnetName": target.subnet,
        "testNetworkId": target.test_network_id,
        "testSubnetName": target.test_subnet or (target.subnet if target.test_network_id else None),
        "targetVmName": target.vm_name or machine.name,
        "targetVmSize": target.vm_size,
        "targetAvailabilityZone": target.availability_zone,
        "licenseType": target.license_type.value if target.license_type else None,
    }


def source_site_operations(machine: Machine) -> str:
    """``sourceSiteOperations``: ``Required`` asks ASR to shut the source down before failing over."""
    return "Required" if machine.options.perform_shutdown else "NotRequired"
