"""Reading a payload's fields: the one place that names a missing key and applies the shared defaults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from migration.json_types import Json

__all__ = ["DEFAULT_TIME_SCALE", "PayloadError", "as_object", "iso_time", "optional_float", "required", "time_scale"]

# Plan-seconds per wall second (``orchestrators.timing``): 1 in Azure; an input without it runs in real time.
DEFAULT_TIME_SCALE = 1.0


class PayloadError(ValueError):
    """A function got a payload its contract does not allow: a programming error between two of our functions."""


def as_object(data: Any, payload: str) -> Json:
    """``data`` if it is a JSON object; a :class:`PayloadError` naming ``payload`` otherwise."""
    if isinstance(data, dict):
        return data
    if isinstance(data, Mapping):
        return dict(data)
    raise PayloadError(f"{payload} takes a JSON object, not {type(data).__name__}")


def required(data: Json, key: str, payload: str) -> Any:
    """``data[key]``; a :class:`PayloadError` naming the payload and the key when it is missing."""
    if key not in data:
        raise PayloadError(f"{payload} lacks the required key {key!r}")
    return data[key]


def time_scale(data: Json) -> float:
    """The payload's ``timeScale``, :data:`DEFAULT_TIME_SCALE` when it is absent or null."""
    return float(data.get("timeScale") or DEFAULT_TIME_SCALE)


def optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def iso_time(data: Json, key: str, payload: str) -> datetime:
    """A required ISO 8601 time."""
    return datetime.fromisoformat(str(required(data, key, payload)))
