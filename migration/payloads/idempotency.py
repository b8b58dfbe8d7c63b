"""What an ``Idempotency-Key`` was first used for: the record the HTTP routes keep and check (``idempotency_record``).

A key names one request. Sent again with the same body it is that request again (the migration it started, the
command it sent); sent with a different body it is a mistake that would otherwise pass silently (a second plan
started beside the first, a cancel dropped as a repeat of an approve), so the route answers 422.
"""

from __future__ import annotations

from pydantic.dataclasses import dataclass

from migration.payloads.fields import CONFIG, Payload

__all__ = ["KeyRecord"]


@dataclass(frozen=True, config=CONFIG)
class KeyRecord(Payload):
    """``key`` used in ``scope`` (``submission``, or ``commands of {migration}``) for the body ``fingerprint``,
    which concerned ``migration_id``; ``what`` names the request for an error message (a plan, an approve)."""

    NAME = "idempotency_record input"

    scope: str
    key: str
    fingerprint: str
    migration_id: str
    what: str

    def reuse_message(self, asked: KeyRecord) -> str:
        """Why ``asked`` is refused: this record's key was used first, for another body."""
        return (
            f"Idempotency-Key {self.key!r} was already used for {self.what} of migration {self.migration_id!r}; "
            f"this request ({asked.what}) is a different one: send it with a new key"
        )
