"""Which Durable runtime statuses mean an instance is still alive, in the one place every layer reads them.

The Durable extension reports ``Pending``, ``Running``, ``Suspended`` and ``ContinuedAsNew`` for an instance that
has not ended: it takes events, can be terminated, and its id is taken (a start with that id fails). Every other
status (``Completed``, ``Failed``, ``Terminated``, ``Canceled``) is an end. ``ContinuedAsNew`` is the one that is
easy to forget: it shows for the moment between one generation of a long wait and the next, and treating it as an
end would answer "migration ended" for a migration that is only restarting its history.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ACTIVE", "ENDED", "is_active"]

# The order is the management API's query order (``runtimeStatus=Pending,Running,...``); membership is what counts.
ACTIVE: tuple[str, ...] = ("Pending", "Running", "Suspended", "ContinuedAsNew")
# Every other status the extension reports: the instance has ended.
ENDED: tuple[str, ...] = ("Completed", "Failed", "Terminated", "Canceled")


def is_active(runtime_status: Any) -> bool:
    """True while the instance with this runtime status has not ended (a status enum or its string)."""
    return str(getattr(runtime_status, "value", runtime_status) or "") in ACTIVE
