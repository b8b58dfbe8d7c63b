"""What a cancelled wave asks of the Durable client: stop these instances, for this reason.

``stop_starting`` (raise the batches' ``stop`` event) and ``terminate_instances`` take the same
:class:`InstancesRequest`; the wave builds it for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from migration.json_types import Json
from migration.payloads.fields import as_object, required

__all__ = ["CANCEL_REASON", "InstancesRequest"]

CANCEL_REASON = "migration cancelled"


@dataclass(frozen=True, slots=True)
class InstancesRequest:
    """The instances to stop, and why (recorded by the Durable runtime with each termination).

    ``attempts`` (the highest attempt among the machines) is sent to ``terminate_instances`` as it always was; the
    activity finds every attempt by id prefix and does not need it.
    """

    NAME = "instances request"

    instance_ids: tuple[str, ...]
    reason: str = CANCEL_REASON
    attempts: int | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        attempts = data.get("attempts")
        return cls(
            instance_ids=tuple(str(i) for i in required(data, "instanceIds", cls.NAME)),
            reason=str(data.get("reason") or CANCEL_REASON),
            attempts=None if attempts is None else int(attempts),
        )

    def to_dict(self) -> Json:
        data: Json = {"instanceIds": list(self.instance_ids)}
        if self.attempts is not None:
            data["attempts"] = self.attempts
        data["reason"] = self.reason
        return data
