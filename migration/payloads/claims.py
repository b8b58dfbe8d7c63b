"""What a machine claim holds and what releases it (``migration.machine_claims``).

The submission starts ``machine_claim`` with :class:`ClaimInput`; the wave, when it ends, asks ``release_claims``
with :class:`ReleaseRequest`, which finds the claims from the wave's plan and raises the release event, carrying
the owner, on each (the wave's history then holds one short input, not a claim id per source).
"""

from __future__ import annotations

from pydantic.dataclasses import dataclass

from migration.payloads.fields import CONFIG, Payload, Time

__all__ = ["ClaimInput", "ReleaseRequest"]


@dataclass(frozen=True, config=CONFIG)
class ClaimInput(Payload):
    """``owner`` (a migration id) claims the source ``kind`` ``key`` of its machine ``machine`` at ``claimed_at``."""

    NAME = "machine_claim input"

    owner: str
    machine: str
    kind: str
    key: str
    claimed_at: Time


@dataclass(frozen=True, config=CONFIG)
class ReleaseRequest(Payload):
    """Release the claims ``owner`` (a migration id) took, now that its wave ends; they follow from its plan."""

    NAME = "release_claims input"

    owner: str
