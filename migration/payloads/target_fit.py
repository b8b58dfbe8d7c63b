"""What the wave asks of ``check_target_fit`` (the whole plan) and the verdict it gets (``migration.target_fit``).

A quota is shared by the machines of a region, so the target is judged once for the whole plan; the verdict lists
problems (they refuse the plan), warnings (what could not be checked) and notes (what was assumed), each naming the
machines and plan paths it concerns.
"""

from __future__ import annotations

from pydantic import model_validator
from pydantic.dataclasses import dataclass as payload_dataclass

from migration.json_types import Json
from migration.payloads.fields import CONFIG, Payload

__all__ = ["Finding", "TargetFit", "TargetFitRequest"]


@payload_dataclass(frozen=True, config=CONFIG)
class Finding(Payload):
    """A problem, warning or note: what (``code``, ``message``) and whom: ``machines[i]`` at plan path
    ``paths[i]``."""

    NAME = "target fit finding"

    code: str
    message: str
    machines: tuple[str, ...]
    paths: tuple[str, ...]

    @model_validator(mode="after")
    def _one_path_each(self) -> Finding:
        if len(self.machines) != len(self.paths):
            raise ValueError("names one path per machine")
        return self


@payload_dataclass(frozen=True, config=CONFIG)
class TargetFit(Payload):
    """The verdict on a plan's target (the output of ``check_target_fit``): problems refuse the plan, warnings say
    what was not checked, notes what was assumed."""

    NAME = "check_target_fit output"

    # Required, even when empty: an answer without its lists must not read as "the target fits".
    problems: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    notes: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def concerning(self, machine: str) -> list[Finding]:
        """The problems that name ``machine``."""
        return [problem for problem in self.problems if machine in problem.machines]


@payload_dataclass(frozen=True, config=CONFIG)
class TargetFitRequest(Payload):
    """The input of ``check_target_fit``: the whole plan (validated JSON, camelCase), since quotas are shared."""

    NAME = "check_target_fit input"

    plan: Json
