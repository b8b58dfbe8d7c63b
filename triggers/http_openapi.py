"""``GET /api/openapi.json``: the OpenAPI 2.0 document (``migration.openapi``), with the host the caller used."""

from __future__ import annotations

from urllib.parse import urlsplit

import azure.functions as func

from migration.access import READERS
from migration.openapi import openapi_document
from triggers.http_common import caller, guarded, json_response

name = "http_openapi"
bp = func.Blueprint()


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def openapi(req: func.HttpRequest) -> func.HttpResponse:
    """The document a Logic Apps custom connector imports; any role of the app may read it."""

    async def handle() -> func.HttpResponse:
        caller(req, READERS, "reading the API description")
        parts = urlsplit(req.url)
        return json_response(openapi_document(parts.netloc, parts.scheme or "https"))

    return await guarded("GET openapi", handle)
