"""The inputs of the two long waits, including what each generation hands the next through ``continue_as_new``.

``wait_for_asr_job`` (:class:`JobWaitInput`) and ``wait_for_initial_replication`` (:class:`ReplicationWaitInput`)
restart their history every few reads; the counters and the pacing they carry over are part of the input, left at
their defaults by the first generation.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer, PlainValidator
from pydantic.dataclasses import dataclass

from migration.json_types import Json
from migration.payloads.fields import (
    CONFIG,
    DEFAULT_TIME_SCALE,
    Count,
    Options,
    Payload,
    Time,
    TimeScale,
    from_wire,
)
from migration.progress import ProgressState
from migration.steps import Step

__all__ = ["JobWaitInput", "ReplicationWaitInput"]


# The replication readings so far, in ProgressState's own wire form.
Progress = Annotated[
    ProgressState, PlainValidator(from_wire(ProgressState)), PlainSerializer(lambda state: state.to_dict())
]
# A gap in seconds that is unset when zero or absent.
Gap = Annotated[float | None, BeforeValidator(lambda value: value or None)]


@dataclass(frozen=True, config=CONFIG)
class JobWaitInput(Payload):
    """Wait for one ASR job until ``deadline`` (UTC); ``step`` sets how late the first read comes.

    A continued generation also carries ``polls`` (reads so far) and ``next_poll_plan_seconds`` (the next gap).
    """

    NAME = "wait_for_asr_job input"
    SPARSE = frozenset({"polls", "next_poll_plan_seconds"})

    vault: Json
    job_name: str
    job_id: str | None
    step: Step
    stage: str | None
    deadline: Time
    time_scale: TimeScale = DEFAULT_TIME_SCALE
    retry_after_seconds: float | None = None
    polls: Count = 0
    next_poll_plan_seconds: Gap = None


@dataclass(frozen=True, config=CONFIG)
class ReplicationWaitInput(Payload):
    """Wait for a machine's initial replication until ``deadline`` (UTC), polling paced by its ETA.

    A continued generation also carries ``polls``, ``stalled``, ``progress`` (the readings so far),
    ``next_delay_seconds`` (the wall-clock gap before its first read) and ``resyncs`` (resynchronizations started
    so far). ``options`` are the wave's (a resync's job is waited for within their ``jobTimeout``).
    """

    NAME = "wait_for_initial_replication input"
    SPARSE = frozenset({"polls", "progress", "next_delay_seconds", "resyncs"})

    machine: Json
    # Numbers as given: a continued generation's input repeats the first one's exactly.
    poll_interval_seconds: int | float
    stall_warning_after_seconds: int | float
    deadline: Time
    time_scale: TimeScale = DEFAULT_TIME_SCALE
    polls: Count = 0
    stalled: bool = False
    progress: Progress | None = None
    next_delay_seconds: Annotated[float, BeforeValidator(lambda value: value or 0.0)] = 0.0
    resyncs: Count = 0
    options: Options = Field(default_factory=dict)
