"""Does the plan's target fit? Sizes, vCPU quotas and VM names in the target regions, judged for the whole plan.

A plan whose size the region does not offer, whose vCPUs exceed the subscription's quota or whose VM name is
taken fails at its first failover, hours or days into the wave, after every machine has replicated. These checks
find that before anything starts. They need the whole plan, since a quota is shared by every machine of a region,
so they run once per plan: in the command line's ``validate`` and in the wave's first step (the
``check_target_fit`` activity), both through :func:`migration.preflight.check_target_fit`, which reads Azure and
hands this module what it read. This module only judges, so both judge alike and the rules are tested without a
host.

The rules, and where each fact comes from:

* **Size offered.** The size must be in the region's list of the subscription's sizes (Compute Resource SKUs,
  ``resourceType`` virtualMachines, ``$filter=location eq '{region}'``), without a ``Location`` restriction for the
  region; with an availability zone, the size's ``locationInfo[].zones`` must hold the zone and no ``Zone``
  restriction may name it (``restrictionInfo.zones``). The restriction's ``reasonCode`` says why:
  ``NotAvailableForSubscription`` or ``QuotaId`` (the Skus spec's ``ResourceSkuRestrictions``; Microsoft Learn,
  "Resolve errors for SKU not available", shows the same fields from ``az vm list-skus``).
* **vCPU quota.** Compute enforces two tiers per subscription and region: the total regional vCPUs (the usage
  ``cores``) and the vCPUs of each VM size family (the usage named by the size's ``family``, e.g.
  ``standardDSv5Family``); a VM is refused when either would exceed its ``limit`` (Microsoft Learn, "Check vCPU
  quotas"). So the vCPUs (capability ``vCPUs``) of every machine's size are summed per family and in total, per
  subscription and region, and must fit in ``limit - currentValue`` of ``locations/{region}/usages``. The sum is
  the wave's peak: every migrated VM runs once its group cut over, and a test VM exists only before the cutover.
* **Name free.** A VM of the target name in the target resource group makes the failover collide with it, unless
  Site Recovery already has the machine's item (protected, failed over): then the VM may be the migration's own,
  it already counts in ``currentValue``, and nothing more is deployed for it.
* **No size given.** Site Recovery picks it. For an Azure VM (A2A) the enable input has no size at all
  (``A2AEnableProtectionInput``; a size is set only by updating the item, ``recoveryAzureVMSize``), so the target
  takes the source VM's size (inferred: nothing else could give one), which is checked and counted. For the other
  providers the size is not known before the failover: a warning, not a refusal.

What could not be read (a region, a list, a VM) is a warning naming why: the check was not made, which is not a
reason to refuse a plan that Site Recovery may well run.

A finding names every machine it concerns and the plan path of each (``groups[0].machines[2].target.vmSize``).
The wave fails each machine a problem concerns at ``validate`` with ``TargetDoesNotFit`` and the finding's figures,
and starts no machine of the plan (:func:`refusals`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass as plain_dataclass
from dataclasses import field
from typing import Any, Literal

from migration.errors import error_record
from migration.json_types import Json
from migration.payloads.runbook import failed_record
from migration.payloads.target_fit import Finding, TargetFit
from migration.stages import Stage
from migration.status_bounds import names_text

__all__ = [
    "DOES_NOT_FIT",
    "NOT_STARTED",
    "Existing",
    "MachineTarget",
    "Quota",
    "RegionOffer",
    "VmSize",
    "judge",
    "location_name",
    "refusals",
    "region_offer",
]

DOES_NOT_FIT = "TargetDoesNotFit"
NOT_STARTED = "WaveTargetDoesNotFit"
# The usage of the total regional vCPUs (Compute ``Usage_List``: name.value ``cores``, "Total Regional vCPUs").
REGIONAL_CORES = "cores"
_VALIDATE = Stage.VALIDATE.value
# Why Compute lists a size as restricted (ResourceSkuRestrictionsReasonCode), in words.
_REASONS = {
    "notavailableforsubscription": "not available to the subscription",
    "quotaid": "not allowed for the subscription's offer",
}


def location_name(text: str) -> str:
    """A region as ARM names it: ``westeurope`` for ``West Europe`` (a fabric may carry the display form)."""
    return "".join(text.split()).lower()


# -- what was read ---------------------------------------------------------------------------------------------


@plain_dataclass(frozen=True)
class VmSize:
    """One size of a region's list, as far as the checks need it."""

    name: str
    family: str | None
    vcpus: int | None
    zones: frozenset[str]  # the zones the region offers it in
    restriction: str | None = None  # the reasonCode of a Location restriction for the region
    restricted_zones: Mapping[str, str] = field(default_factory=dict)  # zone → reasonCode of a Zone restriction


@plain_dataclass(frozen=True)
class Quota:
    """One usage of ``locations/{region}/usages``: a family's vCPUs or the regional total."""

    name: str
    current: int
    limit: int

    @property
    def free(self) -> int:
        return max(0, self.limit - self.current)


@plain_dataclass(frozen=True)
class RegionOffer:
    """What one subscription may deploy in one region: its sizes (by lower-case name) and quotas (likewise), or why
    they could not be read."""

    subscription_id: str
    location: str
    sizes: Mapping[str, VmSize] = field(default_factory=dict)
    quotas: Mapping[str, Quota] = field(default_factory=dict)
    unread: str | None = None


# Whether a VM has the target VM's name: none, one that may be the migration's own, or another.
Existing = Literal["none", "ours", "other"]


@plain_dataclass(frozen=True)
class MachineTarget:
    """One machine's target as read: where it lands, its size, and whether its VM name is taken.

    ``location`` None: the region is unknown, ``location_unknown`` says why. ``size`` None: no size is known;
    ``size_unknown`` then says why an Azure VM's source size could not be read (None: Site Recovery picks one).
    ``existing`` is ``none`` (no VM of the name), ``ours`` (one, and Site Recovery holds the machine's item),
    ``other`` (one that is not the migration's), or None when it could not be read (``existing_unknown``).
    """

    name: str
    path: str  # groups[g].machines[m]
    subscription_id: str
    resource_group: str
    vm_name: str
    location: str | None
    zone: str | None
    size: str | None
    size_from: Literal["plan", "source"] = "plan"
    location_unknown: str | None = None
    size_unknown: str | None = None
    existing: Existing | None = "none"
    existing_unknown: str | None = None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _count(value: object) -> int | None:
    """A count from a capability value (a string) or a usage figure; None unless it is a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _entries(value: object) -> list[Mapping[str, Any]]:
    return [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, list) else []


def _strings(value: object) -> list[str]:
    return [entry for entry in value if isinstance(entry, str)] if isinstance(value, list) else []


def _size(sku: Mapping[str, Any], location: str) -> VmSize | None:
    """A size from one entry of the SKU list (the REST shape); None for an entry that is not a VM size."""
    name = _text(sku.get("name"))
    if name is None or (_text(sku.get("resourceType")) or "").lower() != "virtualmachines":
        return None
    capabilities = {_text(c.get("name")): c.get("value") for c in _entries(sku.get("capabilities"))}
    zones = {
        zone
        for info in _entries(sku.get("locationInfo"))
        if location_name(_text(info.get("location")) or "") == location
        for zone in _strings(info.get("zones"))
    }
    restriction = None
    restricted_zones: dict[str, str] = {}
    for entry in _entries(sku.get("restrictions")):
        if location not in {location_name(value) for value in _strings(entry.get("values"))}:
            continue
        reason = _text(entry.get("reasonCode")) or "unknown reason"
        kind = (_text(entry.get("type")) or "").lower()
        if kind == "location":
            restriction = reason
        elif kind == "zone":
            info = entry.get("restrictionInfo")
            for zone in _strings(info.get("zones") if isinstance(info, Mapping) else None):
                restricted_zones[zone] = reason
    return VmSize(
        name,
        _text(sku.get("family")),
        _count(capabilities.get("vCPUs")),
        frozenset(zones),
        restriction,
        restricted_zones,
    )


def _quota(usage: Mapping[str, Any]) -> Quota | None:
    name = usage.get("name")
    value = _text(name.get("value")) if isinstance(name, Mapping) else None
    current, limit = _count(usage.get("currentValue")), _count(usage.get("limit"))
    if value is None or current is None or limit is None:
        return None
    return Quota(value, current, limit)


def region_offer(subscription_id: str, location: str, skus: Iterable[object], usages: Iterable[object]) -> RegionOffer:
    """The offer of a region from its SKU list and usages as the REST API spells them (camelCase); entries that are
    not what they should be are left out."""
    where = location_name(location)
    sizes: dict[str, VmSize] = {}
    for sku in _entries(list(skus)):
        size = _size(sku, where)
        if size is not None:
            sizes.setdefault(size.name.lower(), size)
    quotas = {quota.name.lower(): quota for quota in map(_quota, _entries(list(usages))) if quota is not None}
    return RegionOffer(subscription_id, where, sizes, quotas)


# -- what is found ---------------------------------------------------------------------------------------------


class _Findings:
    """Findings of one kind, merged by code and message so a region-wide one is listed once with all its paths."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], tuple[list[str], list[str]]] = {}

    def add(self, code: str, message: str, machine: str, path: str) -> None:
        machines, paths = self._found.setdefault((code, message), ([], []))
        machines.append(machine)
        paths.append(path)

    def all(self) -> tuple[Finding, ...]:
        return tuple(
            Finding(code, message, tuple(machines), tuple(paths))
            for (code, message), (machines, paths) in self._found.items()
        )


@plain_dataclass
class _Demand:
    """The vCPUs a plan needs of one usage in one region, and who needs them."""

    vcpus: int = 0
    machines: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@plain_dataclass
class _Judgement:
    """What is found so far, by kind, and the vCPUs the plan needs per (subscription, region) and usage."""

    problems: _Findings = field(default_factory=_Findings)
    warnings: _Findings = field(default_factory=_Findings)
    notes: _Findings = field(default_factory=_Findings)
    demand: dict[tuple[str, str], dict[str, _Demand]] = field(default_factory=dict)

    def need(self, target: MachineTarget, location: str, size: VmSize, vcpus: int) -> None:
        usages = self.demand.setdefault((target.subscription_id, location), {})
        for usage in (size.family, REGIONAL_CORES) if size.family else (REGIONAL_CORES,):
            need = usages.setdefault(usage, _Demand())
            need.vcpus += vcpus
            need.machines.append(target.name)
            need.paths.append(f"{target.path}.target.vmSize")

    def verdict(self) -> TargetFit:
        return TargetFit(self.problems.all(), self.warnings.all(), self.notes.all())


def _size_problem(target: MachineTarget, offer: RegionOffer, size: VmSize | None) -> tuple[str, str] | None:
    """Why the machine's size cannot be deployed where it goes, if it cannot (code, message)."""
    asked, where, sub = target.size or "", offer.location, offer.subscription_id
    if size is None:
        return "SizeNotOffered", f"{asked} is not offered in {where}: subscription {sub}'s size list there lacks it"
    if size.restriction is not None:
        reason = _REASONS.get(size.restriction.lower(), "restricted")
        return "SizeRestricted", f"{size.name} is {reason} in {where} (subscription {sub}; {size.restriction})"
    zone = target.zone
    if zone is not None and zone in size.restricted_zones:
        code = size.restricted_zones[zone]
        reason = _REASONS.get(code.lower(), "restricted")
        return "ZoneRestricted", f"{size.name} is {reason} in zone {zone} of {where} (subscription {sub}; {code})"
    if zone is not None and zone not in size.zones:
        offered = f"zones {', '.join(sorted(size.zones))}" if size.zones else "no zone"
        return "ZoneNotOffered", f"{size.name} is not offered in zone {zone} of {where} (it is offered in {offered})"
    return None


def _judge_name(target: MachineTarget, found: _Judgement) -> None:
    path = f"{target.path}.target.vmName"
    if target.existing == "other":
        message = (
            f"a VM named {target.vm_name} already exists in resource group {target.resource_group} and Site "
            "Recovery holds no item of this machine that could have made it: the failover would collide with it"
        )
        found.problems.add("VmNameTaken", message, target.name, path)
    elif target.existing is None:
        message = f"whether the VM name {target.vm_name} is free was not checked: {target.existing_unknown}"
        found.warnings.add("VmNameNotChecked", message, target.name, path)


def _judge_size(target: MachineTarget, offers: Mapping[tuple[str, str], RegionOffer], found: _Judgement) -> None:
    """The size in its region and zone; what it needs of the quotas is added to ``found.demand``."""
    path = f"{target.path}.target.vmSize"
    if target.existing == "ours":
        return  # the VM is there already: nothing is deployed for it, and its vCPUs are in use already
    if target.size is None:
        if target.size_unknown is not None:
            message = (
                "no size given, and the source VM's size, which an Azure VM's target takes, could not be read "
                f"({target.size_unknown}): its size and vCPUs are not checked"
            )
            found.warnings.add("SourceSizeUnknown", message, target.name, path)
        else:
            message = (
                "no size given: Site Recovery picks the target VM's size, unknown before the failover, so it is not "
                "checked and its vCPUs are not counted against the quota"
            )
            found.warnings.add("SizeChosenByAsr", message, target.name, path)
        return
    if target.size_from == "source":
        message = f"no size given: an Azure VM's target takes its source VM's size, {target.size}; checked as such"
        found.notes.add("SizeOfSource", message, target.name, path)
    location, subscription = target.location, target.subscription_id
    if location is None:
        message = f"the target region is not known ({target.location_unknown}): the size and quota are not checked"
        found.warnings.add("RegionUnknown", message, target.name, path)
        return
    offer = offers.get((subscription, location))
    if offer is None or offer.unread is not None:
        why = offer.unread if offer is not None else "not read"
        message = f"the sizes and quotas of subscription {subscription} in {location} could not be read ({why})"
        found.warnings.add("RegionNotRead", f"{message}: not checked", target.name, path)
        return
    if not offer.sizes:
        message = f"{location} lists no VM sizes for subscription {subscription}: the size and quota are not checked"
        found.warnings.add("NoSizesListed", message, target.name, path)
        return
    size = offer.sizes.get(target.size.lower())
    refusal = _size_problem(target, offer, size)
    if refusal is not None:
        found.problems.add(*refusal, target.name, path)
    if size is None:
        return
    if size.vcpus is None:
        message = f"{location} does not say how many vCPUs {size.name} has: its quota is not checked"
        found.warnings.add("VcpusUnknown", message, target.name, path)
        return
    found.need(target, location, size, size.vcpus)  # a restricted size counts too: placed where it may go, it runs


def _judge_quotas(offers: Mapping[tuple[str, str], RegionOffer], found: _Judgement) -> None:
    for (subscription, location), usages in found.demand.items():
        offer = offers[(subscription, location)]
        for usage, need in usages.items():
            quota = offer.quotas.get(usage.lower())
            if quota is None:
                code = "QuotaNotListed"
                message = (
                    f"{location} lists no quota {usage} for subscription {subscription}: "
                    f"the {need.vcpus} vCPUs the plan needs of it are not checked"
                )
                kind = found.warnings
            elif need.vcpus > quota.free:
                code = "QuotaExceeded"
                message = (
                    f"{quota.name} in {location}: the plan needs {need.vcpus} vCPUs, {quota.current} of "
                    f"{quota.limit} are in use, {quota.free} are free (subscription {subscription})"
                )
                kind = found.problems
            else:
                continue
            for machine, path in zip(need.machines, need.paths, strict=True):
                kind.add(code, message, machine, path)


def judge(targets: Sequence[MachineTarget], offers: Mapping[tuple[str, str], RegionOffer]) -> TargetFit:
    """The verdict on ``targets`` (the plan's machines, in plan order) given each (subscription, region)'s offer."""
    found = _Judgement()
    for target in targets:
        _judge_name(target, found)
        _judge_size(target, offers, found)
    _judge_quotas(offers, found)
    return found.verdict()


# -- what the wave does with it --------------------------------------------------------------------------------


def _refused(machine: str, error: Json) -> Json:
    return {**failed_record(machine, error), "stage": _VALIDATE}


def refusals(answer: Json, machines: Sequence[str]) -> dict[str, Json]:
    """The record each machine of the wave fails with, given ``check_target_fit``'s answer; empty when the target
    fits.

    A machine a problem names fails with ``TargetDoesNotFit`` and every problem's figures; the others fail with
    ``WaveTargetDoesNotFit`` naming those machines, so no machine of the plan starts (a retry runs a machine from
    its validate stage). An answer that is an error (the check could not be made: a permanent refusal, or
    transient failures that outlasted the retries) fails every machine with it, as the validate stage does.
    """
    if "error" in answer:
        error = {**answer["error"], "stage": _VALIDATE}
        return {machine: _refused(machine, error) for machine in machines}
    fit = TargetFit.from_dict(answer)
    why: dict[str, list[str]] = {}
    for problem in fit.problems:
        for machine, path in zip(problem.machines, problem.paths, strict=True):
            why.setdefault(machine, []).append(f"{path}: {problem.message}")
    if not why:
        return {}
    concerned = [machine for machine in machines if machine in why]
    others = (
        f"not started: the target of {names_text(concerned)} does not fit, and no machine of the plan starts "
        "until it does"
    )
    return {
        machine: _refused(
            machine,
            error_record(_VALIDATE, DOES_NOT_FIT, "; ".join(why[machine]))
            if machine in why
            else error_record(_VALIDATE, NOT_STARTED, others),
        )
        for machine in machines
    }
