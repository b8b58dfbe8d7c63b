"""One machine, one owner: a source machine belongs to one running migration, whoever submits how and when.

Three plans on one machine submitted at once: one starts, the other two are refused with 409 naming it, and
nothing of theirs runs (so none of them can adopt the first one's replicated item and fail it over behind its
approval gate). The machine is free again once its migration ends, or once its claim goes stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from migration import function_names as names
from migration.instance_ids import wave_id
from migration.machine_claims import claims_of
from migration.payloads.claims import ClaimInput
from migration.plan import validate_plan
from tests.triggers.stack import ApiStack, api_stack, small_plan, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    with api_stack(tmp_path_factory.mktemp("ownership")) as running:
        yield running


def _instances(stack: ApiStack, prefix: str) -> list[dict[str, Any]]:
    reply = stack.management("GET", f"instances/?instanceIdPrefix={prefix}&showInput=false")
    return [i for i in reply.json() if i["instanceId"].startswith(prefix)]


def _claims(stack: ApiStack, plan: dict[str, Any]) -> dict[str, str]:
    """The runtime status of each claim the plan makes."""
    ids = [claim.instance_id for claim in claims_of(validate_plan(plan))]
    found = {i["instanceId"]: i["runtimeStatus"] for i in _instances(stack, "claim~")}
    return {instance_id: found.get(instance_id, "absent") for instance_id in ids}


def test_of_three_plans_on_one_machine_submitted_at_once_one_starts_and_two_are_refused(stack: ApiStack) -> None:
    plans = [small_plan(f"race-{n}", "db01") for n in range(3)]
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda plan: stack.call("POST", "/migrations", plan), plans))
    started = [plan["id"] for plan, reply in zip(plans, replies, strict=True) if reply.status == 202]
    assert len(started) == 1, [(r.status, r.body[:300]) for r in replies]
    owner = started[0]
    for plan, reply in zip(plans, replies, strict=True):
        if plan["id"] == owner:
            continue
        assert reply.status == 409
        error = reply.json()["error"]
        assert error["code"] == "MachineOwned" and f"belongs to migration {owner!r}" in error["message"]
        assert "'db01'" in error["message"]
        assert {d["path"] for d in error["details"]} <= {
            "groups[0].machines[0].asr.protectableItem",
            "groups[0].machines[0].asr.discoveredMachineId",
        }
        assert _instances(stack, wave_id(plan["id"])) == []  # nothing of the refused plan runs
    assert set(_claims(stack, plans[0]).values()) == {"Running"}  # held, by the one owner


def test_a_machine_claimed_under_its_first_key_is_refused_before_its_second_is_taken(stack: ApiStack) -> None:
    """A machine's claims are taken in one order, and no further once one is refused: so of submissions at once,
    none can hold a machine's second claim while another holds its first, which would refuse them all."""
    plan = small_plan("order-p", "aws-web01")
    first, *rest = sorted(claims_of(validate_plan(plan)), key=lambda claim: claim.instance_id)
    assert rest, "the machine is named by two keys"
    # Another migration, being submitted, holds the machine's first claim (as a racing submission would).
    holder = ClaimInput("order-h", first.machine, first.kind, first.key, datetime.now(UTC)).to_dict()
    started = stack.management("POST", f"orchestrators/{names.MACHINE_CLAIM}/{first.instance_id}", holder)
    assert started.status == 202, started.body[:300]
    wait_until(lambda: _instances(stack, first.instance_id)[0]["runtimeStatus"] == "Running" or None, 30)

    refused = stack.call("POST", "/migrations", plan)
    assert refused.status == 409 and "belongs to migration 'order-h'" in refused.json()["error"]["message"]
    assert [d["path"] for d in refused.json()["error"]["details"]] == [first.path]
    for claim in rest:
        assert _instances(stack, claim.instance_id) == [], "a later claim was taken although the first was refused"
    assert _instances(stack, wave_id("order-p")) == []
    stack.management("POST", f"instances/{first.instance_id}/terminate?reason=test")


def test_a_repeated_submission_of_the_owner_is_the_owner_not_a_conflict(stack: ApiStack) -> None:
    plan = small_plan("again-1", "web01")
    assert stack.call("POST", "/migrations", plan).status == 202
    again = stack.call("POST", "/migrations", plan)
    assert again.status == 202 and again.json()["id"] == "again-1"


def test_the_machine_is_free_again_once_its_migration_ends(stack: ApiStack) -> None:
    first = small_plan("free-1", "db01")
    assert stack.call("POST", "/migrations", first).status == 202
    refused = stack.call("POST", "/migrations", small_plan("free-2", "db01"))
    assert refused.status == 409 and "'free-1', which is Running" in refused.json()["error"]["message"]
    stack.wait_phase("free-1", "awaitingApproval")
    assert stack.call("POST", "/migrations/free-1/cancel", {"actor": "ops", "reason": "replan"}).status == 202
    assert stack.wait_final("free-1").json()["status"] == "Cancelled"
    wait_until(lambda: set(_claims(stack, first).values()) == {"Completed"} or None, 60)  # released
    assert stack.call("POST", "/migrations", small_plan("free-2", "db01")).status == 202


def test_a_claim_whose_owner_was_terminated_is_taken_over(stack: ApiStack) -> None:
    first = small_plan("stale-1", "db01")
    assert stack.call("POST", "/migrations", first).status == 202
    # An operator's tooling ends the wave behind the app's back: nothing releases its claims.
    reply = stack.management("POST", f"instances/{wave_id('stale-1')}/terminate?reason=tooling")
    assert reply.status == 202
    wait_until(lambda: _instances(stack, wave_id("stale-1"))[0]["runtimeStatus"] == "Terminated" or None, 60)
    assert set(_claims(stack, first).values()) == {"Running"}  # still held by the ended wave
    assert stack.call("POST", "/migrations", small_plan("stale-2", "db01")).status == 202
    claim_url = f"instances/{next(iter(_claims(stack, first)))}?showInput=true"

    # The new claim may not have run its first episode yet (Pending): it is the new owner's once it runs.
    def started() -> Any:
        instance = stack.management("GET", claim_url).json()
        return instance if instance["runtimeStatus"] != "Pending" else None

    held = wait_until(started, 30)
    claim = held["input"] if isinstance(held["input"], dict) else json.loads(held["input"])
    assert held["runtimeStatus"] == "Running" and claim["owner"] == "stale-2"


def test_a_service_bus_plan_on_an_owned_machine_is_rejected_by_event(stack: ApiStack) -> None:
    assert stack.call("POST", "/migrations", small_plan("sb-owner", "db01")).status == 202
    stack.send("migration-requests", json.dumps(small_plan("sb-second", "db01")), message_id="msg-owned")
    events = wait_until(lambda: stack.events(message_id="msg-owned"), timeout=60)
    event = events[0]["body"]
    assert event["type"] == "migration.rejected" and event["data"]["reason"].startswith("MachineOwned")
    assert "'sb-owner'" in event["data"]["reason"]
    assert _instances(stack, wave_id("sb-second")) == []
