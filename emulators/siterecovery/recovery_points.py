"""Recovery points, derived from the simulated clock and the item's policy.

None exist before initial replication completes; afterwards a crash-consistent point appears
every ``crashConsistentFrequencyMinutes`` and an app-consistent one every
``appConsistentFrequencyMinutes``, kept for ``recoveryPointHistoryMinutes`` (at most the latest
12 crash-consistent ones are listed, to keep pages small). Names are stable GUIDs derived from
the item and the point's time, so a point listed once can be passed back to a failover.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from emulators.siterecovery.clock import iso
from emulators.siterecovery.providers import recovery_point_details
from emulators.siterecovery.state import Item, Phase

MAX_CRASH_POINTS = 12
_NAMESPACE = uuid.UUID("5b0f8f3e-4a39-4c6b-9a53-2d1f7f3c9e10")


@dataclass(frozen=True)
class RecoveryPoint:
    id: str
    name: str
    at: float
    kind: str


def _replicated_since(item: Item) -> float | None:
    if item.phase in (Phase.ENABLING, Phase.ENABLE_FAILED, Phase.REMOVED):
        return None
    if item.phase == Phase.REPLICATING:
        return item.ir_done_at()
    return item.ir_completed_at


def points(item: Item, now: float) -> list[RecoveryPoint]:
    since = _replicated_since(item)
    if since is None or since > now:
        return []
    policy = item.mapping.policy
    until = now if item.phase in (Phase.REPLICATING, Phase.PROTECTED) else (item.last_failover_time or now)
    oldest = max(since, until - policy.history_minutes * 60)
    out: list[RecoveryPoint] = []
    for minutes, kind, limit in (
        (policy.crash_minutes, "CrashConsistent", MAX_CRASH_POINTS),
        (policy.app_minutes, "AppConsistent", 10_000),
    ):
        if minutes <= 0:
            continue
        step = minutes * 60.0
        k = int((until - since) // step)
        count = 0
        while k >= 0 and since + k * step >= oldest and count < limit:
            at = since + k * step
            name = str(uuid.uuid5(_NAMESPACE, f"{item.id.lower()}|{kind}|{at:.0f}"))
            out.append(RecoveryPoint(f"{item.id}/recoveryPoints/{name}", name, at, kind))
            k -= 1
            count += 1
    out.sort(key=lambda p: p.at, reverse=True)
    return out


def point_view(item: Item, point: RecoveryPoint) -> dict[str, Any]:
    clock = item.vault.store.clock
    properties: dict[str, Any] = {"recoveryPointTime": iso(clock.at(point.at)), "recoveryPointType": point.kind}
    details = recovery_point_details(item)
    if details is not None:
        properties["providerSpecificDetails"] = details
    return {
        "name": point.name,
        "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
        "replicationProtectedItems/recoveryPoints",
        "id": point.id,
        "properties": properties,
    }
