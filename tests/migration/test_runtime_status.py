"""The active runtime statuses, checked against the statuses the Durable SDK itself knows."""

from __future__ import annotations

import azure.durable_functions as df

from migration.api_status import overall_status
from migration.runtime_status import ACTIVE, ENDED, is_active


def test_every_status_the_sdk_reports_is_active_or_ended_and_never_both() -> None:
    known = {status.value for status in df.OrchestrationRuntimeStatus}
    assert set(ACTIVE) | set(ENDED) == known
    assert set(ACTIVE) & set(ENDED) == set()


def test_continued_as_new_is_alive_whether_given_as_the_enum_or_its_string() -> None:
    assert is_active(df.OrchestrationRuntimeStatus.ContinuedAsNew)
    assert is_active("ContinuedAsNew") and is_active("Suspended")
    assert not is_active(df.OrchestrationRuntimeStatus.Completed)
    assert not is_active(None) and not is_active("")
    # A wave between two generations of its history is still running, not ended.
    assert overall_status({"runtimeStatus": "ContinuedAsNew"}) == "Running"
