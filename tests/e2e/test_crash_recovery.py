"""Idempotency under crashes: SIGKILL the Functions host while a mutating ASR call is on the wire, restart it.

The host runs as a child process over a SQLite task hub in a temporary folder; the Site Recovery emulator runs in
this process on a fixed port, so each restarted host finds it and the call log spans every life of the host.

The kill is timed by the traffic, not by a sleep: the host reaches the emulator through a small forwarding proxy
(a network the test controls). Armed for one operation, the proxy passes the request on, lets ASR accept it, and
withholds the answer; the test then kills the host. That is the worst moment for exactly-once: the activity
ran, the operation happened, and the host recorded nothing. The restarted host runs the activity again; it must
adopt ASR's job (or find the step done) instead of calling twice.

(A latency fault cannot time this: the emulator reads a request's body after the delay, so a client killed
during the delay leaves a 500 instead of an accepted call.)
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emulators.functions import start_host_process
from emulators.functions.host import free_port
from emulators.functions.process import HostProcess
from emulators.siterecovery import start_emulator
from tests.e2e.stack import MUTATING_OPERATIONS, SPEED, accepted_calls, fences
from tests.support.machines import REPO, fleet_input, fleet_name, fleet_topology

pytestmark = pytest.mark.slow

# Where the host dies: the operation whose answer is withheld (method, path end), and the stage that sent it.
KILL_POINTS = [
    ("ReplicationProtectedItems_Create", ("PUT", r"/replicationProtectedItems/[^/]+"), "enableReplication"),
    ("ReplicationProtectedItems_TestFailover", ("POST", r"/testFailover"), "testFailover"),
    ("ReplicationProtectedItems_UnplannedFailover", ("POST", r"/unplannedFailover"), "unplannedFailover"),
    ("ReplicationProtectedItems_FailoverCommit", ("POST", r"/failoverCommit"), "commit"),
]
MACHINES = [0, 1]


class WithholdingProxy:
    """Forwards every request to the emulator; once armed, withholds the answer to the first matching one.

    It runs on its own loop in a thread and listens on a fixed port, so every life of the host uses it.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self._armed: tuple[str, re.Pattern[str]] | None = None
        self.withheld = threading.Event()
        self.withheld_path = ""
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="withholding-proxy", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def arm(self, method: str, path_end: str) -> None:
        """Withhold the answer to the next ``method`` request whose path ends with ``path_end`` (a regex)."""
        self.withheld.clear()
        self.loop.call_soon_threadsafe(self._release.clear)
        self._armed = (method, re.compile(path_end + "$", re.IGNORECASE))

    def release(self) -> None:
        self._armed = None
        self.loop.call_soon_threadsafe(self._release.set)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body or None, headers=headers
        ) as upstream:
            payload = await upstream.read()
            status, reply_headers = upstream.status, dict(upstream.headers)
        armed = self._armed
        if armed and request.method == armed[0] and armed[1].search(request.path) and status < 400:
            self._armed = None
            self.withheld_path = request.path
            self.withheld.set()  # ASR accepted the call; its answer never reaches the host
            await self._release.wait()
        for name in ("Content-Length", "Transfer-Encoding", "Content-Encoding", "Connection"):
            reply_headers.pop(name, None)
        return web.Response(status=status, body=payload, headers=reply_headers)

    def stop(self) -> None:
        async def close() -> None:
            self._release.set()
            if self._runner is not None:
                await self._runner.cleanup()
            if self._session is not None:
                await self._session.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        self.loop.close()


def _request(host: HostProcess, method: str, path: str, body: Any = None) -> Any:
    url = f"{host.base_url}/runtime/webhooks/durabletask/{path}?code={host.system_key}"
    data = json.dumps(json.dumps(body)).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        return json.loads(error.read() or b"null")


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Polls ``condition``; the timeout only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_sigkill_while_asr_accepts_each_mutating_call_then_restart(tmp_path: Path) -> None:
    asr = start_emulator(fleet_topology(len(MACHINES)), speed=SPEED)
    proxy = WithholdingProxy(asr.base_url)
    env = {"ASR_ARM_ENDPOINT": proxy.base_url, **fences(asr)}
    data = tmp_path / "data"
    host = start_host_process("function_app:app", app_dir=REPO, data_dir=data, env=env)
    instances = {index: f"crash:{fleet_name(index)}" for index in MACHINES}
    victims: dict[str, str] = {}
    try:
        for index, instance in instances.items():
            reply = _request(host, "POST", f"orchestrators/machine_runbook/{instance}", fleet_input(index, SPEED))
            assert reply["id"] == instance, reply
        for operation, (method, path_end), stage in KILL_POINTS:
            proxy.arm(method, path_end)
            _wait_until(proxy.withheld.is_set, f"ASR to accept a {operation}")
            host.kill()
            proxy.release()
            victims[stage] = _item_of(proxy.withheld_path)
            assert victims[stage] in _accepted_items(asr, operation)
            host = start_host_process("function_app:app", app_dir=REPO, data_dir=data, env=env)

        def finished() -> bool:
            return all(
                _request(host, "GET", f"instances/{i}")["runtimeStatus"] == "Completed" for i in instances.values()
            )

        _wait_until(finished, "every migration to finish", timeout=240)
        records = {index: _request(host, "GET", f"instances/{i}")["output"] for index, i in instances.items()}
    finally:
        host.stop()
        proxy.stop()
        asr.stop()

    for index, record in records.items():
        name = fleet_name(index)
        assert record["outcome"] == "migrated", (name, record.get("error"))
        assert accepted_calls(asr, name) == {op: 1 for op in MUTATING_OPERATIONS}, name
    # The step whose call was on the wire at each kill ran again after the restart, and adopted ASR's job (or
    # found the step done) instead of starting it a second time.
    by_name = {fleet_name(index): record for index, record in records.items()}
    assert set(victims) == {stage for *_, stage in KILL_POINTS}
    for stage, victim in victims.items():
        decision = by_name[victim]["stages"][stage]["decision"]
        assert decision in ("adopt", "done"), (stage, victim, decision)


def _item_of(path: str, collection: str = "replicationProtectedItems") -> str:
    """The item a withheld request's path names, under ``collection`` (compared case-insensitively, as ARM does)."""
    segments = path.split("/")
    lowered = [segment.lower() for segment in segments]
    return segments[lowered.index(collection.lower()) + 1]


def _accepted_items(asr: Any, operation: str) -> set[str]:
    return {c.item for c in asr.calls.calls() if c.operation == operation and c.status < 400 and c.item}
