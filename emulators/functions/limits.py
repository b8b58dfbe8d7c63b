"""Where the real Durable extension refuses: each limit with its message, so that what fails in Azure fails here.

Every figure and message below is copied from Microsoft's source (the README lists file and function for each);
nothing here is an invention of this host. The shim (``replay.py``) and the management API call these checks at
the points where the extension makes them, so a refusal surfaces the way it does in Azure: a failed orchestration
with the extension's message, or a ``400`` with its ``HttpError`` body.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# DurableOrchestrationContext.SetCustomStatus: MessagePayloadDataConverter.Serialize(status, 16).
CUSTOM_STATUS_MAX_KB = 16
# DurableClient.MaxInstanceIdLength, checked by StartNewAsync.
MAX_INSTANCE_ID_LENGTH = 256
# DurableTaskOptions.MaxOrchestrationActions (host.json extensions.durableTask.maxOrchestrationActions).
DEFAULT_MAX_ORCHESTRATION_ACTIONS = 100_000
# AzureStorageDurabilityProvider.MaximumDelayTime, and RetryOptions' default MaxRetryInterval.
MAX_DELAY = timedelta(days=6)

# Newtonsoft's default string escaping writes these three as \uXXXX although JSON allows them raw; Python's
# json.dumps(ensure_ascii=False) writes them raw. They are the only length difference between the two writers.
_NEWTONSOFT_ESCAPES = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@dataclass(frozen=True)
class Limits:
    """The refusals that depend on ``host.json``; the defaults are the extension's."""

    max_orchestration_actions: int = DEFAULT_MAX_ORCHESTRATION_ACTIONS


def ordinal_ignore_case(text: str) -> str:
    """``text`` folded as .NET's ``StringComparer.OrdinalIgnoreCase`` compares it.

    Ordinal case-insensitivity upper-cases one character at a time, so a letter whose upper case is longer (ß)
    stays as it is rather than matching ``SS``.
    """
    return "".join(u if len(u := c.upper()) == 1 else c for c in text)


def utf16_units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, what .NET's ``string.Length`` counts (astral characters are two)."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def extension_json(value: Any) -> str:
    """``value`` as the extension re-serializes it (``JToken.ToString(Formatting.None)``): compact, non-ASCII raw."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for raw, escaped in _NEWTONSOFT_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def custom_status_error(value: Any) -> str | None:
    """The ``ArgumentException`` message ``SetCustomStatus`` throws for ``value``, or None when it fits.

    The size is ``(int)(Encoding.Unicode.GetByteCount(json) / 1024.0)``: UTF-16 bytes (two per code unit) in whole
    KB, truncated, and refused only when that is *more than* 16: 17,407 bytes pass, 17,408 (8,704 units) fail.
    """
    size_kb = 2 * utf16_units(extension_json(value)) // 1024
    if size_kb <= CUSTOM_STATUS_MAX_KB:
        return None
    return (
        f"The UTF-16 size of the JSON-serialized payload must not exceed {CUSTOM_STATUS_MAX_KB:,} KB. "
        f"The current payload size is {size_kb:,} KB."
    )


def _argument_message(message: str, param_name: str) -> str:
    """``ArgumentException(message, paramName).Message`` on .NET Core: ``"<message> (Parameter '<paramName>')"``."""
    return f"{message} (Parameter '{param_name}')"


def start_instance_id_error(instance_id: str) -> str | None:
    """Why ``DurableClient.StartNewAsync`` refuses ``instance_id`` (a non-empty one), or None.

    The extension calls ``new ArgumentException(nameof(instanceId), "<rule>")`` with its two arguments swapped, so
    the message is the word ``instanceId`` and the rule is the parameter name; the length rule is spelt normally.
    Whitespace is allowed; an empty id means a new GUID, which the caller handles.
    """
    if instance_id.startswith("@"):
        return _argument_message("instanceId", "Orchestration instance ids must not start with @.")
    if any(c in "/\\?#" or unicodedata.category(c) == "Cc" for c in instance_id):
        rule = "Orchestration instance ids must not contain /, \\, #, ?, or control characters."
        return _argument_message("instanceId", rule)
    if utf16_units(instance_id) > MAX_INSTANCE_ID_LENGTH:
        return f"Instance ID lengths must not exceed {MAX_INSTANCE_ID_LENGTH} characters."
    return None


def sub_instance_id_error(instance_id: str | None, own_id: str, parent_id: str | None) -> str | None:
    """Why ``CallDurableTaskFunctionAsync`` refuses a sub-orchestration's explicit id, or None.

    Only two rules apply to children (no character or length rule): an id equal, ignoring case, to this instance's
    or its parent's, and a leading ``@`` (this message has no final period, unlike the client's).
    """
    if instance_id is None:
        return None
    folded = ordinal_ignore_case(instance_id)
    if folded == ordinal_ignore_case(own_id) or (parent_id is not None and folded == ordinal_ignore_case(parent_id)):
        return (
            "The instance ID of a sub-orchestration must be different than the instance ID of a parent orchestration."
        )
    if instance_id.startswith("@"):
        return _argument_message("instanceId", "Orchestration instance ids must not start with @")
    return None


def retry_delay_error(retry: dict[str, Any]) -> str | None:
    """Why the Azure Storage provider refuses a retry policy (``ValidateDelayTime``), or None.

    ``MaxRetryInterval`` (6 days unless the SDK sends ``maxRetryIntervalInMilliseconds``) is checked first, then
    ``FirstRetryInterval``; each must be at most ``MaximumDelayTime``. The Durable Task Scheduler has no such limit.
    """
    checks = (
        ("MaxRetryInterval", retry.get("maxRetryIntervalInMilliseconds")),
        ("FirstRetryInterval", retry.get("firstRetryIntervalInMilliseconds")),
    )
    for param, millis in checks:
        if millis is not None and timedelta(milliseconds=float(millis)) > MAX_DELAY:
            days = f"{MAX_DELAY.total_seconds() / 86400:g}"
            return _argument_message(
                f"The Azure Storage provider supports a maximum of {days} days for time-based delays", param
            )
    return None


def action_limit_error(limit: int) -> str:
    """The ``InvalidOperationException`` message of ``IncrementActionsOrThrowException``."""
    return (
        f"Maximum amount of orchestration actions ({limit}) has been reached. "
        "This value can be configured in host.json file as MaxOrchestrationActions."
    )
