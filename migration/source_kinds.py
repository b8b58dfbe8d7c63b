"""Where a machine comes from, and which ASR replication provider moves it.

The provider decides the request bodies and the progress fields (see ``migration.scenarios``);
the source kind is what users know. AWS Windows instances replicate as physical servers
("treated like physical, on-premises computers", ASR's AWS migration tutorial).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SourceKind", "Provider", "provider_for"]


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


_PROVIDER_BY_KIND = {
    SourceKind.VMWARE: Provider.IN_MAGE_RCM,
    SourceKind.PHYSICAL: Provider.IN_MAGE_RCM,
    SourceKind.AWS: Provider.IN_MAGE_RCM,
    SourceKind.HYPERV: Provider.HYPER_V_REPLICA_AZURE,
    SourceKind.AZURE: Provider.A2A,
}


def provider_for(kind: SourceKind | str) -> Provider:
    """The provider for a source kind (``vmware`` → ``InMageRcm``); raises ValueError for an unknown kind."""
    return _PROVIDER_BY_KIND[SourceKind(kind)]
