"""One valid data object per event type, shared by the catalog, schema and publishing tests."""

from __future__ import annotations

from typing import Any

from migration.events import EventType

MIGRATION = "wave-1"
TIME = "2026-11-27T07:00:00Z"

VALID_DATA: dict[EventType, dict[str, Any]] = {
    EventType.ACCEPTED: {
        "name": "First wave",
        "machineCount": 3,
        "groups": [{"name": "db", "machines": ["sql-01"]}, {"name": "web", "machines": ["web-01", "web-02"]}],
    },
    EventType.REJECTED: {
        "messageId": "msg-1",
        "reason": "the plan has 1 problem",
        "problems": [{"path": "groups[0].machines[0].target.networkId", "message": "not an ARM resource id"}],
    },
    EventType.STAGE_CHANGED: {
        "machine": "web-01",
        "stage": "initialReplication",
        "previousStage": "enableReplication",
        "status": "running",
        "jobId": "2f0a6b1c-job",
        "progressPercent": 42,
        "eta": "2026-11-27T09:30:00+01:00",
    },
    EventType.AWAITING_APPROVAL: {
        "machines": ["web-01", "web-02"],
        "approvalDeadline": "2026-11-30T07:00:00Z",
        "onApprovalTimeout": "hold",
        "cutoverWindow": {"notBefore": "2026-11-28T22:00:00Z", "notAfter": "2026-11-29T04:00:00Z"},
        "approveUri": "/api/migrations/wave-1/approve",
        "rejectUri": "/api/migrations/wave-1/reject",
    },
    EventType.CONTROL: {
        "action": "approve",
        "actor": "ops@contoso.example",
        "reason": "change CHG-1 approved",
        "machines": [],
        "accepted": True,
        "detail": None,
    },
    EventType.MACHINE_COMPLETED: {
        "machine": "web-02",
        "outcome": "Failed",
        "error": {"stage": "testFailover", "code": "TestFailoverFailed", "message": "boot failed", "jobId": "j-9"},
        "migratedVmId": None,
        "downtimeSeconds": None,
        "checks": {"testVm": "failed"},
    },
    EventType.MACHINE_CHECKED: {
        "machine": "web-02",
        "phase": "testVm",
        "vm": "web-02-test",
        "outcome": "failed",
        "checks": [
            {"name": "running", "kind": "boot", "outcome": "passed", "detail": "power state running"},
            {
                "name": "web-answers",
                "kind": "script",
                "outcome": "failed",
                "detail": "exit code 7, expected 0",
                "exitCode": 7,
                "executionState": "Failed",
                "errorOutput": "curl: (7) Failed to connect to localhost port 80",
            },
        ],
        "startedAt": "2026-12-05T22:10:00+00:00",
        "endedAt": "2026-12-05T22:12:00+00:00",
    },
    EventType.COMPLETED: {
        "status": "PartiallyMigrated",
        "counts": {"migrated": 2, "failed": 1, "cancelled": 0},
        "machines": [
            {"name": "sql-01", "outcome": "Migrated"},
            {"name": "web-01", "outcome": "Migrated"},
            {"name": "web-02", "outcome": "Failed"},
        ],
    },
    EventType.GROUP_HOOK: {
        "group": "web",
        "machines": ["web-01", "web-02"],
        "phase": "beforeCutover",
        "hook": "drain-lb",
        "attempt": 0,
    },
    EventType.HOOK_COMPLETED: {
        "group": "web",
        "phase": "beforeCutover",
        "hook": "drain-lb",
        "type": "http",
        "attempt": 0,
        "outcome": "failed",
        "attempts": 3,
        "host": "prod-12.westeurope.logic.azure.com",
        "httpStatus": 500,
        "excerpt": '{"error": "backend pool busy"}',
        "detail": "HTTP 500, expected a 2xx",
        "durationSeconds": 61.5,
    },
}
