"""A local stand-in for Microsoft Entra ID: one tenant, one signing key, access tokens shaped like Entra's.

The local host's App Service authentication (``easy_auth.py``) trusts only this issuer, so whoever can read
``<data>/entra`` can mint tokens the host accepts: the key stays in a ``0600`` file, and the tenant and key
survive restarts so a token minted before a restart still works after it (as an Entra token does).

Token shape (Microsoft identity platform *access token claims reference*): ``iss`` is
``https://login.microsoftonline.com/{tid}/v2.0`` for ``ver`` 2.0 and ``https://sts.windows.net/{tid}/`` for
``ver`` 1.0; users carry ``name`` and ``preferred_username`` (v2) or ``upn``/``unique_name`` (v1), and the
client that asked for the token in ``azp`` (v2) / ``appid`` (v1); app-only tokens carry the calling app's id
there and ``idtyp: app``. Signed RS256 with a ``kid`` header, as Entra signs.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = ["CLI_CLIENT_ID", "ISSUER_FOLDER", "LocalEntra", "LocalEntraError"]

# The Azure CLI's public client id: the client a signed-in user's token names in azp/appid locally.
CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
# Where a host keeps its issuer, under its data folder: the host, its launcher and the token command agree on it.
ISSUER_FOLDER = "entra"
TENANT_FILE = "tenant.json"
KEY_FILE = "signing-key.pem"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class LocalEntraError(ValueError):
    """The issuer's folder holds something unusable (a broken ``tenant.json`` or key)."""


def _epoch(value: datetime | int | float) -> int:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return int(value)


def _seconds(value: timedelta | int | float) -> int:
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only, never leaving a world-readable copy behind."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


@dataclass(frozen=True)
class LocalEntra:
    """The local tenant: its id, its signing key and key id. Build it with ``load_or_create``."""

    tenant_id: str
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def load_or_create(cls, directory: Path) -> LocalEntra:
        """The issuer kept in ``directory`` (``tenant.json`` + ``signing-key.pem``), created on first use."""
        directory = Path(directory)
        tenant_path, key_path = directory / TENANT_FILE, directory / KEY_FILE
        if tenant_path.exists() and key_path.exists():
            return cls._load(tenant_path, key_path)
        directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        doc = {"tenantId": str(uuid.uuid4()), "kid": uuid.uuid4().hex}
        _write_private(key_path, pem)
        _write_private(tenant_path, json.dumps(doc, indent=2).encode("utf-8"))
        return cls(doc["tenantId"], doc["kid"], key)

    @classmethod
    def of_host(cls, data_dir: Path) -> LocalEntra:
        """The issuer of the host whose state is in ``data_dir`` (``<data>/entra``), created on first use."""
        return cls.load_or_create(Path(data_dir) / ISSUER_FOLDER)

    @classmethod
    def _load(cls, tenant_path: Path, key_path: Path) -> LocalEntra:
        try:
            doc = json.loads(tenant_path.read_text(encoding="utf-8"))
            tenant, kid = str(doc["tenantId"]), str(doc["kid"])
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LocalEntraError(f"{tenant_path.parent}: not a usable local issuer ({exc})") from exc
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048 or not _UUID.match(tenant):
            raise LocalEntraError(f"{tenant_path.parent}: the tenant id or signing key is not usable")
        return cls(tenant, kid, key)

    # -------------------------------------------------------------------------------------- metadata

    @property
    def issuer(self) -> str:
        """The v2.0 issuer, what ``openIdIssuer`` names and what v2 tokens carry in ``iss``."""
        return f"https://login.microsoftonline.com/{self.tenant_id}/v2.0"

    @property
    def issuer_v1(self) -> str:
        """The v1.0 issuer, carried by v1 tokens (``ver`` 1.0)."""
        return f"https://sts.windows.net/{self.tenant_id}/"

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def jwks(self) -> dict[str, Any]:
        """The public key set, in the shape of Entra's ``discovery/v2.0/keys`` document."""
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        return {"keys": [{"kty": "RSA", "use": "sig", "kid": self.kid, "n": jwk["n"], "e": jwk["e"]}]}

    # ----------------------------------------------------------------------------------------- tokens

    def token(
        self,
        *,
        audience: str,
        object_id: str,
        roles: Sequence[str] = (),
        name: str | None = None,
        username: str | None = None,
        app_id: str | None = None,
        version: str = "2.0",
        lifetime: timedelta | int = 3600,
        not_before: datetime | int | None = None,
        issued_at: datetime | int | None = None,
    ) -> str:
        """An RS256 access token for ``audience``: a user's unless ``app_id`` is given (then app-only)."""
        if version not in ("1.0", "2.0"):
            raise ValueError(f"version must be '1.0' or '2.0', not {version!r}")
        now = _epoch(issued_at) if issued_at is not None else _epoch(datetime.now(UTC))
        nbf = _epoch(not_before) if not_before is not None else now
        v2 = version == "2.0"
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": self.issuer if v2 else self.issuer_v1,
            "iat": now,
            "nbf": nbf,
            "exp": now + _seconds(lifetime),
        }
        client = app_id or CLI_CLIENT_ID
        claims["azp" if v2 else "appid"] = client
        claims["azpacr" if v2 else "appidacr"] = "1" if app_id else "0"
        if app_id is not None:
            claims["idtyp"] = "app"
        else:
            if name is not None:
                claims["name"] = name
            if username is not None:
                if v2:
                    claims["preferred_username"] = username
                else:
                    claims["upn"] = username
                    claims["unique_name"] = username
        claims["oid"] = object_id
        if roles:
            claims["roles"] = [str(getattr(role, "value", role)) for role in roles]
        claims["sub"] = object_id
        claims["tid"] = self.tenant_id
        claims["ver"] = version
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})
