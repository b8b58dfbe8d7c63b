"""An anonymous health route, the one route App Service authentication lets through without a token (probes)."""

import json

import azure.functions as func

name = "health"
bp = func.Blueprint()


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Answers 200 with a tiny JSON body; it touches no dependency, so it says the app loaded."""
    return func.HttpResponse(json.dumps({"status": "ok"}), status_code=200, mimetype="application/json")
