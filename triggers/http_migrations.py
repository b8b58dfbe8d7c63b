"""HTTP routes to submit a migration and read it: submit, status, list, one machine, report.

``POST /api/migrations`` validates the plan and starts the wave once per plan id; the answer follows the
asynchronous pattern Logic Apps' HTTP action polls by itself (202 + ``Location`` + ``Retry-After``). The status
route answers 202 while the migration runs, 200 when every machine migrated and 409 when it ended otherwise. The
documents themselves are built in ``migration.api_status``, ``migration.api_machine`` and ``migration.report``;
these functions only parse the request, read the instances (``triggers.durable_access``), call the builder and
answer.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from urllib.parse import urlencode

import azure.durable_functions as df
import azure.functions as func

from migration.access import OPERATORS, READERS
from migration.api_machine import find_machine, machine_document
from migration.api_requests import (
    ApiError,
    check_json_content_type,
    decode_json,
    parse_idempotency_key,
    prepare_start,
)
from migration.api_status import (
    RETRY_AFTER_SECONDS,
    STATUSES,
    http_status,
    list_document,
    list_runtime_statuses,
    machines_to_read,
    status_document,
    submission_document,
)
from migration.instance_ids import Kind, parse, wave_id
from migration.json_types import Json
from migration.payloads.idempotency import KeyRecord
from migration.report import migration_report, report_csv
from triggers import durable_access, idempotency_keys, starting
from triggers.http_common import api_base, caller, guarded, json_response, query_int, require_migration_id

name = "http_migrations"
bp = df.Blueprint()

MACHINES_TOP_DEFAULT = 200
MACHINES_TOP_MAX = 1000


def _polling_headers(location: str) -> dict[str, str]:
    return {"Location": location, "Retry-After": str(RETRY_AFTER_SECONDS)}


@bp.function_name("submit_migration")
@bp.route(route="migrations", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def submit_migration(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the plan and start its wave, or answer the migration this plan already started."""

    async def handle() -> func.HttpResponse:
        submitter = caller(req, OPERATORS, "submitting a migration")
        check_json_content_type(req.headers.get("Content-Type"))
        key = parse_idempotency_key(req.headers.get("Idempotency-Key"))
        data = decode_json(req.get_body(), what="plan")
        start = prepare_start(
            data,
            via="http",
            now=datetime.now(UTC),
            environ=os.environ,
            idempotency_key=key,
            submitted_by=submitter.actor(),
        )
        record = KeyRecord("submissions", key, start.sha256, start.plan.id, "the plan") if key else None
        outcome = await idempotency_keys.once_per_key(client, record, lambda: starting.start_once(client, start))
        base = api_base(req)
        body = submission_document(outcome.instance, base)
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


async def _read(
    client: df.DurableOrchestrationClient, migration_id: str, *, skip: int = 0, top: int | None = None
) -> tuple[Json, dict[str, list[Json]]]:
    """The wave (or 404) and the instances of the machines its document of this page needs."""
    wave = await _wave_or_404(client, migration_id)
    machines = machines_to_read(wave, skip=skip, top=top)
    return wave, await durable_access.read_machine_instances(client, migration_id, machines)


@bp.function_name("get_migration")
@bp.route(route="migrations/{id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def get_migration(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """The status document: 202 while running, 200 when migrated, 409 when it ended otherwise, 404 unknown."""

    async def handle() -> func.HttpResponse:
        caller(req, READERS, "reading a migration")
        migration_id = require_migration_id(req.route_params.get("id"))
        skip = query_int(req, "machinesSkip", 0, 0, 1_000_000)
        top = query_int(req, "machinesTop", MACHINES_TOP_DEFAULT, 1, MACHINES_TOP_MAX)
        wave, instances = await _read(client, migration_id, skip=skip, top=top)
        document = status_document(wave, instances, base_url=api_base(req), machines_skip=skip, machines_top=top)
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
    unknown = sorted(wanted - set(STATUSES))
    if unknown:
        raise ApiError(
            400, "InvalidQuery", f"query parameter status: {unknown[0][:40]!r} is not one of {', '.join(STATUSES)}"
        )
    return wanted


@bp.function_name("list_migrations")
@bp.route(route="migrations", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def list_migrations(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Migrations, newest first, filtered by ``status`` and ``createdFrom``/``createdTo``, paged by ``top``/``skip``."""

    async def handle() -> func.HttpResponse:
        caller(req, READERS, "listing migrations")
        wanted = _status_filter(req)
        created_from, created_to = _time_param(req, "createdFrom"), _time_param(req, "createdTo")
        top = query_int(req, "top", 50, 1, 100)
        skip = query_int(req, "skip", 0, 0, 1_000_000)
        instances = await durable_access.list_instances(
            client,
            prefix=wave_id(""),
            created_from=created_from,
            created_to=created_to,
            runtime_statuses=list_runtime_statuses(wanted),
        )
        waves = [i for i in instances if parse(str(i.get("instanceId"))).kind is Kind.WAVE]
        body = list_document(waves, wanted=wanted, base_url=api_base(req), skip=skip, top=top, query=req.params)
        return json_response(body)

    return await guarded("GET migrations", handle)


@bp.function_name("get_migration_machine")
@bp.route(route="migrations/{id}/machines/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def get_migration_machine(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """One machine: its status line plus its record (stage timestamps, jobs, recovery point, downtime, error)."""

    async def handle() -> func.HttpResponse:
        caller(req, READERS, "reading a machine")
        migration_id = require_migration_id(req.route_params.get("id"))
        wanted = str(req.route_params.get("name") or "")
        wave = await _wave_or_404(client, migration_id)
        machine, group = find_machine(wave, migration_id, wanted)
        instances = await durable_access.read_machine_instances(client, migration_id, [machine])
        return json_response(machine_document(wave, migration_id, machine, group, instances, base_url=api_base(req)))

    return await guarded("GET migration machine", handle)


def _wants_csv(accept: str | None) -> bool:
    kinds = [part.split(";", 1)[0].strip().lower() for part in (accept or "").split(",") if part.strip()]
    if not kinds or any(k in ("application/json", "*/*", "application/*") for k in kinds):
        return bool(kinds) and kinds[0] in ("text/csv", "text/*")
    if any(k in ("text/csv", "text/*") for k in kinds):
        return True
    raise ApiError(406, "NotAcceptable", "the report comes as application/json or text/csv")


@bp.function_name("get_migration_report")
@bp.route(route="migrations/{id}/report", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def get_migration_report(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """The report, one row per machine: JSON, or CSV when ``Accept`` asks for ``text/csv``."""

    async def handle() -> func.HttpResponse:
        caller(req, READERS, "reading a report")
        migration_id = require_migration_id(req.route_params.get("id"))
        csv_wanted = _wants_csv(req.headers.get("Accept"))
        wave, instances = await _read(client, migration_id)
        report = migration_report(wave, instances, base_url=api_base(req))
        if csv_wanted:
            return func.HttpResponse(
                report_csv(report),
                status_code=200,
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{migration_id}-report.csv"'},
            )
        return json_response(report)

    return await guarded("GET migration report", handle)
