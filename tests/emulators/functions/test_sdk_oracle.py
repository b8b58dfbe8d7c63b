"""The SDK's own orchestrator tests as an external oracle for our id numbering (durable-host.md §7).

The azure-functions-durable 1.7.0 source distribution ships ``tests/``. It is downloaded at test time
(never committed), its package is renamed so it cannot clash with ours, and its history helper is wrapped
so that every history it builds also goes through our shim (``tests/emulators/functions/sdk_oracle.py``). Their
tests must still pass, and our shim must agree with every scheduled id in their histories.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

VERSION = "1.7.0"
REPO = Path(__file__).resolve().parents[3]
SKIP_MODULES = ("test_entity.py", "test_call_http.py", "openai_agents")

WRAPPER = """

def get_orchestration_state_result(context_builder, user_code, uses_pystein=False):
    from tests.emulators.functions.sdk_oracle import check_history
    if not uses_pystein:
        check_history(context_builder.to_json_string(), user_code)
    return _sdk_get_orchestration_state_result(context_builder, user_code, uses_pystein)
"""


@pytest.fixture(scope="module")
def sdk_tests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("sdk-sdist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-q", "-d", str(work)]
        + [f"azure-functions-durable=={VERSION}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.skip(f"the {VERSION} source distribution could not be downloaded: {proc.stderr.strip()[-400:]}")
    archive = next(work.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")
    src = work / f"azure_functions_durable-{VERSION}" / "tests"
    root = work / "pkgroot"
    dest = root / "sdk_tests"
    shutil.copytree(src, dest)
    for path in dest.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\b(from|import) tests\b", r"\1 sdk_tests", text)
        path.write_text(text, encoding="utf-8")
    utils = dest / "orchestrator" / "orchestrator_test_utils.py"
    text = utils.read_text(encoding="utf-8")
    text = text.replace("def get_orchestration_state_result(", "def _sdk_get_orchestration_state_result(", 1)
    utils.write_text(text + WRAPPER, encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return dest


def test_the_sdk_orchestrator_tests_pass_and_agree_with_our_numbering(sdk_tests: Path, tmp_path: Path) -> None:
    log = tmp_path / "oracle.log"
    targets = [
        str(p)
        for p in sorted((sdk_tests / "orchestrator").glob("test_*.py"))
        if not any(skip in p.name for skip in SKIP_MODULES)
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(sdk_tests.parent), str(REPO)])
    env["ORACLE_LOG"] = str(log)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-c", str(sdk_tests.parent / "pytest.ini"), *targets],
        cwd=str(sdk_tests.parent),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", proc.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= 75
    checked = [int(n) for n in log.read_text().split()]
    print(f"{passed} SDK tests passed; {len(checked)} histories replayed, {sum(checked)} scheduled ids matched")
    assert len(checked) >= 70  # histories our shim replayed
    assert sum(checked) >= 200  # scheduled ids it had to match
