"""Per-provider scenarios: the request bodies each runbook step sends, and the replicated item read back.

``scenario_for(machine)`` picks the scenario from the machine's source kind and replication method
(vmware agentless → VMwareCbt; vmware agent-based, physical, aws → InMageRcm; hyperv → HyperVReplicaAzure;
azure → A2A).
"""

from __future__ import annotations

from migration.machine import Machine
from migration.scenarios.a2a import A2AScenario
from migration.scenarios.base import DisableReason, ItemAddress, ItemKind, Operation, ProtectedItemView, Scenario
from migration.scenarios.hyperv_replica_azure import HyperVReplicaAzureScenario
from migration.scenarios.inmage_rcm import InMageRcmScenario
from migration.scenarios.vmware_cbt import VMwareCbtScenario
from migration.source_kinds import Provider, SourceKind, provider_for

__all__ = [
    "A2AScenario",
    "DisableReason",
    "HyperVReplicaAzureScenario",
    "InMageRcmScenario",
    "ItemAddress",
    "ItemKind",
    "Operation",
    "ProtectedItemView",
    "Scenario",
    "VMwareCbtScenario",
    "scenario_for",
    "scenario_for_provider",
]

_SCENARIOS: dict[Provider, Scenario] = {
    Provider.IN_MAGE_RCM: InMageRcmScenario(),
    Provider.HYPER_V_REPLICA_AZURE: HyperVReplicaAzureScenario(),
    Provider.A2A: A2AScenario(),
    Provider.VMWARE_CBT: VMwareCbtScenario(),
}


def scenario_for_provider(provider: Provider | str) -> Scenario:
    """The scenario of an ASR provider (``instanceType`` spelling); ValueError for one we do not drive."""
    return _SCENARIOS[Provider(provider)]


def scenario_for(machine: Machine | SourceKind | str) -> Scenario:
    """The scenario that migrates ``machine`` (or a source kind's agent-based default)."""
    if isinstance(machine, Machine):
        return scenario_for_provider(machine.provider)
    return scenario_for_provider(provider_for(machine))
