"""Agentless VMware (VMwareCbt): choosing the path from the plan, the migration item's bodies and its reading, and
the step decisions on a migration item."""

import copy
import json

import jsonschema
import pytest

from migration.errors import PlanValidationError
from migration.plan import validate_plan
from migration.scenarios import DisableReason, ItemKind, VMwareCbtScenario, scenario_for
from migration.scenarios.inmage_rcm import InMageRcmScenario
from migration.schema import plan_schema
from migration.source_kinds import Provider
from migration.stages import Stage, runbook_for
from migration.steps import Decision, Step, decide
from migration.vmware_discovery import (
    DiscoveredDisk,
    VMwareSource,
    choose_disks,
    disks_of,
    log_storage_of_mapping,
    sas_secret_name,
)
from tests.support.asr_examples import example

from .asr_specs import sdk_model_problems
from .plan_data import LOG_STORAGE, RUN_AS, SITE, agentless_machine, hyperv_machine, inmage_machine, plan

OS_DISK = "6000C291-0000-0000-0000-000000000001"
DATA_DISK = "6000C291-0000-0000-0000-000000000002"
DISKS = (DiscoveredDisk(OS_DISK, "Hard disk 1", 128 * 1024**3), DiscoveredDisk(DATA_DISK, "Hard disk 2", 2**40))


def problems_of(data):
    with pytest.raises(PlanValidationError) as caught:
        validate_plan(data)
    return {(p.path, p.message) for p in caught.value.problems}


def machine_of(data):
    return next(machine for _, machine in validate_plan(plan([data])).machines())


def source(disks=DISKS, run_as=RUN_AS):
    return VMwareSource(f"{SITE}/machines/vmw-01", disks, run_as_account_id=run_as)


# -- which path --------------------------------------------------------------------------------------------


def test_a_vmware_machine_without_agent_fields_replicates_agentless():
    bare = agentless_machine()
    del bare["replication"]["method"]
    machine = machine_of(bare)
    assert machine.provider is Provider.VMWARE_CBT
    assert isinstance(scenario_for(machine), VMwareCbtScenario)
    assert scenario_for(machine).protected_item(machine).kind is ItemKind.MIGRATION


def test_a_vmware_machine_naming_a_process_server_stays_agent_based():
    machine = machine_of(inmage_machine("web-01"))
    assert machine.provider is Provider.IN_MAGE_RCM
    assert isinstance(scenario_for(machine), InMageRcmScenario)
    agent = inmage_machine("web-02")
    agent["replication"]["method"] = "agent"
    assert machine_of(agent).provider is Provider.IN_MAGE_RCM


def test_methods_a_source_kind_does_not_have_are_refused():
    physical = inmage_machine("db-01", "physical")
    physical["replication"]["method"] = "agentless"
    hyperv = hyperv_machine()
    hyperv["replication"]["method"] = "agent"
    assert problems_of(plan([physical, hyperv])) == {
        (
            "groups[0].machines[0].replication.method",
            "sourceKind physical does not replicate agentless (methods: only agent)",
        ),
        (
            "groups[0].machines[1].replication.method",
            "sourceKind hyperv does not replicate agent (methods: none: leave replication.method out)",
        ),
    }


def test_agentless_requirements_and_agent_only_fields():
    machine = agentless_machine()
    del machine["asr"]["discoveredMachineId"]
    del machine["replication"]["logStorageAccountId"]
    machine["replication"]["processServerId"] = "c8f1d0a4-35b4-4d1c-9c5e-0d5a6e3f2b10"
    described = "sourceKind vmware, replication agentless (VMwareCbt)"
    assert problems_of(plan([machine])) == {
        ("groups[0].machines[0].asr.discoveredMachineId", f"required when sourceKind is {described[11:]}"),
        (
            "groups[0].machines[0].replication.logStorageAccountId",
            "this or replication.containerMapping is required when sourceKind is vmware, replication agentless "
            "(VMwareCbt)",
        ),
        ("groups[0].machines[0].replication.processServerId", f"not used for {described}; only for InMageRcm"),
    }


def test_agentless_names_a_vmware_sites_machine_and_run_as_account():
    machine = agentless_machine()
    machine["asr"]["discoveredMachineId"] = SITE.replace("VMwareSites/vmware-site", "ServerSites/s") + "/machines/m"
    machine["replication"]["runAsAccountId"] = "c8f1d0a4"
    problems = problems_of(plan([machine]))
    assert {path for path, _ in problems} == {
        "groups[0].machines[0].asr.discoveredMachineId",
        "groups[0].machines[0].replication.runAsAccountId",
    }
    assert any("VMwareSites/{site}/machines/{machine}" in message for _, message in problems)


def test_agentless_vm_names_follow_azure_migrates_rule():
    dotted = agentless_machine("vmw.01")
    dotted["asr"]["discoveredMachineId"] = f"{SITE}/machines/vmw01"
    renamed = copy.deepcopy(dotted)
    renamed["target"]["vmName"] = "vmw-01"
    assert {path for path, _ in problems_of(plan([dotted]))} == {"groups[0].machines[0].name"}
    assert machine_of(renamed).target.vm_name == "vmw-01"


def test_the_json_schema_applies_each_paths_rules():
    schema = plan_schema()
    validator = jsonschema.Draft202012Validator(schema)
    good = [plan([agentless_machine()]), plan([inmage_machine("web-01")])]
    for data in good:
        assert list(validator.iter_errors(json.loads(json.dumps(data)))) == []
    no_machine = agentless_machine()
    del no_machine["asr"]["discoveredMachineId"]
    agent = inmage_machine("web-01")
    del agent["replication"]["diskType"]  # required for the agent-based path only
    bare = agentless_machine()
    del bare["replication"]["method"]
    del bare["replication"]["logStorageAccountId"]
    for data in (plan([no_machine]), plan([agent]), plan([bare])):
        assert list(validator.iter_errors(data)), data


def test_runbooks_of_agentless_machines_have_no_commit():
    assert Stage.COMMIT not in runbook_for(machine_of(agentless_machine()), validate_plan(plan()).options)
    assert Stage.COMMIT in runbook_for(machine_of(inmage_machine()), validate_plan(plan()).options)


# -- bodies ------------------------------------------------------------------------------------------------


def test_enable_replicates_every_discovered_disk_with_the_named_os_disk():
    data = agentless_machine()
    data["replication"]["osDiskId"] = OS_DISK.lower()
    data["replication"]["diskType"] = "Premium_LRS"
    machine = machine_of(data)
    body = VMwareCbtScenario().enable_protection(machine, source=source())
    assert sdk_model_problems(body, "EnableMigrationInput") == []
    details = body["properties"]["providerSpecificDetails"]
    assert [(d["diskId"], d["isOSDisk"], d["diskType"]) for d in details["disksToInclude"]] == [
        (OS_DISK, "true", "Premium_LRS"),
        (DATA_DISK, "false", "Premium_LRS"),
    ]
    assert {d["logStorageAccountSasSecretName"] for d in details["disksToInclude"]} == {"stmigcache-cacheSas"}
    assert details["dataMoverRunAsAccountId"] == details["snapshotRunAsAccountId"] == RUN_AS
    assert details["targetVmName"] == "vmw-01"
    assert body["properties"]["policyId"].endswith("/replicationPolicies/vmwarecbt-policy")


def test_disk_choice_problems_name_the_plan_paths():
    several = machine_of(agentless_machine())
    assert [path for path, _ in choose_disks(several, source())[1]] == ["replication.osDiskId"]
    single = machine_of(agentless_machine())
    assert choose_disks(single, source(DISKS[:1]))[1] == []
    unknown = agentless_machine()
    unknown["replication"]["disksToInclude"] = [OS_DISK, "6000C291-ffff"]
    unknown["replication"]["osDiskId"] = DATA_DISK
    paths = [path for path, _ in choose_disks(machine_of(unknown), source())[1]]
    assert paths == ["replication.disksToInclude[1]", "replication.osDiskId"]
    with pytest.raises(ValueError, match="osDiskId"):
        VMwareCbtScenario().enable_protection(several, source=source())


def test_without_a_run_as_account_the_enable_says_where_to_name_one():
    machine = machine_of(agentless_machine())
    with pytest.raises(ValueError, match="replication.runAsAccountId"):
        VMwareCbtScenario().enable_protection(machine, source=source(DISKS[:1], run_as=None))


def test_test_migrate_names_the_point_and_the_test_network_and_migrate_the_shutdown():
    machine = machine_of(agentless_machine())
    scenario = VMwareCbtScenario()
    with pytest.raises(ValueError, match="recovery point"):
        scenario.test_failover(machine)
    test = scenario.test_failover(machine, recovery_point_id="/p/1")
    assert test["properties"]["providerSpecificDetails"]["networkId"] == machine.target.test_network_id
    assert sdk_model_problems(test, "TestMigrateInput") == []
    migrate = scenario.unplanned_failover(machine)
    assert migrate["properties"]["providerSpecificDetails"]["performShutdown"] == "true"
    assert sdk_model_problems(migrate, "MigrateInput") == []
    for reason in DisableReason:
        assert scenario.disable_protection(machine, reason=reason) == {}  # the delete takes no body and no option


def test_discovery_readers():
    machine = {"properties": {"disks": [{"uuid": "a", "label": "Hard disk 1", "maxSizeInBytes": 10}, {"name": "x"}]}}
    assert disks_of(machine) == (DiscoveredDisk("a", "Hard disk 1", 10),)
    assert sas_secret_name(LOG_STORAGE) == "stmigcache-cacheSas"
    details = {"instanceType": "VMwareCbt", "storageAccountId": LOG_STORAGE}
    assert log_storage_of_mapping({"properties": {"providerSpecificDetails": details}}) == LOG_STORAGE
    with_vault = {**details, "keyVaultUri": "https://kv.vault.azure.net"}
    assert log_storage_of_mapping({"properties": {"providerSpecificDetails": with_vault}}) is None


# -- reading -----------------------------------------------------------------------------------------------


def migration_item(**properties):
    body = copy.deepcopy(example("ReplicationMigrationItems_Get.json")["responses"]["200"]["body"])
    details = properties.pop("details", {})
    body["properties"].update(properties)
    body["properties"]["providerSpecificDetails"].update(details)
    return body


def view(**properties):
    return VMwareCbtScenario().read_protected_item(migration_item(**properties))


def test_the_official_example_reads_as_ready_to_test_and_migrate():
    read = view()
    assert read.provider == "VMwareCbt"
    assert read.initial_replication_done and read.protected and read.progress_percent == 100
    assert read.can_test_failover and read.can_fail_over and read.can_disable_protection
    # The example lists TestMigrateCleanup without a test migration in place; it is not taken at its word.
    assert not read.can_clean_up_test_failover
    assert read.current_scenario is None and read.current_job_id is None
    assert read.active_location == "Primary"


def test_seeding_resync_and_migration_read_as_the_runbook_needs():
    seeding = view(
        migrationState="InitialSeedingInProgress",
        allowedOperations=["DisableMigration"],
        details={"initialSeedingProgressPercentage": 42},
    )
    assert not seeding.initial_replication_done and seeding.progress_percent == 42
    resync = view(
        allowedOperations=["DisableMigration", "StartResync"],
        details={"resyncRequired": "true", "resyncState": "PreparedForResynchronization"},
    )
    assert resync.needs_resync and not resync.initial_replication_done
    failed_seed = view(migrationState="InitialSeedingFailed", allowedOperations=["DisableMigration", "StartResync"])
    assert failed_seed.needs_resync
    migrated = view(migrationState="MigrationSucceeded", allowedOperations=["DisableMigration"])
    assert migrated.active_location == "Recovery" and migrated.initial_replication_done
    testing = view(testMigrateState="TestMigrationSucceeded", allowedOperations=["Migrate", "TestMigrateCleanup"])
    assert testing.can_clean_up_test_failover
    paused = view(migrationState="ProtectionSuspended", allowedOperations=["DisableMigration", "ResumeReplication"])
    assert paused.paused and paused.can_resume


def test_the_view_round_trips_through_json():
    read = view(details={"resyncRequired": "true"}, allowedOperations=["StartResync"])
    assert type(read).from_dict(json.loads(json.dumps(read.to_dict()))) == read


# -- decisions ---------------------------------------------------------------------------------------------


def running(job_name, **properties):
    job = {"jobName": job_name, "jobId": "/vaults/v/replicationJobs/j1", "startTime": "2026-12-04T00:00:00Z"}
    return view(currentJob=job, allowedOperations=[], **properties)


def test_each_step_is_started_adopted_or_done_from_the_migration_item():
    assert decide(Step.TEST_FAILOVER, view()).decision is Decision.START
    assert decide(Step.TEST_FAILOVER, running("TestMigrate")).decision is Decision.ADOPT
    tested = view(testMigrateState="TestMigrationSucceeded", allowedOperations=["Migrate", "TestMigrateCleanup"])
    assert decide(Step.TEST_FAILOVER, tested).decision is Decision.DONE
    assert decide(Step.TEST_FAILOVER_CLEANUP, tested).decision is Decision.START
    assert decide(Step.TEST_FAILOVER_CLEANUP, view()).decision is Decision.DONE
    assert decide(Step.UNPLANNED_FAILOVER, tested).decision is Decision.REFUSED
    assert decide(Step.UNPLANNED_FAILOVER, view()).decision is Decision.START
    assert decide(Step.UNPLANNED_FAILOVER, running("Migrate", migrationState="MigrationInProgress")).decision is (
        Decision.ADOPT
    )
    migrated = view(migrationState="MigrationSucceeded", allowedOperations=["DisableMigration", "ResumeReplication"])
    assert decide(Step.UNPLANNED_FAILOVER, migrated).decision is Decision.DONE
    assert decide(Step.COMPLETE_MIGRATION, migrated).decision is Decision.START
    assert decide(Step.COMPLETE_MIGRATION, view()).decision is Decision.REFUSED
    assert decide(Step.COMPLETE_MIGRATION, running("DisableMigration")).decision is Decision.ADOPT
    assert decide(Step.COMPLETE_MIGRATION, None).decision is Decision.DONE
    assert decide(Step.ENABLE_REPLICATION, running("EnableMigration")).decision is Decision.ADOPT
    assert decide(Step.ENABLE_REPLICATION, view()).decision is Decision.DONE


def test_resync_pause_and_resume_decisions():
    required = view(allowedOperations=["DisableMigration", "StartResync"], details={"resyncRequired": "true"})
    assert decide(Step.RESYNC, required).decision is Decision.START
    assert decide(Step.RESYNC, view()).decision is Decision.DONE
    assert decide(Step.RESYNC, running("Resync")).decision is Decision.ADOPT
    pausable = view(allowedOperations=["Migrate", "PauseReplication"])
    assert decide(Step.PAUSE_REPLICATION, pausable).decision is Decision.START
    paused = view(migrationState="ProtectionSuspended", allowedOperations=["DisableMigration", "ResumeReplication"])
    assert decide(Step.PAUSE_REPLICATION, paused).decision is Decision.DONE
    assert decide(Step.RESUME_REPLICATION, paused).decision is Decision.START
    assert decide(Step.RESUME_REPLICATION, pausable).decision is Decision.DONE
    assert decide(Step.PAUSE_REPLICATION, running("TestMigrate")).decision is Decision.BLOCKED
    assert decide(Step.PAUSE_REPLICATION, None).decision is Decision.REFUSED


def test_a_failed_seeding_is_resynchronized_not_removed():
    failed_seed = view(migrationState="InitialSeedingFailed", allowedOperations=["DisableMigration", "StartResync"])
    assert decide(Step.ENABLE_REPLICATION, failed_seed).decision is Decision.DONE
    enable_failed = view(
        migrationState="EnableMigrationFailed",
        migrationStateDescription="Enable migration failed",
        allowedOperations=["DisableMigration"],
    )
    assert decide(Step.ENABLE_REPLICATION, enable_failed).decision is Decision.CLEAR


def test_migration_item_steps_are_refused_for_protected_items():
    item = example("ReplicationProtectedItems_Get.json")["responses"]["200"]["body"]
    protected = scenario_for("hyperv").read_protected_item(item)
    assert decide(Step.PAUSE_REPLICATION, protected).decision is Decision.REFUSED


# -- post-migration steps ----------------------------------------------------------------------------------

SCRIPT = "https://stscripts.blob.core.windows.net/s/smoke.ps1?sv=2024&sig=abc"


def test_post_migration_steps_go_into_the_test_migrate_and_migrate_bodies():
    data = agentless_machine()
    data["postMigrationSteps"] = [
        {"name": "smoke", "scriptUrl": SCRIPT, "parameters": "-Port 443"},
        {"name": "monitoring", "scriptUrl": SCRIPT, "runsOn": ["migrate"]},
    ]
    machine = machine_of(data)
    scenario = VMwareCbtScenario()
    test = scenario.test_failover(machine, recovery_point_id="/p/1")
    migrate = scenario.unplanned_failover(machine)
    assert sdk_model_problems(test, "TestMigrateInput") == []
    assert sdk_model_problems(migrate, "MigrateInput") == []
    test_steps = test["properties"]["providerSpecificDetails"]["postMigrationSteps"]
    assert test_steps == [{"stepName": "smoke", "scriptUrl": SCRIPT, "scriptParameters": "-Port 443"}]
    migrate_steps = migrate["properties"]["providerSpecificDetails"]["postMigrationSteps"]
    assert [step["stepName"] for step in migrate_steps] == ["smoke", "monitoring"]
    bare = machine_of(agentless_machine())
    assert "postMigrationSteps" not in scenario.unplanned_failover(bare)["properties"]["providerSpecificDetails"]


@pytest.mark.parametrize(
    ("steps", "path"),
    [
        ([{"name": "s", "scriptUrl": "http://st/s.ps1"}], "groups[0].machines[0].postMigrationSteps[0].scriptUrl"),
        ([{"name": "s", "scriptUrl": "https://u:p@st/s.ps1"}], "groups[0].machines[0].postMigrationSteps[0].scriptUrl"),
        ([{"name": "s", "scriptUrl": SCRIPT, "runsOn": []}], "groups[0].machines[0].postMigrationSteps[0].runsOn"),
        ([{"name": "s s", "scriptUrl": SCRIPT}], "groups[0].machines[0].postMigrationSteps[0].name"),
        ([{"name": "s", "scriptUrl": SCRIPT}, {"name": "S", "scriptUrl": SCRIPT}], "groups[0].machines[0]"),
        ([{"name": f"s{n}", "scriptUrl": SCRIPT} for n in range(11)], "groups[0].machines[0].postMigrationSteps"),
    ],
)
def test_bad_post_migration_steps_are_refused_by_path(steps, path):
    data = agentless_machine()
    data["postMigrationSteps"] = steps
    assert path in {p for p, _ in problems_of(plan([data]))}


def test_post_migration_steps_are_for_agentless_machines_only():
    data = inmage_machine("web-01")
    data["postMigrationSteps"] = [{"name": "s", "scriptUrl": SCRIPT}]
    assert problems_of(plan([data])) == {
        ("groups[0].machines[0].postMigrationSteps", "not used for sourceKind vmware (InMageRcm); only for VMwareCbt")
    }


def test_a_migrated_item_whose_removal_failed_still_reads_as_migrated():
    failed_removal = view(
        migrationState="DisableMigrationFailed",
        migrationStateDescription="Disable migration failed",
        lastMigrationStatus="Succeeded",
        allowedOperations=["DisableMigration"],
    )
    assert failed_removal.active_location == "Recovery" and failed_removal.initial_replication_done
    assert decide(Step.COMPLETE_MIGRATION, failed_removal).decision is Decision.START
    assert decide(Step.UNPLANNED_FAILOVER, failed_removal).decision is Decision.DONE
