"""Read-only pre-flight: does Site Recovery know everything each machine's plan names, and does the target fit?

A plan can be well-formed and still name a fabric, container, machine, policy or mapping the vault does not have;
finding that out at enable time would waste the wave's first hours. The validate stage of every runbook (the
``check_machine`` activity) and the command line's ``validate`` ask the same questions through this one
function, so a plan the command line passes is a plan the app accepts. Every problem is listed with the plan path
it concerns, and nothing is changed. An item that is already protected is reported, not refused: the runbook
adopts it where it stands.

:func:`check_target_fit` reads what :mod:`migration.target_fit` judges for the whole plan at once (sizes and vCPU
quotas are shared by every machine of a region): the wave's first step (the ``check_target_fit`` activity) and the
command line's ``validate`` call it alike. Its reads, each made once however many machines share it:

* the target region, per source of it: an Azure VM (A2A) lands in its recovery fabric's region
  (``AzureFabricSpecificDetails.location``), an agentless VMware machine (VMwareCbt) in its container mapping's
  ``targetLocation`` (``VMwareCbtProtectionContainerMappingDetails``), and the others in the vault's region
  (Microsoft Learn, the VMware, physical and Hyper-V to Azure tutorials: the vault is created in the region the
  machines fail over to; the vault resource's ``location``, Recovery Services ``Vaults_Get``). The Site Recovery
  emulator places items the same way (``emulators/siterecovery/providers.py``, ``target_location``). It is read
  only for machines whose size is known;
* per target subscription and region: the SKU list and the usages (``migration.compute``), two requests;
* per machine: its target VM (one GET; the machine's item too, only when a VM of that name exists) and, for an
  Azure VM without a size, its source VM (one GET).

What cannot be read (a permanent refusal: not found, forbidden, a resource type the endpoint does not serve) becomes
a warning of the check not made; transient failures are raised, for the caller's retries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest

from migration.arm_ids import VaultRef
from migration.asr import SiteRecovery
from migration.asr_errors import asr_error_from_exception
from migration.compute import Compute, VmAddress
from migration.errors import AsrError, AsrPermanentError, classify_asr_failure
from migration.machine import Machine
from migration.payloads.target_fit import TargetFit
from migration.plan import Plan
from migration.scenarios import scenario_for
from migration.source_kinds import Provider
from migration.stages import Stage
from migration.status_bounds import clipped
from migration.target_fit import (
    Existing,
    MachineTarget,
    RegionOffer,
    judge,
    location_name,
    region_offer,
)
from migration.target_scopes import target_refusal
from migration.vmware_discovery import choose_disks, read_vmware_source

__all__ = ["VAULT_API_VERSION", "check_machine", "check_target_fit"]

# Microsoft.RecoveryServices vaults' stable api-version for the vault's own GET (Vaults_Get; the Site Recovery SDK
# has no operation for the vault resource itself).
VAULT_API_VERSION = "2024-04-01"
# How much of a refusal's message a warning quotes.
_WHY_SHOWN = 200


def _last_segment(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


def check_machine(asr: SiteRecovery, machine: Machine) -> dict[str, Any]:
    """``{"ok": bool, "problems": [{"path", "message"}], "protected": bool}`` for ``machine``; reads only."""
    vault, coordinates = machine.vault, machine.asr
    problems: list[dict[str, str]] = []

    def missing(path: str, what: str) -> None:
        problems.append({"path": path, "message": f"{what} does not exist in vault {vault.name}"})

    if not asr.settings.allows_target(machine.target.resource_group_id):
        problems.append({"path": "target.resourceGroupId", "message": target_refusal(machine.target.resource_group_id)})

    try:
        protected = asr.get_protected_item(scenario_for(machine).protected_item(machine), stage="validate")
        if asr.get_fabric(vault, coordinates.fabric, stage="validate") is None:
            missing("asr.fabric", f"fabric {coordinates.fabric!r}")
        elif asr.get_container(vault, coordinates.fabric, coordinates.protection_container, stage="validate") is None:
            missing("asr.protectionContainer", f"protection container {coordinates.protection_container!r}")
        elif protected is None and machine.provider is not Provider.A2A and coordinates.protectable_item:
            found = asr.get_protectable_item(
                vault, coordinates.fabric, coordinates.protection_container, coordinates.protectable_item
            )
            if found is None:
                missing("asr.protectableItem", f"protectable item {coordinates.protectable_item!r}")
        if asr.get_policy(vault, _last_segment(machine.replication.policy), stage="validate") is None:
            missing("replication.policy", f"replication policy {machine.replication.policy!r}")
        mapping = machine.replication.container_mapping
        if mapping and coordinates.protection_container:
            found_mapping = asr.get_container_mapping(
                vault, coordinates.fabric, coordinates.protection_container, mapping, stage="validate"
            )
            if found_mapping is None:
                missing("replication.containerMapping", f"protection container mapping {mapping!r}")
        if protected is None and machine.provider is Provider.VMWARE_CBT:
            problems.extend(_agentless_problems(asr, machine))
    except AsrPermanentError as error:
        return {"ok": False, "problems": [{"path": "asr.vault", "message": error.message}], "protected": False}
    return {"ok": not problems, "problems": problems, "protected": protected is not None}


def _agentless_problems(asr: SiteRecovery, machine: Machine) -> list[dict[str, str]]:
    """An agentless machine's enable reads discovery: the machine must be discovered, the plan's disks must be its
    disks, and the run-as account and log storage account must be found (in the plan or through discovery)."""
    source = read_vmware_source(asr, machine, stage="validate")
    if source is None:
        where = machine.asr.discovered_machine_id
        return [{"path": "asr.discoveredMachineId", "message": f"Azure Migrate has not discovered {where}"}]
    problems = [{"path": path, "message": message} for path, message in choose_disks(machine, source)[1]]
    replication = machine.replication
    if replication.run_as_account_id is None and source.run_as_account_id is None:
        message = "no run-as account: the plan names none and discovery gives the machine no vCenter with one"
        problems.append({"path": "replication.runAsAccountId", "message": message})
    if replication.log_storage_account_id is None and source.log_storage_account_id is None:
        message = "no log storage account: the plan names none and the container mapping has none"
        problems.append({"path": "replication.logStorageAccountId", "message": message})
    return problems


# -- does the target fit? -----------------------------------------------------------------------------------------


def _why(error: AsrError) -> str:
    return f"{clipped(error.message, _WHY_SHOWN)} ({error.code})"


def _at(body: Mapping[str, Any] | None, *keys: str) -> str | None:
    """The text at ``keys`` in a resource's JSON, or None."""
    value: Any = body
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) and value.strip() else None


def _vault_location(asr: SiteRecovery, vault: VaultRef, stage: str) -> str | None:
    """The vault resource's region (``Vaults_Get``), through the vault's Site Recovery client and credential."""
    asr.check_vault(vault, stage)
    request = HttpRequest("GET", f"{asr.settings.arm_endpoint}{vault.id}", params={"api-version": VAULT_API_VERSION})
    try:
        response = asr.client(vault.subscription_id).send_request(request, **asr.call_options())
    except AzureError as error:
        raise asr_error_from_exception(error, stage=stage) from None
    try:
        body = response.json()
    except ValueError:  # not JSON: judged by its status alone
        body = None
    if response.status_code >= 400:
        code, said = _at(body, "error", "code"), _at(body, "error", "message")
        headers = {str(key): str(value) for key, value in response.headers.items()}
        raise classify_asr_failure(response.status_code, code, said, headers, stage=stage)
    return _at(body, "location")


class _Regions:
    """Each machine's target region, read once per source (a recovery fabric, a container mapping, a vault)."""

    def __init__(self, asr: SiteRecovery, stage: str) -> None:
        self._asr = asr
        self._stage = stage
        self._known: dict[tuple[str, ...], tuple[str | None, str | None]] = {}

    def of(self, machine: Machine) -> tuple[str | None, str | None]:
        """``(region, None)``, or ``(None, why it is not known)``."""
        key, what, read = self._source(machine)
        if key not in self._known:
            try:
                found = read()
            except AsrPermanentError as error:
                self._known[key] = (None, f"{what} could not be read: {_why(error)}")
            else:
                self._known[key] = (location_name(found), None) if found else (None, f"{what} names no region")
        return self._known[key]

    def _source(self, machine: Machine) -> tuple[tuple[str, ...], str, Callable[[], str | None]]:
        asr, vault, stage, at = self._asr, machine.vault, self._stage, machine.asr
        if machine.provider is Provider.A2A and at.recovery_fabric:
            fabric: str = at.recovery_fabric

            def recovery_fabric() -> str | None:
                body = asr.get_fabric(vault, fabric, stage=stage)
                if body is None:
                    raise AsrPermanentError(f"it does not exist in vault {vault.name}", code="NotFound", stage=stage)
                return _at(body, "properties", "customDetails", "location")

            return ("fabric", vault.id.lower(), fabric.lower()), f"the recovery fabric {fabric!r}", recovery_fabric
        if machine.provider is Provider.VMWARE_CBT and machine.replication.container_mapping:
            mapping: str = machine.replication.container_mapping
            container = at.protection_container

            def container_mapping() -> str | None:
                body = asr.get_container_mapping(vault, at.fabric, container, mapping, stage=stage)
                if body is None:
                    raise AsrPermanentError(f"it does not exist in vault {vault.name}", code="NotFound", stage=stage)
                return _at(body, "properties", "providerSpecificDetails", "targetLocation")

            key = ("mapping", vault.id.lower(), at.fabric.lower(), container.lower(), mapping.lower())
            return key, f"the container mapping {mapping!r}", container_mapping
        return ("vault", vault.id.lower()), f"vault {vault.name}", lambda: _vault_location(asr, vault, stage)


def _existing_vm(
    asr: SiteRecovery, compute: Compute, machine: Machine, vm: VmAddress, stage: str
) -> tuple[Existing | None, str | None]:
    """Whether a VM of the target name exists, and whether it may be the migration's own (Site Recovery holds the
    machine's item); the item is read only when the VM exists."""
    try:
        if not compute.vm_exists(vm.id, stage=stage):
            return "none", None
        item = asr.get_protected_item(scenario_for(machine).protected_item(machine), stage=stage)
    except AsrPermanentError as error:
        return None, _why(error)
    return ("ours" if item is not None else "other"), None


def _target(
    asr: SiteRecovery, compute: Compute, regions: _Regions, machine: Machine, path: str, stage: str
) -> MachineTarget:
    """What the judgement needs of one machine, read."""
    vm = VmAddress.parse(machine.target_vm_id)
    existing, existing_unknown = _existing_vm(asr, compute, machine, vm, stage)
    size, size_unknown = machine.target.vm_size, None
    # An Azure VM without a size takes its source VM's (migration.target_fit): read it, unless nothing is deployed.
    source = machine.asr.source_vm_id if size is None and machine.provider is Provider.A2A else None
    if source is not None and existing != "ours":
        try:
            size = compute.read_vm_size(source, stage=stage)
        except AsrPermanentError as error:
            size_unknown = _why(error)
        else:
            size_unknown = None if size else f"no VM {source} exists"
    location: str | None = None
    location_unknown: str | None = None
    if size is not None and existing != "ours":
        location, location_unknown = regions.of(machine)
    return MachineTarget(
        name=machine.name,
        path=path,
        subscription_id=vm.subscription_id,
        resource_group=vm.resource_group,
        vm_name=vm.name,
        location=location,
        zone=machine.target.availability_zone,
        size=size,
        size_from="source" if source is not None else "plan",
        location_unknown=location_unknown,
        size_unknown=size_unknown,
        existing=existing,
        existing_unknown=existing_unknown,
    )


def _offer(compute: Compute, subscription_id: str, location: str, stage: str) -> RegionOffer:
    try:
        skus = [sku.as_dict() for sku in compute.list_skus(subscription_id, location, stage=stage)]
        usages = [usage.as_dict() for usage in compute.list_usages(subscription_id, location, stage=stage)]
    except AsrPermanentError as error:
        return RegionOffer(subscription_id, location, unread=_why(error))
    return region_offer(subscription_id, location, skus, usages)


def check_target_fit(
    asr: SiteRecovery, compute: Compute, plan: Plan, *, stage: str = Stage.VALIDATE.value
) -> TargetFit:
    """The verdict on the whole plan's target (:mod:`migration.target_fit`); reads only, each read once."""
    regions = _Regions(asr, stage)
    targets = [
        _target(asr, compute, regions, machine, f"groups[{g}].machines[{m}]", stage)
        for g, group in enumerate(plan.groups)
        for m, machine in enumerate(group.machines)
    ]
    offers: dict[tuple[str, str], RegionOffer] = {}
    for target in targets:
        key = (target.subscription_id, target.location or "")
        if target.location and target.size and target.existing != "ours" and key not in offers:
            offers[key] = _offer(compute, target.subscription_id, target.location, stage)
    return judge(targets, offers)
