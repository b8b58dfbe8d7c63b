"""Offline checks of the azd template: it parses, holds no secret, keeps local auth off and scopes every role.

These stand in for a deployment we cannot make from a test: each promise in the infra's comments and in the
README's permission table is asserted here against the parsed template.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.infra.bicep_model import (
    INFRA,
    UPPER_SNAKE,
    app_settings,
    bicep_files,
    module_role_assignments,
    parsed,
    role_assignments,
    syntax_errors,
    unwrap,
)

SITE_RECOVERY_CONTRIBUTOR = "6670b86e-a3f7-4917-ac9b-5d6ab1be4567"
VIRTUAL_MACHINE_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
SERVICE_BUS_DATA_SENDER = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
SERVICE_BUS_DATA_RECEIVER = "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"

# file → (role, the resource type the assignment must be scoped to; None = the module's resource group)
ALLOWED_ASSIGNMENTS: dict[str, set[tuple[str, str | None]]] = {
    "servicebus.bicep": {
        (SERVICE_BUS_DATA_RECEIVER, "Microsoft.ServiceBus/namespaces/queues"),
        (SERVICE_BUS_DATA_SENDER, "Microsoft.ServiceBus/namespaces/topics"),
        (SERVICE_BUS_DATA_SENDER, "Microsoft.ServiceBus/namespaces/queues"),
    },
    "vault-access.bicep": {(SITE_RECOVERY_CONTRIBUTOR, "Microsoft.RecoveryServices/vaults")},
    "target-group-access.bicep": {(VIRTUAL_MACHINE_CONTRIBUTOR, None)},
    "network-access.bicep": {(VIRTUAL_MACHINE_CONTRIBUTOR, "Microsoft.Network/virtualNetworks")},
    "replication-storage-access.bicep": {(VIRTUAL_MACHINE_CONTRIBUTOR, "Microsoft.Storage/storageAccounts")},
    # The sample Logic Apps' own identity reads the two topic subscriptions its workflows are triggered by.
    "logicapps.bicep": {(SERVICE_BUS_DATA_RECEIVER, "Microsoft.ServiceBus/namespaces/topics/subscriptions")},
}

# Role names given to AVM modules, which assign them on the module's own resource.
ALLOWED_MODULE_ROLES = {
    "public:avm/res/storage/storage-account:0.29.0": {
        "Storage Blob Data Owner",
        "Storage Queue Data Contributor",
        "Storage Table Data Contributor",
    },
    "public:avm/res/insights/component:0.4.1": {"Monitoring Metrics Publisher"},
}

MAIN = INFRA / "main.bicep"
API = INFRA / "app" / "api.bicep"


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.name)
def test_bicep_file_has_no_syntax_error(path: Path) -> None:
    assert syntax_errors(path) == []


def test_syntax_check_catches_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bicep"
    broken.write_text("resource r 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n")
    assert syntax_errors(broken)


def test_every_role_assignment_is_one_of_the_documented_ones() -> None:
    seen: dict[str, set[tuple[str, str | None]]] = {}
    for path in bicep_files():
        for assignment in role_assignments(path):
            allowed = ALLOWED_ASSIGNMENTS.get(path.name, set())
            key = (assignment.role_id, assignment.scope_type)
            assert key in allowed, f"{path.name}:{assignment.symbol} grants {key}, not a documented assignment"
            if assignment.scope is not None:
                assert assignment.scope_type is not None, (
                    f"{path.name}:{assignment.symbol} is scoped to {assignment.scope!r}, not a resource of the file"
                )
            seen.setdefault(path.name, set()).add(key)
    assert seen == ALLOWED_ASSIGNMENTS


def test_module_role_assignments_are_data_roles_on_their_own_resource() -> None:
    for module, role, principal_type in module_role_assignments(MAIN):
        assert role in ALLOWED_MODULE_ROLES.get(module, set()), f"{module} grants {role}"
        assert principal_type == "ServicePrincipal", f"{module} grants {role} to a {principal_type}"


def test_main_assigns_no_role_at_subscription_scope() -> None:
    assert list(role_assignments(MAIN)) == []


def test_access_modules_are_deployed_per_listed_resource() -> None:
    """Vault, group, network and storage access loop over the parameters, so no scope is wider than one of them."""
    modules = parsed(MAIN)["modules"]
    for symbol, loop_array in {
        "vaultAccess": "vaultIds",
        "targetGroupAccess": "targetGroupIds",
        "networkAccess": "networkIds",
        "storageAccess": "storageIds",
    }.items():
        config = modules[symbol]["config"]
        assert config["loop_type"]["detail"]["array_name"] == loop_array, symbol
        scope = unwrap(config)["scope"]["function"]
        assert scope["type"] == "resource_group", f"{symbol} must deploy into the listed resource's group"


def test_local_authentication_is_off_everywhere() -> None:
    modules = parsed(MAIN)["modules"]
    assert unwrap(modules["storage"]["config"])["params"]["allowSharedKeyAccess"] is False
    assert unwrap(modules["monitoring"]["config"])["params"]["disableLocalAuth"] is True
    namespace = parsed(INFRA / "app" / "servicebus.bicep")["resources"]["namespace"]["config"]
    assert namespace["properties"]["disableLocalAuth"] is True


SECRET_WORDS = re.compile(r"(key|secret|password|sas|token|connectionstring|connection_string)", re.IGNORECASE)
# The Application Insights connection string names the ingestion endpoint; with the component's local auth off,
# ingestion also needs the identity's Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING), so it grants nothing.
NOT_A_SECRET = {"APPLICATIONINSIGHTS_CONNECTION_STRING"}


def test_app_settings_are_identity_based_and_carry_no_secret() -> None:
    settings = app_settings(API)
    for name in settings:
        assert name in NOT_A_SECRET or not SECRET_WORDS.search(name), f"setting {name} looks like a secret"
    assert "AzureWebJobsStorage" not in settings, "a plain AzureWebJobsStorage setting is a connection string"
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["ServiceBusConnection__credential"] == "managedidentity"
    for name in ("AzureWebJobsStorage__clientId", "ServiceBusConnection__clientId", "AZURE_CLIENT_ID"):
        assert settings[name] == "identityClientId", name


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.name)
def test_no_key_listing_function_or_secret_output(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"\blist(Keys|ConnectionStrings|AccountSas|ServiceSas|Secrets)\s*\(", text)
    assert not re.search(r"\.list\w*\(", text)
    assert "AccountKey=" not in text and "SharedAccessKey" not in text
    for name, output in parsed(path).get("outputs", {}).items():
        assert not SECRET_WORDS.search(name), f"output {name} looks like a secret"
        assert not any(d.get("type") == "secure" for d in output["decorators"]), name


def test_outputs_follow_azd_upper_snake_convention() -> None:
    outputs = parsed(MAIN)["outputs"]
    assert outputs, "main.bicep has no outputs"
    for name in outputs:
        assert UPPER_SNAKE.match(name), name
    assert {"AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "SERVICE_API_NAME"} <= set(outputs)


def test_parameters_file_supplies_every_required_parameter_and_nothing_unknown() -> None:
    declared = parsed(MAIN)["parameters"]
    supplied = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(supplied) <= set(declared), set(supplied) - set(declared)
    required = {name for name, spec in declared.items() if spec.get("default") is None}
    assert required <= set(supplied), required - set(supplied)
    for name, spec in supplied.items():
        # `${NAME=default}`: azd's default when the environment has no NAME (a plain list of names, ids or roles).
        assert re.fullmatch(r"\$\{[A-Z_]+(=[A-Za-z0-9.,-]*)?\}", spec["value"]), (
            f"{name} is not mapped to an azd environment value"
        )


def test_registry_modules_are_pinned_to_a_version() -> None:
    for path in bicep_files():
        for module in parsed(path).get("modules", {}).values():
            detail = module["detail"]
            if module["type"] == "bicep_registry_alias":
                assert re.fullmatch(r"\d+\.\d+\.\d+", detail["tag"]), detail["full"]
            else:
                assert (path.parent / detail["path"]).exists(), detail["full"]


def test_function_app_is_tagged_for_azd_and_runs_python() -> None:
    site = next(m for m in parsed(API)["modules"].values() if m["detail"]["path"] == "avm/res/web/site")
    params = unwrap(site["config"])["params"]
    assert params["functionAppConfig"]["runtime"]["name"] == "python"
    assert params["httpsOnly"] is True
    assert (Path(__file__).resolve().parents[2] / "azure.yaml").read_text().count("host: function") == 1
