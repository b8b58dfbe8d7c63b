"""The migration plan ("wave"): ordered groups of machines plus wave options, and its validation.

A plan is refused before anything starts when anything in it is wrong, and the refusal
lists *every* problem with its path in the user's own spelling
(``groups[0].machines[3].target.networkId: not an ARM resource id of type
Microsoft.Network/virtualNetworks``), so one round trip fixes the file.

Group order is cutover order: replication and test failover run across the whole wave
(up to ``options.maxParallel`` at once), the failover goes group by group. A group's ``hooks``
(``migration.hook_options``) run before its first failover and after it.

Use :func:`validate_plan` at every entry point (HTTP, Service Bus, command line); it
returns a :class:`Plan` or raises :class:`~migration.errors.PlanValidationError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError, ValidatorFunctionWrapHandler, model_validator
from pydantic.alias_generators import to_snake
from pydantic_core import InitErrorDetails, PydanticCustomError

from migration.errors import PlanValidationError, Problem
from migration.hook_options import HOOK_PHASES, GroupHooks
from migration.machine import Machine, validate_with_problems
from migration.plan_options import WaveOptions
from migration.plan_types import CallbackUrl, PlainText, PlanModel, Slug
from migration.source_kinds import Provider

__all__ = [
    "MAX_MACHINES",
    "Group",
    "Plan",
    "check_plan",
    "format_path",
    "problems_from_validation_error",
    "providers_in",
    "source_keys",
    "validate_plan",
]

# A wave is many machines but not unbounded: one orchestration fans out one sub-orchestration per
# machine, and ASR recovery plans stop at 100 (site-recovery-limits.md); 1,000 keeps histories and
# status documents a manageable size.
MAX_MACHINES = 1000


class Group(PlanModel):
    """Machines that cut over together; groups cut over in the order they are listed."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80), PlainText]
    machines: list[Machine] = Field(min_length=1, description="At least one machine.")
    hooks: GroupHooks | None = Field(
        default=None, description="What runs before the group's first failover and after it finished."
    )


class Plan(PlanModel):
    """A validated migration plan. Build it with :func:`validate_plan`."""

    id: Slug = Field(description="Names the migration; durable instance ids derive from it.")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200), PlainText]
    groups: list[Group] = Field(min_length=1, description="In cutover order.")
    options: WaveOptions = Field(default_factory=WaveOptions)
    callback_url: CallbackUrl | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _whole_plan_rules(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Plan:
        extra = _plan_problems(data) if not isinstance(data, Plan) else []
        return validate_with_problems(cls, data, handler, extra)

    def machines(self) -> Iterator[tuple[int, Machine]]:
        """Every machine with the index of its group, in cutover order."""
        for index, group in enumerate(self.groups):
            for machine in group.machines:
                yield index, machine

    def machine(self, name: str) -> Machine:
        """The machine called ``name`` (case-insensitive); KeyError if there is none."""
        for _, machine in self.machines():
            if machine.name.lower() == name.lower():
                return machine
        raise KeyError(name)

    @property
    def machine_count(self) -> int:
        return sum(len(group.machines) for group in self.groups)


def _get(data: object, key: str) -> object:
    if isinstance(data, Mapping):
        if key in data:
            return data[key]
        return data.get(to_snake(key))
    return None


def _raw_machines(data: object) -> Iterator[tuple[int, int, object]]:
    groups = _get(data, "groups")
    if not isinstance(groups, Sequence) or isinstance(groups, str):
        return
    for g, group in enumerate(groups):
        machines = _get(group, "machines")
        if isinstance(machines, Sequence) and not isinstance(machines, str):
            for m, machine in enumerate(machines):
                yield g, m, machine


def _custom(kind: str, message: str, loc: tuple[str | int, ...], value: object) -> InitErrorDetails:
    return {"type": PydanticCustomError(kind, message), "loc": loc, "input": value}


def _plan_problems(data: object) -> list[InitErrorDetails]:
    """Rules across machines and groups, checked on the raw input so they run whatever else is wrong."""
    problems: list[InitErrorDetails] = []
    machines = list(_raw_machines(data))
    if len(machines) > MAX_MACHINES:
        message = f"a plan holds at most {MAX_MACHINES} machines (this one has {len(machines)}); split it into waves"
        problems.append(_custom("too_many_machines", message, ("groups",), len(machines)))

    seen_machines: dict[str, str] = {}
    for g, m, machine in machines:
        name = _get(machine, "name")
        if not isinstance(name, str):
            continue
        where = f"groups[{g}].machines[{m}]"
        first = seen_machines.setdefault(name.strip().lower(), where)
        if first != where:
            message = f"duplicate machine name {name.strip()!r} (also at {first}); names are unique across groups"
            problems.append(_custom("duplicate_machine", message, ("groups", g, "machines", m, "name"), name))

    problems.extend(_shared_sources_and_targets(machines))
    problems.extend(_hook_machine_problems(data))

    groups = _get(data, "groups")
    if isinstance(groups, Sequence) and not isinstance(groups, str):
        seen_groups: dict[str, int] = {}
        for g, group in enumerate(groups):
            name = _get(group, "name")
            if isinstance(name, str) and name.strip():
                first_group = seen_groups.setdefault(name.strip().lower(), g)
                if first_group != g:
                    message = f"duplicate group name {name.strip()!r} (also groups[{first_group}])"
                    problems.append(_custom("duplicate_group", message, ("groups", g, "name"), name))

    options = _get(data, "options")
    test_failover_required = _get(_get(options, "testFailover"), "required") is not False
    if test_failover_required:
        for g, m, machine in machines:
            skip = _get(_get(machine, "options"), "skipTestFailover") is True
            target = _get(machine, "target")
            if not skip and isinstance(target, Mapping) and _get(target, "testNetworkId") is None:
                message = "required: options.testFailover.required is true and the machine does not skip it"
                loc: tuple[str | int, ...] = ("groups", g, "machines", m, "target", "testNetworkId")
                problems.append(_custom("test_network_required", message, loc, target))

    if _get(options, "drAfterMigration") is not None and not any(
        _get(machine, "sourceKind") == "azure" for _, _, machine in machines
    ):
        message = "only A2A (sourceKind azure) machines can be protected after migration, and this plan has none"
        problems.append(_custom("dr_without_a2a", message, ("options", "drAfterMigration"), None))
    return problems


def _hook_machine_problems(data: object) -> list[InitErrorDetails]:
    """A Run Command hook runs on migrated VMs: each machine it names is in the plan and has cut over by then (an
    earlier group for ``beforeCutover``, this one or an earlier one for ``afterCutover``)."""
    group_of: dict[str, int] = {}
    for g, _, machine in _raw_machines(data):
        name = _get(machine, "name")
        if isinstance(name, str):
            group_of.setdefault(name.strip().lower(), g)
    problems: list[InitErrorDetails] = []
    groups = _get(data, "groups")
    if not isinstance(groups, Sequence) or isinstance(groups, str):
        return problems
    for g, group in enumerate(groups):
        hooks = _get(group, "hooks")
        for phase in HOOK_PHASES:
            listed = _get(hooks, phase)
            if not isinstance(listed, Sequence) or isinstance(listed, str):
                continue
            last_group = g - 1 if phase == "beforeCutover" else g
            for h, hook in enumerate(listed):
                names = _get(hook, "machines") if _get(hook, "type") == "runCommand" else None
                if not isinstance(names, Sequence) or isinstance(names, str):
                    continue
                for m, name in enumerate(names):
                    if not isinstance(name, str):
                        continue
                    found = group_of.get(name.strip().lower())
                    loc: tuple[str | int, ...] = ("groups", g, "hooks", phase, h, "machines", m)
                    if found is None:
                        problems.append(
                            _custom("unknown_machine", f"no machine of the plan is called {name!r}", loc, name)
                        )
                    elif found > last_group:
                        message = f"{name!r} cuts over in groups[{found}], after this hook: it runs on migrated VMs"
                        problems.append(_custom("machine_not_migrated", message, loc, name))
    return problems


def _text(value: object) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def source_keys(machine: object) -> list[tuple[str, str, tuple[str | int, ...]]]:
    """What names the source machine in ASR (kind, normalised key, path below ``asr``): two machines of one plan
    sharing any of these would both drive one replicated item."""
    asr = _get(machine, "asr")
    vault = _get(asr, "vault")
    keys: list[tuple[str, str, tuple[str | int, ...]]] = []
    item = _text(_get(asr, "protectableItem"))
    scope = [_text(_get(vault, part)) for part in ("subscriptionId", "resourceGroup", "name")]
    scope += [_text(_get(asr, "fabric")), _text(_get(asr, "protectionContainer"))]
    if item is not None and all(scope):
        keys.append(("protectable item", "/".join([*map(str, scope), item]), ("protectableItem",)))
    # Each kind's own field only: a field of another provider is refused on its own, and is no claim on a source.
    own = (
        ("sourceVmId", "source VM")
        if _get(machine, "sourceKind") == "azure"
        else ("discoveredMachineId", "discovered machine")
    )
    for field_name, kind in (own,):
        value = _text(_get(asr, field_name))
        if value is not None:
            keys.append((kind, value, (field_name,)))
    return keys


def _shared_sources_and_targets(machines: list[tuple[int, int, object]]) -> list[InitErrorDetails]:
    """One source, one machine entry; one target VM name per resource group (ASR would create the second VM over
    the first, or refuse it after the first one's cutover)."""
    problems: list[InitErrorDetails] = []
    sources: dict[tuple[str, str], str] = {}
    targets: dict[tuple[str, str], str] = {}
    names: set[str] = set()
    for g, m, machine in machines:
        where = f"groups[{g}].machines[{m}]"
        name = _text(_get(machine, "name"))
        repeated_name = name in names  # reported as a duplicate name already; its default target adds nothing
        if name is not None:
            names.add(name)
        for kind, key, field_path in source_keys(machine):
            first = sources.setdefault((kind, key), where)
            if first != where:
                message = f"the same {kind} as {first}; a source machine appears once in a plan"
                problems.append(
                    _custom("duplicate_source", message, ("groups", g, "machines", m, "asr", *field_path), key)
                )
        target = _get(machine, "target")
        group_id = _text(_get(target, "resourceGroupId"))
        explicit = _text(_get(target, "vmName"))
        vm_name = explicit or (None if repeated_name else name)
        if group_id is not None and vm_name is not None:
            first = targets.setdefault((group_id, vm_name), where)
            if first != where:
                message = f"target VM name {vm_name!r} is already {first}'s in this resource group"
                problems.append(
                    _custom("duplicate_target", message, ("groups", g, "machines", m, "target", "vmName"), vm_name)
                )
    return problems


def format_path(loc: Sequence[str | int]) -> str:
    """``('groups', 0, 'machines', 3, 'target', 'networkId')`` → ``groups[0].machines[3].target.networkId``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def problems_from_validation_error(error: ValidationError) -> list[Problem]:
    """Pydantic's errors as ``Problem(path, message)``, in input order, without duplicates."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not _is_union_tag(part))
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if item["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; fields are camelCase)"
        key = (format_path(loc), message)
        if key not in seen:
            seen.add(key)
            problems.append(Problem(*key))
    return problems


def _is_union_tag(part: str | int) -> bool:
    # Optional fields add a union member name ('function-after[...]', 'str') to the location of some errors.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "bool", "none"})


def validate_plan(data: object) -> Plan:
    """Check a plan (parsed JSON or YAML, camelCase) and return it; raise PlanValidationError listing every problem."""
    try:
        return Plan.model_validate(data)
    except ValidationError as error:
        raise PlanValidationError(problems_from_validation_error(error)) from None


def providers_in(plan: Plan) -> frozenset[Provider]:
    """The ASR providers a plan uses (to pre-check fabrics and policies once per provider)."""
    return frozenset(machine.provider for _, machine in plan.machines())


def check_plan(data: object) -> list[dict[str, str]]:
    """Every problem of a plan as JSON (``[{"path": ..., "message": ...}]``); empty when the plan is valid.

    For answers that list problems without raising, such as a dry-run validation route or a
    rejection event for an invalid Service Bus message.
    """
    try:
        validate_plan(data)
    except PlanValidationError as error:
        return [problem.to_dict() for problem in error.problems]
    return []
