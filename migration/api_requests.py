"""What the entry points accept: request bodies, headers and messages turned into checked values, or a clear refusal.

The HTTP routes and the Service Bus triggers share these rules so a plan refused on one way in is refused the same
way on the other, with the same words. Every refusal is an :class:`ApiError`: an HTTP status, a stable ``code`` a
client can branch on, a message that says what is wrong and where, and for plans every problem by path. Nothing
here touches Durable Functions or Azure Functions; the triggers only hand over bytes, headers and settings.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from migration.commands import ACTIONS, command_fingerprint
from migration.errors import PlanValidationError, Problem, redact
from migration.hook_options import HttpHook
from migration.instance_ids import wave_id
from migration.outbound import CallbackPolicy, DestinationRefused
from migration.payloads.wave import WaveInput
from migration.plain_text import text_problem
from migration.plan import Plan, validate_plan
from migration.plan_clock import PlanClock
from migration.target_scopes import target_allowed, target_refusal, target_scopes_from

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CONTROL_BYTES",
    "ApiError",
    "ControlCommand",
    "StartRequest",
    "decode_json",
    "parse_control_body",
    "parse_idempotency_key",
    "plan_sha256",
    "prepare_start",
]

# A 1,000-machine plan is well under 1 MiB; 4 MiB leaves room and still refuses a runaway upload before parsing.
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_CONTROL_BYTES = 64 * 1024
JSON_TYPES = ("application/json",)
# Idempotency keys and Service Bus message ids: letters, digits, '.', '_', '-', ':' (UUIDs and slugs fit).
_KEY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9])?$")
_MACHINE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_])?$")


@dataclass
class ApiError(Exception):
    """A refusal: ``status`` (HTTP), ``code`` (stable), ``message`` (what, where, why) and optional ``details``."""

    status: int
    code: str
    message: str
    details: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. a 401's WWW-Authenticate challenge

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": redact(self.message)}
        if self.details:
            error["details"] = [{k: redact(v) for k, v in d.items()} for d in self.details]
        return {"error": error}


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_json(body: bytes, *, what: str = "body", limit: int = MAX_BODY_BYTES) -> Any:
    """Parse ``body`` as UTF-8 JSON; ApiError 413 when too large, 400 naming line and column when malformed."""
    if len(body) > limit:
        raise ApiError(413, "PayloadTooLarge", f"the {what} is {len(body)} bytes; the limit is {limit} bytes")
    if not body.strip():
        raise ApiError(400, "EmptyBody", f"the {what} is empty; send a JSON object")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ApiError(400, "InvalidEncoding", f"the {what} is not UTF-8 (byte {error.start})") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ApiError(
            400, "InvalidJson", f"the {what} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except ValueError as error:
        raise ApiError(400, "InvalidJson", f"the {what} is not valid JSON: {error}") from None
    except RecursionError:
        raise ApiError(400, "InvalidJson", f"the {what} nests too deeply to be a plan") from None


def check_json_content_type(content_type: str | None) -> None:
    kind = media_type(content_type)
    if kind not in JSON_TYPES:
        shown = kind or "none"
        raise ApiError(415, "UnsupportedMediaType", f"Content-Type {shown!r} is not supported; send application/json")


def parse_idempotency_key(value: str | None, *, what: str = "Idempotency-Key header") -> str | None:
    """The key, or None when absent; ApiError 400 when it is not a short slug-like token."""
    if value is None or value == "":
        return None
    if not _KEY.match(value):
        raise ApiError(
            400,
            "InvalidIdempotencyKey",
            f"{what}: at most 128 letters, digits, '.', '_', '-' or ':', starting and ending with a letter or digit",
        )
    return value


def plan_sha256(plan: Plan) -> str:
    """A fingerprint of the validated plan: two submissions with the same content have the same one."""
    data = plan.model_dump(by_alias=True, mode="json", exclude_none=True)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StartRequest:
    """A checked plan, ready to start: the wave's instance id and the exact input it is started with."""

    plan: Plan
    instance_id: str
    input: dict[str, Any]

    @property
    def sha256(self) -> str:
        return str(self.input["planSha256"])


def prepare_start(
    data: Any,
    *,
    via: str,
    now: datetime,
    environ: Mapping[str, str],
    idempotency_key: str | None = None,
    overrides: Mapping[str, str] | None = None,
    submitted_by: dict[str, str] | None = None,
) -> StartRequest:
    """Validate a plan (with ``overrides`` applied: ``id``, ``callbackUrl``) and build the wave's input.

    ApiError 400 ``InvalidPlan`` lists every problem by path; the plan is not started.
    """
    if not isinstance(data, dict):
        raise ApiError(400, "InvalidPlan", f"a plan is a JSON object, not {_kind(data)}")
    merged = dict(data)
    for key, value in (overrides or {}).items():
        merged[key] = value
    try:
        plan = validate_plan(merged)
        _check_targets(plan, environ)
        _check_outbound(plan, environ)
    except PlanValidationError as error:
        details = [problem.to_dict() for problem in error.problems]
        raise ApiError(400, "InvalidPlan", redact(error.message), details) from None
    try:
        clock = PlanClock.from_settings(environ, now)
    except ValueError as error:  # a broken app setting is the server's fault, not the caller's
        raise RuntimeError(str(error)) from None
    wave_input = WaveInput(
        plan=plan.model_dump(by_alias=True, mode="json", exclude_none=True),
        clock=clock,
        plan_sha256=plan_sha256(plan),
        idempotency_key=idempotency_key,
        submitted_via=via,
        submitted_by=submitted_by,
    )
    return StartRequest(plan, wave_id(plan.id), wave_input.to_dict())


def _check_targets(plan: Plan, environ: Mapping[str, str]) -> None:
    """Refuse every machine whose target resource group is outside ``ASR_ALLOWED_TARGET_SCOPES``, by path."""
    try:
        scopes = target_scopes_from(environ)
    except ValueError as error:  # a broken app setting is the server's fault, not the caller's
        raise RuntimeError(str(error)) from None
    problems = [
        Problem(f"groups[{g}].machines[{m}].target.resourceGroupId", target_refusal(machine.target.resource_group_id))
        for g, group in enumerate(plan.groups)
        for m, machine in enumerate(group.machines)
        if not target_allowed(scopes, machine.target.resource_group_id)
    ]
    if problems:
        raise PlanValidationError(problems)


def _outbound_urls(plan: Plan) -> list[tuple[str, str]]:
    """Every address the plan asks the app to call, with its path: the callback, and each group's HTTP hooks."""
    urls = [("callbackUrl", plan.callback_url)] if plan.callback_url is not None else []
    for g, group in enumerate(plan.groups):
        if group.hooks is None:
            continue
        for phase, hooks in (
            ("beforeCutover", group.hooks.before_cutover),
            ("afterCutover", group.hooks.after_cutover),
        ):
            urls += [
                (f"groups[{g}].hooks.{phase}[{h}].url", hook.url)
                for h, hook in enumerate(hooks)
                if isinstance(hook, HttpHook)
            ]
    return urls


def _check_outbound(plan: Plan, environ: Mapping[str, str]) -> None:
    """Refuse every address the app may not call (``migration.outbound``) as a plan problem at its path, before
    anything starts: a hook the policy refuses would otherwise hold the wave at its group's cutover."""
    urls = _outbound_urls(plan)
    if not urls:
        return
    try:
        policy = CallbackPolicy.from_settings(environ)
    except ValueError as error:  # a broken app setting is the server's fault, not the caller's
        raise RuntimeError(str(error)) from None
    problems = []
    for path, url in urls:
        try:
            policy.check(url)
        except DestinationRefused as error:
            problems.append(Problem(path, str(error)))
    if problems:
        raise PlanValidationError(problems)


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


@dataclass(frozen=True)
class ControlCommand:
    """One operator command for a wave, exactly as the wave's ``control`` event carries it."""

    action: str
    actor: str
    reason: str
    machines: list[str]
    window: dict[str, str] | None
    id: str
    # The authenticated caller's Entra object id; None when the actor is only asserted (a Service Bus message).
    actor_id: str | None = None
    # What the body said as ``actor`` when an authenticated caller sent it: kept as a note, never as the actor.
    asserted_actor: str | None = None

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "action": self.action,
            "actor": self.actor,
            "reason": self.reason,
            "machines": self.machines,
            "window": self.window,
            "id": self.id,
        }
        if self.actor_id is not None:
            payload["actorId"] = self.actor_id
        if self.asserted_actor is not None:
            payload["assertedActor"] = self.asserted_actor
        return payload

    @property
    def fingerprint(self) -> str:
        return command_fingerprint(self.payload())


def _utc_text(value: Any, path: str, problems: list[dict[str, str]]) -> str | None:
    if not isinstance(value, str):
        problems.append({"path": path, "message": "required: an ISO 8601 time with a UTC offset"})
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problems.append({"path": path, "message": f"{value[:40]!r} is not an ISO 8601 time"})
        return None
    if parsed.tzinfo is None:
        problems.append({"path": path, "message": "needs a UTC offset (e.g. 2026-11-28T22:00:00Z)"})
        return None
    return parsed.isoformat()


def parse_control_body(
    action: str, data: Any, *, command_id: str | None, caller: tuple[str, str] | None = None
) -> ControlCommand:
    """Check a control command's body; ApiError 400 ``InvalidCommand`` listing every problem by path.

    ``{"actor" (≤200), "reason" (required, ≤1000), "machines"?: [names], "window"?: {notBefore, notAfter}}``;
    ``window`` is required for postpone and refused for the other actions. ``caller`` is the authenticated
    principal's (name, object id): it becomes the actor, and the body's ``actor`` (optional then) only a note.
    Without a caller (a Service Bus message, authorized by the queue's data role) the body's ``actor`` is
    required and recorded as asserted.
    """
    if action not in ACTIONS:
        raise ApiError(400, "InvalidCommand", f"action {action[:40]!r} is not one of {', '.join(ACTIONS)}")
    if not isinstance(data, dict):
        raise ApiError(400, "InvalidCommand", f"a command is a JSON object, not {_kind(data)}")
    problems: list[dict[str, str]] = []
    allowed = {"actor", "reason", "machines", "window", "migrationId", "action"}
    for key in sorted(set(data) - allowed):
        problems.append({"path": str(key)[:100], "message": "unknown field (expected actor, reason, machines, window)"})
    actor, reason = data.get("actor"), data.get("reason")
    for name, value, limit in (("actor", actor, 200), ("reason", reason, 1000)):
        if name == "actor" and caller is not None and value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append({"path": name, "message": "required: a non-empty string"})
        elif len(value) > limit:
            problems.append({"path": name, "message": f"at most {limit} characters (got {len(value)})"})
        elif (problem := text_problem(value, prose=name == "reason")) is not None:
            problems.append({"path": name, "message": problem})
    machines_raw = data.get("machines")
    machines: list[str] = []
    if machines_raw is not None:
        if not isinstance(machines_raw, list):
            problems.append({"path": "machines", "message": "must be an array of machine names"})
        else:
            for index, machine in enumerate(machines_raw):
                if not isinstance(machine, str) or not _MACHINE.match(machine):
                    problems.append({"path": f"machines[{index}]", "message": "not a machine name"})
                else:
                    machines.append(machine)
            if len(machines_raw) > 1000:
                problems.append({"path": "machines", "message": "at most 1000 machines"})
    window: dict[str, str] | None = None
    window_raw = data.get("window")
    if action == "postpone":
        if not isinstance(window_raw, dict):
            problems.append({"path": "window", "message": "required for postpone: {notBefore, notAfter}"})
        else:
            not_before = _utc_text(window_raw.get("notBefore"), "window.notBefore", problems)
            not_after = _utc_text(window_raw.get("notAfter"), "window.notAfter", problems)
            if not_before and not_after:
                if datetime.fromisoformat(not_after) <= datetime.fromisoformat(not_before):
                    problems.append({"path": "window.notAfter", "message": "must be after window.notBefore"})
                else:
                    window = {"notBefore": not_before, "notAfter": not_after}
    elif window_raw is not None:
        problems.append({"path": "window", "message": f"only postpone takes a window, not {action}"})
    if problems:
        listing = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
        raise ApiError(400, "InvalidCommand", f"the {action} command has problems: {listing}", problems)
    assert isinstance(reason, str)
    command_key = command_id or str(uuid.uuid4())
    if caller is None:
        assert isinstance(actor, str)
        return ControlCommand(action, actor.strip(), reason.strip(), machines, window, command_key)
    name, object_id = caller
    asserted = actor.strip() if isinstance(actor, str) and actor.strip() != name else None
    return ControlCommand(action, name, reason.strip(), machines, window, command_key, object_id, asserted)
