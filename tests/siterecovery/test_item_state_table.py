"""The item-state table itself: rows that say they copy an example show what it shows, and every operation
a row allows is one the SDK's ``ReplicationProtectedItemOperation`` names."""

from __future__ import annotations

from azure.mgmt.recoveryservicessiterecovery import models

from emulators.siterecovery.item_states import TABLE
from tests.siterecovery.test_item_states import shown


def test_rows_that_copy_an_example_show_what_it_shows() -> None:
    copying = [row for row in TABLE if row.copies]
    assert len(copying) >= 6
    for row in copying:
        assert row.copies is not None
        example_item = shown(row.copies)
        assert list(row.allowed) == example_item["allowedOperations"], row.copies
        assert row.protection_state == example_item["protectionState"], row.copies
        assert row.description == example_item["protectionStateDescription"], row.copies


def test_every_allowed_operation_is_one_the_sdk_knows() -> None:
    known = {op.value for op in models.ReplicationProtectedItemOperation}
    for row in TABLE:
        assert set(row.allowed) <= known, (row.state, row.providers)
