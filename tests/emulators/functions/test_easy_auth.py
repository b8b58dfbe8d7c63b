"""App Service authentication (Easy Auth, Microsoft Entra provider) in front of the real host, over real sockets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client as httplib
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from emulators.functions import EasyAuth, EasyAuthError, HostHandle, LocalEntra, start_host, start_host_process
from tests.emulators.functions.conftest import Reply, http

APP = "tests.emulators.functions.apps.auth_app:app"
CLIENT_ID = "5f0c2a1e-3b4d-4c6e-8f70-9a1b2c3d4e5f"
AUDIENCE = f"api://{CLIENT_ID}"
USER = "0d5c7e3a-9b2f-4a61-8c4d-1e2f3a4b5c6d"
OTHER_USER = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CALLER_APP = "11111111-2222-4333-8444-555555555555"
OID_URI = "http://schemas.microsoft.com/identity/claims/objectidentifier"
ROLE_URI = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
REPO = Path(__file__).resolve().parents[3]


def authsettings(entra: LocalEntra, **validation: Any) -> dict[str, Any]:
    """The properties the template gives the Function App, pointed at the local issuer."""
    return {
        "platform": {"enabled": True},
        "globalValidation": {
            "requireAuthentication": True,
            "unauthenticatedClientAction": "Return401",
            "excludedPaths": ["/api/health", "/api/public/*"],
        },
        "identityProviders": {
            "azureActiveDirectory": {
                "enabled": True,
                "registration": {"clientId": CLIENT_ID, "openIdIssuer": entra.issuer},
                "validation": {"allowedAudiences": [AUDIENCE], **validation},
            }
        },
        "login": {"tokenStore": {"enabled": False}},
    }


AuthHost = Callable[..., HostHandle]


@pytest.fixture
def auth_host(tmp_path: Path) -> Iterator[AuthHost]:
    handles: list[HostHandle] = []
    before = {k: v for k, v in os.environ.items() if k.startswith("WEBSITE_AUTH_")}

    def make(
        edit: Callable[[dict[str, Any]], None] | None = None,
        settings: dict[str, str] | None = None,
        **validation: Any,
    ) -> HostHandle:
        app_dir = tmp_path / f"app{len(handles)}"
        data = app_dir / "data"
        entra = LocalEntra.load_or_create(data / "entra")
        doc = authsettings(entra, **validation)
        if edit is not None:
            edit(doc)
        path = app_dir / "authsettingsV2.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        handle = start_host(APP, app_dir=app_dir, data_dir=data, easy_auth=path, settings=settings)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()
    for key in [k for k in os.environ if k.startswith("WEBSITE_AUTH_")]:
        if key not in before:
            del os.environ[key]
    os.environ.update(before)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def get(handle: Any, path: str, headers: dict[str, str] | None = None) -> Reply:
    return http("GET", f"{handle.base_url}{path}", headers=headers)


def user_token(entra: LocalEntra, **kwargs: Any) -> str:
    args: dict[str, Any] = {
        "audience": AUDIENCE,
        "object_id": USER,
        "roles": ["Migrations.Read", "Migrations.Operate"],
        "name": "Ada Operator",
        "username": "ada@local.example",
    }
    args.update(kwargs)
    return entra.token(**args)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def crafted(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
    return f"{signing_input.decode()}.{_b64(sign(signing_input))}"


def _tampered(token: str, claims: dict[str, Any]) -> str:
    head, _, signature = token.split(".")
    return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"


def claims_of(token: str) -> dict[str, Any]:
    result: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return result


# ------------------------------------------------------------------------------------------------ the gate


def test_no_token_is_a_401_bearer_challenge_and_admin_stays_on_keys(auth_host: AuthHost) -> None:
    h = auth_host()
    reply = get(h, "/api/whoami")
    assert reply.status == 401
    assert reply.headers["www-authenticate"] == f'Bearer realm="127.0.0.1:{h.port}"'
    assert reply.body == b"You do not have permission to view this directory or page."
    assert get(h, "/api/nowhere").status == 401  # the module answers before routing, as in Azure
    # /admin is not behind Easy Auth (Azure/azure-functions-ux#499): ping open, status on the master key alone.
    assert get(h, "/admin/host/ping").status == 200
    assert get(h, "/admin/host/status").status == 401
    assert get(h, "/admin/host/status", {"x-functions-key": h.admin_key}).status == 200


def test_a_valid_v2_token_reaches_the_function_as_the_principal_header(auth_host: AuthHost) -> None:
    h = auth_host()
    token = user_token(h.entra)
    body = get(h, "/api/whoami", bearer(token)).json()
    principal = body["principal"]
    assert principal["auth_typ"] == "aad"
    assert principal["name_typ"] == "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
    assert principal["role_typ"] == ROLE_URI
    claims = [(c["typ"], c["val"]) for c in principal["claims"]]
    assert (OID_URI, USER) in claims
    assert ("roles", "Migrations.Read") in claims and ("roles", "Migrations.Operate") in claims
    assert ("http://schemas.microsoft.com/identity/claims/tenantid", h.entra.tenant_id) in claims
    assert ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier", USER) in claims
    assert ("preferred_username", "ada@local.example") in claims and ("iss", h.entra.issuer) in claims
    assert ("exp", str(claims_of(token)["exp"])) in claims
    assert body["headers"]["X-MS-CLIENT-PRINCIPAL-ID"] == USER
    assert body["headers"]["X-MS-CLIENT-PRINCIPAL-NAME"] == "ada@local.example"
    assert body["headers"]["X-MS-CLIENT-PRINCIPAL-IDP"] == "aad"
    assert body["headers"]["X-MS-TOKEN-AAD-ACCESS-TOKEN"] is None  # the token store is off
    assert body["environ"] == {
        "WEBSITE_AUTH_ENABLED": "True",
        "WEBSITE_AUTH_DEFAULT_PROVIDER": "AzureActiveDirectory",
        "WEBSITE_AUTH_OPENID_ISSUER": h.entra.issuer,
        "WEBSITE_AUTH_CLIENT_ID": CLIENT_ID,
    }


def test_a_valid_v1_token_and_an_app_token_are_accepted(auth_host: AuthHost) -> None:
    h = auth_host()
    v1 = get(h, "/api/whoami", bearer(user_token(h.entra, version="1.0"))).json()
    claims = [(c["typ"], c["val"]) for c in v1["principal"]["claims"]]
    assert ("iss", h.entra.issuer_v1) in claims and ("ver", "1.0") in claims
    assert (ROLE_URI, "Migrations.Read") in claims
    assert ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "ada@local.example") in claims
    assert v1["headers"]["X-MS-CLIENT-PRINCIPAL-NAME"] == "ada@local.example"
    app_token = h.entra.token(audience=CLIENT_ID, object_id=OTHER_USER, roles=["Migrations.Read"], app_id=CALLER_APP)
    app = get(h, "/api/whoami", bearer(app_token)).json()
    app_claims = [(c["typ"], c["val"]) for c in app["principal"]["claims"]]
    assert ("azp", CALLER_APP) in app_claims and ("idtyp", "app") in app_claims
    assert app["headers"]["X-MS-CLIENT-PRINCIPAL-ID"] == OTHER_USER


def test_forged_and_broken_tokens_are_a_401(auth_host: AuthHost, tmp_path: Path) -> None:
    h = auth_host()
    entra = h.entra
    stranger = LocalEntra.load_or_create(tmp_path / "stranger")
    good = claims_of(user_token(entra))
    kid = {"alg": "RS256", "typ": "JWT", "kid": entra.kid}
    public_pem = entra.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    bad = {
        "another key, our kid": jwt.encode(good, stranger.private_key, algorithm="RS256", headers={"kid": entra.kid}),
        "another issuer's token": user_token(stranger),
        "our key, wrong kid": jwt.encode(good, entra.private_key, algorithm="RS256", headers={"kid": "nope"}),
        "alg none": crafted({"alg": "none", "typ": "JWT", "kid": entra.kid}, good, lambda _: b""),
        "HS256 with the public key": crafted(
            {"alg": "HS256", "typ": "JWT", "kid": entra.kid},
            good,
            lambda msg: hmac.new(public_pem, msg, hashlib.sha256).digest(),
        ),
        "wrong audience": user_token(entra, audience="api://someone-else"),
        "wrong issuer": jwt.encode(
            {**good, "iss": f"https://login.microsoftonline.com/{stranger.tenant_id}/v2.0"},
            entra.private_key,
            algorithm="RS256",
            headers=kid,
        ),
        "expired beyond the skew": user_token(entra, issued_at=now - 3600 - 400),
        "not yet valid beyond the skew": user_token(entra, not_before=now + 400),
        "no exp": jwt.encode({k: v for k, v in good.items() if k != "exp"}, entra.private_key, "RS256", headers=kid),
        "tampered claims": _tampered(user_token(entra), {**good, "oid": OTHER_USER}),
    }
    for label, token in bad.items():
        reply = get(h, "/api/whoami", bearer(token))
        assert reply.status == 401, (label, reply.status, reply.body)
        assert reply.headers["www-authenticate"].startswith("Bearer realm="), label
    junk = [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer ###.$$$.%%%",
        "Bearer " + "A" * 7000 + ".e30.",
        "Bearer eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
        f"Bearer {user_token(entra)} extra",
        "Bearer \u00e9t\u00e9.e30.x",
    ]
    for value in junk:
        reply = get(h, "/api/whoami", {"Authorization": value})
        assert reply.status == 401, (value[:40], reply.status)
    # A header line beyond the HTTP parser's limit is refused before any of this (400), never a 500.
    assert get(h, "/api/whoami", {"Authorization": "Bearer " + "A" * 20000}).status in (400, 401)
    # Two Authorization headers are not one token.
    conn = httplib.HTTPConnection("127.0.0.1", h.port, timeout=30)
    try:
        conn.putrequest("GET", "/api/whoami")
        conn.putheader("Authorization", f"Bearer {user_token(entra)}")
        conn.putheader("Authorization", f"Bearer {user_token(entra)}")
        conn.endheaders()
        assert conn.getresponse().status == 401
    finally:
        conn.close()


def test_five_minutes_of_clock_skew_are_allowed(auth_host: AuthHost) -> None:
    h = auth_host()
    now = int(time.time())
    assert get(h, "/api/whoami", bearer(user_token(h.entra, issued_at=now - 3600 - 240))).status == 200
    assert get(h, "/api/whoami", bearer(user_token(h.entra, not_before=now + 240))).status == 200
    assert get(h, "/api/whoami", bearer(user_token(h.entra, issued_at=now - 3600 - 360))).status == 401


def test_forged_identity_headers_never_reach_the_app(auth_host: AuthHost) -> None:
    h = auth_host()
    forged_doc = {"auth_typ": "aad", "claims": [{"typ": "roles", "val": "Migrations.Approve"}]}
    forged = {
        "X-MS-CLIENT-PRINCIPAL": base64.b64encode(json.dumps(forged_doc).encode()).decode(),
        "x-ms-client-principal-id": OTHER_USER,
        "X-Ms-Client-Principal-Name": "mallory",
        "X-MS-CLIENT-PRINCIPAL-FORGED": "1",
        "X-MS-TOKEN-AAD-ACCESS-TOKEN": "forged",
    }
    anonymous = get(h, "/api/health", forged).json()
    assert anonymous["principal"] is None
    assert all(v is None for v in anonymous["headers"].values()), anonymous["headers"]
    signed_in = get(h, "/api/whoami", {**forged, **bearer(user_token(h.entra))}).json()
    assert signed_in["headers"]["X-MS-CLIENT-PRINCIPAL-ID"] == USER
    assert signed_in["headers"]["X-MS-CLIENT-PRINCIPAL-NAME"] == "ada@local.example"
    assert signed_in["headers"]["X-MS-CLIENT-PRINCIPAL-FORGED"] is None
    assert signed_in["headers"]["X-MS-TOKEN-AAD-ACCESS-TOKEN"] is None
    assert ("roles", "Migrations.Approve") not in [(c["typ"], c["val"]) for c in signed_in["principal"]["claims"]]
    # Forged headers alone are no sign-in.
    assert get(h, "/api/whoami", forged).status == 401


def test_excluded_paths_need_no_token_exact_or_below_a_wildcard(auth_host: AuthHost) -> None:
    h = auth_host()
    assert get(h, "/api/health").status == 200
    assert get(h, "/api/HEALTH").status == 200
    assert get(h, "/api/public/a/b").status == 200
    assert get(h, "/api/health/extra").status == 401  # no wildcard: the exact path only
    assert get(h, "/api/healthz").status == 401
    # A valid token on an excluded path still yields the principal; a broken one is just anonymous.
    assert get(h, "/api/health", bearer(user_token(h.entra))).json()["headers"]["X-MS-CLIENT-PRINCIPAL-ID"] == USER
    assert get(h, "/api/health", bearer("a.b.c")).json()["principal"] is None


def test_function_keys_are_still_checked_after_easy_auth(auth_host: AuthHost) -> None:
    h = auth_host()
    token = user_token(h.entra)
    assert get(h, f"/api/keyed?code={h.function_key}").status == 401  # no token
    assert get(h, "/api/keyed", bearer(token)).status == 401  # no key
    assert get(h, f"/api/keyed?code={h.function_key}", bearer(token)).status == 200


def test_runtime_webhooks_need_a_token_and_the_system_key(auth_host: AuthHost) -> None:
    h = auth_host()
    url = f"/runtime/webhooks/durabletask/instances/?code={h.system_key}"
    assert get(h, url).status == 401
    assert get(h, "/runtime/webhooks/durabletask/instances/", bearer(user_token(h.entra))).status == 401
    assert get(h, url, bearer(user_token(h.entra))).status == 200


def test_allowed_applications_and_principals_are_a_403(auth_host: AuthHost) -> None:
    apps = auth_host(defaultAuthorizationPolicy={"allowedApplications": [CALLER_APP]})
    user = get(apps, "/api/whoami", bearer(user_token(apps.entra)))  # azp is the CLI's client id
    assert user.status == 403 and "www-authenticate" not in user.headers
    app_token = apps.entra.token(audience=AUDIENCE, object_id=OTHER_USER, app_id=CALLER_APP)
    assert get(apps, "/api/whoami", bearer(app_token)).status == 200
    assert get(apps, "/api/health", bearer(user_token(apps.entra))).status == 403  # as under AllowAnonymous

    people = auth_host(defaultAuthorizationPolicy={"allowedPrincipals": {"identities": [OTHER_USER.upper()]}})
    assert get(people, "/api/whoami", bearer(user_token(people.entra))).status == 403
    assert get(people, "/api/whoami", bearer(user_token(people.entra, object_id=OTHER_USER))).status == 200

    both = auth_host(
        defaultAuthorizationPolicy={"allowedApplications": [CALLER_APP], "allowedPrincipals": {"identities": [USER]}}
    )
    assert get(both, "/api/whoami", bearer(user_token(both.entra))).status == 403  # principal yes, app no
    wrong_principal = both.entra.token(audience=AUDIENCE, object_id=OTHER_USER, app_id=CALLER_APP)
    assert get(both, "/api/whoami", bearer(wrong_principal)).status == 403
    right = both.entra.token(audience=AUDIENCE, object_id=USER, app_id=CALLER_APP)
    assert get(both, "/api/whoami", bearer(right)).status == 200


def test_allowed_tenants_setting_checks_tid(auth_host: AuthHost) -> None:
    elsewhere = auth_host(settings={"WEBSITE_AUTH_AAD_ALLOWED_TENANTS": "559a2f9c-c6f2-4d31-b8d6-5ad1a13f8330"})
    assert get(elsewhere, "/api/whoami", bearer(user_token(elsewhere.entra))).status == 403
    entra_dir = Path(elsewhere.data_dir) / "entra"
    tenant = json.loads((entra_dir / "tenant.json").read_text())["tenantId"]
    elsewhere.stop()
    # A second host on the same data folder: the same issuer, now with its own tenant allowed.
    app_dir = Path(elsewhere.data_dir).parent
    mine = start_host(
        APP,
        app_dir=app_dir,
        data_dir=elsewhere.data_dir,
        easy_auth=app_dir / "authsettingsV2.json",
        settings={"WEBSITE_AUTH_AAD_ALLOWED_TENANTS": f"559a2f9c-c6f2-4d31-b8d6-5ad1a13f8330, {tenant.upper()}"},
    )
    try:
        assert mine.entra.tenant_id == tenant
        assert get(mine, "/api/whoami", bearer(user_token(mine.entra))).status == 200
    finally:
        mine.stop()


def test_allow_anonymous_and_return403(auth_host: AuthHost) -> None:
    def anonymous(doc: dict[str, Any]) -> None:
        doc["globalValidation"]["unauthenticatedClientAction"] = "AllowAnonymous"

    h = auth_host(anonymous)
    assert get(h, "/api/whoami").json()["principal"] is None
    assert get(h, "/api/whoami", bearer("a.b.c")).json()["principal"] is None
    assert get(h, "/api/whoami", bearer(user_token(h.entra))).json()["headers"]["X-MS-CLIENT-PRINCIPAL-ID"] == USER

    def forbidden(doc: dict[str, Any]) -> None:
        doc["globalValidation"]["unauthenticatedClientAction"] = "Return403"
        doc["login"]["tokenStore"]["enabled"] = True

    f = auth_host(forbidden)
    reply = get(f, "/api/whoami")
    assert reply.status == 403 and "www-authenticate" not in reply.headers
    token = user_token(f.entra)
    assert get(f, "/api/whoami", bearer(token)).json()["headers"]["X-MS-TOKEN-AAD-ACCESS-TOKEN"] == token


# --------------------------------------------------------------------------------------------- refusals


def _refusals(entra: LocalEntra) -> dict[str, dict[str, Any]]:
    def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        doc = authsettings(entra)
        change(doc)
        return doc

    aad = ("identityProviders", "azureActiveDirectory")
    return {
        "clientId": edited(lambda d: d[aad[0]][aad[1]]["registration"].pop("clientId")),
        "openIdIssuer": edited(
            lambda d: d[aad[0]][aad[1]]["registration"].update(
                openIdIssuer="https://login.microsoftonline.com/common/v2.0"
            )
        ),
        "no issuer": edited(lambda d: d[aad[0]][aad[1]]["registration"].pop("openIdIssuer")),
        "RedirectToLoginPage": edited(
            lambda d: d["globalValidation"].update(unauthenticatedClientAction="RedirectToLoginPage")
        ),
        "default action": edited(lambda d: d["globalValidation"].pop("unauthenticatedClientAction")),
        "clientSecretSettingName": edited(
            lambda d: d[aad[0]][aad[1]]["registration"].update(
                clientSecretSettingName="MICROSOFT_PROVIDER_AUTHENTICATION_SECRET"
            )
        ),
        "groups": edited(
            lambda d: d[aad[0]][aad[1]]["validation"].update(
                defaultAuthorizationPolicy={"allowedPrincipals": {"groups": ["g"]}}
            )
        ),
        "provider off": edited(lambda d: d[aad[0]][aad[1]].update(enabled=False)),
        "not an object": edited(lambda d: d.update(globalValidation=["x"])),
    }


def test_settings_it_cannot_honour_are_refused_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    entra = LocalEntra.load_or_create(data / "entra")
    for label, doc in _refusals(entra).items():
        with pytest.raises(EasyAuthError):
            EasyAuth(doc, entra)
        path = tmp_path / f"{label}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        with pytest.raises(EasyAuthError):
            start_host(APP, app_dir=tmp_path, data_dir=data, easy_auth=path)
    # The v1 issuer and the sts.windows.net v2.0 form are the local issuer too.
    for issuer in (entra.issuer_v1, f"https://sts.windows.net/{entra.tenant_id}/v2.0"):
        doc = authsettings(entra)
        doc["identityProviders"]["azureActiveDirectory"]["registration"]["openIdIssuer"] = issuer
        assert EasyAuth(doc, entra).enabled
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(EasyAuthError):
        EasyAuth.from_file(tmp_path / "broken.json", entra)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulators.functions",
            "--app",
            APP,
            "--port",
            "0",
            "--data",
            str(data),
            "--easy-auth",
            str(tmp_path / "clientId.json"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "clientId" in result.stderr


def test_without_easy_auth_the_host_is_unchanged(tmp_path: Path) -> None:
    os.environ.pop("WEBSITE_AUTH_ENABLED", None)
    h = start_host(APP, app_dir=tmp_path, data_dir=tmp_path / "data")
    try:
        forged = {"X-MS-CLIENT-PRINCIPAL-ID": OTHER_USER}
        body = get(h, "/api/whoami", forged).json()
        assert body["headers"]["X-MS-CLIENT-PRINCIPAL-ID"] == OTHER_USER  # nothing in front strips it
        assert "WEBSITE_AUTH_ENABLED" not in body["environ"]
        assert not (tmp_path / "data" / "entra").exists()
        with pytest.raises(RuntimeError):
            _ = h.entra
    finally:
        h.stop()


def test_platform_disabled_turns_the_module_off(auth_host: AuthHost) -> None:
    h = auth_host(lambda d: d["platform"].update(enabled=False))
    body = get(h, "/api/whoami", {"X-MS-CLIENT-PRINCIPAL-ID": OTHER_USER}).json()
    assert body["headers"]["X-MS-CLIENT-PRINCIPAL-ID"] == OTHER_USER
    assert "WEBSITE_AUTH_ENABLED" not in body["environ"]


# -------------------------------------------------------------------------------- the issuer and its CLI


def test_the_issuer_keeps_its_key_private_and_across_restarts(tmp_path: Path) -> None:
    first = LocalEntra.load_or_create(tmp_path / "entra")
    again = LocalEntra.load_or_create(tmp_path / "entra")
    assert (first.tenant_id, first.kid) == (again.tenant_id, again.kid)
    assert stat.S_IMODE((tmp_path / "entra" / "signing-key.pem").stat().st_mode) == 0o600
    assert first.issuer == f"https://login.microsoftonline.com/{first.tenant_id}/v2.0"
    assert first.issuer_v1 == f"https://sts.windows.net/{first.tenant_id}/"
    (key,) = first.jwks()["keys"]
    assert key["kid"] == first.kid and key["kty"] == "RSA" and key["use"] == "sig"
    assert (
        jwt.decode(user_token(first), jwt.PyJWK(key).key, algorithms=["RS256"], audience=AUDIENCE, issuer=first.issuer)[
            "oid"
        ]
        == USER
    )
    header = jwt.get_unverified_header(user_token(again))
    assert header == {"alg": "RS256", "kid": first.kid, "typ": "JWT"}
    claims = claims_of(user_token(first, roles=()))
    assert "roles" not in claims and claims["azp"] == "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
    v1 = claims_of(user_token(first, version="1.0"))
    assert v1["upn"] == v1["unique_name"] == "ada@local.example" and "appid" in v1 and "azp" not in v1


def test_the_token_command_prints_a_token_the_host_accepts(auth_host: AuthHost) -> None:
    h = auth_host()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulators.functions",
            "token",
            "--data",
            str(h.data_dir),
            "--audience",
            AUDIENCE,
            "--object-id",
            USER,
            "--role",
            "Migrations.Read",
            "--username",
            "ada@local.example",
            "--v1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert claims_of(token)["ver"] == "1.0"
    body = get(h, "/api/whoami", bearer(token)).json()
    assert body["headers"]["X-MS-CLIENT-PRINCIPAL-NAME"] == "ada@local.example"


def test_a_host_process_with_easy_auth_exposes_its_issuer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    entra = LocalEntra.load_or_create(data / "entra")
    path = tmp_path / "authsettingsV2.json"
    path.write_text(json.dumps(authsettings(entra)), encoding="utf-8")
    proc = start_host_process(APP, app_dir=REPO, data_dir=data, easy_auth=path)
    try:
        assert proc.entra.tenant_id == entra.tenant_id
        assert get(proc, "/api/whoami").status == 401
        assert (
            get(proc, "/api/whoami", bearer(user_token(proc.entra))).json()["headers"]["X-MS-CLIENT-PRINCIPAL-ID"]
            == USER
        )
    finally:
        proc.stop()
