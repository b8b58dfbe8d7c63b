"""Fixtures: in-process hosts on free ports, real HTTP helpers, and the replay-consistency check.

Every host a test starts is checked when the test ends: each instance it left behind is replayed from
its stored history through the SDK and must reproduce the stored status, output and custom status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.functions import HostHandle, start_host
from emulators.functions.consistency import check_hub
from tests.support.http_client import Reply as Reply  # re-exported: the tests import it from here
from tests.support.http_client import http as http
from tests.support.polling import wait_until as wait_until


def mgmt(handle: Any, method: str, path: str, body: bytes | str | None = None, **headers: str) -> Reply:
    """A call to the keyed management API (``/runtime/webhooks/durabletask``)."""
    sep = "&" if "?" in path else "?"
    url = f"{handle.base_url}/runtime/webhooks/durabletask/{path}{sep}code={handle.system_key}"
    return http(method, url, body, headers)


def status_of(handle: Any, instance_id: str, query: str = "") -> dict[str, Any]:
    reply = mgmt(handle, "GET", f"instances/{instance_id}{query}")
    assert reply.status in (200, 202), (reply.status, reply.body)
    result: dict[str, Any] = reply.json()
    return result


def wait_for(
    handle: Any, instance_id: str, statuses: tuple[str, ...] = ("Completed",), timeout: float = 30
) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        reply = mgmt(handle, "GET", f"instances/{instance_id}")
        if reply.status in (200, 202):
            body: dict[str, Any] = reply.json()
            if body["runtimeStatus"] in statuses:
                return body
        return None

    result: dict[str, Any] = wait_until(done, timeout)
    return result


def start(handle: Any, name: str, payload: Any = None, instance_id: str | None = None) -> str:
    path = f"orchestrators/{name}" + (f"/{instance_id}" if instance_id else "")
    body = None if payload is None else json.dumps(json.dumps(payload))
    reply = mgmt(handle, "POST", path, body, **({"Content-Type": "application/json"} if body else {}))
    assert reply.status == 202, (reply.status, reply.body)
    return str(reply.json()["id"])


def history_of(handle: HostHandle, instance_id: str) -> list[dict[str, Any]]:
    inst = handle.hub.get_instance(instance_id)
    assert inst is not None
    return handle.hub.get_history(inst)


HostFactory = Callable[..., HostHandle]


@pytest.fixture
def host_factory(tmp_path: Path) -> Iterator[HostFactory]:
    handles: list[HostHandle] = []

    def make(
        app: str,
        host_json: dict[str, Any] | None = None,
        local_settings: dict[str, str] | None = None,
        settings: dict[str, str] | None = None,
    ) -> HostHandle:
        app_dir = tmp_path / f"app{len(handles)}"
        app_dir.mkdir()
        if host_json is not None:
            (app_dir / "host.json").write_text(json.dumps(host_json))
        if local_settings is not None:
            (app_dir / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": local_settings}))
        handle = start_host(app, app_dir=app_dir, data_dir=app_dir / "data", settings=settings)
        handles.append(handle)
        return handle

    yield make
    problems: list[str] = []
    for handle in handles:
        handle.quiesce()
        assert handle.host.app is not None
        problems += check_hub(handle.hub, handle.host.app, handle.host.config.limits)
        handle.stop()
    assert not problems, "replay consistency:\n" + "\n".join(problems)


@pytest.fixture
def durable(host_factory: HostFactory) -> HostHandle:
    return host_factory("tests.emulators.functions.apps.durable_app:app")
