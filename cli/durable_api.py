"""The migration routes' answers, built from the Durable management API of a local host that lacks those routes.

A local host always has the Durable management API (``/runtime/webhooks/durabletask``); an app build without the
``/api/migrations`` routes does not. So that ``run`` works on such a build too, this class offers the same
methods as :class:`cli.api_client.ApiClient` and builds the same documents from the wave orchestration's custom
status and output and its machines' runbook instances (found by their deterministic ids). ``run`` uses it only
when the app answers 404 to ``POST /api/migrations``.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any

from cli.api_client import ApiClient, Credentials
from cli.errors import CliError
from migration.instance_ids import wave_id
from migration.plan_clock import PlanClock

__all__ = ["DurableApi"]

Json = dict[str, Any]
_WEBHOOK = "/runtime/webhooks/durabletask"
_WAVE_ORCHESTRATOR = "migration_wave"
_RUNNING = ("Pending", "Running", "ContinuedAsNew", "Suspended")


class DurableApi:
    """``submit``, ``status``, ``command`` and ``report`` over the management API, keyed by the master key."""

    def __init__(self, endpoint: str, master_key: str, clock: PlanClock) -> None:
        self.http = ApiClient(endpoint, Credentials())
        self.code = master_key
        self.clock = clock
        self.plans: dict[str, Json] = {}

    def _call(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        response = self.http.request(method, f"{_WEBHOOK}{path}", body=body, query={"code": self.code, **query})
        if response.status >= 400:
            raise CliError(f"The local host's management API answered HTTP {response.status} to {method} {path}.")
        return response.body

    def submit(self, plan: Json, idempotency_key: str | None = None) -> tuple[Json, bool]:
        instance = wave_id(plan["id"])
        existing = self._instance(instance)
        self.plans[plan["id"]] = plan
        if existing is None:
            payload = {"plan": plan, "clock": self.clock.to_dict()}
            self._call("POST", f"/orchestrators/{_WAVE_ORCHESTRATOR}/{urllib.parse.quote(instance, safe='')}", payload)
        return {"id": plan["id"], "name": plan["name"], "status": "Running"}, existing is None

    def _instance(self, instance: str) -> Json | None:
        response = self.http.request(
            "GET", f"{_WEBHOOK}/instances/{urllib.parse.quote(instance, safe='')}", query={"code": self.code}
        )
        if response.status == 404:
            return None
        if response.status >= 400 or not isinstance(response.body, dict):
            raise CliError(f"The local host's management API answered HTTP {response.status} for {instance}.")
        return response.body

    def _children(self, migration_id: str) -> list[Json]:
        prefix = f"{wave_id(migration_id)}~"
        body = self._call("GET", "/instances/", instanceIdPrefix=prefix, top="1000")
        return [row for row in body or [] if isinstance(row, dict)]

    def status(self, migration_id: str) -> Json:
        wave = self._instance(wave_id(migration_id))
        if wave is None:
            raise CliError(f"There is no migration {migration_id!r} on the local host.")
        custom: Json = wave.get("customStatus") or {}
        raw_output = wave.get("output")
        output: Json = raw_output if isinstance(raw_output, dict) else {}
        runtime = wave.get("runtimeStatus")
        status = "Running" if runtime in _RUNNING else (output.get("status") or "Failed")
        if runtime == "Terminated":
            status = "Cancelled"
        plan = self.plans.get(migration_id) or (wave.get("input") or {}).get("plan") or {}
        machines = self._machines(migration_id, plan, output)
        return {
            "id": migration_id,
            "name": custom.get("name") or plan.get("name"),
            "status": status,
            "phase": custom.get("phase") or ("completed" if status != "Running" else "preparing"),
            "counts": _stage_counts(machines),
            "machines": machines,
            "gate": custom.get("gate"),
            "window": custom.get("window"),
            "hold": custom.get("hold"),
            "pendingApproval": custom.get("phase") == "awaitingApproval",
            "controls": output.get("controls") or [],
            "createdAt": wave.get("createdTime"),
            "lastUpdatedAt": wave.get("lastUpdatedTime"),
        }

    def _machines(self, migration_id: str, plan: Json, output: Json) -> list[Json]:
        latest: dict[str, Json] = {}
        for row in self._children(migration_id):
            parts = str(row.get("instanceId", "")).split("~")
            if len(parts) != 5 or parts[3] not in ("prepare", "cutover", "rollback"):
                continue
            custom = row.get("customStatus")
            if not isinstance(custom, dict):
                continue
            previous = latest.get(parts[2])
            if previous is None or str(row.get("lastUpdatedTime")) >= str(previous["_updated"]):
                latest[parts[2]] = {**custom, "_updated": row.get("lastUpdatedTime")}
        results: Json = output.get("machines") or {}
        machines = []
        for group in plan.get("groups") or []:
            for machine in group.get("machines") or []:
                name = machine["name"]
                done = results.get(name) or {}
                live = latest.get(name.lower()) or {}
                outcome = done.get("outcome")
                stage = "migrated" if outcome == "migrated" else (done.get("stage") or live.get("stage"))
                machines.append(
                    {
                        "name": name,
                        "group": group["name"],
                        "stage": stage,
                        "status": outcome or live.get("status") or "pending",
                        "outcome": outcome,
                        "progressPercent": live.get("progressPercent"),
                        "eta": live.get("eta"),
                        "jobId": live.get("jobId"),
                        "error": done.get("error") or live.get("lastError"),
                    }
                )
        return machines

    def command(self, migration_id: str, action: str, body: Json) -> Json:
        instance = urllib.parse.quote(wave_id(migration_id), safe="")
        self._call("POST", f"/instances/{instance}/raiseEvent/control", {"action": action, **body})
        return {"accepted": True, "commandId": None}

    def report(self, migration_id: str, *, csv: bool = False) -> Any:
        if csv:
            raise CliError("CSV reports need the app's report route; use the JSON report with this app build.")
        wave = self._instance(wave_id(migration_id))
        output = (wave or {}).get("output")
        if not isinstance(output, dict):
            raise CliError(f"The migration {migration_id!r} has not ended yet; its report comes when it ends.")
        return {
            "id": migration_id,
            "name": output.get("name"),
            "status": output.get("status"),
            "startedAt": output.get("startedAt"),
            "endedAt": output.get("endedAt"),
            "generatedAt": datetime.now(UTC).isoformat(),
            "machines": list((output.get("machines") or {}).values()),
            "controls": output.get("controls") or [],
        }


def _stage_counts(machines: list[Json]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for machine in machines:
        key = str(machine.get("stage") or "pending")
        counts[key] = counts.get(key, 0) + 1
    return counts
