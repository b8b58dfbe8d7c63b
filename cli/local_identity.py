"""Sign-in on the local stack: the app registration App Service authentication checks, and who the demo user is.

In Azure the template creates an Entra app registration with three app roles (``infra/app/entra.bicep``) and
App Service authentication accepting tokens for it (``authsettingsV2``). Locally the Functions host stands in
for App Service authentication, and its local token issuer (``emulators.functions.local_entra``) for Entra ID;
this module writes the same ``authsettingsV2`` document for the local host and mints the local user's tokens,
so the app runs the same checks on the laptop as in Azure: no token 401, the wrong role 403, and the audit trail
names the signed-in user.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.errors import CliError
from emulators.functions.local_entra import ISSUER_FOLDER, LocalEntra
from migration.access import Role

__all__ = [
    "LOCAL_AUDIENCE",
    "LOCAL_CLIENT_ID",
    "ISSUER_FOLDER",
    "LOCAL_USER",
    "LocalPrincipal",
    "authsettings",
    "local_sign_in",
    "prepare",
]

# The local stand-in for the app registration's client id (``appId``) and Application ID URI.
LOCAL_CLIENT_ID = "4c6a3f0e-2b1d-4e9a-8f7c-5d3b2a1c0e9f"
LOCAL_AUDIENCE = f"api://{LOCAL_CLIENT_ID}"
HEALTH_PATH = "/api/health"


@dataclass(frozen=True)
class LocalPrincipal:
    """Someone (or some app) that signs in locally: a stable object id, a name, the app roles assigned."""

    name: str
    object_id: str
    roles: tuple[Role, ...]
    application: bool = False

    def token(self, entra: LocalEntra) -> str:
        """A v2 access token as Entra issues one for the registration: whatever scope was asked for
        (``api://…/.default`` included), a v2 token's audience is the bare client id."""
        if self.application:
            return entra.token(audience=LOCAL_CLIENT_ID, object_id=self.object_id, roles=self.roles, app_id=self.name)
        return entra.token(
            audience=LOCAL_CLIENT_ID, object_id=self.object_id, roles=self.roles, username=self.name, name=self.name
        )

    def token_provider(self, entra: LocalEntra) -> Callable[[], str]:
        """A fresh token per call, as ``azure-identity`` hands the command line one in Azure."""
        return lambda: self.token(entra)


# Whoever runs the demo: operator and approver, as the person running a migration from a laptop would be.
LOCAL_USER = LocalPrincipal(
    "operator@local.example", "0d5c7e3a-9b2f-4a61-8c4d-1e2f3a4b5c6d", (Role.OPERATE, Role.APPROVE)
)


def authsettings(entra: LocalEntra, *, allowed_applications: Sequence[str] = ()) -> dict[str, Any]:
    """The ``authsettingsV2`` properties the template gives the Function App, for the local registration."""
    validation: dict[str, Any] = {"allowedAudiences": [LOCAL_AUDIENCE, LOCAL_CLIENT_ID]}
    if allowed_applications:
        validation["defaultAuthorizationPolicy"] = {"allowedApplications": list(allowed_applications)}
    return {
        "platform": {"enabled": True},
        "globalValidation": {
            "requireAuthentication": True,
            "unauthenticatedClientAction": "Return401",
            "excludedPaths": [HEALTH_PATH],
        },
        "identityProviders": {
            "azureActiveDirectory": {
                "enabled": True,
                "registration": {"clientId": LOCAL_CLIENT_ID, "openIdIssuer": entra.issuer},
                "validation": validation,
            }
        },
        "login": {"tokenStore": {"enabled": False}},
    }


def prepare(functions_data: Path) -> tuple[LocalEntra, Path]:
    """The local issuer under the host's data folder and the ``authsettingsV2`` file the host is started with."""
    entra = LocalEntra.of_host(functions_data)
    path = functions_data / "authsettingsV2.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(authsettings(entra), indent=2), encoding="utf-8")
    return entra, path


def local_sign_in(issuer_folder: Path) -> Callable[[], str]:
    """Tokens for the local demo user from the issuer a running local stack keeps in ``issuer_folder``.

    The folder must already exist: a new issuer would sign with a key the running host does not trust, and every
    call would be a 401 that says nothing about the mistyped folder.
    """
    if not issuer_folder.is_dir():
        raise CliError(
            f"No local token issuer in {issuer_folder}: give the folder `python -m cli run` printed "
            "(<run folder>/functions/entra) while its local stack is running."
        )
    return LOCAL_USER.token_provider(LocalEntra.load_or_create(issuer_folder))
