"""JSON views of the emulated resources, shaped like the official examples (api-version 2025-08-01)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec

from emulators.siterecovery import lifecycle, providers
from emulators.siterecovery.clock import SimClock, iso
from emulators.siterecovery.jobs import NO_JOB_START
from emulators.siterecovery.state import (
    Container,
    ContainerMapping,
    Fabric,
    Item,
    Machine,
    NetworkMapping,
    Phase,
    Policy,
    RecoveryPlan,
    Vault,
)

AZURE = "Microsoft Azure"
T_FABRIC = "Microsoft.RecoveryServices/vaults/replicationFabrics"
T_CONTAINER = f"{T_FABRIC}/replicationProtectionContainers"
T_ITEM = f"{T_CONTAINER}/replicationProtectedItems"
P = ParamSpec("P")


def compact(value: Any) -> Any:
    """Drop ``None`` members: ASR leaves unset properties out rather than sending null."""
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def _compacted(render: Callable[P, dict[str, Any]]) -> Callable[P, dict[str, Any]]:
    @functools.wraps(render)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        out: dict[str, Any] = compact(render(*args, **kwargs))
        return out

    return wrapper


@_compacted
def fabric_view(fabric: Fabric, now: float) -> dict[str, Any]:
    custom: dict[str, Any] = {"instanceType": fabric.kind}
    if fabric.kind == "Azure":
        custom["location"] = fabric.location
    if fabric.kind == "InMageRcm":
        custom = providers.rcm_fabric_details(fabric, now)
    if fabric.kind == "VMwareV2" and fabric.vmware_site is not None:
        # VMwareV2FabricSpecificDetails (SDK 2.0): the Azure Migrate site the fabric replicates from
        custom["vmwareSiteId"] = fabric.vmware_site.id
    return {
        "name": fabric.name,
        "type": T_FABRIC,
        "id": fabric.id,
        "location": fabric.location,
        "properties": {
            "friendlyName": fabric.friendly_name,
            "encryptionDetails": {"kekState": "None"},
            "rolloverEncryptionDetails": {"kekState": "None"},
            "internalIdentifier": fabric.internal_id,
            "bcdrState": "Valid",
            "customDetails": custom,
            "healthErrorDetails": [],
            "health": "Normal",
        },
    }


@_compacted
def container_view(container: Container) -> dict[str, Any]:
    vault = container.fabric.vault
    paired = bool(vault.mappings_of(container))
    return {
        "name": container.name,
        "type": T_CONTAINER,
        "id": container.id,
        "properties": {
            "fabricFriendlyName": container.fabric.friendly_name,
            "fabricType": container.fabric.kind,
            "friendlyName": container.friendly_name,
            "pairingStatus": "Paired" if paired else "NotPaired",
            "protectedItemCount": len(vault.items_in(container)),
            "role": "Primary",
        },
    }


@_compacted
def protectable_view(container: Container, machine: Machine) -> dict[str, Any]:
    vault = container.fabric.vault
    protected = any(i.machine is machine for i in vault.items_in(container))
    return {
        "id": f"{container.id}/replicationProtectableItems/{machine.name}",
        "name": machine.name,
        "type": f"{T_CONTAINER}/replicationProtectableItems",
        "properties": {
            "friendlyName": machine.friendly_name,
            "protectionStatus": "Protected" if protected else "Unprotected",
            "recoveryServicesProviderId": f"{container.fabric.id}/replicationRecoveryServicesProviders/"
            f"{container.fabric.internal_id}",
            "protectionReadinessErrors": [],
            "supportedReplicationProviders": [container.fabric.provider],
            "customDetails": {"instanceType": "ReplicationGroupDetails"},
        },
    }


@_compacted
def policy_view(policy: Policy) -> dict[str, Any]:
    details: dict[str, Any] = {"instanceType": policy.provider}
    if policy.provider in ("A2A", "InMageRcm", "VMwareCbt"):  # VMwareCbt: VmwareCbtPolicyDetails
        details["recoveryPointHistory" if policy.provider == "A2A" else "recoveryPointHistoryInMinutes"] = (
            policy.history_minutes
        )
        details["appConsistentFrequencyInMinutes"] = policy.app_minutes
        details["crashConsistentFrequencyInMinutes"] = policy.crash_minutes
    else:
        details["recoveryPointHistoryDuration"] = policy.history_minutes // 60
        details["applicationConsistentSnapshotFrequencyInHours"] = policy.app_minutes // 60
        details["replicationInterval"] = 300
    return {
        "id": policy.id,
        "name": policy.name,
        "type": "Microsoft.RecoveryServices/vaults/replicationPolicies",
        "properties": {"friendlyName": policy.name, "providerSpecificDetails": details},
    }


@_compacted
def mapping_view(mapping: ContainerMapping) -> dict[str, Any]:
    target = mapping.target_container
    props: dict[str, Any] = {
        "targetProtectionContainerId": target.id if target else AZURE,
        "targetProtectionContainerFriendlyName": target.friendly_name if target else AZURE,
        "health": "Normal",
        "healthErrorDetails": [],
        "policyId": mapping.policy.id,
        "state": "Paired",
        "sourceProtectionContainerFriendlyName": mapping.container.friendly_name,
        "sourceFabricFriendlyName": mapping.container.fabric.friendly_name,
        "targetFabricFriendlyName": target.fabric.friendly_name if target else AZURE,
        "policyFriendlyName": mapping.policy.name,
    }
    if mapping.policy.provider == "A2A":
        props["providerSpecificDetails"] = {"instanceType": "A2A", "agentAutoUpdateStatus": "Disabled"}
    if mapping.policy.provider == "VMwareCbt":  # VMwareCbtProtectionContainerMappingDetails
        props["providerSpecificDetails"] = {
            "instanceType": "VMwareCbt",
            "targetLocation": mapping.container.fabric.vault.location,
            # Without keyVaultUri Az.Migrate takes this account for the disks' logs, its SAS secret being
            # "{account}-cacheSas" (New-AzMigrateServerReplication)
            **({"storageAccountId": mapping.storage_account_id} if mapping.storage_account_id else {}),
        }
    return {
        "id": mapping.id,
        "name": mapping.name,
        "type": f"{T_CONTAINER}/replicationProtectionContainerMappings",
        "properties": props,
    }


@_compacted
def network_mapping_view(mapping: NetworkMapping) -> dict[str, Any]:
    recovery = mapping.recovery_fabric
    return {
        "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationNetworks/replicationNetworkMappings",
        "id": mapping.id,
        "name": mapping.name,
        "properties": {
            "state": "Paired",
            "primaryNetworkFriendlyName": mapping.network.friendly_name,
            "primaryNetworkId": mapping.network.azure_network_id
            or f"{mapping.fabric.id}/replicationNetworks/{mapping.network.name}",
            "primaryFabricFriendlyName": mapping.fabric.friendly_name,
            "recoveryNetworkFriendlyName": mapping.recovery_network_id.rsplit("/", 1)[-1],
            "recoveryNetworkId": mapping.recovery_network_id,
            "recoveryFabricArmId": recovery.id if recovery else AZURE,
            "recoveryFabricFriendlyName": recovery.friendly_name if recovery else AZURE,
            "fabricSpecificSettings": {"instanceType": "AzureToAzure" if recovery else "VmmToAzure"},
        },
    }


def _scenario(vault: Vault, item_job: Any, clock_iso: str | None) -> dict[str, Any]:
    if item_job is None:
        return {"scenarioName": "None", "jobId": f"{vault.id}/replicationJobs/None", "startTime": NO_JOB_START}
    return {"scenarioName": item_job.scenario, "jobId": item_job.id, "startTime": clock_iso}


def item_view(item: Item, now: float) -> dict[str, Any]:
    vault = item.vault
    clock = vault.store.clock
    st = lifecycle.status(item, now)
    target = item.mapping.target_container
    job = item.job if item.busy() else None
    if job is None and item.test_failover == "WaitingForCompletion" and item.last_job is not None:
        job = item.last_job  # ASR keeps the test failover as current scenario until cleanup (examples)
    props: dict[str, Any] = {
        "friendlyName": item.friendly_name,
        "protectedItemType": providers.PROTECTED_ITEM_TYPE[item.provider],
        "protectableItemId": f"{item.container.id}/replicationProtectableItems/{item.machine.name}",
        "recoveryServicesProviderId": f"{item.container.fabric.id}/replicationRecoveryServicesProviders/"
        f"{item.container.fabric.internal_id}",
        "primaryFabricFriendlyName": item.container.fabric.friendly_name,
        "primaryFabricProvider": item.container.fabric.kind,
        "recoveryFabricFriendlyName": target.fabric.friendly_name if target else AZURE,
        "recoveryFabricId": target.fabric.id if target else AZURE,
        "primaryProtectionContainerFriendlyName": item.container.friendly_name,
        "recoveryProtectionContainerFriendlyName": target.friendly_name if target else AZURE,
        "protectionState": st.protection_state,
        "protectionStateDescription": st.protection_description,
        "activeLocation": st.active_location,
        "testFailoverState": st.test_failover_state,
        "testFailoverStateDescription": st.test_failover_description,
        "allowedOperations": st.allowed,
        "replicationHealth": st.health,
        "healthErrors": _health_errors(item, now),
        "policyId": item.mapping.policy.id,
        "policyFriendlyName": item.mapping.policy.name,
        "currentScenario": _scenario(vault, job, iso(clock.at(job.start)) if job else None),
        "providerSpecificDetails": providers.details_view(item, now),
        "recoveryContainerId": target.id
        if target
        else f"{vault.id}/replicationFabrics/Azure/replicationProtectionContainers/Azure",
        "eventCorrelationId": item.internal_id,
    }
    # Once either kind of failover happened ASR reports both times, the missing one as its placeholder
    # (the TestFailoverCleanup and failover examples carry both).
    if item.last_test_failover_time is not None or item.last_failover_time is not None:
        props["lastSuccessfulTestFailoverTime"] = _time_or_placeholder(clock, item.last_test_failover_time)
        props["lastSuccessfulFailoverTime"] = _time_or_placeholder(clock, item.last_failover_time)
    if item.failover_recovery_point is not None:
        props["failoverRecoveryPointId"] = item.failover_recovery_point
    view: dict[str, Any] = compact({"id": item.id, "name": item.name, "type": T_ITEM, "properties": props})
    return view


def _time_or_placeholder(clock: SimClock, at: float | None) -> str:
    return NO_JOB_START if at is None else iso(clock.at(at))


def _health_errors(item: Item, now: float) -> list[dict[str, Any]]:
    clock = item.vault.store.clock
    if item.phase == Phase.ENABLE_FAILED:
        return [
            {
                "errorCode": item.enable_error or "150000",
                "errorMessage": "Enable replication failed for the virtual machine.",
                "errorLevel": "Error",
                "creationTimeUtc": iso(clock.at(now)),
                "recommendedAction": "Disable replication and retry.",
                "customerResolvability": "Allowed",
            }
        ]
    if item.phase == Phase.REPLICATING and item.ir_break_percent is not None:
        if item.ir_progress(now) >= item.ir_break_percent and item.ir_progress(now) < 100:
            stalled = item.ir_factor == 0
            return [
                {
                    "errorCode": "78122" if stalled else "78144",
                    "errorMessage": "No data has been uploaded from the source machine for a while."
                    if stalled
                    else "The data upload rate from the source machine is lower than expected.",
                    "errorLevel": "Error" if stalled else "Warning",
                    "creationTimeUtc": iso(clock.at(now)),
                    "recommendedAction": "Check the network connectivity and the replication appliance.",
                    "customerResolvability": "Allowed",
                }
            ]
    return []


@_compacted
def plan_view(plan: RecoveryPlan, now: float) -> dict[str, Any]:
    vault = plan.vault
    clock = vault.store.clock
    allowed, running = lifecycle.plan_status(plan, now)
    providers_used = sorted({i.provider for i in plan.items}) or ["HyperVReplicaAzure"]
    primary = next((f for f in vault.fabrics.values() if f.id.lower() == plan.primary_fabric_id.lower()), None)
    recovery = next((f for f in vault.fabrics.values() if f.id.lower() == plan.recovery_fabric_id.lower()), None)
    props: dict[str, Any] = {
        "friendlyName": plan.name,
        "primaryFabricId": plan.primary_fabric_id,
        "primaryFabricFriendlyName": primary.friendly_name if primary else plan.primary_fabric_id,
        "recoveryFabricId": plan.recovery_fabric_id,
        "recoveryFabricFriendlyName": recovery.friendly_name if recovery else plan.recovery_fabric_id,
        "failoverDeploymentModel": plan.deployment_model,
        "replicationProviders": providers_used,
        "allowedOperations": allowed,
        "groups": plan.groups,
    }
    # The last plan job stays the current scenario after it ends (examples: status Succeeded/Completed);
    # a finished test failover waits for cleanup (Suspended / WaitingForStopTestFailover).
    job = plan.job if running else plan.last_job
    waiting = any(i.test_failover == "WaitingForCompletion" for i in plan.items)
    if job is not None:
        props["currentScenario"] = _scenario(vault, job, iso(clock.at(job.start)))
        if running:
            status, description = "InProgress", "InProgress"
        elif job.scenario == "TestFailover" and waiting and job.settled == "Succeeded":
            status, description = "Suspended", "WaitingForStopTestFailover"
        elif job.settled == "Succeeded":
            status, description = "Succeeded", "Completed"
        else:
            status, description = job.settled, job.settled
        props["currentScenarioStatus"] = status
        props["currentScenarioStatusDescription"] = description
    if plan.last_test_failover is not None or plan.last_unplanned_failover is not None:
        props["lastPlannedFailoverTime"] = NO_JOB_START
        props["lastTestFailoverTime"] = _time_or_placeholder(clock, plan.last_test_failover)
        props["lastUnplannedFailoverTime"] = _time_or_placeholder(clock, plan.last_unplanned_failover)
    return {
        "id": plan.id,
        "name": plan.name,
        "type": "Microsoft.RecoveryServices/vaults/replicationRecoveryPlans",
        "properties": props,
    }
