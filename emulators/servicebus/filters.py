"""Subscription rules: which topic messages a subscription receives.

Correlation filters are exact matches on system properties and application properties, all given
keys at once (Service Bus semantics). A subscription with no rules gets the ``$Default`` true
filter, so it receives everything. Of SQL filters, only the constant forms Service Bus itself
uses for ``TrueFilter`` and ``FalseFilter`` (``1=1``, ``1=0``) are understood; any other
expression is refused when the config is loaded rather than silently matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from emulators.servicebus.codec import MessageFacts

Predicate = Callable[[MessageFacts], bool]
_CONSTANT = re.compile(r"^\s*\(?\s*1\s*=\s*(?P<right>[01])\s*\)?\s*$")


class SqlFilterError(ValueError):
    """A SQL filter expression this emulator cannot evaluate."""


def compile_sql_filter(expression: str) -> Predicate:
    match = _CONSTANT.match(expression)
    if match is None:
        raise SqlFilterError(
            f"only the constant SQL filters '1=1' (true) and '1=0' (false) are supported, not {expression!r}; "
            "use a Correlation filter"
        )
    result = match.group("right") == "1"
    return lambda _facts: result


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
