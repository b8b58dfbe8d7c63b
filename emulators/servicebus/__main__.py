"""``python -m emulators.servicebus --config FILE [--port 5672] [--data DIR]``: run the emulator.

Prints the connection string on the first line of stdout, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from emulators.servicebus.config import ConfigError, load_config
from emulators.servicebus.server import DEFAULT_CONFIG, start_emulator


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulators.servicebus",
        description="A local AMQP 1.0 Service Bus emulator for the azure-servicebus client.",
    )
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="Config.json in Microsoft's emulator schema")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5672, help="AMQP port (default 5672; 0 picks a free one)")
    parser.add_argument("--data", default=None, help="keep messages in this directory across restarts")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # proton logs a client that closes its socket without an AMQP close as an ERROR; that is routine.
    logging.getLogger("proton").setLevel(logging.CRITICAL)
    try:
        config = load_config(arguments.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        emulator = start_emulator(config, host=arguments.host, port=arguments.port, data_dir=arguments.data)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(emulator.connection_string, flush=True)
    while not stop.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
