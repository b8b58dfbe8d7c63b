"""Protected-item views as the read activity returns them (``ProtectedItemView.to_dict``), for replay tests."""

from __future__ import annotations

from typing import Any

from migration.scenarios import ProtectedItemView


def item_view(**fields: Any) -> dict[str, Any]:
    """A replicated, idle InMageRcm item, with ``fields`` (camelCase) changed."""
    base: dict[str, Any] = {
        "provider": "InMageRcm",
        "protectionState": "Protected",
        "protectionStateDescription": "Protected",
        "protected": True,
        "initialReplicationDone": True,
        "progressPercent": 100,
        "testFailoverState": "None",
        "activeLocation": "Primary",
        "currentScenario": None,
        "currentJobId": None,
        "allowedOperations": ["TestFailover", "UnplannedFailover", "DisableProtection"],
    }
    base.update(fields)
    return ProtectedItemView.from_dict(base).to_dict()
