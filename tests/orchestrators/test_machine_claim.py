"""The machine claim under the SDK's replay: it holds until its own owner releases it, whoever else asks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from migration.commands import RELEASE_EVENT
from migration.payloads.claims import ClaimInput
from orchestrators.machine_claim import IGNORED_PER_GENERATION, machine_claim
from tests.orchestrators.replay import START, Replay

CLAIM = ClaimInput("wave-1", "web01", "protectable item", "sub/rg/vault/fabric/container/item", START)


def _replay() -> Replay:
    return Replay(machine_claim, CLAIM.to_dict(), instance_id="claim~" + "0" * 40)


def _continued_input(state: dict[str, Any]) -> dict[str, Any] | None:
    actions = [a for group in state["actions"] for a in group if a.get("actionType") == 4]
    return json.loads(actions[0]["input"]) if actions else None


def test_the_owner_releases_it_and_the_status_names_the_owner() -> None:
    replay = _replay()
    replay.raise_event(RELEASE_EVENT, {"owner": "wave-1"})
    state = replay.run()
    assert replay.outcome == "completed" and state["output"] == {"owner": "wave-1", "released": True}
    assert replay.statuses[0] == {"owner": "wave-1", "machine": "web01"}


def test_a_release_naming_another_owner_is_ignored() -> None:
    replay = _replay()
    replay.raise_event(RELEASE_EVENT, {"owner": "wave-2"})
    replay.raise_event(RELEASE_EVENT, "not even an object", when=lambda r: len(r.statuses) >= 2)
    replay.raise_event(RELEASE_EVENT, {"owner": "wave-1"}, when=lambda r: len(r.statuses) >= 3)
    state = replay.run()
    assert replay.outcome == "completed" and state["output"]["owner"] == "wave-1"
    assert len(replay.statuses) >= 4  # three events, one episode each, and the start


def _after_episodes(count: int) -> Callable[[Replay], bool]:
    return lambda replay: len(replay.statuses) >= count


def test_many_ignored_releases_restart_the_history_with_the_same_claim() -> None:
    replay = _replay()
    for index in range(IGNORED_PER_GENERATION):
        replay.raise_event(RELEASE_EVENT, {"owner": f"other-{index}"}, when=_after_episodes(index + 1))
    state = replay.run()
    assert replay.outcome == "continued"
    assert _continued_input(state) == CLAIM.to_dict()
