"""The events a migration publishes: their catalog, their data models, and the one builder that shapes them.

Every event is a CloudEvents 1.0 structured JSON document, sent to the ``migration-events`` topic as
one Service Bus message. Subscribers (Logic Apps, subscription filters, other services) route on a few
plain, string-valued application properties and parse the body once for the rest::

    body                 {"specversion": "1.0", "id", "source", "type", "subject", "time",
                          "datacontenttype": "application/json", "data": {...}}
    content_type         application/cloudevents+json; charset=utf-8   (the CloudEvents AMQP binding's
                         structured mode)
    message_id           the CloudEvent id: uuid5(EVENT_ID_NAMESPACE, "<type> <eventKey>")
    correlation_id       the migration id
    subject              the event type
    application props    eventType, migrationId, machine ("" for wave-level events), status

Why these choices:

- The id is derived, never random: an activity that is replayed or retried rebuilds the same id, and the
  topic's duplicate detection drops the second copy. The caller's ``event_key`` names the occurrence
  (``"{instanceId}/{machine}/{stage}/{status}/{attempt}"``); the type is part of the name so that two
  event types given the same key by mistake cannot swallow each other.
- The time is given, never read from a clock: an orchestrator passes ``context.current_utc_datetime``,
  which is the same on every replay.
- The data of each type is a pydantic model, so a malformed event is a :class:`ValueError` in the code that
  built it (and in its tests), not a surprise for a subscriber; JSON Schemas generated from the same models
  are checked in under ``schemas/events/`` (``python -m migration.events`` rewrites them).
- Every string in the data passes through :func:`migration.errors.redact_all`: an ASR message that echoes a SAS
  URL or a bearer token must not reach a topic that other teams read.

This module is pure: no Service Bus client, no Azure Functions; ``migration/servicebus.py`` sends what
:func:`build_event` returns.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from migration.commands import ControlAction
from migration.errors import redact_all
from migration.generated_files import write_or_check
from migration.hook_options import HookPhase
from migration.plan_options import OnApprovalTimeout
from migration.plan_types import MachineName, PlanModel, Slug, UtcDatetime
from migration.stages import Stage

__all__ = [
    "CONTENT_TYPE",
    "EVENT_ID_NAMESPACE",
    "MAX_MESSAGE_BYTES",
    "SCHEMA_DIR",
    "TOPIC",
    "ControlAction",
    "EventMessage",
    "EventType",
    "MachineOutcome",
    "StepStatus",
    "WaveStatus",
    "build_event",
    "event_id",
    "event_schema",
    "render_event_schemas",
    "main",
]

TOPIC = "migration-events"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
# Fixed for the life of the project: changing it changes every event id, and a replay straddling the change
# would publish duplicates.
EVENT_ID_NAMESPACE = uuid.UUID("5b0c6f0e-3d1a-4c7e-9a52-8f4e2d61b7a3")
# Service Bus Standard tier's largest message (service-bus-quotas.md: "Message size for a queue, topic, or
# subscription entity: 256 KB" on Standard); a bigger event would be refused by the broker on every retry.
MAX_MESSAGE_BYTES = 256 * 1024
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "events"


class EventType(StrEnum):
    """The CloudEvent ``type``, also the Service Bus ``subject`` and the ``eventType`` property."""

    ACCEPTED = "migration.accepted"
    REJECTED = "migration.rejected"
    STAGE_CHANGED = "migration.machine.stage_changed"
    AWAITING_APPROVAL = "migration.awaiting_approval"
    CONTROL = "migration.control"
    MACHINE_COMPLETED = "migration.machine.completed"
    MACHINE_CHECKED = "migration.machine.checked"
    COMPLETED = "migration.completed"
    GROUP_HOOK = "migration.group.hook"
    HOOK_COMPLETED = "migration.group.hook_completed"


class StepStatus(StrEnum):
    """Where a machine stands within a stage."""

    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MachineOutcome(StrEnum):
    """A machine's terminal outcome, as results and status documents spell it."""

    MIGRATED = "Migrated"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


class WaveStatus(StrEnum):
    """The whole wave's final status."""

    MIGRATED = "Migrated"
    PARTIALLY_MIGRATED = "PartiallyMigrated"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# Relative paths only: an absolute URL would name a host, and a query string could carry a function key.
ApiPath = Annotated[
    str,
    StringConstraints(pattern=r"^/api/[A-Za-z0-9._~\-/]+$", max_length=500),
    Field(description="Path relative to the Function App (no host, no query string, no key)."),
]


# --- data of each event type ---------------------------------------------------------------------------


class GroupSummary(PlanModel):
    """A cutover group and its machines, in cutover order."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    machines: list[MachineName] = Field(min_length=1)


class AcceptedData(PlanModel):
    """``migration.accepted``: the plan was valid and the wave started."""

    migration_id: Slug
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    machine_count: int = Field(ge=1)
    groups: list[GroupSummary] = Field(min_length=1)

    @model_validator(mode="after")
    def _count_matches_groups(self) -> AcceptedData:
        listed = sum(len(group.machines) for group in self.groups)
        if listed != self.machine_count:
            raise ValueError(f"machineCount is {self.machine_count} but the groups list {listed} machines")
        return self


class ProblemItem(PlanModel):
    """One reason for a rejection, with where it was found (``groups[0].machines[3].target.networkId``)."""

    path: Annotated[str, StringConstraints(max_length=500)]
    message: Text


class RejectedData(PlanModel):
    """``migration.rejected``: a plan or control message was refused; nothing was started or changed."""

    migration_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="The id the refused message named, if it named one (it may be invalid)."
    )
    message_id: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        default=None, description="Service Bus message id of the refused message; null for HTTP requests."
    )
    reason: Text
    problems: list[ProblemItem] = Field(default_factory=list)


class StageChangedData(PlanModel):
    """``migration.machine.stage_changed``: a machine entered, waits in, or left a runbook stage."""

    migration_id: Slug
    machine: MachineName
    stage: Stage
    previous_stage: Stage | None = None
    status: StepStatus
    job_id: ShortText | None = Field(default=None, description="The ASR job behind this stage, if any.")
    progress_percent: int | None = Field(default=None, ge=0, le=100)
    eta: UtcDatetime | None = Field(default=None, description="Estimated end of the stage (UTC).")


class CutoverWindowData(PlanModel):
    not_before: UtcDatetime | None = None
    not_after: UtcDatetime | None = None


class AwaitingApprovalData(PlanModel):
    """``migration.awaiting_approval``: machines are ready for the irreversible cutover and wait for a person."""

    migration_id: Slug
    machines: list[MachineName] = Field(min_length=1)
    approval_deadline: UtcDatetime = Field(description="When the wait ends without an answer (UTC).")
    on_approval_timeout: OnApprovalTimeout = Field(description="What happens then: keep holding, or cancel.")
    cutover_window: CutoverWindowData | None = None
    approve_uri: ApiPath
    reject_uri: ApiPath


class ControlData(PlanModel):
    """``migration.control``: a command was received and recorded, whether or not it could be applied."""

    migration_id: Slug
    action: ControlAction
    actor: ShortText = Field(description="The signed-in caller's name; for a Service Bus command, what it asserted.")
    actor_id: ShortText | None = Field(
        default=None, description="The caller's Entra object id; absent when the actor is only asserted."
    )
    asserted_actor: ShortText | None = Field(
        default=None, description="The body's actor when it differs from the signed-in caller: a note, not proof."
    )
    reason: Text | None = None
    machines: list[MachineName] = Field(default_factory=list, description="Empty: the command is for the wave.")
    accepted: bool
    detail: Text | None = Field(default=None, description="Why it was refused, or what it changed.")


class MachineError(PlanModel):
    """Why a machine failed: the stage, an error code, a message and the ASR job, when there was one."""

    stage: Stage | None
    code: ShortText
    message: Text
    job_id: ShortText | None = None


CheckOutcome = Literal["passed", "failed", "skipped"]


class CheckResultData(PlanModel):
    """One check of a VM: a boot check (``running``, ``agentReady``, ``bootDiagnostics``) or a script."""

    name: ShortText
    kind: Literal["boot", "script"]
    outcome: CheckOutcome
    detail: Text
    exit_code: int | None = None
    execution_state: ShortText | None = None
    output: Text | None = Field(default=None, description="The end of the script's output (an excerpt).")
    error_output: Text | None = Field(default=None, description="The end of the script's error stream (an excerpt).")


class MachineCheckedData(PlanModel):
    """``migration.machine.checked``: the checks of a machine's test VM or migrated VM ran (migration.check_options)."""

    migration_id: Slug
    machine: MachineName
    phase: Literal["testVm", "migratedVm"]
    vm: ShortText = Field(description="The VM's name in the target resource group.")
    outcome: Literal["passed", "failed"]
    checks: list[CheckResultData] = Field(max_length=20)
    started_at: UtcDatetime
    ended_at: UtcDatetime


class MachineChecksSummary(PlanModel):
    """How each VM's checks ended, when they ran."""

    test_vm: Literal["passed", "failed"] | None = None
    migrated_vm: Literal["passed", "failed"] | None = None


class MachineCompletedData(PlanModel):
    """``migration.machine.completed``: a machine reached its terminal outcome."""

    migration_id: Slug
    machine: MachineName
    outcome: MachineOutcome
    error: MachineError | None = None
    migrated_vm_id: Annotated[str, StringConstraints(max_length=1000)] | None = None
    downtime_seconds: float | None = Field(default=None, ge=0)
    checks: MachineChecksSummary | None = None

    @model_validator(mode="after")
    def _error_matches_outcome(self) -> MachineCompletedData:
        if self.outcome is MachineOutcome.FAILED and self.error is None:
            raise ValueError("a Failed outcome needs an error {stage, code, message, jobId}")
        if self.outcome is MachineOutcome.MIGRATED and self.error is not None:
            raise ValueError("a Migrated outcome carries no error")
        return self


class OutcomeCounts(PlanModel):
    migrated: int = Field(ge=0)
    failed: int = Field(ge=0)
    cancelled: int = Field(ge=0)


class MachineResult(PlanModel):
    name: MachineName
    outcome: MachineOutcome


class CompletedData(PlanModel):
    """``migration.completed``: the wave's final result."""

    migration_id: Slug
    status: WaveStatus
    counts: OutcomeCounts
    machines: list[MachineResult] = Field(min_length=1)

    @model_validator(mode="after")
    def _counts_and_status_agree(self) -> CompletedData:
        tally = {outcome: 0 for outcome in MachineOutcome}
        for machine in self.machines:
            tally[machine.outcome] += 1
        counted = {
            MachineOutcome.MIGRATED: self.counts.migrated,
            MachineOutcome.FAILED: self.counts.failed,
            MachineOutcome.CANCELLED: self.counts.cancelled,
        }
        if tally != counted:
            listed = ", ".join(f"{outcome.value} {tally[outcome]}" for outcome in MachineOutcome)
            raise ValueError(f"counts do not match the machines listed ({listed})")
        migrated, total = tally[MachineOutcome.MIGRATED], len(self.machines)
        if self.status is WaveStatus.MIGRATED and migrated != total:
            raise ValueError("status Migrated needs every machine Migrated")
        if self.status is WaveStatus.PARTIALLY_MIGRATED and not 0 < migrated < total:
            raise ValueError("status PartiallyMigrated needs some machines Migrated and some not")
        return self


HookName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
GroupName = Annotated[str, StringConstraints(min_length=1, max_length=80)]


class GroupHookData(PlanModel):
    """``migration.group.hook``: what a group's ``http`` hook receives (POSTed to its URL, not published on the
    topic). The id is the same on every call of one run of the hook, so a receiver can drop a repeated call."""

    migration_id: Slug
    group: GroupName
    machines: list[MachineName] = Field(min_length=1, description="The group's machines, in plan order.")
    phase: HookPhase = Field(description="beforeCutover: no failover has started; afterCutover: the group is done.")
    hook: HookName
    attempt: int = Field(ge=0, description="0 for the first run of the group's hooks, one more per retry command.")


class HookMachineResult(PlanModel):
    """How a Run Command hook went on one machine's migrated VM."""

    machine: MachineName
    outcome: Literal["passed", "failed"]
    exit_code: int | None = None
    detail: Text


class HookCompletedData(PlanModel):
    """``migration.group.hook_completed``: one hook of a group ran (every call and retry included)."""

    migration_id: Slug
    group: GroupName
    phase: HookPhase
    hook: HookName
    type: Literal["http", "runCommand"]
    attempt: int = Field(ge=0, description="The run of the group's hooks: 0, then one more per retry command.")
    outcome: Literal["passed", "failed"]
    attempts: int = Field(ge=1, description="Calls made (an http hook's retries included).")
    host: ShortText | None = Field(default=None, description="The http hook's host (never its URL).")
    http_status: int | None = Field(default=None, ge=100, le=599, description="The last answer's status, if any.")
    machines: list[HookMachineResult] = Field(default_factory=list, description="A runCommand hook's VMs.")
    excerpt: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None, description="The start of the last answer (http) or the end of the output (runCommand)."
    )
    detail: Text
    duration_seconds: float = Field(ge=0)


# --- the CloudEvent envelope, per type (for the schemas and for consumers' tests) ------------------------


class _CloudEvent(BaseModel):
    """CloudEvents 1.0 context attributes as this app fills them; ``data`` is typed by each subclass."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"]
    id: uuid.UUID = Field(description="uuid5 of the event type and the publisher's event key; the Service Bus id.")
    source: Annotated[str, StringConstraints(pattern=r"^/migrations(/[^/\s]+)?$")]
    time: AwareDatetime
    datacontenttype: Literal["application/json"]


class AcceptedEvent(_CloudEvent):
    type: Literal["migration.accepted"]
    subject: Literal["migration.accepted"]
    data: AcceptedData


class RejectedEvent(_CloudEvent):
    type: Literal["migration.rejected"]
    subject: Literal["migration.rejected"]
    data: RejectedData


class StageChangedEvent(_CloudEvent):
    type: Literal["migration.machine.stage_changed"]
    subject: Literal["migration.machine.stage_changed"]
    data: StageChangedData


class AwaitingApprovalEvent(_CloudEvent):
    type: Literal["migration.awaiting_approval"]
    subject: Literal["migration.awaiting_approval"]
    data: AwaitingApprovalData


class ControlEvent(_CloudEvent):
    type: Literal["migration.control"]
    subject: Literal["migration.control"]
    data: ControlData


class MachineCompletedEvent(_CloudEvent):
    type: Literal["migration.machine.completed"]
    subject: Literal["migration.machine.completed"]
    data: MachineCompletedData


class MachineCheckedEvent(_CloudEvent):
    type: Literal["migration.machine.checked"]
    subject: Literal["migration.machine.checked"]
    data: MachineCheckedData


class CompletedEvent(_CloudEvent):
    type: Literal["migration.completed"]
    subject: Literal["migration.completed"]
    data: CompletedData


class GroupHookEvent(_CloudEvent):
    type: Literal["migration.group.hook"]
    subject: Literal["migration.group.hook"]
    data: GroupHookData


class HookCompletedEvent(_CloudEvent):
    type: Literal["migration.group.hook_completed"]
    subject: Literal["migration.group.hook_completed"]
    data: HookCompletedData


_DATA_MODELS: dict[EventType, type[PlanModel]] = {
    EventType.ACCEPTED: AcceptedData,
    EventType.REJECTED: RejectedData,
    EventType.STAGE_CHANGED: StageChangedData,
    EventType.AWAITING_APPROVAL: AwaitingApprovalData,
    EventType.CONTROL: ControlData,
    EventType.MACHINE_COMPLETED: MachineCompletedData,
    EventType.MACHINE_CHECKED: MachineCheckedData,
    EventType.COMPLETED: CompletedData,
    EventType.GROUP_HOOK: GroupHookData,
    EventType.HOOK_COMPLETED: HookCompletedData,
}
EVENT_MODELS: dict[EventType, type[_CloudEvent]] = {
    EventType.ACCEPTED: AcceptedEvent,
    EventType.REJECTED: RejectedEvent,
    EventType.STAGE_CHANGED: StageChangedEvent,
    EventType.AWAITING_APPROVAL: AwaitingApprovalEvent,
    EventType.CONTROL: ControlEvent,
    EventType.MACHINE_COMPLETED: MachineCompletedEvent,
    EventType.MACHINE_CHECKED: MachineCheckedEvent,
    EventType.COMPLETED: CompletedEvent,
    EventType.GROUP_HOOK: GroupHookEvent,
    EventType.HOOK_COMPLETED: HookCompletedEvent,
}
# Events about one machine fill the ``machine`` property; the others leave it empty.
_MACHINE_EVENTS = frozenset({EventType.STAGE_CHANGED, EventType.MACHINE_COMPLETED, EventType.MACHINE_CHECKED})


def _status_of(event_type: EventType, data: Mapping[str, Any]) -> str:
    """The ``status`` routing property: the outcome or state the event reports, always a plain string."""
    match event_type:
        case EventType.STAGE_CHANGED | EventType.COMPLETED:
            return str(data["status"])
        case EventType.MACHINE_COMPLETED | EventType.MACHINE_CHECKED:
            return str(data["outcome"])
        case EventType.HOOK_COMPLETED:
            return str(data["outcome"])
        case EventType.GROUP_HOOK:
            return str(data["phase"])
        case EventType.CONTROL:
            return "accepted" if data["accepted"] else "refused"
        case EventType.AWAITING_APPROVAL:
            return StepStatus.WAITING.value
        case EventType.ACCEPTED:
            return "accepted"
        case EventType.REJECTED:
            return "rejected"


# --- building ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventMessage:
    """A validated, redacted CloudEvent and everything a Service Bus message needs to carry it."""

    event: dict[str, Any]
    body: str
    message_id: str
    correlation_id: str | None
    subject: str
    application_properties: dict[str, str]
    content_type: str = CONTENT_TYPE


def event_id(event_type: EventType | str, event_key: str) -> str:
    """The deterministic CloudEvent id (and Service Bus message id) of one occurrence of an event."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{_event_type(event_type).value} {event_key}"))


def _event_type(value: EventType | str) -> EventType:
    try:
        return EventType(value)
    except ValueError:
        known = ", ".join(t.value for t in EventType)
        raise ValueError(f"unknown event type {value!r}; expected one of: {known}") from None


def _event_time(value: datetime | str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"time {value!r} is not an ISO-8601 date and time") from None
    if not isinstance(value, datetime):
        raise ValueError(f"time must be a datetime or an ISO-8601 string, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time {value.isoformat()} has no UTC offset; pass an aware datetime (e.g. ...Z)")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{path}: {message}" if path else message)
    return "; ".join(parts)


def build_event(
    event_type: EventType | str,
    *,
    event_key: str,
    time: datetime | str,
    migration_id: str | None,
    data: Mapping[str, Any],
    machine: str | None = None,
    status: str | None = None,
) -> EventMessage:
    """Validate ``data`` for ``event_type``, redact it, and wrap it as a CloudEvent and a Service Bus message.

    ``migration_id`` is copied into ``data`` when ``data`` leaves it out (and must agree when it is there);
    it may be None only for ``migration.rejected``. ``machine`` and ``status`` are optional cross-checks of
    the routing properties, which are derived from ``data``. Every mistake is a ValueError naming the field.
    """
    kind = _event_type(event_type)
    if not isinstance(event_key, str) or not event_key.strip():
        raise ValueError("eventKey must be a non-empty string naming this occurrence of the event")
    if len(event_key) > 1000:
        raise ValueError("eventKey is longer than 1000 characters")
    when = _event_time(time)
    if not isinstance(data, Mapping):
        raise ValueError(f"{kind.value} data must be a JSON object, not {type(data).__name__}")
    if migration_id is None and kind is not EventType.REJECTED:
        raise ValueError(f"{kind.value} needs a migrationId")
    payload = dict(data)
    if migration_id is not None:
        given = payload.setdefault("migrationId", migration_id)
        if given != migration_id:
            raise ValueError(f"data.migrationId {given!r} differs from migrationId {migration_id!r}")
    try:
        model = _DATA_MODELS[kind].model_validate(payload)
    except ValidationError as error:
        raise ValueError(f"{kind.value} data is invalid: {_describe(error)}") from None
    clean: dict[str, Any] = redact_all(model.model_dump(mode="json", by_alias=True))

    machine_property = str(clean["machine"]) if kind in _MACHINE_EVENTS else ""
    if machine is not None and machine != machine_property:
        raise ValueError(f"machine {machine!r} does not match the event's machine {machine_property!r}")
    status_property = _status_of(kind, clean)
    if status is not None and status != status_property:
        raise ValueError(f"status {status!r} does not match the status {status_property!r} the data reports")

    source = f"/migrations/{quote(migration_id, safe='')}" if migration_id else "/migrations"
    identifier = event_id(kind, event_key)
    event = {
        "specversion": "1.0",
        "id": identifier,
        "source": source,
        "type": kind.value,
        "subject": kind.value,
        "time": when,
        "datacontenttype": "application/json",
        "data": clean,
    }
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    size = len(body.encode("utf-8"))
    if size > MAX_MESSAGE_BYTES:
        raise ValueError(f"{kind.value} event is {size} bytes; Service Bus Standard accepts {MAX_MESSAGE_BYTES}")
    message_data_id = clean.get("messageId") if kind is EventType.REJECTED else None
    return EventMessage(
        event=event,
        body=body,
        message_id=identifier,
        correlation_id=migration_id or message_data_id or None,
        subject=kind.value,
        application_properties={
            "eventType": kind.value,
            "migrationId": migration_id or "",
            "machine": machine_property,
            "status": status_property,
        },
    )


# --- schemas ----------------------------------------------------------------------------------------------


def event_schema(event_type: EventType | str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one event type's whole CloudEvent, as subscribers receive it."""
    kind = _event_type(event_type)
    schema = EVENT_MODELS[kind].model_json_schema(by_alias=True, mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{kind.value} CloudEvent",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def render_event_schemas() -> dict[str, str]:
    """File name → text of every checked-in schema (stable key order, two-space indent, final newline)."""
    return {
        f"{kind.value}.schema.json": json.dumps(event_schema(kind), indent=2, ensure_ascii=False) + "\n"
        for kind in EventType
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Write the schemas (to ``schemas/events/``, or the directory given); ``--check`` only compares."""
    return write_or_check(
        argv,
        SCHEMA_DIR,
        lambda directory: {directory / name: text for name, text in render_event_schemas().items()},
        command="python -m migration.events",
        orphan_glob="*.schema.json",
    )


if __name__ == "__main__":
    raise SystemExit(main())
