"""Entity configuration in the schema of Microsoft's Service Bus emulator (``Config.json``).

One file drives both this emulator and Microsoft's Docker emulator, so the model accepts exactly
that schema (PascalCase keys, ISO 8601 durations, the same bounds) and refuses anything else with
an error naming the path of each problem, e.g.
``UserConfig.Namespaces[0].Queues[1].Properties.LockDuration: below the minimum PT5S``.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from emulators.servicebus.filters import SqlFilterError, compile_sql_filter

NAMESPACE_NAME = "sbemulatorns"
ENTITY_NAME_PATTERN = re.compile(r"^[A-Za-z0-9]$|^[A-Za-z0-9][\w\-./]*[A-Za-z0-9]$")
MAX_ENTITIES = 50
_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class ConfigError(ValueError):
    """A configuration file that cannot drive the emulator; ``problems`` lists ``path: reason`` lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid Service Bus emulator config:\n  " + "\n  ".join(problems))


def parse_duration(text: str) -> timedelta:
    """Parse the ISO 8601 durations Config.json uses (``PT1M``, ``PT30S``, ``P1DT2H``)."""
    match = _DURATION.match(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT1M or PT30S")
    parts = {name: float(value) for name, value in match.groupdict().items() if value is not None}
    return timedelta(**parts)


def _bounded(value: str, low: str, high: str | None) -> timedelta:
    duration = parse_duration(value)
    if duration < parse_duration(low):
        raise ValueError(f"{value} is below the minimum {low}")
    if high is not None and duration > parse_duration(high):
        raise ValueError(f"{value} is above the maximum {high}")
    return duration


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def _entity_name(value: str) -> str:
    if not ENTITY_NAME_PATTERN.match(value):
        raise ValueError(f"{value!r} is not a valid entity name (letters, digits, '-', '_', '.', '/')")
    return value


EntityName = Annotated[str, Field(min_length=1, max_length=260), AfterValidator(_entity_name)]


class QueueProperties(_Model):
    """Queue settings with the emulator's defaults and bounds."""

    dead_lettering_on_message_expiration: bool = Field(False, alias="DeadLetteringOnMessageExpiration")
    default_message_time_to_live: str = Field("PT1H", alias="DefaultMessageTimeToLive")
    duplicate_detection_history_time_window: str = Field("PT20S", alias="DuplicateDetectionHistoryTimeWindow")
    forward_dead_lettered_messages_to: str = Field("", alias="ForwardDeadLetteredMessagesTo")
    forward_to: str = Field("", alias="ForwardTo")
    lock_duration: str = Field("PT1M", alias="LockDuration")
    max_delivery_count: int = Field(3, alias="MaxDeliveryCount", ge=1, le=10)
    requires_duplicate_detection: bool = Field(False, alias="RequiresDuplicateDetection")
    requires_session: bool = Field(False, alias="RequiresSession")

    @field_validator("default_message_time_to_live")
    @classmethod
    def _ttl(cls, value: str) -> str:
        _bounded(value, "PT5M", "PT1H")
        return value

    @field_validator("duplicate_detection_history_time_window")
    @classmethod
    def _window(cls, value: str) -> str:
        _bounded(value, "PT5S", "PT5M")
        return value

    @field_validator("lock_duration")
    @classmethod
    def _lock(cls, value: str) -> str:
        _bounded(value, "PT5S", "PT5M")
        return value

    @field_validator("requires_session")
    @classmethod
    def _no_sessions(cls, value: bool) -> bool:
        if value:
            raise ValueError("sessions are not supported by this emulator; set RequiresSession to false")
        return value


class Queue(_Model):
    name: EntityName = Field(alias="Name")
    properties: QueueProperties = Field(default_factory=lambda: QueueProperties.model_validate({}), alias="Properties")


class TopicProperties(_Model):
    default_message_time_to_live: str = Field("PT1H", alias="DefaultMessageTimeToLive")
    duplicate_detection_history_time_window: str = Field("PT20S", alias="DuplicateDetectionHistoryTimeWindow")
    requires_duplicate_detection: bool = Field(False, alias="RequiresDuplicateDetection")

    @field_validator("default_message_time_to_live")
    @classmethod
    def _ttl(cls, value: str) -> str:
        _bounded(value, "PT5M", "PT1H")
        return value

    @field_validator("duplicate_detection_history_time_window")
    @classmethod
    def _window(cls, value: str) -> str:
        _bounded(value, "PT5S", "PT5M")
        return value


class SubscriptionProperties(_Model):
    dead_lettering_on_message_expiration: bool = Field(False, alias="DeadLetteringOnMessageExpiration")
    default_message_time_to_live: str = Field("PT1H", alias="DefaultMessageTimeToLive")
    lock_duration: str = Field("PT1M", alias="LockDuration")
    max_delivery_count: int = Field(3, alias="MaxDeliveryCount", ge=1, le=10)
    forward_dead_lettered_messages_to: str = Field("", alias="ForwardDeadLetteredMessagesTo")
    forward_to: str = Field("", alias="ForwardTo")
    requires_session: bool = Field(False, alias="RequiresSession")

    @field_validator("default_message_time_to_live")
    @classmethod
    def _ttl(cls, value: str) -> str:
        _bounded(value, "PT5M", "PT1H")
        return value

    @field_validator("lock_duration")
    @classmethod
    def _lock(cls, value: str) -> str:
        _bounded(value, "PT1M", "PT5M")
        return value

    @field_validator("requires_session")
    @classmethod
    def _no_sessions(cls, value: bool) -> bool:
        if value:
            raise ValueError("sessions are not supported by this emulator; set RequiresSession to false")
        return value


class CorrelationFilter(_Model):
    """Exact-match filter on system properties and application properties (all given keys must match)."""

    content_type: str | None = Field(None, alias="ContentType")
    correlation_id: str | None = Field(None, alias="CorrelationId")
    label: str | None = Field(None, alias="Label")
    message_id: str | None = Field(None, alias="MessageId")
    reply_to: str | None = Field(None, alias="ReplyTo")
    reply_to_session_id: str | None = Field(None, alias="ReplyToSessionId")
    session_id: str | None = Field(None, alias="SessionId")
    to: str | None = Field(None, alias="To")
    properties: dict[str, str | int | float | bool] | None = Field(None, alias="Properties")

    @model_validator(mode="after")
    def _not_empty(self) -> CorrelationFilter:
        if self.properties is not None and not self.properties:
            raise ValueError("Properties must hold at least one application property")
        if all(value is None for value in self.model_dump().values()):
            raise ValueError("a correlation filter needs at least one property to match")
        return self


class SqlExpression(_Model):
    sql_expression: str = Field(alias="SqlExpression", min_length=1)


class RuleProperties(_Model):
    filter_type: Literal["Correlation", "Sql"] = Field(alias="FilterType")
    correlation_filter: CorrelationFilter | None = Field(None, alias="CorrelationFilter")
    sql_filter: SqlExpression | None = Field(None, alias="SqlFilter")
    action: SqlExpression | None = Field(None, alias="Action")

    @model_validator(mode="after")
    def _matching_filter(self) -> RuleProperties:
        if self.filter_type == "Correlation" and self.correlation_filter is None:
            raise ValueError("FilterType Correlation needs a CorrelationFilter")
        if self.filter_type == "Sql" and self.sql_filter is None:
            raise ValueError("FilterType Sql needs a SqlFilter")
        if self.action is not None:
            raise ValueError("rule actions are not supported by this emulator; remove Action")
        return self


class Rule(_Model):
    name: str = Field(alias="Name", min_length=1, max_length=50)
    properties: RuleProperties = Field(alias="Properties")


class Subscription(_Model):
    name: EntityName = Field(alias="Name")
    properties: SubscriptionProperties = Field(
        default_factory=lambda: SubscriptionProperties.model_validate({}), alias="Properties"
    )
    rules: list[Rule] = Field(default_factory=list, alias="Rules", max_length=1000)


class Topic(_Model):
    name: EntityName = Field(alias="Name")
    properties: TopicProperties = Field(default_factory=lambda: TopicProperties.model_validate({}), alias="Properties")
    subscriptions: list[Subscription] = Field(alias="Subscriptions", min_length=1, max_length=50)


class Namespace(_Model):
    name: Literal["sbemulatorns"] = Field(alias="Name")
    queues: list[Queue] = Field(alias="Queues")
    topics: list[Topic] = Field(alias="Topics")


class Logging(_Model):
    type: Literal["File", "Console", "File,Console", "Console,File"] = Field(alias="Type")


class UserConfig(_Model):
    namespaces: list[Namespace] = Field(alias="Namespaces", min_length=1, max_length=1)
    logging: Logging = Field(alias="Logging")


class EmulatorConfig(_Model):
    """The whole file: ``{"UserConfig": {"Namespaces": [...], "Logging": {...}}}``."""

    user_config: UserConfig = Field(alias="UserConfig")

    @property
    def namespace(self) -> Namespace:
        return self.user_config.namespaces[0]


def _format_location(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text or "(root)"


def _cross_entity_problems(config: EmulatorConfig) -> list[str]:
    """Checks a field validator cannot make: unique names, entity count, forwarding targets."""
    namespace = config.namespace
    problems: list[str] = []
    base = "UserConfig.Namespaces[0]"
    seen: dict[str, str] = {}
    named = [("Queues", i, q.name) for i, q in enumerate(namespace.queues)]
    named += [("Topics", i, t.name) for i, t in enumerate(namespace.topics)]
    for kind, index, name in named:
        key = name.lower()
        if key in seen:
            problems.append(f"{base}.{kind}[{index}].Name: {name!r} is already used by {seen[key]}")
        else:
            seen[key] = f"{base}.{kind}[{index}]"
    if len(namespace.queues) + len(namespace.topics) > MAX_ENTITIES:
        problems.append(f"{base}: at most {MAX_ENTITIES} queues and topics together")
    for t_index, topic in enumerate(namespace.topics):
        names: set[str] = set()
        for s_index, subscription in enumerate(topic.subscriptions):
            if subscription.name.lower() in names:
                problems.append(
                    f"{base}.Topics[{t_index}].Subscriptions[{s_index}].Name: {subscription.name!r} is used twice"
                )
            names.add(subscription.name.lower())
            rule_names: set[str] = set()
            for r_index, rule in enumerate(subscription.rules):
                if rule.name.lower() in rule_names:
                    problems.append(
                        f"{base}.Topics[{t_index}].Subscriptions[{s_index}].Rules[{r_index}].Name: "
                        f"{rule.name!r} is used twice"
                    )
                rule_names.add(rule.name.lower())
    forwarders: list[tuple[str, str, str]] = []
    for index, queue in enumerate(namespace.queues):
        path = f"{base}.Queues[{index}].Properties"
        forwarders.append((f"{path}.ForwardTo", queue.name, queue.properties.forward_to))
        forwarders.append(
            (f"{path}.ForwardDeadLetteredMessagesTo", queue.name, queue.properties.forward_dead_lettered_messages_to)
        )
    for t_index, topic in enumerate(namespace.topics):
        for s_index, subscription in enumerate(topic.subscriptions):
            path = f"{base}.Topics[{t_index}].Subscriptions[{s_index}].Properties"
            forwarders.append((f"{path}.ForwardTo", subscription.name, subscription.properties.forward_to))
            forwarders.append(
                (
                    f"{path}.ForwardDeadLetteredMessagesTo",
                    subscription.name,
                    subscription.properties.forward_dead_lettered_messages_to,
                )
            )
    for path, source, target in forwarders:
        if not target:
            continue
        if target.lower() not in seen:
            problems.append(f"{path}: {target!r} is not a queue or topic in this namespace")
        elif target.lower() == source.lower() and path.startswith(f"{base}.Queues"):
            problems.append(f"{path}: a queue cannot forward to itself")
    for t_index, topic in enumerate(namespace.topics):
        for s_index, subscription in enumerate(topic.subscriptions):
            for r_index, rule in enumerate(subscription.rules):
                if rule.properties.sql_filter is None:
                    continue
                try:
                    compile_sql_filter(rule.properties.sql_filter.sql_expression)
                except SqlFilterError as error:
                    problems.append(
                        f"{base}.Topics[{t_index}].Subscriptions[{s_index}].Rules[{r_index}]"
                        f".Properties.SqlFilter.SqlExpression: {error}"
                    )
    return problems


def parse_config(document: Any, source: str = "config") -> EmulatorConfig:
    """Validate an already-decoded Config.json document; raise :class:`ConfigError` listing every problem."""
    try:
        config = EmulatorConfig.model_validate(document)
    except ValidationError as error:
        problems = [
            f"{_format_location(tuple(item['loc']))}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors()
        ]
        raise ConfigError(source, problems) from None
    problems = _cross_entity_problems(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def load_config(path: str | Path) -> EmulatorConfig:
    """Read and validate a Config.json file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(str(file), [f"(file): cannot read: {error.strerror or error}"]) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            str(file), [f"(file): not JSON: {error.msg} at line {error.lineno} column {error.colno}"]
        ) from None
    return parse_config(document, str(file))
