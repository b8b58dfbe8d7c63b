"""``validate``: the schema, then the read-only pre-flight against a Site Recovery emulator started from a topology."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from tests.cli.helpers import MIXED, TOPOLOGY, assert_clean_error, cli, free_port


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _plan() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(MIXED.read_text(encoding="utf-8")))


def test_the_mixed_wave_resolves_and_says_what_would_run() -> None:
    result = cli("validate", str(MIXED), "--topology", str(TOPOLOGY))
    assert result.code == 0, result.text
    assert result.out.count("  ok ") == 6
    assert "→ unplannedFailover → completeMigration → migrated" in result.out  # agentless: no commit
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
