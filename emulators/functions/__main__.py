"""``python -m emulators.functions [--app function_app:app] [--port 7071] [--data DIR]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from .app_loader import AppLoadError
from .host import FunctionsHost, HostOptions
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
    p.add_argument("--verbose", action="store_true")
    return p.parse_args(argv)


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
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app_dir = args.app_dir.resolve()
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    options = HostOptions(app=args.app, app_dir=app_dir, data_dir=args.data, port=args.port, bind=args.bind)
    try:
        asyncio.run(_serve(FunctionsHost(options)))
    except (AppLoadError, SettingsError, ServiceBusConfigError, ScheduleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on port {args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
