"""An ``Idempotency-Key`` names one request: the same body again is that request, another body is refused (422).

Before acting on a keyed request the route reads the key's record (``orchestrators/idempotency_record.py``, under
an id that names the scope and the key); a record with another body's fingerprint is ``422
IdempotencyKeyReused``, and nothing is done. After acting, the route writes the record if there was none. Two
requests racing with one key and different bodies can both pass the read; the wave's own check of command ids
(``migration.wave_state``) still refuses the second command of the two, visibly, in ``lastControl``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import azure.durable_functions as df

from migration import function_names as names
from migration.api_requests import ApiError
from migration.instance_ids import idempotency_id
from migration.payloads.idempotency import KeyRecord
from triggers.durable_access import read_instance

__all__ = ["once_per_key"]

_T = TypeVar("_T")


async def _check(client: df.DurableOrchestrationClient, asked: KeyRecord) -> bool:
    """Whether ``asked``'s key is already recorded (for this body); ``ApiError`` 422 when it is, for another."""
    known = await read_instance(client, idempotency_id(asked.scope, asked.key), show_input=True)
    if known is None:
        return False
    try:
        first = KeyRecord.from_dict(known.get("input"))
    except ValueError:
        return False  # not a record this app wrote: write ours over it
    if first.fingerprint != asked.fingerprint:
        raise ApiError(422, "IdempotencyKeyReused", first.reuse_message(asked))
    return True


async def _remember(client: df.DurableOrchestrationClient, asked: KeyRecord) -> None:
    """Record ``asked`` as its key's first use (its request was acted on)."""
    await client.start_new(names.IDEMPOTENCY_RECORD, idempotency_id(asked.scope, asked.key), asked.to_dict())


async def once_per_key(
    client: df.DurableOrchestrationClient, asked: KeyRecord | None, act: Callable[[], Awaitable[_T]]
) -> _T:
    """``act()`` under ``asked``'s key (or without a key, when None): 422 first if the key was used for another
    body, the key recorded after ``act`` succeeded if it was new."""
    known = asked is not None and await _check(client, asked)
    result = await act()
    if asked is not None and not known:
        await _remember(client, asked)
    return result
