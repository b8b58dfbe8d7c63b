"""The operator command vocabulary, defined once: what a command may ask, and the events that carry commands.

HTTP routes, the ``migration-control`` queue, the wave and its batches all speak it; each used to spell the names
on its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

__all__ = [
    "ACTIONS",
    "CONTROL_EVENT",
    "RELEASE_EVENT",
    "REPLICATION_ACTIONS",
    "STOP_EVENT",
    "ControlAction",
    "command_fingerprint",
]


class ControlAction(StrEnum):
    """A command sent to a running migration (HTTP route or the ``migration-control`` queue)."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    RETRY = "retry"
    POSTPONE = "postpone"
    # Agentless VMware machines only: pause or resume their replication (Azure Migrate's pause and resume).
    PAUSE = "pause"
    RESUME = "resume"


ACTIONS: tuple[str, ...] = tuple(action.value for action in ControlAction)
# The commands the wave carries out on Site Recovery itself, machine by machine, instead of in its own state.
REPLICATION_ACTIONS = frozenset({ControlAction.PAUSE, ControlAction.RESUME})
# The external event that carries an operator's command to the wave.
CONTROL_EVENT = "control"
# The external event by which a cancelled wave tells its cutover batches to start no further machine.
STOP_EVENT = "stop"
# The external event by which an ending wave releases its machine claims (``migration.machine_claims``).
RELEASE_EVENT = "release"


def command_fingerprint(payload: Mapping[str, Any]) -> str:
    """What a command asks, without its id: one id reused for a different command is told apart by this.

    The same fields as the ``control`` event carries them (``migration.api_requests.ControlCommand``), so the route
    that checks an ``Idempotency-Key`` and the wave that applies the command compute the same value.
    """
    asked = {key: payload.get(key) for key in ("action", "actor", "actorId", "reason", "machines", "window")}
    canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
