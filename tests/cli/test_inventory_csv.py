"""``import``: the example inventory becomes the mixed wave's machines; the result validates and runs as a plan."""

from __future__ import annotations

from pathlib import Path

import yaml

from migration.plan import validate_plan
from tests.cli.helpers import EXAMPLES, MIXED, cli


def test_the_example_inventory_gives_the_mixed_waves_machines(tmp_path: Path) -> None:
    out = tmp_path / "plan.yaml"
    options = tmp_path / "options.yaml"
    options.write_text("maxParallel: 2\napproval: {required: true}\n", encoding="utf-8")
    result = cli(
        "import",
        str(EXAMPLES / "inventory.csv"),
        "--id",
        "from-csv",
        "--name",
        "From CSV",
        "-o",
        str(out),
        "--options",
        str(options),
    )
    assert result.code == 0, result.text
    assert "6 machines in 3 groups" in result.out
    built = validate_plan(yaml.safe_load(out.read_text(encoding="utf-8")))
    example = validate_plan(yaml.safe_load(MIXED.read_text(encoding="utf-8")))
    assert [g.name for g in built.groups] == [g.name for g in example.groups]
    assert built.options.max_parallel == 2
    for (_, mine), (_, theirs) in zip(built.machines(), example.machines(), strict=True):
        assert mine.model_dump(exclude={"target"}) == theirs.model_dump(exclude={"target"})
        assert mine.target.network_id == theirs.target.network_id
    checked = cli("validate", str(out), "--topology", str(EXAMPLES / "topology.yaml"))
    assert checked.code == 0, checked.text


def test_plan_to_stdout_and_blank_lines_ignored(tmp_path: Path) -> None:
    lines = (EXAMPLES / "inventory.csv").read_text(encoding="utf-8").splitlines()
    inventory = tmp_path / "inv.csv"
    inventory.write_text("\n".join([lines[0], lines[1], ",,,", lines[2]]) + "\n", encoding="utf-8")
    result = cli("import", str(inventory), "--id", "two")
    assert result.code == 0, result.text
    plan = yaml.safe_load(result.out)
    assert [m["name"] for g in plan["groups"] for m in g["machines"]] == ["db01", "hv-file01"]


def test_a_row_with_too_many_cells_is_named(tmp_path: Path) -> None:
    lines = (EXAMPLES / "inventory.csv").read_text(encoding="utf-8").splitlines()
    inventory = tmp_path / "inv.csv"
    inventory.write_text("\n".join([lines[0], lines[1] + ",extra"]) + "\n", encoding="utf-8")
    result = cli("import", str(inventory), "--id", "x")
    assert result.code == 1 and "line 2: more cells than columns" in " ".join(result.err.split())


def test_disks_to_include_is_one_cell_of_semicolon_separated_ids(tmp_path: Path) -> None:
    lines = (EXAMPLES / "inventory.csv").read_text(encoding="utf-8").splitlines()
    header, agentless = lines[0] + ",disksToInclude", next(line for line in lines if line.startswith("vmw-"))
    disks = "6000C291-1a2b-4c3d-8e9f-000000000101; 6000C291-1a2b-4c3d-8e9f-000000000102"
    inventory = tmp_path / "inv.csv"
    inventory.write_text(f"{header}\n{agentless},{disks}\n", encoding="utf-8")
    result = cli("import", str(inventory), "--id", "disks")
    assert result.code == 0, result.text
    machine = yaml.safe_load(result.out)["groups"][0]["machines"][0]
    assert machine["replication"]["method"] == "agentless"
    assert machine["replication"]["disksToInclude"] == [
        "6000C291-1a2b-4c3d-8e9f-000000000101",
        "6000C291-1a2b-4c3d-8e9f-000000000102",
    ]
