"""What the entry points ask of Durable Functions: start a wave once, read instances, raise a command.

Shared by the HTTP routes and the Service Bus triggers so both start a migration the same way:

- **Once per plan id.** The wave's instance id is ``migration~{planId}``; an existing instance with the same plan
  (same ``planSha256``) is that migration, returned as is; with a different plan it is a conflict. Starting an id
  that is Pending or Running is a 500 from the extension (DTFx ``OrchestrationAlreadyExistsException``), and a
  finished one would be *replaced*, so the status is read first; when two starts race, the loser's failure is
  answered by reading the winner's instance.
- **Plain dicts out.** The SDK's status objects become dicts (``instanceId``, ``runtimeStatus``, ``input``,
  ``output``, ``customStatus``, ``createdTime``, ``lastUpdatedTime``) for the pure modules in ``migration/``.

Lists use the management API's continuation token, which the SDK's ``get_status_by`` does not follow.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import aiohttp
import azure.durable_functions as df

from migration.api_requests import ApiError
from migration.api_status import decode
from migration.commands import CONTROL_EVENT
from migration.instance_ids import machine_prefix, wave_id
from migration.json_types import Json
from migration.runtime_status import is_active

__all__ = [
    "CONTROL_EVENT",
    "list_instances",
    "raise_control",
    "read_instance",
    "read_machine_instances",
]

# Concurrent reads of machine instances for one status document (the management API is local to the host).
_PARALLEL_READS = 16
# A list route scans at most this many pages of 100 instances.
_MAX_PAGES = 200


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if value else None


def as_dict(status: Any) -> Json:
    runtime = status.runtime_status
    return {
        "instanceId": status.instance_id,
        "runtimeStatus": getattr(runtime, "value", runtime),
        "input": decode(status.input_),
        "output": decode(status.output),
        "customStatus": decode(status.custom_status),
        "createdTime": _iso(status.created_time),
        "lastUpdatedTime": _iso(status.last_updated_time),
    }


async def read_instance(
    client: df.DurableOrchestrationClient, instance_id: str, *, show_input: bool = False
) -> Json | None:
    """The instance as a dict, or None when there is none."""
    status = await client.get_status(instance_id, show_input=show_input)
    if not status:
        return None
    return as_dict(status)


def _rpc_url(client: df.DurableOrchestrationClient) -> str:
    # The binding's rpcBaseUrl: the extension's local management endpoint the SDK itself calls.
    url = client._orchestration_bindings.rpc_base_url
    if not isinstance(url, str):
        raise RuntimeError("the durable client binding has no rpcBaseUrl")
    return url


async def list_instances(
    client: df.DurableOrchestrationClient,
    *,
    prefix: str,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    runtime_statuses: Iterable[str] = (),
    show_input: bool = False,
) -> list[Json]:
    """Every instance whose id starts with ``prefix`` (and matches the filters), following continuation tokens."""
    query: dict[str, str] = {"instanceIdPrefix": prefix, "showInput": str(show_input).lower(), "top": "100"}
    if created_from:
        query["createdTimeFrom"] = created_from.isoformat()
    if created_to:
        query["createdTimeTo"] = created_to.isoformat()
    statuses = ",".join(runtime_statuses)
    if statuses:
        query["runtimeStatus"] = statuses
    found: list[Json] = []
    token: str | None = None
    async with aiohttp.ClientSession() as session:
        for _ in range(_MAX_PAGES):
            headers = {"x-ms-continuation-token": token} if token else {}
            async with session.get(f"{_rpc_url(client)}instances/", params=query, headers=headers) as response:
                if response.status != 200:
                    raise RuntimeError(f"listing instances answered {response.status}")
                page = await response.json(content_type=None)
                token = response.headers.get("x-ms-continuation-token")
            for item in page or []:
                found.append(
                    {
                        "instanceId": item.get("instanceId"),
                        "runtimeStatus": item.get("runtimeStatus"),
                        "input": decode(item.get("input")),
                        "output": decode(item.get("output")),
                        "customStatus": decode(item.get("customStatus")),
                        "createdTime": item.get("createdTime"),
                        "lastUpdatedTime": item.get("lastUpdatedTime"),
                    }
                )
            if not token or token == "null":
                break
    return found


async def read_machine_instances(
    client: df.DurableOrchestrationClient, migration_id: str, machines: Iterable[str]
) -> dict[str, list[Json]]:
    """Each machine's instances (runbooks and their waits), read concurrently, a bounded number at a time."""
    gate = asyncio.Semaphore(_PARALLEL_READS)

    async def one(machine: str) -> tuple[str, list[Json]]:
        async with gate:
            return machine, await list_instances(client, prefix=machine_prefix(migration_id, machine))

    pairs = await asyncio.gather(*(one(machine) for machine in machines))
    return dict(pairs)


async def raise_control(client: df.DurableOrchestrationClient, migration_id: str, payload: Json) -> Json:
    """Raise the ``control`` event on a running wave; ApiError 404 when unknown, 409 when it has ended."""
    instance_id = wave_id(migration_id)
    existing = await read_instance(client, instance_id)
    if existing is None:
        raise ApiError(404, "MigrationNotFound", f"no migration with id {migration_id!r}")
    if not is_active(existing["runtimeStatus"]):
        raise ApiError(409, "MigrationEnded", f"migration {migration_id!r} has ended; it takes no more commands")
    try:
        await client.raise_event(instance_id, CONTROL_EVENT, payload)
    except Exception as error:
        # It ended between the read and the raise (the extension answers 410).
        after = await read_instance(client, instance_id)
        if after is not None and not is_active(after["runtimeStatus"]):
            raise ApiError(409, "MigrationEnded", f"migration {migration_id!r} has ended") from None
        raise RuntimeError(f"raising the control event failed: {json.dumps(str(error))[:200]}") from None
    return existing
