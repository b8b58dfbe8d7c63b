"""The item-state table itself: rows that say they copy an example show what it shows, every operation a
row allows is one the SDK's ``ReplicationProtectedItemOperation`` names, and README.md shows the same rows."""

from __future__ import annotations

from azure.mgmt.recoveryservicessiterecovery import models

from emulators.siterecovery.item_states import ALL, TABLE
from tests.emulators.siterecovery.conftest import REPO_ROOT
from tests.emulators.siterecovery.test_item_states import shown

README = REPO_ROOT / "emulators" / "siterecovery" / "README.md"
PROVIDER_NAMES = {"Hyper-V": "HyperVReplicaAzure", "InMageRcm": "InMageRcm", "A2A": "A2A"}


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


def _readme_rows() -> set[tuple[str, frozenset[str], tuple[str, ...], str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("#### Item states") : text.index("The flows the table implies")]
    rows = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 7 or not cells[0].startswith("`"):
            continue
        state, providers, _, allowed, tfo, active, _ = cells
        names = frozenset(ALL) if providers == "all" else frozenset(PROVIDER_NAMES[p] for p in providers.split(", "))
        ops = () if allowed == "–" else tuple(allowed.split(", "))
        rows.add((state.strip("`"), names, ops, tfo.split(" / ")[0].strip("`"), active))
    return rows


def test_the_readme_shows_the_tables_rows() -> None:
    table = {
        (row.state.value, frozenset(row.providers), row.allowed, row.test_failover[0], row.active) for row in TABLE
    }
    assert _readme_rows() == table
