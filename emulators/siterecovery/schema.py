"""Request-body validation for the inputs the emulator serves.

Each :class:`Model` is named after the SDK 2.0.0 model it mirrors; ``required`` flags and
discriminator values copy the SDK model tables (a contract test checks they agree). Unknown
properties are ignored, as ASR does; a missing required property, a wrong JSON type or an unknown
``instanceType`` is refused with 400 and the path of the bad field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from emulators.siterecovery.errors import ArmError, bad_request

Kind = Literal["str", "int", "bool", "obj", "list", "any"]


@dataclass(frozen=True)
class FieldSpec:
    kind: Kind
    required: bool = False
    model: Model | None = None


@dataclass(frozen=True)
class Model:
    name: str
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    # instanceType -> subtype model; ``base_accepted`` lets the base type's own name through
    subtypes: dict[str, Model] | None = None
    base_accepted: bool = False


def Str(required: bool = False) -> FieldSpec:
    return FieldSpec("str", required)


def Obj(model: Model, required: bool = False) -> FieldSpec:
    return FieldSpec("obj", required, model)


def Arr(model: Model | None = None, required: bool = False) -> FieldSpec:
    return FieldSpec("list", required, model)


def _poly(name: str, subtypes: dict[str, Model], base_accepted: bool = False) -> Model:
    return Model(name, {"instanceType": Str(True)}, subtypes, base_accepted)


def _leaf(name: str, **fields: FieldSpec) -> Model:
    return Model(name, {"instanceType": Str(True), **fields})


_A2A_MANAGED_DISK = Model(
    "A2AVmManagedDiskInputDetails",
    {"diskId": Str(True), "primaryStagingAzureStorageAccountId": Str(True), "recoveryResourceGroupId": Str(True)},
)
_A2A_DISK = Model(
    "A2AVmDiskInputDetails",
    {
        "diskUri": Str(True),
        "recoveryAzureStorageAccountId": Str(True),
        "primaryStagingAzureStorageAccountId": Str(True),
    },
)
_RCM_DISK = Model("InMageRcmDiskInput", {"diskId": Str(True), "logStorageAccountId": Str(True), "diskType": Str(True)})
_RCM_DISKS_DEFAULT = Model("InMageRcmDisksDefaultInput", {"logStorageAccountId": Str(True), "diskType": Str(True)})

ENABLE_PROVIDER = _poly(
    "EnableProtectionProviderSpecificInput",
    {
        "A2A": _leaf(
            "A2AEnableProtectionInput",
            fabricObjectId=Str(True),
            recoveryContainerId=Str(),
            recoveryResourceGroupId=Str(),
            vmManagedDisks=Arr(_A2A_MANAGED_DISK),
            vmDisks=Arr(_A2A_DISK),
        ),
        "A2ACrossClusterMigration": _leaf("A2ACrossClusterMigrationEnableProtectionInput"),
        "HyperVReplicaAzure": _leaf("HyperVReplicaAzureEnableProtectionInput", vmName=Str()),
        "InMageAzureV2": _leaf("InMageAzureV2EnableProtectionInput"),
        "InMage": _leaf(
            "InMageEnableProtectionInput",
            masterTargetId=Str(True),
            multiVmGroupName=Str(True),
            processServerId=Str(True),
            retentionDrive=Str(True),
            multiVmGroupId=Str(True),
        ),
        "InMageRcm": _leaf(
            "InMageRcmEnableProtectionInput",
            fabricDiscoveryMachineId=Str(True),
            targetResourceGroupId=Str(True),
            processServerId=Str(True),
            disksToInclude=Arr(_RCM_DISK),
            disksDefault=Obj(_RCM_DISKS_DEFAULT),
            targetVmName=Str(),
        ),
    },
)
ENABLE = Model(
    "EnableProtectionInput",
    {
        "properties": Obj(
            Model(
                "EnableProtectionInputProperties",
                {"policyId": Str(), "protectableItemId": Str(), "providerSpecificDetails": Obj(ENABLE_PROVIDER)},
            )
        )
    },
)

_FAILOVER_SUBTYPES = ("A2A", "HyperVReplicaAzure", "InMageAzureV2", "InMageRcm", "InMage")
TEST_FAILOVER = Model(
    "TestFailoverInput",
    {
        "properties": Obj(
            Model(
                "TestFailoverInputProperties",
                {
                    "failoverDirection": Str(),
                    "networkType": Str(),
                    "networkId": Str(),
                    "providerSpecificDetails": Obj(
                        _poly(
                            "TestFailoverProviderSpecificInput",
                            {k: _leaf(f"{k}TestFailoverInput", recoveryPointId=Str()) for k in _FAILOVER_SUBTYPES},
                        )
                    ),
                },
            ),
            True,
        )
    },
)
TEST_FAILOVER_CLEANUP = Model(
    "TestFailoverCleanupInput",
    {"properties": Obj(Model("TestFailoverCleanupInputProperties", {"comments": Str()}), True)},
)
_UNPLANNED_SUBTYPES = {
    k: _leaf(f"{k}UnplannedFailoverInput", recoveryPointId=Str()) for k in _FAILOVER_SUBTYPES if k != "InMageRcm"
}
_UNPLANNED_SUBTYPES["InMageRcm"] = _leaf(
    "InMageRcmUnplannedFailoverInput", performShutdown=Str(True), recoveryPointId=Str()
)
UNPLANNED_FAILOVER = Model(
    "UnplannedFailoverInput",
    {
        "properties": Obj(
            Model(
                "UnplannedFailoverInputProperties",
                {
                    "failoverDirection": Str(),
                    "sourceSiteOperations": Str(),
                    "providerSpecificDetails": Obj(
                        _poly("UnplannedFailoverProviderSpecificInput", _UNPLANNED_SUBTYPES)
                    ),
                },
            ),
            True,
        )
    },
)
PLANNED_FAILOVER = Model(
    "PlannedFailoverInput",
    {
        "properties": Obj(
            Model(
                "PlannedFailoverInputProperties",
                {
                    "failoverDirection": Str(),
                    "providerSpecificDetails": Obj(
                        _poly(
                            "PlannedFailoverProviderSpecificFailoverInput",
                            {
                                "HyperVReplicaAzure": _leaf("HyperVReplicaAzurePlannedFailoverProviderInput"),
                                "HyperVReplicaAzureFailback": _leaf("HyperVReplicaAzureFailbackProviderInput"),
                                "InMageRcmFailback": _leaf(
                                    "InMageRcmFailbackPlannedFailoverProviderInput", recoveryPointType=Str(True)
                                ),
                            },
                        )
                    ),
                },
            )
        )
    },
)
REPROTECT = Model(
    "ReverseReplicationInput",
    {
        "properties": Obj(
            Model(
                "ReverseReplicationInputProperties",
                {
                    "failoverDirection": Str(),
                    "providerSpecificDetails": Obj(
                        _poly(
                            "ReverseReplicationProviderSpecificInput",
                            {
                                "A2A": _leaf("A2AReprotectInput"),
                                "HyperVReplicaAzure": _leaf("HyperVReplicaAzureReprotectInput"),
                                "InMageAzureV2": _leaf("InMageAzureV2ReprotectInput"),
                                "InMageRcmFailback": _leaf(
                                    "InMageRcmFailbackReprotectInput", processServerId=Str(True), policyId=Str(True)
                                ),
                                "InMageRcm": _leaf(
                                    "InMageRcmReprotectInput",
                                    reprotectAgentId=Str(True),
                                    datastoreName=Str(True),
                                    logStorageAccountId=Str(True),
                                ),
                                "InMage": _leaf(
                                    "InMageReprotectInput",
                                    masterTargetId=Str(True),
                                    profileId=Str(True),
                                    processServerId=Str(True),
                                    retentionDrive=Str(True),
                                ),
                            },
                        )
                    ),
                },
            )
        )
    },
)
DISABLE = Model(
    "DisableProtectionInput",
    {
        "properties": Obj(
            Model(
                "DisableProtectionInputProperties",
                {
                    "disableProtectionReason": Str(),
                    "replicationProviderInput": Obj(
                        _poly(
                            "DisableProtectionProviderSpecificInput",
                            {"InMage": _leaf("InMageDisableProtectionProviderSpecificInput")},
                            base_accepted=True,  # the official example sends the base type's name
                        )
                    ),
                },
            ),
            True,
        )
    },
)
_PLAN_ITEM = Model("RecoveryPlanProtectedItem", {"id": Str(), "virtualMachineId": Str()})
_PLAN_GROUP = Model(
    "RecoveryPlanGroup",
    {
        "groupType": Str(True),
        "replicationProtectedItems": Arr(_PLAN_ITEM),
        "startGroupActions": Arr(),
        "endGroupActions": Arr(),
    },
)
CREATE_PLAN = Model(
    "CreateRecoveryPlanInput",
    {
        "properties": Obj(
            Model(
                "CreateRecoveryPlanInputProperties",
                {
                    "primaryFabricId": Str(True),
                    "recoveryFabricId": Str(True),
                    "failoverDeploymentModel": Str(),
                    "groups": Arr(_PLAN_GROUP, True),
                    "providerSpecificInput": Arr(
                        _poly("RecoveryPlanProviderSpecificInput", {"A2A": _leaf("RecoveryPlanA2AInput")})
                    ),
                },
            ),
            True,
        )
    },
)
_PLAN_PROVIDER = _poly(
    "RecoveryPlanProviderSpecificFailoverInput",
    {
        "A2A": _leaf("RecoveryPlanA2AFailoverInput", recoveryPointType=Str(True)),
        "HyperVReplicaAzure": _leaf("RecoveryPlanHyperVReplicaAzureFailoverInput"),
        "HyperVReplicaAzureFailback": _leaf(
            "RecoveryPlanHyperVReplicaAzureFailbackInput", dataSyncOption=Str(True), recoveryVmCreationOption=Str(True)
        ),
        "InMageAzureV2": _leaf("RecoveryPlanInMageAzureV2FailoverInput", recoveryPointType=Str(True)),
        "InMage": _leaf("RecoveryPlanInMageFailoverInput", recoveryPointType=Str(True)),
        "InMageRcmFailback": _leaf("RecoveryPlanInMageRcmFailbackFailoverInput", recoveryPointType=Str(True)),
        "InMageRcm": _leaf("RecoveryPlanInMageRcmFailoverInput", recoveryPointType=Str(True)),
    },
)
PLAN_TEST_FAILOVER = Model(
    "RecoveryPlanTestFailoverInput",
    {
        "properties": Obj(
            Model(
                "RecoveryPlanTestFailoverInputProperties",
                {
                    "failoverDirection": Str(True),
                    "networkType": Str(True),
                    "networkId": Str(),
                    "providerSpecificDetails": Arr(_PLAN_PROVIDER),
                },
            ),
            True,
        )
    },
)
PLAN_TEST_FAILOVER_CLEANUP = Model(
    "RecoveryPlanTestFailoverCleanupInput",
    {"properties": Obj(Model("RecoveryPlanTestFailoverCleanupInputProperties", {"comments": Str()}), True)},
)
PLAN_UNPLANNED_FAILOVER = Model(
    "RecoveryPlanUnplannedFailoverInput",
    {
        "properties": Obj(
            Model(
                "RecoveryPlanUnplannedFailoverInputProperties",
                {
                    "failoverDirection": Str(True),
                    "sourceSiteOperations": Str(True),
                    "providerSpecificDetails": Arr(_PLAN_PROVIDER),
                },
            ),
            True,
        )
    },
)
CREATE_POLICY = Model(
    "CreatePolicyInput",
    {
        "properties": Obj(
            Model(
                "CreatePolicyInputProperties",
                {
                    "providerSpecificInput": Obj(
                        _poly(
                            "PolicyProviderSpecificInput",
                            {
                                "A2A": _leaf("A2APolicyCreationInput", multiVmSyncStatus=Str(True)),
                                "A2ACrossClusterMigration": _leaf("A2ACrossClusterMigrationPolicyCreationInput"),
                                "HyperVReplicaAzure": _leaf("HyperVReplicaAzurePolicyInput"),
                                "HyperVReplica2012": _leaf("HyperVReplicaPolicyInput"),
                                "InMageAzureV2": _leaf("InMageAzureV2PolicyInput", multiVmSyncStatus=Str(True)),
                                "InMage": _leaf("InMagePolicyInput", multiVmSyncStatus=Str(True)),
                                "InMageRcmFailback": _leaf("InMageRcmFailbackPolicyCreationInput"),
                                "InMageRcm": _leaf("InMageRcmPolicyCreationInput"),
                                "VMwareCbt": _leaf("VMwareCbtPolicyCreationInput"),
                            },
                        )
                    )
                },
            )
        )
    },
)
CREATE_MAPPING = Model(
    "CreateProtectionContainerMappingInput",
    {
        "properties": Obj(
            Model(
                "CreateProtectionContainerMappingInputProperties",
                {
                    "targetProtectionContainerId": Str(),
                    "policyId": Str(),
                    "providerSpecificInput": Obj(
                        _poly(
                            "ReplicationProviderSpecificContainerMappingInput",
                            {
                                "A2A": _leaf("A2AContainerMappingInput"),
                                "VMwareCbt": _leaf(
                                    "VMwareCbtContainerMappingInput",
                                    storageAccountId=Str(True),
                                    targetLocation=Str(True),
                                ),
                            },
                            base_accepted=True,  # the official example sends the base type's name
                        )
                    ),
                },
            )
        )
    },
)

_JSON_NAMES = {"str": "string", "int": "integer", "bool": "boolean", "obj": "object", "list": "array"}


def _invalid(path: str, problem: str) -> ArmError:
    return bad_request(
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: {problem} Path '{path or '(root)'}'.",
        target=path or None,
    )


def _type_ok(kind: Kind, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "obj":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    return True


def validate(model: Model, value: Any, path: str = "") -> None:
    """Raise an ``InvalidRequestContent`` :class:`ArmError` naming the first bad field."""
    if not isinstance(value, dict):
        raise _invalid(path, f"expected a JSON object for '{model.name}'.")
    if model.subtypes is not None:
        kind = value.get("instanceType")
        where = f"{path}.instanceType" if path else "instanceType"
        if kind is None:
            raise _invalid(where, "Required property 'instanceType' not found in JSON.")
        if not isinstance(kind, str):
            raise _invalid(where, "instanceType must be a string.")
        if kind in model.subtypes:
            model = model.subtypes[kind]
        elif not (model.base_accepted and kind == model.name):
            known = ", ".join(sorted(model.subtypes))
            raise bad_request(
                "InvalidInstanceType",
                f"The instanceType '{kind}' is not valid for '{model.name}'. Valid values: {known}.",
                target=where,
            )
    for name, spec in model.fields.items():
        where = f"{path}.{name}" if path else name
        if name not in value or value[name] is None:
            if spec.required:
                raise _invalid(where, f"Required property '{name}' not found in JSON.")
            continue
        item = value[name]
        if not _type_ok(spec.kind, item):
            raise _invalid(where, f"'{name}' must be a JSON {_JSON_NAMES.get(spec.kind, 'value')}.")
        if spec.model is not None:
            if spec.kind == "obj":
                validate(spec.model, item, where)
            elif spec.kind == "list":
                for i, element in enumerate(item):
                    validate(spec.model, element, f"{where}[{i}]")


def all_models(root: Model) -> list[Model]:
    """Every model reachable from ``root`` (for the contract test against the SDK tables)."""
    seen: dict[str, Model] = {}
    stack = [root]
    while stack:
        model = stack.pop()
        if model.name in seen:
            continue
        seen[model.name] = model
        stack.extend(s.model for s in model.fields.values() if s.model is not None)
        stack.extend((model.subtypes or {}).values())
    return list(seen.values())


ROOTS = [
    ENABLE,
    TEST_FAILOVER,
    TEST_FAILOVER_CLEANUP,
    UNPLANNED_FAILOVER,
    PLANNED_FAILOVER,
    REPROTECT,
    DISABLE,
    CREATE_PLAN,
    PLAN_TEST_FAILOVER,
    PLAN_TEST_FAILOVER_CLEANUP,
    PLAN_UNPLANNED_FAILOVER,
    CREATE_POLICY,
    CREATE_MAPPING,
]
