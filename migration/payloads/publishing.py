"""The input of ``publish_event``: one migration event as orchestration code describes it.

Orchestrators build :class:`EventRequest` (``orchestrators.events``); the activity reads it strictly, since input
that does not make a valid event is a programming error: unknown keys and wrongly typed ones are refused too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from migration.json_types import Json
from migration.payloads.fields import PayloadError, as_object

__all__ = ["EventRequest"]

_REQUIRED = ("type", "eventKey", "time", "migrationId", "data")
_OPTIONAL = ("machine", "status")


@dataclass(frozen=True, slots=True)
class EventRequest:
    """``type`` (an ``EventType`` value), ``event_key`` (unique per moment: the message id comes from it), ``time``
    (ISO 8601 with offset), ``migration_id`` (null only for ``migration.rejected``), the event's ``data``, and the
    optional routing properties ``machine`` and ``status``, sent only when set."""

    NAME = "publish_event input"

    type: str
    event_key: str
    time: str
    migration_id: str | None
    data: Json = field(default_factory=dict)
    machine: str | None = None
    status: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        payload = as_object(data, "publish_event")
        missing = [key for key in _REQUIRED if key not in payload]
        unknown = sorted(set(payload) - set(_REQUIRED) - set(_OPTIONAL))
        if missing or unknown:
            problems = [f"missing {', '.join(missing)}"] if missing else []
            problems += [f"unknown {', '.join(unknown)}"] if unknown else []
            raise PayloadError(f"{cls.NAME}: {'; '.join(problems)}")
        for key in _OPTIONAL:
            if payload.get(key) is not None and not isinstance(payload[key], str):
                raise PayloadError(f"{cls.NAME}: {key} must be a string")
        if payload["migrationId"] is not None and not isinstance(payload["migrationId"], str):
            raise PayloadError(f"{cls.NAME}: migrationId must be a string or null")
        return cls(
            type=payload["type"],
            event_key=payload["eventKey"],
            time=payload["time"],
            migration_id=payload["migrationId"],
            data=payload["data"],
            machine=payload.get("machine"),
            status=payload.get("status"),
        )

    def to_dict(self) -> Json:
        data: Json = {
            "type": self.type,
            "eventKey": self.event_key,
            "time": self.time,
            "migrationId": self.migration_id,
            "data": self.data,
        }
        if self.machine is not None:
            data["machine"] = self.machine
        if self.status is not None:
            data["status"] = self.status
        return data
