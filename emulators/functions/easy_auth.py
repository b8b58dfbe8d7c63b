"""App Service authentication ("Easy Auth", Microsoft Entra provider) in front of the local host.

In Azure the authentication module runs before the Functions host sees a request: it validates the caller's
bearer token, answers for the unauthenticated, and hands the app the caller as ``X-MS-CLIENT-PRINCIPAL*``
headers. This module makes the same decisions from the same ``authsettingsV2`` properties document, trusting
only the local issuer (``local_entra.py``). Sources, all Microsoft unless noted:

- Settings and their meaning: *Configure your App Service or Azure Functions app to use Microsoft Entra sign-in*
  (``configure-authentication-provider-aad``), *File-based configuration* (``configure-authentication-file-based``).
  The client id is "always implicitly considered to be an allowed audience"; ``defaultAuthorizationPolicy`` is an
  AND of ``allowedApplications`` (``azp``/``appid``) and ``allowedPrincipals`` (an OR; ``identities`` checks
  ``oid``); ``WEBSITE_AUTH_AAD_ALLOWED_TENANTS`` (up to 10 ids, checks ``tid``) and
  ``WEBSITE_AUTH_AAD_REQUIRE_CLIENT_SERVICE_PRINCIPAL`` (requires ``oid``); "Requests that fail these built-in
  checks are given an HTTP 403 Forbidden response".
- Clock skew: "There is a 5 minute grace period for expired tokens to account for clock skew" (Chris Gillum,
  App Service authentication's author, Azure/azure-mobile-apps-net-server#137).
- ``excludedPaths``: an entry matches its path exactly; ``/dir/*`` matches everything below ``/dir/`` (the product
  team's answer in MicrosoftDocs/azure-docs#86514). Case is ignored here, as the Functions host ignores it in
  routes (not documented either way: MicrosoftDocs/azure-docs#72954). An excluded path is handled as under
  ``AllowAnonymous``: a valid token still yields a principal, nothing is refused for lack of one.
- The 401 challenge is ``WWW-Authenticate: Bearer realm="<host>"`` (as quoted from a Function App in
  YannickRe/ms-graph-proxy-function#5); the body is App Service's one-line "You do not have permission to view
  this directory or page." (quoted in AzureAD/microsoft-authentication-library-for-dotnet#2425).
- A token that fails validation is treated as no token: under ``AllowAnonymous`` the request passes
  unauthenticated (pnp/Microsoft365-Analytics-Insights#264 tabulates this).
- ``X-MS-CLIENT-PRINCIPAL`` and the other identity headers: *Work with user identities in Azure App Service
  authentication* ("External requests aren't allowed to set these headers"; the claims "go through a default
  claims-mapping process"). The mapping is .NET's ``JwtSecurityTokenHandler`` inbound map
  (``ClaimTypeMapping.cs``: ``oid``, ``sub``, ``tid``, ``email``, ``upn``, ``unique_name``, ``scp`` ... to their
  URIs; the docs' own example is ``tid`` to ``.../claims/tenantid``) except ``roles``: decoded v2.0 headers show
  ``roles`` kept as is (MaximRouiller/MaximeRouiller.Azure.AppService.EasyAuth#4, and Microsoft.Identity.Web's
  maintainers: "given Easy Auth is using AAD v2.0, the claim will always be 'roles'", AzureAD/microsoft-identity-web
  #2027/#2166) while others saw the role URI (Azure/static-web-apps#655); v1.0 tokens get the URI here.
- The settings App Service gives the app (``WEBSITE_AUTH_ENABLED`` = ``True``, ``WEBSITE_AUTH_OPENID_ISSUER``,
  ``WEBSITE_AUTH_CLIENT_ID``, ``WEBSITE_AUTH_DEFAULT_PROVIDER`` = ``AzureActiveDirectory``): the names
  Microsoft.Identity.Web reads (``AppServicesAuthenticationInformation.cs``).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from .local_entra import LocalEntra

__all__ = ["CLOCK_SKEW_SECONDS", "EasyAuth", "EasyAuthError", "Outcome", "is_identity_header"]

log = logging.getLogger("emulators.functions")

CLOCK_SKEW_SECONDS = 300
MAX_TOKEN_CHARS = 16 * 1024
MAX_ALLOWED_TENANTS = 10
DENIED_BODY = "You do not have permission to view this directory or page."
NAME_URI = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE_URI = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
_CLAIM_URIS = {
    "oid": "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "sub": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
    "tid": "http://schemas.microsoft.com/identity/claims/tenantid",
    "scp": "http://schemas.microsoft.com/identity/claims/scope",
    "email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "upn": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "unique_name": NAME_URI,
    "given_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    "family_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    "amr": "http://schemas.microsoft.com/claims/authnmethodsreferences",
    "acr": "http://schemas.microsoft.com/claims/authnclassreference",
    "idp": "http://schemas.microsoft.com/identity/claims/identityprovider",
    "role": ROLE_URI,
}
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*$")
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_ACTIONS = ("Return401", "Return403", "AllowAnonymous")
_SECRET_KEYS = (
    "clientSecretSettingName",
    "clientSecretCertificateThumbprint",
    "clientSecretCertificateSubjectAlternativeName",
)


class EasyAuthError(ValueError):
    """An ``authsettingsV2`` document this host cannot honour; the message says which property and why."""


def is_identity_header(name: str) -> bool:
    """Headers only App Service may set: ``X-MS-CLIENT-PRINCIPAL*`` and ``X-MS-TOKEN-*``, any case."""
    upper = name.upper()
    return upper.startswith("X-MS-CLIENT-PRINCIPAL") or upper.startswith("X-MS-TOKEN-")


@dataclass(frozen=True)
class Outcome:
    """What the module does with one request: pass it on (adding ``identity``) or answer ``status`` itself."""

    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)

    @property
    def passes(self) -> bool:
        return self.status is None


def _section(doc: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = doc.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EasyAuthError(f"authsettingsV2: '{where}{key}' must be an object")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EasyAuthError(f"authsettingsV2: '{where}' must be a list of strings")
    return list(value)


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


class EasyAuth:
    """The decisions App Service authentication makes, from an ``authsettingsV2`` properties document."""

    def __init__(
        self, settings: Mapping[str, Any], entra: LocalEntra, *, app_settings: Mapping[str, str] | None = None
    ) -> None:
        if not isinstance(settings, Mapping):
            raise EasyAuthError("authsettingsV2: the document must be a JSON object (the resource's 'properties')")
        self.entra = entra
        self.enabled = bool(_section(settings, "platform", "").get("enabled", False))
        glob = _section(settings, "globalValidation", "")
        aad = _section(_section(settings, "identityProviders", ""), "azureActiveDirectory", "identityProviders.")
        where = "identityProviders.azureActiveDirectory."
        registration = _section(aad, "registration", where)
        validation = _section(aad, "validation", where)
        policy = _section(validation, "defaultAuthorizationPolicy", where + "validation.")
        principals = _section(policy, "allowedPrincipals", where + "validation.defaultAuthorizationPolicy.")
        self.require_authentication = bool(glob.get("requireAuthentication", False))
        self.action = str(glob.get("unauthenticatedClientAction", "RedirectToLoginPage"))
        self.excluded = [p for p in _strings(glob.get("excludedPaths"), "globalValidation.excludedPaths") if p]
        self.client_id = str(registration.get("clientId") or "")
        self.openid_issuer = str(registration.get("openIdIssuer") or "")
        self.audiences = [*_strings(validation.get("allowedAudiences"), where + "validation.allowedAudiences")]
        self.allowed_applications = _strings(policy.get("allowedApplications"), "allowedApplications")
        self.allowed_identities = _strings(principals.get("identities"), "allowedPrincipals.identities")
        self.token_store = bool(_section(_section(settings, "login", ""), "tokenStore", "login.").get("enabled"))
        app = dict(app_settings or {})
        self.allowed_tenants = [t.strip().lower() for t in app.get("WEBSITE_AUTH_AAD_ALLOWED_TENANTS", "").split(",")]
        self.allowed_tenants = [t for t in self.allowed_tenants if t]
        self.require_oid = app.get("WEBSITE_AUTH_AAD_REQUIRE_CLIENT_SERVICE_PRINCIPAL", "").lower() in ("true", "1")
        if self.enabled:
            self._refuse_what_cannot_be_honoured(aad, registration, validation, principals)
        if self.client_id not in self.audiences:
            self.audiences.append(self.client_id)
        self.issuers = [entra.issuer, entra.issuer_v1]

    @classmethod
    def from_file(cls, path: Path, entra: LocalEntra, *, app_settings: Mapping[str, str] | None = None) -> EasyAuth:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EasyAuthError(f"{path}: not a readable authsettingsV2 JSON document ({exc})") from exc
        if isinstance(doc, dict) and isinstance(doc.get("properties"), dict):
            doc = doc["properties"]  # the whole ARM resource was given; its properties are the settings
        return cls(doc, entra, app_settings=app_settings)

    def _refuse_what_cannot_be_honoured(
        self,
        aad: Mapping[str, Any],
        registration: Mapping[str, Any],
        validation: Mapping[str, Any],
        principals: Mapping[str, Any],
    ) -> None:
        if aad.get("enabled") is False or not aad:
            raise EasyAuthError("authsettingsV2: the Microsoft Entra provider (azureActiveDirectory) is not enabled")
        if not self.client_id:
            raise EasyAuthError(
                "authsettingsV2: identityProviders.azureActiveDirectory.registration.clientId is missing"
            )
        secrets = [k for k in _SECRET_KEYS if registration.get(k)]
        if secrets:
            raise EasyAuthError(f"authsettingsV2: registration.{secrets[0]} names a secret; the local host uses none")
        accepted = {
            self.entra.issuer.rstrip("/"),
            self.entra.issuer_v1.rstrip("/"),
            f"https://sts.windows.net/{self.entra.tenant_id}/v2.0",
        }
        if self.openid_issuer.rstrip("/") not in accepted:
            raise EasyAuthError(
                f"authsettingsV2: registration.openIdIssuer {self.openid_issuer!r} is not the local issuer "
                f"({self.entra.issuer}); the local host trusts no other"
            )
        if self.require_authentication and self.action not in _ACTIONS:
            raise EasyAuthError(
                f"authsettingsV2: globalValidation.unauthenticatedClientAction {self.action!r} is not supported "
                f"locally (one of {', '.join(_ACTIONS)}); RedirectToLoginPage, the default, needs the login flow"
            )
        claim_checks = validation.get("jwtClaimChecks") or {}
        if principals.get("groups") or (isinstance(claim_checks, Mapping) and any(claim_checks.values())):
            raise EasyAuthError("authsettingsV2: allowedPrincipals.groups and jwtClaimChecks are not supported locally")
        if len(self.allowed_tenants) > MAX_ALLOWED_TENANTS:
            raise EasyAuthError(f"WEBSITE_AUTH_AAD_ALLOWED_TENANTS holds more than {MAX_ALLOWED_TENANTS} tenant ids")

    # ------------------------------------------------------------------------------------ the app side

    def app_settings(self) -> dict[str, str]:
        """What App Service sets in the app's environment while authentication is on (nothing when off)."""
        if not self.enabled:
            return {}
        return {
            "WEBSITE_AUTH_ENABLED": "True",
            "WEBSITE_AUTH_DEFAULT_PROVIDER": "AzureActiveDirectory",
            "WEBSITE_AUTH_OPENID_ISSUER": self.openid_issuer,
            "WEBSITE_AUTH_CLIENT_ID": self.client_id,
        }

    # --------------------------------------------------------------------------------------- requests

    def is_excluded(self, path: str) -> bool:
        lowered = path.lower()
        for entry in self.excluded:
            pattern = entry.lower()
            if pattern.endswith("/*"):
                if lowered.startswith(pattern[:-1]):
                    return True
            elif lowered == pattern:
                return True
        return False

    def decide(self, path: str, authorization: list[str], host: str) -> Outcome:
        """The module's answer for a request to ``path`` carrying these ``Authorization`` header values."""
        claims = self.validate(authorization)
        if claims is not None:
            if not self.authorized(claims):
                return Outcome(status=403)
            bearer = authorization[0].split(None, 1)[1].strip()
            return Outcome(identity=self.identity_headers(claims, bearer))
        if not self.require_authentication or self.action == "AllowAnonymous" or self.is_excluded(path):
            return Outcome()
        if self.action == "Return403":
            return Outcome(status=403)
        realm = host if _HOST.match(host or "") else "localhost"
        return Outcome(status=401, response_headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})

    def validate(self, authorization: list[str]) -> dict[str, Any] | None:
        """The token's claims if exactly one ``Bearer`` token was sent and it is valid; otherwise None."""
        if len(authorization) != 1:
            return None
        scheme, _, token = authorization[0].strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS or not _TOKEN.match(token):
            return None
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256" or header.get("kid") != self.entra.kid:
                return None
            claims: dict[str, Any] = jwt.decode(
                token,
                self.entra.public_key,
                algorithms=["RS256"],
                audience=self.audiences,
                issuer=self.issuers,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            log.debug("easy auth: token refused: %s", exc)
            return None
        if not isinstance(claims.get("oid", ""), str) or not isinstance(claims.get("tid", ""), str):
            return None
        return claims

    def authorized(self, claims: Mapping[str, Any]) -> bool:
        """The built-in authorization policy and the tenant / service-principal app settings."""
        if self.allowed_tenants and str(claims.get("tid", "")).lower() not in self.allowed_tenants:
            return False
        oid = str(claims.get("oid") or "")
        if (self.require_oid or self.allowed_identities) and not oid:
            return False
        if self.allowed_applications:
            client = claims.get("azp") or claims.get("appid")
            if not isinstance(client, str) or client not in self.allowed_applications:
                return False
        if self.allowed_identities and oid.lower() not in {i.lower() for i in self.allowed_identities}:
            return False
        return True

    def identity_headers(self, claims: Mapping[str, Any], bearer: str) -> dict[str, str]:
        """``X-MS-CLIENT-PRINCIPAL`` and its companions for a validated token."""
        v1 = str(claims.get("ver", "")) == "1.0"
        document = {
            "auth_typ": "aad",
            "claims": [{"typ": typ, "val": val} for typ, val in self._mapped(claims, v1)],
            "name_typ": NAME_URI,
            "role_typ": ROLE_URI,
        }
        encoded = base64.b64encode(json.dumps(document, separators=(",", ":")).encode("utf-8")).decode("ascii")
        principal_id = str(claims.get("oid") or claims.get("sub") or "")
        name = next(
            (
                str(claims[k])
                for k in ("preferred_username", "upn", "unique_name", "name", "oid", "azp", "appid")
                if isinstance(claims.get(k), str) and claims[k]
            ),
            principal_id,
        )
        headers = {
            "X-MS-CLIENT-PRINCIPAL": encoded,
            "X-MS-CLIENT-PRINCIPAL-ID": principal_id,
            "X-MS-CLIENT-PRINCIPAL-NAME": name,
            "X-MS-CLIENT-PRINCIPAL-IDP": "aad",
        }
        if self.token_store:
            headers["X-MS-TOKEN-AAD-ACCESS-TOKEN"] = bearer
        return {k: v for k, v in headers.items() if "\r" not in v and "\n" not in v}

    @staticmethod
    def _mapped(claims: Mapping[str, Any], v1: bool) -> Iterator[tuple[str, str]]:
        for key, value in claims.items():
            typ = ROLE_URI if key == "roles" and v1 else _CLAIM_URIS.get(key, key)
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    yield typ, _claim_text(item)
