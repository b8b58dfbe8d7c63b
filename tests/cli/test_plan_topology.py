"""``run`` picks a topology: the given one (the plan must resolve in it), the example's, or one built from the plan."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from azure.mgmt.recoveryservicessiterecovery.models import InMageRcmFabricSpecificDetails

from cli.plan_file import load_plan
from cli.plan_topology import topology_for
from emulators.siterecovery import start_emulator
from emulators.siterecovery.client import emulator_client
from tests.cli.helpers import EXAMPLES, MIXED, SPEED, TOPOLOGY, assert_clean_error, cli


@pytest.mark.parametrize("plan", sorted(p.name for p in (EXAMPLES / "plans").glob("*.yaml")))
def test_every_example_plan_resolves_in_the_topology_built_from_it(plan: str, tmp_path: Path) -> None:
    topology = tmp_path / "topology.yaml"
    topology.write_text(yaml.safe_dump(topology_for(load_plan(EXAMPLES / "plans" / plan))), encoding="utf-8")
    result = cli("validate", str(EXAMPLES / "plans" / plan), "--topology", str(topology))
    assert result.code == 0, result.text


def test_a_given_topology_the_plan_does_not_resolve_in_is_refused_before_anything_starts(tmp_path: Path) -> None:
    other = tmp_path / "plan.yaml"
    other.write_text(MIXED.read_text(encoding="utf-8").replace("hyperv-policy", "other-policy"), encoding="utf-8")
    result = cli("run", str(other), "--topology", str(TOPOLOGY), "--data", str(tmp_path / "data"))
    assert_clean_error(result, "does not resolve in the topology", "replication policy 'other-policy'")
    assert not list((tmp_path / "data").glob("*/*.log")), "no stand-in was started"


@pytest.mark.slow
def test_a_plan_outside_the_example_topology_runs_on_one_built_for_it(tmp_path: Path) -> None:
    document = yaml.safe_load((EXAMPLES / "plans" / "hyperv.yaml").read_text(encoding="utf-8"))
    for group in document["groups"]:
        for machine in group["machines"]:
            machine["asr"]["vault"]["name"] = "vault-elsewhere"
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = cli("run", str(plan), "--approve", "auto", "--speed", SPEED, "--data", str(tmp_path / "data"), timeout=200)
    assert result.code == 0, result.text
    assert "using a topology built from it" in result.out
    built = next((tmp_path / "data").glob("run-*/topology.yaml"))
    assert yaml.safe_load(built.read_text(encoding="utf-8"))["vaults"][0]["name"] == "vault-elsewhere"


def test_the_built_topology_declares_the_process_servers_the_plan_names(tmp_path: Path) -> None:
    """ASR refuses an enable through a process server its fabric does not list, so the topology lists each one."""
    server = "0b7e5f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    text = (EXAMPLES / "plans" / "vmware.yaml").read_text(encoding="utf-8")
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(text.replace("7d3a1c52-0f0e-4b6a-9d0c-5f2a8e1b7c11", server), encoding="utf-8")
    plan = load_plan(plan_file)
    topology = topology_for(plan)
    machine = next(m for _, m in plan.machines())
    with start_emulator(topology) as asr:
        client = emulator_client(asr.base_url, machine.asr.vault.subscription_id)
        fabric = client.replication_fabrics.get(
            machine.asr.vault.resource_group, machine.asr.vault.name, machine.asr.fabric
        )
        assert fabric.properties is not None
        details = fabric.properties.custom_details
        assert isinstance(details, InMageRcmFabricSpecificDetails) and details.process_servers
        assert [ps.id for ps in details.process_servers] == [server]
        assert details.process_servers[0].health == "Normal"
