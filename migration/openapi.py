"""The OpenAPI 2.0 document of the HTTP API, shaped so Logic Apps can import it as a custom connector.

Custom connectors take Swagger 2.0 with Microsoft's extensions: ``x-ms-summary`` (field titles),
``x-ms-visibility`` (important | advanced | internal), ``x-ms-notification-url`` (the webhook's callback field) and
``x-ms-notification-content`` (what the callback receives). ``POST /migrations`` is both the action that starts a
migration and the webhook subscription: a plan's ``callbackUrl`` is POSTed the final result once the migration
ends. Every operation but the health check needs an Entra ID bearer token for the app's registration, checked by
App Service authentication, and an app role (``migration.access``): custom connectors declare that as ``oauth2``.

The document is built, not hand-written, so the route table and the schemas cannot drift apart silently: a test
calls every route the app registers and checks it is described here, with the status codes it answers.
"""

from __future__ import annotations

from migration.api_requests import MAX_BODY_BYTES
from migration.api_status import STATUSES
from migration.commands import ACTIONS
from migration.json_types import Json

__all__ = ["openapi_document"]


_SLUG = "^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$"
_MACHINE = "^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_])?$"
_KEY = "^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9])?$"
_STATUS = list(STATUSES)


def _ref(name: str) -> Json:
    return {"$ref": f"#/definitions/{name}"}


def _error(description: str) -> Json:
    return {"description": description, "schema": _ref("Error")}


def _id_param() -> Json:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "type": "string",
        "pattern": _SLUG,
        "maxLength": 50,
        "x-ms-summary": "Migration id",
        "description": "The plan's id.",
        "x-ms-url-encoding": "single",
        "x-example": "wave-2026-12",
    }


_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "type": "string",
    "pattern": _KEY,
    "maxLength": 128,
    "x-ms-summary": "Idempotency key",
    "x-ms-visibility": "advanced",
    "description": "Makes a repeated request act once.",
}

_DEFINITIONS: Json = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "x-ms-summary": "Error code"},
                    "message": {"type": "string", "x-ms-summary": "Message"},
                    "details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                        },
                    },
                },
            }
        },
    },
    "Actor": {
        "type": "object",
        "description": "A caller as App Service authentication named them.",
        "properties": {
            "actor": {"type": "string", "x-ms-summary": "Name"},
            "actorId": {"type": "string", "x-ms-summary": "Entra object id", "x-ms-visibility": "advanced"},
        },
    },
    "Links": {
        "type": "object",
        "properties": {
            key: {"type": "string", "x-ms-summary": f"{key.capitalize()} URL"}
            for key in ("self", *ACTIONS, "report", "machines")
        },
    },
    "Plan": {
        "type": "object",
        "description": "A migration plan (schemas/plan.schema.json has every field); camelCase.",
        "required": ["id", "name", "groups"],
        "properties": {
            "id": {"type": "string", "pattern": _SLUG, "x-ms-summary": "Migration id", "x-ms-visibility": "important"},
            "name": {"type": "string", "maxLength": 200, "x-ms-summary": "Name", "x-ms-visibility": "important"},
            "groups": {
                "type": "array",
                "x-ms-summary": "Groups, in cutover order",
                "items": {
                    "type": "object",
                    "required": ["name", "machines"],
                    "properties": {
                        "name": {"type": "string", "x-ms-summary": "Group name"},
                        "machines": {"type": "array", "items": {"type": "object"}, "x-ms-summary": "Machines"},
                        "hooks": {
                            "type": "object",
                            "x-ms-summary": "Hooks before and after the group's cutover",
                            "x-ms-visibility": "advanced",
                        },
                    },
                },
            },
            "options": {"type": "object", "x-ms-summary": "Wave options", "x-ms-visibility": "advanced"},
            "callbackUrl": {
                "type": "string",
                "x-ms-summary": "Callback URL",
                "x-ms-visibility": "internal",
                "x-ms-notification-url": True,
                "description": "Called once with the final result when the migration ends (https).",
            },
        },
    },
    "Submission": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "x-ms-summary": "Migration id"},
            "name": {"type": "string", "x-ms-summary": "Name"},
            "status": {"type": "string", "enum": _STATUS, "x-ms-summary": "Status"},
            "machineCount": {"type": "integer", "x-ms-summary": "Machines"},
            "planSha256": {"type": "string", "x-ms-visibility": "advanced"},
            "idempotencyKey": {"type": "string", "x-ms-visibility": "advanced"},
            "submittedVia": {"type": "string", "x-ms-visibility": "advanced"},
            "submittedBy": _ref("Actor"),
            "createdAt": {"type": "string", "format": "date-time", "x-ms-summary": "Created"},
            "links": _ref("Links"),
        },
    },
    "Machine": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "x-ms-summary": "Machine"},
            "group": {"type": "string", "x-ms-summary": "Group"},
            "stage": {"type": "string", "x-ms-summary": "Stage"},
            "status": {"type": "string", "x-ms-summary": "Stage status"},
            "outcome": {"type": "string", "x-ms-summary": "Outcome"},
            "progressPercent": {"type": "integer", "x-ms-summary": "Progress (%)"},
            "eta": {"type": "string", "format": "date-time", "x-ms-summary": "ETA"},
            "jobId": {"type": "string", "x-ms-summary": "ASR job id", "x-ms-visibility": "advanced"},
            "error": {"type": "object", "x-ms-summary": "Error"},
        },
    },
    "Status": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "x-ms-summary": "Migration id"},
            "name": {"type": "string", "x-ms-summary": "Name"},
            "status": {"type": "string", "enum": _STATUS, "x-ms-summary": "Status"},
            "phase": {"type": "string", "x-ms-summary": "Phase"},
            "counts": {"type": "object", "x-ms-summary": "Counts"},
            "machines": {"type": "array", "items": _ref("Machine"), "x-ms-summary": "Machines"},
            "pendingApproval": {"type": "object", "x-ms-summary": "Pending approval"},
            "eta": {"type": "string", "format": "date-time", "x-ms-summary": "ETA"},
            "errors": {"type": "array", "items": {"type": "object"}, "x-ms-summary": "Errors"},
            "createdAt": {"type": "string", "format": "date-time", "x-ms-summary": "Created"},
            "lastUpdatedAt": {"type": "string", "format": "date-time", "x-ms-summary": "Last updated"},
            "links": _ref("Links"),
        },
    },
    "Command": {
        "type": "object",
        "required": ["actor", "reason"],
        "properties": {
            "actor": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "x-ms-summary": "Actor",
                "x-ms-visibility": "important",
            },
            "reason": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1000,
                "x-ms-summary": "Reason",
                "x-ms-visibility": "important",
            },
            "machines": {
                "type": "array",
                "items": {"type": "string", "pattern": _MACHINE},
                "x-ms-summary": "Machines (all when empty)",
                "x-ms-visibility": "advanced",
            },
            "window": {
                "type": "object",
                "x-ms-summary": "Cutover window (postpone)",
                "properties": {
                    "notBefore": {"type": "string", "format": "date-time", "x-ms-summary": "Not before"},
                    "notAfter": {"type": "string", "format": "date-time", "x-ms-summary": "Not after"},
                },
            },
        },
    },
    "CommandAccepted": {
        "type": "object",
        "properties": {
            "accepted": {"type": "boolean"},
            "action": {"type": "string"},
            "commandId": {"type": "string", "x-ms-summary": "Command id"},
            "links": _ref("Links"),
        },
    },
    "CallbackResult": {
        "type": "object",
        "description": "What the callbackUrl receives: the wave's final result, secrets redacted.",
        "properties": {
            "migrationId": {"type": "string", "x-ms-summary": "Migration id"},
            "status": {"type": "string", "enum": _STATUS[1:], "x-ms-summary": "Status"},
            "counts": {"type": "object", "x-ms-summary": "Counts"},
            "machines": {"type": "object", "x-ms-summary": "Machines"},
            "startedAt": {"type": "string", "format": "date-time"},
            "endedAt": {"type": "string", "format": "date-time"},
        },
    },
}


def _nullable(definition: Json) -> Json:
    """Response fields may be null (an ETA not known yet, no error): Swagger 2.0 says so with ``x-nullable``."""
    for field in definition.get("properties", {}).values():
        if "$ref" not in field:
            field["x-nullable"] = True
    return definition


for _name in ("Submission", "Machine", "Status", "CommandAccepted", "CallbackResult"):
    _nullable(_DEFINITIONS[_name])


def _paths() -> Json:
    running = {
        "description": "Running: poll Location after Retry-After seconds.",
        "schema": _ref("Status"),
        "headers": {"Location": {"type": "string"}, "Retry-After": {"type": "integer"}},
    }
    paths: Json = {
        "/health": {
            "get": {
                "operationId": "Health",
                "summary": "Health check",
                "x-ms-visibility": "internal",
                "security": [],
                "responses": {"200": {"description": "The app is loaded."}},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "GetOpenApi",
                "summary": "This document",
                "x-ms-visibility": "internal",
                "responses": {
                    "200": {"description": "OpenAPI 2.0"},
                    "401": {"description": "No valid Entra ID token."},
                    "403": {"description": "The caller lacks the app role."},
                },
            }
        },
        "/migrations": {
            "post": {
                "operationId": "StartMigration",
                "summary": "Start a migration",
                "description": (
                    "Validates the plan and starts its wave; the plan id makes a repeat return the same migration. "
                    f"Bodies over {MAX_BODY_BYTES} bytes are refused (413)."
                ),
                "x-ms-visibility": "important",
                "consumes": ["application/json"],
                "parameters": [
                    {"name": "plan", "in": "body", "required": True, "schema": _ref("Plan"), "x-ms-summary": "Plan"},
                    _IDEMPOTENCY,
                ],
                "x-ms-notification-content": {
                    "description": "The final result, POSTed once to the plan's callbackUrl.",
                    "schema": _ref("CallbackResult"),
                },
                "responses": {
                    "202": {
                        "description": "Started (or the same plan already runs): poll Location.",
                        "schema": _ref("Submission"),
                        "headers": {"Location": {"type": "string"}, "Retry-After": {"type": "integer"}},
                    },
                    "200": {
                        "description": "The same plan was submitted before and has ended.",
                        "schema": _ref("Submission"),
                    },
                    "400": _error("The plan is invalid: every problem by path."),
                    "401": {"description": "No valid Entra ID token."},
                    "403": {"description": "The caller lacks the app role."},
                    "409": _error(
                        "A migration with this id exists with a different plan (MigrationExists), or one of the "
                        "plan's machines belongs to another running migration (MachineOwned, naming it)."
                    ),
                    "413": _error("The body is too large."),
                    "422": _error("The Idempotency-Key was already used for a different plan."),
                    "415": _error("The body is not application/json."),
                },
            },
            "get": {
                "operationId": "ListMigrations",
                "summary": "List migrations",
                "x-ms-visibility": "advanced",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "type": "string",
                        "x-ms-summary": "Status (comma-separated)",
                        "description": ", ".join(_STATUS),
                    },
                    {"name": "createdFrom", "in": "query", "type": "string", "format": "date-time"},
                    {"name": "createdTo", "in": "query", "type": "string", "format": "date-time"},
                    {"name": "top", "in": "query", "type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                    {"name": "skip", "in": "query", "type": "integer", "minimum": 0, "maximum": 1000000, "default": 0},
                ],
                "responses": {
                    "200": {
                        "description": "A page of migrations, newest first; nextLink for the next page.",
                        "schema": {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": {"type": "object"}},
                                "count": {"type": "integer"},
                                "total": {"type": "integer"},
                                "nextLink": {"type": "string", "x-nullable": True},
                            },
                        },
                    },
                    "400": _error("A query parameter is invalid."),
                    "401": {"description": "No valid Entra ID token."},
                    "403": {"description": "The caller lacks the app role."},
                },
            },
        },
        "/migrations/{id}": {
            "get": {
                "operationId": "GetMigration",
                "summary": "Get a migration's status",
                "description": (
                    "202 while running (poll Location), 200 when every machine migrated, 409 when it ended "
                    "PartiallyMigrated, Failed or Cancelled. Machines are paged by machinesTop/machinesSkip."
                ),
                "x-ms-visibility": "important",
                "parameters": [
                    _id_param(),
                    {"name": "machinesTop", "in": "query", "type": "integer", "minimum": 1, "maximum": 1000},
                    {"name": "machinesSkip", "in": "query", "type": "integer", "minimum": 0, "maximum": 1000000},
                ],
                "responses": {
                    "200": {"description": "Migrated.", "schema": _ref("Status")},
                    "202": running,
                    "400": _error("A query parameter is invalid."),
                    "401": {"description": "No valid Entra ID token."},
                    "403": {"description": "The caller lacks the app role."},
                    "404": _error("No such migration."),
                    "409": _error(
                        "The migration ended PartiallyMigrated, Failed or Cancelled (the body is the status)."
                    ),
                },
            }
        },
        "/migrations/{id}/machines/{name}": {
            "get": {
                "operationId": "GetMigrationMachine",
                "summary": "Get one machine of a migration",
                "x-ms-visibility": "advanced",
                "parameters": [
                    _id_param(),
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "type": "string",
                        "pattern": _MACHINE,
                        "x-ms-summary": "Machine",
                        "x-example": "db01",
                    },
                ],
                "responses": {
                    "200": {"description": "The machine.", "schema": _ref("Machine")},
                    "401": {"description": "No valid Entra ID token."},
                    "403": {"description": "The caller lacks the app role."},
                    "404": _error("No such migration or machine."),
                },
            }
        },
        "/migrations/{id}/report": {
            "get": {
                "operationId": "GetMigrationReport",
                "summary": "Get a migration's report (JSON or CSV)",
                "x-ms-visibility": "advanced",
                "produces": ["application/json", "text/csv"],
                "parameters": [_id_param()],
                "responses": {
                    "200": {"description": "One row per machine."},
                    "401": {"description": "No valid Entra ID token."},
                    "403": {"description": "The caller lacks the app role."},
                    "404": _error("No such migration."),
                    "406": _error("Accept is neither application/json nor text/csv."),
                },
            }
        },
    }
    for action in ACTIONS:
        paths[f"/migrations/{{id}}/{action}"] = {
            "post": {
                "operationId": f"{action.capitalize()}Migration",
                "summary": f"{action.capitalize()} a migration",
                "x-ms-visibility": "important" if action in ("approve", "reject") else "advanced",
                "consumes": ["application/json"],
                "parameters": [
                    _id_param(),
                    {"name": "command", "in": "body", "required": True, "schema": _ref("Command")},
                    _IDEMPOTENCY,
                ],
                "responses": {
                    "202": {"description": "The wave received the command.", "schema": _ref("CommandAccepted")},
                    "400": _error("The command is invalid."),
                    "401": {"description": "No valid Entra ID token."},
                    "403": {"description": "The caller lacks the app role."},
                    "404": _error("No such migration."),
                    "409": _error("The migration has ended."),
                    "413": _error("The body is too large."),
                    "422": _error("The Idempotency-Key was already used for a different command of this migration."),
                    "415": _error("The body is not application/json."),
                },
            }
        }
    return paths


def openapi_document(host: str | None = None, scheme: str = "https") -> Json:
    """The document; ``host`` (``app.example:443``) and ``scheme`` say where the API is, when known."""
    document: Json = {
        "swagger": "2.0",
        "info": {
            "title": "ASR migration orchestrator",
            "description": "Start, follow and steer Azure Site Recovery migrations.",
            "version": "1.0",
        },
        "basePath": "/api",
        "schemes": [scheme],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {
            # Microsoft Entra ID as a custom connector declares it (Swagger 2.0 OAuth 2.0, authorization code).
            "entra": {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
                "tokenUrl": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
                "scopes": {},
            },
        },
        "security": [{"entra": []}],
        "paths": _paths(),
        "definitions": _DEFINITIONS,
    }
    if host:
        document["host"] = host
    return document
