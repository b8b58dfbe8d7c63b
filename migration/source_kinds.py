"""Where a machine comes from, how it replicates, and which ASR replication provider moves it.

The provider decides the request bodies and the progress fields (see ``migration.scenarios``);
the source kind and the replication method are what users know. AWS Windows instances replicate
as physical servers ("treated like physical, on-premises computers", ASR's AWS migration tutorial).

VMware VMs have two paths. *Agentless* (Azure Migrate's VMwareCbt provider, ``replicationMigrationItems``)
replicates from vSphere snapshots through the Azure Migrate appliance with nothing installed in the guest; it is
what Microsoft recommends for VMware. *Agent-based* (InMageRcm, the "simplified" experience through the replication
appliance) installs the Mobility agent; it is the only path for physical servers and AWS instances. A VMware
machine whose plan names no method replicates agent-based when it names a field only that path has (a process
server or a protectable item) and agentless otherwise, so plans written for the agent-based path keep their meaning.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Provider", "ReplicationMethod", "SourceKind", "method_for", "methods_of", "provider_for"]


class SourceKind(StrEnum):
    """The kind of machine being migrated, as written in the plan."""

    VMWARE = "vmware"
    PHYSICAL = "physical"
    AWS = "aws"
    HYPERV = "hyperv"
    AZURE = "azure"


class Provider(StrEnum):
    """ASR replication providers, spelled as their ``instanceType`` discriminator."""

    IN_MAGE_RCM = "InMageRcm"
    HYPER_V_REPLICA_AZURE = "HyperVReplicaAzure"
    A2A = "A2A"
    VMWARE_CBT = "VMwareCbt"


class ReplicationMethod(StrEnum):
    """How a machine's data reaches Azure, as written in the plan (``replication.method``)."""

    AGENTLESS = "agentless"
    AGENT = "agent"


_PROVIDER_BY_KIND = {
    SourceKind.VMWARE: Provider.IN_MAGE_RCM,
    SourceKind.PHYSICAL: Provider.IN_MAGE_RCM,
    SourceKind.AWS: Provider.IN_MAGE_RCM,
    SourceKind.HYPERV: Provider.HYPER_V_REPLICA_AZURE,
    SourceKind.AZURE: Provider.A2A,
}

# The methods a plan may name per source kind; a kind without an entry takes none (Hyper-V and Azure VMs have one
# path each, and it is neither of these).
_METHODS: dict[SourceKind, frozenset[ReplicationMethod]] = {
    SourceKind.VMWARE: frozenset(ReplicationMethod),
    SourceKind.PHYSICAL: frozenset({ReplicationMethod.AGENT}),
    SourceKind.AWS: frozenset({ReplicationMethod.AGENT}),
}


def methods_of(kind: SourceKind | str) -> frozenset[ReplicationMethod]:
    """The replication methods a plan may name for ``kind`` (empty: the kind takes no ``replication.method``)."""
    return _METHODS.get(SourceKind(kind), frozenset())


def method_for(
    kind: SourceKind | str, method: ReplicationMethod | str | None = None, *, names_agent_fields: bool = False
) -> ReplicationMethod | None:
    """The method a machine replicates by: the plan's, else the kind's default (None for kinds without methods).

    VMware's default is agent-based when the plan names an agent-only field and agentless otherwise (module doc).
    Raises ValueError for a method the kind does not have.
    """
    allowed = methods_of(kind)
    if method is not None:
        chosen = ReplicationMethod(method)
        if chosen not in allowed:
            raise ValueError(f"sourceKind {SourceKind(kind).value} does not replicate {chosen.value}")
        return chosen
    if SourceKind(kind) is SourceKind.VMWARE:
        return ReplicationMethod.AGENT if names_agent_fields else ReplicationMethod.AGENTLESS
    return ReplicationMethod.AGENT if allowed else None


def provider_for(
    kind: SourceKind | str, method: ReplicationMethod | str | None = None, *, names_agent_fields: bool = True
) -> Provider:
    """The provider for a source kind and method (``vmware`` + ``agentless`` → ``VMwareCbt``).

    Without a method, ``names_agent_fields`` decides VMware's default (:func:`method_for`); it defaults to True
    so that a bare source kind names the agent-based provider, as it did before VMware had two paths. Raises
    ValueError for an unknown kind or a method the kind does not have.
    """
    chosen = method_for(kind, method, names_agent_fields=names_agent_fields)
    if chosen is ReplicationMethod.AGENTLESS:
        return Provider.VMWARE_CBT
    return _PROVIDER_BY_KIND[SourceKind(kind)]
