"""The input of ``migration_wave``: the validated plan, the clock it runs on, and who submitted it how.

``migration.api_requests.prepare_start`` builds it for every entry point (HTTP, Service Bus, Logic Apps); the wave
reads ``plan`` and ``clock``. The other fields are there for whoever reads the instance later: ``planSha256`` tells a
repeated submission of the same plan from a different one, ``idempotencyKey`` and ``submittedVia`` are shown in the
migration's status. A wave started by a tool (a benchmark, the management API) may send only ``plan`` and
``clock``, so those two alone are required.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from migration.json_types import Json
from migration.payloads.fields import as_object, required
from migration.plan_clock import PlanClock

__all__ = ["WaveInput"]


@dataclass(frozen=True, slots=True)
class WaveInput:
    """``plan`` as validated JSON (aliases, no nulls), the wave's :class:`PlanClock`, and the submission's marks."""

    NAME = "migration_wave input"

    plan: Json
    clock: PlanClock
    plan_sha256: str | None = None
    idempotency_key: str | None = None
    submitted_via: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            plan=as_object(required(data, "plan", cls.NAME), f"{cls.NAME} plan"),
            clock=PlanClock.from_dict(as_object(required(data, "clock", cls.NAME), f"{cls.NAME} clock")),
            plan_sha256=data.get("planSha256"),
            idempotency_key=data.get("idempotencyKey"),
            submitted_via=data.get("submittedVia"),
        )

    def to_dict(self) -> Json:
        return {
            "plan": self.plan,
            "clock": self.clock.to_dict(),
            "planSha256": self.plan_sha256,
            "idempotencyKey": self.idempotency_key,
            "submittedVia": self.submitted_via,
        }
