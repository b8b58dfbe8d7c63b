"""The Config.json loader: the shipped file loads, and every bad input is refused with its path."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from emulators.servicebus import DEFAULT_CONFIG, ConfigError, load_config, parse_config
from emulators.servicebus.config import parse_duration
from tests.emulators.servicebus.conftest import TEST_CONFIG


def _with(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(TEST_CONFIG)
    change(document["UserConfig"]["Namespaces"][0])
    return document


def _problems(document: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(document)
    return caught.value.problems


def test_the_shipped_config_has_the_entities_the_project_needs() -> None:
    namespace = load_config(DEFAULT_CONFIG).namespace
    assert [q.name for q in namespace.queues] == ["migration-requests", "migration-control"]
    (topic,) = namespace.topics
    assert topic.name == "migration-events"
    assert topic.properties.requires_duplicate_detection is True
    subscriptions = {s.name: s for s in topic.subscriptions}
    assert set(subscriptions) == {"all-events", "final-results", "approvals"}
    assert subscriptions["all-events"].rules == []
    (approval_rule,) = subscriptions["approvals"].rules
    assert approval_rule.properties.correlation_filter is not None
    assert approval_rule.properties.correlation_filter.properties == {"eventType": "migration.awaiting_approval"}


def test_defaults_follow_microsofts_emulator_schema() -> None:
    document = _with(lambda ns: ns.update(Queues=[{"Name": "q"}], Topics=[]))
    queue = parse_config(document).namespace.queues[0].properties
    assert (queue.lock_duration, queue.max_delivery_count, queue.default_message_time_to_live) == ("PT1M", 3, "PT1H")
    assert queue.duplicate_detection_history_time_window == "PT20S"
    assert queue.requires_duplicate_detection is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [("PT1M", timedelta(minutes=1)), ("PT30S", timedelta(seconds=30)), ("P1DT2H", timedelta(days=1, hours=2))],
)
def test_iso_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "1M", "PT1X", "P1H"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda ns: ns["Queues"][1]["Properties"].update(LockDuration="PT1S"),
            "UserConfig.Namespaces[0].Queues[1].Properties.LockDuration: PT1S is below the minimum PT5S",
        ),
        (
            lambda ns: ns["Queues"][0]["Properties"].update(MaxDeliveryCount=11),
            "UserConfig.Namespaces[0].Queues[0].Properties.MaxDeliveryCount: Input should be less than or equal to 10",
        ),
        (
            lambda ns: ns["Queues"][0]["Properties"].update(DefaultMessageTimeToLive="P1D"),
            "UserConfig.Namespaces[0].Queues[0].Properties.DefaultMessageTimeToLive: P1D is above the maximum PT1H",
        ),
        (
            lambda ns: ns["Queues"][0]["Properties"].update(ForwardTo="nowhere"),
            "UserConfig.Namespaces[0].Queues[0].Properties.ForwardTo: 'nowhere' is not a queue or topic",
        ),
        (
            lambda ns: ns["Queues"][0]["Properties"].update(ForwardTo="plain"),
            "UserConfig.Namespaces[0].Queues[0].Properties.ForwardTo: a queue cannot forward to itself",
        ),
        (
            lambda ns: ns["Queues"].append({"Name": "PLAIN"}),
            "UserConfig.Namespaces[0].Queues[5].Name: 'PLAIN' is already used by UserConfig.Namespaces[0].Queues[0]",
        ),
        (
            lambda ns: ns["Queues"].append({"Name": "-bad"}),
            "UserConfig.Namespaces[0].Queues[5].Name: '-bad' is not a valid entity name",
        ),
        (lambda ns: ns.update(Name="other"), "UserConfig.Namespaces[0].Name: Input should be 'sbemulatorns'"),
        (
            lambda ns: ns["Queues"][0]["Properties"].update(RequiresSession=True),
            "UserConfig.Namespaces[0].Queues[0].Properties.RequiresSession: sessions are not supported",
        ),
        (
            lambda ns: ns["Queues"][0]["Properties"].update(Unknown=1),
            "UserConfig.Namespaces[0].Queues[0].Properties.Unknown: Extra inputs are not permitted",
        ),
        (
            lambda ns: ns["Topics"][0]["Subscriptions"][1]["Rules"][0]["Properties"].update(CorrelationFilter={}),
            "UserConfig.Namespaces[0].Topics[0].Subscriptions[1].Rules[0].Properties.CorrelationFilter: "
            "a correlation filter needs at least one property",
        ),
        (
            lambda ns: ns["Topics"][0]["Subscriptions"][3]["Rules"][0]["Properties"].update(
                SqlFilter={"SqlExpression": "sys.Nonsense = 'Failed'"}
            ),
            "UserConfig.Namespaces[0].Topics[0].Subscriptions[3].Rules[0].Properties.SqlFilter.SqlExpression: "
            "sys.Nonsense is not a system property",
        ),
        (
            lambda ns: ns["Topics"][0].update(Subscriptions=[]),
            "UserConfig.Namespaces[0].Topics[0].Subscriptions: List should have at least 1 item",
        ),
    ],
)
def test_each_problem_is_reported_with_its_path(change: Any, expected: str) -> None:
    problems = _problems(_with(change))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_every_problem_is_listed_at_once() -> None:
    def break_twice(ns: dict[str, Any]) -> None:
        ns["Queues"][0]["Properties"]["LockDuration"] = "PT1S"
        ns["Queues"][1]["Properties"]["MaxDeliveryCount"] = 0

    assert len(_problems(_with(break_twice))) == 2


def test_unreadable_files_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not JSON"):
        load_config(broken)
    valid = tmp_path / "valid.json"
    valid.write_text(json.dumps(TEST_CONFIG), encoding="utf-8")
    assert load_config(valid).namespace.name == "sbemulatorns"
