"""``python -m emulators.siterecovery --topology FILE --port N --speed X [--arm-limits wall|simulated|off]``

Runs the emulator in the foreground and prints its base URL on the first line of stdout.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from emulators.siterecovery.arm_limits import ArmLimits
from emulators.siterecovery.server import DEFAULT_TOPOLOGY, start_emulator
from emulators.siterecovery.topology import Topology, TopologyError, load_topology


def _with_limits(topology: Topology, choice: str | None) -> Topology:
    """Apply ``--arm-limits``: ``off`` drops the topology's ``armLimits:``; ``wall``/``simulated`` keep its
    buckets (or ARM's documented ones when it has none) and pick the clock; absent leaves the topology as is."""
    if choice is None:
        return topology
    if choice == "off":
        return topology.model_copy(update={"arm_limits": None})
    base = topology.arm_limits or ArmLimits()
    return topology.model_copy(update={"arm_limits": base.model_copy(update={"clock": choice})})


def _describe(limits: ArmLimits | None) -> str:
    if limits is None:
        return "off"
    buckets = ", ".join(
        f"{kind} {spec.bucket}+{spec.refill_per_second:g}/s"
        for kind, spec in (("reads", limits.reads), ("writes", limits.writes), ("deletes", limits.deletes))
    )
    return f"on ({limits.clock} clock: {buckets})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulators.siterecovery",
        description="Local Azure Site Recovery (ARM, api-version 2025-08-01) for SiteRecoveryManagementClient.",
    )
    parser.add_argument("--topology", default=str(DEFAULT_TOPOLOGY), help="YAML or JSON topology file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall second")
    parser.add_argument("--require-auth", action="store_true", help="answer 401 without a bearer token")
    parser.add_argument(
        "--arm-limits",
        choices=["wall", "simulated", "off"],
        default=None,
        help="enforce ARM's per-subscription request limits (token buckets) refilled on wall time or on the "
        "simulated clock; default: as the topology's armLimits says (absent: off)",
    )
    args = parser.parse_args(argv)
    if args.speed < 0:
        parser.error("--speed must be >= 0")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        topology = _with_limits(load_topology(args.topology), args.arm_limits)
        handle = start_emulator(
            topology, host=args.host, port=args.port, speed=args.speed, require_auth=args.require_auth
        )
    except TopologyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    print(handle.base_url, flush=True)
    print(
        f"subscription {handle.subscription_id}, resource group {handle.resource_group}, vault {handle.vault_name}; "
        f"speed x{args.speed:g}; ARM request limits {_describe(handle.arm_limits)}; "
        f"control endpoint {handle.base_url}/_emulator/health",
        file=sys.stderr,
        flush=True,
    )
    while not stop.wait(0.5):
        pass
    handle.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
