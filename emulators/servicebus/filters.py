"""Subscription rules: which topic messages a subscription receives.

Correlation filters are exact matches on system properties and application properties, all given
keys at once (Service Bus semantics). A subscription with no rules gets the ``$Default`` true
filter, so it receives everything. SQL filters are compiled by :mod:`sql_filter`; an expression
it cannot evaluate is refused when the config is loaded rather than silently matching nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emulators.servicebus.codec import MessageFacts
from emulators.servicebus.sql_filter import SqlFilterError, compile_sql_filter

Predicate = Callable[[MessageFacts], bool]
__all__ = ["Predicate", "SqlFilterError", "any_rule_matches", "compile_sql_filter", "correlation_filter"]


def _same(expected: Any, actual: Any) -> bool:
    if actual is None:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(expected is actual or expected == actual) and type(expected) is type(actual)
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    return str(expected) == str(actual)


def correlation_filter(
    *,
    system: dict[str, str | None],
    properties: dict[str, Any] | None,
) -> Predicate:
    """Build a predicate from the non-null correlation filter fields.

    ``system`` maps :class:`MessageFacts` attribute names (``subject`` for ``Label``) to expected values.
    """
    wanted_system = {name: value for name, value in system.items() if value is not None}
    wanted_properties = dict(properties or {})

    def matches(facts: MessageFacts) -> bool:
        for name, value in wanted_system.items():
            if getattr(facts, name) != value:
                return False
        for name, value in wanted_properties.items():
            if not _same(value, facts.application_properties.get(name)):
                return False
        return True

    return matches


def any_rule_matches(rules: Sequence[Predicate], facts: MessageFacts) -> bool:
    """A subscription receives a message when at least one of its rules matches (no rules: all)."""
    if not rules:
        return True
    return any(rule(facts) for rule in rules)
