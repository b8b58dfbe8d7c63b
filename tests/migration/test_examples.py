"""Every example plan validates, uses the shared coordinates, and yields bodies the SDK accepts."""

from pathlib import Path

import pytest
import yaml

from emulators.siterecovery import load_topology
from migration.arm_ids import parse_resource_id
from migration.plan import validate_plan
from migration.scenarios import DisableReason, scenario_for
from migration.scenarios.a2a import A2AScenario
from migration.source_kinds import SourceKind

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
