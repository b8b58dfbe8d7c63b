"""A small client for the app's HTTP API (``/api/migrations``), the one way the command line talks to the app.

The same routes serve a deployed Function App and the local host, so every command works against either; only the
endpoint and the credential differ. It uses the standard library's HTTP client: the CLI should not need more
than the app's own dependencies, and its calls are few and sequential.

Every way a call can go wrong becomes a :class:`~cli.errors.CliError` that says what was asked, of whom, and
what to do: no connection, a refused sign-in or a missing app role, an unknown migration, an invalid plan
(every problem by path).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cli.errors import CliError
from migration.json_types import Json

__all__ = ["ApiClient", "ApiResponse", "Credentials", "entra_token_provider"]

ENDPOINT_ENV = "MIGRATION_ENDPOINT"
# The scope the template prints as MIGRATION_API_SCOPE (``api://<app registration>/.default``).
SCOPE_ENV = "MIGRATION_API_SCOPE"
SIGN_IN_HELP = (
    f"Against Azure pass --entra-scope (or set {SCOPE_ENV}; `azd env get-values` shows it) after `az login`; "
    "against the local stack pass --local-sign-in with the folder `cli run` printed"
)
# Status answers that carry the migration document: 202 running, 200 migrated, 409 ended otherwise.
_STATUS_OK = (200, 202, 409)


@dataclass(frozen=True)
class Credentials:
    """Where the Entra ID bearer tokens come from: ``azure-identity`` against Azure, the local issuer locally.

    The app has no key to present: App Service authentication checks the token and the app checks its roles.
    A callable, not a token, because a long ``watch`` outlives one token (an hour in Entra ID).
    """

    token: Callable[[], str] | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"} if self.token is not None else {}


def entra_token_provider(scope: str) -> Callable[[], str]:
    """Tokens for ``scope`` (the app's Entra ID application, e.g. ``api://<client id>/.default``) from
    ``DefaultAzureCredential``: an ``az login``, environment variables or a managed identity."""

    def token() -> str:
        try:
            from azure.identity import DefaultAzureCredential

            return DefaultAzureCredential().get_token(scope).token
        except Exception as error:  # noqa: BLE001 - every sign-in failure is reported the same way
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CliError(
                f"Could not get an Entra ID token for {scope}: {first}. Sign in with `az login` (or set the "
                "AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET variables), and check the scope "
                f"(the template's {SCOPE_ENV} output)."
            ) from None

    return token


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: Mapping[str, str]


class ApiClient:
    """The app's migration routes under ``endpoint`` (``https://<app>.azurewebsites.net`` or the local host)."""

    def __init__(self, endpoint: str, credentials: Credentials, *, timeout: float = 30.0) -> None:
        split = urllib.parse.urlsplit(endpoint)
        if split.scheme not in ("http", "https") or not split.netloc:
            raise CliError(
                f"The endpoint {endpoint!r} is not an http(s) URL; give the Function App's base URL, "
                "e.g. https://my-app.azurewebsites.net (or set MIGRATION_ENDPOINT)."
            )
        self.endpoint = endpoint.rstrip("/")
        self.credentials = credentials
        self.timeout = timeout

    # -- transport --------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, str | None] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> ApiResponse:
        url = f"{self.endpoint}{path}"
        params = {k: v for k, v in (query or {}).items() if v is not None}
        if params:
            url = f"{url}?{urllib.parse.urlencode(params)}"
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Accept": accept, **self.credentials.headers(), **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return ApiResponse(response.status, _decode(response.read(), accept), dict(response.headers))
        except urllib.error.HTTPError as error:
            raw = error.read()
            return ApiResponse(error.code, _decode(raw, "application/json"), dict(error.headers or {}))
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CliError(
                f"Cannot reach the app at {self.endpoint} ({method} {path}): {reason}. Check the endpoint "
                "(--endpoint or MIGRATION_ENDPOINT) and that the Function App is running."
            ) from None

    def _fail(self, what: str, response: ApiResponse) -> CliError:
        status = response.status
        error = response.body.get("error") if isinstance(response.body, dict) else None
        said = f": {error.get('message')}" if isinstance(error, dict) and error.get("message") else ""
        if status == 401:
            return CliError(
                f"The app at {self.endpoint} did not accept the sign-in when asked to {what} (HTTP 401{said}). "
                f"{SIGN_IN_HELP}."
            )
        if status == 403:
            return CliError(
                f"The app at {self.endpoint} refused to {what} (HTTP 403 Forbidden{said}). App roles are assigned "
                "in Entra ID: Enterprise applications, the app's registration, Users and groups."
            )
        if isinstance(error, dict):
            code = error.get("code") or "Error"
            message = str(error.get("message") or "").rstrip(".")
            problems = error.get("problems") or []
            listing = "; ".join(
                f"{p.get('path')}: {p.get('message')}" if p.get("path") else str(p.get("message"))
                for p in problems[:20]
                if isinstance(p, dict)
            )
            detail = f" Problems: {listing}." if listing else ""
            return CliError(f"The app refused to {what} (HTTP {status} {code}): {message}.{detail}")
        if status == 404:
            return CliError(
                f"The app at {self.endpoint} answered 404 when asked to {what}: no such migration, or the "
                "endpoint is not this app (check --endpoint)."
            )
        text = str(response.body)[:300] if response.body else "no body"
        return CliError(f"The app at {self.endpoint} answered HTTP {status} when asked to {what}: {text}.")

    # -- routes -----------------------------------------------------------------------------------------------

    def health(self) -> Json:
        response = self.request("GET", "/api/health")
        if response.status != 200:
            raise self._fail("report its health", response)
        return response.body if isinstance(response.body, dict) else {}

    def submit(self, plan: Json, idempotency_key: str | None = None) -> tuple[Json, bool]:
        """Submit a plan: the migration document and whether it is new (202) or was already there (200)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self.request("POST", "/api/migrations", body=plan, headers=headers)
        if response.status not in (200, 201, 202) or not isinstance(response.body, dict):
            raise self._fail(f"start migration {plan.get('id')!r}", response)
        return response.body, response.status != 200

    def status(self, migration_id: str) -> Json:
        response = self.request("GET", f"/api/migrations/{_quote(migration_id)}")
        if response.status not in _STATUS_OK or not isinstance(response.body, dict) or "status" not in response.body:
            raise self._fail(f"show migration {migration_id!r}", response)
        return response.body

    def machine(self, migration_id: str, name: str) -> Json:
        response = self.request("GET", f"/api/migrations/{_quote(migration_id)}/machines/{_quote(name)}")
        if response.status not in _STATUS_OK or not isinstance(response.body, dict):
            raise self._fail(f"show machine {name!r} of migration {migration_id!r}", response)
        return response.body

    def list(self, **query: str | None) -> Json:
        response = self.request("GET", "/api/migrations", query=query)
        if response.status != 200 or not isinstance(response.body, dict):
            raise self._fail("list migrations", response)
        return response.body

    def report(self, migration_id: str, *, csv: bool = False) -> Any:
        accept = "text/csv" if csv else "application/json"
        response = self.request("GET", f"/api/migrations/{_quote(migration_id)}/report", accept=accept)
        if response.status not in _STATUS_OK:
            raise self._fail(f"report on migration {migration_id!r}", response)
        return response.body

    def command(self, migration_id: str, action: str, body: Json) -> Json:
        response = self.request("POST", f"/api/migrations/{_quote(migration_id)}/{action}", body=body)
        if response.status not in (200, 202) or not isinstance(response.body, dict):
            raise self._fail(f"{action} migration {migration_id!r}", response)
        return response.body


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _decode(raw: bytes, accept: str) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if accept == "text/csv":
        return text
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
