"""What the entry points accept and refuse (``migration.api_requests``), including property-based checks.

The property tests feed arbitrary bytes, JSON values and mutated plans to the same functions the HTTP routes and
Service Bus triggers call: every input either yields a plan that validates, or an ApiError with a 4xx status and a
message; nothing else escapes, and no invalid plan becomes a start request.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migration.api_requests import (
    MAX_BODY_BYTES,
    ApiError,
    check_json_content_type,
    decode_json,
    parse_control_body,
    parse_idempotency_key,
    plan_sha256,
    prepare_start,
)
from migration.errors import PlanValidationError
from migration.plan import validate_plan
from tests.triggers.stack import small_plan

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
SUBSCRIPTION = "/subscriptions/00000000-1111-2222-3333-444444444444"  # the example topology's
ENV = {
    "MIGRATION_CLOCK_SPEED": "60",
    "CALLBACK_ALLOWED_HOSTS": "https://192.0.2.7:8443",
    "ASR_ALLOWED_TARGET_SCOPES": SUBSCRIPTION,
}


def start(data: Any, **kwargs: Any) -> Any:
    return prepare_start(data, via="http", now=NOW, environ=ENV, **kwargs)


def test_a_valid_plan_becomes_the_wave_input() -> None:
    request = start(small_plan("wave-a"), idempotency_key="key-1")
    assert request.instance_id == "migration~wave-a"
    assert request.input["plan"]["id"] == "wave-a"
    assert request.input["clock"]["speed"] == 60.0
    assert request.input["idempotencyKey"] == "key-1" and request.input["submittedVia"] == "http"
    assert request.sha256 == plan_sha256(request.plan)


def test_the_fingerprint_ignores_spelling_but_not_content() -> None:
    plan = small_plan("wave-b")
    same = json.loads(json.dumps(plan))
    same["groups"][0]["machines"][0] = dict(reversed(list(same["groups"][0]["machines"][0].items())))
    assert start(plan).sha256 == start(same).sha256
    other = copy.deepcopy(plan)
    other["name"] = "renamed"
    assert start(plan).sha256 != start(other).sha256


def test_overrides_replace_the_id_and_the_callback() -> None:
    callback = "https://192.0.2.7:8443/cb?sig=x"  # allowed by the explicit origin in ENV
    request = start(small_plan("wave-c"), overrides={"id": "wave-d", "callbackUrl": callback})
    assert request.plan.id == "wave-d" and request.instance_id == "migration~wave-d"
    assert request.input["plan"]["callbackUrl"] == callback


def test_a_callback_off_the_allow_list_is_a_plan_problem_at_callback_url() -> None:
    with pytest.raises(ApiError) as refused:
        start(small_plan("wave-e"), overrides={"callbackUrl": "https://example.com/cb?sig=x"})
    assert refused.value.status == 400 and refused.value.code == "InvalidPlan"
    assert [d["path"] for d in refused.value.details] == ["callbackUrl"]
    assert "not on the callback allow list" in refused.value.details[0]["message"]


def test_a_malformed_allow_list_is_the_servers_fault() -> None:
    with pytest.raises(RuntimeError, match="CALLBACK_ALLOWED_HOSTS entry"):
        prepare_start(
            {**small_plan("wave-f"), "callbackUrl": "https://x.logic.azure.com/cb"},
            via="http",
            now=NOW,
            environ={**ENV, "CALLBACK_ALLOWED_HOSTS": "10.0.0.1"},
        )


def test_an_invalid_plan_lists_every_problem_by_path() -> None:
    plan = small_plan("wave-e")
    plan["groups"][0]["machines"][0]["target"]["networkId"] = "nope"
    plan["options"]["maxParallel"] = 0
    with pytest.raises(ApiError) as caught:
        start(plan)
    error = caught.value
    assert (error.status, error.code) == (400, "InvalidPlan")
    paths = {d["path"] for d in error.details}
    assert {"groups[0].machines[0].target.networkId", "options.maxParallel"} <= paths
    assert error.to_dict()["error"]["details"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"", 400, "EmptyBody"),
        (b"\xff\xfe", 400, "InvalidEncoding"),
        (b'{"a": ', 400, "InvalidJson"),
        (b'{"a": NaN}', 400, "InvalidJson"),
        (b"[" * 100_000, 400, "InvalidJson"),
        (b" " * (MAX_BODY_BYTES + 1), 413, "PayloadTooLarge"),
    ],
)
def test_bodies_that_are_not_json_are_refused_with_a_reason(body: bytes, status: int, code: str) -> None:
    with pytest.raises(ApiError) as caught:
        decode_json(body)
    assert (caught.value.status, caught.value.code) == (status, code)


def test_json_errors_say_where() -> None:
    with pytest.raises(ApiError, match="line 2 column"):
        decode_json(b'{"id": "x",\n oops}')


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/xml", "application/jsonx"])
def test_only_json_is_accepted(content_type: str | None) -> None:
    with pytest.raises(ApiError) as caught:
        check_json_content_type(content_type)
    assert caught.value.status == 415


def test_json_with_a_charset_is_accepted() -> None:
    check_json_content_type("Application/JSON; charset=utf-8")


@pytest.mark.parametrize("key", ["a", "req-1", "3f2a6c1e-0b1d-4a8e-9d52-1f7e2c3b4a5d", "msg:42.x_y"])
def test_idempotency_keys(key: str) -> None:
    assert parse_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["-a", "a-", "has space", "x" * 129, "ü", "a/b"])
def test_bad_idempotency_keys_are_refused(key: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_idempotency_key(key)
    assert caught.value.code == "InvalidIdempotencyKey"


def test_control_commands() -> None:
    command = parse_control_body(
        "approve", {"actor": " ops ", "reason": "CAB-1", "machines": ["db01"]}, command_id=None
    )
    assert command.payload()["actor"] == "ops" and command.machines == ["db01"] and command.id
    window = {"notBefore": "2026-11-28T22:00:00Z", "notAfter": "2026-11-29T02:00:00Z"}
    postponed = parse_control_body("postpone", {"actor": "a", "reason": "b", "window": window}, command_id="c-1")
    assert postponed.window == {"notBefore": "2026-11-28T22:00:00+00:00", "notAfter": "2026-11-29T02:00:00+00:00"}
    assert postponed.id == "c-1"


@pytest.mark.parametrize(
    ("action", "body", "path"),
    [
        ("approve", {"reason": "r"}, "actor"),
        ("approve", {"actor": "a", "reason": ""}, "reason"),
        ("approve", {"actor": "a" * 201, "reason": "r"}, "actor"),
        ("cancel", {"actor": "a", "reason": "r", "machines": "db01"}, "machines"),
        ("cancel", {"actor": "a", "reason": "r", "machines": ["ok", "bad name"]}, "machines[1]"),
        ("postpone", {"actor": "a", "reason": "r"}, "window"),
        ("postpone", {"actor": "a", "reason": "r", "window": {"notBefore": "2026-11-28T22:00:00"}}, "window.notBefore"),
        (
            "postpone",
            {
                "actor": "a",
                "reason": "r",
                "window": {"notBefore": "2026-11-29T00:00Z", "notAfter": "2026-11-28T00:00Z"},
            },
            "window.notAfter",
        ),
        ("retry", {"actor": "a", "reason": "r", "window": {}}, "window"),
        ("approve", {"actor": "a", "reason": "r", "extra": 1}, "extra"),
    ],
)
def test_bad_commands_name_the_field(action: str, body: dict[str, Any], path: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_control_body(action, body, command_id=None)
    assert caught.value.status == 400
    assert path in [d["path"] for d in caught.value.details]


# -- properties ---------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_json_or_a_400(body: bytes) -> None:
    try:
        decode_json(body)
    except ApiError as error:
        assert error.status == 400 and error.message


def _assert_start_or_refusal(data: Any) -> None:
    try:
        request = start(data)
    except ApiError as error:
        assert error.status == 400 and error.code == "InvalidPlan" and error.message
        return
    validate_plan(request.input["plan"])  # what is started is a valid plan


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_is_a_plan_or_a_refusal(data: Any) -> None:
    _assert_start_or_refusal(data)


_PLAN = small_plan("prop-wave")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


_ALL_PATHS = _paths(_PLAN)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_ALL_PATHS), json_values), min_size=1, max_size=3))
def test_a_mutated_plan_starts_only_if_it_still_validates(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    plan = copy.deepcopy(_PLAN)
    for path, value in mutations:
        target: Any = plan
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        validate_plan(plan)
        valid = True
    except PlanValidationError:
        valid = False
    try:
        start(plan)
        started = True
    except ApiError as error:
        assert error.status == 400 and error.details, error
        started = False
    assert started == valid


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("actor", "ops\u202enimda", "holds the bidirectional control U+202E at position 3"),
        ("actor", "ops\nadmin", "holds the control character U+000A at position 3"),
        ("reason", "ok\x1b]0;pwned\x07", "holds the control character U+001B at position 2"),
    ],
)
def test_a_command_refuses_control_and_bidirectional_characters(field: str, value: str, message: str) -> None:
    body = {"actor": "ops", "reason": "window agreed", field: value}
    with pytest.raises(ApiError) as refused:
        parse_control_body("approve", body, command_id="c-1")
    assert refused.value.details == [{"path": field, "message": message}]


def test_a_reason_may_span_lines() -> None:
    command = parse_control_body(
        "cancel", {"actor": "ops", "reason": "change CHG-1\n\tagreed with the owner"}, command_id="c-2"
    )
    assert command.reason == "change CHG-1\n\tagreed with the owner"


def test_a_target_outside_the_allowed_scopes_is_refused_by_path() -> None:
    plan = small_plan("wave-g", "db01", "web01")
    machines = [
        (g, m, machine) for g, group in enumerate(plan["groups"]) for m, machine in enumerate(group["machines"])
    ]
    machines[1][2]["target"]["resourceGroupId"] = f"{SUBSCRIPTION}/resourceGroups/rg-elsewhere"
    groups = [machine["target"]["resourceGroupId"] for _, _, machine in machines]
    fenced = {**ENV, "ASR_ALLOWED_TARGET_SCOPES": groups[0].upper()}  # ARM ids are case-insensitive
    with pytest.raises(ApiError) as refused:
        prepare_start(plan, via="http", now=NOW, environ=fenced)
    g, m, _ = machines[1]
    assert refused.value.code == "InvalidPlan"
    assert [d["path"] for d in refused.value.details] == [f"groups[{g}].machines[{m}].target.resourceGroupId"]
    assert "outside ASR_ALLOWED_TARGET_SCOPES" in refused.value.details[0]["message"]
    both = {**ENV, "ASR_ALLOWED_TARGET_SCOPES": ",".join(groups)}
    assert prepare_start(plan, via="http", now=NOW, environ=both).plan.id == "wave-g"


def test_no_target_scope_allows_no_target() -> None:
    with pytest.raises(ApiError) as refused:
        prepare_start(small_plan("wave-h", "db01"), via="http", now=NOW, environ={"MIGRATION_CLOCK_SPEED": "60"})
    assert [d["path"] for d in refused.value.details] == ["groups[0].machines[0].target.resourceGroupId"]


@pytest.mark.parametrize(
    "scope", ["subscriptions/x", "/subscriptions/", "/subscriptions/x/resourceGroups", "/providers/y"]
)
def test_a_malformed_target_scope_is_the_servers_fault(scope: str) -> None:
    with pytest.raises(RuntimeError, match="ASR_ALLOWED_TARGET_SCOPES"):
        prepare_start(
            small_plan("wave-i", "db01"), via="http", now=NOW, environ={**ENV, "ASR_ALLOWED_TARGET_SCOPES": scope}
        )
