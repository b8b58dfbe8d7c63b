"""Raising one external event on several instances through the Durable client, skipping those that have ended.

Orchestrations cannot raise events on one another, so the activities that must tell other instances something (a
cancelled wave's batches to stop starting, an ending wave's claims to release) raise it here. An instance that has
ended needs no telling: it is skipped, and one that ends between the check and the raise (the SDK raises for the
extension's 404 or 410) is counted as told.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import azure.durable_functions as df

from migration.json_types import Json
from migration.runtime_status import is_active

__all__ = ["CONCURRENCY", "raise_on_active"]

CONCURRENCY = 16


async def _active(client: df.DurableOrchestrationClient, instance_id: str) -> bool:
    status = await client.get_status(instance_id)
    return bool(status) and is_active(status.runtime_status)


async def raise_on_active(
    client: df.DurableOrchestrationClient, instance_ids: Iterable[str], event: str, data: Json
) -> list[str]:
    """Raise ``event`` with ``data`` on each of ``instance_ids`` still running; the ones told, in order.

    A few at a time (:data:`CONCURRENCY`): a thousand-machine wave has up to two thousand claims to release.
    """
    gate = asyncio.Semaphore(CONCURRENCY)

    async def tell(instance_id: str) -> bool:
        async with gate:
            if not await _active(client, instance_id):
                return False
            try:
                await client.raise_event(instance_id, event, data)
            except Exception:
                if await _active(client, instance_id):
                    raise
                return False
            return True

    ids = list(instance_ids)
    told = await asyncio.gather(*(tell(instance_id) for instance_id in ids))
    return [instance_id for instance_id, was_told in zip(ids, told, strict=True) if was_told]
