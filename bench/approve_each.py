"""A 1,000-machine wave approved machine by machine: the wave's custom status stays under Azure's 16 KB.

In Azure a custom status over 16 KB (UTF-16) fails the orchestration; the local host enforces the same limit. The
wave waits at its approval gate and one ``approve`` command per machine is raised, each naming one machine, until
every machine is approved; then the wave cuts over and must complete. The wave's status is read after every
command, and its largest size is printed beside the limit and beside what a list of every approved name alone
would weigh (what a status that grows with the plan would carry).

The host runs in a child process against the Site Recovery emulator in this process, as in ``bench.wave_scale``.

Run: ``python -m bench.approve_each [--machines 1000] [--speed 3600] [--max-parallel 100]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.wave_scale import fleet_count, management_request, start_app_host, wave_plan
from emulators.functions.process import HostProcess
from emulators.siterecovery import start_emulator
from migration.instance_ids import wave_id
from migration.plan_clock import PlanClock
from migration.status_bounds import CUSTOM_STATUS_MAX_BYTES, utf16_size
from tests.support.machines import fleet_topology

Json = dict[str, Any]


def _status(host: HostProcess, instance: str) -> Json:
    status: Json = management_request(host, "GET", f"instances/{instance}?showInput=false")
    return status


def _wait_until(host: HostProcess, instance: str, done: Any, deadline: float, what: str) -> Json:
    while True:
        status = _status(host, instance)
        if done(status):
            return status
        if status.get("runtimeStatus") in ("Completed", "Failed", "Terminated"):
            raise RuntimeError(f"the wave ended {status.get('runtimeStatus')} before {what}: {status.get('output')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} by the timeout: {status.get('customStatus')}")
        time.sleep(1.0)


def run(machines: int, *, speed: float, max_parallel: int, timeout: float) -> int:
    plan = wave_plan(machines, groups=4, max_parallel=max_parallel, plan_id="approve-each")
    plan["options"]["approval"] = {"required": True}
    names = [m["name"] for g in plan["groups"] for m in g["machines"]]
    topology = fleet_topology(fleet_count(plan), disks_gb=[16])
    with tempfile.TemporaryDirectory() as scratch, start_emulator(topology, speed=speed) as asr:
        host = start_app_host(asr, Path(scratch))
        try:
            instance = wave_id(plan["id"])
            clock = PlanClock(speed, asr.clock.now(), datetime.now(UTC))
            started = time.monotonic()
            deadline = started + timeout
            management_request(
                host, "POST", f"orchestrators/migration_wave/{instance}", {"plan": plan, "clock": clock.to_dict()}
            )
            gate = _wait_until(
                host,
                instance,
                lambda s: (s.get("customStatus") or {}).get("phase") == "awaitingApproval",
                deadline,
                "approval gate",
            )
            prepared = time.monotonic() - started
            largest = utf16_size(gate["customStatus"])
            approving = time.monotonic()
            for index, name in enumerate(names, start=1):
                command = {"action": "approve", "actor": "bench", "reason": "approve each", "machines": [name]}
                management_request(host, "POST", f"instances/{instance}/raiseEvent/control", {**command, "id": name})
                status = _status(host, instance)
                if status.get("runtimeStatus") == "Failed":
                    raise RuntimeError(f"the wave failed after {index} approvals: {status.get('output')}")
                largest = max(largest, utf16_size(status.get("customStatus")))
            approved_in = time.monotonic() - approving
            final = _wait_until(host, instance, lambda s: s.get("runtimeStatus") == "Completed", deadline, "completion")
            wall = time.monotonic() - started
        finally:
            host.stop()
    output = final.get("output") or {}
    approvals = sum(1 for c in output.get("controls") or [] if c.get("action") == "approve" and c.get("accepted"))
    names_alone = utf16_size(sorted(names))
    verdict = "ok " if largest < CUSTOM_STATUS_MAX_BYTES else "MISS"
    print(f"\n{machines} machines approved one at a time: {final['runtimeStatus']}/{output.get('status')}")
    print(f"  {'figure':44s} {'value':>12s}")
    print(f"  {'approvals accepted':44s} {approvals:>12d}")
    print(
        f"  {'largest wave custom status (UTF-16 bytes)':44s} {largest:>12,d}   {verdict} < {CUSTOM_STATUS_MAX_BYTES:,}"
    )
    print(f"  {'every approved name as a list (UTF-16 bytes)':44s} {names_alone:>12,d}")
    print(f"  {'wall: preparation to the gate (s)':44s} {prepared:>12.1f}")
    print(f"  {'wall: the approvals (s)':44s} {approved_in:>12.1f}")
    print(f"  {'wall: whole wave (s)':44s} {wall:>12.1f}")
    migrated = output.get("status") == "Migrated" and approvals == machines
    return 0 if migrated and largest < CUSTOM_STATUS_MAX_BYTES else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.approve_each", description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=1000)
    parser.add_argument("--speed", type=float, default=3600.0, help="simulated seconds per wall second")
    parser.add_argument("--max-parallel", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up after this many wall seconds")
    args = parser.parse_args(argv)
    return run(args.machines, speed=args.speed, max_parallel=args.max_parallel, timeout=args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
