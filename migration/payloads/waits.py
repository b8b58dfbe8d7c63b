"""The inputs of the two long waits, including what each generation hands the next through ``continue_as_new``.

``wait_for_asr_job`` (:class:`JobWaitInput`) and ``wait_for_initial_replication`` (:class:`ReplicationWaitInput`)
restart their history every few reads; the counters and the pacing they carry over are part of the input, sent
only by a continued generation (the first one's input holds none of them, as it always has).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from migration.json_types import Json
from migration.payloads.fields import DEFAULT_TIME_SCALE, as_object, iso_time, optional_float, required, time_scale
from migration.progress import ProgressState
from migration.steps import Step

__all__ = ["JobWaitInput", "ReplicationWaitInput"]


@dataclass(frozen=True, slots=True)
class JobWaitInput:
    """Wait for one ASR job until ``deadline`` (UTC); ``step`` sets how late the first read comes.

    A continued generation also carries ``polls`` (reads so far) and ``next_poll_plan_seconds`` (the next gap).
    """

    NAME = "wait_for_asr_job input"

    vault: Json
    job_name: str
    job_id: str | None
    step: Step
    stage: str | None
    deadline: datetime
    time_scale: float = DEFAULT_TIME_SCALE
    retry_after_seconds: float | None = None
    polls: int = 0
    next_poll_plan_seconds: float | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            vault=as_object(required(data, "vault", cls.NAME), f"{cls.NAME} vault"),
            job_name=str(required(data, "jobName", cls.NAME)),
            job_id=data.get("jobId"),
            step=Step(required(data, "step", cls.NAME)),
            stage=data.get("stage"),
            deadline=iso_time(data, "deadline", cls.NAME),
            time_scale=time_scale(data),
            retry_after_seconds=optional_float(data.get("retryAfterSeconds")),
            polls=int(data.get("polls") or 0),
            next_poll_plan_seconds=float(data["nextPollPlanSeconds"]) if data.get("nextPollPlanSeconds") else None,
        )

    def to_dict(self) -> Json:
        data: Json = {
            "vault": self.vault,
            "jobName": self.job_name,
            "jobId": self.job_id,
            "step": self.step.value,
            "stage": self.stage,
            "timeScale": self.time_scale,
            "deadline": self.deadline.isoformat(),
            "retryAfterSeconds": self.retry_after_seconds,
        }
        if self.polls:
            data["polls"] = self.polls
        if self.next_poll_plan_seconds is not None:
            data["nextPollPlanSeconds"] = self.next_poll_plan_seconds
        return data


@dataclass(frozen=True, slots=True)
class ReplicationWaitInput:
    """Wait for a machine's initial replication until ``deadline`` (UTC), polling paced by its ETA.

    A continued generation also carries ``polls``, ``stalled``, ``progress`` (the readings so far) and
    ``next_delay_seconds`` (the wall-clock gap before its first read); all four are sent once ``polls`` is set.
    """

    NAME = "wait_for_initial_replication input"

    machine: Json
    poll_interval_seconds: float
    stall_warning_after_seconds: float
    deadline: datetime
    time_scale: float = DEFAULT_TIME_SCALE
    polls: int = 0
    stalled: bool = False
    progress: ProgressState | None = None
    next_delay_seconds: float = 0.0

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        data = as_object(data, cls.NAME)
        return cls(
            machine=as_object(required(data, "machine", cls.NAME), f"{cls.NAME} machine"),
            # Carried on as given (a number): a continued generation's input repeats the first one's exactly.
            poll_interval_seconds=required(data, "pollIntervalSeconds", cls.NAME),
            stall_warning_after_seconds=required(data, "stallWarningAfterSeconds", cls.NAME),
            deadline=iso_time(data, "deadline", cls.NAME),
            time_scale=time_scale(data),
            polls=int(data.get("polls") or 0),
            stalled=bool(data.get("stalled")),
            progress=ProgressState.from_dict(data["progress"]) if data.get("progress") else None,
            next_delay_seconds=float(data.get("nextDelaySeconds") or 0),
        )

    def to_dict(self) -> Json:
        data: Json = {
            "machine": self.machine,
            "timeScale": self.time_scale,
            "pollIntervalSeconds": self.poll_interval_seconds,
            "stallWarningAfterSeconds": self.stall_warning_after_seconds,
            "deadline": self.deadline.isoformat(),
        }
        if self.polls:
            data.update(
                polls=self.polls,
                stalled=self.stalled,
                progress=self.progress.to_dict() if self.progress else None,
                nextDelaySeconds=self.next_delay_seconds,
            )
        return data
