"""The idempotency record under the SDK's replay: it ends in its first episode, holding what it was given."""

from __future__ import annotations

from migration.payloads.idempotency import KeyRecord
from orchestrators.idempotency_record import idempotency_record
from tests.orchestrators.replay import Replay

RECORD = KeyRecord("commands of wave-1", "k-1", "ab" * 32, "wave-1", "the approve command")


def test_it_completes_at_once_with_its_record() -> None:
    replay = Replay(idempotency_record, RECORD.to_dict(), instance_id="key~" + "0" * 40)
    state = replay.run()
    assert replay.outcome == "completed" and state["output"] == RECORD.to_dict()
    assert replay.scheduled == []  # nothing to wait for: no timer, no activity


def test_the_refusal_names_the_key_the_first_use_and_the_migration() -> None:
    asked = KeyRecord("commands of wave-1", "k-1", "cd" * 32, "wave-1", "the cancel command")
    message = RECORD.reuse_message(asked)
    assert message == (
        "Idempotency-Key 'k-1' was already used for the approve command of migration 'wave-1'; "
        "this request (the cancel command) is a different one: send it with a new key"
    )
