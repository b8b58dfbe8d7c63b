"""The HTTP side of the host: the app's HTTP triggers, function keys, and the durable management routes.

Requests become ``func.HttpRequest`` objects and responses come back from ``func.HttpResponse`` (or a
``str``) exactly as the Python worker converts them. Keys are checked the way the host checks them:
``x-functions-key`` header or ``code`` query parameter; function-level routes accept a function key or the
master key, admin-level routes only the master key; failures are a bare 401.

With App Service authentication on (``easy_auth.py``), its module runs first, as it runs in front of the host in
Azure: for the app's routes and ``/runtime/webhooks/durabletask`` (a caller then needs a token *and* the key the
route asks for: "Admin endpoints are no longer blocked by EasyAuth", Azure/azure-functions-ux#499, so ``/admin/*``
stays on keys alone). The ``/durabletask`` loopback API is the worker talking to its own host and never passes
through App Service in Azure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

import azure.functions as func
from aiohttp import web
from multidict import CIMultiDict

from .app_loader import FunctionSpec, LoadedApp
from .easy_auth import DENIED_BODY, EasyAuth, Outcome, is_identity_header
from .invoke import call
from .keys import HostKeys
from .management_api import ManagementApi, error_response
from .routes import RouteTemplate

log = logging.getLogger("emulators.functions")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def presented_key(request: web.Request) -> str | None:
    return request.headers.get("x-functions-key") or request.query.get("code")


class HttpTriggers:
    """Dispatches ``/{routePrefix}/...`` to the matching HTTP-triggered function."""

    def __init__(
        self,
        app: LoadedApp,
        keys: HostKeys,
        route_prefix: str,
        executor: Executor,
        client_binding: Callable[[], str],
    ) -> None:
        self.keys = keys
        self.route_prefix = route_prefix
        self.executor = executor
        self.client_binding = client_binding
        self.routes: list[tuple[RouteTemplate, FunctionSpec]] = []
        for spec in app.functions:
            if spec.http is not None:
                self.routes.append((RouteTemplate(spec.http.route), spec))
        self.routes.sort(key=lambda r: r[0].sort_key)

    def match(self, path: str, method: str) -> tuple[FunctionSpec | None, dict[str, str], bool]:
        """(spec, route params, path matched at all) for a path relative to the prefix."""
        path_matched = False
        for template, spec in self.routes:
            params = template.match(path)
            if params is None:
                continue
            path_matched = True
            assert spec.http is not None
            if method in spec.http.methods or (method == "HEAD" and "GET" in spec.http.methods):
                return spec, params, True
        return None, {}, path_matched

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info.get("tail", "")
        spec, route_params, path_matched = self.match(path, request.method)
        if spec is None:
            return web.Response(status=405 if path_matched else 404)
        assert spec.http is not None
        if not self.keys.allows(spec.http.auth_level, presented_key(request)):
            return web.Response(status=401)
        body = await request.read()
        req = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers={k: v for k, v in request.headers.items()},
            params={k: v for k, v in request.query.items()},
            route_params=route_params,
            body=body,
        )
        kwargs: dict[str, Any] = {spec.http.param: req}
        if spec.client_param:
            kwargs[spec.client_param] = self.client_binding()
        try:
            result = await call(spec, kwargs, self.executor)
        except Exception:
            log.exception("function %r raised", spec.name)
            return web.Response(status=500)
        return to_response(result)


def to_response(result: Any) -> web.Response:
    """``HttpResponseConverter.encode``: HttpResponse as is, ``str``/``bytes`` as a 200, None as 204."""
    if isinstance(result, func.HttpResponse):
        headers = {k: v for k, v in result.headers.items()}
        if result.mimetype and not any(k.lower() == "content-type" for k in headers):
            ctype = result.mimetype
            if result.charset and (ctype.startswith("text/") or ctype == "application/json"):
                ctype += f"; charset={result.charset}"
            headers["Content-Type"] = ctype
        return web.Response(status=result.status_code, body=result.get_body(), headers=headers)
    if isinstance(result, str):
        return web.Response(status=200, text=result, content_type="text/plain")
    if isinstance(result, bytes):
        return web.Response(status=200, body=result, content_type="application/octet-stream")
    if result is None:
        return web.Response(status=204)
    return web.Response(status=200, text=json.dumps(result), content_type="application/json")


def behind_easy_auth(path: str) -> bool:
    """Whether App Service authentication sees this path: all but ``/admin`` and the ``/durabletask`` loopback."""
    return not any(path == p or path.startswith(p + "/") for p in ("/admin", "/durabletask"))


def easy_auth_middleware(auth: EasyAuth) -> Any:
    """App Service authentication in front of the routes: strip forged identity headers, decide, add the real ones."""

    @web.middleware
    async def easy_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not auth.enabled:
            return await handler(request)  # platform.enabled false: no module runs, nothing is touched
        kept: CIMultiDict[str] = CIMultiDict((k, v) for k, v in request.headers.items() if not is_identity_header(k))
        if behind_easy_auth(request.path):
            try:
                outcome = auth.decide(request.path, request.headers.getall("Authorization", []), request.host)
            except Exception:
                log.exception("easy auth: unexpected error on %s %s; refusing", request.method, request.path)
                outcome = Outcome(status=401, response_headers={"WWW-Authenticate": 'Bearer realm="localhost"'})
            if not outcome.passes:
                assert outcome.status is not None
                return web.Response(status=outcome.status, text=DENIED_BODY, headers=outcome.response_headers)
            kept.extend(outcome.identity)
        return await handler(request.clone(headers=kept))

    return easy_auth


def build_web_app(
    triggers: HttpTriggers,
    management: ManagementApi,
    keys: HostKeys,
    status: Callable[[], dict[str, Any]],
    easy_auth: EasyAuth | None = None,
) -> web.Application:
    """One aiohttp application: management routes, the host status route and the app's routes."""

    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if request.path.startswith(("/runtime/webhooks/durabletask", "/durabletask")):
                # The SDK reads every management reply as JSON: keep router errors JSON too.
                return error_response(exc.status, f"No management operation matches {request.method} {request.path}.")
            return web.Response(status=exc.status)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return web.json_response({"Message": "An error has occurred."}, status=500)

    middlewares: list[Any] = [errors] + ([easy_auth_middleware(easy_auth)] if easy_auth is not None else [])
    webapp = web.Application(middlewares=middlewares, client_max_size=100 * 1024 * 1024)

    def system_guard(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if not keys.allows("system", presented_key(request)):
                return web.Response(status=401)
            return await handler(request)

        return guarded

    def loopback_guard(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if request.remote not in LOOPBACK:
                return web.Response(status=403)
            return await handler(request)

        return guarded

    for method, path, handler in management.routes("/runtime/webhooks/durabletask"):
        webapp.router.add_route(method, path, system_guard(handler))
    for method, path, handler in management.routes("/durabletask"):
        webapp.router.add_route(method, path, loopback_guard(handler))

    async def host_status(request: web.Request) -> web.StreamResponse:
        if not keys.allows("admin", presented_key(request)):
            return web.Response(status=401)
        return web.json_response(status())

    async def ping(request: web.Request) -> web.StreamResponse:
        return web.Response(status=200)

    webapp.router.add_route("GET", "/admin/host/status", host_status)
    webapp.router.add_route("GET", "/admin/host/ping", ping)
    webapp.router.add_route("POST", "/admin/host/ping", ping)
    prefix = "/" + triggers.route_prefix if triggers.route_prefix else ""
    webapp.router.add_route("*", prefix + "/{tail:[\\s\\S]*}", triggers.handle)
    if prefix:
        webapp.router.add_route("*", prefix, triggers.handle)
    return webapp
