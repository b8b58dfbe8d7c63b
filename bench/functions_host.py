"""Benchmark of the local Functions + Durable host (emulators/functions).

Three runs, each on a fresh task hub, through the real management API and the SDK's real replay:

1. 1,000 orchestrations x 10 sequential activities
2. one orchestrator fanning out 1,000 activities
3. one orchestrator fanning out 1,000 sub-orchestrations (each calling one activity)

Prints wall time, throughput, peak memory (max RSS of this process) and the CPU time spent replaying.
Run: ``python -m bench.functions_host [--orchestrations 1000] [--fan-out 1000]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from emulators.functions import HostHandle, start_host

APP = "bench.functions_app:app"


def _call(handle: HostHandle, method: str, path: str, body: Any = None) -> Any:
    sep = "&" if "?" in path else "?"
    url = f"{handle.base_url}/runtime/webhooks/durabletask/{path}{sep}code={handle.system_key}"
    data = None if body is None else json.dumps(json.dumps(body)).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        text = resp.read()
    return json.loads(text) if text else None


def _start(handle: HostHandle, name: str, payload: Any) -> str:
    return str(_call(handle, "POST", f"orchestrators/{name}", payload)["id"])


def _wait_all(handle: HostHandle, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = handle.hub.query_instances(statuses=["Completed", "Failed", "Terminated"], limit=expected + 1)
        if len(done) >= expected:
            failed = [i.instance_id for i in done if i.status != "Completed"]
            if failed:
                raise RuntimeError(f"{len(failed)} instances did not complete, e.g. {failed[0]}")
            return
        time.sleep(0.05)
    raise TimeoutError(f"fewer than {expected} instances finished within {timeout}s")


def _run(label: str, work: int, unit: str, body: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        handle = start_host(APP, app_dir=Path(tmp), data_dir=Path(tmp) / "data")
        try:
            started = time.perf_counter()
            body(handle)
            elapsed = time.perf_counter() - started
            dispatcher = handle.host.dispatcher
            stats = dispatcher.runner.stats if dispatcher else None
            result = {
                "run": label,
                "seconds": round(elapsed, 2),
                "throughput": f"{work / elapsed:,.0f} {unit}/s",
                "episodes": stats.episodes if stats else 0,
                "replay_cpu_seconds": round(stats.replay_seconds, 2) if stats else 0.0,
                "replayed_events": stats.replayed_events if stats else 0,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        finally:
            handle.stop()
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orchestrations", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--fan-out", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    def sequences(handle: HostHandle) -> None:
        for _ in range(args.orchestrations):
            _start(handle, "bench_sequence", args.steps)
        _wait_all(handle, args.orchestrations, args.timeout)

    def fan_out(handle: HostHandle) -> None:
        iid = _start(handle, "bench_fan_out", args.fan_out)
        _wait_all(handle, 1, args.timeout)
        assert _call(handle, "GET", f"instances/{iid}")["output"] == sum(i + 1 for i in range(args.fan_out))

    def sub_fan_out(handle: HostHandle) -> None:
        iid = _start(handle, "bench_sub_fan_out", args.fan_out)
        _wait_all(handle, args.fan_out + 1, args.timeout)
        assert _call(handle, "GET", f"instances/{iid}")["output"] == sum(i + 1 for i in range(args.fan_out))

    n, s, f = args.orchestrations, args.steps, args.fan_out
    _run(f"{n} orchestrations x {s} sequential activities", n * s, "activities", sequences)
    _run(f"1 orchestrator fanning out {f} activities", f, "activities", fan_out)
    _run(f"1 orchestrator fanning out {f} sub-orchestrations", f, "sub-orchestrations", sub_fan_out)


if __name__ == "__main__":
    main()
