"""The operator command vocabulary, defined once: what a command may ask, and the events that carry commands.

HTTP routes, the ``migration-control`` queue, the wave and its batches all speak it; each used to spell the names
on its own.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ACTIONS", "CONTROL_EVENT", "RELEASE_EVENT", "STOP_EVENT", "ControlAction"]


class ControlAction(StrEnum):
    """A command sent to a running migration (HTTP route or the ``migration-control`` queue)."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    RETRY = "retry"
    POSTPONE = "postpone"


ACTIONS: tuple[str, ...] = tuple(action.value for action in ControlAction)
# The external event that carries an operator's command to the wave.
CONTROL_EVENT = "control"
# The external event by which a cancelled wave tells its cutover batches to start no further machine.
STOP_EVENT = "stop"
# The external event by which an ending wave releases its machine claims (``migration.machine_claims``).
RELEASE_EVENT = "release"
