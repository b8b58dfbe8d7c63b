"""Instance ids: the exact strings running task hubs hold, and what parsing them says.

The literals below are the ids as waves, runbooks and their waits have always been started: a builder that drifted
from them would orphan every instance a deployed app has running, so they are spelled out here, not rebuilt.
"""

from __future__ import annotations

import pytest

from migration.instance_ids import (
    Kind,
    batch_id,
    callback_id,
    machine_id,
    machine_prefix,
    parse,
    rollback_id,
    rollback_wait_id,
    round_id,
    wait_id,
    wave_id,
)

RUNBOOK = "migration~wave-a~web01~prepare~1"


def test_builders_make_the_ids_existing_task_hubs_hold() -> None:
    assert wave_id("wave-a") == "migration~wave-a"
    assert callback_id("wave-a") == "migration~wave-a~callback"
    assert batch_id("wave-a", "prepare", 2, 0) == "migration~wave-a~batch~prepare~2~0"
    assert machine_prefix("wave-a", "WEB01") == "migration~wave-a~web01~"
    assert machine_id("wave-a", "Web01", "prepare", 1) == RUNBOOK
    assert machine_id("wave-a", "web01", "cutover") == "migration~wave-a~web01~cutover~0"
    assert rollback_id("wave-a", "web01", 2) == "migration~wave-a~web01~rollback~2"
    assert wait_id(RUNBOOK, "initialReplication", 1) == f"{RUNBOOK}:initialReplication:1"
    assert wait_id(RUNBOOK, "testFailoverCleanup", 1, make_safe=True) == f"{RUNBOOK}:testFailoverCleanup:1:makeSafe"
    assert round_id(f"{RUNBOOK}:enableReplication:1", 0) == f"{RUNBOOK}:enableReplication:1"
    assert round_id(f"{RUNBOOK}:enableReplication:1", 1) == f"{RUNBOOK}:enableReplication:1:1"
    assert rollback_wait_id("migration~wave-a~web01~rollback~0", 0) == "migration~wave-a~web01~rollback~0:0"


def test_a_machine_prefix_holds_its_runbooks_and_waits_and_no_other_machine() -> None:
    prefix = machine_prefix("wave-a", "web01")
    mine = [RUNBOOK, wait_id(RUNBOOK, "testFailover", 1), rollback_id("wave-a", "web01")]
    assert all(instance.startswith(prefix) for instance in mine)
    assert not machine_id("wave-a", "web012", "prepare").startswith(prefix)
    assert not machine_id("wave-a-2", "web01", "prepare").startswith(prefix)


def test_each_kind_parses_to_what_built_it() -> None:
    assert (parse("migration~wave-a").kind, parse("migration~wave-a").migration_id) == (Kind.WAVE, "wave-a")
    assert parse(callback_id("wave-a")).kind is Kind.CALLBACK
    batch = parse(batch_id("wave-a", "cutover", 3, 1))
    assert (batch.kind, batch.phase, batch.machine, batch.run) == (Kind.BATCH, "cutover", None, None)
    runbook = parse(RUNBOOK)
    assert (runbook.kind, runbook.migration_id, runbook.machine) == (Kind.RUNBOOK, "wave-a", "web01")
    assert (runbook.phase, runbook.attempt, runbook.run) == ("prepare", 1, "prepare~1")
    rollback = parse(rollback_id("wave-a", "web01", 2))
    assert (rollback.kind, rollback.run) == (Kind.ROLLBACK, "rollback~2")


@pytest.mark.parametrize(
    ("instance", "stage"),
    [
        (wait_id(RUNBOOK, "initialReplication", 1), "initialReplication"),
        (wait_id(RUNBOOK, "testFailoverCleanup", 1, make_safe=True), "testFailoverCleanup"),
        (round_id(wait_id(RUNBOOK, "enableReplication", 1), 2), "enableReplication"),
    ],
)
def test_a_runbook_wait_names_its_stage_and_its_owner(instance: str, stage: str) -> None:
    wait = parse(instance)
    assert (wait.kind, wait.stage, wait.machine, wait.run) == (Kind.WAIT, stage, "web01", "prepare~1")
    assert wait.owner == parse(RUNBOOK)


def test_a_rollback_wait_belongs_to_the_rollback_and_names_no_stage() -> None:
    wait = parse(rollback_wait_id(rollback_id("wave-a", "web01"), 3))
    assert (wait.kind, wait.stage, wait.run) == (Kind.WAIT, None, "rollback~0")
    assert wait.owner is not None and wait.owner.kind is Kind.ROLLBACK


def test_machines_named_like_the_app_s_own_words_keep_their_ids_apart() -> None:
    """``batch`` and ``callback`` are valid machine names: the number of parts tells them from the wave's own."""
    assert parse(machine_id("wave-a", "batch", "prepare")).kind is Kind.RUNBOOK
    assert parse(batch_id("wave-a", "prepare", 1, 0)).kind is Kind.BATCH
    assert parse(machine_id("wave-a", "callback", "prepare")).kind is Kind.RUNBOOK
    assert parse(callback_id("wave-a")).kind is Kind.CALLBACK
    assert not callback_id("wave-a").startswith(machine_prefix("wave-a", "callback"))


@pytest.mark.parametrize(
    "instance",
    ["", "faults:vm00", "migration~", "other~wave-a", "migration~wave-a~web01~prepare~x", "migration~wave-a:0"],
)
def test_ids_the_app_did_not_build_are_other(instance: str) -> None:
    assert parse(instance).kind is Kind.OTHER
