"""HTTP routes to submit a migration and read it: submit, status, list, one machine, report.

``POST /api/migrations`` validates the plan and starts the wave once per plan id; the answer follows the
asynchronous pattern Logic Apps' HTTP action polls by itself (202 + ``Location`` + ``Retry-After``). The status
route answers 202 while the migration runs, 200 when every machine migrated and 409 when it ended otherwise. The
documents themselves are built in ``migration.api_status`` and ``migration.report``; these functions only parse,
call Durable Functions and answer.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import azure.durable_functions as df
import azure.functions as func

from migration import runtime_status
from migration.api_requests import (
    ApiError,
    check_json_content_type,
    decode_json,
    parse_idempotency_key,
    prepare_start,
)
from migration.api_status import (
    RETRY_AFTER_SECONDS,
    Links,
    http_status,
    list_item,
    machine_names,
    machine_view,
    obj,
    overall_status,
    redact_all,
    status_document,
)
from migration.instance_ids import wave_id
from migration.report import build_report, report_clock, report_csv
from triggers import durable_access
from triggers.http_common import api_base, guarded, json_response, query_int, require_migration_id

name = "http_migrations"
bp = df.Blueprint()

Json = dict[str, Any]
MACHINES_TOP_DEFAULT = 200
MACHINES_TOP_MAX = 1000
_STATUSES = ("Running", "Migrated", "PartiallyMigrated", "Failed", "Cancelled")


def _polling_headers(location: str) -> dict[str, str]:
    return {"Location": location, "Retry-After": str(RETRY_AFTER_SECONDS)}


def submission_body(instance: Json, base: str) -> Json:
    """What POST answers, the same for the first submission and every repeat of it."""
    wave_input = obj(instance.get("input"))
    plan = obj(wave_input.get("plan"))
    migration_id = str(plan.get("id") or str(instance.get("instanceId")).split("~", 1)[-1])
    status = overall_status(instance)
    body: Json = {
        "id": migration_id,
        "name": plan.get("name"),
        "status": status,
        "machineCount": len(machine_names(plan)),
        "planSha256": wave_input.get("planSha256"),
        "idempotencyKey": wave_input.get("idempotencyKey"),
        "submittedVia": wave_input.get("submittedVia"),
        "createdAt": instance.get("createdTime"),
        "links": Links(base, migration_id).to_dict(),
    }
    cleaned: Json = redact_all(body)
    return cleaned


@bp.function_name("submit_migration")
@bp.route(route="migrations", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def submit_migration(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the plan and start its wave, or answer the migration this plan already started."""

    async def handle() -> func.HttpResponse:
        check_json_content_type(req.headers.get("Content-Type"))
        key = parse_idempotency_key(req.headers.get("Idempotency-Key"))
        data = decode_json(req.get_body(), what="plan")
        start = prepare_start(data, via="http", now=datetime.now(UTC), environ=os.environ, idempotency_key=key)
        outcome = await durable_access.start_once(client, start)
        base = api_base(req)
        body = submission_body(outcome.instance, base)
        if body["status"] == "Running":
            # A repeated POST of a running migration answers like the first one, so a retried HTTP action
            # keeps polling instead of taking a 200 for the end of the migration.
            return json_response(body, 202, _polling_headers(body["links"]["self"]))
        return json_response(body, 200)

    return await guarded("POST migrations", handle)


async def _wave_or_404(client: df.DurableOrchestrationClient, migration_id: str) -> Json:
    wave = await durable_access.read_instance(client, wave_id(migration_id), show_input=True)
    if wave is None:
        raise ApiError(404, "MigrationNotFound", f"no migration with id {migration_id!r}")
    return wave


async def _document(
    client: df.DurableOrchestrationClient, req: func.HttpRequest, migration_id: str, *, skip: int, top: int | None
) -> tuple[Json, Json, dict[str, list[Json]]]:
    wave = await _wave_or_404(client, migration_id)
    plan = obj(obj(wave.get("input")).get("plan"))
    page = machine_names(plan)[skip : None if top is None else skip + top]
    finished = overall_status(wave) != "Running"
    instances = (
        {} if finished else await durable_access.read_machine_instances(client, migration_id, [m for m, _ in page])
    )
    document = status_document(wave, instances, base_url=api_base(req), machines_skip=skip, machines_top=top)
    return document, wave, instances


@bp.function_name("get_migration")
@bp.route(route="migrations/{id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def get_migration(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """The status document: 202 while running, 200 when migrated, 409 when it ended otherwise, 404 unknown."""

    async def handle() -> func.HttpResponse:
        migration_id = require_migration_id(req.route_params.get("id"))
        skip = query_int(req, "machinesSkip", 0, 0, 1_000_000)
        top = query_int(req, "machinesTop", MACHINES_TOP_DEFAULT, 1, MACHINES_TOP_MAX)
        document, _, _ = await _document(client, req, migration_id, skip=skip, top=top)
        code = http_status(document["status"])
        # Location is this document's own link, never the request URL: a key given as ?code= is not echoed.
        paging = {k: v for k, v in req.params.items() if k in ("machinesTop", "machinesSkip")}
        location = document["links"]["self"] + ("?" + urlencode(paging) if paging else "")
        headers = _polling_headers(location) if code == 202 else {}
        return json_response(document, code, headers)

    return await guarded("GET migration", handle)


def _time_param(req: func.HttpRequest, name: str) -> datetime | None:
    text = req.params.get(name)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ApiError(400, "InvalidQuery", f"query parameter {name}: {text[:40]!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise ApiError(400, "InvalidQuery", f"query parameter {name}: needs a UTC offset")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        value = datetime.min.replace(tzinfo=UTC)
    if not 2000 <= value.year <= 9000:
        raise ApiError(400, "InvalidQuery", f"query parameter {name}: must be between the years 2000 and 9000")
    return value


def _status_filter(req: func.HttpRequest) -> set[str]:
    text = req.params.get("status") or ""
    wanted = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(wanted - set(_STATUSES))
    if unknown:
        raise ApiError(
            400, "InvalidQuery", f"query parameter status: {unknown[0][:40]!r} is not one of {', '.join(_STATUSES)}"
        )
    return wanted


@bp.function_name("list_migrations")
@bp.route(route="migrations", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def list_migrations(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Migrations, newest first, filtered by ``status`` and ``createdFrom``/``createdTo``, paged by ``top``/``skip``."""

    async def handle() -> func.HttpResponse:
        wanted = _status_filter(req)
        created_from, created_to = _time_param(req, "createdFrom"), _time_param(req, "createdTo")
        top = query_int(req, "top", 50, 1, 100)
        skip = query_int(req, "skip", 0, 0, 1_000_000)
        runtime: list[str] = []
        if wanted and wanted <= {"Running"}:
            runtime = list(runtime_status.ACTIVE)
        elif wanted and "Running" not in wanted:
            runtime = list(runtime_status.ENDED)
        instances = await durable_access.list_instances(
            client, prefix=wave_id(""), created_from=created_from, created_to=created_to, runtime_statuses=runtime
        )
        waves = [i for i in instances if str(i.get("instanceId")).count("~") == 1]
        base = api_base(req)
        items = [list_item(w, base_url=base) for w in waves]
        if wanted:
            items = [item for item in items if item["status"] in wanted]
        items.sort(key=lambda item: str(item.get("createdAt") or ""), reverse=True)
        page = items[skip : skip + top]
        next_link = None
        if skip + top < len(items):
            params = {k: v for k, v in req.params.items() if k not in ("skip", "code")}
            next_link = f"{base}/migrations?{urlencode({**params, 'skip': str(skip + top)})}"
        body = {"items": page, "count": len(page), "total": len(items), "skip": skip, "top": top, "nextLink": next_link}
        return json_response(redact_all(body))

    return await guarded("GET migrations", handle)


def _latest_record(migration_id: str, machine: str, instances: list[Json]) -> Json | None:
    """The output of the machine's most recently finished runbook (its stages, jobs, downtime so far)."""
    best: Json | None = None
    for instance in instances:
        iid = str(instance.get("instanceId") or "")
        output = instance.get("output")
        if ":" in iid or not isinstance(output, dict) or "stages" not in output:
            continue
        if best is None or str(instance.get("lastUpdatedTime")) >= str(best.get("lastUpdatedTime")):
            best = instance
    return best.get("output") if best else None


def _records(wave: Json, migration_id: str, instances: dict[str, list[Json]]) -> dict[str, Json | None]:
    output = obj(wave.get("output"))
    finished = output.get("machines") if isinstance(output.get("machines"), dict) else None
    if finished is not None:
        return dict(finished)
    return {machine: _latest_record(migration_id, machine, found) for machine, found in instances.items()}


@bp.function_name("get_migration_machine")
@bp.route(route="migrations/{id}/machines/{name}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def get_migration_machine(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """One machine: its status line plus its record (stage timestamps, jobs, recovery point, downtime, error)."""

    async def handle() -> func.HttpResponse:
        migration_id = require_migration_id(req.route_params.get("id"))
        wanted = str(req.route_params.get("name") or "")
        wave = await _wave_or_404(client, migration_id)
        plan = obj(obj(wave.get("input")).get("plan"))
        match = [(m, g) for m, g in machine_names(plan) if m.lower() == wanted.lower()]
        if not match:
            raise ApiError(404, "MachineNotFound", f"migration {migration_id!r} has no machine {wanted[:64]!r}")
        machine, group = match[0]
        instances = await durable_access.read_machine_instances(client, migration_id, [machine])
        record = _records(wave, migration_id, instances).get(machine)
        final = record if overall_status(wave) != "Running" else None
        view = machine_view(migration_id, machine, group, instances.get(machine, []), final)
        body = {
            **view,
            "migrationId": migration_id,
            "record": record,
            "links": Links(api_base(req), migration_id).to_dict(),
        }
        return json_response(redact_all(body))

    return await guarded("GET migration machine", handle)


def _wants_csv(accept: str | None) -> bool:
    kinds = [part.split(";", 1)[0].strip().lower() for part in (accept or "").split(",") if part.strip()]
    if not kinds or any(k in ("application/json", "*/*", "application/*") for k in kinds):
        return bool(kinds) and kinds[0] in ("text/csv", "text/*")
    if any(k in ("text/csv", "text/*") for k in kinds):
        return True
    raise ApiError(406, "NotAcceptable", "the report comes as application/json or text/csv")


@bp.function_name("get_migration_report")
@bp.route(route="migrations/{id}/report", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def get_migration_report(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """The report, one row per machine: JSON, or CSV when ``Accept`` asks for ``text/csv``."""

    async def handle() -> func.HttpResponse:
        migration_id = require_migration_id(req.route_params.get("id"))
        csv_wanted = _wants_csv(req.headers.get("Accept"))
        document, wave, instances = await _document(client, req, migration_id, skip=0, top=None)
        report = build_report(document, _records(wave, migration_id, instances), report_clock(wave))
        if csv_wanted:
            return func.HttpResponse(
                report_csv(report),
                status_code=200,
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{migration_id}-report.csv"'},
            )
        return json_response(report)

    return await guarded("GET migration report", handle)
