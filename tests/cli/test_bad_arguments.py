"""Bad input gets one clear paragraph and a non-zero exit, never a traceback, and changes nothing."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from cli.local_identity import ISSUER_FOLDER
from cli.local_identity import prepare as prepare_sign_in
from emulators.functions import HostHandle, start_host
from emulators.functions.local_entra import LocalEntra
from tests.cli.helpers import MIXED, REPO, assert_clean_error, cli, free_port


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostHandle]:
    """The app on the local Functions host behind the local App Service authentication, as ``run`` starts it
    (no Site Recovery needed: nothing here gets that far)."""
    data = tmp_path_factory.mktemp("host")
    _, auth_settings = prepare_sign_in(data)
    handle = start_host("function_app:app", app_dir=REPO, data_dir=data, easy_auth=auth_settings)
    try:
        yield handle
    finally:
        handle.stop()


def test_a_missing_plan_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    for args in (("run", str(missing), "--data", str(tmp_path / "data")), ("validate", str(missing))):
        assert_clean_error(cli(*args), f"The plan file {missing} does not exist")
    assert not (tmp_path / "data").exists(), "nothing was started"


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("id: x\nname: [unclosed\ngroups: []\n", encoding="utf-8")
    assert_clean_error(cli("run", str(plan), "--data", str(tmp_path / "data")), "is not valid YAML", "line 3")
    assert not (tmp_path / "data").exists()


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('{"id": "x",\n "name": }', encoding="utf-8")
    assert_clean_error(cli("validate", str(plan)), "is not valid JSON", "line 2, column 10")


def test_an_invalid_plan_lists_every_problem_by_path(tmp_path: Path) -> None:
    document = yaml.safe_load(MIXED.read_text(encoding="utf-8"))
    document["groups"][0]["machines"][0]["target"]["networkId"] = "not-an-id"
    del document["groups"][1]["machines"][0]["asr"]["fabric"]
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = cli("run", str(plan), "--data", str(tmp_path / "data"))
    assert_clean_error(
        result, "is invalid (3 problems)", "groups[0].machines[0].target.networkId", "groups[1].machines[0].asr.fabric"
    )
    assert not (tmp_path / "data").exists()


def test_a_plan_that_is_not_a_mapping(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("- just\n- a list\n", encoding="utf-8")
    assert_clean_error(cli("validate", str(plan)), "is a list; a plan is a mapping")


def test_an_unreachable_endpoint(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    assert_clean_error(cli("status", "wave-1", "--endpoint", endpoint), f"Cannot reach the app at {endpoint}")
    assert_clean_error(cli("submit", str(MIXED), "--endpoint", endpoint), "Cannot reach the app")


def test_no_endpoint_for_a_remote_command() -> None:
    result = cli("status", "wave-1")
    assert_clean_error(result, "No endpoint: pass --endpoint")
    assert result.code == 2


def test_a_malformed_endpoint() -> None:
    assert_clean_error(cli("list", "--endpoint", "ftp:/nowhere"), "is not an http(s) URL")


def _issuer(host: HostHandle) -> str:
    return str(host.data_dir / ISSUER_FOLDER)


def test_no_sign_in_or_another_issuers_token_is_refused_and_submits_nothing(host: HostHandle, tmp_path: Path) -> None:
    result = cli("submit", str(MIXED), "--endpoint", host.base_url)
    assert_clean_error(result, "did not accept the sign-in", "HTTP 401", "--entra-scope", "--local-sign-in")
    stranger = tmp_path / "another-issuer"
    LocalEntra.load_or_create(stranger)
    result = cli("submit", str(MIXED), "--endpoint", host.base_url, "--local-sign-in", str(stranger))
    assert_clean_error(result, "did not accept the sign-in", "HTTP 401")
    result = cli("status", "wave-2026-12", "--endpoint", host.base_url, "--local-sign-in", str(tmp_path / "nope"))
    assert_clean_error(result, "No local token issuer in", "nope")
    listing = cli("list", "--json", "--endpoint", host.base_url, "--local-sign-in", _issuer(host))
    assert listing.code == 0, listing
    assert json.loads(listing.out)["items"] == [], "the refused submissions started nothing"


def test_an_unknown_migration(host: HostHandle) -> None:
    result = cli("status", "no-such-wave", "--endpoint", host.base_url, "--local-sign-in", _issuer(host))
    assert_clean_error(result, "no-such-wave")


def test_usage_errors_exit_2() -> None:
    result = cli("explode")
    assert_clean_error(result, "invalid choice: 'explode'")
    assert result.code == 2
    result = cli("run", str(MIXED), "--speed", "-5")
    assert_clean_error(result, "must be greater than zero")


def test_a_bad_inventory_reports_lines_and_writes_nothing(tmp_path: Path) -> None:
    with (REPO / "examples" / "inventory.csv").open(encoding="utf-8") as source:
        good = list(csv.reader(source))
    network, kind = good[0].index("targetNetworkId"), good[0].index("sourceKind")
    good[3][network] = "not-an-id"
    good[4][kind] = "mainframe"
    text = [",".join(row) for row in good]
    rows = [text[0] + ",colour", text[1] + ",blue", text[2] + ",blue", text[3] + ",red", text[1] + ",green"]
    rows.append(text[4] + ",x")
    inventory = tmp_path / "inventory.csv"
    inventory.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "plan.yaml"
    result = cli("import", str(inventory), "--id", "from-csv", "-o", str(out))
    assert_clean_error(result, "line 1: unknown column 'colour'")
    assert not out.exists()
    inventory.write_text("\n".join(line.rsplit(",", 1)[0] for line in rows) + "\n", encoding="utf-8")
    result = cli("import", str(inventory), "--id", "from-csv", "-o", str(out))
    assert_clean_error(
        result,
        "line 4, column targetNetworkId: not an ARM resource id",
        "line 5: machine 'db01' is already on line 2",
        "line 6",
    )
    assert not out.exists()
