"""The aiohttp application: ARM request pipeline (auth, ARM's request limits, api-version, faults,
errors, call log) in front of :mod:`arm` (Site Recovery), :mod:`offazure` (Azure Migrate discovery) and
:mod:`compute` (``Microsoft.Compute``), plus the control endpoint of :mod:`control` under ``/_emulator/``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from aiohttp import web

from emulators.siterecovery import arm, compute, control, offazure
from emulators.siterecovery.arm_limits import THROTTLED_CODE, ArmLimiter, Decision
from emulators.siterecovery.calls import Call, CallLog
from emulators.siterecovery.errors import ArmError
from emulators.siterecovery.state import Store

JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class AuthSettings:
    """Bearer-token checks. Off by default; when required, any non-empty token passes unless
    ``tokens`` names the accepted ones."""

    required: bool = False
    tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Emulator:
    """Everything one emulator instance serves from."""

    store: Store
    calls: CallLog = field(default_factory=CallLog)
    auth: AuthSettings = field(default_factory=AuthSettings)
    # ARM's per-subscription token buckets; on when the topology says ``armLimits:`` (or when set later)
    limits: ArmLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limits = ArmLimiter(self.store.clock, self.store.topology.arm_limits)


EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("emulator", Emulator)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    response = web.Response(status=status, headers=headers or {})
    if body is not None:
        response.body = json.dumps(body, separators=(",", ":")).encode()
        response.headers["Content-Type"] = JSON_TYPE
    return response


def _error(err: ArmError) -> web.Response:
    return _json(err.status, err.body(), err.headers)


def _check_auth(auth: AuthSettings, request: web.Request) -> None:
    with auth.lock:
        required, tokens = auth.required, set(auth.tokens)
    if not required:
        return
    header = request.headers.get("Authorization")
    if not header:
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            headers={
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                'error="invalid_token", error_description="The authentication failed because of missing '
                "'Authorization' header.\""
            },
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or (tokens and token.strip() not in tokens):
        raise ArmError(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
            headers={
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                'error="invalid_token", error_description="The access token is invalid."'
            },
        )


def _check_api_version(request: web.Request, supported: tuple[str, ...], resource_type: str) -> None:
    """ARM's answer to a missing or unregistered api-version (Site Recovery: one version; OffAzure: its stable ones)."""
    version = request.query.get("api-version")
    if version is None:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version not in supported:
        raise ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location and API version '{version}' for type "
            f"'{resource_type}'. The supported api-versions are '{', '.join(supported)}'.",
        )


def _take_token(limits: ArmLimiter, segments: list[str], method: str) -> Decision | None:
    """ARM's subscription limit for a ``/subscriptions/{id}/...`` request (None: not limited).

    Runs after authentication (ARM's buckets are per principal, so an anonymous request is refused
    before it can be counted) and before anything looks at the path further: a request ARM refuses
    as throttled never reaches the resource provider, and a 404 or 400 still cost a token.
    """
    if len(segments) < 2 or segments[0].lower() != "subscriptions":
        return None
    return limits.take(segments[1], method)


def _throttled(decision: Decision, subscription_id: str) -> ArmError:
    return ArmError(
        429,
        THROTTLED_CODE,
        decision.message(subscription_id),
        headers={"Retry-After": str(decision.retry_after)},
    )


def _body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: {exc}.",
        ) from None


def _vault(store: Store, sub: str, rg: str, name: str) -> Any:
    vault = store.vault(sub, rg, name)
    if vault is not None:
        return vault
    subs = {v.subscription_id.lower() for v in store.vaults.values()}
    if sub.lower() not in subs:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    rgs = {v.resource_group.lower() for v in store.vaults.values() if v.subscription_id.lower() == sub.lower()}
    if rg.lower() not in rgs:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    raise ArmError(
        404,
        "ResourceNotFound",
        f"The Resource 'Microsoft.RecoveryServices/vaults/{name}' under resource group '{rg}' was not found.",
    )


async def _front_door(store: Store, operation: str) -> None:
    """Injected latency and front-door faults (throttling, transient errors) for the operation."""
    verdict = store.faults.front_door(operation)
    if verdict.delay_seconds:
        await asyncio.sleep(verdict.delay_seconds)
    if verdict.status is not None:
        headers = {"Retry-After": str(verdict.retry_after)} if verdict.retry_after is not None else {}
        raise ArmError(verdict.status, verdict.code, verdict.message, headers=headers)


async def _site_recovery(store: Store, request: web.Request, route: arm.Route | None) -> web.Response:
    """A vault-scoped Site Recovery request, once authenticated and counted."""
    if route is None:
        raise ArmError(
            404,
            "InvalidResourceType",
            f"The resource type could not be found in the namespace 'Microsoft.RecoveryServices' for api "
            f"version '{request.query.get('api-version', '')}' (path '{request.path}').",
        )
    _check_api_version(request, (arm.API_VERSION,), "vaults")
    # The whole request is received before anything else happens, as at ARM's front door: a caller that goes
    # away during an injected delay does not undo a request it had fully sent.
    body = _body(await request.read()) if request.method in ("PUT", "POST", "PATCH") else None
    await _front_door(store, route.operation or "Unknown")
    if route.handler is None:
        raise _method_not_allowed(request)
    base_url = f"{request.scheme}://{request.host}"
    with store.lock:
        now = store.settle()
        vault = _vault(store, *route.vault)
        raw_path = request.raw_path.split("?", 1)[0]
        ctx = arm.Ctx(store, vault, request.method, raw_path, request.query, body, base_url, now)
        reply = route.handler(ctx, route.params)
    return _json(reply.status, reply.body, reply.headers)


class _ProviderRoute(Protocol):
    """What a provider's route resolver tells the pipeline (``offazure.SiteRoute``, ``compute.ComputeRoute``)."""

    @property
    def resource_type(self) -> str | None: ...

    @property
    def operation(self) -> str | None: ...


def _check_route(request: web.Request, namespace: str, versions: tuple[str, ...], route: _ProviderRoute) -> None:
    """ARM's first checks of another provider's request: a known resource type (404 ``InvalidResourceType``), then
    an accepted api-version. The caller then receives the body, passes the front door and finds the method."""
    if route.resource_type is None:
        raise ArmError(
            404,
            "InvalidResourceType",
            f"The resource type could not be found in the namespace '{namespace}' for api version "
            f"'{request.query.get('api-version', '')}' (path '{request.path}').",
        )
    _check_api_version(request, versions, route.resource_type)


def _method_not_allowed(request: web.Request) -> ArmError:
    return ArmError(405, "MethodNotAllowed", f"The method '{request.method}' is not allowed on this resource.")


async def _off_azure(store: Store, request: web.Request, route: offazure.SiteRoute) -> web.Response:
    """An Azure Migrate discovery request (``Microsoft.OffAzure``, read-only), once authenticated and counted."""
    _check_route(request, offazure.NAMESPACE, offazure.API_VERSIONS, route)
    await _front_door(store, route.operation or "Unknown")
    if route.handler is None:
        raise _method_not_allowed(request)
    base_url = f"{request.scheme}://{request.host}"
    with store.lock:
        now = store.settle()
        site = offazure.find_site(store, *route.params[:3])
        link_base = f"{base_url}{request.raw_path.split('?', 1)[0]}"
        reply = route.handler(offazure.SiteCtx(store, site, request.query, link_base, base_url, now), route.params)
    return _json(reply.status, reply.body, reply.headers)


async def _compute(store: Store, request: web.Request, route: compute.ComputeRoute) -> web.Response:
    """A ``Microsoft.Compute`` request, once authenticated and counted."""
    _check_route(request, route.namespace, route.versions, route)
    # The whole request is received before the front door, as for Site Recovery (``_site_recovery``).
    body = _body(await request.read()) if request.method in ("PUT", "POST", "PATCH") else None
    await _front_door(store, route.operation or "Unknown")
    if route.handler is None:
        raise _method_not_allowed(request)
    base_url = f"{request.scheme}://{request.host}"
    with store.lock:
        now = store.settle()
        compute.check_subscription(store, route.params[0])
        link_base = f"{base_url}{request.raw_path.split('?', 1)[0]}"
        ctx = compute.ComputeCtx(store, request.method, request.query, body, link_base, base_url, now)
        reply = route.handler(ctx, route.params)
    return _json(reply.status, reply.body, reply.headers)


async def handle_arm(request: web.Request) -> web.StreamResponse:
    """Every ARM path: the request pipeline around :func:`arm.resolve` (Site Recovery) or
    :func:`offazure.resolve` (Azure Migrate discovery) and the handler it finds."""
    emulator = request.app[EMULATOR_KEY]
    store = emulator.store
    segments = [unquote(s) for s in request.raw_path.split("?", 1)[0].split("/") if s]
    route = arm.resolve(request.method, segments)
    site_route = offazure.resolve(request.method, segments) if route is None else None
    compute_route = compute.resolve(request.method, segments) if route is None and site_route is None else None
    other = site_route or compute_route
    operation = (route.operation if route else other.operation if other else "") or "Unknown"
    item = route.item if route else None
    response: web.Response
    limit: Decision | None = None
    try:
        _check_auth(emulator.auth, request)
        limit = _take_token(emulator.limits, segments, request.method)
        if limit is not None and not limit.allowed:
            raise _throttled(limit, segments[1])
        if site_route is not None:
            response = await _off_azure(store, request, site_route)
        elif compute_route is not None:
            response = await _compute(store, request, compute_route)
        elif route is None and not (segments and segments[0].lower() == "subscriptions"):
            raise ArmError(404, "NotFound", f"No route matches '{request.path}'.")
        else:
            response = await _site_recovery(store, request, route)
    except ArmError as err:
        response = _error(err)
    except web.HTTPException as exc:  # e.g. a body over the size limit
        response = _error(ArmError(exc.status, exc.reason.replace(" ", ""), exc.text or exc.reason))
    except Exception as exc:  # never let a bug take the server down; answer like ARM's front door
        response = _error(ArmError(500, "InternalServerError", f"The server encountered an internal error: {exc!r}"))
    if limit is not None:
        response.headers[limit.header] = str(limit.remaining)
    response.headers["x-ms-request-id"] = response.headers.get("x-ms-request-id", str(uuid.uuid4()))
    client_id = request.headers.get("x-ms-client-request-id")
    if client_id:
        response.headers["x-ms-client-request-id"] = client_id
    emulator.calls.record(Call(operation, request.method, request.path, item, response.status))
    return response


def build_app(emulator: Emulator) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[EMULATOR_KEY] = emulator
    control.register(app, EMULATOR_KEY)
    app.router.add_route("*", "/{tail:.*}", handle_arm)
    return app
