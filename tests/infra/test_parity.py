"""Parity between the code and the template: every setting the app reads is provided in Azure, and every Service
Bus entity exists with the same settings in the template and in the emulator's configuration.

A setting the code reads and the template forgets works locally and fails in Azure on the first request; an entity
configured differently in the emulator hides behaviour (lock duration, delivery count, duplicate detection) that
Azure will show. Both are caught here, offline.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import timedelta
from pathlib import Path

from tests.infra.bicep_model import INFRA, app_settings, parsed, unwrap

REPO = Path(__file__).resolve().parents[2]
APP_CODE = [
    REPO / "function_app.py",
    *[p for d in ("activities", "orchestrators", "triggers", "migration") for p in sorted((REPO / d).rglob("*.py"))],
]
SERVICE_BUS = "ServiceBusConnection"

# Every setting the app reads, and where it comes from in Azure.
TEMPLATE = "set by infra/app/api.bicep"
DEFAULTED = "optional: the default is right in Azure"
LOCAL_ONLY = "local emulators only; never set in Azure"
PLATFORM = "set by App Service itself when authentication (authsettingsV2) is on; never by the template"
SETTINGS = {
    "ASR_ALLOWED_VAULT_IDS": TEMPLATE,
    "ASR_ALLOWED_TARGET_SCOPES": TEMPLATE,
    f"{SERVICE_BUS}__fullyQualifiedNamespace": TEMPLATE,
    f"{SERVICE_BUS}__clientId": TEMPLATE,
    "ASR_ARM_ENDPOINT": DEFAULTED,  # Azure's public ARM endpoint
    "ASR_CREDENTIAL": DEFAULTED,  # DefaultAzureCredential, which reads AZURE_CLIENT_ID (set by the template)
    "CALLBACK_ALLOWED_HOSTS": DEFAULTED,  # Logic Apps' callback hosts; a Standard logic app's host is added by hand
    "MIGRATION_CLOCK_SPEED": LOCAL_ONLY,
    "MIGRATION_CLOCK_ANCHOR": LOCAL_ONLY,
    SERVICE_BUS: LOCAL_ONLY,  # a connection string: the emulator's; in Azure the identity-based form above
    # The app trusts X-MS-CLIENT-PRINCIPAL only when this is True; set by hand, it would believe a forged header.
    "WEBSITE_AUTH_ENABLED": PLATFORM,
}


def _name_of(node: ast.expr, constants: dict[str, str]) -> str | None:
    """A setting name from a literal, a module constant holding one, or an f-string built on the Service Bus
    connection prefix."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
                if value.value.id not in ("prefix", "CONNECTION_SETTING"):
                    return None
                parts.append(SERVICE_BUS)
        return "".join(parts)
    return None


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments: a setting's name is often kept in one."""
    constants: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            constants.update({target.id: node.value.value for target in node.targets if isinstance(target, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                constants[node.target.id] = node.value.value
    return constants


def settings_read_by_code() -> dict[str, str]:
    """Setting name → the file that reads it: ``environ.get(X)``, ``environ[X]``, ``getenv(X)``, ``connection=X``."""
    found: dict[str, str] = {}
    for path in APP_CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _string_constants(tree)
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                function = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
                is_environ = isinstance(receiver, ast.Name | ast.Attribute) and "environ" in ast.unparse(receiver)
                if (function == "get" and is_environ or function == "getenv") and node.args:
                    name = _name_of(node.args[0], constants)
                for keyword in node.keywords:
                    if keyword.arg == "connection":
                        name = _name_of(keyword.value, constants)
            elif isinstance(node, ast.Subscript) and "environ" in ast.unparse(node.value):
                name = _name_of(node.slice, constants)
            if name and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                found.setdefault(name, str(path.relative_to(REPO)))
    return found


def test_the_scan_finds_the_settings_it_should() -> None:
    found = settings_read_by_code()
    for name in (
        "ASR_ALLOWED_VAULT_IDS",
        "ASR_ALLOWED_TARGET_SCOPES",  # read through a module constant
        "MIGRATION_CLOCK_SPEED",
        f"{SERVICE_BUS}__fullyQualifiedNamespace",
    ):
        assert name in found, f"the scan missed {name}: it would pass while reading nothing"


def test_every_setting_the_code_reads_is_accounted_for() -> None:
    unknown = {name: where for name, where in settings_read_by_code().items() if name not in SETTINGS}
    assert not unknown, f"settings read by the code but not classified in this test: {unknown}"


def test_every_setting_azure_needs_is_provided_by_the_template() -> None:
    provided = app_settings(INFRA / "app" / "api.bicep")
    needed = {name for name, source in SETTINGS.items() if source == TEMPLATE}
    assert needed <= set(provided), needed - set(provided)
    for name, source in SETTINGS.items():
        if source == LOCAL_ONLY:
            assert name not in provided, f"{name} is for the local emulators and must not be set in Azure"
    for name, source in SETTINGS.items():
        if source == PLATFORM:
            assert name not in provided, f"{name} is App Service's to set, never the template's"
    auth = next(
        unwrap(r["config"])
        for r in parsed(INFRA / "app" / "api.bicep")["resources"].values()
        if r["type"] == "Microsoft.Web/sites/config" and unwrap(r["config"]).get("name") == "authsettingsV2"
    )
    assert auth["properties"]["platform"]["enabled"] is True, "without authentication App Service sets no identity"
    # The Service Bus triggers and DefaultAzureCredential pick the user-assigned identity.
    assert provided[f"{SERVICE_BUS}__credential"] == "managedidentity"
    assert "AZURE_CLIENT_ID" in provided


# Microsoft's Service Bus emulator caps these (its Config-schema.json); the shared configuration holds the cap
# where Azure's value is larger, so the same file also drives that emulator.
EMULATOR_CAPS = {
    "DefaultMessageTimeToLive": timedelta(hours=1),
    "DuplicateDetectionHistoryTimeWindow": timedelta(minutes=5),
}
TEMPLATE_KEYS = {
    "lockDuration": "LockDuration",
    "maxDeliveryCount": "MaxDeliveryCount",
    "defaultMessageTimeToLive": "DefaultMessageTimeToLive",
    "deadLetteringOnMessageExpiration": "DeadLetteringOnMessageExpiration",
    "requiresDuplicateDetection": "RequiresDuplicateDetection",
    "duplicateDetectionHistoryTimeWindow": "DuplicateDetectionHistoryTimeWindow",
}


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text)
    assert match, f"not an ISO 8601 duration: {text}"
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _template_entities() -> dict[str, dict[str, object]]:
    resources = parsed(INFRA / "app" / "servicebus.bicep")["resources"]
    entities = {}
    for resource in resources.values():
        if resource["type"] in ("Microsoft.ServiceBus/namespaces/queues", "Microsoft.ServiceBus/namespaces/topics"):
            config = unwrap(resource["config"])
            entities[config["name"]] = {TEMPLATE_KEYS[k]: v for k, v in config.get("properties", {}).items()}
    return entities


def _emulator_entities() -> dict[str, dict[str, object]]:
    namespace = json.loads((REPO / "emulators" / "servicebus" / "config.json").read_text())["UserConfig"]["Namespaces"][
        0
    ]
    return {entity["Name"]: entity.get("Properties", {}) for entity in [*namespace["Queues"], *namespace["Topics"]]}


def test_service_bus_entities_match_between_template_and_emulator() -> None:
    template, emulator = _template_entities(), _emulator_entities()
    assert set(template) == set(emulator) == {"migration-requests", "migration-control", "migration-events"}
    for entity, settings in template.items():
        for key, value in settings.items():
            assert key in emulator[entity], f"{entity}.{key} is set in the template but not in the emulator config"
            local = emulator[entity][key]
            if key in EMULATOR_CAPS:
                expected = min(_duration(str(value)), EMULATOR_CAPS[key])
                assert _duration(str(local)) == expected, (entity, key, value, local)
            else:
                assert local == value, (entity, key, value, local)


def test_the_entities_the_code_uses_exist() -> None:
    """Queue and topic names the code sends to or triggers on are the three entities of both configurations."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in APP_CODE)
    used = set(re.findall(r"[\"'](migration-(?:requests|control|events))[\"']", text))
    assert "migration-events" in used
    assert used <= set(_template_entities()) and used <= set(_emulator_entities())
