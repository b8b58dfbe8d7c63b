"""What orchestrators ask of the Site Recovery activities, and the answers they decide on.

A step is started by ``start_asr_step`` (:class:`StartStepInput`, answered by :class:`StepStarted`); an item is
read by ``read_protected_item`` and checked by ``check_machine`` (:class:`MachineRequest`, the reading is
:class:`ItemReading`); a job is read by ``read_asr_job`` (:class:`JobReadInput`). A permanent failure comes back
as ``{"error": error record}`` instead (:func:`migration.errors.error_record`), which callers test for first.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from migration.json_types import Json
from migration.payloads.fields import CONFIG, Options, Payload, Unset
from migration.steps import Step

__all__ = ["ItemReading", "JobReadInput", "MachineRequest", "StartStepInput", "StepStarted"]


def _vault(vault: Json) -> Json:
    missing = [key for key in ("subscriptionId", "resourceGroup", "name") if key not in vault]
    if missing:
        raise ValueError(f"lacks the required key {missing[0]!r}")
    return vault


# A vault as the adapters take it: its subscription, resource group and name.
Vault = Annotated[Json, AfterValidator(_vault)]


@dataclass(frozen=True, config=CONFIG)
class MachineRequest(Payload):
    """The input of ``read_protected_item`` and ``check_machine``: the machine's plan entry.

    ``stage`` names the stage its errors are recorded under; ``dr`` reads the A2A item that protects the migrated
    VM toward the secondary region.
    """

    NAME = "machine request"
    SPARSE = frozenset({"stage", "dr"})

    machine: Json
    stage: str | None = None
    dr: bool = False


@dataclass(frozen=True, config=CONFIG)
class StartStepInput(Payload):
    """The input of ``start_asr_step``: the machine, the step, the wave options it needs (``drAfterMigration``).

    ``stage`` defaults to the step's own name; ``recovery_point_id`` and ``comments`` are sent only when set.
    """

    NAME = "start_asr_step input"
    SPARSE = frozenset({"recovery_point_id", "comments"})

    machine: Json
    step: Step
    options: Options = Field(default_factory=dict)
    stage: Unset = None
    recovery_point_id: str | None = None
    comments: str | None = None

    @property
    def stage_name(self) -> str:
        return self.stage or self.step.value


@dataclass(frozen=True, config=CONFIG)
class StepStarted(Payload):
    """What ``start_asr_step`` decided (``migration.steps.Decision``) and, unless the step is done, its job."""

    NAME = "start_asr_step output"
    SPARSE = frozenset({"job_name", "job_id", "retry_after_seconds"})

    decision: str
    reason: str = ""
    job_name: Unset = None
    job_id: str | None = None
    retry_after_seconds: float | None = None


@dataclass(frozen=True, config=CONFIG)
class ItemReading(Payload):
    """What ``read_protected_item`` found: whether the item exists, its normalized view, the failover's point."""

    NAME = "read_protected_item output"

    exists: bool
    view: Json | None = None
    failover_recovery_point_id: str | None = None


@dataclass(frozen=True, config=CONFIG)
class JobReadInput(Payload):
    """The input of ``read_asr_job``: the vault (``subscriptionId``, ``resourceGroup``, ``name``) and the job."""

    NAME = "read_asr_job input"

    vault: Vault
    job_name: str
    stage: str | None = None
