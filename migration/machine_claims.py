"""One machine, one owner: which sources a plan claims, and how a refused claim is told.

Two migrations driving one replicated item would both fail it over (one of them with target settings it never
applied), so every source machine of a plan (its protectable item, its discovered machine id or its source VM id:
``migration.plan.source_keys``) is claimed before the plan's wave starts, and belongs to that migration until the
wave ends. A claim is a tiny orchestration (``orchestrators/machine_claim.py``) whose instance id names the source
(``migration.instance_ids.claim_id``): the Durable runtime refuses to start an instance whose id is running
(DTFx ``OrchestrationAlreadyExistsException``, with the extension's default ``overridableExistingInstanceStates``
of non-running states), so of several submissions at once exactly one takes each claim, whoever they are.

A claim whose owner is no longer running (its wave ended without releasing, was terminated, or never started
within :data:`START_GRACE` of the claim) is stale and may be taken over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from migration.instance_ids import claim_id
from migration.plan import Plan, format_path, source_keys

__all__ = ["START_GRACE", "Claim", "claims_of", "owned_message"]
# How long a claim may wait for its owner's wave to exist: the submission that took it starts the wave next, so a
# claim older than this without a wave was left by a submission that died in between.
START_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class Claim:
    """One source of one machine of a plan: what names it, where in the plan, and the claim's instance id."""

    machine: str
    kind: str
    key: str
    path: str

    @property
    def instance_id(self) -> str:
        return claim_id(self.kind, self.key)


def claims_of(plan: Plan) -> list[Claim]:
    """Every source the plan's machines name, in plan order (a plan names each source once: ``migration.plan``)."""
    claims: list[Claim] = []
    for g, group in enumerate(plan.groups):
        for m, machine in enumerate(group.machines):
            raw = machine.model_dump(by_alias=True, mode="json", exclude_none=True)
            for kind, key, field_path in source_keys(raw):
                path = format_path(("groups", g, "machines", m, "asr", *field_path))
                claims.append(Claim(machine.name, kind, key, path))
    return claims


def owned_message(claim: Claim, owner: str, owner_status: str | None) -> str:
    """Why ``claim`` was refused: which machine, by what it is known, and the migration that owns it."""
    state = f", which is {owner_status}" if owner_status else ", which is being submitted"
    return (
        f"machine {claim.machine!r} ({claim.kind} {claim.key}) belongs to migration {owner!r}{state}; a source "
        "machine is driven by one migration at a time (cancel that one, or wait for it to end)"
    )
