"""Run the emulator on a background thread: the in-process API tests and tools use.

>>> with start_emulator("emulators/servicebus/config.json") as emulator:  # doctest: +SKIP
...     client = ServiceBusClient.from_connection_string(emulator.connection_string)
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from proton.reactor import Container

from emulators.servicebus.broker import Broker
from emulators.servicebus.config import EmulatorConfig, load_config, parse_config
from emulators.servicebus.inspection import Inspection, inspect_store
from emulators.servicebus.persistence import SqliteJournal
from emulators.servicebus.store import Store

DEFAULT_CONFIG = Path(__file__).with_name("config.json")
START_TIMEOUT_SECONDS = 30.0
_log = logging.getLogger(__name__)


def connection_string(host: str, port: int) -> str:
    """The connection string ``azure-servicebus`` needs: plain AMQP on ``port``, any key accepted."""
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"  # listening on every interface: connect through loopback
    return (
        f"Endpoint=sb://{host}:{port};SharedAccessKeyName=RootManageSharedAccessKey;"
        "SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;"
    )


class EmulatorHandle:
    """A running emulator: where to connect, what it holds, and how to stop it."""

    def __init__(self, broker: Broker, thread: threading.Thread, host: str, journal: SqliteJournal | None) -> None:
        self._broker = broker
        self._thread = thread
        self._journal = journal
        self.host = host
        self.port = broker.port
        self.store = broker.store

    @property
    def connection_string(self) -> str:
        return connection_string(self.host, self.port)

    def inspect(self) -> Inspection:
        """Counts per entity and sub-queue and dead-letter reasons, read directly (not over AMQP)."""
        return inspect_store(self.store)

    def stop(self) -> None:
        """Close every connection and the listener; wait for the broker thread to end."""
        self._broker.stop_requested.set()
        self._thread.join(timeout=START_TIMEOUT_SECONDS)
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _as_config(config: EmulatorConfig | str | Path | dict[str, Any] | None) -> EmulatorConfig:
    if config is None:
        return load_config(DEFAULT_CONFIG)
    if isinstance(config, EmulatorConfig):
        return config
    if isinstance(config, dict):
        return parse_config(config)
    return load_config(config)


def start_emulator(
    config: EmulatorConfig | str | Path | dict[str, Any] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: str | Path | None = None,
) -> EmulatorHandle:
    """Start a broker thread listening on ``host:port`` (0: a free port) and return once it accepts.

    ``config`` is a Config.json path, an already-parsed document or model, or ``None`` for the
    shipped config. With ``data_dir``, messages are kept in SQLite there and survive restarts.
    """
    parsed = _as_config(config)
    journal = SqliteJournal(Path(data_dir)) if data_dir is not None else None
    store = Store(parsed, journal=journal)
    if journal is not None:
        journal.restore_into(store)
    ready = threading.Event()
    failure: list[BaseException] = []
    broker = Broker(store, host, port, on_ready=lambda _port: ready.set())

    def run() -> None:
        try:
            Container(broker).run()
        except BaseException as error:  # reported to the caller of start_emulator, or logged once running
            if ready.is_set():
                _log.exception("the Service Bus emulator stopped on an error")
            failure.append(error)
            ready.set()

    thread = threading.Thread(target=run, name=f"servicebus-emulator-{port}", daemon=True)
    thread.start()
    if not ready.wait(START_TIMEOUT_SECONDS) or failure:
        if journal is not None:
            journal.close()
        if failure:
            reason = failure[0]
            raise RuntimeError(f"the Service Bus emulator could not start on {host}:{port}: {reason}") from reason
        raise RuntimeError(f"the Service Bus emulator did not start on {host}:{port} in time")
    return EmulatorHandle(broker, thread, host, journal)
