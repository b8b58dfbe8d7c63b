"""Offline checks of the sample Logic Apps workflows in ``infra/logicapps/``.

No Logic Apps engine runs here, so each workflow is checked the two ways the engine would refuse it:
its structure, against a project-local JSON Schema of the Workflow Definition Language subset we use
(``workflow_definition.schema.json``; Microsoft publishes no JSON copy of the language's schema), and its
graph: ``runAfter`` names siblings with known statuses and has no cycle, every ``body('X')`` /
``outputs('X')`` / ``actions('X')`` / ``result('X')`` names an action that has run by then, every
``parameters('X')`` is declared, and every ``$connections`` key is supplied. The mutation tests prove each
rule catches the mistake it is for. Further tests tie the workflows to the event catalog and to the Service
Bus entities the emulator (and the azd template) declare.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from migration.events import TOPIC, EventType, build_event
from tests.infra.bicep_model import INFRA, parsed, unwrap
from tests.migration.event_data import MIGRATION, TIME, VALID_DATA

LOGICAPPS = INFRA / "logicapps"
SCHEMA_PATH = Path(__file__).with_name("workflow_definition.schema.json")
EMULATOR_CONFIG = INFRA.parent / "emulators" / "servicebus" / "config.json"
WORKFLOWS = sorted(LOGICAPPS.glob("*.json"))

STATUSES = {"succeeded", "failed", "skipped", "timedout"}
KNOWN_TYPES = {
    "Http", "HttpWebhook", "ApiConnection", "ApiConnectionWebhook", "Function", "Workflow", "ServiceProvider",
    "Compose", "ParseJson", "Query", "Select", "Table", "Join",
    "If", "Switch", "Foreach", "Until", "Scope",
    "Response", "Terminate", "Wait",
    "InitializeVariable", "SetVariable", "AppendToArrayVariable", "AppendToStringVariable",
    "IncrementVariable", "DecrementVariable",
}  # fmt: skip
ACTION_REFERENCE = re.compile(r"\b(body|outputs|actions|result)\(\s*'([^']*)'\s*\)")
PARAMETER_REFERENCE = re.compile(r"\bparameters\(\s*'([^']*)'\s*\)")
CONNECTION_REFERENCE = re.compile(r"\bparameters\(\s*'\$connections'\s*\)\s*\[\s*'([^']*)'\s*\]")


# --- the validator ----------------------------------------------------------------------------------------


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_problems(document: Any) -> list[str]:
    """Structural problems, each as ``path: message``."""
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


@dataclass
class Scope:
    """One ``actions`` object: the top level, or the branch of an If/Switch/Foreach/Until/Scope."""

    path: str
    actions: dict[str, Any]
    container: str | None
    parent: Scope | None


def _child_scopes(name: str, action: dict[str, Any], path: str, parent: Scope) -> Iterator[Scope]:
    if isinstance(action.get("actions"), dict):
        yield Scope(f"{path}.{name}.actions", action["actions"], name, parent)
    if isinstance(action.get("else"), dict) and isinstance(action["else"].get("actions"), dict):
        yield Scope(f"{path}.{name}.else.actions", action["else"]["actions"], name, parent)
    for case, body in (action.get("cases") or {}).items():
        if isinstance(body, dict) and isinstance(body.get("actions"), dict):
            yield Scope(f"{path}.{name}.cases.{case}.actions", body["actions"], name, parent)
    if isinstance(action.get("default"), dict) and isinstance(action["default"].get("actions"), dict):
        yield Scope(f"{path}.{name}.default.actions", action["default"]["actions"], name, parent)


def scopes(definition: dict[str, Any]) -> list[Scope]:
    root = Scope("actions", definition.get("actions") or {}, None, None)
    found, pending = [], [root]
    while pending:
        scope = pending.pop()
        found.append(scope)
        for name, action in scope.actions.items():
            if isinstance(action, dict):
                pending.extend(_child_scopes(name, action, scope.path, scope))
    return found


def _own_strings(value: Any) -> Iterator[str]:
    """Every string in an action, leaving out the actions nested in it (they are checked on their own)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _own_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in ("actions", "else", "cases", "default") and isinstance(item, dict):
                if key == "cases":
                    yield from (str(body.get("case", "")) for body in item.values() if isinstance(body, dict))
                continue
            yield from _own_strings(item)


def _all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _all_strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _all_strings(item)


def _expressions(text: str) -> Iterator[str]:
    """The expressions in a string: all of it after a leading ``@``, or each ``@{...}`` interpolation."""
    if text.startswith("@@"):
        return
    if text.startswith("@") and not text.startswith("@{"):
        yield text[1:]
        return
    start = text.find("@{")
    while start != -1:
        depth, quoted, index = 0, False, start + 1
        while index < len(text):
            char = text[index]
            if char == "'":
                quoted = not quoted
            elif not quoted and char == "{":
                depth += 1
            elif not quoted and char == "}":
                depth -= 1
                if depth == 0:
                    break
            index += 1
        yield text[start + 2 : index] if index < len(text) else text[start + 2 :] + "\x00unclosed"
        start = text.find("@{", index)


def _balance_problem(expression: str) -> str | None:
    if expression.endswith("\x00unclosed"):
        return "an @{ interpolation is not closed"
    stack: list[str] = []
    quoted = False
    pairs = {")": "(", "]": "["}
    for char in expression:
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char in "([":
            stack.append(char)
        elif char in ")]":
            if not stack or stack.pop() != pairs[char]:
                return f"unbalanced {char!r}"
    if quoted:
        return "an unterminated string literal"
    if stack:
        return f"unclosed {stack[-1]!r}"
    return None


def _ancestors(name: str, actions: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    pending = list((actions.get(name) or {}).get("runAfter") or {})
    while pending:
        current = pending.pop()
        if current in seen or current not in actions:
            continue
        seen.add(current)
        pending.extend(actions[current].get("runAfter") or {})
    return seen


def _nested_names(action: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    holder = Scope("", {}, None, None)
    for scope in _child_scopes("_", action, "", holder):
        for name, nested in scope.actions.items():
            names.add(name)
            if isinstance(nested, dict):
                names |= _nested_names(nested)
    return names


def _visible_from(name: str, scope: Scope) -> set[str]:
    """Actions whose results exist when ``name`` runs: its runAfter ancestors (and what they contain), and
    the same for each enclosing action, outwards."""
    visible: set[str] = set()
    current, where = name, scope
    while True:
        for ancestor in _ancestors(current, where.actions):
            visible.add(ancestor)
            visible |= _nested_names(where.actions[ancestor])
        if where.container is None or where.parent is None:
            return visible
        current, where = where.container, where.parent


def _cycle(actions: dict[str, Any]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for before in (actions[node].get("runAfter") or {}) if isinstance(actions[node], dict) else {}:
            if before not in actions:
                continue
            if state.get(before) == 1:
                return [*trail[trail.index(before) :], before] if before in trail else [node, before]
            if state.get(before) is None and (found := visit(before, [*trail, before])):
                return found
        state[node] = 2
        return None

    for start in actions:
        if state.get(start) is None and (found := visit(start, [start])):
            return found
    return None


def graph_problems(document: dict[str, Any]) -> list[str]:
    """Everything the engine checks beyond structure, each as ``path: message``."""
    definition = document.get("definition") or {}
    declared = set(definition.get("parameters") or {})
    values = document.get("parameters") or {}
    connections = set((values.get("$connections") or {}).get("value") or {})
    problems: list[str] = []
    all_scopes = scopes(definition)

    names: dict[str, str] = {}
    for scope in all_scopes:
        for name in scope.actions:
            if name in names:
                problems.append(f"{scope.path}.{name}: the name is also used at {names[name]}")
            names[name] = scope.path
    for name in definition.get("triggers") or {}:
        if name in names:
            problems.append(f"triggers.{name}: an action has the same name")

    for scope in all_scopes:
        for name, action in scope.actions.items():
            where = f"{scope.path}.{name}"
            if not isinstance(action, dict):
                problems.append(f"{where}: an action must be an object")
                continue
            if action.get("type") not in KNOWN_TYPES:
                problems.append(f"{where}: unknown action type {action.get('type')!r}")
            for before, statuses in (action.get("runAfter") or {}).items():
                if before == name:
                    problems.append(f"{where}.runAfter: an action cannot run after itself")
                elif before not in scope.actions:
                    problems.append(f"{where}.runAfter: {before!r} is not an action in the same scope")
                for status in statuses if isinstance(statuses, list) else [statuses]:
                    if str(status).lower() not in STATUSES:
                        problems.append(f"{where}.runAfter.{before}: unknown status {status!r}")
            visible = _visible_from(name, scope)
            for text in _own_strings(action):
                for expression in _expressions(text):
                    if (problem := _balance_problem(expression)) is not None:
                        problems.append(f"{where}: {problem} in {expression!r}")
                    for function, target in ACTION_REFERENCE.findall(expression):
                        if target not in names:
                            problems.append(f"{where}: {function}('{target}') names no action")
                        elif target not in visible:
                            problems.append(f"{where}: {function}('{target}') has not run when {name!r} runs")
        if (cycle := _cycle(scope.actions)) is not None:
            problems.append(f"{scope.path}: runAfter cycle {' -> '.join(cycle)}")

    used_connections: set[str] = set()
    for text in _all_strings(definition):
        for expression in _expressions(text):
            for parameter in PARAMETER_REFERENCE.findall(expression):
                if parameter not in declared:
                    problems.append(f"parameters('{parameter}') is not declared in definition.parameters")
            for connection in CONNECTION_REFERENCE.findall(expression):
                used_connections.add(connection)
                if connection not in connections:
                    problems.append(f"$connections['{connection}'] is not supplied in parameters.$connections")
    for connection in sorted(connections - used_connections):
        problems.append(f"parameters.$connections.{connection}: supplied but never used")
    for name in values:
        if name not in declared:
            problems.append(f"parameters.{name}: a value for a parameter the definition does not declare")
    for name, spec in (definition.get("parameters") or {}).items():
        if isinstance(spec, dict) and "defaultValue" not in spec and name not in values:
            problems.append(f"definition.parameters.{name}: no default and no value")
    return problems


def workflow_problems(document: Any) -> list[str]:
    structural = schema_problems(document)
    if structural:
        return structural
    return graph_problems(document)


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


# --- the shipped workflows --------------------------------------------------------------------------------


def test_the_three_sample_workflows_are_there() -> None:
    assert [path.name for path in WORKFLOWS] == [
        "approval.json",
        "completion-notification.json",
        "submit-and-wait.json",
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid(path: Path) -> None:
    assert workflow_problems(load(path)) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_holds_no_secret_and_calls_the_app_with_its_identity(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for secret in ("code=", "sig=", "x-functions-key", "SharedAccessKey", "AccountKey", "listKeys", "listSecrets"):
        assert secret.lower() not in text.lower(), f"{path.name} mentions {secret}"
    definition = load(path)["definition"]
    for scope in scopes(definition):
        for name, action in scope.actions.items():
            if action["type"] == "Http":
                assert action["inputs"]["authentication"] == {
                    "type": "ManagedServiceIdentity",
                    "identity": "@parameters('workflowIdentityId')",
                    "audience": "@parameters('functionAppAudience')",
                }, name
                assert action["inputs"]["uri"].startswith("@{parameters('functionAppUrl')}"), name


def test_submit_waits_with_the_async_pattern_and_fails_the_run_on_a_bad_end() -> None:
    actions = load(LOGICAPPS / "submit-and-wait.json")["definition"]["actions"]
    start = actions["Start_and_wait_for_the_migration"]
    assert start["inputs"]["method"] == "POST" and start["inputs"]["uri"].endswith("/api/migrations")
    # The async pattern is on unless DisableAsyncPattern is set; the wait may last days.
    assert "DisableAsyncPattern" not in start.get("operationOptions", "")
    assert start["limit"]["timeout"] == "P30D"
    assert actions["Migration_failed_or_was_refused"]["runAfter"] == {
        "Start_and_wait_for_the_migration": ["Failed", "TimedOut"]
    }
    assert actions["Migration_failed_or_was_refused"]["inputs"]["runStatus"] == "Failed"


def _emulator_subscriptions() -> dict[str, set[str]]:
    """Subscription → event types its correlation filters let through (empty set: everything)."""
    config = json.loads(EMULATOR_CONFIG.read_text(encoding="utf-8"))
    [namespace] = config["UserConfig"]["Namespaces"]
    topic = next(t for t in namespace["Topics"] if t["Name"] == TOPIC)
    result: dict[str, set[str]] = {}
    for subscription in topic["Subscriptions"]:
        types = set()
        for rule in subscription.get("Rules", []):
            properties = rule["Properties"].get("CorrelationFilter", {}).get("Properties", {})
            types.add(properties.get("eventType"))
        result[subscription["Name"]] = types
    return result


@pytest.mark.parametrize(
    ("workflow", "subscription", "event_type"),
    [
        ("approval.json", "approvals", EventType.AWAITING_APPROVAL),
        ("completion-notification.json", "final-results", EventType.COMPLETED),
    ],
)
def test_service_bus_triggers_read_the_subscriptions_the_emulator_declares(
    workflow: str, subscription: str, event_type: EventType
) -> None:
    [trigger] = load(LOGICAPPS / workflow)["definition"]["triggers"].values()
    path = trigger["inputs"]["path"]
    assert f"encodeURIComponent(encodeURIComponent('{TOPIC}'))" in path
    assert f"/subscriptions/@{{encodeURIComponent('{subscription}')}}/messages/head" in path
    assert trigger["inputs"]["queries"] == {"subscriptionType": "Main"}
    declared = _emulator_subscriptions()
    assert subscription in declared, f"emulators/servicebus/config.json has no subscription {subscription}"
    assert event_type.value in declared[subscription]


@pytest.mark.parametrize(
    ("workflow", "event_type"),
    [("approval.json", EventType.AWAITING_APPROVAL), ("completion-notification.json", EventType.COMPLETED)],
)
def test_the_workflows_parse_the_events_the_app_publishes(workflow: str, event_type: EventType) -> None:
    """The Parse JSON schema in each workflow accepts a real event of its type (Logic Apps uses draft 4)."""
    schema = load(LOGICAPPS / workflow)["definition"]["actions"]["Read_the_event"]["inputs"]["schema"]
    event = build_event(event_type, event_key="k", time=TIME, migration_id=MIGRATION, data=VALID_DATA[event_type]).event
    jsonschema.Draft4Validator.check_schema(schema)
    assert list(jsonschema.Draft4Validator(schema).iter_errors(event)) == []
    other = build_event(
        EventType.CONTROL, event_key="k", time=TIME, migration_id=MIGRATION, data=VALID_DATA[EventType.CONTROL]
    ).event
    assert list(jsonschema.Draft4Validator(schema).iter_errors(other)), "the schema would accept any event"


def test_approval_answers_with_the_approver_as_actor() -> None:
    actions = load(LOGICAPPS / "approval.json")["definition"]["actions"]
    ask = actions["Ask_for_approval"]
    assert ask["type"] == "ApiConnectionWebhook" and ask["inputs"]["path"] == "/approvalmail/$subscriptions"
    decide = actions["Approved"]
    approve = decide["actions"]["Approve_the_cutover"]["inputs"]
    reject = decide["else"]["actions"]["Reject_the_cutover"]["inputs"]
    assert approve["uri"].endswith("['approveUri']}") and reject["uri"].endswith("['rejectUri']}")
    for call in (approve, reject):
        assert set(call["body"]) == {"actor", "reason", "machines"}
        assert call["body"]["actor"] == "@{body('Ask_for_approval')?['UserEmailAddress']}"


# --- the validator catches what it is for -----------------------------------------------------------------


def _submit() -> dict[str, Any]:
    return copy.deepcopy(load(LOGICAPPS / "submit-and-wait.json"))


def _approval() -> dict[str, Any]:
    return copy.deepcopy(load(LOGICAPPS / "approval.json"))


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split("/")
    target = document
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return document


_DELETE = object()
START = "definition/actions/Start_and_wait_for_the_migration"
CHECK = "definition/actions/Check_the_final_status"
FAILED = "definition/actions/Migration_failed_or_was_refused"
Mutation = Callable[[], dict[str, Any]]

MUTATIONS: list[tuple[str, Mutation, str]] = [
    (
        "runAfter names a missing action",
        lambda: _set(_submit(), f"{CHECK}/runAfter", {"Start_the_migration": ["Succeeded"]}),
        "'Start_the_migration' is not an action in the same scope",
    ),
    (
        "runAfter names an action of another scope",
        lambda: _set(_submit(), f"{FAILED}/runAfter", {"Migrated": ["Succeeded"]}),
        "'Migrated' is not an action in the same scope",
    ),
    (
        "unknown runAfter status",
        lambda: _set(_submit(), f"{FAILED}/runAfter", {"Start_and_wait_for_the_migration": ["Errored"]}),
        "'Errored' does not match",
    ),
    (
        "a runAfter cycle",
        lambda: _set(_submit(), f"{START}/runAfter", {"Check_the_final_status": ["Succeeded"]}),
        "runAfter cycle",
    ),
    (
        "an action that runs after itself",
        lambda: _set(_submit(), f"{FAILED}/runAfter", {"Migration_failed_or_was_refused": ["Failed"]}),
        "an action cannot run after itself",
    ),
    (
        "unknown action type",
        lambda: _set(_submit(), f"{FAILED}/type", "Teleport"),
        "'Teleport' is not one of",
    ),
    (
        "Http without a uri",
        lambda: _set(_submit(), f"{START}/inputs/uri", _DELETE),
        "'uri' is a required property",
    ),
    (
        "managed identity without an audience",
        lambda: _set(_submit(), f"{START}/inputs/authentication/audience", _DELETE),
        "'audience' is a required property",
    ),
    (
        "If without a condition",
        lambda: _set(_submit(), f"{CHECK}/expression", _DELETE),
        "'expression' is a required property",
    ),
    (
        "a reference to a missing action",
        lambda: _set(_submit(), f"{FAILED}/inputs/runError/message", "@{body('Start_migration')}"),
        "body('Start_migration') names no action",
    ),
    (
        "a reference to an action that has not run yet",
        lambda: _set(_submit(), f"{FAILED}/inputs/runError/message", "@{outputs('Migrated')}"),
        "outputs('Migrated') has not run when 'Migration_failed_or_was_refused' runs",
    ),
    (
        "an undeclared parameter",
        lambda: _set(_submit(), f"{START}/inputs/uri", "@{parameters('functionUrl')}/api/migrations"),
        "parameters('functionUrl') is not declared",
    ),
    (
        "an unbalanced expression",
        lambda: _set(_submit(), f"{START}/inputs/uri", "@{concat(parameters('functionAppUrl'), '/api/migrations'}"),
        "unclosed '('",
    ),
    (
        "an unclosed interpolation",
        lambda: _set(_submit(), f"{START}/inputs/uri", "@{parameters('functionAppUrl')/api/migrations"),
        "an @{ interpolation is not closed",
    ),
    (
        "a missing $connections entry",
        lambda: _set(_approval(), "parameters/$connections/value/office365", _DELETE),
        "$connections['office365'] is not supplied",
    ),
    (
        "an unused connection",
        lambda: _set(
            _approval(), "parameters/$connections/value/teams", {"connectionId": "x", "connectionName": "t", "id": "y"}
        ),
        "parameters.$connections.teams: supplied but never used",
    ),
    (
        "a connection host that is not a $connections reference",
        lambda: _set(
            _approval(),
            "definition/actions/Ask_for_approval/inputs/host/connection/name",
            "/subscriptions/x/connections/office365",
        ),
        "does not match",
    ),
    (
        "a value for an undeclared parameter",
        lambda: _set(_submit(), "parameters/functionKey", {"value": "abc"}),
        "parameters.functionKey: a value for a parameter the definition does not declare",
    ),
    (
        "a declared parameter with neither default nor value",
        lambda: _set(_submit(), "parameters/functionAppUrl", _DELETE),
        "definition.parameters.functionAppUrl: no default and no value",
    ),
    (
        "a webhook that does not hand over its callback URL",
        lambda: _set(_approval(), "definition/actions/Ask_for_approval/inputs/body/NotificationUrl", "https://x"),
        "does not match",
    ),
    (
        "a Service Bus trigger without a recurrence",
        lambda: _set(_approval(), "definition/triggers/When_a_wave_awaits_approval/recurrence", _DELETE),
        "'recurrence' is a required property",
    ),
    (
        "two actions with one name",
        lambda: _set(
            _submit(),
            f"{CHECK}/else/actions/Migration_failed_or_was_refused",
            {"type": "Compose", "inputs": "x", "runAfter": {}},
        ),
        "the name is also used at",
    ),
    (
        "branches on a non-container action",
        lambda: _set(_submit(), f"{FAILED}/actions", {}),
        "should not be valid under",
    ),
]


@pytest.mark.parametrize(("mistake", "mutate", "message"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_the_validator_catches_a_broken_workflow(mistake: str, mutate: Mutation, message: str) -> None:
    problems = workflow_problems(mutate())
    assert problems, f"{mistake} went unnoticed"
    assert any(message in problem for problem in problems), problems


def test_statuses_are_compared_without_case() -> None:
    document = _set(_submit(), f"{FAILED}/runAfter", {"Start_and_wait_for_the_migration": ["FAILED", "timedout"]})
    assert workflow_problems(document) == []


# --- the template deploys exactly these definitions -------------------------------------------------------

LOGICAPPS_BICEP = INFRA / "app" / "logicapps.bicep"


def _deployed_workflows() -> dict[str, tuple[str, set[str]]]:
    """Workflow symbol → (definition file it loads, parameter names it supplies), read with pycep."""
    document = parsed(LOGICAPPS_BICEP)
    variables = {name: spec["value"] for name, spec in document["variables"].items()}
    result: dict[str, tuple[str, set[str]]] = {}
    for symbol, resource in document["resources"].items():
        if resource["type"] != "Microsoft.Logic/workflows":
            continue
        properties = unwrap(resource["config"])["properties"]
        load_call = variables[properties["definition"]]["function"]
        assert load_call["type"] == "load_json_content", symbol
        assert load_call["parameters"]["json_path"] == "$.definition", symbol
        supplied = {name.strip("'") for name in properties["parameters"]}
        result[symbol] = (Path(load_call["parameters"]["file_path"]).name, supplied)
    return result


def test_the_template_deploys_every_workflow_with_every_parameter() -> None:
    deployed = _deployed_workflows()
    assert sorted(file for file, _ in deployed.values()) == [path.name for path in WORKFLOWS]
    for symbol, (file, supplied) in deployed.items():
        declared = set(load(LOGICAPPS / file)["definition"].get("parameters", {}))
        assert supplied == declared, (
            f"{symbol} supplies {sorted(supplied)} for {file}, which declares {sorted(declared)}"
        )


def test_the_template_creates_the_connections_without_secrets() -> None:
    resources = parsed(LOGICAPPS_BICEP)["resources"]
    connections = {
        symbol: unwrap(resource["config"])["properties"]
        for symbol, resource in resources.items()
        if resource["type"] == "Microsoft.Web/connections"
    }
    assert set(connections) == {"serviceBusConnection", "office365Connection"}
    service_bus = connections["serviceBusConnection"]
    assert service_bus["parameterValueSet"]["name"] == "managedIdentityAuth"
    assert set(service_bus["parameterValueSet"]["values"]) == {"namespaceEndpoint"}
    assert "parameterValues" not in service_bus  # the connection-string form
    assert "parameterValues" not in connections["office365Connection"]
    assert "parameterValueSet" not in connections["office365Connection"]
