"""API fuzzing: schemathesis generates requests from ``/api/openapi.json`` and sends them to the app on the host.

Checks: no answer is a 5xx, every answer's status and body are ones the document declares, and afterwards every
migration that exists was started from a plan that validates (a fuzzed request that started one from an invalid
plan would be a hole in the validation). A migration that exists before the run (the id the document's examples
use) gives the routes that read and steer one something to hit. The host's own bare 401 (no body, no
Content-Type, as the Functions host answers) is why content-type conformance is not among the checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from migration.instance_ids import Kind, parse
from migration.plan import validate_plan
from tests.triggers.stack import ApiStack, api_stack, small_plan

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    with api_stack(tmp_path_factory.mktemp("fuzz-stack")) as running:
        yield running


def test_schemathesis_finds_no_server_error_and_starts_nothing_invalid(stack: ApiStack, tmp_path: Path) -> None:
    assert stack.call("POST", "/migrations", small_plan("wave-2026-12", "db01")).status == 202
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{stack.api}/openapi.json",
        "--header",
        f"Authorization: Bearer {stack.token()}",
        "--checks",
        "not_a_server_error,status_code_conformance,response_schema_conformance",
        "--max-examples",
        "50",
        "--seed",
        "20261127",
        "--phases",
        "examples,coverage,fuzzing",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert "No issues found" in output or "passed" in output.lower(), output[-2000:]

    listed = stack.management("GET", "instances/?instanceIdPrefix=migration~&showInput=true").json()
    waves = [i for i in listed if parse(i["instanceId"]).kind is Kind.WAVE]
    assert waves, "the target migration at least"
    for instance in waves:
        wave_input = instance["input"]
        if isinstance(wave_input, str):
            wave_input = json.loads(wave_input)
        validate_plan(wave_input["plan"])
