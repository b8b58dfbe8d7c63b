"""Keeping every orchestration's custom status inside Azure's limit by construction.

The Durable extension serializes a custom status with a 16 KB limit measured in UTF-16 (two bytes per UTF-16 code
unit of the JSON text) and fails the whole orchestration when it is exceeded. A status therefore never carries a
list or a text that grows with the plan: it carries counts, a few names (the first ``NAMES_SHOWN``) and clipped
texts. ``utf16_size`` measures a status as the extension does, so tests can show the worst case fits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

CUSTOM_STATUS_MAX_BYTES = 16 * 1024
NAMES_SHOWN = 10
TEXT_SHOWN = 300
ERROR_MESSAGE_SHOWN = 1000


def utf16_size(value: Any) -> int:
    """Bytes of ``value``'s compact JSON text in UTF-16, the measure the extension's limit uses."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-16-le"))


def first_names(names: Iterable[str], limit: int = NAMES_SHOWN) -> list[str]:
    """At most ``limit`` of ``names``, in their order."""
    shown: list[str] = []
    for name in names:
        if len(shown) == limit:
            break
        shown.append(name)
    return shown


def names_text(names: Sequence[str], limit: int = NAMES_SHOWN) -> str:
    """``names`` joined for a sentence, the ones past ``limit`` counted instead of listed: ``a, b and 7 more``."""
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def clipped(text: str, limit: int = TEXT_SHOWN) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def clipped_tail(text: str, limit: int = TEXT_SHOWN) -> str:
    """The last ``limit`` characters of ``text`` (a script's output ends with what went wrong), marked when cut."""
    return text if len(text) <= limit else f"…{text[len(text) - limit + 1 :]}"


def error_excerpt(error: dict[str, Any] | None) -> dict[str, Any] | None:
    """An error record as a status shows it: the message clipped (ASR's error messages have no length limit)."""
    if error is None or not isinstance(error.get("message"), str):
        return error
    return {**error, "message": clipped(error["message"], ERROR_MESSAGE_SHOWN)}


def control_excerpt(control: dict[str, Any]) -> dict[str, Any]:
    """A recorded operator command as a status shows it: its texts clipped and its machines counted."""
    machines = control.get("machines") or []
    shown = ("action", "actor", "actorId", "assertedActor", "accepted", "at", "window")
    kept: dict[str, Any] = {key: control[key] for key in shown if key in control}
    return {
        **kept,
        "reason": clipped(str(control.get("reason") or "")),
        "detail": clipped(str(control.get("detail") or "")),
        "machineCount": len(machines),
        "machines": first_names(machines),
    }
