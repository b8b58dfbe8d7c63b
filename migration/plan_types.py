"""Building blocks of the plan model: the camelCase base model and the checked scalar types.

The plan travels as JSON (HTTP, Service Bus) or YAML (files), in camelCase; Python code
uses snake_case. :class:`PlanModel` maps one onto the other with pydantic aliases,
forbids unknown keys (a typo such as ``tagetNetworkId`` must not be silently ignored)
and freezes instances (a validated plan is a value, handed to many activities).

Every custom check raises :class:`pydantic_core.PydanticCustomError`, so the message a
user reads is the reason itself, without pydantic's "Value error," prefix.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.alias_generators import to_camel, to_snake
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, ValidationError, core_schema

from migration.arm_ids import InvalidResourceIdError, ResourceId, parse_resource_id
from migration.plain_text import text_problem

__all__ = [
    "PlanModel",
    "Slug",
    "MachineName",
    "ResourceName",
    "SubscriptionId",
    "ResourceGroupName",
    "UtcDatetime",
    "CallbackUrl",
    "arm_id",
    "check_arm_id",
    "resource_group_id",
    "DurationBounds",
    "ScriptUrl",
    "format_duration",
    "field_error",
    "Pattern",
]


class PlanModel(BaseModel):
    """Base of every plan model: camelCase on the wire, snake_case in code, no unknown keys, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
    )


def _error(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def field_error(model: BaseModel, field: str, kind: str, message: str) -> ValidationError:
    """An error pinned to one field of ``model`` (wire spelling), for rules that compare several fields.

    Raised from an after-validator, its location is the field's own (``options.cutoverWindow.notAfter``)
    rather than the model's, so the user is pointed at the value to change.
    """
    value = getattr(model, to_snake(field), None)
    return ValidationError.from_exception_data(
        type(model).__name__, [{"type": PydanticCustomError(kind, message), "loc": (field,), "input": value}]
    )


@dataclass(frozen=True)
class Pattern:
    """Annotation: the string must match ``regex``; the error message is ``explanation``, not the regex.

    The JSON Schema still carries the pattern, for editors; users read what the value should look like.
    """

    regex: str
    explanation: str
    max_length: int | None = None

    def _check(self, value: str) -> str:
        if not re.match(self.regex, value) or (self.max_length is not None and len(value) > self.max_length):
            raise _error("string_pattern", f"must be {self.explanation}")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(pattern=self.regex, description=f"Must be {self.explanation}.")
        if self.max_length is not None:
            json_schema["maxLength"] = self.max_length
        return json_schema


def _check_plain_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise _error("plain_text", problem)
    return value


# A name people read (plan, group, ASR resource): no control characters, no bidirectional overrides.
PlainText = AfterValidator(_check_plain_text)

# Used to derive durable instance ids ("{planId}", "{planId}.{machine}"): lowercase, digits and
# hyphens only, so the id is the same in a URL, a queue message and a storage key.
Slug = Annotated[
    str,
    Pattern(
        r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
        "lowercase letters, digits and inner hyphens, at most 50 characters",
    ),
]
MachineName = Annotated[
    str,
    Pattern(
        r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_])?$",
        "letters, digits, '.', '_' and '-' (starting with a letter or digit), at most 64 characters",
    ),
]
# ASR and ARM resource names (fabrics, containers, policies, mappings, protectable items, subnets):
# no path separators or URL delimiters, since they become URL segments.
ResourceName = Annotated[
    str,
    Pattern(
        r"^[^/?#\\%\s][^/?#\\%]*$",
        "a resource name without '/', '?', '#', '%' or '\\' and no leading space, at most 260 characters",
        max_length=260,
    ),
    PlainText,
]
SubscriptionId = Annotated[
    str,
    Pattern(
        r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        "a subscription GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
    ),
]
# Azure naming rules for resource groups: 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'.
ResourceGroupName = Annotated[
    str,
    Pattern(
        r"^[\w\-.()]{0,89}[\w\-()]$",
        "a resource group name: 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'",
    ),
]


def _parse(value: str) -> ResourceId:
    try:
        return parse_resource_id(value)
    except InvalidResourceIdError as exc:
        raise _error("arm_id", f"not an ARM resource id: {exc}") from exc


def check_arm_id(value: str, full_type: str) -> str:
    """``value`` if it is the ARM id of a resource of ``full_type``; a readable error otherwise."""
    try:
        rid = parse_resource_id(value)
    except InvalidResourceIdError as exc:
        raise _error("arm_id", f"not an ARM resource id of type {full_type} ({exc})") from exc
    if not rid.is_type(full_type):
        found = rid.full_type or "a resource group or subscription"
        raise _error("arm_id_type", f"not an ARM resource id of type {full_type} (it names {found})")
    return value


def arm_id(full_type: str) -> AfterValidator:
    """A validator for a string that must be the ARM id of a resource of ``full_type``."""
    return AfterValidator(lambda value: check_arm_id(value, full_type))


def _check_resource_group_id(value: str) -> str:
    rid = _parse(value)
    if rid.resource_group is None or rid.namespace is not None:
        raise _error("arm_id_type", "not the ARM id of a resource group (/subscriptions/{id}/resourceGroups/{name})")
    return value


resource_group_id = AfterValidator(_check_resource_group_id)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    Field(description="ISO-8601 date and time with an offset (e.g. 2026-12-05T22:00:00Z); kept in UTC."),
]


def format_duration(value: timedelta) -> str:
    """ISO-8601 form of a duration for messages (``P1DT2H``, ``PT30M``, ``PT0S``)."""
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return text if text != "P" else "PT0S"


@dataclass(frozen=True)
class DurationBounds:
    """Annotation of a duration option: ISO-8601 or seconds, refused outside [minimum, maximum] (an absurd timeout is
    a mistake, not a wish), with the bounds in the JSON Schema for editors."""

    minimum: timedelta
    maximum: timedelta

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, value: timedelta) -> timedelta:
        if not self.minimum <= value <= self.maximum:
            shown = format_duration(value) if value >= timedelta(0) else "a negative duration"
            raise _error(
                "duration_bounds",
                f"must be between {format_duration(self.minimum)} and {format_duration(self.maximum)} (got {shown})",
            )
        return value

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        low, high = self.minimum, self.maximum
        return {
            "anyOf": [
                {"type": "string", "format": "duration"},
                {"type": "number", "minimum": low.total_seconds(), "maximum": high.total_seconds()},
            ],
            "description": f"ISO-8601 duration or seconds, from {format_duration(low)} to {format_duration(high)}.",
        }


def _check_script_url(value: str) -> str:
    """An https URL a VM can fetch a script from (a storage blob, often with a SAS): no credentials in the authority,
    no fragment; the app itself never fetches it, and records never show it."""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password or parts.fragment:
        raise _error("script_url", "an https URL of the script, without user info or fragment")
    return value


ScriptUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_check_script_url)]


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_callback_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _error("callback_url", "must be an absolute https URL")
    if parts.username or parts.password:
        raise _error("callback_url", "must not carry a user name or password")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise _error("callback_url", "must use https (plain http is allowed only to localhost / loopback)")
    return value


CallbackUrl = Annotated[
    str,
    StringConstraints(max_length=4096),
    AfterValidator(_check_callback_url),
    Field(description="https URL called once when the migration ends (http only to loopback)."),
]
