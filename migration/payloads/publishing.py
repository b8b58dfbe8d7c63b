"""The input of ``publish_event``: one migration event as orchestration code describes it.

Orchestrators build :class:`EventRequest` (``orchestrators.events``); the activity reads it strictly, since input
that does not make a valid event is a programming error: unknown keys and wrongly typed ones are refused too.
"""

from __future__ import annotations

from pydantic.dataclasses import dataclass

from migration.json_types import Json
from migration.payloads.fields import CLOSED, Payload

__all__ = ["EventRequest"]


@dataclass(frozen=True, config=CLOSED)
class EventRequest(Payload):
    """``type`` (an ``EventType`` value), ``event_key`` (unique per moment: the message id comes from it), ``time``
    (ISO 8601 with offset), ``migration_id`` (null only for ``migration.rejected``), the event's ``data``, and the
    optional routing properties ``machine`` and ``status``, sent only when set."""

    NAME = "publish_event input"
    SPARSE = frozenset({"machine", "status"})

    type: str
    event_key: str
    time: str
    migration_id: str | None
    data: Json
    machine: str | None = None
    status: str | None = None
