"""The topology file: the example loads, and every problem is reported with its path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulators.siterecovery import TopologyError, load_topology, parse_topology
from tests.emulators.siterecovery.conftest import TOPOLOGY


def minimal() -> dict[str, Any]:
    return {
        "vaults": [
            {
                "subscriptionId": "s",
                "resourceGroup": "r",
                "name": "v",
                "fabrics": [
                    {
                        "name": "f",
                        "kind": "Azure",
                        "location": "westeurope",
                        "containers": [{"name": "c", "machines": [{"name": "m", "vmId": "/vm/m"}]}],
                    }
                ],
                "policies": [{"name": "p", "provider": "A2A"}],
            }
        ]
    }


def test_example_topology_loads() -> None:
    topology = load_topology(TOPOLOGY)
    vault = topology.vaults[0]
    assert {f.kind for f in vault.fabrics} == {"Azure", "InMageRcm", "HyperVSite", "VMwareV2"}
    kinds = {m.kind for f in vault.fabrics for c in f.containers for m in c.machines}
    assert {"VMware", "Physical", "AWS"} <= kinds


def test_json_topology(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(minimal()))
    assert load_topology(path).vaults[0].name == "v"


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda t: t["vaults"][0]["fabrics"][0].pop("location"), "vaults[0].fabrics[0].location: required"),
        (lambda t: t["vaults"][0]["fabrics"][0].update(kind="VMM"), "vaults[0].fabrics[0].kind: Input should be"),
        (
            lambda t: t["vaults"][0]["fabrics"][0]["containers"][0]["machines"][0].update(disksGB=[10, -1]),
            "vaults[0].fabrics[0].containers[0].machines[0].disksGB: sizes must be positive",
        ),
        (
            lambda t: t["vaults"][0]["fabrics"][0]["containers"][0]["machines"][0].pop("vmId"),
            "vaults[0].fabrics[0].containers[0].machines[0].vmId: required",
        ),
        (lambda t: t["vaults"][0]["policies"][0].update(provider="VMwareCbt"), "vaults[0].policies[0].provider"),
        (
            lambda t: t["vaults"][0].update(
                containerMappings=[{"name": "m", "fabric": "f", "container": "x", "policy": "p"}]
            ),
            "vaults[0].containerMappings[0].container: unknown container 'x'",
        ),
        (
            lambda t: t["vaults"][0].update(
                containerMappings=[{"name": "m", "fabric": "f", "container": "c", "policy": "p"}]
            ),
            "vaults[0].containerMappings[0].targetFabric: required for an A2A mapping",
        ),
        (
            lambda t: t["vaults"][0].update(
                policies=[{"name": "p", "provider": "InMageRcm"}],
                containerMappings=[{"name": "m", "fabric": "f", "container": "c", "policy": "p"}],
            ),
            "vaults[0].containerMappings[0].policy: a InMageRcm policy cannot protect a Azure fabric",
        ),
        (lambda t: t.update(faults=[{"kind": "throttle", "count": 0}]), "faults[0].count"),
        (lambda t: t.update(faults=[{"kind": "earthquake"}]), "faults[0]"),
        (lambda t: t["vaults"][0].update(extra=1), "vaults[0].extra: Extra inputs are not permitted"),
        (lambda t: t.update(vaults=[]), "vaults: List should have at least 1 item"),
    ],
)
def test_problems_name_their_path(mutate: Any, problem: str) -> None:
    topology = minimal()
    mutate(topology)
    with pytest.raises(TopologyError) as invalid:
        parse_topology(topology)
    assert any(p.startswith(problem) or problem in p for p in invalid.value.problems), invalid.value.problems


def test_unreadable_yaml(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("vaults: [\n")
    with pytest.raises(TopologyError) as invalid:
        load_topology(path)
    assert "not valid YAML" in str(invalid.value)
