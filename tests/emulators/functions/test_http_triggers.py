"""HTTP triggers over a real server: routes, constraints, methods, routePrefix, keys, conversions."""

from __future__ import annotations

import json
from pathlib import Path

from emulators.functions import start_host
from tests.emulators.functions.conftest import http


def _host(host_factory):
    return host_factory(
        "tests.emulators.functions.apps.http_app:app",
        host_json={"version": "2.0", "extensions": {"http": {"routePrefix": "v1"}}},
    )


def test_route_params_constraints_and_function_keys(host_factory) -> None:
    h = _host(host_factory)
    base = f"{h.base_url}/v1"
    assert http("GET", f"{base}/items/42").status == 401  # function level, no key
    assert http("GET", f"{base}/items/42?code=wrong").status == 401
    ok = http("GET", f"{base}/items/42?q=x&code={h.function_key}")
    assert ok.status == 200 and ok.headers["x-item"] == "yes"
    assert ok.headers["content-type"].startswith("application/json")
    body = ok.json()
    assert body["id"] == "42" and body["q"] == "x" and body["method"] == "GET"
    assert http("GET", f"{base}/items/42", headers={"x-functions-key": h.function_key}).status == 200
    assert http("GET", f"{base}/items/42", headers={"x-functions-key": h.admin_key}).status == 200
    # {id:int} does not match letters; {name:alpha} does (anonymous).
    assert http("GET", f"{base}/items/abc").body == b"named:abc"
    assert http("GET", f"{base}/items/a1b").status == 404
    assert http("GET", f"{h.base_url}/api/items/42?code={h.function_key}").status == 404  # prefix is v1


def test_admin_level_needs_the_master_key(host_factory) -> None:
    h = _host(host_factory)
    url = f"{h.base_url}/v1/items/7"
    assert http("DELETE", f"{url}?code={h.function_key}").status == 401
    assert http("DELETE", f"{url}?code={h.admin_key}").status == 204


def test_methods_catch_all_optional_and_default_routes(host_factory) -> None:
    h = _host(host_factory)
    base = f"{h.base_url}/v1"
    assert http("GET", f"{base}/echo").status == 405
    assert http("GET", f"{base}/files/a/b/c.txt").body == b"path=a/b/c.txt"
    assert http("GET", f"{base}/opt").body == b"name=<none>"
    assert http("GET", f"{base}/opt/zed").body == b"name=zed"
    reply = http("GET", f"{base}/renamed")
    assert reply.status == 200 and reply.body == b"default route is the function name"
    assert http("GET", f"{base}/nowhere").status == 404


def test_request_and_response_conversion_sync_and_async(host_factory) -> None:
    h = _host(host_factory)
    reply = http("PUT", f"{h.base_url}/v1/echo", json.dumps({"a": [1, 2]}), {"Content-Type": "application/json"})
    assert reply.status == 201 and reply.headers["x-echo"] == "1"
    assert reply.json()["json"] == {"a": [1, 2]}
    assert reply.json()["contentType"] == "application/json"
    assert reply.json()["thread"] == "functions-host-loop"  # coroutines run on the host's one loop
    assert http("GET", f"{h.base_url}/v1/sync").body.startswith(b"function")  # sync ones in the pool
    files = http("GET", f"{h.base_url}/v1/files/x")
    assert files.status == 200 and files.headers["content-type"].startswith("text/plain")


def test_a_raising_function_is_a_500_and_the_host_keeps_serving(host_factory) -> None:
    h = _host(host_factory)
    assert http("GET", f"{h.base_url}/v1/broken").status == 500
    assert http("GET", f"{h.base_url}/v1/opt/ok").status == 200


def test_keys_persist_in_the_secrets_file_and_settings_can_pin_them(tmp_path: Path) -> None:
    first = start_host("tests.emulators.functions.apps.http_app:app", app_dir=tmp_path, data_dir=tmp_path / "d")
    key = first.function_key
    first.stop()
    second = start_host("tests.emulators.functions.apps.http_app:app", app_dir=tmp_path, data_dir=tmp_path / "d")
    try:
        assert second.function_key == key
        secrets = json.loads((tmp_path / "d" / "secrets" / "host.json").read_text())
        assert secrets["functionKeys"][0]["value"] == key
    finally:
        second.stop()
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"IsEncrypted": False, "Values": {"FUNCTIONS_FUNCTION_KEY": "pinned-key", "MY_SETTING": "v"}})
    )
    third = start_host("tests.emulators.functions.apps.http_app:app", app_dir=tmp_path, data_dir=tmp_path / "d")
    try:
        assert third.function_key == "pinned-key"
        assert http("GET", f"{third.base_url}/api/items/1?code=pinned-key").status == 200
        import os

        assert os.environ["MY_SETTING"] == "v"
    finally:
        third.stop()


def test_a_context_parameter_receives_the_invocation_context(host_factory) -> None:
    h = _host(host_factory)
    first = http("GET", f"{h.base_url}/v1/whoami").json()
    second = http("GET", f"{h.base_url}/v1/whoami").json()
    assert first["function"] == "whoami" and first["invocation"] != second["invocation"]
