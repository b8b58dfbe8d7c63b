"""Faults on purpose: throttling, transient errors, failing or stalled jobs, slow or stalled replication, latency.

Faults come from the topology file (``faults:``), the in-process handle or the control endpoint.
Every random choice uses a ``random.Random`` seeded from the topology seed and the fault's index,
so the same request sequence meets the same faults on every run.
"""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ThrottleFault(_Spec):
    """429 with ``Retry-After``, the way ARM throttles.

    ``mode: burst`` lets ``after`` matching requests through, then refuses the next ``count``.
    ``mode: rate`` is a token bucket on wall time (``ratePerSecond``, ``burst``), like ARM's limits.
    """

    kind: Literal["throttle"] = "throttle"
    operation: str = Field("*", description="operationId glob, e.g. ReplicationProtectedItems_*")
    mode: Literal["burst", "rate"] = "burst"
    after: int = Field(0, ge=0)
    count: int = Field(1, ge=1)
    rate_per_second: float = Field(10.0, alias="ratePerSecond", gt=0)
    burst: int = Field(10, ge=1)
    retry_after_seconds: int = Field(1, alias="retryAfterSeconds", ge=0)


class TransientFault(_Spec):
    """A 500/502/503/504 from the front door, with ARM's ``InternalServerError``-style body."""

    kind: Literal["transient"] = "transient"
    operation: str = "*"
    status: Literal[500, 502, 503, 504] = 503
    probability: float = Field(1.0, ge=0, le=1)
    count: int = Field(1, ge=1, description="how many requests at most get the error")
    retry_after_seconds: int | None = Field(None, alias="retryAfterSeconds", ge=0)


class JobFailureFault(_Spec):
    """An ASR job that fails at a given task for a given machine with a realistic error."""

    kind: Literal["jobFailure"] = "jobFailure"
    scenario: str = Field(description="job scenarioName: EnableDr, TestFailover, UnplannedFailover, ...")
    machine: str = Field("*", description="protected item name or friendly name (glob)")
    task: int = Field(0, ge=0, description="index of the task that fails")
    error_code: str = Field("70094", alias="errorCode")
    message: str = "The operation failed on the virtual machine."
    possible_causes: str = Field("The virtual machine is not in a state that allows it.", alias="possibleCauses")
    recommended_action: str = Field("Retry the operation.", alias="recommendedAction")
    times: int = Field(1, ge=1, description="how many jobs fail before the fault is used up")


class JobStallFault(_Spec):
    """An ASR job that stops in a given task and stays ``InProgress`` for as long as the fault is in place.

    ASR jobs do hang for hours (a busy appliance, a slow storage account); tests need one that waits on them, not
    on the clock. Every matching job started while the fault is in place stalls; removing the fault lets the task
    end (not before its planned time) and the rest of the job follow.
    """

    kind: Literal["jobStall"] = "jobStall"
    scenario: str = Field(description="job scenarioName: EnableDr, TestFailover, TestFailoverCleanup, ...")
    machine: str = Field("*", description="protected item name or friendly name (glob)")
    task: int = Field(0, ge=0, description="index of the task the job stays in")


class ReplicationFault(_Spec):
    """Initial replication that stalls at ``atPercent`` or slows by ``factor`` from there on."""

    kind: Literal["replication"] = "replication"
    machine: str = "*"
    mode: Literal["stall", "slow"] = "stall"
    at_percent: int = Field(50, alias="atPercent", ge=0, le=99)
    factor: float = Field(0.1, gt=0, le=1)


class SeedingFailureFault(_Spec):
    """A VMwareCbt migration item's initial seeding that fails at ``atPercent`` (``InitialSeedingFailed``).

    Bound to the items it matches when they start seeding (or when added, if they are seeding); a failure that has
    happened stays: removing the fault only spares items that have not reached ``atPercent`` yet.
    """

    kind: Literal["seedingFailure"] = "seedingFailure"
    machine: str = Field("*", description="migration item name or discovered machine display name (glob)")
    at_percent: int = Field(50, alias="atPercent", ge=0, le=99)
    error_code: str = Field("InitialSeedingFailed", alias="errorCode")
    message: str = "Initial replication of the virtual machine failed."
    possible_causes: str = Field("The appliance lost the connection to the vCenter Server.", alias="possibleCauses")
    recommended_action: str = Field(
        "Resolve the issue and resynchronize the virtual machine.", alias="recommendedAction"
    )


class ResyncRequiredFault(_Spec):
    """A change on the source (a VMware snapshot reverted, CBT reset) that makes a replicating VMwareCbt item need a
    resynchronization: ``resyncRequired: "true"`` and a health warning until a resync runs (or the fault goes)."""

    kind: Literal["resyncRequired"] = "resyncRequired"
    machine: str = Field("*", description="migration item name or discovered machine display name (glob)")
    error_code: str = Field("ResyncRequired", alias="errorCode")
    message: str = "Replication of the virtual machine needs a resynchronization: changed block tracking was reset."


class LatencyFault(_Spec):
    """Extra wall-clock delay before the answer (seeded jitter)."""

    kind: Literal["latency"] = "latency"
    operation: str = "*"
    ms: int = Field(100, ge=0, le=60_000)
    jitter_ms: int = Field(0, alias="jitterMs", ge=0)


class VmBootFault(_Spec):
    """An Azure VM (``Microsoft.Compute``) that a failover or migration created but that does not come up.

    ``neverBoots``: the power state stays ``PowerState/starting`` and the VM agent reports ``Not Ready``;
    ``agentSilent``: the VM runs but its agent never reports (no ``vmAgent`` statuses beyond ``Not Ready``). Read
    live: removing the fault lets the VM finish booting. A run command never starts on such a VM.
    """

    kind: Literal["vmBoot"] = "vmBoot"
    vm: str = Field("*", description="virtual machine name (glob)")
    mode: Literal["neverBoots", "agentSilent"] = "neverBoots"


class VmNetworkFault(_Spec):
    """A VM attached to another network than the one asked for (a test failover into the production network): its
    network interface's subnet is in ``networkId`` (read live)."""

    kind: Literal["vmNetwork"] = "vmNetwork"
    vm: str = Field("*", description="virtual machine name (glob)")
    network_id: str = Field(alias="networkId", description="ARM id of the virtual network the NIC is in instead")


class RunCommandFault(_Spec):
    """A managed run command whose script fails (``exitCode``, ``stderr``) or hangs (stays ``Running``; with
    ``timeoutInSeconds`` it ends ``TimedOut``). Bound to a run command when it is put."""

    kind: Literal["runCommand"] = "runCommand"
    vm: str = Field("*", description="virtual machine name (glob)")
    name: str = Field("*", description="run command name (glob)")
    mode: Literal["fail", "hang"] = "fail"
    exit_code: int = Field(1, alias="exitCode")
    stderr: str = "The script failed."
    times: int = Field(1, ge=1, description="how many run commands it spoils before it is used up")


class SkuRestrictionFault(_Spec):
    """A size the subscription may not deploy in a region (``Location``) or in some zones (``Zone``), added to what
    the topology's ``compute:`` says (read live)."""

    kind: Literal["skuRestriction"] = "skuRestriction"
    location: str = "*"
    sku: str = Field("*", description="size name (glob), e.g. Standard_D4s_v5")
    type: Literal["Location", "Zone"] = "Location"
    zones: list[str] = Field(default_factory=lambda: ["1"])
    reason_code: Literal["QuotaId", "NotAvailableForSubscription"] = Field(
        "NotAvailableForSubscription", alias="reasonCode"
    )


class QuotaExhaustedFault(_Spec):
    """A regional vCPU quota used up: the usage's ``currentValue`` equals its ``limit`` (read live)."""

    kind: Literal["quotaExhausted"] = "quotaExhausted"
    location: str = "*"
    name: str = Field("*", description="usage name (glob): cores or a family, e.g. standardDSv5Family")


AnyFault = (
    ThrottleFault
    | TransientFault
    | JobFailureFault
    | JobStallFault
    | ReplicationFault
    | SeedingFailureFault
    | ResyncRequiredFault
    | LatencyFault
    | VmBootFault
    | VmNetworkFault
    | RunCommandFault
    | SkuRestrictionFault
    | QuotaExhaustedFault
)
FaultSpec = Annotated[AnyFault, Field(discriminator="kind")]
FAULT_ADAPTER: TypeAdapter[FaultSpec] = TypeAdapter(FaultSpec)


@dataclass
class _Active:
    fault_id: int
    spec: AnyFault
    rng: random.Random
    seen: int = 0
    fired: int = 0
    tokens: float = 0.0
    last_refill: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class FrontDoorVerdict:
    """What the request pipeline must do before serving a request."""

    status: int | None = None
    code: str = ""
    message: str = ""
    retry_after: int | None = None
    delay_seconds: float = 0.0


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


class FaultBook:
    """The active faults, thread-safe; answers the request pipeline and the job/replication models."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._next_id = 1
        self._faults: list[_Active] = []

    def add(self, spec: AnyFault) -> int:
        with self._lock:
            fault_id = self._next_id
            self._next_id += 1
            active = _Active(fault_id, spec, random.Random(f"{self._seed}:{fault_id}"))
            if isinstance(spec, ThrottleFault):
                active.tokens = float(spec.burst)
            self._faults.append(active)
            return fault_id

    def remove(self, fault_id: int) -> AnyFault | None:
        """Remove one fault; returns its spec (None if there was no such fault)."""
        with self._lock:
            found = next((f for f in self._faults if f.fault_id == fault_id), None)
            self._faults = [f for f in self._faults if f.fault_id != fault_id]
            return found.spec if found else None

    def clear(self) -> list[AnyFault]:
        with self._lock:
            specs = [f.spec for f in self._faults]
            self._faults.clear()
            return specs

    def describe(self) -> list[dict[str, object]]:
        with self._lock:
            return [
                {"id": f.fault_id, "seen": f.seen, "fired": f.fired, **f.spec.model_dump(by_alias=True)}
                for f in self._faults
            ]

    def front_door(self, operation: str) -> FrontDoorVerdict:
        """Throttling, transient errors and latency for one request (first matching refusal wins)."""
        delay = 0.0
        with self._lock:
            for active in self._faults:
                spec = active.spec
                if isinstance(spec, LatencyFault) and _glob(spec.operation, operation):
                    active.seen += 1
                    active.fired += 1
                    jitter = active.rng.uniform(0, spec.jitter_ms) if spec.jitter_ms else 0.0
                    delay += (spec.ms + jitter) / 1000.0
            for active in self._faults:
                spec = active.spec
                if isinstance(spec, ThrottleFault) and _glob(spec.operation, operation):
                    active.seen += 1
                    if self._throttled(active, spec):
                        active.fired += 1
                        return FrontDoorVerdict(
                            429,
                            "TooManyRequests",
                            "The request is being throttled as the limit has been reached for operation type - "
                            f"{operation}. Please retry after the interval in the Retry-After header.",
                            spec.retry_after_seconds,
                            delay,
                        )
                if isinstance(spec, TransientFault) and _glob(spec.operation, operation):
                    active.seen += 1
                    if active.fired < spec.count and active.rng.random() < spec.probability:
                        active.fired += 1
                        code = {500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable"}.get(
                            spec.status, "GatewayTimeout"
                        )
                        return FrontDoorVerdict(
                            spec.status,
                            code,
                            "The service is temporarily unavailable. Please retry the request later.",
                            spec.retry_after_seconds,
                            delay,
                        )
        return FrontDoorVerdict(delay_seconds=delay)

    @staticmethod
    def _throttled(active: _Active, spec: ThrottleFault) -> bool:
        if spec.mode == "burst":
            return spec.after < active.seen <= spec.after + spec.count
        now = time.monotonic()
        active.tokens = min(float(spec.burst), active.tokens + (now - active.last_refill) * spec.rate_per_second)
        active.last_refill = now
        if active.tokens >= 1.0:
            active.tokens -= 1.0
            return False
        return True

    def job_failure(self, scenario: str, machines: list[tuple[str, str]]) -> tuple[JobFailureFault, str] | None:
        """The failure a new job must suffer, if any: (spec, matched item name). Consumes one use."""
        with self._lock:
            for active in self._faults:
                spec = active.spec
                if not isinstance(spec, JobFailureFault) or spec.scenario.lower() != scenario.lower():
                    continue
                if active.fired >= spec.times:
                    continue
                for name, friendly in machines:
                    if _glob(spec.machine, name) or _glob(spec.machine, friendly):
                        active.seen += 1
                        active.fired += 1
                        return spec, name
        return None

    def job_stall(self, scenario: str, machines: list[tuple[str, str]]) -> JobStallFault | None:
        """The stall a new job must suffer, if any (a stall is never used up: it holds every job it matches)."""
        with self._lock:
            for active in self._faults:
                spec = active.spec
                if not isinstance(spec, JobStallFault) or spec.scenario.lower() != scenario.lower():
                    continue
                if any(_glob(spec.machine, name) or _glob(spec.machine, friendly) for name, friendly in machines):
                    active.seen += 1
                    active.fired += 1
                    return spec
        return None

    def replication(self, name: str, friendly: str) -> ReplicationFault | None:
        with self._lock:
            for active in self._faults:
                spec = active.spec
                if isinstance(spec, ReplicationFault) and (_glob(spec.machine, name) or _glob(spec.machine, friendly)):
                    return spec
        return None

    def seeding_failure(self, name: str, friendly: str) -> SeedingFailureFault | None:
        with self._lock:
            for active in self._faults:
                spec = active.spec
                if isinstance(spec, SeedingFailureFault) and (
                    _glob(spec.machine, name) or _glob(spec.machine, friendly)
                ):
                    return spec
        return None

    def resync_required(self, name: str, friendly: str) -> list[tuple[int, ResyncRequiredFault]]:
        """The resync-required faults (id, spec) in place for an item: it needs a resync for each it has not had."""
        with self._lock:
            return [
                (active.fault_id, active.spec)
                for active in self._faults
                if isinstance(active.spec, ResyncRequiredFault)
                and (_glob(active.spec.machine, name) or _glob(active.spec.machine, friendly))
            ]

    # -- Microsoft.Compute -------------------------------------------------------------------------------
    def vm_boot(self, vm_name: str) -> VmBootFault | None:
        with self._lock:
            for active in self._faults:
                if isinstance(active.spec, VmBootFault) and _glob(active.spec.vm, vm_name):
                    return active.spec
        return None

    def vm_network(self, vm_name: str) -> VmNetworkFault | None:
        with self._lock:
            for active in self._faults:
                if isinstance(active.spec, VmNetworkFault) and _glob(active.spec.vm, vm_name):
                    return active.spec
        return None

    def run_command(self, vm_name: str, name: str) -> RunCommandFault | None:
        """The fault a new run command meets, if any. Consumes one use."""
        with self._lock:
            for active in self._faults:
                spec = active.spec
                if not isinstance(spec, RunCommandFault) or active.fired >= spec.times:
                    continue
                if _glob(spec.vm, vm_name) and _glob(spec.name, name):
                    active.seen += 1
                    active.fired += 1
                    return spec
        return None

    def sku_restrictions(self, location: str, sku: str) -> list[SkuRestrictionFault]:
        with self._lock:
            return [
                active.spec
                for active in self._faults
                if isinstance(active.spec, SkuRestrictionFault)
                and _glob(active.spec.location, location)
                and _glob(active.spec.sku, sku)
            ]

    def quota_exhausted(self, location: str, name: str) -> bool:
        with self._lock:
            return any(
                isinstance(active.spec, QuotaExhaustedFault)
                and _glob(active.spec.location, location)
                and _glob(active.spec.name, name)
                for active in self._faults
            )
