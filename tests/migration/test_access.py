"""Who the app believes a caller is, and what each app role lets them do (``migration.access``)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from migration.access import ACTION_ROLES, OPERATORS, READERS, Role, authorize, principal_from_header
from migration.api_requests import ApiError, parse_control_body
from migration.commands import ControlAction

OID = "5f6b1a2e-0c1d-4e7f-9a8b-0123456789ab"
ON = {"WEBSITE_AUTH_ENABLED": "True"}
ROLE_URI = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
OID_URI = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def header(*claims: tuple[str, str], role_typ: str = ROLE_URI, **extra: Any) -> str:
    document = {
        "auth_typ": "aad",
        "claims": [{"typ": typ, "val": val} for typ, val in claims],
        "name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "role_typ": role_typ,
        **extra,
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


def user(*roles: str, role_typ: str = "roles") -> dict[str, str]:
    claims = [(OID_URI, OID), ("preferred_username", "ana@contoso.example"), *((role_typ, r) for r in roles)]
    return {"X-MS-CLIENT-PRINCIPAL": header(*claims)}


def refusal(headers: dict[str, str], allowed: frozenset[Role] = READERS, environ: dict[str, str] = ON) -> ApiError:
    with pytest.raises(ApiError) as caught:
        authorize(headers, environ, allowed, "reading a migration")
    return caught.value


def test_the_header_is_not_believed_unless_app_service_authentication_is_on() -> None:
    for environ in ({}, {"WEBSITE_AUTH_ENABLED": "False"}, {"WEBSITE_AUTH_ENABLED": ""}):
        error = refusal(user(Role.READ), environ=environ)
        assert (error.status, error.code) == (401, "Unauthenticated")
        assert "WEBSITE_AUTH_ENABLED" in error.message and error.headers == {"WWW-Authenticate": "Bearer"}


def test_no_principal_is_a_401_with_a_bearer_challenge() -> None:
    error = refusal({})
    assert (error.status, error.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert "reading a migration" in error.message


@pytest.mark.parametrize(
    "value",
    [
        "not base64 at all!",
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b"{not json").decode(),
        header(("preferred_username", "ana")),  # no object id
        header((OID_URI, "../../etc/passwd")),  # an object id is a GUID
    ],
)
def test_a_header_that_is_no_client_principal_is_a_401(value: str) -> None:
    assert refusal({"X-MS-CLIENT-PRINCIPAL": value}).status == 401


@pytest.mark.parametrize("role_typ", ["roles", ROLE_URI])
def test_roles_are_read_under_either_claim_type_app_service_uses(role_typ: str) -> None:
    principal = authorize(user(Role.OPERATE, role_typ=role_typ), ON, OPERATORS, "submitting")
    assert principal.roles == {"Migrations.Operate"}
    assert principal.actor() == {"actor": "ana@contoso.example", "actorId": OID}


def test_a_role_under_the_documents_own_role_type_counts_too() -> None:
    value = header((OID_URI, OID), ("urn:custom:role", "Migrations.Read"), role_typ="urn:custom:role")
    assert authorize({"X-MS-CLIENT-PRINCIPAL": value}, ON, READERS, "x").roles == {"Migrations.Read"}


def test_a_reader_may_not_operate_and_the_refusal_names_both_sides() -> None:
    error = refusal(user(Role.READ), OPERATORS)
    assert (error.status, error.code) == (403, "Forbidden")
    assert "Migrations.Operate" in error.message and "holds Migrations.Read" in error.message
    assert refusal(user(), READERS).message.endswith("holds no role of this app")


def test_every_command_needs_a_role_and_only_approvers_approve() -> None:
    assert set(ACTION_ROLES) == set(ControlAction)
    assert ACTION_ROLES[ControlAction.APPROVE] == ACTION_ROLES[ControlAction.REJECT] == {Role.APPROVE}
    assert all(ACTION_ROLES[a] == {Role.OPERATE} for a in (ControlAction.CANCEL, ControlAction.RETRY))
    assert refusal(user(Role.OPERATE), ACTION_ROLES[ControlAction.APPROVE]).status == 403


def test_an_application_is_named_by_its_client_id_and_names_lose_control_characters() -> None:
    app = header((OID_URI, OID.upper()), ("azp", "7d1c0b52-logic-apps"), ("roles", "Migrations.Approve"))
    principal = principal_from_header(app)
    assert (principal.name, principal.object_id) == ("7d1c0b52-logic-apps", OID)
    assert principal_from_header(app, "evil\x1b[2J\u202ename").name == "evil[2Jname"


def test_the_signed_in_caller_is_the_actor_and_the_body_actor_only_a_note() -> None:
    body = {"actor": "ceo@contoso.example", "reason": "looks good"}
    command = parse_control_body("approve", body, command_id=None, caller=("ana@contoso.example", OID))
    payload = command.payload()
    assert (payload["actor"], payload["actorId"], payload["assertedActor"]) == (
        "ana@contoso.example",
        OID,
        body["actor"],
    )
    unnamed = parse_control_body("approve", {"reason": "ok"}, command_id=None, caller=("ana", OID)).payload()
    assert "assertedActor" not in unnamed and unnamed["actor"] == "ana"


def test_a_command_without_a_signed_in_caller_still_needs_an_asserted_actor() -> None:
    with pytest.raises(ApiError) as caught:
        parse_control_body("cancel", {"reason": "stop"}, command_id=None)
    assert caught.value.details == [{"path": "actor", "message": "required: a non-empty string"}]
    assert "actorId" not in parse_control_body("cancel", {"actor": "ops", "reason": "r"}, command_id=None).payload()
