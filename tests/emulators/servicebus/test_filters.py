"""Subscription rule filters: correlation equality and the SQL filter subset, on decoded message facts."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.servicebus.codec import MessageFacts
from emulators.servicebus.filters import SqlFilterError, any_rule_matches, compile_sql_filter, correlation_filter


def _facts(**properties: Any) -> MessageFacts:
    return MessageFacts(message_id="m-1", subject="Migration.Completed", application_properties=properties)


EVENT = _facts(eventType="migration.completed", status="Failed", machines=12, ratio=0.5, urgent=True)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1=1", True),
        ("1=0", False),
        ("eventType = 'migration.completed'", True),
        ("user.eventType = 'migration.completed' AND status = 'Failed'", True),
        ("status = 'Ok' OR machines > 10", True),
        ("NOT status = 'Failed'", False),
        ("missing = 'x'", False),
        ("NOT missing = 'x'", False),  # unknown stays unknown
        ("missing IS NULL AND status IS NOT NULL", True),
        ("EXISTS(status) AND NOT EXISTS(missing)", True),
        ("status IN ('Failed', 'Cancelled')", True),
        ("status NOT IN ('Failed', 'Cancelled')", False),
        ("eventType LIKE 'migration.%'", True),
        ("eventType LIKE 'migration._ompleted'", True),
        ("eventType NOT LIKE '%awaiting%'", True),
        ("[eventType] LIKE 'migration!%%' ESCAPE '!'", False),
        ("machines * 2 + 1 = 25 AND machines % 5 = 2", True),
        ("ratio < 1 AND -machines < 0", True),
        ("urgent = TRUE", True),
        ("sys.Label = 'Migration.Completed' AND sys.MessageId = 'm-1'", True),
        ("sys.label = 'migration.completed'", False),  # values compare case-sensitively
        ("(status = 'Failed' OR status = 'Ok') AND (machines >= 12)", True),
        ("it''s = 'x'", None),
    ],
)
def test_sql_filters(expression: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(SqlFilterError):
            compile_sql_filter(expression)
        return
    assert compile_sql_filter(expression)(EVENT) is expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("status =", "unexpected"),
        ("status = 'x' AND", "unexpected"),
        ("sys.Nothing = 1", "not a system property"),
        ("newid() = 1", "not supported"),
        ("status LIKE 5", "quoted pattern"),
        ("(status = 'x'", r"expected '\)'"),
        ("status = 'x' extra", "after the end"),
        ("status ~ 'x'", "unexpected character"),
    ],
)
def test_bad_sql_is_refused_with_the_reason(expression: str, reason: str) -> None:
    with pytest.raises(SqlFilterError, match=reason):
        compile_sql_filter(expression)


def test_correlation_filter_needs_every_given_field() -> None:
    rule = correlation_filter(system={"subject": "Migration.Completed"}, properties={"status": "Failed"})
    assert rule(EVENT)
    assert not rule(MessageFacts(subject="Other", application_properties={"status": "Failed"}))
    assert not correlation_filter(system={}, properties={"machines": 13})(EVENT)
    assert correlation_filter(system={}, properties={"machines": 12})(EVENT)


def test_no_rules_means_everything_and_any_rule_is_enough() -> None:
    assert any_rule_matches([], EVENT)
    assert any_rule_matches([compile_sql_filter("1=0"), compile_sql_filter("1=1")], EVENT)
    assert not any_rule_matches([compile_sql_filter("1=0")], EVENT)
