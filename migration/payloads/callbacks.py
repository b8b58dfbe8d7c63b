"""What delivering a migration's result to its ``callbackUrl`` passes along, from the wave to the one POST.

The wave hands :class:`CallbackDelivery` to ``start_callback_delivery``, which starts ``deliver_callback`` with the
same payload; that orchestration sends :class:`CallbackPost` to ``post_callback`` for each attempt and decides on
its :class:`PostAnswer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from migration.json_types import Json
from migration.payloads.fields import DEFAULT_TIME_SCALE, as_object, optional_float, required, time_scale

__all__ = ["CallbackDelivery", "CallbackPost", "PostAnswer"]


@dataclass(frozen=True, slots=True)
class CallbackDelivery:
    """A migration's final ``result``, to be delivered to ``callback_url``."""

    NAME = "callback delivery"

    migration_id: str
    callback_url: str
    result: Json | None = None
    time_scale: float = DEFAULT_TIME_SCALE

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            migration_id=str(required(data, "migrationId", cls.NAME)),
            callback_url=str(required(data, "callbackUrl", cls.NAME)),
            result=data.get("result"),
            time_scale=time_scale(data),
        )

    def to_dict(self) -> Json:
        return {
            "migrationId": self.migration_id,
            "callbackUrl": self.callback_url,
            "result": self.result,
            "timeScale": self.time_scale,
        }


@dataclass(frozen=True, slots=True)
class CallbackPost:
    """One POST of ``body`` to ``callback_url``."""

    NAME = "post_callback input"

    callback_url: str
    body: Any = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(callback_url=str(required(data, "callbackUrl", cls.NAME)), body=data.get("body"))

    def to_dict(self) -> Json:
        return {"callbackUrl": self.callback_url, "body": self.body}


@dataclass(frozen=True, slots=True)
class PostAnswer:
    """What one POST meant: ``outcome`` delivered, retry (``retry_after`` seconds, if the receiver said) or final."""

    NAME = "post_callback output"

    outcome: str
    status: int | None = None
    retry_after: float | None = None
    message: str = ""

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            outcome=str(required(data, "outcome", cls.NAME)),
            status=data.get("status"),
            retry_after=optional_float(data.get("retryAfter")),
            message=str(data.get("message") or ""),
        )

    def to_dict(self) -> Json:
        return {"outcome": self.outcome, "status": self.status, "retryAfter": self.retry_after, "message": self.message}
