"""Discovery from the app object, the ``func start`` listing, and loud refusals of what is unsupported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from emulators.functions import AppLoadError, load_app, start_host

REPO = Path(__file__).resolve().parents[3]


def test_durable_app_functions_are_indexed_with_triggers_and_bindings() -> None:
    loaded = load_app("tests.emulators.functions.apps.durable_app:app")
    kinds = {s.name: s.kind for s in loaded.functions}
    assert kinds["http_start"] == "http" and kinds["sequence"] == "orchestration" and kinds["hello"] == "activity"
    starter = loaded.by_name("http_start")
    assert starter is not None and starter.client_param == "client"
    assert starter.http is not None and starter.http.route == "start/{name}" and starter.http.methods == ("POST",)
    assert starter.http.auth_level == "function"
    assert "sequence" in loaded.orchestrators and "hello" in loaded.activities


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests.emulators.functions.apps.bad_apps:queue_output", "function 'enqueue': binding 'msg' of type 'queue'"),
        ("tests.emulators.functions.apps.bad_apps:blob_trigger", "function 'on_blob': trigger type 'blobTrigger'"),
        ("tests.emulators.functions.apps.bad_apps:entities", "function 'counter_entity': durable entities"),
        ("tests.emulators.functions.apps.bad_apps:sessions", "function 'session_listener': session-enabled"),
        ("tests.emulators.functions.apps.bad_apps:not_an_app", "not a FunctionApp"),
        ("tests.emulators.functions.apps.bad_apps:missing", "has no attribute 'missing'"),
        ("tests.emulators.functions.apps.no_such_module:app", "cannot import app module"),
    ],
)
def test_unsupported_apps_fail_loudly_naming_the_function(target: str, message: str) -> None:
    with pytest.raises(AppLoadError, match=message.replace("(", r"\(")):
        load_app(target)


def test_start_prints_the_function_listing_and_the_cli_refuses_bad_apps(tmp_path: Path) -> None:
    handle = start_host("tests.emulators.functions.apps.http_app:app", app_dir=tmp_path, data_dir=tmp_path / "d")
    try:
        listing = "\n".join(handle.host.listing)
        assert f"get_item: [GET] {handle.base_url}/api/items/{{id:int}}" in listing
        assert f"renamed: [GET] {handle.base_url}/api/renamed" in listing
        assert f"files: [GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS,TRACE] {handle.base_url}/api/files/{{*path}}" in listing
    finally:
        handle.stop()
    proc = subprocess.run(
        [sys.executable, "-m", "emulators.functions", "--app", "tests.emulators.functions.apps.bad_apps:blob_trigger"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "function 'on_blob': trigger type 'blobTrigger' is not supported" in proc.stderr


def test_the_projects_function_app_runs_unchanged(tmp_path: Path) -> None:
    handle = start_host("function_app:app", app_dir=REPO, data_dir=tmp_path / "d")
    try:
        from tests.emulators.functions.conftest import http

        reply = http("GET", f"{handle.base_url}/api/health")
        assert reply.status == 200 and reply.json() == {"status": "ok"}
    finally:
        handle.stop()
