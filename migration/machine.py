"""One machine of a plan: where ASR finds it, how it replicates, what it becomes in Azure.

The shape is the same for every source kind, so a plan reads the same way for a VMware
VM and an Azure VM; which fields are *required* depends on the ASR provider the source
kind maps to (InMageRcm needs a process server and a log storage account, A2A needs the
source VM and the recovery fabric…). Those per-provider rules live in one table,
:data:`REQUIREMENTS`, and are checked together with the field checks so that a plan
with a wrong network id *and* a missing process server reports both at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
)
from pydantic import model_validator as _model_validator
from pydantic.alias_generators import to_snake
from pydantic_core import InitErrorDetails, PydanticCustomError

from migration.arm_ids import (
    POLICY_TYPE,
    STORAGE_ACCOUNT_TYPE,
    VIRTUAL_MACHINE_TYPE,
    VIRTUAL_NETWORK_TYPE,
    VMWARE_RUN_AS_ACCOUNT_TYPE,
    InvalidResourceIdError,
    VaultRef,
    parse_resource_id,
)
from migration.check_options import MachineChecks
from migration.plan_types import (
    MachineName,
    Pattern,
    PlainText,
    PlanModel,
    ResourceGroupName,
    ResourceName,
    ScriptUrl,
    SubscriptionId,
    arm_id,
    check_arm_id,
    resource_group_id,
)
from migration.source_kinds import Provider, ReplicationMethod, SourceKind, method_for, methods_of, provider_for

__all__ = [
    "AsrCoordinates",
    "DiskType",
    "LicenseType",
    "Machine",
    "MachineOptions",
    "PostMigrationStep",
    "ReplicationSettings",
    "TargetSettings",
    "VaultCoordinates",
    "REQUIREMENTS",
    "ONE_OF",
    "ONLY_FOR",
    "rebuild_validation_error",
    "validate_with_problems",
]


class DiskType(StrEnum):
    """Target managed disk types (SDK enum DiskAccountType)."""

    STANDARD_LRS = "Standard_LRS"
    PREMIUM_LRS = "Premium_LRS"
    STANDARD_SSD_LRS = "StandardSSD_LRS"
    PREMIUM_V2_LRS = "PremiumV2_LRS"
    ULTRA_SSD_LRS = "UltraSSD_LRS"
    STANDARD_SSD_ZRS = "StandardSSD_ZRS"
    PREMIUM_ZRS = "Premium_ZRS"


class LicenseType(StrEnum):
    """Windows licensing of the target VM (SDK enum LicenseType; WindowsServer = Azure Hybrid Benefit)."""

    NOT_SPECIFIED = "NotSpecified"
    NO_LICENSE_TYPE = "NoLicenseType"
    WINDOWS_SERVER = "WindowsServer"


def _check_policy(value: str) -> str:
    """A policy is named in the vault (``migration-policy``) or by its full id."""
    if value.startswith("/"):
        check_arm_id(value, POLICY_TYPE)
    elif "/" in value or not value:
        raise PydanticCustomError("policy", "a replication policy name, or the ARM id of a replication policy")
    return value


def _check_discovered_machine_id(value: str) -> str:
    try:
        rid = parse_resource_id(value)
    except InvalidResourceIdError as exc:
        raise PydanticCustomError("arm_id", f"not an ARM resource id of a discovered machine ({exc})") from exc
    if (rid.namespace or "").lower() != "microsoft.offazure" or rid.types[-1].lower() != "machines":
        raise PydanticCustomError(
            "arm_id_type",
            "not the ARM id of a discovered machine (Microsoft.OffAzure/{siteType}/{site}/machines/{machine})",
        )
    return value


def _check_run_as_account(value: str) -> str:
    """InMageRcm names its run-as account by id within the appliance; VMwareCbt by the site's ARM id (checked per
    provider in :func:`_kind_problems`). Either way it becomes a request field, never a URL segment."""
    if not value or value != value.strip() or any(ord(ch) < 32 for ch in value):
        raise PydanticCustomError("run_as_account", "a run-as account id without control characters or edge spaces")
    return value


RunAsAccountId = Annotated[str, StringConstraints(max_length=1024), AfterValidator(_check_run_as_account)]
VirtualNetworkId = Annotated[str, arm_id(VIRTUAL_NETWORK_TYPE)]
StorageAccountId = Annotated[str, arm_id(STORAGE_ACCOUNT_TYPE)]
# Azure VM names: 1-64 characters (Linux; Windows computer names are cut to 15), no leading '_' or trailing '.'/'-'.
AzureVmName = Annotated[
    str,
    Pattern(
        r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_])?$",
        "a VM name: letters, digits, '.', '_' and '-', at most 64 characters, not ending with '.' or '-'",
    ),
]
VmSize = Annotated[str, Pattern(r"^[A-Za-z][A-Za-z0-9_]{1,63}$", "a VM size such as Standard_D2s_v5")]
DiskId = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class VaultCoordinates(PlanModel):
    """The Recovery Services vault that holds the machine's replication."""

    subscription_id: SubscriptionId
    resource_group: ResourceGroupName
    name: ResourceName

    @property
    def ref(self) -> VaultRef:
        return VaultRef(self.subscription_id, self.resource_group, self.name)


class AsrCoordinates(PlanModel):
    """Where ASR finds the machine: vault, fabric, protection container, and the item itself."""

    vault: VaultCoordinates
    fabric: ResourceName = Field(description="Source fabric (A2A: the primary region's fabric).")
    protection_container: ResourceName = Field(description="Source protection container.")
    protectable_item: ResourceName | None = Field(
        default=None, description="InMageRcm, HyperVReplicaAzure: the protectable item's name in the container."
    )
    discovered_machine_id: Annotated[str, AfterValidator(_check_discovered_machine_id)] | None = Field(
        default=None,
        description="InMageRcm: ARM id of the discovered machine (fabricDiscoveryMachineId); resolved if omitted.",
    )
    source_vm_id: Annotated[str, arm_id(VIRTUAL_MACHINE_TYPE)] | None = Field(
        default=None, description="A2A: ARM id of the Azure VM to move."
    )
    recovery_fabric: ResourceName | None = Field(default=None, description="A2A: the target region's fabric.")
    recovery_protection_container: ResourceName | None = Field(
        default=None, description="A2A: the target region's protection container."
    )
    protected_item_name: ResourceName | None = Field(
        default=None, description="Name of the replicated item to create; defaults to the machine name."
    )


class ReplicationSettings(PlanModel):
    """How the machine replicates (the inputs of enable replication)."""

    policy: Annotated[str, AfterValidator(_check_policy)] = Field(
        description="Replication policy name in the vault, or its ARM id."
    )
    container_mapping: ResourceName | None = Field(
        default=None, description="Protection container mapping that pairs the source container with the policy."
    )
    method: ReplicationMethod | None = Field(
        default=None,
        description="vmware: agentless (Azure Migrate, VMwareCbt) or agent (Mobility agent, InMageRcm); physical and "
        "aws: agent. VMware's default: agent when processServerId is set, else agentless.",
    )
    process_server_id: ResourceName | None = Field(default=None, description="InMageRcm: process server id.")
    run_as_account_id: RunAsAccountId | None = Field(
        default=None,
        description="InMageRcm: run-as account id. VMwareCbt: ARM id of the VMware site's run-as account "
        "(Microsoft.OffAzure/VMwareSites/{site}/runasaccounts/{name}); the machine's vCenter's if omitted.",
    )
    log_storage_account_id: StorageAccountId | None = Field(
        default=None,
        description="InMageRcm, HyperVReplicaAzure, VMwareCbt: cache/log storage account ARM id (VMwareCbt: the "
        "container mapping's if omitted).",
    )
    staging_storage_account_id: StorageAccountId | None = Field(
        default=None, description="A2A: cache storage account in the source region."
    )
    disk_type: DiskType | None = Field(default=None, description="Managed disk type of the replica disks.")
    disks_to_include: list[DiskId] = Field(
        default_factory=list,
        description="Disks to replicate (A2A: managed disk ARM ids; VMwareCbt: disk uuids); empty means every disk.",
    )
    os_disk_id: DiskId | None = Field(
        default=None,
        description="VMwareCbt: uuid of the disk the guest boots from; needed when the machine has several disks.",
    )


class TargetSettings(PlanModel):
    """What the machine becomes in Azure."""

    resource_group_id: Annotated[str, resource_group_id]
    network_id: VirtualNetworkId
    subnet: ResourceName
    vm_name: AzureVmName | None = Field(default=None, description="Defaults to the source machine's name.")
    vm_size: VmSize | None = Field(default=None, description="e.g. Standard_D2s_v5; ASR picks one if omitted.")
    test_network_id: VirtualNetworkId | None = Field(
        default=None, description="Isolated network for the test failover."
    )
    test_subnet: ResourceName | None = None
    availability_zone: Literal["1", "2", "3"] | None = None
    license_type: LicenseType | None = None


StepPhase = Literal["test", "migrate"]


def _both_phases() -> list[StepPhase]:
    return ["test", "migrate"]


class PostMigrationStep(PlanModel):
    """A script ASR runs as a managed Run Command on the agentless machine's test VM and/or migrated VM, within
    the test migrate or migrate job (VMwareCbt ``postMigrationSteps``, SDK ``ManagedRunCommandScriptInput``)."""

    name: Annotated[
        str, Pattern(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", "letters, digits, '_' and '-', at most 64 characters")
    ] = Field(description="The step's name (stepName): unique among the machine's steps; results are keyed by it.")
    script_url: ScriptUrl = Field(
        description="https URL of the script (a SAS URL is kept out of every record and event)."
    )
    parameters: Annotated[str, StringConstraints(max_length=4096), PlainText] = Field(
        default="", description="The script's parameters as one string (scriptParameters)."
    )
    # Not ``on``: YAML 1.1 readers (PyYAML among them) take a bare ``on`` key for the boolean true.
    runs_on: list[StepPhase] = Field(
        default_factory=_both_phases,
        min_length=1,
        description="Where it runs: the test VM (test migrate), the migrated VM (migrate), or both.",
    )


class MachineOptions(PlanModel):
    """Per-machine choices."""

    perform_shutdown: StrictBool = Field(
        default=True,
        description="Shut the source down before failover (InMageRcm performShutdown, else sourceSiteOperations).",
    )
    skip_test_failover: StrictBool = Field(default=False, description="Skip the test failover for this machine.")
    dr_after_migration: StrictBool = Field(
        default=True, description="A2A: protect the migrated VM toward the secondary region when the plan asks."
    )


# Per provider, the fields (paths relative to the machine, in the wire spelling) the provider needs.
# InMageRcmEnableProtectionInput requires processServerId and, per disk, logStorageAccountId + diskType (the SDK
# 2.0 models; tests/support/sdk_tables.py); A2AEnableProtectionInput needs the VM (fabricObjectId) and per managed
# disk a primaryStagingAzureStorageAccountId; HyperVReplicaAzure replicates to managed disks through a log account.
REQUIREMENTS: Mapping[Provider, tuple[tuple[str, str], ...]] = {
    Provider.IN_MAGE_RCM: (
        ("replication", "processServerId"),
        ("replication", "logStorageAccountId"),
        ("replication", "diskType"),
    ),
    Provider.HYPER_V_REPLICA_AZURE: (
        ("asr", "protectableItem"),
        ("replication", "logStorageAccountId"),
    ),
    Provider.A2A: (
        ("asr", "sourceVmId"),
        ("asr", "recoveryFabric"),
        ("asr", "recoveryProtectionContainer"),
        ("replication", "stagingStorageAccountId"),
    ),
    # VMwareCbtEnableMigrationInput names the discovered machine (vmwareMachineId); the run-as accounts, the disks
    # and the log storage account are found the way Az.Migrate's New-AzMigrateServerReplication finds them (the
    # machine's vCenter, its discovered disks, the container mapping) unless the plan names them.
    Provider.VMWARE_CBT: (("asr", "discoveredMachineId"),),
}

# Per provider, groups of fields of which at least one is needed. InMageRcm finds the machine either by
# its protectable item (the adapter then looks up the discovered machine) or directly by the discovered
# machine's ARM id, which the modernized appliance may be the only way to get (azure-powershell#28680).
ONE_OF: Mapping[Provider, tuple[tuple[tuple[str, str], ...], ...]] = {
    Provider.IN_MAGE_RCM: ((("asr", "protectableItem"), ("asr", "discoveredMachineId")),),
    Provider.VMWARE_CBT: ((("replication", "logStorageAccountId"), ("replication", "containerMapping")),),
}

# Fields that mean something to some providers only; set for another one, they are a mistake.
ONLY_FOR: Mapping[tuple[str, ...], frozenset[Provider]] = {
    ("postMigrationSteps",): frozenset({Provider.VMWARE_CBT}),
    ("asr", "protectableItem"): frozenset({Provider.IN_MAGE_RCM, Provider.HYPER_V_REPLICA_AZURE}),
    ("asr", "discoveredMachineId"): frozenset({Provider.IN_MAGE_RCM, Provider.VMWARE_CBT}),
    ("asr", "sourceVmId"): frozenset({Provider.A2A}),
    ("asr", "recoveryFabric"): frozenset({Provider.A2A}),
    ("asr", "recoveryProtectionContainer"): frozenset({Provider.A2A}),
    ("replication", "processServerId"): frozenset({Provider.IN_MAGE_RCM}),
    ("replication", "runAsAccountId"): frozenset({Provider.IN_MAGE_RCM, Provider.VMWARE_CBT}),
    ("replication", "logStorageAccountId"): frozenset(
        {Provider.IN_MAGE_RCM, Provider.HYPER_V_REPLICA_AZURE, Provider.VMWARE_CBT}
    ),
    ("replication", "stagingStorageAccountId"): frozenset({Provider.A2A}),
    ("replication", "osDiskId"): frozenset({Provider.VMWARE_CBT}),
}

# The fields only the agent-based VMware path has: a VMware machine naming one of them, and no method, is agent-based.
AGENT_ONLY: tuple[tuple[str, str], ...] = (("replication", "processServerId"), ("asr", "protectableItem"))

_MISSING = object()
# Post-migration steps per machine: AWS Application Migration Service allows ten post-launch actions; each step adds
# a task to ASR's job and an entry to the machine's record, so the bound keeps records small by construction.
MAX_POST_MIGRATION_STEPS = 10
# Azure Migrate's target VM name rule for agentless VMware (Az.Migrate New-AzMigrateServerReplication validates
# TargetVMName with this pattern): no '.' or '_', which other providers accept.
_AGENTLESS_VM_NAME = re.compile(r"^[^_\W][a-zA-Z0-9\-]{0,63}(?<![-._])$")


def _raw_get(data: object, *path: str) -> object:
    """Follow ``path`` through raw input (camelCase or snake_case keys); _MISSING when absent."""
    current = data
    for key in path:
        if not isinstance(current, Mapping):
            return _MISSING
        if key in current:
            current = current[key]
        elif to_snake(key) in current:
            current = current[to_snake(key)]
        else:
            return _MISSING
    return current


def raw_provider(data: object) -> Provider | None:
    """The provider raw plan input names (source kind, method, process server); None when it names none we know."""
    kind = _raw_get(data, "sourceKind")
    method = _raw_get(data, "replication", "method")
    agent_fields = [_raw_get(data, *path) for path in AGENT_ONLY]
    try:
        return provider_for(
            kind if isinstance(kind, str) else "",
            method if isinstance(method, str) else None,
            names_agent_fields=any(value not in (_MISSING, None) for value in agent_fields),
        )
    except ValueError:
        return None


def describe_provider(kind: object, provider: Provider) -> str:
    """How messages name a machine's path: ``sourceKind vmware (InMageRcm)``, ``sourceKind vmware, replication
    agentless (VMwareCbt)``."""
    method = ", replication agentless" if provider is Provider.VMWARE_CBT else ""
    return f"sourceKind {kind}{method} ({provider.value})"


def _is(described: str) -> str:
    return described.replace("sourceKind ", "sourceKind is ", 1)


def _problem(kind: str, message: str, loc: tuple[str | int, ...], value: object) -> InitErrorDetails:
    return {"type": PydanticCustomError(kind, message), "loc": loc, "input": value}


def _method_problems(data: object, kind: str) -> list[InitErrorDetails]:
    """``replication.method`` names a method the source kind has (VMware: both; physical and AWS: agent)."""
    method = _raw_get(data, "replication", "method")
    if not isinstance(method, str) or method not in set(ReplicationMethod):
        return []
    try:
        method_for(kind, method)
    except ValueError:
        allowed = sorted(m.value for m in methods_of(kind)) if kind in set(SourceKind) else []
        hint = f"only {', '.join(allowed)}" if allowed else "none: leave replication.method out"
        message = f"sourceKind {kind} does not replicate {method} (methods: {hint})"
        return [_problem("method_for_kind", message, ("replication", "method"), method)]
    return []


def _vmware_cbt_problems(data: object) -> list[InitErrorDetails]:
    """VMwareCbt names a VMware site's machine and, if any, the site's run-as account by their ARM ids."""
    problems: list[InitErrorDetails] = []
    machine_id = _raw_get(data, "asr", "discoveredMachineId")
    if isinstance(machine_id, str):
        try:
            rid = parse_resource_id(machine_id)
            vmware = rid.is_type("Microsoft.OffAzure/VMwareSites/machines")
        except InvalidResourceIdError:
            vmware = True  # the field's own check reports the malformed id
        if not vmware:
            message = (
                "agentless replication migrates a VMware site's machine "
                "(Microsoft.OffAzure/VMwareSites/{site}/machines/{machine})"
            )
            problems.append(_problem("arm_id_type", message, ("asr", "discoveredMachineId"), machine_id))
    name = _raw_get(data, "target", "vmName")
    if not isinstance(name, str):
        name = _raw_get(data, "name")
    if isinstance(name, str) and _AGENTLESS_VM_NAME.match(name) is None:
        path = ("target", "vmName") if _raw_get(data, "target", "vmName") is not _MISSING else ("name",)
        message = (
            "an agentless migration's Azure VM name has letters, digits and '-' only (1-64, not ending with '-'), "
            "as Azure Migrate requires; set target.vmName"
        )
        problems.append(_problem("agentless_vm_name", message, path, name))
    account = _raw_get(data, "replication", "runAsAccountId")
    if isinstance(account, str):
        try:
            check_arm_id(account, VMWARE_RUN_AS_ACCOUNT_TYPE)
        except PydanticCustomError as error:
            problems.append(_problem(error.type, error.message(), ("replication", "runAsAccountId"), account))
    return problems


def _kind_problems(data: object) -> list[InitErrorDetails]:
    """Per-provider rules checked on the raw input, so they run even when other fields are invalid."""
    kind = _raw_get(data, "sourceKind")
    if not isinstance(kind, str) or kind not in set(SourceKind):
        return []
    problems = _method_problems(data, kind)
    provider = raw_provider(data)
    if provider is None:
        return problems
    described = describe_provider(kind, provider)
    for path in REQUIREMENTS[provider]:
        value = _raw_get(data, *path)
        if (value is _MISSING or value is None) and _raw_get(data, path[0]) is not _MISSING:
            problems.append(_problem("required_for_kind", f"required when {_is(described)}", path, data))
    for paths in ONE_OF.get(provider, ()):
        present = [_raw_get(data, *path) not in (_MISSING, None) for path in paths]
        if not any(present) and _raw_get(data, paths[0][0]) is not _MISSING:
            others = " or ".join(".".join(path) for path in paths[1:])
            message = f"this or {others} is required when {_is(described)}"
            problems.append(_problem("one_required", message, paths[0], data))
    for field_path, providers in ONLY_FOR.items():
        value = _raw_get(data, *field_path)
        if value not in (_MISSING, None, []) and provider not in providers:
            used_by = ", ".join(sorted(p.value for p in providers))
            message = f"not used for {described}; only for {used_by}"
            problems.append(_problem("not_for_kind", message, field_path, value))
    if provider is Provider.VMWARE_CBT:
        problems.extend(_vmware_cbt_problems(data))
    if provider is Provider.A2A:
        disks = _raw_get(data, "replication", "disksToInclude")
        if isinstance(disks, list):
            for index, disk in enumerate(disks):
                if isinstance(disk, str) and not _is_managed_disk_id(disk):
                    message = "not an ARM resource id of type Microsoft.Compute/disks (A2A replicates managed disks)"
                    problems.append(_problem("arm_id_type", message, ("replication", "disksToInclude", index), disk))
    return problems


def _is_managed_disk_id(value: str) -> bool:
    try:
        return parse_resource_id(value).is_type("Microsoft.Compute/disks")
    except InvalidResourceIdError:
        return False


def rebuild_validation_error(
    title: str, error: ValidationError | None, extra: list[InitErrorDetails]
) -> ValidationError:
    """One ValidationError holding pydantic's own errors plus ``extra``, so callers see every problem at once."""
    details: list[InitErrorDetails] = []
    if error is not None:
        for item in error.errors(include_url=False):
            # Re-raised as custom errors carrying the already-rendered message, whatever their original type.
            details.append(
                {"type": PydanticCustomError(item["type"], item["msg"]), "loc": item["loc"], "input": item["input"]}
            )
    seen = {tuple(d["loc"]) for d in details}
    details.extend(d for d in extra if tuple(d["loc"]) not in seen)
    return ValidationError.from_exception_data(title, details)


ModelT = TypeVar("ModelT")


def validate_with_problems(
    model: type[ModelT], data: Any, handler: ValidatorFunctionWrapHandler, extra: list[InitErrorDetails]
) -> ModelT:
    """Run pydantic's validation of ``data`` and raise one error with its problems and the rules' ``extra``.

    A wrap validator computes ``extra`` from the raw input, so a plan with a bad field *and* a missing
    provider requirement reports both at once instead of one per submission.
    """
    try:
        validated = handler(data)
    except ValidationError as error:
        raise rebuild_validation_error(model.__name__, error, extra) from None
    if extra:
        raise rebuild_validation_error(model.__name__, None, extra)
    if not isinstance(validated, model):  # pragma: no cover - pydantic always returns the model here
        raise TypeError("unexpected validation result")
    return validated


def _names(section: str, name: str) -> dict[str, Any]:
    return {"properties": {section: {"required": [name]}}, "required": [section]}


def _method_is(method: ReplicationMethod) -> dict[str, Any]:
    return {"properties": {"replication": {"properties": {"method": {"const": method.value}}, "required": ["method"]}}}


def _selects(provider: Provider) -> dict[str, Any]:
    """The JSON Schema condition under which a machine replicates by ``provider`` (:func:`raw_provider`)."""
    kinds = [kind.value for kind in SourceKind if kind is not SourceKind.VMWARE and provider_for(kind) is provider]
    no_method = {"properties": {"replication": {"not": {"required": ["method"]}}}}
    agent_field = {"anyOf": [_names(*path) for path in AGENT_ONLY]}
    vmware = {"properties": {"sourceKind": {"const": SourceKind.VMWARE.value}}}
    if provider is Provider.VMWARE_CBT:
        default = {"allOf": [no_method, {"not": agent_field}]}
        return {
            "allOf": [vmware, {"anyOf": [_method_is(ReplicationMethod.AGENTLESS), default]}],
            "required": ["sourceKind"],
        }
    options: list[dict[str, Any]] = [{"properties": {"sourceKind": {"enum": kinds}}}] if kinds else []
    if provider is Provider.IN_MAGE_RCM:
        chosen = {"anyOf": [_method_is(ReplicationMethod.AGENT), {"allOf": [no_method, agent_field]}]}
        options.append({"allOf": [vmware, chosen]})
    return {"anyOf": options, "required": ["sourceKind"]}


def _provider_rules_schema(schema: dict[str, Any]) -> None:
    """Spell :data:`REQUIREMENTS` as JSON Schema conditions, so editors flag a missing field as the validator would."""
    rules: list[dict[str, Any]] = []
    for provider, paths in REQUIREMENTS.items():
        sections: dict[str, list[str]] = {}
        for section, name in paths:
            sections.setdefault(section, []).append(name)
        properties: dict[str, Any] = {section: {"required": names} for section, names in sections.items()}
        for paths in ONE_OF.get(provider, ()):
            section = paths[0][0]
            properties.setdefault(section, {})["anyOf"] = [{"required": [name]} for _, name in paths]
        rules.append({"if": _selects(provider), "then": {"properties": properties}})
    schema["allOf"] = rules


class Machine(PlanModel):
    """A machine to migrate; the provider-specific rules are :data:`REQUIREMENTS`, :data:`ONE_OF`, :data:`ONLY_FOR`."""

    model_config = ConfigDict(json_schema_extra=_provider_rules_schema)

    name: MachineName = Field(
        description="Unique in the plan (case-insensitive); names the machine in events and results."
    )
    source_kind: SourceKind
    asr: AsrCoordinates
    replication: ReplicationSettings
    target: TargetSettings
    options: MachineOptions = Field(default_factory=MachineOptions)
    post_migration_steps: list[PostMigrationStep] = Field(
        default_factory=list,
        max_length=MAX_POST_MIGRATION_STEPS,
        description="Agentless VMware: scripts ASR runs on the test VM and/or the migrated VM (at most "
        f"{MAX_POST_MIGRATION_STEPS}; unique names).",
    )

    checks: MachineChecks | None = Field(
        default=None, description="This machine's own checks of its test VM and/or migrated VM (replace the wave's)."
    )

    @_model_validator(mode="after")
    def _unique_step_names(self) -> Machine:
        names = [step.name.lower() for step in self.post_migration_steps]
        if len(names) != len(set(names)):
            raise PydanticCustomError("unique_steps", "post-migration step names must be unique within the machine")
        return self

    def post_migration_steps_on(self, phase: StepPhase) -> list[PostMigrationStep]:
        """The steps that run on the test VM (``test``) or the migrated VM (``migrate``), in plan order."""
        return [step for step in self.post_migration_steps if phase in step.runs_on]

    @_model_validator(mode="wrap")
    @classmethod
    def _provider_rules(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Machine:
        extra = _kind_problems(data) if not isinstance(data, Machine) else []
        return validate_with_problems(cls, data, handler, extra)

    @property
    def replication_method(self) -> ReplicationMethod | None:
        """The plan's ``replication.method``, else the source kind's default (``migration.source_kinds``)."""
        agent_fields = self.replication.process_server_id is not None or self.asr.protectable_item is not None
        return method_for(self.source_kind, self.replication.method, names_agent_fields=agent_fields)

    @property
    def provider(self) -> Provider:
        return provider_for(self.source_kind, self.replication_method)

    @property
    def vault(self) -> VaultRef:
        return self.asr.vault.ref

    @property
    def target_vm_id(self) -> str:
        """The ARM id of the VM the failover creates: the target resource group's VM of the target name."""
        return f"{self.target.resource_group_id}/providers/Microsoft.Compute/virtualMachines/{self.target_vm_name}"

    @property
    def target_vm_name(self) -> str:
        return self.target.vm_name or self.name

    @property
    def test_vm_id(self) -> str:
        """The test failover's VM: the target VM's name with ``-test``, as Site Recovery names it by default."""
        return f"{self.target_vm_id}-test"

    @property
    def protected_item_name(self) -> str:
        """The replicated item's name in ASR: stable, so a retried enable finds the item it created."""
        return self.asr.protected_item_name or self.name

    @property
    def protected_item_id(self) -> str:
        return self.vault.protected_item_id(self.asr.fabric, self.asr.protection_container, self.protected_item_name)

    @property
    def policy_id(self) -> str:
        policy = self.replication.policy
        return policy if policy.startswith("/") else self.vault.policy_id(policy)
