"""The topology file: what exists in the emulated Site Recovery vaults before the first request.

YAML or JSON (see README.md in this folder and ``examples/topology.yaml``). Loading checks the
shape with pydantic and the cross references (a mapping naming an unknown container, ...) by
hand; every problem is reported with the path of the bad field, e.g.
``vaults[0].fabrics[1].containers[0].machines[2].disksGB: ...``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emulators.siterecovery.arm_limits import ArmLimits
from emulators.siterecovery.faults import FaultSpec

Provider = Literal["A2A", "InMageRcm", "HyperVReplicaAzure", "VMwareCbt"]
# VMwareV2: the fabric Azure Migrate's agentless VMware replication registers (VMwareV2FabricSpecificDetails)
FabricKind = Literal["Azure", "InMageRcm", "HyperVSite", "VMwareV2"]
MachineKind = Literal["AzureVM", "VMware", "Physical", "AWS", "HyperV"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MachineSpec(_Model):
    """A machine ASR can protect: a protectable item (InMageRcm, HyperV) or an Azure VM (A2A)."""

    name: str = Field(min_length=1, description="ASR name of the protectable item")
    friendly_name: str | None = Field(None, alias="friendlyName")
    kind: MachineKind | None = None
    os_type: Literal["Windows", "Linux"] = Field("Windows", alias="osType")
    disks_gb: list[int] = Field(default_factory=lambda: [128], alias="disksGB", min_length=1)
    bandwidth_mbps: float | None = Field(None, alias="bandwidthMbps", gt=0)
    vm_id: str | None = Field(
        None,
        alias="vmId",
        description="A2A: ARM id of the VM (fabricObjectId); InMageRcm: ARM id of the discovered machine",
    )


class NetworkSpec(_Model):
    name: str = Field(min_length=1)
    friendly_name: str | None = Field(None, alias="friendlyName")
    azure_network_id: str | None = Field(None, alias="azureNetworkId")


class ContainerSpec(_Model):
    name: str = Field(min_length=1)
    friendly_name: str | None = Field(None, alias="friendlyName")
    machines: list[MachineSpec] = Field(default_factory=list)


ProtectionHealth = Literal["None", "Normal", "Warning", "Critical"]

# The id of the process server an InMageRcm fabric has when its topology declares none. It is the id the
# example plans and inventory name (examples/plans/*.yaml, examples/inventory.csv), so topologies written
# before process servers could be declared, and those built from such plans, keep accepting their enables.
DEFAULT_PROCESS_SERVER_ID = "7d3a1c52-0f0e-4b6a-9d0c-5f2a8e1b7c11"


class HealthErrorSpec(_Model):
    """One of a process server's health errors (SDK ``HealthError``: what ASR reports about it)."""

    error_code: str = Field(alias="errorCode", min_length=1)
    error_message: str = Field(alias="errorMessage", min_length=1)
    error_level: Literal["Error", "Warning"] = Field("Error", alias="errorLevel")
    possible_causes: str | None = Field(None, alias="possibleCauses")
    recommended_action: str | None = Field(None, alias="recommendedAction")


class ProcessServerSpec(_Model):
    """A process server of an InMageRcm fabric's replication appliance.

    ASR lists them in the fabric's ``customDetails.processServers`` and an enable names one of them by
    ``processServerId``; what is not declared here gets the values of a healthy, lightly loaded server.
    """

    id: str = Field(min_length=1, description="the id an enable's processServerId names")
    name: str | None = Field(None, description="default: the fabric's name with -ps<n>")
    fqdn: str | None = None
    ip_addresses: list[str] | None = Field(None, alias="ipAddresses")
    version: str | None = None
    health: ProtectionHealth = "Normal"
    health_errors: list[HealthErrorSpec] = Field(default_factory=list, alias="healthErrors")


class DiscoveredDiskSpec(_Model):
    """A disk of a discovered VMware machine (what a VMwareCbt enable's ``disksToInclude[].diskId`` names).

    ``isOSDisk`` is the emulator's own knowledge: OffAzure's ``VMwareDisk`` has no such flag (a client names the
    OS disk itself, as Az.Migrate's ``-OSDiskID`` does); ASR checks the enable's ``isOSDisk`` against it.
    """

    id: str = Field(min_length=1, description="the disk's uuid in the VMware site (OffAzure VMwareDisk.uuid)")
    size_gb: int = Field(alias="sizeGB", gt=0)
    is_os_disk: bool = Field(False, alias="isOSDisk")
    name: str | None = None


class DiscoveredMachineSpec(_Model):
    """A VMware VM an Azure Migrate appliance discovered (``Microsoft.OffAzure/VMwareSites/{site}/machines/{name}``)."""

    name: str = Field(min_length=1, description="the machine resource's name in the site")
    display_name: str | None = Field(None, alias="displayName")
    os_type: Literal["Windows", "Linux"] = Field("Windows", alias="osType")
    os_name: str | None = Field(None, alias="osName")
    firmware_type: Literal["BIOS", "EFI"] = Field("BIOS", alias="firmwareType")
    disks: list[DiscoveredDiskSpec] = Field(min_length=1)
    bandwidth_mbps: float | None = Field(None, alias="bandwidthMbps", gt=0)
    v_center: str | None = Field(
        None, alias="vCenter", description="the vCenter that manages it; default the site's first"
    )
    cores: int = Field(2, ge=1, description="OffAzure numberOfProcessorCore")
    memory_mb: int = Field(4096, alias="memoryMB", ge=1, description="OffAzure allocatedMemoryInMB")
    power_status: Literal["ON", "OFF"] = Field("ON", alias="powerStatus")


# The credential types of an Azure Migrate run-as account (the OffAzure spec's CredentialType enum). The
# credential an appliance uses to reach a vCenter Server is a VMwareFabric one.
CredentialType = Literal["VMwareFabric", "HyperVFabric", "LinuxGuest", "WindowsGuest", "LinuxServer", "WindowsServer"]

# What a VMware site has when its topology declares no vCenter / run-as account (README.md, "OffAzure").
DEFAULT_VCENTER = "vcenter01"
DEFAULT_RUN_AS_ACCOUNT = "vcenter-account"


class RunAsAccountSpec(_Model):
    """A credential the site's appliance holds (``VMwareSites/{site}/runasaccounts/{name}``)."""

    name: str = Field(min_length=1)
    display_name: str | None = Field(None, alias="displayName", description="default: the name")
    credential_type: CredentialType = Field("VMwareFabric", alias="credentialType")


class VCenterSpec(_Model):
    """A vCenter Server the site's appliance discovers from (``VMwareSites/{site}/vcenters/{name}``)."""

    name: str = Field(min_length=1)
    fqdn: str | None = Field(None, description="default: {name}.contoso.local")
    run_as_account: str | None = Field(
        None, alias="runAsAccount", description="the run-as account it is reached with; default the site's first"
    )
    port: int = Field(443, ge=1, le=65535)
    version: str = "7.0.3"


class VMwareSiteSpec(_Model):
    """An Azure Migrate VMware site (``Microsoft.OffAzure/VMwareSites``) and the machines its appliance discovered."""

    name: str = Field(min_length=1)
    resource_group: str | None = Field(None, alias="resourceGroup", description="default: the vault's")
    appliance_name: str | None = Field(None, alias="applianceName", description="default: the site's name")
    migrate_project: str = Field(
        "migrate-project", alias="migrateProject", min_length=1, description="the Azure Migrate project it belongs to"
    )
    run_as_accounts: list[RunAsAccountSpec] | None = Field(
        None, alias="runAsAccounts", description=f"absent: one VMwareFabric account '{DEFAULT_RUN_AS_ACCOUNT}'"
    )
    v_centers: list[VCenterSpec] | None = Field(
        None, alias="vCenters", description=f"absent: one vCenter '{DEFAULT_VCENTER}'"
    )
    machines: list[DiscoveredMachineSpec] = Field(default_factory=list)

    def declared_run_as_accounts(self) -> list[RunAsAccountSpec]:
        """The site's run-as accounts: the declared ones, else the one default vCenter credential."""
        if self.run_as_accounts is not None:
            return list(self.run_as_accounts)
        return [RunAsAccountSpec.model_validate({"name": DEFAULT_RUN_AS_ACCOUNT})]

    def declared_v_centers(self) -> list[VCenterSpec]:
        """The site's vCenters: the declared ones, else the one default vCenter."""
        if self.v_centers is not None:
            return list(self.v_centers)
        return [VCenterSpec.model_validate({"name": DEFAULT_VCENTER})]


class FabricSpec(_Model):
    name: str = Field(min_length=1)
    friendly_name: str | None = Field(None, alias="friendlyName")
    kind: FabricKind
    location: str | None = Field(None, description="Azure region (Azure fabrics)")
    vmware_site: str | None = Field(
        None, alias="vmwareSite", description="VMwareV2 fabrics: the name of the vault's VMware site it replicates"
    )
    containers: list[ContainerSpec] = Field(default_factory=list)
    networks: list[NetworkSpec] = Field(default_factory=list)
    process_servers: list[ProcessServerSpec] | None = Field(
        None,
        alias="processServers",
        description=f"InMageRcm fabrics; absent: one healthy server with id {DEFAULT_PROCESS_SERVER_ID}",
    )

    def declared_process_servers(self) -> list[ProcessServerSpec]:
        """The fabric's process servers: the declared ones, else (InMageRcm) the one default server."""
        if self.process_servers is not None:
            return list(self.process_servers)
        if self.kind != "InMageRcm":
            return []
        return [ProcessServerSpec.model_validate({"id": DEFAULT_PROCESS_SERVER_ID})]


class PolicySpec(_Model):
    name: str = Field(min_length=1)
    provider: Provider
    recovery_point_history_minutes: int = Field(1440, alias="recoveryPointHistoryMinutes", ge=0)
    app_consistent_frequency_minutes: int = Field(240, alias="appConsistentFrequencyMinutes", ge=0)
    crash_consistent_frequency_minutes: int = Field(5, alias="crashConsistentFrequencyMinutes", ge=1)


class ContainerMappingSpec(_Model):
    name: str = Field(min_length=1)
    fabric: str
    container: str
    policy: str
    target_fabric: str | None = Field(None, alias="targetFabric", description="A2A: the recovery region's fabric")
    target_container: str | None = Field(None, alias="targetContainer")
    storage_account_id: str | None = Field(
        None,
        alias="storageAccountId",
        description="VMwareCbt: the replication infrastructure's log storage account "
        "(VMwareCbtProtectionContainerMappingDetails.storageAccountId)",
    )


class NetworkMappingSpec(_Model):
    name: str = Field(min_length=1)
    fabric: str
    network: str
    recovery_fabric: str | None = Field(None, alias="recoveryFabric")
    recovery_network_id: str = Field(alias="recoveryNetworkId")


class ProtectedItemSpec(_Model):
    """An item already protected when the emulator starts (benchmarks, contract tests)."""

    name: str = Field(min_length=1)
    fabric: str
    container: str
    machine: str
    mapping: str
    state: Literal["Protected", "Replicating"] = "Protected"


class VaultSpec(_Model):
    subscription_id: str = Field(alias="subscriptionId", min_length=1)
    resource_group: str = Field(alias="resourceGroup", min_length=1)
    name: str = Field(min_length=1)
    location: str = "westeurope"
    fabrics: list[FabricSpec] = Field(default_factory=list)
    policies: list[PolicySpec] = Field(default_factory=list)
    container_mappings: list[ContainerMappingSpec] = Field(default_factory=list, alias="containerMappings")
    network_mappings: list[NetworkMappingSpec] = Field(default_factory=list, alias="networkMappings")
    protected_items: list[ProtectedItemSpec] = Field(default_factory=list, alias="protectedItems")
    vmware_sites: list[VMwareSiteSpec] = Field(default_factory=list, alias="vmwareSites")

    @property
    def arm_id(self) -> str:
        """The vault's ARM id as a client writes it (lower-case ``subscriptions``), for allow-lists."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.RecoveryServices/vaults/{self.name}"
        )


class TimingSpec(_Model):
    """How long simulated work takes: jobs per scenario, replication from disk size and bandwidth."""

    default_bandwidth_mbps: float = Field(100.0, alias="defaultBandwidthMbps", gt=0)
    replication_overhead_seconds: float = Field(600.0, alias="replicationOverheadSeconds", ge=0)
    job_scale: float = Field(1.0, alias="jobScale", gt=0, description="multiplies every job's task durations")
    jitter: float = Field(0.1, ge=0, le=0.9, description="relative +/- spread of every duration")
    retry_after_seconds: int = Field(30, alias="retryAfterSeconds", ge=0, description="simulated seconds")
    page_size: int = Field(100, alias="pageSize", ge=1, le=1000)


class SkuRestrictionSpec(_Model):
    """Why a subscription may not deploy a size in a region or zone (Compute ``ResourceSkuRestrictions``)."""

    type: Literal["Location", "Zone"] = "Location"
    zones: list[str] = Field(default_factory=list, description="type Zone: the zones the size is refused in")
    reason_code: Literal["QuotaId", "NotAvailableForSubscription"] = Field(
        "NotAvailableForSubscription", alias="reasonCode"
    )


class SkuSpec(_Model):
    """A virtual machine size a region offers (an entry of ``Microsoft.Compute/skus``)."""

    name: str = Field(min_length=1, description="e.g. Standard_D2s_v5")
    family: str = Field(min_length=1, description="the quota family, e.g. standardDSv5Family")
    v_cpus: int = Field(alias="vCPUs", ge=1)
    memory_gb: float = Field(alias="memoryGB", gt=0)
    zones: list[str] = Field(default_factory=lambda: ["1", "2", "3"])
    restrictions: list[SkuRestrictionSpec] = Field(default_factory=list)


class QuotaSpec(_Model):
    """A regional vCPU quota (an entry of ``locations/{location}/usages``): ``cores`` is the regional total."""

    name: str = Field(min_length=1, description="usage name: cores or a family, e.g. standardDSv5Family")
    limit: int = Field(ge=0)
    used: int = Field(0, ge=0, description="vCPUs in use by VMs the emulator does not know")


class ComputeRegionSpec(_Model):
    """What ``Microsoft.Compute`` offers one subscription in one region: sizes and vCPU quotas."""

    location: str = Field(min_length=1)
    skus: list[SkuSpec] = Field(default_factory=list)
    quotas: list[QuotaSpec] = Field(default_factory=list)


class Topology(_Model):
    seed: int = 1
    timing: TimingSpec = Field(default_factory=lambda: TimingSpec.model_validate({}))
    vaults: list[VaultSpec] = Field(min_length=1)
    faults: list[FaultSpec] = Field(default_factory=list)
    arm_limits: ArmLimits | None = Field(
        None, alias="armLimits", description="ARM's per-subscription request limits (absent: no limits)"
    )
    compute: list[ComputeRegionSpec] = Field(
        default_factory=list, description="Microsoft.Compute per region (absent: no sizes, no quotas)"
    )


class TopologyError(ValueError):
    """The topology is invalid; ``problems`` lists ``path: message`` strings."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid topology:\n  " + "\n  ".join(problems))
        self.problems = problems


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(root)"


def parse_topology(data: Any) -> Topology:
    """Validate a decoded topology document; raises :class:`TopologyError` naming every bad field."""
    try:
        topology = Topology.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
            problems.append(f"{_path(loc)}: {err['msg']}")
        raise TopologyError(problems) from None
    problems = _cross_references(topology)
    if problems:
        raise TopologyError(problems)
    return topology


_PROVIDER_OF_FABRIC = {
    "Azure": "A2A",
    "InMageRcm": "InMageRcm",
    "HyperVSite": "HyperVReplicaAzure",
    "VMwareV2": "VMwareCbt",
}
_UNION_TAGS = {
    "throttle",
    "transient",
    "jobFailure",
    "replication",
    "latency",
    "seedingFailure",
    "resyncRequired",
}


def load_topology(path: str | Path) -> Topology:
    """Read a YAML (``.yaml``/``.yml``) or JSON topology file."""
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "JSON" if file.suffix.lower() == ".json" else "YAML"
        raise TopologyError([f"(file {file.name}): not valid {kind}: {exc}"]) from None
    return parse_topology(data)


def _dupes(names: list[str], where: str, what: str = "name") -> list[str]:
    seen: set[str] = set()
    out = []
    for i, name in enumerate(names):
        if name.lower() in seen:
            out.append(f"{where}[{i}].{what}: duplicate {what} '{name}'")
        seen.add(name.lower())
    return out


def _cross_references(topology: Topology) -> list[str]:
    problems: list[str] = []
    vault_keys = [f"{v.subscription_id}/{v.resource_group}/{v.name}" for v in topology.vaults]
    problems += _dupes(vault_keys, "vaults")
    for vi, vault in enumerate(topology.vaults):
        base = f"vaults[{vi}]"
        problems += _dupes([f.name for f in vault.fabrics], f"{base}.fabrics")
        problems += _dupes([p.name for p in vault.policies], f"{base}.policies")
        fabrics = {f.name.lower(): f for f in vault.fabrics}
        policies = {p.name.lower(): p for p in vault.policies}
        problems += _vmware_sites(vault, base)
        for fi, fabric in enumerate(vault.fabrics):
            fbase = f"{base}.fabrics[{fi}]"
            if fabric.kind == "Azure" and not fabric.location:
                problems.append(f"{fbase}.location: required for an Azure fabric")
            if fabric.process_servers is not None and fabric.kind != "InMageRcm":
                problems.append(f"{fbase}.processServers: only InMageRcm fabrics have process servers")
            problems += _dupes([ps.id for ps in fabric.process_servers or []], f"{fbase}.processServers", what="id")
            problems += _dupes([c.name for c in fabric.containers], f"{fbase}.containers")
            for ci, container in enumerate(fabric.containers):
                problems += _dupes([m.name for m in container.machines], f"{fbase}.containers[{ci}].machines")
                for mi, machine in enumerate(container.machines):
                    if fabric.kind in ("Azure", "InMageRcm") and not machine.vm_id:
                        problems.append(
                            f"{fbase}.containers[{ci}].machines[{mi}].vmId: required on {fabric.kind} fabrics"
                        )
                    if any(d <= 0 for d in machine.disks_gb):
                        problems.append(f"{fbase}.containers[{ci}].machines[{mi}].disksGB: sizes must be positive")

        def container_of(
            fabric: str,
            container: str,
            where: str,
            fabrics: dict[str, FabricSpec] = fabrics,
            problems: list[str] = problems,
        ) -> None:
            f = fabrics.get(fabric.lower())
            if f is None:
                problems.append(f"{where}.fabric: unknown fabric '{fabric}'")
            elif not any(c.name.lower() == container.lower() for c in f.containers):
                problems.append(f"{where}.container: unknown container '{container}' in fabric '{fabric}'")

        mappings = {}
        for mi, mapping in enumerate(vault.container_mappings):
            where = f"{base}.containerMappings[{mi}]"
            mappings[mapping.name.lower()] = mapping
            container_of(mapping.fabric, mapping.container, where)
            policy = policies.get(mapping.policy.lower())
            source = fabrics.get(mapping.fabric.lower())
            if policy is None:
                problems.append(f"{where}.policy: unknown policy '{mapping.policy}'")
            elif source is not None and _PROVIDER_OF_FABRIC[source.kind] != policy.provider:
                problems.append(
                    f"{where}.policy: a {policy.provider} policy cannot protect a {source.kind} fabric "
                    f"(needs {_PROVIDER_OF_FABRIC[source.kind]})"
                )
            if mapping.target_fabric is not None:
                tf = fabrics.get(mapping.target_fabric.lower())
                if tf is None:
                    problems.append(f"{where}.targetFabric: unknown fabric '{mapping.target_fabric}'")
                elif mapping.target_container is None or not any(
                    c.name.lower() == mapping.target_container.lower() for c in tf.containers
                ):
                    problems.append(f"{where}.targetContainer: unknown container in fabric '{mapping.target_fabric}'")
            elif policy is not None and policy.provider == "A2A":
                problems.append(f"{where}.targetFabric: required for an A2A mapping (the recovery region)")
        for ni, nm in enumerate(vault.network_mappings):
            where = f"{base}.networkMappings[{ni}]"
            f = fabrics.get(nm.fabric.lower())
            if f is None:
                problems.append(f"{where}.fabric: unknown fabric '{nm.fabric}'")
            elif not any(n.name.lower() == nm.network.lower() for n in f.networks):
                problems.append(f"{where}.network: unknown network '{nm.network}' in fabric '{nm.fabric}'")
        for pi, item in enumerate(vault.protected_items):
            where = f"{base}.protectedItems[{pi}]"
            container_of(item.fabric, item.container, where)
            f = fabrics.get(item.fabric.lower())
            if f is not None:
                cont = next((c for c in f.containers if c.name.lower() == item.container.lower()), None)
                if cont is not None and not any(m.name.lower() == item.machine.lower() for m in cont.machines):
                    problems.append(f"{where}.machine: unknown machine '{item.machine}' in that container")
            if item.mapping.lower() not in mappings:
                problems.append(f"{where}.mapping: unknown container mapping '{item.mapping}'")
    return problems


def _vmware_sites(vault: VaultSpec, base: str) -> list[str]:
    """VMware sites: unique names, unique machines and disk ids, one OS disk; VMwareV2 fabrics name a site."""
    problems = _dupes([s.name for s in vault.vmware_sites], f"{base}.vmwareSites")
    for si, site in enumerate(vault.vmware_sites):
        sbase = f"{base}.vmwareSites[{si}]"
        problems += _dupes([m.name for m in site.machines], f"{sbase}.machines")
        problems += _site_credentials(site, sbase)
        v_centers = {v.name.lower() for v in site.declared_v_centers()}
        for mi, machine in enumerate(site.machines):
            problems += _dupes([d.id for d in machine.disks], f"{sbase}.machines[{mi}].disks", what="id")
            if sum(d.is_os_disk for d in machine.disks) != 1:
                problems.append(f"{sbase}.machines[{mi}].disks: exactly one disk must have isOSDisk: true")
            if machine.v_center is not None and machine.v_center.lower() not in v_centers:
                problems.append(
                    f"{sbase}.machines[{mi}].vCenter: unknown vCenter '{machine.v_center}' in VMware site '{site.name}'"
                )
    if not any(f.kind == "VMwareV2" for f in vault.fabrics):
        for pi, policy in enumerate(vault.policies):
            if policy.provider == "VMwareCbt":
                problems.append(
                    f"{base}.policies[{pi}].provider: a VMwareCbt policy needs a VMwareV2 fabric (agentless VMware, "
                    "naming a vmwareSites entry) in the vault"
                )
    sites = {s.name.lower() for s in vault.vmware_sites}
    for fi, fabric in enumerate(vault.fabrics):
        where = f"{base}.fabrics[{fi}].vmwareSite"
        if fabric.kind == "VMwareV2":
            if fabric.vmware_site is None:
                problems.append(f"{where}: required for a VMwareV2 fabric")
            elif fabric.vmware_site.lower() not in sites:
                problems.append(f"{where}: unknown VMware site '{fabric.vmware_site}'")
            if any(c.machines for c in fabric.containers):
                problems.append(f"{base}.fabrics[{fi}].containers: a VMwareV2 fabric's machines are its site's")
        elif fabric.vmware_site is not None:
            problems.append(f"{where}: only VMwareV2 fabrics name a VMware site")
    return problems


def _site_credentials(site: VMwareSiteSpec, sbase: str) -> list[str]:
    """Run-as accounts and vCenters: unique names, none of the lists empty, and every vCenter reached with a
    VMwareFabric account of the site (the one it names, else the site's first VMwareFabric account)."""
    problems = _dupes([a.name for a in site.run_as_accounts or []], f"{sbase}.runAsAccounts")
    problems += _dupes([v.name for v in site.v_centers or []], f"{sbase}.vCenters")
    for key, declared in (("runAsAccounts", site.run_as_accounts), ("vCenters", site.v_centers)):
        if declared == []:
            problems.append(f"{sbase}.{key}: declare at least one (or leave {key} out for the default)")
    accounts = {a.name.lower(): a for a in site.declared_run_as_accounts()}
    for vi, v_center in enumerate(site.declared_v_centers()):
        where = f"{sbase}.vCenters[{vi}].runAsAccount" if site.v_centers is not None else f"{sbase}.runAsAccounts"
        if v_center.run_as_account is None:
            if not any(a.credential_type == "VMwareFabric" for a in accounts.values()):
                problems.append(f"{where}: vCenter '{v_center.name}' needs a VMwareFabric run-as account in the site")
            continue
        account = accounts.get(v_center.run_as_account.lower())
        if account is None:
            problems.append(f"{where}: unknown run-as account '{v_center.run_as_account}' in VMware site '{site.name}'")
        elif account.credential_type != "VMwareFabric":
            problems.append(
                f"{where}: run-as account '{account.name}' is a {account.credential_type} credential; a vCenter is "
                "reached with a VMwareFabric one"
            )
    return problems
