"""What a group runs around its cutover: hooks before the first failover starts and after the group finished.

A cutover is more than the failovers: traffic is drained from the old servers before, DNS or a load balancer is
switched to the new ones after. A group's ``hooks`` say so, as two lists (``beforeCutover``, ``afterCutover``) of at
most ``MAX_HOOKS`` actions each, run in order, each named (unique in its list; results and events are keyed by it):

- ``type: http``: a POST of a CloudEvent (``migration.group.hook``, ``migration.events``) to ``url``, typically a
  Logic App or a webhook. It passes when the answer is a 2xx, or one of ``expectStatus``; no answer, 408, 429 and
  5xx are tried again ``retries`` times, ``retryDelay`` apart. The URL is somebody else's address: it passes the
  callback rule (``migration.outbound``) at submission and at every call, and it is never shown (it may carry a
  signature), only its host.
- ``type: runCommand``: a script, the model the checks use (``migration.check_options.CheckScript``), run as a
  managed Run Command on the migrated VMs of the named ``machines``. So a machine named by a ``beforeCutover`` hook
  must cut over in an earlier group, and one named by an ``afterCutover`` hook in this group or an earlier one
  (``migration.plan`` checks it across the plan).

A hook that fails stops its list (the hooks after it do not run). Before the cutover, the group then starts no
failover and the wave holds (``hookFailed``) until a ``retry`` runs the list again or a ``cancel`` rolls back; after
it (nothing can be undone), the wave does what ``options.checks.onMigratedVmFailure`` says for a migrated VM that
failed its checks: hold before the next group until an approval, or report and go on (``migration.wave_state``).

The bounds keep every result and event small whatever the plan: ten hooks per list (the bound of the checks'
scripts), ``MAX_HOOK_MACHINES`` machines per Run Command hook, and a worst case per HTTP hook of
``(retries + 1) × timeout + retries × retryDelay``, about an hour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictInt, Tag, ValidatorFunctionWrapHandler, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from migration.check_options import CheckName, CheckScript
from migration.machine import validate_with_problems
from migration.plan_types import CallbackUrl, DurationBounds, MachineName, PlanModel

__all__ = [
    "HOOK_PHASES",
    "MAX_HOOKS",
    "MAX_HOOK_MACHINES",
    "GroupHooks",
    "Hook",
    "HookPhase",
    "HttpHook",
    "RunCommandHook",
]

MAX_HOOKS = 10
MAX_HOOK_MACHINES = 20

HookPhase = Literal["beforeCutover", "afterCutover"]
HOOK_PHASES: tuple[HookPhase, ...] = ("beforeCutover", "afterCutover")

# A Logic Apps request trigger answers a synchronous caller within two minutes or not at all ("Limits and
# configuration reference for Azure Logic Apps": outbound/inbound request timeout); a longer job answers 202 and goes
# on by itself.
_HTTP_TIMEOUT = DurationBounds(timedelta(seconds=1), timedelta(minutes=2))
_RETRY_DELAY = DurationBounds(timedelta(seconds=1), timedelta(minutes=10))
_MAX_RETRIES = 5

HttpStatus = Annotated[StrictInt, Field(ge=100, le=599)]


class HttpHook(PlanModel):
    """A POST of the hook's CloudEvent to ``url``; see the module docstring for what passes and what is retried."""

    name: CheckName = Field(description="Unique among the list's hooks; names the result and the event.")
    type: Literal["http"]
    url: CallbackUrl = Field(
        description="https URL the event is POSTed to (http only to loopback); it must pass CALLBACK_ALLOWED_HOSTS, "
        "and it is never recorded (only its host)."
    )
    timeout: Annotated[timedelta, _HTTP_TIMEOUT] = Field(
        default=timedelta(seconds=30), description="How long one call may take before it counts as no answer."
    )
    retries: StrictInt = Field(
        default=2, ge=0, le=_MAX_RETRIES, description="Further calls after no answer, a 408, a 429 or a 5xx."
    )
    retry_delay: Annotated[timedelta, _RETRY_DELAY] = Field(
        default=timedelta(seconds=30), description="The wait before each further call (a durable timer)."
    )
    expect_status: list[HttpStatus] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="The answers that mean success; without it, any 2xx.",
    )

    @model_validator(mode="after")
    def _distinct_statuses(self) -> HttpHook:
        if self.expect_status is not None and len(set(self.expect_status)) != len(self.expect_status):
            raise PydanticCustomError("duplicate_status", "expectStatus lists a status twice")
        return self

    def passes(self, status: int) -> bool:
        """Whether an answer with ``status`` means the hook did its work."""
        return status in self.expect_status if self.expect_status is not None else 200 <= status < 300


class RunCommandHook(CheckScript):
    """A script run on the migrated VMs of ``machines``, as the checks run theirs (``CheckScript``): it passes on
    every one of them or the hook fails."""

    name: CheckName = Field(description="Unique among the list's hooks; names the run command, result and event.")
    type: Literal["runCommand"]
    machines: list[MachineName] = Field(
        min_length=1,
        max_length=MAX_HOOK_MACHINES,
        description=f"Machines of the plan whose migrated VMs run the script (at most {MAX_HOOK_MACHINES}); they "
        "cut over before the hook runs.",
    )

    @model_validator(mode="after")
    def _distinct_machines(self) -> RunCommandHook:
        names = [name.lower() for name in self.machines]
        if len(set(names)) != len(names):
            raise PydanticCustomError("duplicate_machine", "machines lists a machine twice")
        return self


# Tags in brackets: ``migration.plan.problems_from_validation_error`` leaves such union members out of a problem's
# path, so an error reads ``groups[0].hooks.beforeCutover[1].url``, the path the user wrote.
_TAGS = {"http": "hook[http]", "runCommand": "hook[runCommand]"}


def _hook_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return _TAGS.get(kind) if isinstance(kind, str) else None


Hook = Annotated[
    Annotated[HttpHook, Tag(_TAGS["http"])] | Annotated[RunCommandHook, Tag(_TAGS["runCommand"])],
    Discriminator(
        _hook_tag,
        custom_error_type="hook_type",
        custom_error_message="a hook is an object whose type is http or runCommand",
    ),
]


class GroupHooks(PlanModel):
    """The hooks of one group, before its first failover and after its last machine finished."""

    before_cutover: list[Hook] = Field(
        default_factory=list,
        max_length=MAX_HOOKS,
        description=f"Run in order before the group's first failover (at most {MAX_HOOKS}); one that fails holds "
        "the wave with the group not failed over.",
    )
    after_cutover: list[Hook] = Field(
        default_factory=list,
        max_length=MAX_HOOKS,
        description=f"Run in order once the group's machines migrated (at most {MAX_HOOKS}); one that fails is "
        "handled as options.checks.onMigratedVmFailure says.",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _unique_names(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> GroupHooks:
        """Names are compared on the raw input, so a duplicate is reported with every other problem of the list."""
        problems: list[InitErrorDetails] = []
        for phase in HOOK_PHASES:
            listed = data.get(phase) if isinstance(data, Mapping) else None
            if not isinstance(listed, Sequence) or isinstance(listed, str):
                continue
            seen: dict[str, int] = {}
            for index, hook in enumerate(listed):
                name = hook.get("name") if isinstance(hook, Mapping) else None
                if not isinstance(name, str) or not name.strip():
                    continue
                first = seen.setdefault(name.strip().lower(), index)
                if first != index:
                    message = (
                        f"duplicate hook name {name.strip()!r} (also {phase}[{first}]); names are unique in a list"
                    )
                    error = PydanticCustomError("duplicate_hook", message)
                    problems.append({"type": error, "loc": (phase, index, "name"), "input": name})
        return validate_with_problems(cls, data, handler, problems)

    def of(self, phase: HookPhase) -> list[HttpHook | RunCommandHook]:
        """The hooks of ``phase``, in order."""
        return list(self.before_cutover if phase == "beforeCutover" else self.after_cutover)
