"""Request-body validation for the migration-item operations (VMwareCbt), in ``schema.py``'s terms.

Each model is named after the SDK 2.0 model it mirrors; ``required`` flags and discriminator values copy the SDK's
model tables (``tests/emulators/siterecovery/test_migration_schema.py`` keeps them in step). What the tables cannot
say (which strings are booleans, which are ARM ids) ``migration_inputs.py`` checks after this.
"""

from __future__ import annotations

from emulators.siterecovery.schema import Arr, FieldSpec, Model, Obj, Str


def _int() -> FieldSpec:
    return FieldSpec("int")


def _poly(name: str, subtypes: dict[str, Model]) -> Model:
    return Model(name, {"instanceType": Str(True)}, subtypes)


def _leaf(name: str, **fields: FieldSpec) -> Model:
    return Model(name, {"instanceType": Str(True), **fields})


def _root(name: str, props: Model, required: bool = True) -> Model:
    return Model(name, {"properties": Obj(props, required)})


_DISK = Model(
    "VMwareCbtDiskInput",
    {
        "diskId": Str(True),
        "diskType": Str(),
        "isOSDisk": Str(True),
        "logStorageAccountId": Str(True),
        "logStorageAccountSasSecretName": Str(True),
        "diskEncryptionSetId": Str(),
        "sectorSizeInBytes": _int(),
        "iops": _int(),
        "throughputInMbps": _int(),
        "diskSizeInGB": _int(),
    },
)
# ManagedRunCommandScriptInput (SDK 2.0): a script ASR runs on the test or migrated VM as part of the job.
_POST_MIGRATION_STEP = Model(
    "ManagedRunCommandScriptInput",
    {"stepName": Str(True), "scriptUrl": Str(True), "scriptParameters": Str(True)},
)
_NIC = Model(
    "VMwareCbtNicInput",
    {
        "nicId": Str(True),
        "isPrimaryNic": Str(True),
        "targetSubnetName": Str(),
        "targetStaticIPAddress": Str(),
        "isSelectedForMigration": Str(),
        "targetNicName": Str(),
        "testSubnetName": Str(),
        "testStaticIPAddress": Str(),
    },
)
_UPDATE_DISK = Model(
    "VMwareCbtUpdateDiskInput",
    {
        "diskId": Str(True),
        "targetDiskName": Str(),
        "isOSDisk": Str(),
        "iops": _int(),
        "throughputInMbps": _int(),
        "diskSizeInGB": _int(),
    },
)
_TARGETS = {
    "targetVmName": Str(),
    "targetVmSize": Str(),
    "targetResourceGroupId": Str(),
    "targetNetworkId": Str(),
    "testNetworkId": Str(),
    "targetAvailabilitySetId": Str(),
    "targetAvailabilityZone": Str(),
    "targetProximityPlacementGroupId": Str(),
    "targetBootDiagnosticsStorageAccountId": Str(),
    "licenseType": Str(),
    "sqlServerLicenseType": Str(),
    "linuxLicenseType": Str(),
    "performAutoResync": Str(),
    "targetCapacityReservationGroupId": Str(),
}

ENABLE_MIGRATION = _root(
    "EnableMigrationInput",
    Model(
        "EnableMigrationInputProperties",
        {
            "policyId": Str(True),
            "providerSpecificDetails": Obj(
                _poly(
                    "EnableMigrationProviderSpecificInput",
                    {
                        "VMwareCbt": _leaf(
                            "VMwareCbtEnableMigrationInput",
                            **{
                                **_TARGETS,
                                "vmwareMachineId": Str(True),
                                "disksToInclude": Arr(_DISK, True),
                                "dataMoverRunAsAccountId": Str(True),
                                "snapshotRunAsAccountId": Str(True),
                                "targetResourceGroupId": Str(True),
                                "targetNetworkId": Str(True),
                                "targetSubnetName": Str(),
                                "testSubnetName": Str(),
                            },
                        )
                    },
                ),
                True,
            ),
        },
    ),
)
UPDATE_MIGRATION = _root(
    "UpdateMigrationItemInput",
    Model(
        "UpdateMigrationItemInputProperties",
        {
            "providerSpecificDetails": Obj(
                _poly(
                    "UpdateMigrationItemProviderSpecificInput",
                    {
                        "VMwareCbt": _leaf(
                            "VMwareCbtUpdateMigrationItemInput",
                            **_TARGETS,
                            vmNics=Arr(_NIC),
                            vmDisks=Arr(_UPDATE_DISK),
                        )
                    },
                ),
                True,
            )
        },
    ),
    required=False,
)
MIGRATE = _root(
    "MigrateInput",
    Model(
        "MigrateInputProperties",
        {
            "providerSpecificDetails": Obj(
                _poly(
                    "MigrateProviderSpecificInput",
                    {
                        "VMwareCbt": _leaf(
                            "VMwareCbtMigrateInput",
                            performShutdown=Str(True),
                            osUpgradeVersion=Str(),
                            postMigrationSteps=Arr(_POST_MIGRATION_STEP),
                            targetCapacityReservationGroupId=Str(),
                        )
                    },
                ),
                True,
            )
        },
    ),
)
TEST_MIGRATE = _root(
    "TestMigrateInput",
    Model(
        "TestMigrateInputProperties",
        {
            "providerSpecificDetails": Obj(
                _poly(
                    "TestMigrateProviderSpecificInput",
                    {
                        "VMwareCbt": _leaf(
                            "VMwareCbtTestMigrateInput",
                            recoveryPointId=Str(True),
                            networkId=Str(True),
                            vmNics=Arr(_NIC),
                            osUpgradeVersion=Str(),
                            postMigrationSteps=Arr(_POST_MIGRATION_STEP),
                        )
                    },
                ),
                True,
            )
        },
    ),
)
TEST_MIGRATE_CLEANUP = _root("TestMigrateCleanupInput", Model("TestMigrateCleanupInputProperties", {"comments": Str()}))
RESYNC = _root(
    "ResyncInput",
    Model(
        "ResyncInputProperties",
        {
            "providerSpecificDetails": Obj(
                _poly(
                    "ResyncProviderSpecificInput", {"VMwareCbt": _leaf("VMwareCbtResyncInput", skipCbtReset=Str(True))}
                ),
                True,
            )
        },
    ),
)
PAUSE = _root("PauseReplicationInput", Model("PauseReplicationInputProperties", {"instanceType": Str(True)}))
RESUME = _root(
    "ResumeReplicationInput",
    Model(
        "ResumeReplicationInputProperties",
        {
            "providerSpecificDetails": Obj(
                _poly(
                    "ResumeReplicationProviderSpecificInput",
                    {"VMwareCbt": _leaf("VMwareCbtResumeReplicationInput", deleteMigrationResources=Str())},
                ),
                True,
            )
        },
    ),
)

from emulators.siterecovery.schema import all_models as all_models  # noqa: E402  (re-exported for the tests)

ROOTS = [ENABLE_MIGRATION, UPDATE_MIGRATION, MIGRATE, TEST_MIGRATE, TEST_MIGRATE_CLEANUP, RESYNC, PAUSE, RESUME]
