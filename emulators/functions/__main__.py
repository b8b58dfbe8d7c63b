"""``python -m emulators.functions [--app function_app:app] [--port 7071] [--data DIR] [--easy-auth FILE]``.

``python -m emulators.functions token --audience A --object-id X [--role R ...]`` prints a token from the local
issuer (``<data>/entra``) that the host's App Service authentication accepts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from .app_loader import AppLoadError
from .easy_auth import EasyAuthError
from .host import FunctionsHost, HostOptions
from .local_entra import LocalEntra, LocalEntraError
from .servicebus_triggers import ServiceBusConfigError
from .settings import SettingsError
from .timer_triggers import ScheduleError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m emulators.functions", description="Local Functions + Durable host.")
    p.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp / DFApp")
    p.add_argument("--port", type=int, default=7071)
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    p.add_argument("--data", type=Path, default=None, help="state folder (default .data/functions)")
    p.add_argument(
        "--app-dir", type=Path, default=Path.cwd(), help="folder with the app, host.json, local.settings.json"
    )
    p.add_argument(
        "--easy-auth",
        type=Path,
        default=None,
        metavar="FILE",
        help="authsettingsV2 properties (JSON): put App Service authentication in front of the app",
    )
    p.add_argument("--verbose", action="store_true")
    return p.parse_args(argv)


def parse_token_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m emulators.functions token", description="Print an access token from the local issuer."
    )
    p.add_argument("--data", type=Path, default=None, help="the host's state folder (default .data/functions)")
    p.add_argument("--audience", required=True, help="aud: the app's client id or Application ID URI")
    p.add_argument("--object-id", required=True, help="oid (and sub) of the caller")
    p.add_argument("--role", action="append", default=[], help="an app role (repeat for several)")
    p.add_argument("--name", default=None, help="display name (users)")
    p.add_argument("--username", default=None, help="preferred_username (v2) / upn (v1) (users)")
    p.add_argument("--app-id", default=None, help="an app-only token for this client id (azp / appid)")
    p.add_argument("--v1", action="store_true", help="a v1.0 token (sts.windows.net issuer) instead of v2.0")
    p.add_argument("--lifetime", type=int, default=3600, help="seconds until exp (default 3600)")
    return p.parse_args(argv)


def token_main(argv: list[str]) -> int:
    args = parse_token_args(argv)
    data = args.data or Path.cwd() / ".data" / "functions"
    try:
        entra = LocalEntra.of_host(data)
    except (LocalEntraError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    token = entra.token(
        audience=args.audience,
        object_id=args.object_id,
        roles=args.role,
        name=args.name,
        username=args.username,
        app_id=args.app_id,
        version="1.0" if args.v1 else "2.0",
        lifetime=args.lifetime,
    )
    print(token, flush=True)
    return 0


async def _serve(host: FunctionsHost) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await host.start()
    print("\n".join(host.listing), flush=True)
    print(f"Host started on {host.base_url} (task hub {host.config.hub_name}, data {host.data_dir})", flush=True)
    await stop.wait()
    await host.stop()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["token"]:
        return token_main(argv[1:])
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app_dir = args.app_dir.resolve()
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    options = HostOptions(
        app=args.app,
        app_dir=app_dir,
        data_dir=args.data,
        port=args.port,
        bind=args.bind,
        easy_auth=args.easy_auth,
    )
    try:
        asyncio.run(_serve(FunctionsHost(options)))
    except (AppLoadError, SettingsError, ServiceBusConfigError, ScheduleError, EasyAuthError, LocalEntraError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on port {args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
