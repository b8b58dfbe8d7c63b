"""A purpose-built app for App Service authentication: routes that echo the identity headers they receive."""

import base64
import json
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

_HEADERS = (
    "X-MS-CLIENT-PRINCIPAL-ID",
    "X-MS-CLIENT-PRINCIPAL-NAME",
    "X-MS-CLIENT-PRINCIPAL-IDP",
    "X-MS-TOKEN-AAD-ACCESS-TOKEN",
    "X-MS-CLIENT-PRINCIPAL-FORGED",
)


def _echo(req: func.HttpRequest) -> func.HttpResponse:
    raw = req.headers.get("X-MS-CLIENT-PRINCIPAL")
    body = {
        "principal": json.loads(base64.b64decode(raw)) if raw else None,
        "headers": {name: req.headers.get(name) for name in _HEADERS},
        "environ": {k: v for k, v in os.environ.items() if k.startswith("WEBSITE_AUTH_")},
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="whoami", methods=["GET"])
def whoami(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req)


@app.route(route="health", methods=["GET"])
def health(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req)


@app.route(route="public/{*rest}", methods=["GET"])
def public(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req)


@app.route(route="keyed", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def keyed(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req)
