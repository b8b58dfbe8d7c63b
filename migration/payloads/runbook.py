"""What the wave, its batches and each machine's runbook or rollback hand one another.

The wave starts batches (:class:`BatchInput`, one :class:`BatchEntry` per machine), a batch starts a runbook
(:class:`RunbookInput`) or a rollback (:class:`RollbackInput`) per machine and answers with :class:`BatchOutput`.
A machine whose orchestration failed outright is reported with :func:`failed_record`, the short record the wave
absorbs as it absorbs a runbook's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic.dataclasses import dataclass

from migration.json_types import Json
from migration.payloads.fields import CONFIG, DEFAULT_TIME_SCALE, Attempt, Options, Payload, TimeScale, Unset

__all__ = [
    "BatchEntry",
    "BatchInput",
    "BatchOutput",
    "RollbackInput",
    "RollbackResult",
    "RunbookInput",
    "failed_record",
]


def failed_record(machine: str, error: Json) -> Json:
    """``{"machine", "outcome": "failed", "error"}``: a machine whose orchestration (not its migration) failed."""
    return {"machine": machine, "outcome": "failed", "error": error}


def _named(machine: Json) -> Json:
    if "name" not in machine:
        raise ValueError("lacks the required key 'name'")
    return machine


# A machine's plan entry, which is known by its name.
NamedMachine = Annotated[Json, AfterValidator(_named)]


@dataclass(frozen=True, config=CONFIG)
class RunbookInput(Payload):
    """The input of ``machine_runbook``: one machine, its plan options, and which part of the runbook to run.

    ``from_stage`` (default: the runbook's first stage) and ``stop_at`` (default: run to the end) are sent only when
    set; ``record`` is the machine's record from its previous run, whose stages and jobs the new run carries on.
    """

    NAME = "machine_runbook input"
    SPARSE = frozenset({"from_stage", "stop_at"})

    migration_id: str
    machine: Json
    options: Options = Field(default_factory=dict)
    time_scale: TimeScale = DEFAULT_TIME_SCALE
    attempt: Attempt = 0
    record: Json | None = None
    from_stage: Unset = None
    stop_at: Unset = None


@dataclass(frozen=True, config=CONFIG)
class RollbackInput(Payload):
    """The input of ``machine_rollback``: the machine to roll back and its plan options."""

    NAME = "machine_rollback input"

    migration_id: str
    machine: Json
    options: Options = Field(default_factory=dict)
    time_scale: TimeScale = DEFAULT_TIME_SCALE
    attempt: Attempt = 0


@dataclass(frozen=True, config=CONFIG)
class RollbackResult(Payload):
    """The output of ``machine_rollback``: ``outcome`` cancelled, failedOver (left alone) or failed, with the jobs."""

    NAME = "machine_rollback output"

    machine: str
    outcome: str
    error: Json | None = None
    jobs: tuple[str, ...] = ()


@dataclass(frozen=True, config=CONFIG)
class BatchEntry(Payload):
    """One machine of a batch: its plan entry, its attempt, the stage to resume from (a retry) and its last record."""

    NAME = "wave_batch machine entry"
    SPARSE = frozenset({"from_stage"})

    machine: NamedMachine
    attempt: Attempt = 0
    record: Json | None = None
    from_stage: Unset = None

    @property
    def name(self) -> str:
        return str(self.machine["name"])


@dataclass(frozen=True, config=CONFIG)
class BatchInput(Payload):
    """The input of ``wave_batch``: a phase (prepare, cutover or rollback) for a few machines, ``cap`` at a time."""

    NAME = "wave_batch input"

    migration_id: str
    phase: str
    machines: tuple[BatchEntry, ...]
    cap: Annotated[int, BeforeValidator(lambda cap: cap or 1)] = 1
    time_scale: TimeScale = DEFAULT_TIME_SCALE
    options: Options = Field(default_factory=dict)


@dataclass(frozen=True, config=CONFIG)
class BatchOutput(Payload):
    """The output of ``wave_batch``: each machine's record, and the machines a cancel kept it from starting."""

    NAME = "wave_batch output"

    results: dict[str, Json]
    not_started: tuple[str, ...] = ()
