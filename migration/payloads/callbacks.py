"""What delivering a migration's result to its ``callbackUrl`` passes along, from the wave to the one POST.

The wave hands :class:`CallbackDelivery` to ``start_callback_delivery``, which starts ``deliver_callback`` with the
same payload; that orchestration sends :class:`CallbackPost` to ``post_callback`` for each attempt and decides on
its :class:`PostAnswer`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic.dataclasses import dataclass

from migration.json_types import Json
from migration.payloads.fields import CONFIG, DEFAULT_TIME_SCALE, Payload, TimeScale

__all__ = ["CallbackDelivery", "CallbackPost", "PostAnswer"]


@dataclass(frozen=True, config=CONFIG)
class CallbackDelivery(Payload):
    """A migration's final ``result``, to be delivered to ``callback_url``."""

    NAME = "callback delivery"

    migration_id: str
    callback_url: str
    result: Json | None = None
    time_scale: TimeScale = DEFAULT_TIME_SCALE


@dataclass(frozen=True, config=CONFIG)
class CallbackPost(Payload):
    """One POST of ``body`` to ``callback_url``."""

    NAME = "post_callback input"

    callback_url: str
    body: Any = None


@dataclass(frozen=True, config=CONFIG)
class PostAnswer(Payload):
    """What one POST meant: ``outcome`` delivered, retry (``retry_after`` seconds, if the receiver said) or final."""

    NAME = "post_callback output"

    outcome: str
    status: int | None = None
    retry_after: float | None = None
    message: Annotated[str, BeforeValidator(lambda value: value or "")] = ""
