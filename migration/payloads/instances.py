"""What a cancelled wave asks of the Durable client: stop these instances, for this reason.

``stop_starting`` (raise the batches' ``stop`` event) and ``terminate_instances`` take the same
:class:`InstancesRequest`; the wave builds it for both.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator
from pydantic.dataclasses import dataclass

from migration.payloads.fields import CONFIG, Payload

__all__ = ["CANCEL_REASON", "InstancesRequest"]

CANCEL_REASON = "migration cancelled"


@dataclass(frozen=True, config=CONFIG)
class InstancesRequest(Payload):
    """The instances to stop, and why (recorded by the Durable runtime with each termination).

    ``attempts`` (the highest attempt among the machines) is sent to ``terminate_instances`` as it always was; the
    activity finds every attempt by id prefix and does not need it.
    """

    NAME = "instances request"
    SPARSE = frozenset({"attempts"})

    instance_ids: tuple[str, ...]
    reason: Annotated[str, BeforeValidator(lambda value: value or CANCEL_REASON)] = CANCEL_REASON
    attempts: int | None = None
