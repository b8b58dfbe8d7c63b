"""The input of ``migration_wave``: the validated plan, the clock it runs on, and who submitted it how.

``migration.api_requests.prepare_start`` builds it for every entry point (HTTP, Service Bus, Logic Apps); the wave
reads ``plan`` and ``clock``. The other fields are there for whoever reads the instance later: ``planSha256`` tells a
repeated submission of the same plan from a different one, ``idempotencyKey``, ``submittedVia`` and ``submittedBy`` are
shown in the migration's status. A wave started by a tool (a benchmark, the management API) may send only ``plan`` and
``clock``, so those two alone are required.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import PlainSerializer, PlainValidator
from pydantic.dataclasses import dataclass

from migration.json_types import Json
from migration.payloads.fields import CONFIG, Payload, from_wire
from migration.plan_clock import PlanClock

__all__ = ["WaveInput"]


# The plan clock in its own wire form.
Clock = Annotated[PlanClock, PlainValidator(from_wire(PlanClock)), PlainSerializer(lambda clock: clock.to_dict())]


@dataclass(frozen=True, config=CONFIG)
class WaveInput(Payload):
    """``plan`` as validated JSON (aliases, no nulls), the wave's :class:`PlanClock`, and the submission's marks."""

    NAME = "migration_wave input"

    plan: Json
    clock: Clock
    plan_sha256: str | None = None
    idempotency_key: str | None = None
    submitted_via: str | None = None
    # Who submitted, as App Service authentication named them ({"actor", "actorId"}); None for a Service Bus
    # message, whose sender is authorized by the queue's data role but not identified.
    submitted_by: dict[str, str] | None = None
