"""Offline checks of the app's identity: its Entra registration, App Service authentication, and who holds which role.

The promises: the registration declares exactly the app roles ``migration/access.py`` checks and carries no
credential; only principals holding one of its roles get a token; the Logic Apps' identity holds the roles its
workflows' HTTP calls need and nothing more; App Service authentication stands in front of every route but the
health probe, accepts only tokens for the registration, and keeps no secret or token store; and since it is the only
door, no function asks for a key of its own.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migration.access import ACTION_ROLES, OPERATORS, READERS, Role
from migration.commands import ControlAction
from tests.infra.bicep_model import INFRA, app_settings, bicep_files, parsed, syntax_errors, unwrap

REPO = Path(__file__).resolve().parents[2]
MAIN = INFRA / "main.bicep"
ENTRA = INFRA / "app" / "entra.bicep"
API = INFRA / "app" / "api.bicep"
LOGICAPPS_BICEP = INFRA / "app" / "logicapps.bicep"
LOGICAPPS = INFRA / "logicapps"
HEALTH_PATH = "/api/health"
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

APPLICATIONS = "Microsoft.Graph/applications"
SERVICE_PRINCIPALS = "Microsoft.Graph/servicePrincipals"
ASSIGNMENTS = "Microsoft.Graph/appRoleAssignedTo"
CREDENTIAL_PROPERTIES = {"passwordCredentials", "keyCredentials"}


def _resources(path: Path, resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        symbol: unwrap(resource["config"])
        for symbol, resource in parsed(path).get("resources", {}).items()
        if resource["type"] == resource_type
    }


def _variables(path: Path) -> dict[str, Any]:
    return {name: spec["value"] for name, spec in parsed(path).get("variables", {}).items()}


def _accessor(expression: Any) -> list[str]:
    """`a.b.c` as pycep nests it, flattened to ['a', 'b', 'c']; anything else is []."""
    if isinstance(expression, str):
        return [expression]
    if isinstance(expression, dict) and expression.get("operator", {}).get("type") == "property_accessor":
        operands = expression["operator"]["operands"]
        return [*_accessor(operands["operand_1"]), *_accessor(operands["operand_2"])]
    return []


def _function(expression: Any) -> dict[str, Any]:
    assert isinstance(expression, dict) and "function" in expression, expression
    function: dict[str, Any] = expression["function"]
    return function


# --- the registration ------------------------------------------------------------------------------------


def registration_problems(document: dict[str, Any]) -> list[str]:
    """What is wrong with a parsed entra.bicep: roles, credentials, audience, token version, identifier URI."""
    problems: list[str] = []
    resources = document.get("resources", {})
    variables = {name: spec["value"] for name, spec in document.get("variables", {}).items()}
    applications = {s: unwrap(r["config"]) for s, r in resources.items() if r["type"] == APPLICATIONS}
    if len(applications) != 2:
        problems.append(f"expected the application in two passes, found {sorted(applications)}")
    for symbol, config in applications.items():
        if config.get("uniqueName") != "uniqueName":
            problems.append(f"{symbol}: uniqueName is not the module's uniqueName parameter")
        if config.get("signInAudience") != "AzureADMyOrg":
            problems.append(f"{symbol}: signInAudience {config.get('signInAudience')!r}")
        if CREDENTIAL_PROPERTIES & set(config):
            problems.append(f"{symbol}: declares {sorted(CREDENTIAL_PROPERTIES & set(config))}")
        api = variables.get(config.get("api"), config.get("api"))
        if not isinstance(api, dict) or api.get("requestedAccessTokenVersion") != 2:
            problems.append(f"{symbol}: access tokens are not v2")
        roles = variables.get(config.get("appRoles"), config.get("appRoles"))
        problems.extend(f"{symbol}: {problem}" for problem in role_problems(roles, variables))
    second = [config for config in applications.values() if "identifierUris" in config]
    if len(second) != 1 or second[0]["identifierUris"] != ["api://${registration.appId}"]:
        problems.append("the Application ID URI is not api://<appId> of the first pass")
    for symbol, resource in resources.items():
        if resource["type"] == SERVICE_PRINCIPALS:
            config = unwrap(resource["config"])
            if config.get("appRoleAssignmentRequired") is not True:
                problems.append(f"{symbol}: tokens are issued without an app role assignment")
            if CREDENTIAL_PROPERTIES & set(config):
                problems.append(f"{symbol}: declares {sorted(CREDENTIAL_PROPERTIES & set(config))}")
        if resource["type"].startswith("Microsoft.Graph/applications/"):
            problems.append(f"{symbol}: {resource['type']} adds a credential to the registration")
    return problems


def role_problems(roles: Any, variables: dict[str, Any]) -> list[str]:
    if not isinstance(roles, list):
        return [f"appRoles is not a list: {roles!r}"]
    problems = []
    values = [role.get("value") for role in roles]
    if sorted(values) != sorted(Role):
        problems.append(f"app roles {values}, the app checks {sorted(Role)}")
    role_ids = variables.get("roleIds", {})
    for role in roles:
        if role.get("allowedMemberTypes") != ["User", "Application"] or role.get("isEnabled") is not True:
            problems.append(f"{role.get('value')}: not an enabled role for users and applications")
        id_parts = _accessor(role.get("id"))
        stable = id_parts[:1] == ["roleIds"] and len(id_parts) == 2 and id_parts[1] in role_ids
        guid_call = _function(role_ids[id_parts[1]]) if stable else {}
        if (
            not stable
            or guid_call.get("type") != "guid"
            or guid_call["parameters"].get("extra_string_1") != role.get("value")
        ):
            problems.append(f"{role.get('value')}: its id is not guid(uniqueName, '<value>')")
    return problems


def test_the_registration_declares_the_app_roles_the_app_checks_and_no_credential() -> None:
    assert registration_problems(parsed(ENTRA)) == []


REGISTRATION_MISTAKES = [
    ("a fourth role", lambda d: d["variables"]["appRoles"]["value"].append({**d["variables"]["appRoles"]["value"][0]})),
    ("a role renamed", lambda d: d["variables"]["appRoles"]["value"][1].update(value="Migrations.Write")),
    ("a role only for users", lambda d: d["variables"]["appRoles"]["value"][2].update(allowedMemberTypes=["User"])),
    (
        "a random role id",
        lambda d: d["variables"]["appRoles"]["value"][0].update(id="0f1e2d3c-aaaa-bbbb-cccc-000000000000"),
    ),
    ("a password", lambda d: d["resources"]["registration"]["config"].update(passwordCredentials=[{}])),
    ("a certificate", lambda d: d["resources"]["registrationUri"]["config"].update(keyCredentials=[{}])),
    ("multitenant", lambda d: d["resources"]["registration"]["config"].update(signInAudience="AzureADMultipleOrgs")),
    ("v1 tokens", lambda d: d["variables"]["apiSettings"]["value"].update(requestedAccessTokenVersion=1)),
    (
        "assignment optional",
        lambda d: d["resources"]["servicePrincipal"]["config"].update(appRoleAssignmentRequired=False),
    ),
    ("a guessable URI", lambda d: d["resources"]["registrationUri"]["config"].update(identifierUris=["api://migrate"])),
    (
        "a federated credential",
        lambda d: d["resources"].update(
            fic={"type": "Microsoft.Graph/applications/federatedIdentityCredentials", "config": {}}
        ),
    ),
]


@pytest.mark.parametrize(("mistake", "mutate"), REGISTRATION_MISTAKES, ids=[m for m, _ in REGISTRATION_MISTAKES])
def test_the_registration_check_catches(mistake: str, mutate: Any) -> None:
    document = copy.deepcopy(parsed(ENTRA))
    mutate(document)
    assert registration_problems(document), f"{mistake} went unnoticed"


def test_no_template_declares_an_entra_credential_or_a_client_secret() -> None:
    for path in bicep_files():
        code = re.sub(r"(^|\s)//.*$", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
        assert not re.search(r"passwordCredentials|keyCredentials|clientSecret|federatedIdentityCredentials", code), (
            path
        )


def test_the_outputs_name_the_registration_by_its_app_id() -> None:
    outputs = {name: spec["value"] for name, spec in parsed(ENTRA)["outputs"].items()}
    assert _accessor(outputs["clientId"]) == ["registrationUri", "appId"]
    assert outputs["identifierUri"] == "api://${registrationUri.appId}"
    assert outputs["scope"] == outputs["identifierUri"] + "/.default"
    assert _accessor(outputs["servicePrincipalId"]) == ["servicePrincipal", "id"]
    for key, output in {"read": "readRoleId", "operate": "operateRoleId", "approve": "approveRoleId"}.items():
        assert _accessor(outputs[output]) == ["roleIds", key]


def test_the_azure_cli_is_pre_authorised_for_the_delegated_scope_only() -> None:
    api = _variables(ENTRA)["apiSettings"]
    (scope,) = api["oauth2PermissionScopes"]
    assert scope["id"] == "scopeId" and scope["type"] == "Admin" and scope["isEnabled"] is True
    pre_authorized = api["preAuthorizedApplications"]
    assert pre_authorized["loop_type"]["detail"]["array_name"] == "preAuthorizedClientIds"
    assert pre_authorized["config"] == {"appId": "clientId", "delegatedPermissionIds": ["scopeId"]}
    default = parsed(MAIN)["parameters"]["migrationApiClientAppIds"]["default"]
    assert default.split(",") == [AZURE_CLI_CLIENT_ID]


# --- who holds which role ---------------------------------------------------------------------------------


def _assignments() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in bicep_files():
        for symbol, config in _resources(path, ASSIGNMENTS).items():
            found[(path.name, symbol)] = config
    return found


def _workflow_http_calls(actions: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for action in actions.values():
        if action.get("type") == "Http":
            yield action["inputs"]
        yield from _workflow_http_calls(action.get("actions", {}))
        yield from _workflow_http_calls(action.get("else", {}).get("actions", {}))


def roles_for_call(inputs: dict[str, Any]) -> frozenset[Role]:
    """The roles that let one of the workflows' HTTP calls through, by the route it calls (migration/access.py)."""
    uri, method = inputs["uri"], inputs["method"].upper()
    if method == "POST" and uri.endswith("/api/migrations"):
        return OPERATORS
    for action in (ControlAction.APPROVE, ControlAction.REJECT):
        if f"['{action.value}Uri']" in uri:
            return ACTION_ROLES[action]
    if method == "GET":
        return READERS
    raise AssertionError(f"no role is known for {method} {uri}")


def needed_roles() -> list[frozenset[Role]]:
    calls: list[frozenset[Role]] = []
    for path in sorted(LOGICAPPS.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))["definition"]
        calls.extend(roles_for_call(inputs) for inputs in _workflow_http_calls(definition["actions"]))
    return calls


def minimal(held: set[Role], needs: list[frozenset[Role]]) -> bool:
    """Every call is allowed, and dropping any held role would refuse one."""
    allowed = all(need & held for need in needs)
    return allowed and all(not all(need & (held - {role}) for need in needs) for role in held)


def logic_apps_roles() -> set[Role]:
    """Roles assigned to the Logic Apps' identity: logicapps.bicep's assignments, resolved through main.bicep."""
    params = unwrap(parsed(MAIN)["modules"]["logicApps"]["config"])["params"]
    outputs = {"readRoleId": Role.READ, "operateRoleId": Role.OPERATE, "approveRoleId": Role.APPROVE}
    held = set()
    for (file, symbol), config in _assignments().items():
        if file != LOGICAPPS_BICEP.name:
            continue
        assert _accessor(config["principalId"]) == ["identity", "properties", "principalId"], symbol
        assert config["resourceId"] == "apiServicePrincipalId", symbol
        source = _accessor(params[config["appRoleId"]])
        assert source[:2] == ["entra", "outputs"] and source[2] in outputs, (symbol, source)
        held.add(outputs[source[2]])
    return held


def test_the_workflows_need_operate_and_approve() -> None:
    needs = needed_roles()
    assert OPERATORS in needs and ACTION_ROLES[ControlAction.APPROVE] in needs
    assert minimal({Role.OPERATE, Role.APPROVE}, needs)
    assert not minimal({Role.OPERATE, Role.APPROVE, Role.READ}, needs)
    assert not minimal({Role.OPERATE}, needs)


def test_the_logic_apps_identity_holds_exactly_the_roles_its_calls_need() -> None:
    held = logic_apps_roles()
    assert held == {Role.OPERATE, Role.APPROVE}
    assert minimal(held, needed_roles())
    params = unwrap(parsed(MAIN)["modules"]["logicApps"]["config"])["params"]
    assert _accessor(params["apiServicePrincipalId"]) == ["entra", "outputs", "servicePrincipalId"]
    assert "readRoleId" not in parsed(LOGICAPPS_BICEP)["parameters"]


def test_every_app_role_assignment_is_one_of_the_documented_ones() -> None:
    assert set(_assignments()) == {
        ("entra.bicep", "deployerAssignments"),
        ("logicapps.bicep", "operateAssignment"),
        ("logicapps.bicep", "approveAssignment"),
    }
    deployer = _assignments()[("entra.bicep", "deployerAssignments")]
    assert deployer["principalId"] == "deployerPrincipalId"
    assert _accessor(deployer["resourceId"]) == ["servicePrincipal", "id"]
    loop = parsed(ENTRA)["resources"]["deployerAssignments"]["config"]["loop_type"]["detail"]
    assert loop["array_name"] == "deployerRoleValues"
    # No principal, no assignment; otherwise the roles asked for, each checked against the three the app knows.
    condition = _variables(ENTRA)["deployerRoleValues"]["operator"]["operands"]
    assert _function(condition["condition"])["parameters"] == {"item_to_test": "deployerPrincipalId"}
    assert condition["true_value"] == [] and condition["false_value"] == "deployerRoles"
    allowed = next(d for d in parsed(ENTRA)["parameters"]["deployerRoles"]["decorators"] if d["type"] == "allowed")
    assert sorted(allowed["argument"]) == sorted(Role)


def test_the_deployer_gets_operate_and_approve_unless_told_otherwise() -> None:
    declared = parsed(MAIN)["parameters"]["migrationDeployerAppRoles"]["default"]
    supplied = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]["migrationDeployerAppRoles"]
    assert declared == "Migrations.Operate,Migrations.Approve"
    assert supplied["value"] == "${MIGRATION_DEPLOYER_APP_ROLES=" + declared + "}"
    entra = unwrap(parsed(MAIN)["modules"]["entra"]["config"])["params"]
    assert entra["deployerPrincipalId"] == "principalId" and entra["deployerRoles"] == "deployerAppRoles"


def test_the_role_check_catches_a_role_too_many_or_too_few() -> None:
    needs = needed_roles()
    assert not minimal({Role.OPERATE, Role.APPROVE, Role.READ}, needs)
    assert not minimal({Role.APPROVE}, needs)
    assert not minimal(set(), needs)


# --- App Service authentication ---------------------------------------------------------------------------


def authsettings_problems(properties: dict[str, Any]) -> list[str]:
    problems = []
    if properties.get("platform", {}).get("enabled") is not True:
        problems.append("authentication is off")
    validation = properties.get("globalValidation", {})
    if validation.get("requireAuthentication") is not True:
        problems.append("unauthenticated requests reach the app")
    if validation.get("unauthenticatedClientAction") != "Return401":
        problems.append(f"unauthenticated requests get {validation.get('unauthenticatedClientAction')!r}, not 401")
    if validation.get("excludedPaths") != [HEALTH_PATH]:
        problems.append(f"excluded paths {validation.get('excludedPaths')}, only {HEALTH_PATH} may be open")
    providers = properties.get("identityProviders", {})
    if set(providers) != {"azureActiveDirectory"}:
        problems.append(f"identity providers {sorted(providers)}")
    entra = providers.get("azureActiveDirectory", {})
    registration = entra.get("registration", {})
    if entra.get("enabled") is not True or registration.get("clientId") != "apiClientId":
        problems.append("the Entra provider does not use the app's registration")
    if "clientSecretSettingName" in registration or "clientSecretCertificateThumbprint" in registration:
        problems.append("the provider names a client secret")
    issuer = "${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0"
    if registration.get("openIdIssuer") != issuer:
        problems.append(f"issuer {registration.get('openIdIssuer')!r}")
    if entra.get("validation", {}).get("allowedAudiences") != ["apiIdentifierUri", "apiClientId"]:
        problems.append(f"audiences {entra.get('validation', {}).get('allowedAudiences')}")
    if properties.get("login", {}).get("tokenStore", {}).get("enabled") is not False:
        problems.append("the token store is on")
    return problems


def _authsettings(document: dict[str, Any]) -> dict[str, Any]:
    configs = [
        unwrap(r["config"])
        for r in document["resources"].values()
        if r["type"] == "Microsoft.Web/sites/config" and unwrap(r["config"]).get("name") == "authsettingsV2"
    ]
    assert len(configs) == 1, "api.bicep declares authsettingsV2 once"
    properties: dict[str, Any] = configs[0]["properties"]
    return properties


def test_app_service_authentication_guards_every_path_but_health() -> None:
    assert authsettings_problems(_authsettings(parsed(API))) == []
    resources = parsed(API)["resources"]
    config = unwrap(resources["authentication"]["config"])
    assert resources[config["parent"]]["existing"] is True and config["dependsOn"] == ["site"]


AUTH_MISTAKES = [
    ("off", lambda p: p["platform"].update(enabled=False)),
    ("anonymous allowed", lambda p: p["globalValidation"].update(requireAuthentication=False)),
    ("a redirect", lambda p: p["globalValidation"].update(unauthenticatedClientAction="RedirectToLoginPage")),
    ("the webhooks open", lambda p: p["globalValidation"]["excludedPaths"].append("/runtime/webhooks/durabletask/*")),
    (
        "a secret",
        lambda p: p["identityProviders"]["azureActiveDirectory"]["registration"].update(clientSecretSettingName="X"),
    ),
    (
        "any audience",
        lambda p: p["identityProviders"]["azureActiveDirectory"]["validation"].update(allowedAudiences=[]),
    ),
    ("a token store", lambda p: p["login"]["tokenStore"].update(enabled=True)),
    ("v1 issuer", lambda p: p["identityProviders"]["azureActiveDirectory"]["registration"].update(openIdIssuer="x")),
]


@pytest.mark.parametrize(("mistake", "mutate"), AUTH_MISTAKES, ids=[m for m, _ in AUTH_MISTAKES])
def test_the_authentication_check_catches(mistake: str, mutate: Any) -> None:
    properties = copy.deepcopy(_authsettings(parsed(API)))
    mutate(properties)
    assert authsettings_problems(properties), f"{mistake} went unnoticed"


def test_the_function_app_accepts_the_registration_and_only_this_tenant() -> None:
    params = unwrap(parsed(MAIN)["modules"]["api"]["config"])["params"]
    assert _accessor(params["apiClientId"]) == ["entra", "outputs", "clientId"]
    assert _accessor(params["apiIdentifierUri"]) == ["entra", "outputs", "identifierUri"]
    tenant = app_settings(API)["WEBSITE_AUTH_AAD_ALLOWED_TENANTS"]["operator"]
    assert tenant["type"] == "property_accessor" and tenant["operands"]["operand_2"] == "tenantId"
    assert _function(tenant["operands"]["operand_1"])["type"] == "tenant"


def test_the_excluded_path_is_the_health_route() -> None:
    text = (REPO / "triggers" / "health.py").read_text(encoding="utf-8")
    assert 'route="health"' in text and HEALTH_PATH == "/api/health"
    host = json.loads((REPO / "host.json").read_text(encoding="utf-8"))
    assert host.get("extensions", {}).get("http", {}).get("routePrefix", "api") == "api"


# --- App Service authentication is the only door: no function asks for a key ---------------------------------

HTTP_SOURCES = [REPO / "function_app.py", *sorted((REPO / "triggers").glob("*.py"))]


def key_problems(source: str, name: str) -> tuple[list[str], int]:
    """Routes that are not anonymous, and how many routes there are, in one Python file."""
    problems, routes = [], 0
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
        if node.func.attr == "route":
            routes += 1
            if keywords.get("auth_level") != "func.AuthLevel.ANONYMOUS":
                problems.append(f"{name}:{node.lineno} route auth_level {keywords.get('auth_level')}")
        if node.func.attr == "DFApp" and keywords.get("http_auth_level") != "func.AuthLevel.ANONYMOUS":
            problems.append(f"{name}:{node.lineno} DFApp http_auth_level {keywords.get('http_auth_level')}")
    for level in ("FUNCTION", "ADMIN"):
        if f"AuthLevel.{level}" in source:
            problems.append(f"{name}: mentions AuthLevel.{level}")
    return problems, routes


def test_every_http_function_is_anonymous_behind_app_service_authentication() -> None:
    problems, routes = [], 0
    for path in HTTP_SOURCES:
        found, count = key_problems(path.read_text(encoding="utf-8"), path.name)
        problems.extend(found)
        routes += count
    assert problems == []
    assert routes >= 8, f"found only {routes} routes: the scan would pass while reading nothing"
    assert "DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)" in (REPO / "function_app.py").read_text()


@pytest.mark.parametrize(
    "source",
    [
        '@bp.route(route="x", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)\ndef f(): ...\n',
        '@bp.route(route="x", methods=["GET"])\ndef f(): ...\n',
        "app = df.DFApp(http_auth_level=func.AuthLevel.ADMIN)\n",
    ],
)
def test_the_key_scan_catches_a_function_that_asks_for_a_key(source: str) -> None:
    assert key_problems(source, "sample.py")[0]


# --- wiring and the extension ------------------------------------------------------------------------------


def test_main_wires_the_registration_to_the_workflows_and_the_command_line() -> None:
    main = parsed(MAIN)
    assert "logicAppsFunctionAudience" not in main["parameters"]
    params = unwrap(main["modules"]["logicApps"]["config"])["params"]
    assert _accessor(params["functionAppAudience"]) == ["entra", "outputs", "identifierUri"]
    outputs = main["outputs"]
    assert _accessor(outputs["MIGRATION_API_SCOPE"]["value"]) == ["entra", "outputs", "scope"]
    assert _accessor(outputs["MIGRATION_API_CLIENT_ID"]["value"]) == ["entra", "outputs", "clientId"]
    entra = main["modules"]["entra"]["config"]
    assert entra["scope"] == "rg" and entra["params"]["uniqueName"] == "migrate-api-${resourceToken}"


def test_files_using_the_graph_extension_name_the_pinned_alias() -> None:
    config = json.loads((INFRA / "bicepconfig.json").read_text(encoding="utf-8"))
    reference = config["extensions"]["microsoftGraphV1"]
    assert re.fullmatch(r"br:mcr\.microsoft\.com/bicep/extensions/microsoftgraph/v1\.0:\d+\.\d+\.\d+", reference)
    users = set()
    for path in bicep_files():
        document = parsed(path)
        graph = [r for r in document.get("resources", {}).values() if r["type"].startswith("Microsoft.Graph/")]
        if graph:
            assert set(document.get("extensions", {})) == {"microsoftGraphV1"}, path.name
            assert {r["api_version"] for r in graph} == {"v1.0"}, path.name
            users.add(path.name)
    assert users == {"entra.bicep", "logicapps.bicep"}


def test_the_syntax_check_still_catches_a_broken_extension_statement(tmp_path: Path) -> None:
    for text in ("extension\n", "extension 'microsoftGraphV1\n", "extensoin microsoftGraphV1\n"):
        broken = tmp_path / "broken.bicep"
        broken.write_text(text + "param x string\n")
        assert syntax_errors(broken), text
    fine = tmp_path / "fine.bicep"
    fine.write_text("extension microsoftGraphV1\n\nparam x string\n")
    assert syntax_errors(fine) == []
