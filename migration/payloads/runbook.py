"""What the wave, its batches and each machine's runbook or rollback hand one another.

The wave starts batches (:class:`BatchInput`, one :class:`BatchEntry` per machine), a batch starts a runbook
(:class:`RunbookInput`) or a rollback (:class:`RollbackInput`) per machine and answers with :class:`BatchOutput`.
A machine whose orchestration failed outright is reported with :func:`failed_record`, the short record the wave
absorbs as it absorbs a runbook's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from migration.json_types import Json
from migration.payloads.fields import DEFAULT_TIME_SCALE, as_object, required, time_scale

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


@dataclass(frozen=True, slots=True)
class RunbookInput:
    """The input of ``machine_runbook``: one machine, its plan options, and which part of the runbook to run.

    ``from_stage`` (default: the runbook's first stage) and ``stop_at`` (default: run to the end) are sent only when
    set; ``record`` is the machine's record from its previous run, whose stages and jobs the new run carries on.
    """

    NAME = "machine_runbook input"

    migration_id: str
    machine: Json
    options: Json = field(default_factory=dict)
    time_scale: float = DEFAULT_TIME_SCALE
    attempt: int = 0
    record: Json | None = None
    from_stage: str | None = None
    stop_at: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            migration_id=str(required(data, "migrationId", cls.NAME)),
            machine=as_object(required(data, "machine", cls.NAME), f"{cls.NAME} machine"),
            options=data.get("options") or {},
            time_scale=time_scale(data),
            attempt=int(data.get("attempt") or 0),
            record=data.get("record"),
            from_stage=data.get("fromStage") or None,
            stop_at=data.get("stopAt") or None,
        )

    def to_dict(self) -> Json:
        data: Json = {
            "migrationId": self.migration_id,
            "machine": self.machine,
            "options": self.options,
            "timeScale": self.time_scale,
            "attempt": self.attempt,
            "record": self.record,
        }
        if self.from_stage is not None:
            data["fromStage"] = self.from_stage
        if self.stop_at is not None:
            data["stopAt"] = self.stop_at
        return data


@dataclass(frozen=True, slots=True)
class RollbackInput:
    """The input of ``machine_rollback``: the machine to roll back and its plan options."""

    NAME = "machine_rollback input"

    migration_id: str
    machine: Json
    options: Json = field(default_factory=dict)
    time_scale: float = DEFAULT_TIME_SCALE
    attempt: int = 0

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            migration_id=str(required(data, "migrationId", cls.NAME)),
            machine=as_object(required(data, "machine", cls.NAME), f"{cls.NAME} machine"),
            options=data.get("options") or {},
            time_scale=time_scale(data),
            attempt=int(data.get("attempt") or 0),
        )

    def to_dict(self) -> Json:
        return {
            "migrationId": self.migration_id,
            "machine": self.machine,
            "options": self.options,
            "timeScale": self.time_scale,
            "attempt": self.attempt,
        }


@dataclass(frozen=True, slots=True)
class RollbackResult:
    """The output of ``machine_rollback``: ``outcome`` cancelled, failedOver (left alone) or failed, with the jobs."""

    NAME = "machine_rollback output"

    machine: str
    outcome: str = "failed"
    error: Json | None = None
    jobs: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            machine=str(required(data, "machine", cls.NAME)),
            outcome=str(required(data, "outcome", cls.NAME)),
            error=data.get("error"),
            jobs=tuple(data.get("jobs") or ()),
        )

    def to_dict(self) -> Json:
        return {"machine": self.machine, "outcome": self.outcome, "error": self.error, "jobs": list(self.jobs)}


@dataclass(frozen=True, slots=True)
class BatchEntry:
    """One machine of a batch: its plan entry, its attempt, the stage to resume from (a retry) and its last record."""

    NAME = "wave_batch machine entry"

    machine: Json
    attempt: int = 0
    record: Json | None = None
    from_stage: str | None = None

    @property
    def name(self) -> str:
        return str(self.machine["name"])

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        machine = as_object(required(data, "machine", cls.NAME), f"{cls.NAME} machine")
        required(machine, "name", f"{cls.NAME} machine")
        return cls(
            machine=machine,
            attempt=int(data.get("attempt") or 0),
            record=data.get("record"),
            from_stage=data.get("fromStage") or None,
        )

    def to_dict(self) -> Json:
        data: Json = {"machine": self.machine, "attempt": self.attempt, "record": self.record}
        if self.from_stage is not None:
            data["fromStage"] = self.from_stage
        return data


@dataclass(frozen=True, slots=True)
class BatchInput:
    """The input of ``wave_batch``: a phase (prepare, cutover or rollback) for a few machines, ``cap`` at a time."""

    NAME = "wave_batch input"

    migration_id: str
    phase: str
    machines: tuple[BatchEntry, ...]
    cap: int = 1
    time_scale: float = DEFAULT_TIME_SCALE
    options: Json = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            migration_id=str(required(data, "migrationId", cls.NAME)),
            phase=str(required(data, "phase", cls.NAME)),
            machines=tuple(BatchEntry.from_dict(entry) for entry in required(data, "machines", cls.NAME)),
            cap=int(data.get("cap") or 1),
            time_scale=time_scale(data),
            options=data.get("options") or {},
        )

    def to_dict(self) -> Json:
        return {
            "migrationId": self.migration_id,
            "phase": self.phase,
            "cap": self.cap,
            "timeScale": self.time_scale,
            "options": self.options,
            "machines": [entry.to_dict() for entry in self.machines],
        }


@dataclass(frozen=True, slots=True)
class BatchOutput:
    """The output of ``wave_batch``: each machine's record, and the machines a cancel kept it from starting."""

    NAME = "wave_batch output"

    results: dict[str, Json] = field(default_factory=dict)
    not_started: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        results = as_object(required(data, "results", cls.NAME), f"{cls.NAME} results")
        return cls(results=results, not_started=tuple(data.get("notStarted") or ()))

    def to_dict(self) -> Json:
        return {"results": self.results, "notStarted": list(self.not_started)}
