"""What running a group's hooks passes along: the wave to ``call_hook`` and to ``hook_run_command``, and back.

For an ``http`` hook the wave sends :class:`HookPost` (the hook, the CloudEvent it built) to ``call_hook``
for each call and decides on its :class:`HookAnswer`; for a ``runCommand`` hook it starts ``hook_run_command`` with
:class:`HookCommandInput` once per machine and reads :class:`HookCommandOutput`. No answer carries the URL: it may
hold a signature, so answers name its host alone.
"""

from __future__ import annotations

from pydantic.dataclasses import dataclass

from migration.json_types import Json
from migration.payloads.fields import CONFIG, DEFAULT_TIME_SCALE, Payload, TimeScale

__all__ = ["HookAnswer", "HookCommandInput", "HookCommandOutput", "HookPost"]


@dataclass(frozen=True, config=CONFIG)
class HookPost(Payload):
    """One call of an ``http`` hook (``hook``: the ``HttpHook`` as plan JSON, its URL and limits) with ``event``,
    the structured CloudEvent to POST."""

    NAME = "call_hook input"

    hook: Json
    event: Json


@dataclass(frozen=True, config=CONFIG)
class HookAnswer(Payload):
    """What one call meant: ``outcome`` passed or failed, whether calling again may help (``retry``), the status
    (None: no answer or a refused destination), the host called, an excerpt of the answer and a sentence why."""

    NAME = "call_hook output"

    outcome: str
    retry: bool = False
    status: int | None = None
    host: str = ""
    excerpt: str = ""
    detail: str = ""


@dataclass(frozen=True, config=CONFIG)
class HookCommandInput(Payload):
    """The input of ``hook_run_command``: the hook's script (a ``RunCommandHook`` as plan JSON) on one machine's
    migrated VM, under the run command name ``run_name``; ``stage`` names where its errors are recorded."""

    NAME = "hook_run_command input"

    machine: str
    vm_id: str
    script: Json
    run_name: str
    stage: str
    time_scale: TimeScale = DEFAULT_TIME_SCALE


@dataclass(frozen=True, config=CONFIG)
class HookCommandOutput(Payload):
    """How the script went on one machine: passed or failed, its exit code, a sentence and the end of its output."""

    NAME = "hook_run_command output"

    machine: str
    outcome: str
    detail: str = ""
    exit_code: int | None = None
    output: str = ""
