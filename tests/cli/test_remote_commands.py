"""The commands that drive an app by its HTTP routes, against the app on the local host (started as for ``run``)."""

from __future__ import annotations

import copy
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.local_identity import LOCAL_USER
from cli.local_stack import LocalStack, local_stack
from tests.cli.helpers import MIXED, Result, cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("stack"), speed=3600) as running:
        yield running


def plan_file(folder: Path, plan_id: str, machines: set[str]) -> Path:
    document: dict[str, Any] = copy.deepcopy(yaml.safe_load(MIXED.read_text(encoding="utf-8")))
    document["id"] = plan_id
    document["options"].pop("drAfterMigration", None)
    document["groups"] = [
        {**g, "machines": [m for m in g["machines"] if m["name"] in machines]}
        for g in document["groups"]
        if any(m["name"] in machines for m in g["machines"])
    ]
    path = folder / f"{plan_id}.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def on(stack: LocalStack, *args: str, timeout: float = 60) -> Result:
    return cli(*args, "--endpoint", stack.app_url, "--local-sign-in", str(stack.sign_in_folder), timeout=timeout)


def status(stack: LocalStack, plan_id: str) -> dict[str, Any]:
    result = on(stack, "status", plan_id, "--json")
    assert "Traceback" not in result.text
    document: dict[str, Any] = json.loads(result.out)
    return document


def wait_for_phase(
    stack: LocalStack, plan_id: str, phase: str, timeout: float = 120, *, allow_held: bool = False
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        document = status(stack, plan_id)
        if document.get("phase") == phase:
            return document
        assert (allow_held or document.get("phase") != "held") and document.get("status") == "Running", document
        assert time.monotonic() < deadline, document
        time.sleep(0.5)


def test_submit_approve_watch_report_list(stack: LocalStack, tmp_path: Path) -> None:
    plan = plan_file(tmp_path, "remote-wave", {"db01", "web01"})
    first = on(stack, "submit", str(plan))
    assert first.code == 0 and "Accepted: remote-wave (Running)" in first.out, first.text
    assert "approve: http://" in first.out, "the links are shown"
    again = on(stack, "submit", str(plan))
    assert again.code == 0 and "Accepted: remote-wave (Running)" in again.out, again.text

    gate = wait_for_phase(stack, "remote-wave", "awaitingApproval")
    assert gate["status"] == "Running"
    assert {m["name"] for m in gate["machines"]} == {"db01", "web01"}

    approved = on(stack, "approve", "remote-wave", "--reason", "change 42 approved", "--actor", "ops@example.com")
    assert approved.code == 0 and "approve: accepted=True" in approved.out, approved.text
    watched = on(stack, "watch", "remote-wave", "--approve", "never", "--interval", "0.5", timeout=200)
    assert watched.code == 0, watched.text
    assert "remote-wave: Migrated" in watched.out

    machine = on(stack, "status", "remote-wave", "--machine", "db01")
    assert machine.code == 0 and json.loads(machine.out)["name"] == "db01", machine.text
    final = status(stack, "remote-wave")
    assert final["status"] == "Migrated"
    approvals = [(c.get("actor"), c.get("assertedActor")) for c in final.get("controls") or []]
    assert approvals == [(LOCAL_USER.name, "ops@example.com")], "the signed-in user acted; --actor is a note"

    for name in ("report.html", "report.csv", "report.json"):
        written = on(stack, "report", "remote-wave", "-o", str(tmp_path / name))
        assert written.code == 0, written.text
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count('class="machine-row"') == 2
    csv_lines = (tmp_path / "report.csv").read_text(encoding="utf-8").strip().splitlines()
    assert len(csv_lines) == 3 and "db01" in csv_lines[1]

    listed = on(stack, "list")
    assert listed.code == 0 and len(re.findall(r"^remote-wave +Migrated ", listed.out, re.M)) == 1, listed.text
    repeat = on(stack, "submit", str(plan))
    assert repeat.code == 0 and "Already submitted and ended: remote-wave (Migrated)" in repeat.out, repeat.text


def test_cancel_rolls_back_and_status_exits_non_zero(stack: LocalStack, tmp_path: Path) -> None:
    plan = plan_file(tmp_path, "cancelled-wave", {"hv-file01"})
    assert on(stack, "submit", str(plan)).code == 0
    wait_for_phase(stack, "cancelled-wave", "awaitingApproval")
    cancelled = on(stack, "cancel", "cancelled-wave", "--reason", "not this weekend")
    assert cancelled.code == 0, cancelled.text
    watched = on(stack, "watch", "cancelled-wave", "--approve", "never", "--interval", "0.5", timeout=200)
    assert watched.code == 3, watched.text
    assert "cancelled-wave: Cancelled" in watched.out
    shown = on(stack, "status", "cancelled-wave")
    assert shown.code == 3 and "Traceback" not in shown.text


def test_a_refused_command_is_explained(stack: LocalStack, tmp_path: Path) -> None:
    result = on(stack, "postpone", "no-such-wave", "--not-before", "2026-01-01T00:00:00Z", "--not-after", "soon")
    assert result.code != 0 and "Traceback" not in result.text
    assert result.err.startswith("error: ")


def test_a_failed_machine_holds_the_wave_until_retried(stack: LocalStack, tmp_path: Path) -> None:
    fault = {"kind": "jobFailure", "scenario": "TestFailover", "machine": "aws-web01", "errorCode": "28031"}
    request = urllib.request.Request(
        f"{stack.asr_url}/_emulator/faults",
        data=json.dumps(fault).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        fault_id = json.loads(answer.read())["id"]
    plan = plan_file(tmp_path, "retried-wave", {"aws-web01"})
    assert on(stack, "submit", str(plan)).code == 0
    held = wait_for_phase(stack, "retried-wave", "held", allow_held=True)
    assert held["hold"]["reason"] == "machinesFailed"
    shown = on(stack, "status", "retried-wave")
    assert "held: machinesFailed" in " ".join(shown.out.split()) and "28031" in shown.out, shown.text
    remove = urllib.request.Request(f"{stack.asr_url}/_emulator/faults/{fault_id}", method="DELETE")
    urllib.request.urlopen(remove, timeout=10).close()
    retried = on(stack, "retry", "retried-wave", "--machine", "aws-web01", "--reason", "disk fixed")
    assert retried.code == 0, retried.text
    watched = on(stack, "watch", "retried-wave", "--approve", "auto", "--interval", "0.5", timeout=200)
    assert watched.code == 0 and "retried-wave: Migrated" in watched.out, watched.text
