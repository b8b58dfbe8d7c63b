"""The host: wires settings, keys, the app, the task hub, the dispatcher, the HTTP server and Service Bus.

In-process use runs every host on one shared background event loop: the SDK's client keeps a module-level
aiohttp session tied to the first loop that uses it, just as the real worker has a single loop, so tests
that start several hosts (and call the SDK client through ``HostHandle.run``) must share one loop too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from . import app_loader, settings
from .dispatcher import Dispatcher
from .easy_auth import EasyAuth
from .http_server import HttpTriggers, build_web_app
from .keys import HostKeys, load_or_create_keys
from .local_entra import LocalEntra
from .management_api import ManagementApi
from .servicebus_triggers import ServiceBusListeners
from .taskhub import TaskHub
from .timer_triggers import TimerListeners

log = logging.getLogger("emulators.functions")
T = TypeVar("T")


@dataclass
class HostOptions:
    """Where the app lives and where state goes; every path defaults relative to ``app_dir``."""

    app: str = "function_app:app"
    app_dir: Path = field(default_factory=Path.cwd)
    data_dir: Path | None = None
    port: int = 7071
    bind: str = "127.0.0.1"
    hub_path: Path | None = None
    settings_file: Path | None = None
    host_json: Path | None = None
    extra_settings: dict[str, str] = field(default_factory=dict)
    # An authsettingsV2 properties document: App Service authentication in front of the app (easy_auth.py).
    easy_auth: Path | None = None

    def resolved_data_dir(self) -> Path:
        return self.data_dir or (self.app_dir / ".data" / "functions")


class FunctionsHost:
    """One running host. ``await start()`` binds the port; ``await stop()`` shuts everything down cleanly."""

    def __init__(self, options: HostOptions) -> None:
        self.options = options
        self.data_dir = options.resolved_data_dir()
        self.port = options.port
        self.keys: HostKeys | None = None
        self.app: app_loader.LoadedApp | None = None
        self.hub: TaskHub | None = None
        self.dispatcher: Dispatcher | None = None
        self.management: ManagementApi | None = None
        self.servicebus: ServiceBusListeners | None = None
        self.timers: TimerListeners | None = None
        self.entra: LocalEntra | None = None
        self.easy_auth: EasyAuth | None = None
        self._runner: web.AppRunner | None = None
        self._executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="function")
        self.config = settings.HostConfig()
        self.listing: list[str] = []

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.options.bind in ("0.0.0.0", "::", "") else self.options.bind
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        o = self.options
        local = settings.load_local_settings(o.settings_file or o.app_dir / "local.settings.json")
        local.update(o.extra_settings)
        settings.apply_to_environment(local)
        if o.easy_auth is not None:
            # The platform's settings go in last, so local.settings.json cannot claim authentication is on.
            self.entra = LocalEntra.of_host(self.data_dir)
            self.easy_auth = EasyAuth.from_file(o.easy_auth, self.entra, app_settings=settings.merged_settings(local))
            local.update(self.easy_auth.app_settings())
            settings.apply_to_environment(local)
        merged = settings.merged_settings(local)
        self.config = settings.load_host_json(o.host_json or o.app_dir / "host.json")
        self.app = app_loader.load_app(o.app, o.app_dir)
        self.keys = load_or_create_keys(self.data_dir / "secrets", merged)
        self.hub = TaskHub(o.hub_path or self.data_dir / "taskhub.sqlite3")
        self.management = ManagementApi(
            self.hub, self.app, self.config.hub_name, lambda: self.base_url, self.keys.durable_system_key
        )
        triggers = HttpTriggers(self.app, self.keys, self.config.route_prefix, self._executor, self.client_binding_json)
        webapp = build_web_app(triggers, self.management, self.keys, self.status, self.easy_auth)
        self._runner = web.AppRunner(webapp, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, o.bind, o.port, reuse_address=True)
        await site.start()
        if o.port == 0:
            server = site._server
            assert server is not None
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])
        self.dispatcher = Dispatcher(
            self.hub,
            self.app,
            self.config.max_concurrent_orchestrations,
            self.config.max_concurrent_activities,
            self._executor,
            self.client_binding_json,
            self.config.limits,
        )
        self.dispatcher.start()
        self.servicebus = ServiceBusListeners(self.app, self.config, merged, self._executor, self.client_binding_json)
        await self.servicebus.start()
        self.timers = TimerListeners(self.app, merged, self.data_dir, self._executor, self.client_binding_json)
        await self.timers.start()
        self.listing = self.function_listing()

    def function_listing(self) -> list[str]:
        """The ``func start`` summary: each function, with its URL for HTTP triggers."""
        assert self.app is not None
        lines = ["Functions:", ""]
        prefix = f"/{self.config.route_prefix}" if self.config.route_prefix else ""
        for spec in self.app.functions:
            if spec.http is not None:
                methods = ",".join(spec.http.methods)
                lines.append(f"\t{spec.name}: [{methods}] {self.base_url}{prefix}/{spec.http.route}")
            else:
                lines.append(f"\t{spec.name}: {spec.trigger_type}")
            lines.append("")
        return lines

    def client_binding_json(self) -> str:
        assert self.management is not None
        return json.dumps(self.management.client_binding(f"{self.base_url}/durabletask/"))

    def status(self) -> dict[str, Any]:
        assert self.hub is not None and self.app is not None
        return {
            "state": "Running",
            "functions": app_loader.describe(self.app),
            "taskHub": self.config.hub_name,
            "counts": self.hub.counts(),
            "replay": vars(self.dispatcher.runner.stats) if self.dispatcher else {},
        }

    async def quiesce(self) -> None:
        if self.timers is not None:
            await self.timers.stop()
            self.timers = None
        if self.servicebus is not None:
            await self.servicebus.stop()
            self.servicebus = None
        if self.dispatcher is not None:
            await self.dispatcher.stop()
            self.dispatcher = None

    async def stop(self) -> None:
        await self.quiesce()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.hub is not None:
            self.hub.close()


# ------------------------------------------------------------------------------------------- in-process

_loop_lock = threading.Lock()
_shared_loop: asyncio.AbstractEventLoop | None = None


def host_loop() -> asyncio.AbstractEventLoop:
    """The process-wide loop in-process hosts (and SDK client calls made through them) run on."""
    global _shared_loop
    with _loop_lock:
        if _shared_loop is None or _shared_loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="functions-host-loop", daemon=True)
            thread.start()
            _shared_loop = loop
        return _shared_loop


class HostHandle:
    """A host running in this process, on a background loop. Safe to use from synchronous tests."""

    def __init__(self, host: FunctionsHost) -> None:
        self._host = host
        self.stopped = False

    @property
    def host(self) -> FunctionsHost:
        return self._host

    @property
    def base_url(self) -> str:
        return self._host.base_url

    @property
    def port(self) -> int:
        return self._host.port

    @property
    def data_dir(self) -> Path:
        return self._host.data_dir

    @property
    def admin_key(self) -> str:
        assert self._host.keys is not None
        return self._host.keys.master

    @property
    def function_key(self) -> str:
        assert self._host.keys is not None
        return self._host.keys.default_function_key

    @property
    def system_key(self) -> str:
        assert self._host.keys is not None
        return self._host.keys.durable_system_key

    @property
    def hub(self) -> TaskHub:
        assert self._host.hub is not None
        return self._host.hub

    @property
    def entra(self) -> LocalEntra:
        """The local token issuer App Service authentication trusts (only when started with ``easy_auth``)."""
        if self._host.entra is None:
            raise RuntimeError("this host runs without App Service authentication (start it with easy_auth=...)")
        return self._host.entra

    def client_binding(self) -> str:
        """The ``durableClient`` binding JSON, for ``df.DurableOrchestrationClient(handle.client_binding())``."""
        return self._host.client_binding_json()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run a coroutine on the host loop (required for the SDK's client) and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, host_loop()).result(timeout)

    def client(self) -> Any:
        """A real ``DurableOrchestrationClient`` bound to this host (use it through ``run``)."""
        import azure.durable_functions as df

        return df.DurableOrchestrationClient(self.client_binding())

    def quiesce(self) -> None:
        """Stop the work loops and triggers but keep the hub open (for inspecting a settled state)."""
        asyncio.run_coroutine_threadsafe(self._host.quiesce(), host_loop()).result(60)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        asyncio.run_coroutine_threadsafe(self._host.stop(), host_loop()).result(60)

    def __enter__(self) -> HostHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_host(
    app: str = "function_app:app",
    *,
    app_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    port: int = 0,
    settings: dict[str, str] | None = None,
    hub_path: str | Path | None = None,
    host_json: str | Path | None = None,
    settings_file: str | Path | None = None,
    easy_auth: str | Path | None = None,
) -> HostHandle:
    """Start a host in this process on ``port`` (0 = a free one) and return once it serves requests."""
    options = HostOptions(
        app=app,
        app_dir=Path(app_dir) if app_dir else Path.cwd(),
        data_dir=Path(data_dir) if data_dir else None,
        port=port,
        hub_path=Path(hub_path) if hub_path else None,
        host_json=Path(host_json) if host_json else None,
        settings_file=Path(settings_file) if settings_file else None,
        extra_settings=dict(settings or {}),
        easy_auth=Path(easy_auth) if easy_auth else None,
    )
    host = FunctionsHost(options)
    future = asyncio.run_coroutine_threadsafe(host.start(), host_loop())
    try:
        future.result(60)
    except BaseException:
        try:
            asyncio.run_coroutine_threadsafe(host.stop(), host_loop()).result(30)
        except Exception:
            pass
        raise
    for line in host.listing:
        log.info("%s", line)
    return HostHandle(host)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def default_data_dir(app_dir: Path) -> Path:
    return app_dir / ".data" / "functions"


def env_for_subprocess(extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    return env
