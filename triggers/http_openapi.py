"""``GET /api/openapi.json``: the OpenAPI 2.0 document (``migration.openapi``), with the host the caller used."""

from __future__ import annotations

from urllib.parse import urlsplit

import azure.functions as func

from migration.openapi import openapi_document
from triggers.http_common import json_response

name = "http_openapi"
bp = func.Blueprint()


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    """The document a Logic Apps custom connector imports; it needs the function key like every other route."""
    parts = urlsplit(req.url)
    return json_response(openapi_document(parts.netloc, parts.scheme or "https"))
