"""The emulated vaults in memory: infrastructure from the topology, protected items, plans, jobs.

Everything is looked up case-insensitively (ARM names are). Item progress is computed from the
simulated clock when read; jobs are settled (their effects applied) lazily, in end-time order,
at the start of every request, so 10,000 idle items cost no background work.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from emulators.siterecovery.clock import SimClock
from emulators.siterecovery.faults import FaultBook, ReplicationFault
from emulators.siterecovery.jobs import Job
from emulators.siterecovery.topology import (
    FabricKind,
    MachineKind,
    ProtectionHealth,
    Provider,
    TimingSpec,
    Topology,
)

if TYPE_CHECKING:
    from emulators.siterecovery.migration_items import MigrationItem

PROVIDER_BY_FABRIC: dict[str, Provider] = {
    "Azure": "A2A",
    "InMageRcm": "InMageRcm",
    "HyperVSite": "HyperVReplicaAzure",
    "VMwareV2": "VMwareCbt",
}
GIB = 1024**3


def vault_path(sub: str, rg: str, vault: str) -> str:
    """Vault ARM id as ASR spells it in its responses (``/Subscriptions/`` capitalised)."""
    return f"/Subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}"


@dataclass(eq=False)
class Machine:
    name: str
    friendly_name: str
    kind: MachineKind
    os_type: str
    disks_gb: list[int]
    bandwidth_mbps: float | None
    vm_id: str | None
    location: str | None


@dataclass(frozen=True)
class DiscoveredDisk:
    id: str
    name: str
    size_gb: int
    is_os_disk: bool


@dataclass(eq=False)
class DiscoveredMachine:
    """A VMware VM an Azure Migrate appliance discovered: what a VMwareCbt enable names by ``vmwareMachineId``."""

    site: VMwareSite
    name: str
    display_name: str
    os_type: str
    os_name: str
    firmware_type: str
    disks: list[DiscoveredDisk]
    bandwidth_mbps: float | None
    v_center: VCenter | None = None  # the vCenter that manages it (always set by the loader)
    cores: int = 2
    memory_mb: int = 4096
    power_status: str = "ON"

    @property
    def id(self) -> str:
        return f"{self.site.id}/machines/{self.name}"


@dataclass(frozen=True)
class RunAsAccount:
    """A credential the site's appliance holds; a vCenter names the one it is reached with (``runAsAccountId``)."""

    site: VMwareSite
    name: str
    display_name: str
    credential_type: str

    @property
    def id(self) -> str:
        return f"{self.site.id}/runasaccounts/{self.name}"


@dataclass(frozen=True)
class VCenter:
    """A vCenter Server the site's appliance discovers machines from."""

    site: VMwareSite
    name: str
    fqdn: str
    port: int
    version: str
    run_as_account: RunAsAccount

    @property
    def id(self) -> str:
        return f"{self.site.id}/vcenters/{self.name}"


@dataclass(eq=False)
class VMwareSite:
    """``Microsoft.OffAzure/VMwareSites/{name}`` (ids spelled as a client writes them: ``/subscriptions/``)."""

    subscription_id: str
    resource_group: str
    name: str
    machines: dict[str, DiscoveredMachine] = field(default_factory=dict)  # key: name lower
    location: str = ""
    appliance_name: str = ""
    migrate_project: str = ""
    v_centers: dict[str, VCenter] = field(default_factory=dict)  # key: name lower
    run_as_accounts: dict[str, RunAsAccount] = field(default_factory=dict)  # key: name lower

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.OffAzure/VMwareSites/{self.name}"
        )


@dataclass(eq=False)
class Container:
    name: str
    friendly_name: str
    fabric: Fabric
    machines: dict[str, Machine] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.fabric.id}/replicationProtectionContainers/{self.name}"


@dataclass(eq=False)
class Network:
    name: str
    friendly_name: str
    azure_network_id: str | None


@dataclass(frozen=True)
class ProcessServer:
    """A process server of an InMageRcm fabric's replication appliance (what an enable names)."""

    id: str
    name: str
    index: int  # position on its fabric: the placeholder address and ids derive from it
    fqdn: str | None
    ip_addresses: tuple[str, ...] | None
    version: str | None
    health: ProtectionHealth
    health_errors: tuple[dict[str, str], ...]


@dataclass(eq=False)
class Fabric:
    vault: Vault
    name: str
    friendly_name: str
    kind: FabricKind
    location: str | None
    internal_id: str
    containers: dict[str, Container] = field(default_factory=dict)
    networks: dict[str, Network] = field(default_factory=dict)
    process_servers: dict[str, ProcessServer] = field(default_factory=dict)  # key: id lower
    vmware_site: VMwareSite | None = None  # VMwareV2 fabrics

    @property
    def id(self) -> str:
        return f"{self.vault.id}/replicationFabrics/{self.name}"

    @property
    def provider(self) -> Provider:
        return PROVIDER_BY_FABRIC[self.kind]


@dataclass(eq=False)
class Policy:
    vault: Vault
    name: str
    provider: Provider
    history_minutes: int
    app_minutes: int
    crash_minutes: int
    input: dict[str, object] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.vault.id}/replicationPolicies/{self.name}"


@dataclass(eq=False)
class ContainerMapping:
    name: str
    container: Container
    policy: Policy
    target_container: Container | None  # None: the target is Azure ("Microsoft Azure")
    storage_account_id: str | None = None  # VMwareCbt: the log storage account the infrastructure set up

    @property
    def id(self) -> str:
        return f"{self.container.id}/replicationProtectionContainerMappings/{self.name}"


@dataclass(eq=False)
class NetworkMapping:
    name: str
    fabric: Fabric
    network: Network
    recovery_fabric: Fabric | None
    recovery_network_id: str

    @property
    def id(self) -> str:
        return f"{self.fabric.id}/replicationNetworks/{self.network.name}/replicationNetworkMappings/{self.name}"


class Phase(Enum):
    """Where a protected item stands between jobs (a running job is ``Item.job``)."""

    ENABLING = "Enabling"
    ENABLE_FAILED = "EnableFailed"
    REPLICATING = "Replicating"
    PROTECTED = "Protected"
    FAILED_OVER = "FailedOver"
    COMMITTED = "Committed"
    REMOVED = "Removed"


TestFailoverState = Literal["None", "WaitingForCompletion"]


@dataclass(eq=False)
class Item:
    """A replication protected item and everything that has happened to it."""

    vault: Vault
    name: str
    container: Container
    machine: Machine
    provider: Provider
    mapping: ContainerMapping
    enable_input: dict[str, object]
    created: float
    internal_id: str
    phase: Phase = Phase.ENABLING
    job: Job | None = None
    last_job: Job | None = None
    ir_start: float = 0.0
    ir_seconds: float = 1.0
    ir_break_percent: float | None = None
    ir_factor: float = 1.0
    test_failover: TestFailoverState = "None"
    failover_kind: Literal["Unplanned", "Planned"] | None = None
    # a failback (planned failover from the recovery side back to the source, Hyper-V) is pending or
    # committed; ``failover_kind`` still says how the item got to the recovery side
    failback: bool = False
    reversed: bool = False
    last_test_failover_time: float | None = None
    last_failover_time: float | None = None
    failover_recovery_point: str | None = None
    recovery_vm_id: str | None = None
    test_network_id: str | None = None
    enable_error: str | None = None
    ir_completed_at: float | None = None
    ir_fault: ReplicationFault | None = None

    @property
    def id(self) -> str:
        return f"{self.container.id}/replicationProtectedItems/{self.name}"

    @property
    def friendly_name(self) -> str:
        return self.machine.friendly_name

    def ir_progress(self, now: float) -> float:
        """Initial (or reverse) replication progress in percent, from the simulated clock."""
        if self.phase in (Phase.ENABLING, Phase.ENABLE_FAILED):
            return 0.0
        if self.phase != Phase.REPLICATING:
            return 100.0
        rate = 100.0 / self.ir_seconds
        natural = max(0.0, (now - self.ir_start) * rate)
        if self.ir_break_percent is None or natural <= self.ir_break_percent:
            return min(100.0, natural)
        t_break = self.ir_start + self.ir_break_percent / rate
        return min(100.0, self.ir_break_percent + (now - t_break) * rate * self.ir_factor)

    def ir_done_at(self) -> float | None:
        """Simulated instant initial replication completes (None if it never will: stalled)."""
        if self.phase != Phase.REPLICATING:
            return None
        if self.ir_break_percent is None:
            return self.ir_start + self.ir_seconds
        if self.ir_factor == 0:
            return None
        rate = 100.0 / self.ir_seconds
        t_break = self.ir_start + self.ir_break_percent / rate
        return t_break + (100.0 - self.ir_break_percent) / (rate * self.ir_factor)

    def bind_replication_fault(self, spec: ReplicationFault, now: float) -> None:
        """Make replication stall or slow from ``atPercent`` (or from where it is now, if past it)."""
        if self.phase not in (Phase.ENABLING, Phase.REPLICATING):
            return
        current = self.ir_progress(now)
        self.ir_break_percent = (
            max(float(spec.at_percent), current) if self.phase == Phase.REPLICATING else float(spec.at_percent)
        )
        self.ir_factor = 0.0 if spec.mode == "stall" else spec.factor
        self.ir_fault = spec

    def clear_replication_fault(self, now: float) -> None:
        """The cause is gone: replication continues from where it is at the normal rate."""
        if self.phase == Phase.REPLICATING:
            current = self.ir_progress(now)
            self.ir_start = now - current * self.ir_seconds / 100.0
        self.ir_break_percent = None
        self.ir_factor = 1.0
        self.ir_fault = None

    def busy(self) -> bool:
        return self.job is not None and self.job.settled == "InProgress"


@dataclass(eq=False)
class RecoveryPlan:
    vault: Vault
    name: str
    primary_fabric_id: str
    recovery_fabric_id: str
    deployment_model: str
    groups: list[dict[str, object]]
    items: list[Item]
    job: Job | None = None
    last_job: Job | None = None
    last_test_failover: float | None = None
    last_unplanned_failover: float | None = None

    @property
    def id(self) -> str:
        return f"{self.vault.id}/replicationRecoveryPlans/{self.name}"


@dataclass(eq=False)
class Vault:
    store: Store
    subscription_id: str
    resource_group: str
    name: str
    location: str
    fabrics: dict[str, Fabric] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    mappings: dict[str, ContainerMapping] = field(default_factory=dict)  # key: container id lower + name
    network_mappings: list[NetworkMapping] = field(default_factory=list)
    items: dict[str, Item] = field(default_factory=dict)  # key: item id lower
    plans: dict[str, RecoveryPlan] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    vmware_sites: dict[str, VMwareSite] = field(default_factory=dict)  # key: name lower
    migration_items: dict[str, MigrationItem] = field(default_factory=dict)  # key: item id lower

    @property
    def id(self) -> str:
        return vault_path(self.subscription_id, self.resource_group, self.name)

    def mapping(self, container: Container, name: str) -> ContainerMapping | None:
        return self.mappings.get(f"{container.id.lower()}|{name.lower()}")

    def mappings_of(self, container: Container) -> list[ContainerMapping]:
        return [m for m in self.mappings.values() if m.container is container]

    def items_in(self, container: Container) -> list[Item]:
        return [i for i in self.items.values() if i.container is container]


@dataclass(frozen=True)
class AzureVm:
    """An Azure VM the emulator knows: A2A sources from the topology and VMs a failover, test failover, migration or
    test migration created (``Microsoft.Compute/virtualMachines``, served by :mod:`compute`)."""

    id: str
    name: str
    location: str
    machine: Machine
    size: str | None = None  # hardwareProfile.vmSize (None: the emulator's default size)
    created: float = 0.0  # simulated instant the VM came into being
    test: bool = False  # a test failover / test migration VM: its cleanup deletes it
    network_id: str | None = None  # the virtual network its NIC is in (the test network for a test VM)
    subnet: str | None = None  # the NIC's subnet in that network (None: "default")


@dataclass
class RunCommand:
    """A managed run command (``virtualMachines/{vm}/runCommands/{name}``); its outcome is decided when it is put.

    The script starts when the VM's agent is ready (``start`` None until then) and runs ``duration`` simulated
    seconds (math.inf: it hangs); ``exit_code``/``output``/``error`` are what it reports when it ends.
    """

    vm_id: str
    name: str
    location: str
    properties: dict[str, Any]
    created: float
    operation_id: str
    duration: float
    exit_code: int
    output: str
    error: str
    start: float | None = None


class Store:
    """All vaults, the clock, the faults, and the lock every request holds while it reads or writes."""

    def __init__(self, topology: Topology, clock: SimClock) -> None:
        self.topology = topology
        self.timing: TimingSpec = topology.timing
        self.clock = clock
        self.seed = topology.seed
        self.faults = FaultBook(topology.seed)
        self.lock = threading.RLock()
        # True: every poll of a running operation moves the clock by Retry-After (deterministic tests)
        self.advance_on_poll = False
        self.vaults: dict[str, Vault] = {}
        self.azure_vms: dict[str, AzureVm] = {}
        self.run_commands: dict[str, RunCommand] = {}  # key: "{vm id}/runcommands/{name}", lower case
        self._pending: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._names = random.Random(f"names:{topology.seed}")
        from emulators.siterecovery.loader import populate  # local import: loader needs Store's types

        populate(self, topology)
        for spec in topology.faults:
            self.faults.add(spec)

    # -- identity -----------------------------------------------------------------------------
    def new_guid(self) -> str:
        """A GUID from the seeded generator: reruns with the same seed and requests get the same ids."""
        return str(uuid.UUID(int=self._names.getrandbits(128), version=4))

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join([str(self.seed), *map(str, parts)]))

    def jitter(self, seconds: float, *parts: object) -> float:
        spread = self.timing.jitter
        return seconds * (1.0 + self.rng(*parts).uniform(-spread, spread))

    # -- Azure VMs ----------------------------------------------------------------------------
    def add_vm(self, vm: AzureVm) -> None:
        """A VM a job created (a new one replaces an earlier VM of the same id, as a redeployment does)."""
        self.azure_vms[vm.id.lower()] = vm

    def remove_vm(self, vm_id: str) -> None:
        """A VM a cleanup deleted, with its run commands (ARM deletes nested resources with their parent)."""
        key = vm_id.lower()
        self.azure_vms.pop(key, None)
        for name in [k for k in self.run_commands if k.startswith(f"{key}/runcommands/")]:
            del self.run_commands[name]

    # -- lookups ------------------------------------------------------------------------------
    def vault(self, sub: str, rg: str, name: str) -> Vault | None:
        return self.vaults.get(f"{sub}/{rg}/{name}".lower())

    # -- time ---------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.seconds()

    def track(self, job: Job) -> None:
        heapq.heappush(self._pending, (job.end, next(self._seq), job))

    def settle(self) -> float:
        """Apply every job that has finished by now, oldest end first; returns the instant used."""
        now = self.now()
        while self._pending and self._pending[0][0] <= now:
            end, _, job = heapq.heappop(self._pending)
            if job.end != end:  # cancelled or re-timed: re-queue at its real end
                heapq.heappush(self._pending, (job.end, next(self._seq), job))
                continue
            job.settle(now)
        return now
