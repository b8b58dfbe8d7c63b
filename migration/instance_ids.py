"""Durable instance ids: every id the app creates is built here, and every id it reads is parsed here.

Ids are derived from the migration id and machine names, never random, so a repeated start finds what runs:
submitting the same plan twice (an HTTP retry, a redelivered Service Bus message) must not start a second
migration, and a replayed orchestrator must start its children under the same ids. Status pages and the cancel
find a machine's instances by prefix, without a lookup table. Plan ids are slugs and machine names allow only
letters, digits, ``.``, ``_`` and ``-`` (``migration.plan_types``), so neither separator can be forged::

    migration~{plan}                                  the wave
    migration~{plan}~callback                         the delivery of its result to the plan's callbackUrl
    migration~{plan}~batch~{phase}~{round}~{index}    a batch of machines
    migration~{plan}~{machine}~{phase}~{attempt}      a machine's runbook (prepare, cutover) or rollback
    {runbook}:{stage}:{attempt}                       a runbook's wait in one stage
    {runbook}:{stage}:{attempt}:makeSafe              ... while making a failed stage safe
    {wait}:{round}                                    ... for a step asked again after a clear (round >= 1)
    {rollback}:{round}                                a rollback's wait in one of its rounds
    claim~{sha256 of the source, 40 hex digits}       the claim of a source machine by one migration
    key~{sha256 of scope and key, 40 hex digits}      what an Idempotency-Key was first used for

A claim's id names the source machine, not the migration: starting it twice is refused by the Durable runtime
while the first runs, which is what makes a machine belong to one migration (``migration.machine_claims``).

Waits hang off their parent with ``:`` so that a machine's prefix (``migration~{plan}~{machine}~``) finds the
runbooks and their waits together. Existing task hubs hold these ids: changing one orphans what runs under it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "InstanceId",
    "Kind",
    "batch_id",
    "callback_id",
    "claim_id",
    "idempotency_id",
    "machine_id",
    "machine_prefix",
    "parse",
    "rollback_id",
    "resync_wait_id",
    "rollback_wait_id",
    "round_id",
    "wait_id",
    "wave_id",
]

_SEP = "~"
_CHILD = ":"
_ROOT = "migration"
_BATCH = "batch"
_CALLBACK = "callback"
_ROLLBACK = "rollback"
_MAKE_SAFE = "makeSafe"
_RESYNC = "resync"
_CLAIM = "claim"
_KEY = "key"
_DIGEST_DIGITS = 40


def wave_id(migration_id: str) -> str:
    return f"{_ROOT}{_SEP}{migration_id}"


def callback_id(migration_id: str) -> str:
    """The orchestration that delivers the final result; one per migration, so it is started once."""
    return f"{wave_id(migration_id)}{_SEP}{_CALLBACK}"


def claim_id(kind: str, key: str) -> str:
    """The claim of one source (``kind`` and its normalised ``key``, ``migration.plan.source_keys``).

    Hashed: a source key is an ARM path or an appliance's machine id, longer than an id may be and full of ``/``.
    """
    return _digest_id(_CLAIM, f"{kind}|{key}")


def idempotency_id(scope: str, key: str) -> str:
    """The record of an ``Idempotency-Key``'s first use in ``scope`` (submissions, or one migration's commands)."""
    return _digest_id(_KEY, f"{scope}|{key}")


def _digest_id(root: str, text: str) -> str:
    return f"{root}{_SEP}{hashlib.sha256(text.encode()).hexdigest()[:_DIGEST_DIGITS]}"


def batch_id(migration_id: str, phase: str, round_: int, index: int) -> str:
    return f"{wave_id(migration_id)}{_SEP}{_BATCH}{_SEP}{phase}{_SEP}{round_}{_SEP}{index}"


def machine_prefix(migration_id: str, machine: str) -> str:
    """What every instance of one machine's starts with (runbooks, rollbacks and their waits), and nothing else's."""
    return f"{wave_id(migration_id)}{_SEP}{machine.lower()}{_SEP}"


def machine_id(migration_id: str, machine: str, phase: str, attempt: int = 0) -> str:
    """A machine's runbook instance for one phase (``prepare`` or ``cutover``) and attempt."""
    return f"{machine_prefix(migration_id, machine)}{phase}{_SEP}{attempt}"


def rollback_id(migration_id: str, machine: str, attempt: int = 0) -> str:
    return machine_id(migration_id, machine, _ROLLBACK, attempt)


def wait_id(runbook: str, stage: str, attempt: int, *, make_safe: bool = False) -> str:
    """A runbook's wait in ``stage``. Making a failed stage safe waits under its own id, so a cleanup after a
    failed cleanup never reuses, and overwrites, the failed wait's instance."""
    base = f"{runbook}{_CHILD}{stage}{_CHILD}{attempt}"
    return f"{base}{_CHILD}{_MAKE_SAFE}" if make_safe else base


def round_id(wait: str, round_: int) -> str:
    """The wait of a step asked again after a clear: round 0 keeps the wait's id, later rounds get their own."""
    return f"{wait}{_CHILD}{round_}" if round_ else wait


def resync_wait_id(wait: str, resync: int) -> str:
    """The job wait of the ``resync``-th resynchronization an initial-replication wait started (from 0)."""
    return f"{wait}{_CHILD}{_RESYNC}{_CHILD}{resync}"


def rollback_wait_id(rollback: str, round_: int) -> str:
    """A rollback's wait in one of its rounds (each round removes one obstacle)."""
    return f"{rollback}{_CHILD}{round_}"


class Kind(StrEnum):
    WAVE = "wave"
    CALLBACK = "callback"
    BATCH = "batch"
    RUNBOOK = "runbook"
    ROLLBACK = "rollback"
    WAIT = "wait"
    CLAIM = "claim"
    KEY = "key"
    OTHER = "other"  # not an id this app builds


@dataclass(frozen=True)
class InstanceId:
    """What an instance id says about the instance: which migration, what it is, whose it is.

    For a wait, ``machine``, ``phase`` and ``attempt`` are its owner's, and ``owner`` is the owner itself.
    """

    kind: Kind
    migration_id: str | None = None
    machine: str | None = None  # lower case, as ids carry it
    phase: str | None = None  # prepare | cutover | rollback; a batch's phase
    attempt: int | None = None
    stage: str | None = None  # a runbook's wait: the stage it waits in
    owner: InstanceId | None = None

    @property
    def run(self) -> str | None:
        """``{phase}~{attempt}``: which of a machine's runbooks (or rollbacks) this is, or a wait belongs to."""
        if self.phase is None or self.attempt is None or self.kind is Kind.BATCH:
            return None
        return f"{self.phase}{_SEP}{self.attempt}"


_OTHER = InstanceId(Kind.OTHER)


def parse(instance_id: str) -> InstanceId:
    """The meaning of an id built by this module; ``Kind.OTHER`` for any other id."""
    head, child, rest = instance_id.partition(_CHILD)
    parts = head.split(_SEP)
    if not child and len(parts) == 2 and parts[0] in (_CLAIM, _KEY) and _is_digest(parts[1]):
        return InstanceId(Kind.CLAIM if parts[0] == _CLAIM else Kind.KEY)
    if len(parts) < 2 or parts[0] != _ROOT or not parts[1]:
        return _OTHER
    migration = parts[1]
    parsed = _OTHER
    if len(parts) == 2:
        parsed = InstanceId(Kind.WAVE, migration)
    elif len(parts) == 3 and parts[2] == _CALLBACK:
        parsed = InstanceId(Kind.CALLBACK, migration)
    elif len(parts) == 6 and parts[2] == _BATCH and parts[4].isdigit() and parts[5].isdigit():
        parsed = InstanceId(Kind.BATCH, migration, phase=parts[3])
    elif len(parts) == 5 and parts[2] and parts[4].isdigit():
        kind = Kind.ROLLBACK if parts[3] == _ROLLBACK else Kind.RUNBOOK
        parsed = InstanceId(kind, migration, machine=parts[2], phase=parts[3], attempt=int(parts[4]))
    if not child:
        return parsed
    if parsed.kind not in (Kind.RUNBOOK, Kind.ROLLBACK) or not rest:
        return _OTHER
    stage = rest.split(_CHILD, 1)[0] if parsed.kind is Kind.RUNBOOK else None
    return InstanceId(
        Kind.WAIT,
        migration,
        machine=parsed.machine,
        phase=parsed.phase,
        attempt=parsed.attempt,
        stage=stage,
        owner=parsed,
    )


def _is_digest(text: str) -> bool:
    return len(text) == _DIGEST_DIGITS and all(char in "0123456789abcdef" for char in text)
