"""Small helpers every HTTP route shares: JSON answers, refusals, the public base URL, query parameters.

A refusal always has the same shape, ``{"error": {"code", "message", "details"?}}``, so a client (or a Logic Apps
expression) reads one field whatever went wrong. An unexpected exception is logged (redacted) and answered with a
500 in the same shape, never with a stack trace.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func

from migration.access import Principal, Role, authorize
from migration.api_requests import ApiError
from migration.errors import redact

__all__ = [
    "api_base",
    "caller",
    "error_response",
    "guarded",
    "json_response",
    "query_int",
    "require_migration_id",
]

log = logging.getLogger("triggers.http")
ROUTE_PREFIX = "api"  # host.json extensions.http.routePrefix
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body, ensure_ascii=False), status_code=status, mimetype="application/json", headers=headers or {}
    )


def error_response(error: ApiError) -> func.HttpResponse:
    return json_response(error.to_dict(), error.status, error.headers)


def caller(req: func.HttpRequest, allowed: frozenset[Role], what: str) -> Principal:
    """The signed-in caller of ``what`` if it holds one of ``allowed`` (``migration.access``); else 401 or 403.

    Every route but ``/api/health`` calls this first: the routes are ``anonymous`` to the Functions host
    because App Service authentication, not a function key, checks who calls (Microsoft Learn, *Azure Functions
    HTTP trigger*, "Secure an HTTP endpoint in production").
    """
    return authorize(req.headers, os.environ, allowed, what)


def api_base(req: func.HttpRequest) -> str:
    """``https://host/api``: where this app's routes are, as the caller reached it (links carry no key)."""
    parts = urlsplit(req.url)
    return f"{parts.scheme}://{parts.netloc}/{ROUTE_PREFIX}"


def require_migration_id(value: str | None) -> str:
    """A migration id from the route; an id that is not a plan-id slug cannot exist, so it is a 404."""
    if not value or not _SLUG.match(value):
        raise ApiError(404, "MigrationNotFound", f"no migration with id {str(value)[:60]!r} (ids are lowercase slugs)")
    return value


def query_int(req: func.HttpRequest, name: str, default: int, low: int, high: int) -> int:
    text = req.params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, "InvalidQuery", f"query parameter {name}: {text[:40]!r} is not an integer") from None
    if not low <= value <= high:
        raise ApiError(400, "InvalidQuery", f"query parameter {name}: must be between {low} and {high}")
    return value


Handler = Callable[[], Awaitable[func.HttpResponse]]


async def guarded(route: str, handler: Handler) -> func.HttpResponse:
    """Run ``handler``; ApiError becomes its answer, anything else a logged 500 that leaks nothing."""
    try:
        return await handler()
    except ApiError as error:
        return error_response(error)
    except Exception as error:
        log.error("%s failed: %s", route, redact(f"{type(error).__name__}: {error}"))
        return error_response(ApiError(500, "InternalError", "the request could not be completed; try again"))
