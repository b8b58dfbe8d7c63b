"""Every example plan validates, uses the shared coordinates, and yields bodies the SDK accepts."""

from pathlib import Path

import pytest
import yaml

from migration.arm_ids import parse_resource_id
from migration.plan import validate_plan
from migration.scenarios import DisableReason, scenario_for
from migration.scenarios.a2a import A2AScenario
from migration.source_kinds import SourceKind

from .asr_specs import sdk_model_problems

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"
PLANS = sorted(EXAMPLES.glob("*.yaml"))
SUB = "11111111-1111-1111-1111-111111111111"
FABRICS = {
    SourceKind.VMWARE: ("vmware-site", "vmware-site-container"),
    SourceKind.PHYSICAL: ("vmware-site", "vmware-site-container"),
    SourceKind.AWS: ("vmware-site", "vmware-site-container"),
    SourceKind.HYPERV: ("hyperv-site", "hyperv-site-container"),
    SourceKind.AZURE: ("azure-eastus", "azure-eastus-container"),
}
NAMES = {
    SourceKind.VMWARE: {"web-01", "app-01"},
    SourceKind.PHYSICAL: {"db-01"},
    SourceKind.AWS: {"aws-win-01"},
    SourceKind.HYPERV: {"hv-file-01"},
    SourceKind.AZURE: {"az-api-01"},
}


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
def test_example_uses_the_shared_coordinates(path):
    plan = load(path)
    for _, machine in plan.machines():
        vault = machine.asr.vault
        assert (vault.subscription_id, vault.resource_group, vault.name) == (SUB, "rg-migration", "vault-migrate")
        assert (machine.asr.fabric, machine.asr.protection_container) == FABRICS[machine.source_kind]
        assert machine.name in NAMES[machine.source_kind]
        assert parse_resource_id(machine.target.resource_group_id).name == "rg-target-westeurope"
        assert parse_resource_id(machine.target.network_id).name == "vnet-prod"
        assert machine.target.test_network_id is not None
        assert parse_resource_id(machine.target.test_network_id).name == "vnet-test"
        expected_policy = "a2a-policy" if machine.source_kind is SourceKind.AZURE else "migration-policy"
        assert machine.policy_id.endswith(f"/replicationPolicies/{expected_policy}")
        if machine.source_kind is SourceKind.AZURE:
            assert (machine.asr.recovery_fabric, machine.asr.recovery_protection_container) == (
                "azure-westeurope",
                "azure-westeurope-container",
            )
            assert machine.asr.source_vm_id == (
                f"/subscriptions/{SUB}/resourceGroups/rg-apps-eastus/providers/Microsoft.Compute/virtualMachines/az-api-01"
            )


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_example_bodies_pass_the_sdk_checks(path):
    plan = load(path)
    discovered = (
        f"/subscriptions/{SUB}/resourceGroups/rg-migration/providers/Microsoft.OffAzure/ServerSites/s/machines/m"
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
