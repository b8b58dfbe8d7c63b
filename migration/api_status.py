"""The status document of a migration, assembled from what Durable Functions reports about its instances.

``GET /api/migrations/{id}`` answers with this document; ``POST /api/migrations`` with its summary
(:func:`submission_document`) and ``GET /api/migrations`` with a page of list items (:func:`list_document`). It is
built from the wave instance (custom status while it runs, output once it ended) and the machines' runbook
instances (their custom status: stage, job, error; the initial-replication wait's progress and ETA), never from
the wave's input beyond a few named fields: the input holds the plan, and the plan's ``callbackUrl`` may carry a
signature.

The HTTP status code follows what Logic Apps' HTTP action needs to poll and then decide: 202 (with ``Retry-After``
and ``Location``) while the migration runs, in any phase; 200 once every machine migrated; 409 when it ended any
other way (the server did not fail, so not a 5xx; a non-2xx makes the workflow run fail). Durable's own status
endpoint answers 200 for a failed orchestration, which a polling workflow would read as success.

Instances are plain dicts here (``instanceId``, ``runtimeStatus``, ``input``, ``output``, ``customStatus``,
``createdTime``, ``lastUpdatedTime``) so this module stays pure; the triggers convert the SDK's objects, read the
instances these functions ask for (:func:`machines_to_read`, :func:`list_runtime_statuses`) and send what they
return. Every document leaves here redacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from migration.commands import ACTIONS
from migration.errors import redact_all
from migration.instance_ids import Kind, parse
from migration.json_types import Json
from migration.runtime_status import ACTIVE, ENDED, is_active
from migration.wave_state import OUTCOMES

__all__ = [
    "ENDED_STATUSES",
    "FINAL_CODES",
    "RETRY_AFTER_SECONDS",
    "STATUSES",
    "Links",
    "decode",
    "obj",
    "http_status",
    "list_document",
    "list_item",
    "list_runtime_statuses",
    "machine_names",
    "machine_view",
    "machines_to_read",
    "overall_status",
    "status_document",
    "submission_document",
]

# A migration's status in every document: Running while its wave runs, then how it ended.
ENDED_STATUSES = ("Migrated", "PartiallyMigrated", "Failed", "Cancelled")
STATUSES = ("Running", *ENDED_STATUSES)
FINAL_CODES = {
    "PartiallyMigrated": "MigrationPartiallyMigrated",
    "Failed": "MigrationFailed",
    "Cancelled": "MigrationCancelled",
}
# A machine's outcome as the API spells it: the wave's final outcomes, and ready (prepared, not yet cut over).
_OUTCOMES = {"ready": "Ready", **OUTCOMES}
# Seconds a poller should wait between status reads while the migration runs.
RETRY_AFTER_SECONDS = 10


def decode(value: Any) -> Any:
    """Durable hands inputs and outputs over as JSON text on some paths (and objects on others)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def obj(value: Any) -> Json:
    """``value`` if it is a JSON object, else an empty one (documents from storage are read defensively)."""
    return value if isinstance(value, dict) else {}


class Links:
    """The URLs of one migration's routes, under ``base`` (``https://app.example/api``); they carry no key."""

    def __init__(self, base: str, migration_id: str) -> None:
        self.base = base.rstrip("/")
        self.id = migration_id

    @property
    def self(self) -> str:
        return f"{self.base}/migrations/{self.id}"

    def to_dict(self) -> Json:
        own = self.self
        return {
            "self": own,
            **{action: f"{own}/{action}" for action in ACTIONS},
            "report": f"{own}/report",
            "machines": f"{own}/machines/{{name}}",
        }


def overall_status(instance: Mapping[str, Any]) -> str:
    """Running while the wave's instance runs; then the wave's own result status."""
    runtime = str(instance.get("runtimeStatus") or "")
    if is_active(runtime):
        return "Running"
    if runtime == "Completed":
        output = decode(instance.get("output"))
        status = output.get("status") if isinstance(output, dict) else None
        return str(status) if status in ENDED_STATUSES else "Failed"
    if runtime in ("Terminated", "Canceled"):
        return "Cancelled"
    return "Failed"


def http_status(status: str) -> int:
    if status == "Running":
        return 202
    if status == "Migrated":
        return 200
    return 409


def machine_names(plan: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(machine, group name)`` in plan (cutover) order."""
    found: list[tuple[str, str]] = []
    for group in plan.get("groups") or []:
        for machine in group.get("machines") or []:
            found.append((str(machine.get("name")), str(group.get("name"))))
    return found


def _runbooks(migration_id: str, machine: str, instances: Iterable[Mapping[str, Any]]) -> tuple[Json | None, Json]:
    """The machine's most recently updated runbook instance, and the replication waits of each instance."""
    latest: Json | None = None
    waits: Json = {}
    for instance in instances:
        parsed = parse(str(instance.get("instanceId") or ""))
        if parsed.migration_id != migration_id or parsed.machine != machine.lower() or parsed.run is None:
            continue
        if parsed.kind is Kind.WAIT:
            if parsed.stage == "initialReplication":
                current = waits.get(parsed.run)
                if current is None or str(instance.get("lastUpdatedTime")) >= str(current.get("lastUpdatedTime")):
                    waits[parsed.run] = dict(instance)
            continue
        if latest is None or str(instance.get("lastUpdatedTime")) >= str(latest.get("lastUpdatedTime")):
            latest = dict(instance)
    return latest, waits


def machine_view(
    migration_id: str,
    machine: str,
    group: str,
    instances: Iterable[Mapping[str, Any]],
    record: Mapping[str, Any] | None = None,
) -> Json:
    """One machine's line in the status document: from its final record if the wave ended, else its instances."""
    listed = list(instances)
    latest, waits = _runbooks(migration_id, machine, listed)
    custom = decode(latest.get("customStatus")) if latest else None
    custom = custom if isinstance(custom, dict) else {}
    view: Json = {
        "name": machine,
        "group": group,
        "stage": custom.get("stage"),
        "status": custom.get("status"),
        "outcome": _OUTCOMES.get(str(custom.get("status"))) if custom.get("status") in _OUTCOMES else None,
        "progressPercent": None,
        "eta": None,
        "jobId": custom.get("jobId"),
        "error": custom.get("lastError"),
        "updatedAt": custom.get("updatedAt"),
    }
    if latest is not None:
        wait = waits.get(parse(str(latest["instanceId"])).run or "")
        wait_status = decode(wait.get("customStatus")) if wait else None
        if isinstance(wait_status, dict) and view["stage"] == "initialReplication":
            view["progressPercent"] = wait_status.get("progressPercent")
            view["eta"] = wait_status.get("eta")
        if latest.get("runtimeStatus") == "Terminated" and view["outcome"] is None:
            view["status"] = "terminated"
    if view["outcome"] == "Migrated":
        view["progressPercent"] = 100
    if record:
        outcome = record.get("outcome")
        view.update(
            stage=record.get("stage") or view["stage"],
            outcome=_OUTCOMES.get(str(outcome)) if outcome in _OUTCOMES else view["outcome"],
            status=str(outcome) if outcome else view["status"],
            error=record.get("error"),
            jobId=(record.get("jobs") or [None])[-1] or view["jobId"],
            eta=None,
        )
        if view["outcome"] == "Migrated":
            view["progressPercent"] = 100
    return view


def _counts(machines: list[Json], wave_counts: Mapping[str, Any] | None) -> Json:
    by_stage: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for machine in machines:
        stage = str(machine.get("stage") or "notStarted")
        by_stage[stage] = by_stage.get(stage, 0) + 1
    for key, value in (wave_counts or {}).items():
        by_outcome[str(key)] = int(value) if isinstance(value, int) else 0
    return {"byOutcome": by_outcome, "byStage": by_stage, "total": sum(by_outcome.values()) or len(machines)}


def _pending_approval(custom: Mapping[str, Any], links: Json) -> Json | None:
    """What the gate waits for, from the wave's own count: the whole wave, whatever page of machines is shown."""
    if custom.get("phase") != "awaitingApproval":
        return None
    gate = custom.get("gate") or {}
    awaiting = gate.get("awaiting") or {}
    return {
        "since": gate.get("awaitingApprovalSince"),
        "count": awaiting.get("count"),
        "machines": awaiting.get("first") or [],
        "approve": links["approve"],
        "reject": links["reject"],
    }


def status_document(
    wave: Mapping[str, Any],
    machine_instances: Mapping[str, list[Json]],
    *,
    base_url: str,
    machines_skip: int = 0,
    machines_top: int | None = None,
) -> Json:
    """The whole status document of one migration (see the module docstring); every string redacted."""
    wave_input = decode(wave.get("input"))
    wave_input = wave_input if isinstance(wave_input, dict) else {}
    plan = obj(wave_input.get("plan"))
    custom = decode(wave.get("customStatus"))
    custom = custom if isinstance(custom, dict) else {}
    raw_output = decode(wave.get("output"))
    output = obj(raw_output)
    migration_id = str(
        plan.get("id") or custom.get("migrationId") or parse(str(wave.get("instanceId", ""))).migration_id or ""
    )
    links = Links(base_url, migration_id).to_dict()
    status = overall_status(wave)
    records = obj(output.get("machines"))
    everything = machine_names(plan)
    page = everything[machines_skip : None if machines_top is None else machines_skip + machines_top]
    machines = [
        machine_view(migration_id, name, group, machine_instances.get(name, []), records.get(name))
        for name, group in page
    ]
    etas = [str(m["eta"]) for m in machines if m.get("eta")]
    errors = [
        {"machine": m["name"], **{k: m["error"].get(k) for k in ("stage", "code", "message", "jobId")}}
        for m in machines
        if isinstance(m.get("error"), dict)
    ]
    if wave.get("runtimeStatus") == "Failed":
        errors.append(
            {"machine": None, "stage": None, "code": "OrchestrationFailed", "message": str(raw_output)[:1000]}
        )
    controls = output.get("controls") if output else None
    document: Json = {
        "id": migration_id,
        "name": plan.get("name") or custom.get("name"),
        "status": status,
        "phase": custom.get("phase") if status == "Running" else "completed",
        "counts": _counts(machines, output.get("counts") if output else custom.get("counts")),
        "machines": machines,
        "machinesPage": {"skip": machines_skip, "top": machines_top, "total": len(everything)},
        "gate": custom.get("gate"),
        "window": custom.get("window"),
        "hold": custom.get("hold"),
        "pendingApproval": _pending_approval(custom, links) if status == "Running" else None,
        "eta": max(etas) if etas and status == "Running" else None,
        "errors": errors,
        "controls": controls if isinstance(controls, list) else custom.get("controls"),
        "lastControl": custom.get("lastControl"),
        "idempotencyKey": wave_input.get("idempotencyKey"),
        "submittedVia": wave_input.get("submittedVia"),
        "submittedBy": wave_input.get("submittedBy"),
        "createdAt": wave.get("createdTime"),
        "lastUpdatedAt": wave.get("lastUpdatedTime"),
        "startedAt": output.get("startedAt"),
        "endedAt": output.get("endedAt"),
        "links": links,
    }
    if status in FINAL_CODES:
        document["error"] = {"code": FINAL_CODES[status], "message": f"migration {migration_id} ended {status}"}
    cleaned: Json = redact_all(document)
    return cleaned


def list_item(wave: Mapping[str, Any], *, base_url: str) -> Json:
    """A migration's line in ``GET /api/migrations``: who, what state, when; the details are one link away."""
    custom = decode(wave.get("customStatus"))
    custom = custom if isinstance(custom, dict) else {}
    output = decode(wave.get("output"))
    output = output if isinstance(output, dict) else {}
    migration_id = str(custom.get("migrationId") or parse(str(wave.get("instanceId", ""))).migration_id or "")
    status = overall_status(wave)
    item: Json = {
        "id": migration_id,
        "name": custom.get("name") or output.get("name"),
        "status": status,
        "phase": custom.get("phase") if status == "Running" else "completed",
        "counts": output.get("counts") or custom.get("counts"),
        "createdAt": wave.get("createdTime"),
        "lastUpdatedAt": wave.get("lastUpdatedTime"),
        "links": {"self": Links(base_url, migration_id).self},
    }
    cleaned: Json = redact_all(item)
    return cleaned


def list_runtime_statuses(wanted: Iterable[str]) -> list[str]:
    """The runtime statuses to ask Durable for when listing migrations of the ``wanted`` statuses (all: none).

    Running migrations are exactly the active instances and the others exactly the ended ones, so a list that
    wants only one side lets Durable filter; a mix is filtered here, after :func:`list_item` decided each status.
    """
    wanted = set(wanted)
    if wanted and wanted <= {"Running"}:
        return list(ACTIVE)
    if wanted and "Running" not in wanted:
        return list(ENDED)
    return []


def list_document(
    waves: Iterable[Mapping[str, Any]],
    *,
    wanted: Iterable[str],
    base_url: str,
    skip: int,
    top: int,
    query: Mapping[str, str],
) -> Json:
    """``GET /api/migrations``: the waves of the ``wanted`` statuses, newest first, one page of them.

    ``query`` is the request's query string; ``nextLink`` repeats it (but never a ``code``: the key stays with the
    caller) with the next ``skip``.
    """
    wanted = set(wanted)
    base = base_url.rstrip("/")
    items = [list_item(wave, base_url=base) for wave in waves]
    if wanted:
        items = [item for item in items if item["status"] in wanted]
    items.sort(key=lambda item: str(item.get("createdAt") or ""), reverse=True)
    page = items[skip : skip + top]
    next_link = None
    if skip + top < len(items):
        params = {k: v for k, v in query.items() if k not in ("skip", "code")}
        next_link = f"{base}/migrations?{urlencode({**params, 'skip': str(skip + top)})}"
    body = {"items": page, "count": len(page), "total": len(items), "skip": skip, "top": top, "nextLink": next_link}
    cleaned: Json = redact_all(body)
    return cleaned


def machines_to_read(wave: Mapping[str, Any], *, skip: int = 0, top: int | None = None) -> list[str]:
    """The machines whose instances a status document of this page needs: none once the wave ended (its output
    holds every record), else the page's machines in plan order."""
    if overall_status(wave) != "Running":
        return []
    plan = obj(obj(decode(wave.get("input"))).get("plan"))
    page = machine_names(plan)[skip : None if top is None else skip + top]
    return [machine for machine, _ in page]


def submission_document(instance: Mapping[str, Any], base_url: str) -> Json:
    """What ``POST /api/migrations`` answers, the same for the first submission and every repeat of it."""
    wave_input = obj(decode(instance.get("input")))
    plan = obj(wave_input.get("plan"))
    migration_id = str(plan.get("id") or parse(str(instance.get("instanceId"))).migration_id)
    status = overall_status(instance)
    body: Json = {
        "id": migration_id,
        "name": plan.get("name"),
        "status": status,
        "machineCount": len(machine_names(plan)),
        "planSha256": wave_input.get("planSha256"),
        "idempotencyKey": wave_input.get("idempotencyKey"),
        "submittedVia": wave_input.get("submittedVia"),
        "submittedBy": wave_input.get("submittedBy"),
        "createdAt": instance.get("createdTime"),
        "links": Links(base_url, migration_id).to_dict(),
    }
    cleaned: Json = redact_all(body)
    return cleaned
