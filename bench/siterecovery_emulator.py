"""Site Recovery emulator throughput and memory.

``python -m bench.siterecovery_emulator`` prints:
- item GETs per second with 1,000 protected items (real sockets, keep-alive, 8 concurrent clients),
- the same through one ``SiteRecoveryManagementClient`` (sequential, client cost included),
- list pages per second (``replicationProtectedItems``, 100 items per page) with 1,000 items,
- resident memory of an emulator holding 10,000 protected items (measured in a child process).

Targets on a 2-core machine: >= 500 GET/s, < 300 MB at 10,000 items.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from typing import Any

import aiohttp

from emulators.siterecovery import start_emulator

SUB = "00000000-0000-0000-0000-00000000b000"
RG = "rg-bench"
VAULT = "vault-bench"


def topology(items: int) -> dict[str, Any]:
    machines = [{"name": f"m{i:05d}", "friendlyName": f"vm{i:05d}", "disksGB": [128, 256]} for i in range(items)]
    return {
        "seed": 11,
        "vaults": [
            {
                "subscriptionId": SUB,
                "resourceGroup": RG,
                "name": VAULT,
                "fabrics": [
                    {"name": "hv", "kind": "HyperVSite", "containers": [{"name": "cloud", "machines": machines}]}
                ],
                "policies": [{"name": "p", "provider": "HyperVReplicaAzure"}],
                "containerMappings": [{"name": "map", "fabric": "hv", "container": "cloud", "policy": "p"}],
                "protectedItems": [
                    {
                        "name": f"m{i:05d}",
                        "fabric": "hv",
                        "container": "cloud",
                        "machine": f"m{i:05d}",
                        "mapping": "map",
                    }
                    for i in range(items)
                ],
            }
        ],
    }


VAULT_PATH = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
ITEM_PATH = (
    VAULT_PATH + "/replicationFabrics/hv/replicationProtectionContainers/cloud/replicationProtectedItems/m{:05d}"
)


async def _hammer(urls: list[str], concurrency: int) -> float:
    """Requests per second for GETting ``urls`` with ``concurrency`` keep-alive workers."""
    queue = list(reversed(urls))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            while queue:
                url = queue.pop()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{response.status} for {url}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(urls) / (time.perf_counter() - started)


def sdk_rate(emu: Any, items: int, count: int) -> float:
    """Item GETs per second through one SiteRecoveryManagementClient (sequential, as an activity would)."""
    from emulators.siterecovery.client import emulator_client

    client = emulator_client(emu.base_url, SUB)
    started = time.perf_counter()
    for i in range(count):
        client.replication_protected_items.get(RG, VAULT, "hv", "cloud", f"m{i % items:05d}")
    return count / (time.perf_counter() - started)


def throughput(items: int, requests: int, concurrency: int) -> tuple[float, float, float]:
    with start_emulator(topology(items)) as emu:
        q = "?api-version=2025-08-01"
        gets = [emu.base_url + ITEM_PATH.format(i % items) + q for i in range(requests)]
        pages = [
            f"{emu.base_url}{VAULT_PATH}/replicationProtectedItems{q}"
            + (f"&skipToken={_token(100 * (i % (items // 100)))}" if i % (items // 100) else "")
            for i in range(max(20, requests // 20))
        ]
        asyncio.run(_hammer(gets[:200], concurrency))  # warm up
        get_rate = asyncio.run(_hammer(gets, concurrency))
        page_rate = asyncio.run(_hammer(pages, concurrency))
        sdk = sdk_rate(emu, items, 500)
    return get_rate, page_rate, sdk


def _token(offset: int) -> str:
    import base64

    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def memory_child(items: int) -> None:
    """Runs in a child process: start an emulator with ``items`` items, touch them all, report RSS."""
    with start_emulator(topology(items)) as emu:
        import urllib.request

        url = f"{emu.base_url}{VAULT_PATH}/replicationProtectedItems?api-version=2025-08-01"
        while url:
            with urllib.request.urlopen(url) as response:
                page = json.load(response)
            url = page.get("nextLink")
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"items": len(emu.items()), "max_rss_mb": round(rss_mb, 1)}))


def memory(items: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.siterecovery_emulator", "--memory-child", str(items)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.siterecovery_emulator")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--memory-items", type=int, default=10_000)
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    get_rate, page_rate, sdk = throughput(args.items, args.requests, args.concurrency)
    print(f"item GET:        {get_rate:8.0f} requests/s  ({args.items} protected items, {args.concurrency} clients)")
    print(f"item GET (SDK):  {sdk:8.0f} requests/s  (one SiteRecoveryManagementClient, sequential)")
    print(f"list page (100): {page_rate:8.0f} pages/s     ({args.items} protected items)")
    mem = memory(args.memory_items)
    print(f"memory:          {mem['max_rss_mb']:8.1f} MB max RSS with {mem['items']} protected items (all listed once)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
