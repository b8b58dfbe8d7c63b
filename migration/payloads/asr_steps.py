"""What orchestrators ask of the Site Recovery activities, and the answers they decide on.

A step is started by ``start_asr_step`` (:class:`StartStepInput`, answered by :class:`StepStarted`); an item is
read by ``read_protected_item`` and checked by ``check_machine`` (:class:`MachineRequest`, the reading is
:class:`ItemReading`); a job is read by ``read_asr_job`` (:class:`JobReadInput`). A permanent failure comes back
as ``{"error": error record}`` instead (:func:`migration.errors.error_record`), which callers test for first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from migration.json_types import Json
from migration.payloads.fields import as_object, optional_float, required
from migration.steps import Step

__all__ = ["ItemReading", "JobReadInput", "MachineRequest", "StartStepInput", "StepStarted"]


@dataclass(frozen=True, slots=True)
class MachineRequest:
    """The input of ``read_protected_item`` and ``check_machine``: the machine's plan entry.

    ``stage`` names the stage its errors are recorded under; ``dr`` reads the A2A item that protects the migrated
    VM toward the secondary region. Each is sent only when set.
    """

    NAME = "machine request"

    machine: Json
    stage: str | None = None
    dr: bool = False

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            machine=as_object(required(data, "machine", cls.NAME), f"{cls.NAME} machine"),
            stage=data.get("stage"),
            dr=bool(data.get("dr")),
        )

    def to_dict(self) -> Json:
        data: Json = {"machine": self.machine}
        if self.stage is not None:
            data["stage"] = self.stage
        if self.dr:
            data["dr"] = True
        return data


@dataclass(frozen=True, slots=True)
class StartStepInput:
    """The input of ``start_asr_step``: the machine, the step, the wave options it needs (``drAfterMigration``).

    ``stage`` defaults to the step's own name; ``recovery_point_id`` and ``comments`` are sent only when set.
    """

    NAME = "start_asr_step input"

    machine: Json
    step: Step
    options: Json = field(default_factory=dict)
    stage: str | None = None
    recovery_point_id: str | None = None
    comments: str | None = None

    @property
    def stage_name(self) -> str:
        return self.stage or self.step.value

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            machine=as_object(required(data, "machine", cls.NAME), f"{cls.NAME} machine"),
            step=Step(required(data, "step", cls.NAME)),
            options=data.get("options") or {},
            stage=data.get("stage") or None,
            recovery_point_id=data.get("recoveryPointId"),
            comments=data.get("comments"),
        )

    def to_dict(self) -> Json:
        data: Json = {"machine": self.machine, "step": self.step.value, "options": self.options, "stage": self.stage}
        if self.recovery_point_id is not None:
            data["recoveryPointId"] = self.recovery_point_id
        if self.comments is not None:
            data["comments"] = self.comments
        return data


@dataclass(frozen=True, slots=True)
class StepStarted:
    """What ``start_asr_step`` decided (``migration.steps.Decision``) and, unless the step is done, its job."""

    NAME = "start_asr_step output"

    decision: str
    reason: str
    job_name: str | None = None
    job_id: str | None = None
    retry_after_seconds: float | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            decision=str(required(data, "decision", cls.NAME)),
            reason=str(data.get("reason") or ""),
            job_name=data.get("jobName") or None,
            job_id=data.get("jobId"),
            retry_after_seconds=optional_float(data.get("retryAfterSeconds")),
        )

    def to_dict(self) -> Json:
        data: Json = {"decision": self.decision, "reason": self.reason}
        if self.job_name is not None:
            data.update(jobName=self.job_name, jobId=self.job_id, retryAfterSeconds=self.retry_after_seconds)
        return data


@dataclass(frozen=True, slots=True)
class ItemReading:
    """What ``read_protected_item`` found: whether the item exists, its normalized view, the failover's point."""

    NAME = "read_protected_item output"

    exists: bool
    view: Json | None = None
    failover_recovery_point_id: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            exists=bool(required(data, "exists", cls.NAME)),
            view=data.get("view"),
            failover_recovery_point_id=data.get("failoverRecoveryPointId"),
        )

    def to_dict(self) -> Json:
        return {"exists": self.exists, "view": self.view, "failoverRecoveryPointId": self.failover_recovery_point_id}


@dataclass(frozen=True, slots=True)
class JobReadInput:
    """The input of ``read_asr_job``: the vault (``subscriptionId``, ``resourceGroup``, ``name``) and the job."""

    NAME = "read_asr_job input"

    vault: Json
    job_name: str
    stage: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        vault = as_object(required(data, "vault", cls.NAME), f"{cls.NAME} vault")
        for key in ("subscriptionId", "resourceGroup", "name"):
            required(vault, key, f"{cls.NAME} vault")
        return cls(vault=vault, job_name=str(required(data, "jobName", cls.NAME)), stage=data.get("stage"))

    def to_dict(self) -> Json:
        return {"vault": self.vault, "jobName": self.job_name, "stage": self.stage}
