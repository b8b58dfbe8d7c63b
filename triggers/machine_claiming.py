"""Claiming a plan's machines at submission, before its wave starts: one machine, one owner.

Each source the plan names is claimed by starting its claim orchestration (``migration.machine_claims``); the
Durable runtime refuses the start while the claim runs, so of several submissions at once one takes it. A claim
held by another migration is refused with ``409 MachineOwned`` naming the owner, unless the claim is stale (its
owner's wave has ended, or never started within ``START_GRACE``): then it is terminated and taken over. On any
refusal the claims this submission took are released again, so nothing is left started.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df

from activities.raise_events import raise_on_active
from activities.terminate_instances import terminate_and_settle
from migration import function_names as names
from migration.api_requests import ApiError, StartRequest
from migration.commands import RELEASE_EVENT
from migration.instance_ids import wave_id
from migration.machine_claims import START_GRACE, Claim, claims_of, owned_message
from migration.payloads.claims import ClaimInput
from migration.runtime_status import is_active
from triggers.durable_access import read_instance

__all__ = ["claim_machines"]

# Claims started at once: a thousand-machine plan has up to two thousand.
_CONCURRENCY = 16
# Rounds of "start, or see who holds it": a claim that ends or is taken over between two reads needs another.
_ROUNDS = 3


async def claim_machines(client: df.DurableOrchestrationClient, request: StartRequest) -> None:
    """Claim every source of ``request``'s plan for it; ``ApiError`` 409 (nothing kept) if another owns one.

    A machine's claims (a plan may name it by two keys) are taken one after another in one order, the same for
    every submission, and no further once one is refused: of several submissions of one machine at once, the
    first to take its first claim takes them all. Taken side by side, each could take one of the two and every
    submission would be refused. Machines are claimed side by side: two submissions that overlap on several
    machines at once can still both be refused, and neither keeps anything.
    """
    owner = request.plan.id
    now = datetime.now(UTC)
    gate = asyncio.Semaphore(_CONCURRENCY)
    by_machine: dict[str, list[Claim]] = {}
    for claim in claims_of(request.plan):
        by_machine.setdefault(claim.machine, []).append(claim)

    async def one_machine(claims: list[Claim]) -> list[tuple[Claim, str | BaseException | None]]:
        outcomes: list[tuple[Claim, str | BaseException | None]] = []
        async with gate:
            for claim in sorted(claims, key=lambda c: c.instance_id):
                try:
                    outcome: str | BaseException | None = await _claim(client, claim, owner, now)
                except Exception as error:
                    outcome = error
                outcomes.append((claim, outcome))
                if outcome is not None:
                    break
        return outcomes

    per_machine = await asyncio.gather(*(one_machine(claims) for claims in by_machine.values()))
    outcomes = [pair for pairs in per_machine for pair in pairs]
    refused = [(claim, outcome) for claim, outcome in outcomes if isinstance(outcome, str)]
    failed = [outcome for _, outcome in outcomes if isinstance(outcome, BaseException)]
    if not refused and not failed:
        return
    await _release(client, [claim for claim, outcome in outcomes if outcome is None], owner)
    if failed:
        raise failed[0]
    more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
    details = [{"path": claim.path, "message": message} for claim, message in refused]
    raise ApiError(409, "MachineOwned", f"{refused[0][1]}{more}", details)


async def _claim(client: df.DurableOrchestrationClient, claim: Claim, owner: str, now: datetime) -> str | None:
    """None when ``owner`` holds ``claim`` now; the refusal's message when another migration does."""
    claim_input = ClaimInput(owner, claim.machine, claim.kind, claim.key, now).to_dict()
    for _ in range(_ROUNDS):
        try:
            await client.start_new(names.MACHINE_CLAIM, claim.instance_id, claim_input)
            return None
        except Exception as error:  # the extension answers 500 (OrchestrationAlreadyExistsException) while it runs
            failure = error
        held = await read_instance(client, claim.instance_id, show_input=True)
        if held is None:
            raise failure  # no claim is there: the start failed for another reason
        if not is_active(held.get("runtimeStatus")):
            continue  # it ended between the start and the read: start again
        holder = _holder(held)
        if holder is None or holder.owner == owner:
            return None  # ours (an earlier attempt of this submission), or a claim this app did not write
        owner_wave = await read_instance(client, wave_id(holder.owner))
        owner_status = owner_wave.get("runtimeStatus") if owner_wave else None
        if owner_wave is not None and is_active(owner_status):
            return owned_message(claim, holder.owner, str(owner_status))
        if owner_wave is None and now - holder.claimed_at < START_GRACE:
            return owned_message(claim, holder.owner, None)
        reason = f"stale claim of {holder.owner!r}, taken over by {owner!r}"
        try:
            await terminate_and_settle(client, [claim.instance_id], reason)
        except Exception:  # it ended between the read and the terminate (the SDK raises for 404/410)
            continue
    raise RuntimeError(f"the claim on machine {claim.machine!r} changed hands {_ROUNDS} times while it was taken")


def _holder(held: dict[str, Any]) -> ClaimInput | None:
    try:
        return ClaimInput.from_dict(held.get("input"))  # read_instance has decoded it
    except ValueError:
        return None


async def _release(client: df.DurableOrchestrationClient, claims: list[Claim], owner: str) -> None:
    """Release what a refused submission took; a claim left behind goes stale with no wave, and is taken over."""
    try:
        await raise_on_active(client, [claim.instance_id for claim in claims], RELEASE_EVENT, {"owner": owner})
    except Exception:  # the refusal is the answer; a claim that could not be released goes stale on its own
        return
