"""Who may do what: the principal App Service authentication vouches for, and the app role each route needs.

In Azure every route sits behind App Service authentication (``authsettingsV2``, Microsoft Entra provider): it
checks the caller's token (signature, issuer, audience, expiry) before the request reaches the app, removes any
identity header the caller sent ("External requests aren't allowed to set these headers, so they're present only
if App Service sets them", Microsoft Learn, *Work with user identities in Azure App Service authentication*), and
passes the caller on as ``X-MS-CLIENT-PRINCIPAL``: base64 of ``{"auth_typ", "claims": [{"typ", "val"}],
"name_typ", "role_typ"}``. The app then only decides whether that principal's app roles allow the route.

The header is trusted only where App Service sets it, so only when ``WEBSITE_AUTH_ENABLED`` is ``True``: App
Service sets that variable when authentication is on (Microsoft.Identity.Web reads it the same way,
``AppServicesAuthenticationInformation.cs``). Without it anyone could write the header, so every protected route
answers 401 instead of believing it.

Claim names go through App Service's default claim mapping, and app roles arrive under either ``roles`` or the
role URI (both are reported: Azure/static-web-apps#655, AzureAD/microsoft-identity-web#2166), so both are read;
the object id arrives as the ``objectidentifier`` URI or ``oid``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from migration.api_requests import ApiError
from migration.commands import ControlAction
from migration.plain_text import text_problem

__all__ = [
    "ACTION_ROLES",
    "AUTH_ENABLED_SETTING",
    "OPERATORS",
    "PRINCIPAL_HEADER",
    "READERS",
    "Principal",
    "Role",
    "authorize",
    "principal_from_header",
]

AUTH_ENABLED_SETTING = "WEBSITE_AUTH_ENABLED"
PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL"
PRINCIPAL_NAME_HEADER = "X-MS-CLIENT-PRINCIPAL-NAME"
# App Service answers an unauthenticated caller with a Bearer challenge (unauthenticatedClientAction Return401).
CHALLENGE = {"WWW-Authenticate": "Bearer"}
MAX_HEADER_BYTES = 16 * 1024
_OBJECT_ID_TYPES = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
_ROLE_TYPES = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
_NAME_TYPES = ("preferred_username", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "upn", "name")
_APP_ID_TYPES = ("azp", "appid")
_OBJECT_ID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


class Role(StrEnum):
    """The app roles of the app's Entra registration (``infra/app/entra.bicep`` declares the same values)."""

    READ = "Migrations.Read"
    OPERATE = "Migrations.Operate"
    APPROVE = "Migrations.Approve"


# Whoever may act on migrations may also look at them.
READERS = frozenset(Role)
OPERATORS = frozenset({Role.OPERATE})
ACTION_ROLES: Mapping[ControlAction, frozenset[Role]] = {
    ControlAction.APPROVE: frozenset({Role.APPROVE}),
    ControlAction.REJECT: frozenset({Role.APPROVE}),
    ControlAction.CANCEL: OPERATORS,
    ControlAction.RETRY: OPERATORS,
    ControlAction.POSTPONE: OPERATORS,
    ControlAction.PAUSE: OPERATORS,
    ControlAction.RESUME: OPERATORS,
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: Entra object id, a name people read, and the app roles its token carries."""

    object_id: str
    name: str
    roles: frozenset[str]

    def actor(self) -> dict[str, str]:
        """How the audit trail names this caller."""
        return {"actor": self.name, "actorId": self.object_id}


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "Unauthenticated", message, headers=dict(CHALLENGE))


def _claims(document: Any) -> list[tuple[str, str]]:
    if not isinstance(document, dict) or not isinstance(document.get("claims"), list):
        raise _unauthenticated(f"the {PRINCIPAL_HEADER} header does not hold a client principal")
    pairs = []
    for claim in document["claims"]:
        if isinstance(claim, dict) and isinstance(claim.get("typ"), str) and isinstance(claim.get("val"), str):
            pairs.append((claim["typ"], claim["val"]))
    return pairs


def _first(claims: Iterable[tuple[str, str]], types: Iterable[str]) -> str | None:
    wanted = list(types)
    found = {typ: val for typ, val in reversed(list(claims)) if typ in wanted}
    return next((found[typ] for typ in wanted if found.get(typ)), None)


def _readable(name: str) -> str:
    """A name for the audit trail: clipped, and never carrying characters that rewrite a terminal line."""
    clipped = name.strip()[:200]
    return clipped if text_problem(clipped) is None else "".join(c for c in clipped if text_problem(c) is None)


def principal_from_header(value: str, name_header: str | None = None) -> Principal:
    """Decode ``X-MS-CLIENT-PRINCIPAL``; a header that is not one (or names no object id) is a 401."""
    if len(value) > MAX_HEADER_BYTES:
        raise _unauthenticated(f"the {PRINCIPAL_HEADER} header is larger than {MAX_HEADER_BYTES} bytes")
    try:
        document = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        raise _unauthenticated(f"the {PRINCIPAL_HEADER} header is not base64-encoded JSON") from None
    claims = _claims(document)
    object_id = _first(claims, _OBJECT_ID_TYPES)
    if object_id is None or not _OBJECT_ID.match(object_id):
        raise _unauthenticated(f"the {PRINCIPAL_HEADER} header names no Entra object id")
    role_types = {*_ROLE_TYPES, str(document.get("role_typ") or "roles")}
    roles = frozenset(val for typ, val in claims if typ in role_types)
    name_type = str(document.get("name_typ") or "")
    name = name_header or _first(claims, [*_NAME_TYPES, name_type]) or _first(claims, _APP_ID_TYPES) or object_id
    return Principal(object_id.lower(), _readable(name) or object_id.lower(), roles)


def authorize(headers: Mapping[str, str], environ: Mapping[str, str], allowed: frozenset[Role], what: str) -> Principal:
    """The caller of ``what`` if one of ``allowed`` roles is theirs; 401 when unauthenticated, 403 when not allowed.

    ``headers`` must look names up case-insensitively (``azure.functions.HttpRequest.headers`` does).
    """
    if str(environ.get(AUTH_ENABLED_SETTING, "")).lower() != "true":
        raise _unauthenticated(
            "App Service authentication is not enabled on this app, so no caller can be identified "
            f"({AUTH_ENABLED_SETTING} is not True); every route except /api/health needs it"
        )
    value = headers.get(PRINCIPAL_HEADER)
    if not value:
        raise _unauthenticated(f"{what} needs a signed-in caller (an Entra ID bearer token for this app)")
    principal = principal_from_header(value, headers.get(PRINCIPAL_NAME_HEADER))
    if not principal.roles & allowed:
        needed = " or ".join(sorted(allowed))
        held = ", ".join(sorted(principal.roles)) or "no role of this app"
        raise ApiError(403, "Forbidden", f"{what} needs the app role {needed}; {principal.name} holds {held}")
    return principal
