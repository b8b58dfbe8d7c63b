"""Durable instance ids, derived from the migration id and machine names so a repeated start finds what runs.

Submitting the same plan twice (an HTTP retry, a redelivered Service Bus message) must not start a second
migration: the wave's id is a function of the plan id alone, and every child's id a function of the wave's, the
machine's name and the attempt. They are also how status pages find a machine's detail without a lookup table.
Plan ids and machine names are validated slugs (no ``~``), so the separator cannot be forged.
"""

from __future__ import annotations

__all__ = ["batch_id", "machine_id", "machine_prefix", "rollback_id", "wave_id"]

_SEP = "~"


def wave_id(migration_id: str) -> str:
    return f"migration{_SEP}{migration_id}"


def machine_prefix(migration_id: str, machine: str) -> str:
    return f"{wave_id(migration_id)}{_SEP}{machine.lower()}"


def machine_id(migration_id: str, machine: str, phase: str, attempt: int = 0) -> str:
    """A machine's runbook instance for one phase (``prepare`` or ``cutover``) and attempt."""
    return f"{machine_prefix(migration_id, machine)}{_SEP}{phase}{_SEP}{attempt}"


def rollback_id(migration_id: str, machine: str, attempt: int = 0) -> str:
    return f"{machine_prefix(migration_id, machine)}{_SEP}rollback{_SEP}{attempt}"


def batch_id(migration_id: str, phase: str, round_: int, index: int) -> str:
    return f"{wave_id(migration_id)}{_SEP}batch{_SEP}{phase}{_SEP}{round_}{_SEP}{index}"
