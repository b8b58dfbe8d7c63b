"""Migration recovery points (``migrationRecoveryPoints``) of a VMwareCbt item, derived from the simulated clock.

None exist before initial seeding completes. The first is taken when seeding completes; then one per delta-sync
cycle (the policy's ``crashConsistentFrequencyInMinutes``; Az.Migrate's Initialize-AzMigrateReplicationInfrastructure
creates the VMwareCbt policy with 60) and an application-consistent one every ``appConsistentFrequencyInMinutes``
(240 there), kept for ``recoveryPointHistoryInMinutes`` (360 there), while delta sync runs: not while paused, not
after a migration. Types are the SDK's ``MigrationRecoveryPointType`` values; names are GUIDs derived from the item
and the point's time, so a listed point can be passed back to a test migration.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from emulators.siterecovery.clock import iso
from emulators.siterecovery.migration_items import MigrationItem
from emulators.siterecovery.recovery_points import MAX_CRASH_POINTS

_NAMESPACE = uuid.UUID("0e6b7a52-93c4-4f0e-8d0b-2b6a8f0c51d7")
T_POINT = (
    "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
    "replicationMigrationItems/migrationRecoveryPoints"
)


@dataclass(frozen=True)
class MigrationPoint:
    id: str
    name: str
    at: float
    kind: str


def points(item: MigrationItem, now: float) -> list[MigrationPoint]:
    """The item's recovery points at ``now``, newest first."""
    policy = item.mapping.policy
    windows = item.sync_windows(now)
    if not windows:
        return []
    newest = max(end for _, end in windows)
    oldest = newest - policy.history_minutes * 60 if policy.history_minutes > 0 else float("-inf")
    seen: dict[tuple[str, int], MigrationPoint] = {}
    for start, end in windows:
        for minutes, kind in ((policy.crash_minutes, "CrashConsistent"), (policy.app_minutes, "ApplicationConsistent")):
            if minutes <= 0:
                continue
            step = minutes * 60.0
            k = 0
            while start + k * step <= end:
                at = start + k * step
                if at >= oldest:
                    key = (kind, round(at))
                    name = str(uuid.uuid5(_NAMESPACE, f"{item.id.lower()}|{kind}|{at:.0f}"))
                    seen[key] = MigrationPoint(f"{item.id}/migrationRecoveryPoints/{name}", name, at, kind)
                k += 1
    out = sorted(seen.values(), key=lambda p: p.at, reverse=True)
    crash = [p for p in out if p.kind == "CrashConsistent"][:MAX_CRASH_POINTS]
    app = [p for p in out if p.kind == "ApplicationConsistent"]
    return sorted(crash + app, key=lambda p: (p.at, p.kind), reverse=True)


def find_point(item: MigrationItem, now: float, point_id: str) -> MigrationPoint | None:
    """A point by its full id or its name (case-insensitive)."""
    wanted = point_id.lower().rstrip("/")
    for point in points(item, now):
        if wanted in (point.id.lower(), point.name.lower()):
            return point
    return None


def point_view(item: MigrationItem, point: MigrationPoint) -> dict[str, Any]:
    """``MigrationRecoveryPoint`` JSON, shaped like MigrationRecoveryPoints_ListByReplicationMigrationItems.json."""
    clock = item.vault.store.clock
    return {
        "name": point.name,
        "type": T_POINT,
        "id": point.id,
        "properties": {"recoveryPointTime": iso(clock.at(point.at)), "recoveryPointType": point.kind},
    }
