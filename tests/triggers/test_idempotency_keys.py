"""An Idempotency-Key names one request: the same body again is that request, a different body is 422.

Without this, a key reused for a second plan started a second migration, and a key reused for a cancel after an
approve was taken for a repeat of the approve, and the cancel was silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from migration.instance_ids import wave_id
from tests.triggers.stack import ApiStack, api_stack, small_plan

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    with api_stack(tmp_path_factory.mktemp("keys")) as running:
        yield running


def _post(stack: ApiStack, path: str, body: Any, key: str) -> Any:
    return stack.call("POST", path, body, headers={"Idempotency-Key": key})


def _waves(stack: ApiStack, migration_id: str) -> list[Any]:
    reply = stack.management("GET", f"instances/?instanceIdPrefix={wave_id(migration_id)}&showInput=false")
    return [i for i in reply.json() if i["instanceId"] == wave_id(migration_id)]


def test_a_key_reused_for_another_plan_is_refused_and_starts_nothing(stack: ApiStack) -> None:
    first = small_plan("key-a", "db01")
    assert _post(stack, "/migrations", first, "submit-1").status == 202
    again = _post(stack, "/migrations", first, "submit-1")
    assert again.status == 202 and again.json()["id"] == "key-a"  # the same request again
    other = _post(stack, "/migrations", small_plan("key-b", "web01"), "submit-1")
    assert other.status == 422
    error = other.json()["error"]
    assert (
        error["code"] == "IdempotencyKeyReused" and "'submit-1'" in error["message"] and "'key-a'" in error["message"]
    )
    assert _waves(stack, "key-b") == []
    # The same plan id with another body under the same key is refused as the key's reuse, too.
    changed = small_plan("key-a", "db01", maxParallel=1)
    assert _post(stack, "/migrations", changed, "submit-1").status == 422


def test_a_key_reused_for_another_command_is_refused_and_the_first_is_not_repeated(stack: ApiStack) -> None:
    assert stack.call("POST", "/migrations", small_plan("key-c", "db01")).status == 202
    stack.wait_phase("key-c", "awaitingApproval")
    hold = {"actor": "ops@example.com", "reason": "CAB-7"}
    assert _post(stack, "/migrations/key-c/approve", hold, "cmd-1").status == 202
    repeat = _post(stack, "/migrations/key-c/approve", hold, "cmd-1")
    assert repeat.status == 202 and repeat.json()["commandId"] == "cmd-1"
    cancel = _post(stack, "/migrations/key-c/cancel", {"actor": "ops@example.com", "reason": "stop"}, "cmd-1")
    assert cancel.status == 422 and cancel.json()["error"]["code"] == "IdempotencyKeyReused"
    assert "the approve command" in cancel.json()["error"]["message"]
    final = stack.wait_final("key-c").json()
    assert final["status"] == "Migrated"  # the approve acted once; the refused cancel never reached the wave
    assert [c["action"] for c in final["controls"]] == ["approve"]


def test_keys_are_per_migration_for_commands(stack: ApiStack) -> None:
    """A command key is scoped to its migration: the same key on another migration's command is its own request."""
    assert stack.call("POST", "/migrations", small_plan("key-d", "db01")).status == 202
    stack.wait_phase("key-d", "awaitingApproval")
    cancel = _post(stack, "/migrations/key-d/cancel", {"actor": "ops@example.com", "reason": "stop"}, "cmd-1")
    assert cancel.status == 202
    assert stack.wait_final("key-d").json()["status"] == "Cancelled"
