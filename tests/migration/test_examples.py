"""Every example plan validates, uses the shared coordinates, and yields bodies the SDK accepts."""

from pathlib import Path

import pytest
import yaml

from emulators.siterecovery import load_topology
from migration.arm_ids import parse_resource_id
from migration.plan import validate_plan
from migration.scenarios import DisableReason, scenario_for
from migration.scenarios.a2a import A2AScenario
from migration.scenarios.vmware_cbt import VMwareCbtScenario
from migration.source_kinds import Provider, SourceKind
from migration.vmware_discovery import DiscoveredDisk, VMwareSource

from .asr_specs import sdk_model_problems

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"
PLANS = sorted(EXAMPLES.glob("*.yaml"))
TOPOLOGY = load_topology(EXAMPLES.parent / "topology.yaml")


def load(path):
    return validate_plan(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_there_is_a_plan_per_source_kind_and_a_mixed_wave():
    kinds_alone = set()
    for path in PLANS:
        kinds = {m.source_kind for _, m in load(path).machines()}
        if len(kinds) == 1:
            kinds_alone |= kinds
    assert kinds_alone == set(SourceKind)
    mixed = load(EXAMPLES / "mixed-wave.yaml")
    assert len(mixed.groups) == 3
    assert {m.source_kind for _, m in mixed.machines()} == set(SourceKind)


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_example_names_only_what_the_example_topology_has(path):
    """The examples run on the Site Recovery emulator as shipped: every vault, fabric, container, machine,
    policy and mapping they name exists in examples/topology.yaml."""
    plan = load(path)
    for _, machine in plan.machines():
        coordinates = machine.asr
        vault = next(
            v
            for v in TOPOLOGY.vaults
            if (v.subscription_id, v.resource_group, v.name)
            == (coordinates.vault.subscription_id, coordinates.vault.resource_group, coordinates.vault.name)
        )
        fabrics = {f.name: f for f in vault.fabrics}
        containers = {c.name: c for c in fabrics[coordinates.fabric].containers}
        container = containers[coordinates.protection_container]
        if machine.source_kind is SourceKind.AZURE:
            assert coordinates.source_vm_id is not None
            assert parse_resource_id(coordinates.source_vm_id).name in {m.name for m in container.machines}
            recovery = {c.name for c in fabrics[coordinates.recovery_fabric or ""].containers}
            assert coordinates.recovery_protection_container in recovery
        elif machine.provider is Provider.VMWARE_CBT:
            site = next(s for s in vault.vmware_sites if s.name == fabrics[coordinates.fabric].vmware_site)
            discovered = {m.name: m for m in site.machines}
            found = discovered[parse_resource_id(coordinates.discovered_machine_id or "").name]
            assert coordinates.discovered_machine_id == (
                f"/subscriptions/{vault.subscription_id}/resourceGroups/{site.resource_group or vault.resource_group}"
                f"/providers/Microsoft.OffAzure/VMwareSites/{site.name}/machines/{found.name}"
            )
            os_disk = machine.replication.os_disk_id or found.disks[0].id
            assert os_disk in {d.id for d in found.disks if d.is_os_disk}
        else:
            assert coordinates.protectable_item in {m.name for m in container.machines}
        assert machine.replication.policy in {policy.name for policy in vault.policies}
        mappings = {(m.name, m.fabric, m.container) for m in vault.container_mappings}
        assert (machine.replication.container_mapping, coordinates.fabric, coordinates.protection_container) in mappings
    dr = plan.options.dr_after_migration
    if dr is not None:
        vault = TOPOLOGY.vaults[0]
        assert dr.container_mapping in {m.name for m in vault.container_mappings}
        assert dr.recovery_protection_container in {
            c.name for f in vault.fabrics if f.name == dr.recovery_fabric for c in f.containers
        }


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_example_bodies_pass_the_sdk_checks(path):
    plan = load(path)
    discovered = (
        f"/subscriptions/{TOPOLOGY.vaults[0].subscription_id}/resourceGroups/rg-migration/providers/"
        "Microsoft.OffAzure/ServerSites/s/machines/m"
    )
    for _, machine in plan.machines():
        scenario = scenario_for(machine)
        if isinstance(scenario, VMwareCbtScenario):
            _check_agentless_bodies(scenario, machine)
            continue
        lookup = discovered if machine.asr.discovered_machine_id is None else None
        bodies = {
            "EnableProtectionInput": scenario.enable_protection(machine, discovered_machine_id=lookup),
            "TestFailoverInput": scenario.test_failover(machine),
            "TestFailoverCleanupInput": scenario.test_failover_cleanup(machine),
            "UnplannedFailoverInput": scenario.unplanned_failover(machine),
            "DisableProtectionInput": scenario.disable_protection(machine, reason=DisableReason.MIGRATION_COMPLETE),
        }
        if isinstance(scenario, A2AScenario) and plan.options.dr_after_migration is not None:
            dr = scenario.dr_enable_protection(machine, plan.options.dr_after_migration)
            assert sdk_model_problems(dr, "EnableProtectionInput") == []
        for model, body in bodies.items():
            assert sdk_model_problems(body, model) == [], (machine.name, model)


def _check_agentless_bodies(scenario, machine):
    """A migration item's operations take their own SDK models; the disks come from the topology's site."""
    vault = TOPOLOGY.vaults[0]
    name = parse_resource_id(machine.asr.discovered_machine_id).name
    found = next(m for site in vault.vmware_sites for m in site.machines if m.name == name)
    run_as = machine.asr.discovered_machine_id.rsplit("/machines/", 1)[0] + "/runasaccounts/vcenter-account"
    disks = tuple(DiscoveredDisk(d.id, d.name, d.size_gb * 1024**3) for d in found.disks)
    mapping = next(m for m in vault.container_mappings if m.name == machine.replication.container_mapping)
    source = VMwareSource(
        machine.asr.discovered_machine_id,
        disks,
        run_as_account_id=run_as,
        log_storage_account_id=mapping.storage_account_id,
    )
    point = f"{scenario.protected_item(machine).id}/migrationRecoveryPoints/p1"
    bodies = {
        "EnableMigrationInput": scenario.enable_protection(machine, source=source),
        "TestMigrateInput": scenario.test_failover(machine, recovery_point_id=point),
        "TestMigrateCleanupInput": scenario.test_failover_cleanup(machine),
        "MigrateInput": scenario.unplanned_failover(machine),
        "ResyncInput": scenario.resync(machine),
        "PauseReplicationInput": scenario.pause_replication(machine),
        "ResumeReplicationInput": scenario.resume_replication(machine),
    }
    for model, body in bodies.items():
        assert sdk_model_problems(body, model) == [], (machine.name, model)
    enabled = bodies["EnableMigrationInput"]["properties"]["providerSpecificDetails"]
    assert [d["diskId"] for d in enabled["disksToInclude"]] == [d.id for d in found.disks]
    flags = ["true" if d.is_os_disk else "false" for d in found.disks]
    assert [d["isOSDisk"] for d in enabled["disksToInclude"]] == flags
