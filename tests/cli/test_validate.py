"""``validate``: the schema, then the read-only pre-flight against a Site Recovery emulator started from a topology."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulators.siterecovery import EmulatorHandle, start_emulator
from tests.cli.helpers import EXAMPLES, MIXED, TOPOLOGY, Result, assert_clean_error, cli, free_port


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _plan() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(MIXED.read_text(encoding="utf-8")))


def test_the_mixed_wave_resolves_and_says_what_would_run() -> None:
    result = cli("validate", str(MIXED), "--topology", str(TOPOLOGY))
    assert result.code == 0, result.text
    assert result.out.count("  ok ") == 6
    assert (
        "→ unplannedFailover → validateMigratedVm → completeMigration → migrated" in result.out
    )  # agentless: no commit
    assert "would run: validate → enableReplication" in result.out
    assert "→ drProtection → migrated" in result.out  # app01 is protected again toward a secondary region
    assert "the plan can run" in result.out


def test_unknown_names_are_problems_with_their_plan_path(tmp_path: Path) -> None:
    plan = _plan()
    plan["groups"][0]["machines"][0]["replication"] = {
        **plan["groups"][0]["machines"][0]["replication"],
        "policy": "no-such-policy",
    }
    plan["groups"][2]["machines"][1]["asr"]["protectableItem"] = "99999999-0000-0000-0000-000000000000"
    plan["groups"][1]["machines"][0]["asr"]["fabric"] = "asr-a2a-nowhere"
    result = cli("validate", str(_write(tmp_path / "plan.yaml", plan)), "--topology", str(TOPOLOGY))
    assert result.code == 1, result.text
    text = " ".join(result.out.split())
    assert "groups[0].machines[0].replication.policy: replication policy 'no-such-policy' does not exist" in text
    assert "groups[2].machines[1].asr.protectableItem: protectable item '99999999-0000-0000-0000-000000000000'" in text
    assert "groups[1].machines[0].asr.fabric: fabric 'asr-a2a-nowhere' does not exist" in text
    assert "3 of 6 machines cannot run as planned" in text


def test_an_agentless_machine_is_checked_against_discovery(tmp_path: Path) -> None:
    plan = _plan()
    agentless = plan["groups"][2]["machines"][2]
    assert agentless["replication"]["method"] == "agentless"
    unknown = copy.deepcopy(agentless)
    unknown["name"] = "vmw-gone"
    unknown["asr"]["discoveredMachineId"] = agentless["asr"]["discoveredMachineId"].replace("vmw-agentless01", "gone")
    agentless["replication"]["disksToInclude"] = ["6000C291-1a2b-4c3d-8e9f-000000000101", "6000C291-ffff"]
    plan["groups"][2]["machines"].append(unknown)
    result = cli("validate", str(_write(tmp_path / "plan.yaml", plan)), "--topology", str(TOPOLOGY))
    assert result.code == 1, result.text
    text = " ".join(result.out.split())
    assert "groups[2].machines[2].replication.disksToInclude[1]: disk '6000C291-ffff' is not a disk of the" in text
    assert "groups[2].machines[3].asr.discoveredMachineId: Azure Migrate has not discovered" in text
    assert "2 of 7 machines cannot run as planned" in text


def test_an_already_protected_machine_is_adopted(tmp_path: Path) -> None:
    topology = yaml.safe_load(TOPOLOGY.read_text(encoding="utf-8"))
    topology["vaults"][0]["protectedItems"] = [
        {
            "name": "hv-file01",
            "fabric": "hyperv-site",
            "container": "hyperv-cloud",
            "machine": "20000000-0000-0000-0000-000000000001",
            "mapping": "hyperv-to-azure",
            "state": "Protected",
        }
    ]
    result = cli("validate", str(MIXED), "--topology", str(_write(tmp_path / "topology.yaml", topology)))
    assert result.code == 0, result.text
    assert result.out.count("already protected") == 1


def test_schema_only_needs_no_site_recovery() -> None:
    result = cli("validate", str(MIXED), "--schema-only")
    assert result.code == 0 and "matches the schema" in result.out and "Pre-flight" not in result.out


def test_an_unreachable_site_recovery_is_one_clear_error() -> None:
    result = cli("validate", str(MIXED), "--arm-endpoint", f"http://127.0.0.1:{free_port()}")
    assert_clean_error(result, "Site Recovery could not be read while checking db01")


def test_a_bad_topology_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "topology.yaml"
    bad.write_text("vaults: [{name: x}]\n", encoding="utf-8")
    assert_clean_error(cli("validate", str(MIXED), "--topology", str(bad)), f"The topology {bad} cannot be used")


# -- does the target fit? Against an emulator of the test's own, so its calls show that nothing was changed -----------

AZURE = EXAMPLES / "plans" / "azure.yaml"
NEU = "northeurope"


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with start_emulator(TOPOLOGY) as handle:
        yield handle


def _azure(**targets: dict[str, Any]) -> dict[str, Any]:
    """The Azure VM example (app01 and app02 to North Europe), each machine's target updated by name."""
    plan: dict[str, Any] = yaml.safe_load(AZURE.read_text(encoding="utf-8"))
    for machine in plan["groups"][0]["machines"]:
        machine["target"].update(targets.get(machine["name"], {}))
    return plan


def _validate(emu: EmulatorHandle, plan_file: Path) -> tuple[Result, str]:
    """``validate`` against ``emu``; the result, its output on one line, once it is clear nothing was changed."""
    result = cli("validate", str(plan_file), "--arm-endpoint", emu.base_url)
    calls = emu.calls.calls()
    assert calls and {call.method for call in calls} == {"GET"}, [(c.method, c.operation) for c in calls]
    assert emu.items() == [] and emu.migration_items() == []
    return result, " ".join(result.out.split())


def test_a_size_restricted_in_the_region_is_refused_with_the_reason(emu: EmulatorHandle, tmp_path: Path) -> None:
    emu.add_fault({"kind": "skuRestriction", "location": NEU, "sku": "Standard_D4s_v5", "type": "Location"})
    plan = _azure(app01={"vmSize": "Standard_D4s_v5"})
    result, text = _validate(emu, _write(tmp_path / "plan.yaml", plan))
    assert result.code == 1, result.text
    assert (
        "groups[0].machines[0].target.vmSize: Standard_D4s_v5 is not available to the subscription in northeurope "
        f"(subscription {emu.subscription_id}; NotAvailableForSubscription)"
    ) in text
    assert "1 of 2 machines cannot run as planned; nothing was changed. The target does not fit for app01." in text


def test_a_size_restricted_in_the_planned_zone_is_refused(emu: EmulatorHandle, tmp_path: Path) -> None:
    emu.add_fault({"kind": "skuRestriction", "location": NEU, "sku": "Standard_D2s_v5", "type": "Zone", "zones": ["2"]})
    plan = _azure(app02={"availabilityZone": "2"})  # app01 has no zone: the zone's restriction is not its concern
    result, text = _validate(emu, _write(tmp_path / "plan.yaml", plan))
    assert result.code == 1, result.text
    assert (
        "groups[0].machines[1].target.vmSize: Standard_D2s_v5 is not available to the subscription in zone 2 of "
        f"northeurope (subscription {emu.subscription_id}; NotAvailableForSubscription)"
    ) in text
    assert "1 of 2 machines cannot run as planned" in text and "machines[0].target.vmSize: Standard" not in text


def test_vcpus_beyond_the_family_quota_are_refused_with_the_figures(tmp_path: Path) -> None:
    topology = yaml.safe_load(TOPOLOGY.read_text(encoding="utf-8"))
    north = next(region for region in topology["compute"] if region["location"] == NEU)
    north["quotas"] = [
        {"name": "cores", "limit": 100},
        {"name": "standardDSv5Family", "limit": 50, "used": 40},
    ]
    topology_file = _write(tmp_path / "topology.yaml", topology)
    plan = _azure(app01={"vmSize": "Standard_D8s_v5"}, app02={"vmSize": "Standard_D8s_v5"})
    result = cli("validate", str(_write(tmp_path / "plan.yaml", plan)), "--topology", str(topology_file))
    assert result.code == 1, result.text
    text = " ".join(result.out.split())
    figures = "standardDSv5Family in northeurope: the plan needs 16 vCPUs, 40 of 50 are in use, 10 are free"
    for index in (0, 1):
        assert f"groups[0].machines[{index}].target.vmSize: {figures}" in text
    assert "2 of 2 machines cannot run as planned" in text


def test_an_exhausted_quota_refuses_even_the_source_vms_size(emu: EmulatorHandle, tmp_path: Path) -> None:
    emu.add_fault({"kind": "quotaExhausted", "location": NEU, "name": "cores"})
    result, text = _validate(emu, _write(tmp_path / "plan.yaml", _azure()))
    assert result.code == 1, result.text
    assert "cores in northeurope: the plan needs 4 vCPUs, 100 of 100 are in use, 0 are free" in text
    assert "its source VM's size, Standard_D2s_v5" in text  # what Site Recovery will give the targets is said


def test_a_plan_that_fits_passes_and_reads_each_list_once(emu: EmulatorHandle, tmp_path: Path) -> None:
    plan = _azure(app01={"vmSize": "Standard_D8s_v5", "availabilityZone": "1"}, app02={"vmSize": "Standard_E4s_v5"})
    result, text = _validate(emu, _write(tmp_path / "plan.yaml", plan))
    assert result.code == 0, result.text
    assert "All 2 machines resolve and their target fits; the plan can run." in text and "warning" not in text
    # Per region one SKU list and one usage list; per machine one GET of its target VM (sizes given: no source read).
    assert (emu.call_count("ResourceSkus_List"), emu.call_count("Usage_List")) == (1, 1)
    assert emu.call_count("VirtualMachines_Get") == 2


def test_a_vm_name_already_taken_is_refused(emu: EmulatorHandle, tmp_path: Path) -> None:
    plan = _plan()
    db01 = plan["groups"][0]["machines"][0]
    apps = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-apps"
    db01["target"] = {**db01["target"], "resourceGroupId": apps, "vmName": "app02"}  # the Azure VM app02 is there
    result, text = _validate(emu, _write(tmp_path / "plan.yaml", plan))
    assert result.code == 1, result.text
    assert "groups[0].machines[0].target.vmName: a VM named app02 already exists in resource group rg-apps" in text
    assert "1 of 6 machines cannot run as planned" in text


def test_a_machine_without_a_size_is_a_warning_not_a_refusal(emu: EmulatorHandle) -> None:
    result, text = _validate(emu, MIXED)
    assert result.code == 0, result.text
    assert (
        "warning: groups[0].machines[0].target.vmSize: no size given: Site Recovery picks the target VM's size"
    ) in text
    assert text.count("warning: ") == 5  # every machine but the Azure VM, whose size is its source VM's
    assert "note: groups[1].machines[0].target.vmSize: no size given: an Azure VM's target takes" in text
    assert "Some checks could not be made: see the warnings above." in text


def test_a_target_region_that_cannot_be_read_is_a_warning_naming_why(emu: EmulatorHandle, tmp_path: Path) -> None:
    plan = _plan()
    hyperv = plan["groups"][0]["machines"][1]
    hyperv["target"] = {
        **hyperv["target"],
        "vmSize": "Standard_D2s_v5",
    }  # a Hyper-V machine lands in the vault's region
    result, text = _validate(emu, _write(tmp_path / "plan.yaml", plan))
    assert result.code == 0, result.text
    # The vault resource itself was asked for its region, once; the emulator does not serve that GET (Azure does:
    # Recovery Services Vaults_Get), so what it answered is quoted and nothing is judged.
    vault = f"/subscriptions/{emu.subscription_id}/resourceGroups/rg-migration/providers/Microsoft.RecoveryServices"
    assert [call.path for call in emu.calls.calls()].count(f"{vault}/vaults/vault-migration") == 1
    assert (
        "warning: groups[0].machines[1].target.vmSize: the target region is not known (vault vault-migration could "
        "not be read: "
    ) in text
