"""Running the emulator: on its own event loop in a background thread (in-process, for tests and
the demo) or in the foreground (``python -m emulators.siterecovery``).
"""

from __future__ import annotations

import asyncio
import math
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from emulators.siterecovery.app import Emulator, build_app
from emulators.siterecovery.arm_limits import ArmLimits, parse_arm_limits
from emulators.siterecovery.calls import CallLog
from emulators.siterecovery.clock import SimClock
from emulators.siterecovery.control import add_fault, clock_state, item_states, remove_fault
from emulators.siterecovery.migration_items import MigrationItem
from emulators.siterecovery.state import Item, Store
from emulators.siterecovery.topology import Topology, load_topology, parse_topology

DEFAULT_TOPOLOGY = Path(__file__).resolve().parents[2] / "examples" / "topology.yaml"


def make_topology(topology: Topology | str | Path | dict[str, Any] | None) -> Topology:
    """Accept a parsed topology, a file path, or a decoded document (None: examples/topology.yaml)."""
    if topology is None:
        return load_topology(DEFAULT_TOPOLOGY)
    if isinstance(topology, Topology):
        return topology
    if isinstance(topology, dict):
        return parse_topology(topology)
    return load_topology(topology)


class EmulatorHandle:
    """A running emulator: its URL, its clock, its call log, its faults; stop it when done.

    Usable as a context manager. Every method is safe to call from any thread.
    """

    def __init__(self, emulator: Emulator, host: str) -> None:
        self.emulator = emulator
        self.host = host
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # -- where and who ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def store(self) -> Store:
        return self.emulator.store

    @property
    def clock(self) -> SimClock:
        return self.emulator.store.clock

    @property
    def calls(self) -> CallLog:
        return self.emulator.calls

    @property
    def subscription_id(self) -> str:
        return self.emulator.store.topology.vaults[0].subscription_id

    @property
    def resource_group(self) -> str:
        return self.emulator.store.topology.vaults[0].resource_group

    @property
    def vault_name(self) -> str:
        return self.emulator.store.topology.vaults[0].name

    # -- time -----------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move simulated time forward and apply every job that finished meanwhile."""
        with self.store.lock:
            self.clock.advance(seconds)
            self.store.settle()

    def clock_state(self) -> dict[str, Any]:
        return clock_state(self.store)

    def advance_until_idle(self, limit_seconds: float = 30 * 24 * 3600.0) -> float:
        """Advance until no job runs and no initial replication is pending (stalled ones excepted).

        Returns the simulated seconds advanced. Handy after ``begin_create(..., polling=False)``.
        """
        advanced = 0.0
        while advanced < limit_seconds:
            with self.store.lock:
                now = self.store.settle()
                due = [t for t in self._pending_ends() if t > now]
            if not due:
                return advanced
            step = min(due) - now + 0.001
            self.advance(step)
            advanced += step
        return advanced

    def _pending_ends(self) -> list[float]:
        ends: list[float] = []
        for vault in self.store.vaults.values():
            # A stalled job has no end (math.inf) until its fault is removed: advancing cannot finish it.
            ends.extend(j.end for j in vault.jobs.values() if j.settled == "InProgress" and math.isfinite(j.end))
            for item in vault.items.values():
                done = item.ir_done_at()
                if done is not None:
                    ends.append(done)
            for migration in vault.migration_items.values():
                # seeding, a resync and a resume sync end on their own: advancing until idle waits for them
                for end in (
                    migration.seed_done_at(),
                    migration.resync_start + migration.resync_seconds if migration.resync_start is not None else None,
                    migration.resume_start + migration.resume_seconds if migration.resume_start is not None else None,
                ):
                    if end is not None:
                        ends.append(end)
        return ends

    # -- introspection ------------------------------------------------------------------------
    def items(self) -> list[dict[str, Any]]:
        return item_states(self.store)

    def migration_items(self) -> list[str]:
        """The ids of the migration items (VMwareCbt) every vault holds now."""
        with self.store.lock:
            return [item.id for vault in self.store.vaults.values() for item in vault.migration_items.values()]

    def item(self, name: str) -> dict[str, Any]:
        """State of one protected item by item name or friendly name (KeyError if none)."""
        for state in self.items():
            if name.lower() in (state["name"].lower(), state["friendlyName"].lower()):
                return state
        raise KeyError(name)

    def find_item(self, name: str) -> Item:
        for vault in self.store.vaults.values():
            for item in vault.items.values():
                if name.lower() in (item.name.lower(), item.friendly_name.lower()):
                    return item
        raise KeyError(name)

    def find_migration_item(self, name: str) -> MigrationItem:
        """The live VMwareCbt migration item by item name or machine display name (KeyError if none)."""
        for vault in self.store.vaults.values():
            for item in vault.migration_items.values():
                if name.lower() in (item.name.lower(), item.friendly_name.lower()):
                    return item
        raise KeyError(name)

    def call_count(self, operation: str, item: str | None = None, *, accepted_only: bool = False) -> int:
        return self.calls.count(operation, item, accepted_only=accepted_only)

    # -- misbehaviour ---------------------------------------------------------------------------
    def add_fault(self, spec: dict[str, Any]) -> int:
        """Add a fault (same JSON shape as the topology's ``faults:`` entries); returns its id."""
        return add_fault(self.store, spec)

    def remove_fault(self, fault_id: int) -> bool:
        """Remove a fault; a stalled or slowed replication it caused resumes at the normal rate."""
        return remove_fault(self.store, fault_id)

    def clear_faults(self) -> None:
        remove_fault(self.store, None)

    # -- ARM's request limits ------------------------------------------------------------------
    @property
    def arm_limits(self) -> ArmLimits | None:
        """The request limits in force (None: off)."""
        return self.emulator.limits.settings

    def set_arm_limits(self, settings: ArmLimits | dict[str, Any] | None) -> None:
        """Switch ARM's per-subscription limits on (fresh full buckets, fresh stats) or off (None).

        A dict is validated like the topology's ``armLimits:``; bad settings raise
        :class:`~emulators.siterecovery.arm_limits.ArmLimitsError` and change nothing.
        """
        self.emulator.limits.configure(None if settings is None else parse_arm_limits(settings))

    def arm_limit_stats(self) -> dict[str, Any]:
        """``{"enabled", "settings", "subscriptions": {sub: {"reads"|"writes"|"deletes": {"allowed",
        "throttled", "lowestRemaining", "remaining"}}}}`` (subscription ids in lower case)."""
        return self.emulator.limits.stats()

    def require_auth(self, required: bool = True, tokens: set[str] | None = None) -> None:
        auth = self.emulator.auth
        with auth.lock:
            auth.required = required
            auth.tokens = set(tokens or ())

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, port: int = 0) -> EmulatorHandle:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                runner = web.AppRunner(build_app(self.emulator), access_log=None, handle_signals=False)
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, self.host, port, reuse_address=True)
                loop.run_until_complete(site.start())
                self._runner = runner
                self.port = int(runner.addresses[0][1])
            except BaseException as exc:  # report startup failures to the caller's thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"siterecovery-emulator-{port}", daemon=True)
        self._thread.start()
        ready.wait(timeout=30)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._loop = None
        self._thread = None

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def create_emulator(
    topology: Topology | str | Path | dict[str, Any] | None = None,
    *,
    speed: float = 0.0,
    arm_limits: ArmLimits | dict[str, Any] | None = None,
) -> Emulator:
    """An emulator not yet serving; ``arm_limits`` (if given) replaces the topology's ``armLimits:``."""
    parsed = make_topology(topology)
    limits = None if arm_limits is None else parse_arm_limits(arm_limits)
    emulator = Emulator(Store(parsed, SimClock(speed)))
    if limits is not None:
        emulator.limits.configure(limits)
    return emulator


def start_emulator(
    topology: Topology | str | Path | dict[str, Any] | None = None,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    speed: float = 0.0,
    require_auth: bool = False,
    advance_on_poll: bool = False,
    arm_limits: ArmLimits | dict[str, Any] | None = None,
) -> EmulatorHandle:
    """Start an emulator in a background thread on ``host:port`` (0: a free port) and return its handle.

    ``speed`` is simulated seconds per wall second; the default 0 freezes the clock so tests move it
    with :meth:`EmulatorHandle.advance` / :meth:`EmulatorHandle.advance_until_idle`. With
    ``advance_on_poll`` every poll of a running operation moves the clock by the simulated
    ``Retry-After`` (the client "waited" that long), so ``begin_*(...).result()`` finishes without
    any wall-clock dependence.

    ``arm_limits`` switches on ARM's per-subscription request limits (token buckets, see
    :mod:`emulators.siterecovery.arm_limits`); None leaves them as the topology says (``armLimits:``),
    which is off when the key is absent.
    """
    handle = EmulatorHandle(create_emulator(topology, speed=speed, arm_limits=arm_limits), host)
    handle.store.advance_on_poll = advance_on_poll
    handle.require_auth(require_auth)
    return handle.start(port)
