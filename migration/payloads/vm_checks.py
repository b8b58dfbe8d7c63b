"""What the VM checks ask of the Compute activities (``read_vm``, ``start_run_command``, ``read_run_command``).

The answers are the adapter's own small dictionaries (:mod:`migration.compute`); a permanent failure comes back as
``{"error": error record}`` instead, which callers test for first, as for Site Recovery's activities.
"""

from __future__ import annotations

from pydantic import Field
from pydantic.dataclasses import dataclass

from migration.payloads.fields import CONFIG, Payload

__all__ = ["RunCommandRead", "RunCommandStart", "VmRead"]


@dataclass(frozen=True, config=CONFIG)
class VmRead(Payload):
    """The input of ``read_vm``: the VM's ARM id, whether to read its NICs' networks, and the stage its errors are
    recorded under."""

    NAME = "read_vm input"
    SPARSE = frozenset({"network"})

    vm_id: str
    stage: str | None = None
    network: bool = False


@dataclass(frozen=True, config=CONFIG)
class RunCommandRead(Payload):
    """The input of ``read_run_command``: the VM and the run command's name."""

    NAME = "read_run_command input"

    vm_id: str
    name: str
    stage: str | None = None


@dataclass(frozen=True, config=CONFIG)
class RunCommandStart(Payload):
    """The input of ``start_run_command``: where, under which name, and the script (inline or by URI) with its
    parameters (``[name, value]`` pairs) and timeout."""

    NAME = "start_run_command input"

    vm_id: str
    location: str
    name: str
    script: str | None
    script_uri: str | None
    parameters: list[tuple[str, str]] = Field(default_factory=list)
    timeout_seconds: int = 600
    stage: str | None = None
