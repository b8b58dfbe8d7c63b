"""A purpose-built HTTP app: routes with parameters and constraints, methods, auth levels, sync and async."""

import asyncio
import json
import threading

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="items/{id:int}", methods=["GET"])
def get_item(req: func.HttpRequest) -> func.HttpResponse:
    body = {"id": req.route_params["id"], "q": req.params.get("q"), "method": req.method, "url": req.url}
    return func.HttpResponse(json.dumps(body), mimetype="application/json", headers={"X-Item": "yes"})


@app.route(route="items/{id:int}", methods=["DELETE"], auth_level=func.AuthLevel.ADMIN)
def delete_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=204)


@app.route(route="items/{name:alpha}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def get_named(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("named:" + req.route_params["name"])


@app.route(route="files/{*path}", auth_level=func.AuthLevel.ANONYMOUS)
def files(req: func.HttpRequest) -> str:
    path: str = req.route_params.get("path", "")
    return "path=" + path


@app.route(route="opt/{name?}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def optional(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("name=" + req.route_params.get("name", "<none>"))


@app.route(route="echo", methods=["POST", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
async def echo(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(0)
    payload = {
        "json": req.get_json(),
        "contentType": req.headers.get("content-type"),
        "thread": threading.current_thread().name,
    }
    return func.HttpResponse(json.dumps(payload), status_code=201, headers={"X-Echo": "1"}, mimetype="application/json")


@app.route(route="sync", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def sync_route(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(threading.current_thread().name)


@app.route(route="broken", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def broken(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("this route always fails")


@app.function_name("renamed")
@app.route(methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def default_route(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("default route is the function name")


@app.route(route="whoami", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def whoami(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({"function": context.function_name, "invocation": context.invocation_id}))
